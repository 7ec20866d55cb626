"""Percentiles from the merged histograms match the exact ones within the bucket width."""

from __future__ import annotations

import math
import random

import msgspec

from loadtest.stats import BUCKET_GROWTH, Histogram, Interval, Recorder, Totals, merge_intervals


def exact_percentile(samples: list[int], fraction: float) -> int:
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def test_percentiles_are_within_one_bucket_of_the_exact_values() -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    samples = [int(rng.lognormvariate(8, 1.5)) for _ in range(20_000)]
    histogram = Histogram()
    for value in samples:
        histogram.record_us(value)
    for fraction in (0.5, 0.95, 0.99, 1.0):
        exact = exact_percentile(samples, fraction)
        got = histogram.percentile_us(fraction)
        assert exact <= got <= max(exact + 1, math.ceil(exact * BUCKET_GROWTH) + 1), (
            f"seed {seed}: p{fraction}: {got} vs {exact}"
        )
    assert histogram.max_us == max(samples)
    assert histogram.total == len(samples)


def test_merged_histograms_equal_one_histogram_of_all_samples() -> None:
    rng = random.Random(3)
    parts = [[rng.randrange(1, 10**6) for _ in range(1000)] for _ in range(4)]
    whole, merged = Histogram(), Histogram()
    for part in parts:
        piece = Histogram()
        for value in part:
            piece.record_us(value)
            whole.record_us(value)
        # As a worker sends it: through JSON.
        merged.merge(msgspec.json.decode(msgspec.json.encode(piece), type=Histogram))
    assert merged == whole
    assert merged.percentile_us(0.99) == whole.percentile_us(0.99)


def test_an_empty_histogram_reports_zeros() -> None:
    assert Histogram().summary_ms() == {
        "count": 0, "p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "mean_ms": 0.0
    }  # fmt: skip


def test_intervals_from_several_processes_add_up() -> None:
    first, second = Recorder(), Recorder()
    first.bots_connected, second.bots_connected = 3, 4
    first.current.actions, second.current.actions = 10, 5
    first.error("not_your_turn")
    second.error("not_your_turn")
    second.error("connection_lost")
    merged = merge_intervals([first.take(), second.take()])
    assert merged.bots_connected == 7
    assert merged.actions == 15
    assert merged.errors == {"not_your_turn": 2, "connection_lost": 1}
    totals = Totals()
    totals.add(merged)
    totals.add(Interval(actions=1))
    assert totals.actions == 16


def test_taking_an_interval_starts_the_next_one_empty_but_keeps_the_gauges() -> None:
    recorder = Recorder()
    recorder.bots_seated = 2
    recorder.current.hands = 4
    assert recorder.take().hands == 4
    following = recorder.take(final=True)
    assert following.hands == 0 and following.bots_seated == 2 and following.final
