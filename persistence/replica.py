"""Reads that may lag, sent to a PostgreSQL streaming replica (docs/storage.md "Read replicas").

Only a unit the caller marks as tolerant of lag (``Store.run_may_lag``: hand histories,
statistics, leaderboards, statements) comes here; anything that decides money or seats reads
the primary. A replica that fails or is slow costs latency, never an answer: the unit is run
again on the primary, and the replica rests for a backoff before it is tried again.

``ReplicaHealth`` is the pure part (a clock is injected); ``ReplicaRoute`` owns the pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final, Literal, TypeVar, final

import asyncpg
from prometheus_client import Counter, Gauge

T = TypeVar("T")
REPLICA_TIMEOUT_S: Final = 1.0  # bound: a replica unit (connect included) taking longer is
#                                 abandoned and run on the primary instead
REPLICA_BACKOFF_S: Final = 5.0  # after a failure the replica rests this long (primary serves)
# What a replica can fail with; anything else (a unit's own error) propagates, as it would
# from the primary.
REPLICA_FAILURES: Final = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)

FallbackReason = Literal["error", "timeout", "resting"]

REPLICA_FALLBACKS: Final = Counter(
    "tablium_db_replica_fallbacks",
    "Reads that may lag served by the primary instead of the replica, by reason "
    "(error, timeout, resting: within the backoff after a failure).",
    ["reason"],
)
REPLICA_UP: Final = Gauge(
    "tablium_db_replica_up",
    "1 while the read replica takes reads that may lag, 0 while it rests after a failure.",
)


@final
class ReplicaHealth:
    """Up, or resting until a time after a failure; the first read after the rest retries it.

    Invariant: ``_down_until`` is None exactly while the replica counts as up.
    """

    def __init__(self, now_s: Callable[[], float], backoff_s: float = REPLICA_BACKOFF_S) -> None:
        self._now_s = now_s
        self._backoff_s = backoff_s
        self._down_until: float | None = None
        self.served = 0  # reads the replica answered
        self.fallbacks = 0  # reads it was meant for that the primary answered
        REPLICA_UP.set(1)

    @property
    def up(self) -> bool:
        return self._down_until is None

    def usable(self) -> bool:
        """May the next read try the replica? (Yes once the backoff has run out.)"""
        return self._down_until is None or self._now_s() >= self._down_until

    def resting(self) -> None:
        """A read skipped the replica during its backoff."""
        self.fallbacks += 1
        REPLICA_FALLBACKS.labels("resting").inc()

    def failed(self, reason: FallbackReason) -> None:
        self._down_until = self._now_s() + self._backoff_s
        self.fallbacks += 1
        REPLICA_FALLBACKS.labels(reason).inc()
        REPLICA_UP.set(0)

    def succeeded(self) -> None:
        self.served += 1
        if self._down_until is not None:
            self._down_until = None
            REPLICA_UP.set(1)


def failure_reason(exc: BaseException) -> FallbackReason:
    return "timeout" if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) else "error"
