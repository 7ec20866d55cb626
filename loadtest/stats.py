"""What the swarm measures, in a form that adds up across bots and processes.

Latencies go into log-bucketed histograms (about 2% relative resolution, bounded size) rather
than sample lists: a 10,000-bot run makes millions of samples, and worker processes must send
their figures to the parent in a few hundred bytes a second. Percentiles are read from the
merged histogram, so p99 over K processes is the p99 of all samples, not an average of p99s.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Final, final

import msgspec

BUCKET_GROWTH: Final = 1.02  # each bucket 2% wider than the last: the percentiles' resolution
LATENCY_US_MAX: Final = 600_000_000  # 10 minutes; slower samples land in the last bucket
_LOG_GROWTH: Final = math.log(BUCKET_GROWTH)
BUCKETS_MAX: Final = int(math.log(LATENCY_US_MAX) / _LOG_GROWTH) + 2
ERROR_CODES_MAX: Final = 256  # distinct error codes kept; overflow policy: counted as "other"


def _bucket(value_us: int) -> int:
    if value_us <= 1:
        return 0
    return min(BUCKETS_MAX - 1, int(math.log(value_us) / _LOG_GROWTH) + 1)


def _bucket_upper_us(index: int) -> int:
    return 1 if index == 0 else math.ceil(BUCKET_GROWTH**index)


@final
class Histogram(msgspec.Struct):
    """Counts per log bucket (sparse), plus the exact max and sum."""

    counts: dict[int, int] = msgspec.field(default_factory=dict)
    total: int = 0
    max_us: int = 0
    sum_us: int = 0

    def record_us(self, value_us: int) -> None:
        value_us = max(0, value_us)
        index = _bucket(value_us)
        self.counts[index] = self.counts.get(index, 0) + 1
        self.total += 1
        self.max_us = max(self.max_us, value_us)
        self.sum_us += value_us

    def merge(self, other: Histogram) -> None:
        for index, count in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + count
        self.total += other.total
        self.max_us = max(self.max_us, other.max_us)
        self.sum_us += other.sum_us

    def percentile_us(self, fraction: float) -> int:
        """The smallest bucket bound that at least ``fraction`` of the samples fit under
        (capped by the exact max, so p100 is the true max); 0 with no samples."""
        if self.total == 0:
            return 0
        rank = max(1, math.ceil(fraction * self.total))
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                return min(self.max_us, _bucket_upper_us(index))
        return self.max_us

    def summary_ms(self) -> dict[str, float | int]:
        return {
            "count": self.total,
            "p50_ms": self.percentile_us(0.50) / 1000,
            "p95_ms": self.percentile_us(0.95) / 1000,
            "p99_ms": self.percentile_us(0.99) / 1000,
            "max_ms": self.max_us / 1000,
            "mean_ms": round(self.sum_us / self.total / 1000, 3) if self.total else 0.0,
        }


TABLES_TALLIED_MAX: Final = 10_000  # tables counted for hand-for-hand; beyond: not counted


@final
class TournamentTally(msgspec.Struct):
    """What the bots of the tournament scenario saw, as deltas that add up across processes.
    Each hand is counted once, by the bot in the first seat of its ``hand_ended``."""

    registered: int = 0  # entries accepted, re-entries included
    reentries: int = 0
    rebuys: int = 0
    moves: dict[str, int] = msgspec.field(default_factory=dict)  # tournament_moved by reason
    eliminated: int = 0
    paid: int = 0  # chips the bots were paid: prizes, bounties and deals (refunds apart)
    refunds: int = 0
    # Hands each table played while hand-for-hand was on: the rounds are the largest count
    # (every table deals one hand a round; a table that cannot deal sits the round out).
    hand_for_hand_hands: dict[str, int] = msgspec.field(default_factory=dict)
    winner: str | None = None  # the bot that finished first

    def add(self, other: TournamentTally) -> None:
        self.registered += other.registered
        self.reentries += other.reentries
        self.rebuys += other.rebuys
        for reason, count in other.moves.items():
            self.moves[reason] = self.moves.get(reason, 0) + count
        self.eliminated += other.eliminated
        self.paid += other.paid
        self.refunds += other.refunds
        for table_id, count in other.hand_for_hand_hands.items():
            if (
                table_id in self.hand_for_hand_hands
                or len(self.hand_for_hand_hands) < TABLES_TALLIED_MAX
            ):
                self.hand_for_hand_hands[table_id] = (
                    self.hand_for_hand_hands.get(table_id, 0) + count
                )
        self.winner = self.winner or other.winner


@final
class Interval(msgspec.Struct):
    """What happened during one reporting interval in one process (deltas, except bot gauges)."""

    bots_connected: int = 0  # gauge: logged in and not finished, now
    bots_seated: int = 0  # gauge
    actions: int = 0
    hands: int = 0  # hands ended, each counted once (by the first seat in the hand's list)
    act_rtt: Histogram = msgspec.field(default_factory=Histogram)
    connect: Histogram = msgspec.field(default_factory=Histogram)  # open + hello
    login: Histogram = msgspec.field(default_factory=Histogram)  # register or login
    errors: dict[str, int] = msgspec.field(default_factory=dict)
    drops: int = 0  # connections the flaky strategy cut on purpose
    reconnects: int = 0  # successful resumes by the SDK
    lost: int = 0  # bots whose connection ended for good before the run did
    bots_finished: int = 0
    tournament: TournamentTally = msgspec.field(default_factory=TournamentTally)
    final: bool = False  # the worker's last line


@final
class Recorder:
    """One process's live counters; ``take()`` returns the interval so far and starts anew."""

    def __init__(self) -> None:
        self._current = Interval()
        self.bots_connected = 0
        self.bots_seated = 0

    @property
    def current(self) -> Interval:
        return self._current

    def error(self, code: str) -> None:
        errors = self._current.errors
        if code not in errors and len(errors) >= ERROR_CODES_MAX:
            code = "other"
        errors[code] = errors.get(code, 0) + 1

    def take(self, *, final: bool = False) -> Interval:
        interval, self._current = self._current, Interval()
        interval.bots_connected = self.bots_connected
        interval.bots_seated = self.bots_seated
        interval.final = final
        return interval


