"""Actor kinds and messages shared by the runtime's tests.

``Recorder`` writes what happens to it (started, stopping, handled) into a shared journal, so
a test can assert the order in which a supervisor started and stopped its children.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import trio

from actors.runtime import Actor, ChildSpec, Overflow, Restart, Runtime, SupervisionPolicy


class Echo(msgspec.Struct, frozen=True, tag=True):
    value: int


class Add(msgspec.Struct, frozen=True, tag=True):
    """Add to the total; with ``crash_midway`` the handler raises after changing state."""

    amount: int
    crash_midway: bool = False


class Crash(msgspec.Struct, frozen=True, tag=True):
    reason: str = "boom"


class Sleep(msgspec.Struct, frozen=True, tag=True):
    seconds: float


class Finish(msgspec.Struct, frozen=True, tag=True):
    """Exit normally (context.stop())."""


class Refuse(msgspec.Struct, frozen=True, tag=True):
    """The handler raises Refused, one of the kind's reply_errors."""


class Total(msgspec.Struct, frozen=True, tag=True):
    pass


class Refused(Exception):
    """The caller's fault: the actor answers with it and carries on."""


class Boom(Exception):
    """An injected bug: crashes the actor."""


Journal = list[tuple[str, ...]]


class Recorder(Actor[Any]):
    kind = "recorder"
    keeps_snapshot = True
    reply_errors = (Refused,)

    def __init__(self, name: str, journal: Journal, *, stopping_s: float = 0.0) -> None:
        self.name = name
        self.journal = journal
        self.stopping_s = stopping_s
        self.total = 0

    async def started(self) -> None:
        self.journal.append(("started", self.name))

    async def handle(self, message: Any) -> object:
        match message:
            case Echo(value=value):
                return value
            case Add(amount=amount, crash_midway=crash_midway):
                self.total += amount
                if crash_midway:
                    raise Boom(f"{self.name} crashed after adding {amount}")
                return self.total
            case Total():
                return self.total
            case Crash(reason=reason):
                raise Boom(reason)
            case Sleep(seconds=seconds):
                await trio.sleep(seconds)
                return seconds
            case Finish():
                self.context.stop()
                return None
            case Refuse():
                raise Refused("not allowed")
        raise AssertionError(f"unexpected message {message!r}")

    async def stopping(self, crash: BaseException | None) -> None:
        self.journal.append(("stopping", self.name, "crash" if crash else "stop"))
        await trio.sleep(self.stopping_s)
        self.journal.append(("stopped", self.name))

    def snapshot(self) -> object:
        return self.total

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, int)
        self.total = snapshot


def recorder(
    name: str,
    journal: Journal,
    *,
    restart: Restart = Restart.PERMANENT,
    stopping_s: float = 0.0,
    shutdown_timeout_s: float = 1.0,
) -> ChildSpec:
    def make() -> Recorder:
        return Recorder(name, journal, stopping_s=stopping_s)

    return ChildSpec.worker(name, make, restart=restart, shutdown_timeout_s=shutdown_timeout_s)


def small_mailbox(capacity: int, overflow: Overflow) -> Callable[[str, Journal], Recorder]:
    class Small(Recorder):
        kind = f"small_{overflow.value}"
        mailbox_capacity = capacity
        mailbox_overflow = overflow

    return lambda name, journal: Small(name, journal)


def events(journal: Journal, what: str) -> list[str]:
    return [entry[1] for entry in journal if entry[0] == what]


@asynccontextmanager
async def running(
    *children: ChildSpec, policy: SupervisionPolicy | None = None
) -> AsyncIterator[Runtime]:
    """A started runtime; on exit, stops it and checks nothing is left behind."""
    runtime = Runtime(children, policy=policy, metrics_registry=None)
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        yield runtime
        runtime.stop()
    assert_no_orphans(runtime)


def assert_no_orphans(runtime: Runtime) -> None:
    assert runtime.root.children() == []
    assert len(runtime.registry) == 0
    assert runtime.tree(now=0.0).children == ()
    assert runtime.tree(now=0.0).state == "stopped"
