"""Timers on trio's clock, and the registry of named addresses."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
import trio

from actors.runtime import (
    Actor,
    ActorCrashed,
    ChildSpec,
    NameNotFound,
    Restart,
    Timer,
    TimerLimit,
)
from actors.timers import COMPACT_CANCELLED_MIN, TIMERS_PER_ACTOR_MAX
from tests.actors import Crash, Finish, Journal, recorder, running


class Remind(msgspec.Struct, frozen=True, tag=True):
    after_s: float
    note: str


class CancelAll(msgspec.Struct, frozen=True, tag=True):
    pass


class Fired(msgspec.Struct, frozen=True, tag=True):
    note: str


class Alarm(Actor[Any]):
    """Schedules Fired(note) to itself and records when each one arrives."""

    kind = "alarm"

    def __init__(self, fired: list[tuple[str, float]]) -> None:
        self.fired = fired
        self.timers: list[Timer] = []

    async def handle(self, message: Any) -> object:
        match message:
            case Remind(after_s=after_s, note=note):
                self.timers.append(self.context.send_after(after_s, Fired(note)))
            case Fired(note=note):
                self.fired.append((note, trio.current_time()))
            case CancelAll():
                for timer in self.timers:
                    timer.cancel()
            case Crash():
                raise RuntimeError("crash")
        return None


async def test_a_timer_tells_its_actor_after_the_delay(
    autojump_clock: trio.testing.MockClock,
) -> None:
    fired: list[tuple[str, float]] = []
    async with running(ChildSpec.worker("alarm", lambda: Alarm(fired))) as runtime:
        ref = runtime.registry.get("alarm")
        start = trio.current_time()
        ref.tell(Remind(30.0, "late"))
        ref.tell(Remind(5.0, "early"))
        ref.tell(Remind(5.0, "early too"))
        await trio.sleep(60.0)
    assert [(note, round(at - start, 6)) for note, at in fired] == [
        ("early", 5.0),
        ("early too", 5.0),
        ("late", 30.0),
    ]


async def test_a_cancelled_timer_never_fires(autojump_clock: trio.testing.MockClock) -> None:
    fired: list[tuple[str, float]] = []
    async with running(ChildSpec.worker("alarm", lambda: Alarm(fired))) as runtime:
        ref = runtime.registry.get("alarm")
        ref.tell(Remind(5.0, "cancelled"))
        await trio.sleep(1.0)
        ref.tell(CancelAll())
        await trio.sleep(10.0)
    assert fired == []


async def test_timers_die_with_the_incarnation_that_set_them(
    autojump_clock: trio.testing.MockClock,
) -> None:
    fired: list[tuple[str, float]] = []
    async with running(ChildSpec.worker("alarm", lambda: Alarm(fired))) as runtime:
        ref = runtime.registry.get("alarm")
        ref.tell(Remind(5.0, "from the first life"))
        ref.tell(Crash())
        await trio.sleep(10.0)
        assert runtime.root.child("alarm").restarts == 1
    assert fired == []


async def test_an_actor_cannot_hold_unbounded_timers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with running(ChildSpec.worker("alarm", lambda: Alarm([]))) as runtime:
        ref = runtime.registry.get("alarm")
        for n in range(TIMERS_PER_ACTOR_MAX):
            ref.tell(Remind(100.0, str(n)))
        await ref.ask(Fired("sync"))
        with pytest.raises(ActorCrashed) as caught:
            await ref.ask(Remind(100.0, "one too many"))
        assert isinstance(caught.value.__cause__, TimerLimit)
        # the restarted incarnation starts with no timers: the limit is per incarnation
        await ref.ask(Remind(100.0, "fits again"))


async def test_registry_finds_actors_by_name_and_lists_by_prefix() -> None:
    journal: Journal = []
    children = [recorder(name, journal) for name in ("table:1", "table:2", "lobby")]
    async with running(*children) as runtime:
        assert runtime.registry.names("table:") == ["table:1", "table:2"]
        assert runtime.lookup("lobby") is runtime.registry.get("lobby")
        assert runtime.lookup("table:3") is None
        with pytest.raises(NameNotFound):
            runtime.registry.get("table:3")


async def test_a_name_outlives_restarts_and_is_removed_when_the_actor_exits() -> None:
    journal: Journal = []
    async with running(recorder("hand:1:7", journal, restart=Restart.TRANSIENT)) as runtime:
        ref = runtime.registry.get("hand:1:7")
        ref.tell(Crash())
        await ref.ask(Finish())  # answered by the restarted incarnation, which then exits
        for _ in range(20):
            await trio.lowlevel.checkpoint()
        assert runtime.registry.lookup("hand:1:7") is None
        assert runtime.root.children() == []


async def test_unregistered_workers_are_not_in_the_registry() -> None:
    spec = ChildSpec.worker("private", lambda: Alarm([]), register=False)
    async with running(spec) as runtime:
        assert runtime.lookup("private") is None
        assert runtime.root.child("private").ref is not None


async def test_cancelled_timers_do_not_pile_up_in_the_heap(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with running(ChildSpec.worker("alarm", lambda: Alarm([]))) as runtime:
        ref = runtime.registry.get("alarm")
        for _ in range(20):  # re-arm a long timer over and over, as a table's action clock
            for n in range(200):
                ref.tell(Remind(3600.0, str(n)))
            ref.tell(CancelAll())
            await ref.ask(Fired("sync"))
        assert len(runtime.timers) <= 2 * COMPACT_CANCELLED_MIN
