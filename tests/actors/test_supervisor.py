"""Supervision: strategies, restart types, intensity and escalation, ordered shutdown."""

from __future__ import annotations

import contextlib
import os
import random

import pytest
import trio

from actors.runtime import (
    ActorCrashed,
    ActorDead,
    ChildSpec,
    NameTaken,
    Restart,
    Runtime,
    Strategy,
    SupervisionPolicy,
    SupervisorEscalation,
    SupervisorFull,
    SupervisorStopped,
)
from tests.actors import (
    Add,
    Boom,
    Crash,
    Echo,
    Finish,
    Journal,
    Recorder,
    Sleep,
    Total,
    assert_no_orphans,
    events,
    recorder,
    running,
)


def three(journal: Journal, restart: Restart = Restart.PERMANENT) -> list[ChildSpec]:
    return [recorder(name, journal, restart=restart) for name in ("a", "b", "c")]


async def crash(runtime: Runtime, name: str) -> None:
    runtime.registry.get(name).tell(Crash())
    await wait_settled()


async def wait_settled() -> None:
    # The runtime never sleeps on its own; a few scheduler passes let a restart complete.
    for _ in range(50):
        await trio.lowlevel.checkpoint()


async def test_children_start_in_order_and_stop_in_reverse_order() -> None:
    journal: Journal = []
    async with running(*three(journal)):
        assert events(journal, "started") == ["a", "b", "c"]
    assert events(journal, "stopping") == ["c", "b", "a"]
    # each child finished stopping before the next one was asked to
    assert [e for e in journal if e[0] != "started"] == [
        ("stopping", "c", "stop"),
        ("stopped", "c"),
        ("stopping", "b", "stop"),
        ("stopped", "b"),
        ("stopping", "a", "stop"),
        ("stopped", "a"),
    ]


async def test_one_for_one_restarts_only_the_crashed_child() -> None:
    journal: Journal = []
    policy = SupervisionPolicy(strategy=Strategy.ONE_FOR_ONE)
    async with running(*three(journal), policy=policy) as runtime:
        journal.clear()
        await crash(runtime, "b")
        assert events(journal, "started") == ["b"]
        assert [c.restarts for c in runtime.root.children()] == [0, 1, 0]


async def test_one_for_all_restarts_every_child_stopping_the_others_in_reverse() -> None:
    journal: Journal = []
    policy = SupervisionPolicy(strategy=Strategy.ONE_FOR_ALL)
    async with running(*three(journal), policy=policy) as runtime:
        journal.clear()
        await crash(runtime, "b")
        assert events(journal, "stopping") == ["b", "c", "a"]  # b crashed, then c, a
        assert events(journal, "started") == ["a", "b", "c"]
        assert [c.restarts for c in runtime.root.children()] == [1, 1, 1]


async def test_rest_for_one_restarts_the_crashed_child_and_those_started_after_it() -> None:
    journal: Journal = []
    policy = SupervisionPolicy(strategy=Strategy.REST_FOR_ONE)
    async with running(*three(journal), policy=policy) as runtime:
        journal.clear()
        await crash(runtime, "b")
        assert events(journal, "stopping") == ["b", "c"]
        assert events(journal, "started") == ["b", "c"]
        assert [c.restarts for c in runtime.root.children()] == [0, 1, 1]


async def test_one_for_all_removes_temporary_siblings_instead_of_restarting_them() -> None:
    journal: Journal = []
    policy = SupervisionPolicy(strategy=Strategy.ONE_FOR_ALL)
    children = [recorder("a", journal), recorder("t", journal, restart=Restart.TEMPORARY)]
    async with running(*children, policy=policy) as runtime:
        journal.clear()
        await crash(runtime, "a")
        assert events(journal, "started") == ["a"]
        assert [c.name for c in runtime.root.children()] == ["a"]


