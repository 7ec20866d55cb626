"""tell / send / ask and the three mailbox overflow policies."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from actors.mailbox import ActorRef, AskDeadlines
from actors.runtime import (
    ActorCrashed,
    ActorDead,
    AskDropped,
    AskTimeout,
    ChildSpec,
    MailboxFull,
    Overflow,
    Restart,
)
from tests.actors import (
    Add,
    Crash,
    Echo,
    Journal,
    Refuse,
    Refused,
    Sleep,
    Total,
    events,
    recorder,
    running,
    small_mailbox,
)


async def test_messages_are_handled_in_the_order_they_were_told() -> None:
    journal: Journal = []
    async with running(recorder("a", journal)) as runtime:
        ref = runtime.registry.get("a")
        for amount in (1, 2, 3):
            ref.tell(Add(amount))
        assert await ref.ask(Total()) == 6
        assert ref.processed == 4


async def test_ask_returns_the_handlers_value() -> None:
    async with running(recorder("a", [])) as runtime:
        assert await runtime.registry.get("a").ask(Echo(7)) == 7


async def test_ask_times_out_on_trio_time_and_the_actor_still_handles_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with running(recorder("a", [])) as runtime:
        ref = runtime.registry.get("a")
        started = trio.current_time()
        with pytest.raises(AskTimeout):
            await ref.ask(Sleep(10.0), timeout_s=1.0)
        assert trio.current_time() - started == pytest.approx(1.0)
        # the request was not withdrawn: the next ask is answered after it
        assert await ref.ask(Echo(1), timeout_s=60.0) == 1
        assert trio.current_time() - started == pytest.approx(10.0)


async def test_asks_of_several_timeouts_each_time_out_on_their_own_clock_and_answered_ones_never(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The asks' deadlines (actors/mailbox.py AskDeadlines): one FIFO per timeout length, an
    answered ask left in its FIFO without effect, and a cancelled asker's entry skipped."""
    async with running(recorder("slow", []), recorder("fast", [])) as runtime:
        slow, fast = runtime.registry.get("slow"), runtime.registry.get("fast")
        started = trio.current_time()
        ended: dict[str, float] = {}

        async def ask(name: str, ref: ActorRef[object], message: object, timeout_s: float) -> None:
            try:
                await ref.ask(message, timeout_s=timeout_s)
                ended[name] = -(trio.current_time() - started)  # answered: negative
            except AskTimeout:
                ended[name] = trio.current_time() - started

        async with trio.open_nursery() as nursery:
            for name, ref, message, timeout_s in (
                ("sleeps 30, waits 3", slow, Sleep(30.0), 3.0),
                ("queued, waits 2", slow, Echo(1), 2.0),
                ("answered at once, waits 1", fast, Echo(2), 1.0),
                ("queued, waits 1", slow, Echo(3), 1.0),
            ):
                nursery.start_soon(ask, name, ref, message, timeout_s)
                await trio.testing.wait_all_tasks_blocked()  # asked in this order
            with trio.CancelScope() as cancelled:
                cancelled.cancel()
                await slow.ask(Echo(4), timeout_s=0.5)  # never sent: already cancelled
        assert ended == {
            "answered at once, waits 1": -0.0,
            "queued, waits 1": pytest.approx(1.0),
            "queued, waits 2": pytest.approx(2.0),
            "sleeps 30, waits 3": pytest.approx(3.0),
        }
        assert len(AskDeadlines.current()) == 0  # every entry has come up


async def test_ask_to_an_actor_stopped_for_good_raises_actor_dead() -> None:
    async with running(recorder("a", [], restart=Restart.TEMPORARY)) as runtime:
        ref = runtime.registry.get("a")
        await runtime.root.stop_child("a")
        assert not ref.alive
        with pytest.raises(ActorDead):
            await ref.ask(Echo(1))


async def test_tell_to_a_dead_actor_is_counted_as_a_dead_letter() -> None:
    async with running(recorder("a", [])) as runtime:
        ref = runtime.registry.get("a")
        await runtime.root.stop_child("a")
        ref.tell(Echo(1))
        ref.tell(Echo(2))
        assert ref.dead_letters == 2


