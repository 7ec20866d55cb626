"""Lobby analytics samples (migration 0017, services/lobby_analytics.py): units of work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from persistence.work import Query, QueryMany, Work

if TYPE_CHECKING:
    from services.lobby_analytics import GameSample

PRUNED_PER_SAMPLE: Final = 5_000  # bound: old rows deleted per sample
BUCKETS_MAX: Final = 10_000  # bound: rows one query returns


def save_samples(now_ms: int, samples: Sequence[GameSample], keep_from_ms: int) -> Work[None]:
    if samples:
        yield QueryMany(
            "INSERT INTO lobby_samples (at_ms, asset, variant, stakes, tables, seats, seated,"
            " waiting, hands_per_hour, opened, closed, seat_waits, seat_wait_ms_sum)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            " ON CONFLICT (at_ms, asset, variant, stakes) DO NOTHING",
            [
                (
                    now_ms,
                    s.game.asset,
                    s.game.variant,
                    s.game.stakes,
                    s.tables,
                    s.seats,
                    s.seated,
                    s.waiting,
                    s.hands_per_hour,
                    s.opened,
                    s.closed,
                    s.seat_waits,
                    s.seat_wait_ms_sum,
                )
                for s in samples
            ],
        )
    yield Query(
        "DELETE FROM lobby_samples WHERE at_ms IN (SELECT DISTINCT at_ms FROM lobby_samples"
        " WHERE at_ms < $1 ORDER BY at_ms LIMIT $2)",
        (keep_from_ms, PRUNED_PER_SAMPLE),
    )


@dataclass(frozen=True, slots=True)
class Bucket:
    """One game's samples in one time bucket, as sums (the service turns them into means)."""

    start_ms: int
    asset: str
    variant: str
    stakes: str
    samples: int
    tables: int
    seats: int
    seated: int
    waiting: int
    waiting_max: int
    hands_per_hour: int
    opened: int
    closed: int
    seat_waits: int
    seat_wait_ms_sum: int


def buckets(from_ms: int, to_ms: int, bucket_ms: int, asset: str | None) -> Work[list[Bucket]]:
    """Samples in [from_ms, to_ms) summed per (bucket, game), oldest first."""
    rows = yield Query(
        "SELECT (at_ms / $3) * $3, asset, variant, stakes, COUNT(*), SUM(tables), SUM(seats),"
        " SUM(seated), SUM(waiting), MAX(waiting), SUM(hands_per_hour), SUM(opened),"
        " SUM(closed), SUM(seat_waits), SUM(seat_wait_ms_sum) FROM lobby_samples"
        " WHERE at_ms >= $1 AND at_ms < $2 AND ($4 = '' OR asset = $4)"
        " GROUP BY (at_ms / $3) * $3, asset, variant, stakes"
        " ORDER BY 1, asset, variant, stakes LIMIT $5",
        (from_ms, to_ms, bucket_ms, asset or "", BUCKETS_MAX),
    )
    return [Bucket(int(r[0]), r[1], r[2], r[3], *(int(v) for v in r[4:])) for r in rows]