@pytest.mark.parametrize(
    ("restart", "exit_message", "restarted"),
    [
        (Restart.PERMANENT, Crash(), True),
        (Restart.PERMANENT, Finish(), True),
        (Restart.TRANSIENT, Crash(), True),
        (Restart.TRANSIENT, Finish(), False),
        (Restart.TEMPORARY, Crash(), False),
        (Restart.TEMPORARY, Finish(), False),
    ],
)
async def test_restart_types_decide_whether_an_exited_child_comes_back(
    restart: Restart, exit_message: Crash | Finish, restarted: bool
) -> None:
    journal: Journal = []
    async with running(recorder("x", journal, restart=restart)) as runtime:
        ref = runtime.registry.get("x")
        ref.tell(exit_message)
        await wait_settled()
        assert events(journal, "started") == (["x", "x"] if restarted else ["x"])
        assert ref.alive is restarted
        assert (runtime.registry.lookup("x") is ref) is restarted


async def test_restarts_within_intensity_are_allowed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    policy = SupervisionPolicy(intensity=3, period_s=5.0)
    async with running(recorder("x", []), policy=policy) as runtime:
        for _ in range(3):
            await crash(runtime, "x")
        assert runtime.root.child("x").restarts == 3


async def test_restarts_spread_beyond_the_period_never_escalate(
    autojump_clock: trio.testing.MockClock,
) -> None:
    policy = SupervisionPolicy(intensity=1, period_s=5.0)
    async with running(recorder("x", []), policy=policy) as runtime:
        for _ in range(4):
            await crash(runtime, "x")
            await trio.sleep(5.0)
        assert runtime.root.child("x").restarts == 4


async def test_exceeding_intensity_stops_the_children_and_fails_to_the_parent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: Journal = []
    runtime = Runtime(
        three(journal), policy=SupervisionPolicy(intensity=2, period_s=5.0), metrics_registry=None
    )
    with pytest.RaisesGroup(SupervisorEscalation) as caught:
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
            for _ in range(3):
                runtime.registry.get("b").tell(Crash())
                await wait_settled()
    escalation = caught.value.exceptions[0]
    assert isinstance(escalation, SupervisorEscalation)
    assert escalation.child == "b"
    assert isinstance(escalation.__cause__, Boom)
    assert events(journal, "stopping")[-2:] == ["c", "a"]  # b had crashed; the rest reversed
    assert_no_orphans(runtime)


