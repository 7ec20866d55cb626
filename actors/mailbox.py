"""ActorRef: an actor's address and its bounded mailbox, plus tell / send / ask.

The ref is the mailbox: ``tell`` is a length check, a deque append, a high-water compare and,
when the actor sleeps, one ``reschedule``. That is what a memory channel's ``send_nowait`` does,
without the channel's per-message checkpoint on the receiving side.

A ref belongs to a child *slot* of a supervisor, not to one incarnation: it stays valid while
the supervisor restarts the actor (as an Akka ref does), the mailbox keeps its messages across
a crash restart (the message that crashed the actor is not redelivered), and it goes dead only
when the supervisor stops the child for good. Then ``tell`` drops (counted as a dead letter)
and ``ask`` raises ``ActorDead``.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from typing import Any, Final, Generic, TypeVar, final

import outcome
import trio

from actors.errors import (
    ActorCrashed,
    ActorDead,
    AskDropped,
    AskTimeout,
    MailboxFull,
)
from actors.monitors import Down, DownReason, Monitor, fire_monitors

MsgT = TypeVar("MsgT")

ASK_TIMEOUT_S_DEFAULT: Final = 5.0  # an ask that waits longer is a bug or an overload


@final
class Overflow(enum.Enum):
    """What a full mailbox does with one more message (each actor kind declares one)."""

    # Suspend `await ref.send()` / `ask` until there is room; `tell` raises MailboxFull. Only for
    # internal producers that may wait (a bulk importer feeding a writer), never game -> player.
    BLOCK = "block"
    # Discard the oldest queued message (an ask among them fails with AskDropped). For feeds
    # where only the latest state matters: lobby listings, presence, spectator views.
    DROP_OLDEST = "drop_oldest"
    # Crash the actor with MailboxOverflow and clear its queue (Nakama: a full call queue stops
    # the match rather than growing). Game actors and player sessions: a slow client is dropped.
    STOP = "stop"


@final
class Ask:
    """A request waiting for its reply; lives in the mailbox beside plain (told) messages."""

    __slots__ = ("message", "task")

    def __init__(self, message: object) -> None:
        self.message: object = message  # None once answered or failed
        # The asking task while it waits; None once answered, failed or abandoned (cancel).
        self.task: trio.lowlevel.Task | None = None

    def _abort(self, _raise_cancel: object) -> trio.lowlevel.Abort:
        self.task = None  # the actor may still process the request; its reply goes nowhere
        return trio.lowlevel.Abort.SUCCEEDED

    def reply(self, value: object) -> None:
        task = self.task
        self.message = None  # kept no longer than the reply (the deadlines hold the Ask)
        if task is not None:
            self.task = None
            trio.lowlevel.reschedule(task, outcome.Value(value))

    def fail(self, error: BaseException) -> None:
        task = self.task
        self.message = None
        if task is not None:
            self.task = None
            trio.lowlevel.reschedule(task, outcome.Error(error))


@final
class AskDeadlines:
    """The deadlines of the asks waiting in one trio run, and one system task that fails an
    ask with AskTimeout when its time has come.

    In place of a cancel scope per ask (its deadline in trio's heap, entered and left on
    every request: a few percent of the server's CPU per action, docs/loadtest.md). Asks of
    one timeout length end in the order they began, so each length keeps a FIFO: adding is
    an append, and the task wakes only for the oldest ask that still waits. An answered ask
    stays in its FIFO until it comes up (at most its timeout: 5 s by default), without its
    message. Bound: one entry per ask of the last timeout's length.
    """

    def __init__(self) -> None:
        self._fifos: dict[float, deque[tuple[float, Ask, str]]] = {}
        self._sleep = trio.CancelScope(deadline=math.inf)

    @staticmethod
    def current() -> AskDeadlines:
        """This trio run's (made, with its task, by the first ask of the run)."""
        try:
            return _ASK_DEADLINES.get()
        except LookupError:
            deadlines = AskDeadlines()
            _ASK_DEADLINES.set(deadlines)
            trio.lowlevel.spawn_system_task(deadlines._run, name="ask deadlines")
            return deadlines

    def add(self, envelope: Ask, timeout_s: float, target: str) -> None:
        deadline = trio.current_time() + timeout_s
        fifo = self._fifos.get(timeout_s)
        if fifo is None:
            fifo = self._fifos[timeout_s] = deque()
        fifo.append((deadline, envelope, target))
        if deadline < self._sleep.deadline:
            self._sleep.deadline = deadline

    def __len__(self) -> int:
        return sum(len(fifo) for fifo in self._fifos.values())

    async def _run(self) -> None:
        while True:
            now = trio.current_time()
            earliest = math.inf
            for timeout_s, fifo in self._fifos.items():
                while fifo and (fifo[0][1].task is None or fifo[0][0] <= now):
                    _, envelope, target = fifo.popleft()
                    envelope.fail(AskTimeout(target, f"no reply within {timeout_s} s"))
                if fifo and fifo[0][0] < earliest:
                    earliest = fifo[0][0]
            self._sleep = trio.CancelScope(deadline=earliest)
            with self._sleep:
                await trio.sleep_forever()


_ASK_DEADLINES: Final[trio.lowlevel.RunVar[AskDeadlines]] = trio.lowlevel.RunVar("ask_deadlines")


@final
class ActorRef(Generic[MsgT]):
    """Address of one supervised actor: ``tell`` (fire and forget), ``send``, ``ask``."""

    __slots__ = (
        "_blocked_senders",
        "_dead_reason",
        "_items",
        "_monitors",
        "_receiver",
        "_room",
        "_snapshot",
        "_stop_flag",
        "capacity",
        "dead_letters",
        "dropped",
        "high_water",
        "kind",
        "name",
        "overflow",
        "overflowed",
        "processed",
    )

    def __init__(self, name: str, kind: str, capacity: int, overflow: Overflow) -> None:
        if capacity < 1:
            raise ValueError(f"{name}: mailbox capacity must be >= 1, got {capacity}")
        self.name: Final = name
        self.kind: Final = kind
        self.capacity: Final = capacity  # bound of the queue; `overflow` says what happens at it
        self.overflow: Final = overflow
        self._items: deque[object] = deque()
        # Invariant: _room == capacity while the ref is open, 0 once closed; so the hot path of
        # tell tests "open and not full" with one comparison.
        self._room = capacity
        self._receiver: trio.lowlevel.Task | None = None  # the actor task, parked on empty
        # senders waiting for room; only BLOCK kinds have one (a few hundred bytes per actor)
        self._blocked_senders = trio.lowlevel.ParkingLot() if overflow is Overflow.BLOCK else None
        self._stop_flag = False  # graceful stop asked: finish this message, then stopping()
        self._dead_reason = ""
        self._snapshot: object = None  # last snapshot of the actor (kinds that keep one)
        self._monitors: set[Monitor] | None = None  # who learns of the slot's end (lazy)
        self.high_water = 0
        self.processed = 0  # messages handled, over every incarnation
        self.dropped = 0  # discarded by DROP_OLDEST, or cleared by a STOP overflow
        self.dead_letters = 0  # told after the actor died for good
        self.overflowed = False  # a STOP overflow happened; the actor crashes at its next turn

    def __repr__(self) -> str:
        return f"<ActorRef {self.name} ({self.kind}) depth={len(self._items)}>"

    @property
    def alive(self) -> bool:
        """True until the supervisor stops this child for good (true while restarting)."""
        return self._room > 0 or self.overflowed

    @property
    def depth(self) -> int:
        return len(self._items)

    # -- senders -----------------------------------------------------------------------------

    def tell(self, message: MsgT) -> None:
        """Queue ``message`` without waiting. Never blocks the caller.

        Full mailbox: the kind's overflow policy applies (BLOCK raises MailboxFull). Dead
        actor: the message is dropped and counted as a dead letter (as Erlang's send to a dead
        pid), so a table never fails because a player left.
        """
        items = self._items
        if len(items) < self._room:
            items.append(message)
            if len(items) > self.high_water:
                self.high_water = len(items)
            receiver = self._receiver
            if receiver is not None:
                self._receiver = None
                trio.lowlevel.reschedule(receiver)
            return
        self._tell_slow(message)

    def _tell_slow(self, message: object) -> None:
        if self._room == 0:
            self.dead_letters += 1
            return
        if self.overflow is Overflow.BLOCK:
            raise MailboxFull(f"{self.name}: mailbox full ({self.capacity}); use await send()")
        self._overflow_one(message)

    def _overflow_one(self, message: object) -> None:
        """Apply DROP_OLDEST or STOP to one told message that found the mailbox full."""
        if self.overflow is Overflow.DROP_OLDEST:
            self._drop_oldest()
            self._items.append(message)
        else:
            self._overflow_stop()

    def _drop_oldest(self) -> None:
        oldest = self._items.popleft()
        self.dropped += 1
        if type(oldest) is Ask:
            oldest.fail(AskDropped(self.name, "dropped by a full drop-oldest mailbox"))

    def _overflow_stop(self) -> None:
        # Refuse everything from now on and wake the actor, which raises MailboxOverflow before
        # its next message; the supervisor then decides (a temporary session is simply gone).
        self.overflowed = True
        self.dropped += 1 + len(self._items)
        self._close_queue("mailbox overflow")
        self._wake_receiver()

    async def send(self, message: MsgT) -> None:
        """``tell`` that waits for room when the kind's policy is BLOCK (a checkpoint)."""
        if self.overflow is Overflow.BLOCK:
            assert self._blocked_senders is not None
            while len(self._items) >= self._room > 0:
                await self._blocked_senders.park()
        self.tell(message)
        await trio.lowlevel.checkpoint()

    async def ask(self, message: MsgT, *, timeout_s: float = ASK_TIMEOUT_S_DEFAULT) -> Any:
        """Send ``message`` and wait for the handler's return value.

        Raises AskTimeout (no reply in time; the request may still be processed), ActorDead
        (stopped for good before answering), ActorCrashed (the handler raised on this very
        request), AskDropped (a drop-oldest mailbox discarded it), or one of the kind's
        ``reply_errors`` raised by the handler.
        """
        items = self._items
        if len(items) < self._room:  # the usual case: room, so the ask's wait is its reply
            await trio.lowlevel.checkpoint_if_cancelled()
            envelope = self._post(Ask(message))
            if timeout_s < math.inf:
                AskDeadlines.current().add(envelope, timeout_s, self.name)
            return await trio.lowlevel.wait_task_rescheduled(envelope._abort)
        envelope = Ask(message)
        with trio.move_on_after(timeout_s):
            if len(items) >= self._room:
                if self._room == 0:
                    await trio.lowlevel.checkpoint()
                    raise ActorDead(self.name, self._dead_reason)
                if self._blocked_senders is not None:  # BLOCK
                    while len(items) >= self._room > 0:
                        await self._blocked_senders.park()
                    if self._room == 0:
                        raise ActorDead(self.name, self._dead_reason)
                elif self.overflow is Overflow.DROP_OLDEST:
                    self._drop_oldest()
                else:
                    self._overflow_stop()
                    await trio.lowlevel.checkpoint()
                    raise ActorDead(self.name, "mailbox overflow")
            self._post(envelope)
            return await trio.lowlevel.wait_task_rescheduled(envelope._abort)
        raise AskTimeout(self.name, f"no reply within {timeout_s} s")

    def _post(self, envelope: Ask) -> Ask:
        """Queue an ask (room checked by the caller) for the current task, waking the actor."""
        items = self._items
        items.append(envelope)
        if len(items) > self.high_water:
            self.high_water = len(items)
        self._wake_receiver()
        envelope.task = trio.lowlevel.current_task()
        return envelope

    # -- the actor side (used by the runtime only) --------------------------------------------

    def _wake_receiver(self) -> None:
        receiver = self._receiver
        if receiver is not None:
            self._receiver = None
            trio.lowlevel.reschedule(receiver)

    def _abort_wait(self, _raise_cancel: object) -> trio.lowlevel.Abort:
        self._receiver = None
        return trio.lowlevel.Abort.SUCCEEDED

    async def _wait_for_mail(self) -> None:
        """Park the actor task until a message, a stop request or an overflow arrives."""
        self._receiver = trio.lowlevel.current_task()
        await trio.lowlevel.wait_task_rescheduled(self._abort_wait)

    def _request_stop(self) -> None:
        self._stop_flag = True
        self._wake_receiver()

    def _reopen(self) -> None:
        """A new incarnation starts: accept messages again (after a STOP overflow)."""
        self._stop_flag = False
        self.overflowed = False
        self._room = self.capacity
        self._dead_reason = ""

    def _close_queue(self, reason: str) -> None:
        """Refuse new messages; fail queued asks and blocked senders with ActorDead."""
        self._room = 0
        self._dead_reason = reason
        items = self._items
        while items:
            item = items.popleft()
            if type(item) is Ask:
                item.fail(ActorDead(self.name, reason))
        if self._blocked_senders is not None:
            self._blocked_senders.unpark_all()

    def _close(self, reason: str, down: DownReason = "shutdown", detail: str = "") -> None:
        """The slot is gone for good: the ref is dead from now on; monitors learn it."""
        self.overflowed = False
        self._close_queue(reason)
        self._wake_receiver()
        fire_monitors(self, Down(self.name, down, detail))


def crashed_reply(ref: ActorRef[Any], error: BaseException) -> ActorCrashed:
    crashed = ActorCrashed(ref.name, f"crashed handling this request: {error!r}")
    crashed.__cause__ = error
    return crashed
