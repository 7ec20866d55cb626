"""Reads that may lag, sent to a PostgreSQL streaming replica (docs/storage.md "Read replicas").

Only a unit the caller marks as tolerant of lag (``Store.run_may_lag``: hand histories,
statistics, leaderboards, statements) comes here; anything that decides money or seats reads
the primary. A replica that fails or is slow costs latency, never an answer: the unit is run
again on the primary, and the replica rests for a backoff before it is tried again.

A connected replica may also fall behind: ``ReplicaLag`` bounds how far, and past
``max_lag_s`` the reads go to the primary until the replica has caught up again.

``ReplicaHealth`` and ``ReplicaLag`` are the pure parts (a clock is injected); the store
(persistence/postgres.py) owns the pools and runs the probes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Final, Literal, TypeVar, final

import asyncpg
from prometheus_client import Counter, Gauge

T = TypeVar("T")
REPLICA_TIMEOUT_S: Final = 1.0  # bound: a replica unit (connect included) taking longer is
#                                 abandoned and run on the primary instead
REPLICA_BACKOFF_S: Final = 5.0  # after a failure the replica rests this long (primary serves)
REPLICA_MAX_LAG_MS_DEFAULT: Final = 5_000  # TABLIUM_DATABASE_REPLICA_MAX_LAG_MS
REPLICA_MAX_LAG_MS_MIN: Final = 100  # below this the probe's own round trips dominate
LAG_PROBE_EVERY_S: Final = 1.0  # at most one lag probe (two one-row reads) a second
LAG_NOTES_MAX: Final = 64  # primary positions awaiting replay; overflow: the oldest is dropped
# What a replica can fail with; anything else (a unit's own error) propagates, as it would
# from the primary.
REPLICA_FAILURES: Final = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)

FallbackReason = Literal["error", "timeout", "resting", "lagging"]

REPLICA_FALLBACKS: Final = Counter(
    "tablium_db_replica_fallbacks",
    "Reads that may lag served by the primary instead of the replica, by reason "
    "(error, timeout, resting: within the backoff after a failure, lagging: further behind "
    "the primary than TABLIUM_DATABASE_REPLICA_MAX_LAG_MS allows, or not known to be within).",
    ["reason"],
)
REPLICA_BEHIND: Final = Gauge(
    "tablium_db_replica_behind_seconds",
    "Upper bound on how far the read replica is behind the primary, as of its last lag probe "
    "(NaN until the replica is first seen to replay a noted primary position).",
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
        self.skipped("resting")

    def skipped(self, reason: Literal["resting", "lagging"]) -> None:
        """A read went to the primary without trying the replica."""
        self.fallbacks += 1
        REPLICA_FALLBACKS.labels(reason).inc()

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


def parse_lsn(text: str) -> int:
    """A PostgreSQL WAL position (``pg_lsn`` as text, ``'16/B374D848'``) as one integer."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


@final
class ReplicaLag:
    """An upper bound on how far the replica is behind, with no clock shared between hosts.

    Each probe notes the primary's current WAL position with this process's time, then reads
    the position the replica has replayed. Once the replica has replayed past a noted
    position, it was at most ``now - (the time of that note)`` behind. Until one note is
    passed the lag is unknown, and unknown counts as too far: a replica hours behind at
    start-up never answers. In steady state the bound is about the time since the last probe
    (plus the replica's real delay).

    Invariant: every kept note is one the replica had not replayed at the last probe.
    """

    def __init__(
        self, now_s: Callable[[], float], max_lag_s: float, probe_every_s: float = LAG_PROBE_EVERY_S
    ) -> None:
        self._now_s = now_s
        self.max_lag_s = max_lag_s
        self._probe_every_s = probe_every_s
        self._notes: deque[tuple[int, float]] = deque(maxlen=LAG_NOTES_MAX)
        self._caught_up_at: float | None = None
        self._probed_at: float | None = None
        REPLICA_BEHIND.set(float("nan"))

    def probe_due(self) -> bool:
        """Once a probe interval; at every read while the lag is unknown, since on a busy
        primary the note a probe takes is often a few writes ahead of the replica's replay
        when the probe reads it, and only the next probe sees it passed."""
        return (
            self._caught_up_at is None
            or self._probed_at is None
            or self._now_s() - self._probed_at >= self._probe_every_s
        )

    def noted(self, primary_lsn: int) -> None:
        """The primary's position now (read first, before the replica's)."""
        now = self._now_s()
        self._probed_at = now
        self._notes.append((primary_lsn, now))

    def replayed(self, replica_lsn: int | None) -> None:
        """The replica's replayed position (None: it replays nothing, it is a primary)."""
        while self._notes and (replica_lsn is None or self._notes[0][0] <= replica_lsn):
            _, at = self._notes.popleft()
            self._caught_up_at = at if self._caught_up_at is None else max(self._caught_up_at, at)
        behind = self.behind_s()
        REPLICA_BEHIND.set(float("nan") if behind is None else behind)

    def behind_s(self) -> float | None:
        """At most this far behind (None: not known yet)."""
        if self._caught_up_at is None:
            return None
        return max(0.0, self._now_s() - self._caught_up_at)

    def too_far(self) -> bool:
        behind = self.behind_s()
        return behind is None or behind > self.max_lag_s