async def test_escalation_climbs_two_levels_of_supervisors(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: Journal = []
    inner = ChildSpec.supervisor(
        "inner", [recorder("w", journal)], policy=SupervisionPolicy(intensity=1, period_s=10.0)
    )
    middle = ChildSpec.supervisor(
        "middle", [inner], policy=SupervisionPolicy(intensity=1, period_s=10.0)
    )
    runtime = Runtime(
        [middle, recorder("sibling", journal)],
        policy=SupervisionPolicy(intensity=5, period_s=10.0),
        metrics_registry=None,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        middle_child = runtime.root.child("middle")
        # 2 crashes exceed inner (1 allowed): inner escalates, middle restarts inner (1st).
        # 2 more: inner escalates again, middle's 2nd restart exceeds it: middle escalates,
        # and root (intensity 5) restarts middle with a fresh inner and worker.
        for _ in range(4):
            runtime.registry.get("w").tell(Crash())
            await wait_settled()
        assert middle_child.restarts == 1
        middle_sup = runtime.registry.supervisor("middle")
        assert middle_sup.child("inner").restarts == 0  # a fresh incarnation of middle
        assert events(journal, "started").count("sibling") == 1  # one_for_one at the root
        assert await runtime.registry.get("w").ask(Echo(1)) == 1
        runtime.stop()
    assert_no_orphans(runtime)


async def test_a_slow_stopping_hook_is_cut_off_at_its_shutdown_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: Journal = []
    children = [
        recorder("a", journal),
        recorder("slow", journal, stopping_s=60.0, shutdown_timeout_s=2.0),
        recorder("c", journal),
    ]
    async with running(*children):
        started = trio.current_time()
    assert trio.current_time() - started == pytest.approx(2.0)
    assert events(journal, "stopping") == ["c", "slow", "a"]
    assert "slow" not in events(journal, "stopped")  # killed inside its hook
    assert events(journal, "stopped") == ["c", "a"]


async def test_the_whole_shutdown_is_bounded_by_the_supervisors_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: Journal = []
    children = [recorder(name, journal, stopping_s=60.0, shutdown_timeout_s=2.0) for name in "abcd"]
    policy = SupervisionPolicy(shutdown_timeout_s=3.0)
    async with running(*children, policy=policy):
        started = trio.current_time()
    assert trio.current_time() - started == pytest.approx(3.0)
    assert events(journal, "stopping") == ["d", "c"]  # d took 2 s, c was cut at 3 s


async def test_cancelling_the_runtimes_scope_still_stops_children_in_reverse_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: Journal = []
    children = [recorder(name, journal, stopping_s=0.5) for name in "abc"]
    runtime = Runtime(children, metrics_registry=None)
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
            started = trio.current_time()
            scope.cancel()  # what SIGTERM does in server/app.py
    assert trio.current_time() - started == pytest.approx(1.5)
    assert events(journal, "stopped") == ["c", "b", "a"]
    assert_no_orphans(runtime)


async def test_no_task_outlives_the_runtime() -> None:
    journal: Journal = []
    nested = ChildSpec.supervisor("nested", [recorder("n", journal)])
    async with trio.open_nursery() as nursery:
        runtime = Runtime([*three(journal), nested], metrics_registry=None)
        await nursery.start(runtime.run)
        assert len(runtime.registry) == 5
        runtime.stop()
    assert nursery.child_tasks == frozenset()
    assert_no_orphans(runtime)


async def test_dynamic_children_start_and_stop() -> None:
    journal: Journal = []
    tables = ChildSpec.supervisor("tables")
    async with running(tables) as runtime:
        sup = runtime.registry.supervisor("tables")
        ref = await sup.start_actor(recorder("table:1", journal))
        assert runtime.registry.get("table:1") is ref
        with pytest.raises(NameTaken):
            await sup.start_child(recorder("table:1", journal))
        await sup.stop_child("table:1")
        assert runtime.registry.lookup("table:1") is None
        assert events(journal, "stopping") == ["table:1"]


async def test_start_child_beyond_children_max_raises_supervisor_full() -> None:
    tables = ChildSpec.supervisor("tables", policy=SupervisionPolicy(children_max=2))
    async with running(tables) as runtime:
        sup = runtime.registry.supervisor("tables")
        await sup.start_child(recorder("table:1", []))
        await sup.start_child(recorder("table:2", []))
        with pytest.raises(SupervisorFull):
            await sup.start_child(recorder("table:3", []))


async def test_a_child_that_fails_to_start_raises_in_the_starter_and_leaves_no_slot() -> None:
    class FailsToStart(Exception):
        pass

    async def broken(*, task_status: trio.TaskStatus[None]) -> None:
        raise FailsToStart

    async with running() as runtime:
        with pytest.raises(FailsToStart):
            await runtime.root.start_child(ChildSpec.service("broken", broken))
        assert runtime.root.children() == []


async def test_a_failed_initial_start_stops_the_started_children_and_raises() -> None:
    journal: Journal = []

    async def refuses(*, task_status: trio.TaskStatus[None]) -> None:
        raise OSError("port in use")

    runtime = Runtime(
        [recorder("a", journal), ChildSpec.service("listener", refuses)], metrics_registry=None
    )
    with pytest.RaisesGroup(pytest.RaisesExc(OSError, match="port in use")):
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
    assert events(journal, "stopping") == ["a"]
    assert_no_orphans(runtime)


async def test_a_crash_midway_through_a_message_resumes_from_the_last_snapshot() -> None:
    async with running(recorder("hand:1", [])) as runtime:
        ref = runtime.registry.get("hand:1")
        ref.tell(Add(10))
        ref.tell(Add(5, crash_midway=True))  # adds 5, then raises
        assert await ref.ask(Total()) == 10  # the restarted actor never saw the half-done 5
        assert runtime.root.child("hand:1").restarts == 1


async def test_no_snapshot_is_taken_after_a_message_the_kind_says_leaves_it_unchanged() -> None:
    class Counting(Recorder):
        snapshot_unchanged_by = (Echo, Total)
        taken = 0

        def snapshot(self) -> object:
            Counting.taken += 1
            return super().snapshot()

    spec = ChildSpec.worker("counting", lambda: Counting("counting", []))
    async with running(spec) as runtime:
        ref = runtime.registry.get("counting")
        await ref.ask(Add(10))
        after_add = Counting.taken
        assert await ref.ask(Echo(1)) == 1
        assert await ref.ask(Total()) == 10
        assert Counting.taken == after_add  # no snapshot after Echo nor Total
        ref.tell(Add(5, crash_midway=True))
        assert await ref.ask(Total()) == 10  # resumed from the snapshot after Add(10)


async def test_a_service_child_is_started_in_order_restarted_and_cancelled_to_stop(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: Journal = []
    runs: list[str] = []

    async def listener(*, task_status: trio.TaskStatus[int]) -> None:
        runs.append("up")
        task_status.started(8080 + runs.count("up"))
        try:
            await trio.sleep(1.0)
            raise OSError("listener lost its socket")
        finally:
            runs.append("down")

    children = [ChildSpec.service("gateway", listener), recorder("after", journal)]
    async with running(*children) as runtime:
        assert runtime.root.child("gateway").started_value == 8081
        await trio.sleep(1.5)  # crashed once at t=1, restarted
        assert runtime.root.child("gateway").restarts == 1
        assert runtime.root.child("gateway").started_value == 8082
    assert runs == ["up", "down", "up", "down"]  # the second one was cancelled at shutdown


async def test_start_child_on_a_stopped_supervisor_raises_supervisor_stopped() -> None:
    runtime = Runtime(metrics_registry=None)
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        runtime.stop()
    with pytest.raises(SupervisorStopped):
        await runtime.root.start_child(recorder("late", []))


async def test_crashes_in_the_same_tick_under_one_for_all_cost_one_restart() -> None:
    journal: Journal = []
    policy = SupervisionPolicy(strategy=Strategy.ONE_FOR_ALL)
    async with running(*three(journal), policy=policy) as runtime:
        journal.clear()
        runtime.registry.get("a").tell(Crash())
        runtime.registry.get("c").tell(Crash())
        await wait_settled()
        # c's crash report belongs to an incarnation the group restart already replaced
        assert events(journal, "started") == ["a", "b", "c"]
        assert [c.restarts for c in runtime.root.children()] == [1, 1, 1]


class StartsOnce(Recorder):
    """Its restarts fail in started(): a restart that fails is one more crash."""

    async def started(self) -> None:
        if self.context.incarnation > 0:
            raise Boom("cannot come back")
        await super().started()


async def test_restarts_that_fail_to_start_count_towards_intensity() -> None:
    journal: Journal = []
    runtime = Runtime(
        [ChildSpec.worker("x", lambda: StartsOnce("x", journal))],
        policy=SupervisionPolicy(intensity=3),
        metrics_registry=None,
    )
    with pytest.RaisesGroup(SupervisorEscalation):
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
            runtime.registry.get("x").tell(Crash())
            await trio.sleep_forever()  # the escalation ends this
    assert events(journal, "started") == ["x"]
    assert_no_orphans(runtime)


async def test_an_ask_cut_off_by_a_kill_raises_actor_dead_in_the_asker(
    autojump_clock: trio.testing.MockClock,
) -> None:
    spec = recorder("stuck", [], shutdown_timeout_s=1.0)
    outcome: list[str] = []
    async with running(spec) as runtime:
        ref = runtime.registry.get("stuck")

        async def ask_forever() -> None:
            try:
                await ref.ask(Sleep(3600.0), timeout_s=7200.0)
            except ActorDead:
                outcome.append("dead")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(ask_forever)
            await trio.sleep(1.0)
            await runtime.root.stop_child("stuck")  # waits 1 s, then kills the handler
    assert outcome == ["dead"]


async def test_random_crashes_stops_and_starts_keep_the_tree_consistent() -> None:
    """A seeded chaos run; a failure prints the seed that replays it."""
    seed = int(os.environ.get("TABLIUM_TEST_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    journal: Journal = []
    sessions = ChildSpec.supervisor(
        "sessions", policy=SupervisionPolicy(intensity=1_000, period_s=1.0)
    )
    policy = SupervisionPolicy(strategy=Strategy.REST_FOR_ONE, intensity=1_000)
    try:
        async with running(*three(journal), sessions, policy=policy) as runtime:
            for step in range(300):
                # a crash of a, b or c restarts "sessions" too (rest_for_one): a fresh,
                # empty supervisor behind the same name
                sup = runtime.registry.supervisor("sessions")
                names = [c.name for c in sup.children()]
                action = rng.choice(["start", "stop", "crash", "finish", "ask", "crash_root"])
                if action == "start" and len(names) < 20:
                    restart = rng.choice(list(Restart))
                    await sup.start_child(recorder(f"session:{step}", journal, restart=restart))
                elif action == "stop" and names:
                    await sup.stop_child(rng.choice(names))
                elif action in ("crash", "finish") and names:
                    message = Crash() if action == "crash" else Finish()
                    runtime.registry.get(rng.choice(names)).tell(message)
                elif action == "ask" and names:
                    ref = runtime.registry.get(rng.choice(names))
                    with contextlib.suppress(ActorDead, ActorCrashed):
                        assert await ref.ask(Echo(step)) == step
                elif action == "crash_root":
                    runtime.registry.get(rng.choice("abc")).tell(Crash())
                await wait_settled()
                sup = runtime.registry.supervisor("sessions")
                for child in sup.children():  # every slot listed is alive and registered
                    assert child.ref is not None and child.ref.alive
                    assert runtime.registry.lookup(child.name) is child.ref
                assert set(runtime.registry.names("session:")) == {c.name for c in sup.children()}
    except BaseException:
        print(f"chaos seed {seed}: TABLIUM_TEST_SEED={seed} replays this run")
        raise


async def test_a_nested_subtree_cannot_outlive_the_roots_shutdown_bound(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: Journal = []
    slow = [recorder(name, journal, stopping_s=60.0, shutdown_timeout_s=5.0) for name in ("x", "y")]
    nested = ChildSpec.supervisor("nested", slow, policy=SupervisionPolicy(shutdown_timeout_s=30.0))
    runtime = Runtime(
        [nested], policy=SupervisionPolicy(shutdown_timeout_s=3.0), metrics_registry=None
    )
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
            started = trio.current_time()
            scope.cancel()
    assert trio.current_time() - started == pytest.approx(3.0)
    assert events(journal, "stopping") == ["y"]  # x never got its turn
    assert_no_orphans(runtime)


async def test_a_stop_child_whose_caller_is_cancelled_still_removes_the_child(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: Journal = []
    async with running(recorder("slow", journal, stopping_s=0.5)) as runtime:
        ref = runtime.registry.get("slow")
        with trio.move_on_after(0.1):
            await runtime.root.stop_child("slow")
        assert runtime.root.children() == []
        assert runtime.registry.lookup("slow") is None
        assert not ref.alive
        assert events(journal, "stopped") == ["slow"]


async def test_stop_together_stops_many_children_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: Journal = []
    sessions = ChildSpec.supervisor(
        "sessions", policy=SupervisionPolicy(stop_together=True, shutdown_timeout_s=3.0)
    )
    async with running(sessions) as runtime:
        sup = runtime.registry.supervisor("sessions")
        for n in range(100):
            await sup.start_child(
                recorder(f"session:{n}", journal, restart=Restart.TEMPORARY, stopping_s=0.5)
            )
        started = trio.current_time()
    assert trio.current_time() - started == pytest.approx(0.5)  # not 100 x 0.5 s
    assert len(events(journal, "stopped")) == 100


async def test_a_runtime_runs_once() -> None:
    runtime = Runtime(metrics_registry=None)
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        runtime.stop()
    with pytest.raises(RuntimeError, match="already ran"):
        await runtime.run()


async def test_an_escalation_chain_reaches_the_root_with_every_cause_attached() -> None:
    def level(name: str, children: list[ChildSpec]) -> ChildSpec:
        return ChildSpec.supervisor(name, children, policy=SupervisionPolicy(intensity=0))

    tree = level("middle", [level("inner", [recorder("w", [])])])
    runtime = Runtime([tree], policy=SupervisionPolicy(intensity=0), metrics_registry=None)
    with pytest.RaisesGroup(SupervisorEscalation) as caught:
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
            runtime.registry.get("w").tell(Crash())
            await trio.sleep_forever()
    root_failure = caught.value.exceptions[0]
    chain = []
    cause: BaseException | None = root_failure
    while cause is not None:
        chain.append((type(cause).__name__, getattr(cause, "supervisor", None)))
        cause = cause.__cause__
    assert chain == [
        ("SupervisorEscalation", "root"),
        ("SupervisorEscalation", "middle"),
        ("SupervisorEscalation", "inner"),
        ("Boom", None),
    ]
    assert_no_orphans(runtime)
