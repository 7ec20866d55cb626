"""One slot of a supervisor (``Child``), its lifecycle states, and the ``tree()`` node."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Final, final

import msgspec
import trio

from actors.mailbox import ActorRef
from actors.spec import ChildKind, ChildSpec

if TYPE_CHECKING:
    from actors.supervisor import Supervisor


@final
class State(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"
    STOPPING = "stopping"
    STOPPED = "stopped"


class ActorNode(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One node of ``tree()``; ``msgspec.json.encode(node)`` is the admin API's body.

    Fields that do not apply to a node (the mailbox of a supervisor) are omitted when encoded.
    """

    name: str
    kind: str  # the actor kind, "supervisor" or "service"
    state: str  # a State value
    restart: str  # permanent / transient / temporary ("permanent" for the root)
    restarts: int  # restarts of this child slot so far
    uptime_s: float  # since the current incarnation started
    strategy: str | None = None  # supervisors (and actors with children)
    mailbox_depth: int | None = None  # actors only
    mailbox_high_water: int | None = None
    mailbox_capacity: int | None = None
    mailbox_overflow: str | None = None
    messages_processed: int | None = None
    children: tuple[ActorNode, ...] = ()


@final
class StartSignal:
    """Wraps a TaskStatus to remember whether the child reported it started."""

    __slots__ = ("_child", "_status", "done")

    def __init__(self, status: trio.TaskStatus[Any], child: Child) -> None:
        self._status = status
        self._child = child
        self.done = False

    def started(self, value: object = None) -> None:
        self.done = True
        self._child.state = State.RUNNING
        self._status.started(value)


@final
class Child:
    """One slot of a supervisor; survives restarts (same ref, same registry name)."""

    __slots__ = (
        "_exited",
        "_running",
        "_scope",
        "_stop_requested",
        "incarnation",
        "ref",
        "restarts",
        "spec",
        "started_at",
        "started_value",
        "state",
        "supervisor",
    )

    def __init__(self, spec: ChildSpec) -> None:
        self.spec: Final = spec
        self.state = State.STARTING
        self.restarts = 0
        self.incarnation = -1
        self.started_at = 0.0
        self.ref: ActorRef[Any] | None = None  # workers
        self.supervisor: Supervisor | None = None  # nested supervisors, actors with children
        self.started_value: object = None  # what a service passed to task_status.started()
        self._scope: trio.CancelScope | None = None
        self._running = False  # an incarnation's task exists
        self._exited: trio.Event | None = None  # made only when someone waits for the exit
        self._stop_requested = False

    @property
    def name(self) -> str:
        return self.spec.name

    def _mark_exited(self) -> None:
        self._running = False
        if self._exited is not None:
            self._exited.set()

    async def _wait_exited(self) -> None:
        if self._running:
            if self._exited is None:
                self._exited = trio.Event()
            await self._exited.wait()

    @property
    def kind(self) -> str:
        """The actor's kind; a child without an actor: ``supervisor`` or ``service``."""
        if self.ref is not None:
            return self.ref.kind
        return "supervisor" if self.spec.kind is ChildKind.SUPERVISOR else "service"

    def node(self, now: float) -> ActorNode:
        spec = self.spec
        uptime_s = now - self.started_at if self.state is State.RUNNING else 0.0
        sub = self.supervisor
        sub_children = sub.child_nodes(now) if sub is not None else ()
        strategy = sub.policy.strategy.value if sub is not None else None
        ref = self.ref
        if ref is None:
            return ActorNode(
                name=spec.name,
                kind=self.kind,
                state=self.state.value,
                restart=spec.restart.value,
                restarts=self.restarts,
                uptime_s=uptime_s,
                strategy=strategy,
                children=sub_children,
            )
        return ActorNode(
            name=spec.name,
            kind=ref.kind,
            state=self.state.value,
            restart=spec.restart.value,
            restarts=self.restarts,
            uptime_s=uptime_s,
            strategy=strategy,
            mailbox_depth=len(ref._items),
            mailbox_high_water=ref.high_water,
            mailbox_capacity=ref.capacity,
            mailbox_overflow=ref.overflow.value,
            messages_processed=ref.processed,
            children=sub_children,
        )
