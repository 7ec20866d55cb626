"""Supervisor: starts children in order, restarts them by strategy, stops them in reverse.

Semantics follow OTP's supervisor: strategies one_for_one / one_for_all / rest_for_one; at
most ``intensity`` restarts within ``period_s`` or the supervisor stops its children and
fails to its parent (SupervisorEscalation); permanent / transient / temporary children;
ordered start, reverse-order shutdown with a per-child shutdown timeout; dynamic children.

Trio shape: every child runs in the supervisor's nursery inside its own *shielded* cancel
scope. An outside cancellation (SIGTERM) therefore reaches only the supervisor's own task,
whose ``finally`` then stops the children one by one, newest first, each within its shutdown
timeout, the whole within ``policy.shutdown_timeout_s``; a child that overruns is cancelled
through its own scope. Child exits reach the supervisor's task through a bounded channel and
are handled one at a time under a lock that also serialises start_child / stop_child.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, cast, final

import structlog
import trio

from actors.actor import Actor, ActorContext, serve
from actors.child import ActorNode, Child, StartSignal, State
from actors.errors import (
    ChildNotFound,
    NameTaken,
    SupervisorEscalation,
    SupervisorFull,
    SupervisorStopped,
)
from actors.mailbox import ActorRef
from actors.monitors import DownReason
from actors.spec import ChildKind, ChildSpec, Restart, Strategy, SupervisionPolicy

if TYPE_CHECKING:
    from actors.runtime import Runtime

log = structlog.get_logger("tablium.actors")


ExitNote = tuple[Child, int, BaseException | None]  # (slot, incarnation, crash or None)


@final
class Supervisor:
    """A running supervisor. Run ``run()`` in a nursery (``await nursery.start(sup.run)``)."""

    def __init__(
        self,
        name: str,
        policy: SupervisionPolicy,
        children: Sequence[ChildSpec],
        *,
        runtime: Runtime,
        shield_shutdown: bool = False,
    ) -> None:
        """``shield_shutdown``: the root's ordered shutdown survives the outside cancellation
        that triggers it (SIGTERM); see ``_shutdown``."""
        self.name: Final = name
        self._shield_shutdown = shield_shutdown
        self.policy: Final = policy
        self.state = State.STARTING
        self.started_at = 0.0
        self._specs = tuple(children)
        self._runtime = runtime
        self._children: dict[str, Child] = {}  # start order; bound: policy.children_max
        self._lock = trio.Lock()  # serialises exits, start_child, stop_child, shutdown
        self._accepting = True
        # the restart times inside the window; one more than allowed means escalation
        self._restart_times: deque[float] = deque(maxlen=policy.intensity + 1)
        self._nursery: trio.Nursery | None = None
        self._control = trio.CancelScope()
        # Bound: an incarnation reports at most once, and a slot has at most one stale report
        # besides its current one, so 2 * children_max can never fill.
        self._exits_send, self._exits_recv = trio.open_memory_channel[ExitNote](
            2 * policy.children_max
        )

    def __repr__(self) -> str:
        return f"<Supervisor {self.name} {self.state.value} children={len(self._children)}>"

    def __len__(self) -> int:
        return len(self._children)

    # -- public API ----------------------------------------------------------------------------

    def children(self) -> list[Child]:
        return list(self._children.values())

    def child(self, name: str) -> Child:
        try:
            return self._children[name]
        except KeyError:
            raise ChildNotFound(f"{self.name} has no child {name!r}") from None

    async def start_child(self, spec: ChildSpec) -> Child:
        """Add a dynamic child and start it (returns once its ``started`` hook returned)."""
        async with self._lock:
            if not self._accepting or self._nursery is None:
                raise SupervisorStopped(f"supervisor {self.name!r} is not running")
            child = self._add(spec)
            try:
                await self._start(child)
            except BaseException:
                self._finalize(child)
                raise
            return child

    async def start_actor(self, spec: ChildSpec) -> ActorRef[Any]:
        """``start_child`` for a worker spec, returning its ref."""
        if spec.kind is not ChildKind.WORKER:
            raise ValueError(f"{spec.name}: start_actor needs a worker spec")
        ref = (await self.start_child(spec)).ref
        assert ref is not None  # workers always have one
        return ref

    async def stop_child(self, name: str) -> None:
        """Stop a child for good (stopping hook within its shutdown timeout) and remove it.

        An actor stops itself with ``context.stop()`` instead: waiting here for its own exit
        would wait out its whole shutdown timeout.
        """
        async with self._lock:
            child = self.child(name)
            # Shielded: a caller cancelled halfway must not leave a stopped-but-listed slot
            # holding its name. _stop is bounded by the child's shutdown timeout.
            with trio.CancelScope(shield=True):
                await self._stop(child)
                self._finalize(child)

    def request_stop(self) -> None:
        """Shut down (children in reverse order) and return from ``run()``."""
        self._accepting = False
        self._control.cancel()

    def child_nodes(self, now: float) -> tuple[ActorNode, ...]:
        return tuple(child.node(now) for child in self._children.values())

    def node(self, now: float | None = None, *, restart: Restart = Restart.PERMANENT) -> ActorNode:
        now = trio.current_time() if now is None else now
        return ActorNode(
            name=self.name,
            kind="supervisor",
            state=self.state.value,
            restart=restart.value,
            restarts=0,
            uptime_s=now - self.started_at if self.state is State.RUNNING else 0.0,
            strategy=self.policy.strategy.value,
            children=self.child_nodes(now),
        )

    # -- run -----------------------------------------------------------------------------------

    async def run(
        self, *, task_status: trio.TaskStatus[Supervisor] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Start the children in order, supervise them, shut them down in reverse order.

        Returns after ``request_stop()``; raises SupervisorEscalation when the restart
        intensity is exceeded, or a child's start error if the initial start fails (after
        stopping the children already started).
        """
        if self._nursery is not None or self.state is not State.STARTING:
            raise RuntimeError(f"supervisor {self.name!r} already ran; build a new one")
        failure: Exception | None = None
        self.started_at = trio.current_time()
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                try:
                    async with self._lock:
                        for spec in self._specs:
                            await self._start(self._add(spec))
                    self.state = State.RUNNING
                    task_status.started(self)
                    with self._control:
                        async for child, incarnation, crash in self._exits_recv:
                            async with self._lock:
                                await self._on_exit(child, incarnation, crash)
                except Exception as exc:  # escalation or a failed initial start: fail upward
                    failure = exc
                finally:
                    self._accepting = False
                    self.state = State.STOPPING
                    await self._shutdown()
        finally:
            self._nursery = None
            self.state = State.STOPPED
        if failure is not None:
            raise failure

    # -- internals (the lock is held) ----------------------------------------------------------

    def _add(self, spec: ChildSpec) -> Child:
        if len(self._children) >= self.policy.children_max:
            raise SupervisorFull(f"{self.name}: {self.policy.children_max} children")
        if spec.name in self._children:
            raise NameTaken(f"{self.name} already has a child {spec.name!r}")
        child = Child(spec)
        if spec.register and spec.kind is ChildKind.SUPERVISOR:
            self._runtime.registry._claim_supervisor(spec.name, child)
        elif spec.register and spec.kind is ChildKind.WORKER:
            self._runtime.registry._check_free(spec.name)
        self._children[spec.name] = child
        return child

    async def _start(self, child: Child) -> None:
        assert self._nursery is not None
        child.incarnation += 1
        child.state = State.STARTING
        child._stop_requested = False
        child._running = True
        child._exited = None
        child.started_at = trio.current_time()
        actor: Actor[Any] | None = None
        try:
            if child.spec.kind is ChildKind.WORKER:
                actor = self._make_actor(child)
            child.started_value = await self._nursery.start(self._run_child, child, actor)
        except BaseException:
            child._mark_exited()
            child.state = State.STOPPED
            raise
        child.state = State.RUNNING

    def _make_actor(self, child: Child) -> Actor[Any]:
        spec = child.spec
        assert spec.factory is not None
        actor = spec.factory()
        if child.ref is None:
            kind = type(actor)
            child.ref = ActorRef(spec.name, kind.kind, kind.mailbox_capacity, kind.mailbox_overflow)
            if spec.register:
                self._runtime.registry._claim_actor(spec.name, child.ref)
        return actor

    async def _run_child(
        self, child: Child, actor: Actor[Any] | None, *, task_status: trio.TaskStatus[Any]
    ) -> None:
        incarnation = child.incarnation
        signal = StartSignal(task_status, child)
        crash: Exception | None = None
        try:
            with trio.CancelScope(shield=True) as scope:
                child._scope = scope
                try:
                    if actor is not None:
                        await self._run_worker(child, actor, signal)
                    elif child.spec.kind is ChildKind.SERVICE:
                        assert child.spec.body is not None
                        await child.spec.body(task_status=cast(trio.TaskStatus[Any], signal))
                    else:
                        await self._run_supervisor(child, signal)
                except Exception as exc:
                    if not signal.done:
                        raise  # nursery.start() raises it in the starter
                    crash = exc
        finally:
            child._scope = None
            child._mark_exited()
        if not signal.done:
            return
        if child._stop_requested or incarnation != child.incarnation:
            if crash is not None:  # nobody will restart it, but the error must not vanish
                log.warning("child crashed while stopping", child=child.name, error=repr(crash))
            return
        child.state = State.RESTARTING if crash is not None else State.STOPPING
        self._exits_send.send_nowait((child, incarnation, crash))

    async def _run_supervisor(self, child: Child, signal: StartSignal) -> None:
        spec = child.spec
        assert spec.policy is not None
        sub = Supervisor(spec.name, spec.policy, spec.children, runtime=self._runtime)
        child.supervisor = sub
        await sub.run(task_status=cast(trio.TaskStatus[Supervisor], signal))

    async def _run_worker(self, child: Child, actor: Actor[Any], signal: StartSignal) -> None:
        ref = child.ref
        assert ref is not None
        context = ActorContext(ref, self._runtime.registry, self._runtime.timers, child.incarnation)
        actor.context = context
        ref._reopen()
        try:
            if actor.keeps_snapshot and ref._snapshot is not None:
                actor.restore(ref._snapshot)
            policy = actor.child_supervision
            if policy is None:
                crash = await _live(actor, ref, signal)
            else:
                # The actor's children live in a supervisor beside it, within this
                # incarnation: started before its first message, stopped (newest first)
                # before its stopping() hook, so a hand is gone before its table's last words.
                sub = Supervisor(ref.name, policy, (), runtime=self._runtime)
                child.supervisor = context._children = sub
                try:
                    async with trio.open_nursery() as nursery:
                        await nursery.start(sub.run)
                        try:
                            crash = await _live(actor, ref, signal)
                        finally:
                            sub.request_stop()
                except ExceptionGroup as group:  # the children escalated, or started() failed
                    crash = group.exceptions[0] if len(group.exceptions) == 1 else group
                    if not signal.done:
                        raise crash from None
            if crash is None:
                await actor.stopping(None)
                return
            with trio.move_on_after(child.spec.shutdown_timeout_s):
                await actor.stopping(crash)
            raise crash
        finally:
            context._cancel_timers()

    async def _on_exit(self, child: Child, incarnation: int, crash: BaseException | None) -> None:
        if (
            child.incarnation != incarnation
            or self._children.get(child.name) is not child
            or child._stop_requested
        ):
            return  # stale: that incarnation was already stopped or replaced
        spec = child.spec
        if crash is not None:
            log.warning("child crashed", supervisor=self.name, child=child.name, error=repr(crash))
        if spec.restart is Restart.TEMPORARY or (
            spec.restart is Restart.TRANSIENT and crash is None
        ):
            if crash is None:
                self._finalize(child, "normal")
            else:
                self._finalize(child, "crashed", repr(crash))
            return
        self._count_restart(child, crash)
        order = list(self._children.values())
        strategy = self.policy.strategy
        if strategy is Strategy.ONE_FOR_ONE:
            group = [child]
        elif strategy is Strategy.ONE_FOR_ALL:
            group = order
        else:
            group = order[order.index(child) :]
        for sibling in reversed(group):
            if sibling is not child:
                await self._stop(sibling)
                sibling.state = State.RESTARTING
                if sibling.spec.restart is Restart.TEMPORARY:
                    self._finalize(sibling)  # OTP: temporary children are never restarted
        for member in group:
            if self._children.get(member.name) is not member:
                continue
            member.restarts += 1
            self._runtime.stats.restarts_by_kind[_kind_of(member)] += 1
            try:
                await self._start(member)
            except Exception as exc:  # a failed restart is one more crash of that child
                await self._on_exit(member, member.incarnation, exc)
                return

    def _count_restart(self, child: Child, crash: BaseException | None) -> None:
        now = trio.current_time()
        times = self._restart_times
        times.append(now)
        while times and times[0] <= now - self.policy.period_s:
            times.popleft()
        if len(times) > self.policy.intensity:
            escalation = SupervisorEscalation(
                self.name, child.name, self.policy.intensity, self.policy.period_s
            )
            escalation.__cause__ = crash
            log.error("restart intensity exceeded", supervisor=self.name, child=child.name)
            raise escalation

    async def _stop(self, child: Child) -> None:
        """Graceful stop of one running child, then a kill once its shutdown timeout passed."""
        if not child._running:
            return
        _ask_to_stop(child)
        with trio.move_on_after(child.spec.shutdown_timeout_s):
            await child._wait_exited()
        await _kill_if_running(child)

    async def _stop_together(self, children: list[Child]) -> None:
        """Ask every child to stop at once, wait up to the longest shutdown timeout, kill the
        rest (OTP's simple_one_for_one: ten thousand sessions do not stop one by one)."""
        running = [child for child in children if child._running]
        if not running:
            return
        for child in running:
            _ask_to_stop(child)
        with trio.move_on_after(max(child.spec.shutdown_timeout_s for child in running)):
            for child in running:
                await child._wait_exited()
        for child in running:
            await _kill_if_running(child)

    def _finalize(self, child: Child, down: DownReason = "shutdown", detail: str = "") -> None:
        """The slot is gone for good: dead ref (its monitors told ``down``), released name,
        out of the tree."""
        child.state = State.STOPPED
        if self._children.get(child.name) is child:
            del self._children[child.name]
        owner: object = child
        if child.ref is not None:
            owner = child.ref
            child.ref._close("stopped", down, detail)
            self._runtime.stats.retire(child.ref)
        self._runtime.registry._release(child.name, owner)

    async def _shutdown(self) -> None:
        """Stop every child, newest first, within ``policy.shutdown_timeout_s`` in total.

        Only the root shields this from cancellation: it is how SIGTERM becomes an ordered
        shutdown. A nested supervisor is already shielded by its slot in the parent, so the
        only cancellation reaching it is the parent's kill, which must cut this short too,
        or a subtree could outlive its parent's bound.
        """
        try:
            with trio.CancelScope(shield=self._shield_shutdown) as scope:
                scope.deadline = trio.current_time() + self.policy.shutdown_timeout_s
                async with self._lock:
                    newest_first = list(reversed(self._children.values()))
                    if self.policy.stop_together:
                        await self._stop_together(newest_first)
                    for child in newest_first:
                        await self._stop(child)
                        self._finalize(child)
        finally:
            for child in reversed(list(self._children.values())):
                if child._scope is not None:  # out of time, or killed: cancel what is left
                    child._scope.cancel()
                self._finalize(child)


def _ask_to_stop(child: Child) -> None:
    child._stop_requested = True
    child.state = State.STOPPING
    kind = child.spec.kind
    if kind is ChildKind.WORKER and child.ref is not None:
        child.ref._request_stop()
    elif kind is ChildKind.SUPERVISOR and child.supervisor is not None:
        child.supervisor.request_stop()
    elif child._scope is not None:
        child._scope.cancel()  # a service's stop request is a trio cancellation


async def _kill_if_running(child: Child) -> None:
    if child._running:
        log.warning("child overran its shutdown timeout", child=child.name)
        if child._scope is not None:
            child._scope.cancel()
        await child._wait_exited()


async def _live(actor: Actor[Any], ref: ActorRef[Any], signal: StartSignal) -> Exception | None:
    """Start the actor, report it started, serve it; return what crashed it (None: stopped)."""
    await actor.started()
    if actor.keeps_snapshot:
        ref._snapshot = actor.snapshot()
    signal.started(ref)
    try:
        await serve(ref, actor)
    except Exception as crash:
        return crash
    return None


def _kind_of(child: Child) -> str:
    if child.ref is not None:
        return child.ref.kind
    return "supervisor" if child.spec.kind is ChildKind.SUPERVISOR else "service"