@final
@dataclass(slots=True)
class Point:
    """One second of the merged timeline (the chart and the live progress line)."""

    t_s: float
    bots_connected: int
    actions_per_s: float
    hands_per_s: float
    act_p50_ms: float | None  # None: no action completed in this second
    act_p99_ms: float | None
    errors: int


@final
@dataclass(slots=True)
class Totals:
    """Every interval from every process, merged."""

    act_rtt: Histogram = field(default_factory=Histogram)
    connect: Histogram = field(default_factory=Histogram)
    login: Histogram = field(default_factory=Histogram)
    actions: int = 0
    hands: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    drops: int = 0
    reconnects: int = 0
    lost: int = 0
    bots_finished: int = 0
    bots_connected_max: int = 0
    bots_seated_max: int = 0
    tournament: TournamentTally = field(default_factory=TournamentTally)

    def add(self, interval: Interval) -> None:
        self.tournament.add(interval.tournament)
        self.act_rtt.merge(interval.act_rtt)
        self.connect.merge(interval.connect)
        self.login.merge(interval.login)
        self.actions += interval.actions
        self.hands += interval.hands
        self.errors.update(interval.errors)
        self.drops += interval.drops
        self.reconnects += interval.reconnects
        self.lost += interval.lost
        self.bots_finished += interval.bots_finished


def merge_intervals(intervals: list[Interval]) -> Interval:
    """Several processes' intervals for the same second as one (gauges add up too)."""
    merged = Interval()
    for interval in intervals:
        merged.bots_connected += interval.bots_connected
        merged.bots_seated += interval.bots_seated
        merged.actions += interval.actions
        merged.hands += interval.hands
        merged.act_rtt.merge(interval.act_rtt)
        merged.connect.merge(interval.connect)
        merged.login.merge(interval.login)
        for code, count in interval.errors.items():
            merged.errors[code] = merged.errors.get(code, 0) + count
        merged.drops += interval.drops
        merged.reconnects += interval.reconnects
        merged.lost += interval.lost
        merged.bots_finished += interval.bots_finished
        merged.tournament.add(interval.tournament)
    return merged


def point(t_s: float, interval: Interval, seconds: float) -> Point:
    per_s = 1 / seconds if seconds > 0 else 0.0
    return Point(
        t_s=round(t_s, 3),
        bots_connected=interval.bots_connected,
        actions_per_s=round(interval.actions * per_s, 2),
        hands_per_s=round(interval.hands * per_s, 2),
        act_p50_ms=interval.act_rtt.percentile_us(0.5) / 1000 if interval.act_rtt.total else None,
        act_p99_ms=interval.act_rtt.percentile_us(0.99) / 1000 if interval.act_rtt.total else None,
        errors=sum(interval.errors.values()),
    )
