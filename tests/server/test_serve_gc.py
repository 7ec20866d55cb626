"""The serve command's garbage-collection set-up: collections are timed, start-up is frozen."""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterator

import pytest
import trio
import trio.testing
from prometheus_client import REGISTRY, generate_latest

from server.commands.serve import (
    FREEZE_EVERY_MIDDLE,
    GC_MIDDLE_EVERY,
    GC_PAUSE_LOG_MS,
    GC_THRESHOLDS,
    OLD_THRESHOLD_NEVER,
    GcPauseTimer,
    install_gc_timer,
    pace_collections,
    tune_gc,
)


def ticks(*values_s: float) -> Iterator[float]:
    yield from values_s


def test_each_collection_is_observed_and_a_long_one_is_logged_with_its_cpu_time() -> None:
    observed: list[tuple[int, float]] = []
    warned: list[tuple[int, float, float, int]] = []
    wall = ticks(10.0, 10.002, 20.0, 20.0 + 2 * GC_PAUSE_LOG_MS / 1000)
    cpu = ticks(1.0, 2.0, 2.03)  # read at each start, and at the end of a long one
    timer = GcPauseTimer(
        lambda generation, s: observed.append((generation, s)),
        lambda *warning: warned.append(warning),
        clock=lambda: next(wall),
        cpu_clock=lambda: next(cpu),
    )
    timer("start", {"generation": 0})
    timer("stop", {"generation": 0, "collected": 5})
    timer("start", {"generation": 2})
    timer("stop", {"generation": 2, "collected": 900})
    assert [generation for generation, _ in observed] == [0, 2]
    assert round(observed[0][1], 6) == 0.002
    assert len(warned) == 1  # only the pause over GC_PAUSE_LOG_MS
    generation, ms, cpu_ms, collected = warned[0]
    assert (generation, round(ms), round(cpu_ms), collected) == (2, 2 * GC_PAUSE_LOG_MS, 30, 900)


def test_a_real_collection_reaches_the_timer() -> None:
    observed: list[int] = []
    timer = GcPauseTimer(lambda generation, _s: observed.append(generation), lambda *_: None)
    gc.callbacks.append(timer)
    try:
        gc.collect(2)
    finally:
        gc.callbacks.remove(timer)
    assert 2 in observed


def test_tuning_freezes_start_up_and_never_collects_the_old_generation() -> None:
    before = gc.get_threshold()
    freezer = tune_gc()
    try:
        young, middle, old = gc.get_threshold()
        assert (young, middle) == GC_THRESHOLDS[:2]
        assert old == OLD_THRESHOLD_NEVER
        assert gc.get_freeze_count() > 0  # start-up's objects sit out every collection
    finally:
        gc.callbacks.remove(freezer)
        gc.unfreeze()
        gc.set_threshold(*before)


def test_the_survivors_of_every_tenth_middle_collection_are_frozen() -> None:
    before = gc.get_threshold()
    freezer = tune_gc()
    try:
        gc.unfreeze()
        survivors: list[list[int]] = [[] for _ in range(100)]  # outlive the collections
        for _ in range(FREEZE_EVERY_MIDDLE - 1):
            gc.collect(1)
        assert freezer.freezes == 0 and gc.get_freeze_count() == 0
        gc.collect(1)
        assert freezer.freezes == 1
        assert gc.get_freeze_count() >= len(survivors)
        assert not gc.get_objects(2)  # nothing left for a full collection to walk
    finally:
        gc.callbacks.remove(freezer)
        gc.unfreeze()
        gc.set_threshold(*before)


async def test_collections_are_paced_young_then_middle_every_tenth(
    autojump_clock: trio.testing.MockClock,
) -> None:
    collected: list[tuple[float, int]] = []

    def collect(generation: int) -> None:
        collected.append((trio.current_time(), generation))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(pace_collections, 0.01, GC_MIDDLE_EVERY, collect)
        await trio.sleep(0.205)
        nursery.cancel_scope.cancel()
    assert [generation for _, generation in collected] == ([0] * 9 + [1]) * 2
    assert [round(at, 2) for at, _ in collected] == [round(0.01 * n, 2) for n in range(1, 21)]


WINDOW = 30_000  # objects alive at once, each dying some 30,000 allocations after its birth
ROUNDS, PER_ROUND = 200, 500  # 100,000 allocations, 500 per millisecond of the mock clock


async def _churn(young_at_collection: list[int], paced: bool) -> None:
    """Objects that live long enough to be promoted, and die old: like each connection's
    waiting coroutines, re-made per message. Records the young generation's size at each
    young collection, Python's own or the pacer's."""

    def measure(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 0:
            young_at_collection.append(len(gc.get_objects(0)))

    window: deque[list[int]] = deque()
    before = gc.get_threshold()
    gc.set_threshold(700, 10, OLD_THRESHOLD_NEVER)
    gc.callbacks.append(measure)
    try:
        async with trio.open_nursery() as nursery:
            if paced:
                nursery.start_soon(pace_collections, 0.01)
            for n in range(ROUNDS * PER_ROUND):
                window.append([n])
                if len(window) > WINDOW:
                    window.popleft()
                if n % PER_ROUND == 0:
                    await trio.sleep(0.001)
            nursery.cancel_scope.cancel()
    finally:
        gc.callbacks.remove(measure)
        gc.set_threshold(*before)


async def test_paced_young_collections_stay_small_when_objects_die_old(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Python counts allocations minus deallocations: here each birth is paid for by an old
    object's death, so its own young collections almost stop and the young generation grows
    towards the whole window; paced every 10 ms (5,000 allocations) it stays near that."""
    gc.collect()
    unpaced: list[int] = []
    await _churn(unpaced, paced=False)
    gc.collect()
    paced: list[int] = []
    await _churn(paced, paced=True)
    assert max(unpaced) > WINDOW / 2, unpaced
    assert len(paced) >= ROUNDS // 10
    assert max(paced) < 2 * 10 * PER_ROUND, paced  # 10 ms of allocations, with slack


def test_metrics_do_not_walk_the_frozen_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """gc.get_freeze_count() walks every frozen object with the event loop held (about 50 ms
    at 370,000 frozen objects, on every scrape): no metric calls it."""

    def walk() -> int:
        raise AssertionError("a scrape walked the frozen set")

    monkeypatch.setattr(gc, "get_freeze_count", walk)
    timer = install_gc_timer()
    try:
        generate_latest(REGISTRY)
    finally:
        gc.callbacks.remove(timer)
        REGISTRY.unregister(REGISTRY._names_to_collectors["tablium_gc_pause_seconds"])
