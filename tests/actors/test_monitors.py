"""Monitors: an owner learns of an actor's end from a Down message, never by polling."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
import trio

from actors import monitors
from actors.runtime import (
    Actor,
    ActorRef,
    ChildSpec,
    Down,
    Monitor,
    MonitorLimit,
    Overflow,
    Restart,
    Runtime,
    wait_down,
)
from tests.actors import Crash, Finish, Journal, recorder, running


class Watch(msgspec.Struct, frozen=True, tag=True):
    name: str


class WatchRef(msgspec.Struct, frozen=True, tag=True):
    ref: Any  # in process only: a test's shortcut past the registry (a dead ref has no name)


class Unwatch(msgspec.Struct, frozen=True, tag=True):
    name: str


class Owner(Actor[Any]):
    """Monitors whom it is told to; records every Down it receives."""

    kind = "owner"

    def __init__(self, downs: list[Down]) -> None:
        self.downs = downs
        self.monitors: dict[str, Monitor] = {}

    async def handle(self, message: Any) -> object:
        match message:
            case Watch(name=name):
                target = self.context.registry.get(name)
                self.monitors[name] = self.context.monitor(target)
            case WatchRef(ref=ref):
                self.context.monitor(ref)
            case Unwatch(name=name):
                self.monitors.pop(name).cancel()
            case Down():
                self.downs.append(message)
            case Crash():
                raise RuntimeError("owner crashed")
        return None


def owner(downs: list[Down]) -> ChildSpec:
    return ChildSpec.worker("owner", lambda: Owner(downs))


async def settle() -> None:
    for _ in range(50):
        await trio.lowlevel.checkpoint()


async def start(runtime: Runtime, spec: ChildSpec) -> ActorRef[Any]:
    return await runtime.root.start_actor(spec)


async def test_a_child_that_stops_itself_is_reported_down_normal() -> None:
    downs: list[Down] = []
    journal: Journal = []
    async with running(owner(downs)) as runtime:
        target = await start(runtime, recorder("t", journal, restart=Restart.TRANSIENT))
        await runtime.registry.get("owner").ask(Watch("t"))
        target.tell(Finish())
        await settle()
        assert downs == [Down("t", "normal")]


async def test_a_restart_is_not_an_end_but_a_temporary_crash_is() -> None:
    downs: list[Down] = []
    journal: Journal = []
    async with running(owner(downs)) as runtime:
        permanent = await start(runtime, recorder("p", journal))
        temporary = await start(runtime, recorder("t", journal, restart=Restart.TEMPORARY))
        await runtime.registry.get("owner").ask(Watch("p"))
        await runtime.registry.get("owner").ask(Watch("t"))
        permanent.tell(Crash())
        await settle()
        assert downs == []  # restarted: the same slot lives on
        temporary.tell(Crash("gone"))
        await settle()
        assert [(d.name, d.reason) for d in downs] == [("t", "crashed")]
        assert "gone" in downs[0].detail


async def test_stopping_a_child_reports_shutdown() -> None:
    downs: list[Down] = []
    journal: Journal = []
    async with running(owner(downs)) as runtime:
        await start(runtime, recorder("t", journal))
        await runtime.registry.get("owner").ask(Watch("t"))
        await runtime.root.stop_child("t")
        await settle()
        assert downs == [Down("t", "shutdown")]


async def test_monitoring_a_dead_ref_reports_noproc_at_once() -> None:
    downs: list[Down] = []
    journal: Journal = []
    async with running(owner(downs)) as runtime:
        target = await start(runtime, recorder("t", journal))
        await runtime.root.stop_child("t")
        assert (await wait_down(target)).reason == "noproc"
        await runtime.registry.get("owner").ask(WatchRef(target))
        await settle()
        assert [(d.name, d.reason) for d in downs] == [("t", "noproc")]


async def test_a_cancelled_monitor_reports_nothing() -> None:
    downs: list[Down] = []
    journal: Journal = []
    async with running(owner(downs)) as runtime:
        await start(runtime, recorder("t", journal))
        owner_ref = runtime.registry.get("owner")
        await owner_ref.ask(Watch("t"))
        await owner_ref.ask(Unwatch("t"))
        await runtime.root.stop_child("t")
        await settle()
        assert downs == []


async def test_monitors_end_with_the_incarnation_that_set_them() -> None:
    downs: list[Down] = []
    journal: Journal = []
    async with running(owner(downs)) as runtime:
        target = await start(runtime, recorder("t", journal))
        owner_ref = runtime.registry.get("owner")
        await owner_ref.ask(Watch("t"))
        owner_ref.tell(Crash())  # the owner restarts: its monitor goes with the old incarnation
        await settle()
        assert target._monitors in (None, set())
        await runtime.root.stop_child("t")
        await settle()
        assert downs == []


async def test_wait_down_returns_when_the_actor_ends() -> None:
    journal: Journal = []
    async with running() as runtime:
        target = await start(runtime, recorder("t", journal, restart=Restart.TRANSIENT))
        async with trio.open_nursery() as nursery:
            seen: list[Down] = []

            async def waiter() -> None:
                seen.append(await wait_down(target))

            nursery.start_soon(waiter)
            await settle()
            assert seen == []
            target.tell(Finish())
        assert seen == [Down("t", "normal")]
        assert target._monitors is None  # fired monitors are not kept


def test_one_actor_holds_a_bounded_number_of_monitors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitors, "MONITORS_PER_ACTOR_MAX", 3)
    target = ActorRef("t", "recorder", 4, Overflow.STOP)
    watcher = ActorRef("owner", "owner", 4, Overflow.STOP)
    owned: set[Monitor] = set()
    for _ in range(3):
        monitors.tell_monitor(target, watcher, owned)
    with pytest.raises(MonitorLimit):
        monitors.tell_monitor(target, watcher, owned)
    assert len(owned) == 3 and len(target._monitors or ()) == 3  # the refused one is not set
    for monitor in list(owned):
        monitor.cancel()
    assert owned == set() and target._monitors == set()


def test_one_target_takes_a_bounded_number_of_watchers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitors, "MONITORS_PER_TARGET_MAX", 2)
    target = ActorRef("t", "recorder", 4, Overflow.STOP)
    for name in ("a", "b"):
        monitors.tell_monitor(target, ActorRef(name, "owner", 4, Overflow.STOP), set())
    with pytest.raises(MonitorLimit):
        monitors.tell_monitor(target, ActorRef("c", "owner", 4, Overflow.STOP), set())
