"""The serve command's garbage-collection set-up: collections are timed, start-up is frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

from server.commands.serve import (
    FREEZE_EVERY_MIDDLE,
    GC_PAUSE_LOG_MS,
    GC_THRESHOLDS,
    OLD_THRESHOLD_NEVER,
    GcPauseTimer,
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
