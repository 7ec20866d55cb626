"""The Actor base class, its context, and the loop that feeds it one message at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, final

import structlog
import trio

from actors.errors import ActorDead, MailboxOverflow
from actors.mailbox import ActorRef, Ask, MsgT, Overflow, crashed_reply
from actors.monitors import Monitor, tell_monitor
from actors.spec import SupervisionPolicy
from actors.timers import Timer

if TYPE_CHECKING:
    from actors.registry import Registry
    from actors.supervisor import Supervisor
    from actors.timers import TimerWheel

log = structlog.get_logger("tablium.actors")

# Fairness bound: an actor with a full mailbox yields to the scheduler after this many
# messages, so a flooded actor cannot starve its neighbours (and a hard kill gets through).
MESSAGES_PER_TURN_MAX: Final = 32
MAILBOX_CAPACITY_DEFAULT: Final = 1024


class Actor(Generic[MsgT]):
    """Subclass per actor kind; override ``handle`` and whichever hooks you need.

    The class attributes below are the kind's declaration. The runtime sets ``context``
    before ``restore`` / ``started`` run. ``handle``'s return value is the reply to an ask
    (ignored for a tell). A handler that raises crashes the actor and its supervisor
    decides, except for the exception types listed in ``reply_errors``: those are the
    caller's fault, so they are raised in the asker (or logged, for a tell) and the actor
    carries on.
    """

    kind: ClassVar[str] = "actor"
    mailbox_capacity: ClassVar[int] = MAILBOX_CAPACITY_DEFAULT
    mailbox_overflow: ClassVar[Overflow] = Overflow.STOP
    # Take snapshot() after started() and after every handled message, and hand the last one
    # to restore() of the next incarnation. Off by default: it costs a call per message.
    keeps_snapshot: ClassVar[bool] = False
    # Message types whose handler never changes what snapshot() returns (reads, relays): no
    # snapshot is taken after them, the last one still stands. A kind lists only types it
    # has shown to leave its snapshot unchanged (a test per kind), since a wrong entry would
    # restart it from stale state.
    snapshot_unchanged_by: ClassVar[tuple[type, ...]] = ()
    reply_errors: ClassVar[tuple[type[Exception], ...]] = ()
    # Set for kinds that own children (a table owns its hand): context.children is then a
    # supervisor whose children live and die with this incarnation.
    child_supervision: ClassVar[SupervisionPolicy | None] = None

    context: ActorContext[MsgT]

    async def started(self) -> None:
        """After construction (and ``restore``), before the first message."""

    async def handle(self, message: MsgT) -> object:
        raise NotImplementedError(f"{type(self).__name__} does not handle {message!r}")

    async def stopping(self, crash: BaseException | None) -> None:
        """Last words: after a stop request (``crash`` None) or a crash, within the child's
        shutdown timeout. Not called when ``started`` failed or the actor was killed."""

    def snapshot(self) -> object:
        """State to resume from after a restart (a frozen msgspec Struct is ideal)."""
        return None

    def restore(self, snapshot: object) -> None:
        """Load the last ``snapshot()`` of the previous incarnation (kinds that keep one)."""


@final
class ActorContext(Generic[MsgT]):
    """What the runtime gives an actor: its own ref, timers, the registry, its children."""

    __slots__ = (
        "_children",
        "_monitors",
        "_timer_wheel",
        "_timers",
        "incarnation",
        "ref",
        "registry",
    )

    def __init__(
        self,
        ref: ActorRef[MsgT],
        registry: Registry,
        timer_wheel: TimerWheel,
        incarnation: int,
    ) -> None:
        self.ref: Final = ref
        self.registry: Final = registry
        self.incarnation: Final = incarnation  # 0 on first start, +1 per restart
        self._timer_wheel = timer_wheel
        self._timers: set[Timer] | None = None  # live timers of this incarnation (lazy)
        self._children: Supervisor | None = None
        self._monitors: set[Monitor] = set()  # live monitors this incarnation set

    @property
    def name(self) -> str:
        return self.ref.name

    def checkpoint(self, snapshot: object) -> None:
        """Make ``snapshot`` what a restart resumes from, now, in the middle of a message (kinds
        that keep one). For a write-ahead intent: state that must outlive a crash later in
        the same message, which the snapshot taken after the message would come too late for."""
        self.ref._snapshot = snapshot

    @property
    def children(self) -> Supervisor:
        if self._children is None:
            raise RuntimeError(f"{self.name}: kind declares no child_supervision")
        return self._children

    def send_after(self, delay_s: float, message: MsgT) -> Timer:
        """Tell myself ``message`` after ``delay_s`` of trio time; cancelled if I stop."""
        if self._timers is None:
            self._timers = set()
        return self._timer_wheel.send_after(delay_s, self.ref, message, self._timers)

    def monitor(self, target: ActorRef[Any]) -> Monitor:
        """Be told ``Down(name, reason)`` once, when the actor behind ``target`` ends for good
        (at once, ``noproc``, if it already has). The monitor ends with this incarnation;
        ``cancel()`` it sooner when no longer interested. MonitorLimit beyond the bounds of
        actors/monitors.py."""
        return tell_monitor(target, self.ref, self._monitors)

    def stop(self) -> None:
        """Exit normally after the current message (a transient child is then removed)."""
        self.ref._request_stop()

    def _cancel_timers(self) -> None:
        """This incarnation ends: its timers and monitors with it."""
        for timer in list(self._timers or ()):
            timer.cancel()
        for monitor in list(self._monitors):
            monitor.cancel()


async def serve(ref: ActorRef[Any], actor: Actor[Any]) -> None:
    """Feed ``actor`` its mailbox until a stop request; raise what crashes it."""
    items = ref._items
    handle = actor.handle
    snapshot = actor.snapshot if actor.keeps_snapshot else None
    unchanged_by = frozenset(actor.snapshot_unchanged_by)
    reply_errors = actor.reply_errors
    blocked_senders = ref._blocked_senders
    turn = 0
    while True:
        if not items or ref._stop_flag or ref.overflowed:
            if ref.overflowed:
                raise MailboxOverflow(f"{ref.name}: more than {ref.capacity} queued messages")
            if ref._stop_flag:
                return
            await ref._wait_for_mail()
            turn = 0
            continue
        item = items.popleft()
        if blocked_senders:
            blocked_senders.unpark()
        if type(item) is Ask:
            message = item.message
            try:
                reply = await handle(message)
            except reply_errors as exc:
                item.fail(exc)
            except Exception as exc:
                item.fail(crashed_reply(ref, exc))
                raise
            except BaseException:  # killed mid-request (shutdown timeout): no answer coming
                item.fail(ActorDead(ref.name, "killed while handling this request"))
                raise
            else:
                item.reply(reply)
        else:
            message = item
            try:
                await handle(item)
            except reply_errors as exc:
                log.warning("told message refused", actor=ref.name, error=repr(exc))
        ref.processed += 1
        if snapshot is not None and type(message) not in unchanged_by:
            ref._snapshot = snapshot()
        turn += 1
        if turn >= MESSAGES_PER_TURN_MAX:
            turn = 0
            await trio.lowlevel.checkpoint()