async def test_asks_queued_behind_a_stop_fail_with_actor_dead(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with running(recorder("a", [])) as runtime:
        ref = runtime.registry.get("a")
        ref.tell(Sleep(1.0))
        outcomes: list[str] = []

        async def ask_late() -> None:
            try:
                await ref.ask(Echo(1))
            except ActorDead:
                outcomes.append("dead")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(ask_late)
            await trio.sleep(0.1)
            await runtime.root.stop_child("a")
        assert outcomes == ["dead"]


async def test_a_handler_that_crashes_on_an_ask_raises_actor_crashed_in_the_asker() -> None:
    async with running(recorder("a", [])) as runtime:
        ref = runtime.registry.get("a")
        with pytest.raises(ActorCrashed) as caught:
            await ref.ask(Crash("bad state"))
        assert "bad state" in str(caught.value)
        # the supervisor restarted it behind the same ref
        assert await ref.ask(Echo(5)) == 5
        assert runtime.root.child("a").restarts == 1


async def test_reply_errors_reach_the_asker_without_crashing_the_actor() -> None:
    async with running(recorder("a", [])) as runtime:
        ref = runtime.registry.get("a")
        with pytest.raises(Refused):
            await ref.ask(Refuse())
        ref.tell(Refuse())  # told: logged and dropped, still no crash
        assert await ref.ask(Echo(3)) == 3
        assert runtime.root.child("a").restarts == 0


async def test_block_policy_tell_raises_mailbox_full_and_send_waits_for_room(
    autojump_clock: trio.testing.MockClock,
) -> None:
    make = small_mailbox(2, Overflow.BLOCK)
    spec = ChildSpec.worker("w", lambda: make("w", []))
    async with running(spec) as runtime:
        ref = runtime.registry.get("w")
        ref.tell(Sleep(5.0))
        await trio.sleep(0.1)  # the actor is now inside the 5 s handler
        ref.tell(Echo(1))
        ref.tell(Echo(2))
        with pytest.raises(MailboxFull):
            ref.tell(Echo(3))
        before = trio.current_time()
        await ref.send(Echo(3))  # waits until the actor takes the next message
        assert trio.current_time() - before == pytest.approx(4.9)
        assert ref.dropped == 0
        assert await ref.ask(Echo(9)) == 9


async def test_drop_oldest_policy_discards_the_oldest_and_fails_a_dropped_ask(
    autojump_clock: trio.testing.MockClock,
) -> None:
    make = small_mailbox(2, Overflow.DROP_OLDEST)
    spec = ChildSpec.worker("d", lambda: make("d", []))
    async with running(spec) as runtime:
        ref = runtime.registry.get("d")
        ref.tell(Sleep(1.0))
        await trio.sleep(0.1)
        results: list[object] = []

        async def ask_first() -> None:
            try:
                results.append(await ref.ask(Add(100)))
            except AskDropped:
                results.append("dropped")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(ask_first)
            await trio.sleep(0.1)  # the ask is queued first, so it is the oldest
            ref.tell(Add(1))
            ref.tell(Add(2))  # full: drops the ask
            ref.tell(Add(3))  # full: drops Add(1)
        assert results == ["dropped"]
        assert ref.dropped == 2
        await trio.sleep(2.0)  # let it drain Add(2) and Add(3), or this ask would drop one
        assert await ref.ask(Total()) == 5


async def test_stop_policy_overflow_crashes_the_actor_and_clears_its_mailbox(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: Journal = []
    make = small_mailbox(2, Overflow.STOP)
    spec = ChildSpec.worker("s", lambda: make("s", journal), restart=Restart.PERMANENT)
    async with running(spec) as runtime:
        ref = runtime.registry.get("s")
        ref.tell(Sleep(1.0))
        await trio.sleep(0.1)
        ref.tell(Add(1))
        ref.tell(Add(2))
        ref.tell(Add(3))  # overflow: everything queued is discarded
        assert ref.dropped == 3
        with pytest.raises(ActorDead):
            await ref.ask(Echo(1))  # refused until the supervisor restarts it
        await trio.sleep(2.0)
        assert await ref.ask(Total()) == 0
        assert runtime.root.child("s").restarts == 1
        assert ("stopping", "s", "crash") in journal


async def test_stop_policy_overflow_removes_a_temporary_session(
    autojump_clock: trio.testing.MockClock,
) -> None:
    make = small_mailbox(1, Overflow.STOP)
    spec = ChildSpec.worker("session:1", lambda: make("session:1", []), restart=Restart.TEMPORARY)
    async with running(spec) as runtime:
        ref = runtime.registry.get("session:1")
        ref.tell(Sleep(1.0))
        await trio.sleep(0.1)
        ref.tell(Echo(1))
        ref.tell(Echo(2))
        await trio.sleep(2.0)
        assert not ref.alive
        assert runtime.registry.lookup("session:1") is None
        assert runtime.root.children() == []


async def test_a_flooded_actor_yields_to_other_tasks() -> None:
    async with running(recorder("a", [])) as runtime:
        ref = runtime.registry.get("a")
        for _ in range(500):
            ref.tell(Echo(0))
        progress: list[int] = []

        async def neighbour() -> None:
            progress.append(ref.processed)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(neighbour)
        await ref.ask(Echo(0))
        assert progress and progress[0] < 500


async def test_high_water_mark_and_depth_are_reported() -> None:
    journal: Journal = []
    async with running(recorder("a", journal)) as runtime:
        ref = runtime.registry.get("a")
        for n in range(10):
            ref.tell(Echo(n))
        assert ref.depth == 10
        await ref.ask(Echo(0))
        assert ref.depth == 0
        assert ref.high_water == 11
        assert events(journal, "started") == ["a"]
