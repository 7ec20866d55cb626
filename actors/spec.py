"""Declarative supervision: strategies, restart types, child specs (OTP's vocabulary).

A supervisor is described by data (a strategy, a restart intensity within a period, an
ordered list of child specs), so ``server/app.py`` reads as the tree it builds.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol, final

import trio

if TYPE_CHECKING:
    from actors.actor import Actor

INTENSITY_DEFAULT: Final = 3  # restarts allowed within PERIOD_S_DEFAULT before escalating
PERIOD_S_DEFAULT: Final = 5.0
CHILDREN_MAX_DEFAULT: Final = 100_000  # start_child beyond it raises SupervisorFull
WORKER_SHUTDOWN_TIMEOUT_S: Final = 1.0  # finish the message, run stopping(), else killed
SUPERVISOR_SHUTDOWN_TIMEOUT_S: Final = 3.0  # whole subtree; under the 4 s SIGTERM grace


@final
class Strategy(enum.Enum):
    """Which siblings restart with a crashed child (OTP supervisor strategies)."""

    ONE_FOR_ONE = "one_for_one"  # only the crashed child
    ONE_FOR_ALL = "one_for_all"  # every child: stop all (reverse order), start all (in order)
    REST_FOR_ONE = "rest_for_one"  # the crashed child and every child started after it


@final
class Restart(enum.Enum):
    """When a child that exited is restarted (OTP child restart types)."""

    PERMANENT = "permanent"  # always, even after a normal exit (lobby, tables, services)
    TRANSIENT = "transient"  # only after a crash; a normal exit removes it (a hand)
    TEMPORARY = "temporary"  # never; any exit removes it (a player session)


@final
class ChildKind(enum.Enum):
    WORKER = "worker"  # an Actor: mailbox, one message at a time
    SERVICE = "service"  # an async function that is not message-driven (a listener)
    SUPERVISOR = "supervisor"  # a nested supervisor with its own children


class ServiceBody(Protocol):
    """``async def body(*, task_status=trio.TASK_STATUS_IGNORED) -> None``.

    Call ``task_status.started(value)`` once ready (ports bound); the supervisor's ordered
    start waits for it. A stop request is a trio cancellation of the body.
    """

    def __call__(self, *, task_status: trio.TaskStatus[Any]) -> Awaitable[object]: ...


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisionPolicy:
    """How a supervisor treats its children: strategy, intensity within a period, bounds."""

    strategy: Strategy = Strategy.ONE_FOR_ONE
    intensity: int = INTENSITY_DEFAULT  # at most this many restarts ...
    period_s: float = PERIOD_S_DEFAULT  # ... within this window, else escalate
    children_max: int = CHILDREN_MAX_DEFAULT
    # Bound of the whole ordered shutdown of this supervisor's children; a child still running
    # when it expires is cancelled outright.
    shutdown_timeout_s: float = SUPERVISOR_SHUTDOWN_TIMEOUT_S
    # Stop all children at once instead of newest first, one by one (OTP simple_one_for_one):
    # for many interchangeable dynamic children, such as player sessions.
    stop_together: bool = False

    def __post_init__(self) -> None:
        if self.intensity < 0 or self.period_s <= 0 or self.children_max < 1:
            raise ValueError(f"invalid supervision policy {self!r}")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ChildSpec:
    """One child of a supervisor. Build it with ``worker``, ``service`` or ``supervisor``."""

    name: str
    kind: ChildKind
    restart: Restart
    shutdown_timeout_s: float
    factory: Callable[[], Actor[Any]] | None = None
    body: ServiceBody | Callable[..., Awaitable[object]] | None = None
    policy: SupervisionPolicy | None = None
    children: tuple[ChildSpec, ...] = field(default=())
    register: bool = False

    @classmethod
    def worker(
        cls,
        name: str,
        factory: Callable[[], Actor[Any]],
        *,
        restart: Restart = Restart.PERMANENT,
        shutdown_timeout_s: float = WORKER_SHUTDOWN_TIMEOUT_S,
        register: bool = True,
    ) -> ChildSpec:
        """An actor child. ``factory`` builds a fresh instance for every (re)start; with
        ``register`` the name (``table:42``) is a registry address while the child lives."""
        return cls(
            name=name,
            kind=ChildKind.WORKER,
            restart=restart,
            shutdown_timeout_s=shutdown_timeout_s,
            factory=factory,
            register=register,
        )

    @classmethod
    def service(
        cls,
        name: str,
        body: ServiceBody | Callable[..., Awaitable[object]],
        *,
        restart: Restart = Restart.PERMANENT,
        shutdown_timeout_s: float = WORKER_SHUTDOWN_TIMEOUT_S,
    ) -> ChildSpec:
        """A long-running async function (websocket listener, hypercorn) as a child."""
        return cls(
            name=name,
            kind=ChildKind.SERVICE,
            restart=restart,
            shutdown_timeout_s=shutdown_timeout_s,
            body=body,
        )

    @classmethod
    def supervisor(
        cls,
        name: str,
        children: Sequence[ChildSpec] = (),
        *,
        policy: SupervisionPolicy | None = None,
        restart: Restart = Restart.PERMANENT,
        register: bool = True,
    ) -> ChildSpec:
        """A nested supervisor; ``register`` makes ``Registry.supervisor(name)`` find it."""
        policy = policy or SupervisionPolicy()
        return cls(
            name=name,
            kind=ChildKind.SUPERVISOR,
            restart=restart,
            # the parent waits a little longer than the subtree's own bound before killing
            shutdown_timeout_s=policy.shutdown_timeout_s + 0.1,
            policy=policy,
            children=tuple(children),
            register=register,
        )
