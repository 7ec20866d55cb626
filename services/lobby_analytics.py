"""Lobby analytics for operators: occupancy by game and stakes over time, wait-list lengths
and the time players wait for a seat, table churn, hands per hour (docs/operations.md,
"Lobby analytics").

The sampler asks the lobby for every listing each ``interval_s`` (default a minute), sums the
listings by game (asset, variant, stakes) and

- sets the ``tablium_lobby_*`` gauges and churn counters (Prometheus: the live view and the
  Grafana "Lobby" dashboard);
- stores one row per game and sample (``lobby_samples``, migration 0017): the history the
  admin route ``GET /analytics/lobby`` aggregates by hour or day. Rows older than the
  retention are deleted, at most PRUNED_PER_SAMPLE per sample.

Seat waits are observed where they end, by the table (``observe_seat_wait``: from joining the
wait list to being seated from it) into a histogram; each sample stores the count and sum of
the waits that ended since the previous sample, so the history has the average wait without
the table knowing about storage.

A sample the lobby does not answer in time is skipped (counted in
``tablium_lobby_samples_total{result="skipped"}``); a failed write is counted too and never
stops the sampler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Final, final

import structlog
import trio
from prometheus_client import Counter, Gauge, Histogram

from persistence import lobby_analytics as db
from persistence.store import Store
from protocol.game import TableListing

SAMPLE_INTERVAL_S: Final = 60.0
ASK_TIMEOUT_S: Final = 5.0
RETENTION_DAYS: Final = 90
DAY_MS: Final = 86_400_000
GAMES_PER_SAMPLE_MAX: Final = 1_000  # bound: games beyond it in one sample are not stored

log = structlog.get_logger("tablium.lobby_analytics")

GAME_LABELS: Final = ("asset", "variant", "stakes")
TABLES: Final = Gauge("tablium_lobby_tables", "Tables listed, by game.", GAME_LABELS)
SEATS: Final = Gauge("tablium_lobby_seats", "Seats at the listed tables, by game.", GAME_LABELS)
SEATED: Final = Gauge("tablium_lobby_seated", "Players seated, by game.", GAME_LABELS)
WAITING: Final = Gauge("tablium_lobby_waiting", "Players on wait lists, by game.", GAME_LABELS)
HANDS_PER_HOUR: Final = Gauge(
    "tablium_lobby_hands_per_hour",
    "Hands per hour summed over the game's tables (each table's last hour).",
    GAME_LABELS,
)
TABLES_OPENED: Final = Counter(
    "tablium_lobby_tables_opened", "Tables that appeared in the lobby, by game.", GAME_LABELS
)
TABLES_CLOSED: Final = Counter(
    "tablium_lobby_tables_closed", "Tables that left the lobby, by game.", GAME_LABELS
)
SEAT_WAIT_SECONDS: Final = Histogram(
    "tablium_seat_wait_seconds",
    "From joining a table's wait list to being seated from it, by game.",
    GAME_LABELS,
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)
SAMPLES: Final = Counter("tablium_lobby_samples", "Lobby analytics samples, by result.", ["result"])
SAMPLE_RESULTS: Final = ("stored", "skipped", "failed")


@dataclass(frozen=True, slots=True, order=True)
class Game:
    """What a lobby groups tables by: asset, variant and stakes ("1/2")."""

    asset: str
    variant: str
    stakes: str

    @staticmethod
    def of(listing: TableListing) -> Game:
        return Game(listing.asset, listing.variant, f"{listing.small_blind}/{listing.big_blind}")


@dataclass(frozen=True, slots=True)
class GameSample:
    game: Game
    tables: int
    seats: int
    seated: int
    waiting: int
    hands_per_hour: int
    opened: int  # tables of this game that appeared since the previous sample
    closed: int  # ... and that left
    seat_waits: int  # seat waits that ended since the previous sample
    seat_wait_ms_sum: int


def observe_seat_wait(listing_game: Game, waited_ms: int) -> None:
    """A player joined from the wait list after ``waited_ms`` (called by the table)."""
    SEAT_WAIT_SECONDS.labels(*_labels(listing_game)).observe(max(0, waited_ms) / 1000)


def _labels(game: Game) -> tuple[str, str, str]:
    return game.asset, game.variant, game.stakes


def summarize(
    listings: Iterable[TableListing],
    previous: Mapping[str, Game],
    waits: Mapping[Game, tuple[int, int]],
) -> tuple[list[GameSample], dict[str, Game]]:
    """One sample per game from the listings; ``previous`` is the table ids of the last
    sample (with their games) for churn; ``waits`` the seat waits (count, ms) since then.
    Returns the samples (sorted by game) and the table ids for the next call."""
    current: dict[str, Game] = {}
    sums: dict[Game, list[int]] = {}
    for listing in listings:
        game = Game.of(listing)
        current[listing.table_id] = game
        row = sums.setdefault(game, [0, 0, 0, 0, 0])
        row[0] += 1
        row[1] += listing.seats_total
        row[2] += listing.seats_taken
        row[3] += listing.waiting
        row[4] += listing.hands_per_hour
    opened: dict[Game, int] = {}
    closed: dict[Game, int] = {}
    for table_id, game in current.items():
        if table_id not in previous:
            opened[game] = opened.get(game, 0) + 1
    for table_id, game in previous.items():
        if table_id not in current:
            closed[game] = closed.get(game, 0) + 1
    games = sorted(set(sums) | set(closed) | set(waits))
    samples = []
    for game in games:
        tables, seats, seated, waiting, hands = sums.get(game, [0, 0, 0, 0, 0])
        count, ms = waits.get(game, (0, 0))
        samples.append(
            GameSample(
                game,
                tables,
                seats,
                seated,
                waiting,
                hands,
                opened.get(game, 0),
                closed.get(game, 0),
                count,
                ms,
            )
        )
    return samples, current


class _WaitReader:
    """The seat waits that ended since the last read, per game, from the histogram's
    cumulative count and sum (so the table only observes a metric)."""

    def __init__(self) -> None:
        self._seen: dict[Game, tuple[float, float]] = {}
        self.read()  # waits that ended before this reader existed belong to no sample

    def read(self) -> dict[Game, tuple[int, int]]:
        totals: dict[Game, list[float]] = {}
        for family in SEAT_WAIT_SECONDS.collect():
            for sample in family.samples:
                if sample.name.endswith(("_count", "_sum")):
                    labels = sample.labels
                    game = Game(labels["asset"], labels["variant"], labels["stakes"])
                    row = totals.setdefault(game, [0.0, 0.0])
                    row[0 if sample.name.endswith("_count") else 1] = sample.value
        changed: dict[Game, tuple[int, int]] = {}
        for game, (count, seconds) in totals.items():
            seen_count, seen_seconds = self._seen.get(game, (0.0, 0.0))
            if count > seen_count:
                changed[game] = (int(count - seen_count), round((seconds - seen_seconds) * 1000))
            self._seen[game] = (count, seconds)
        return changed


@final
class LobbySampler:
    """Samples the lobby every ``interval_s``; ``list_tables`` asks the lobby for every
    listing (None when it is not running or did not answer in time)."""

    def __init__(
        self,
        store: Store,
        list_tables: Callable[[], Awaitable[tuple[TableListing, ...] | None]],
        *,
        interval_s: float = SAMPLE_INTERVAL_S,
        retention_days: int = RETENTION_DAYS,
    ) -> None:
        self._store = store
        self._list_tables = list_tables
        self._interval_s = interval_s
        self._retention_ms = retention_days * DAY_MS
        self._previous: dict[str, Game] = {}
        self._waits = _WaitReader()
        self._first = True
        for result in SAMPLE_RESULTS:
            SAMPLES.labels(result)  # a series from the start

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            await self.sample()
            await trio.sleep(self._interval_s)

    async def sample(self) -> list[GameSample] | None:
        """One round; returns what it stored (None if the lobby gave nothing)."""
        with trio.move_on_after(ASK_TIMEOUT_S):
            listings = await self._list_tables()
            if listings is not None:
                return await self._record(listings)
        SAMPLES.labels("skipped").inc()
        return None

    async def _record(self, listings: tuple[TableListing, ...]) -> list[GameSample]:
        # The first sample after a start sees every table as new: churn counts from then on.
        previous = {t.table_id: Game.of(t) for t in listings} if self._first else self._previous
        self._first = False
        samples, self._previous = summarize(listings, previous, self._waits.read())
        self._set_gauges(samples)
        now_ms = self._store.clock_ms()
        stored = samples[:GAMES_PER_SAMPLE_MAX]
        try:
            await self._store.run(
                partial(db.save_samples, now_ms, stored, now_ms - self._retention_ms)
            )
        except Exception as exc:  # the database may be away: the next sample tries again
            SAMPLES.labels("failed").inc()
            log.warning("lobby sample not stored", error=f"{type(exc).__name__}: {exc}")
            return []
        SAMPLES.labels("stored").inc()
        return stored

    def _set_gauges(self, samples: list[GameSample]) -> None:
        for s in samples:
            labels = _labels(s.game)
            TABLES.labels(*labels).set(s.tables)
            SEATS.labels(*labels).set(s.seats)
            SEATED.labels(*labels).set(s.seated)
            WAITING.labels(*labels).set(s.waiting)
            HANDS_PER_HOUR.labels(*labels).set(s.hands_per_hour)
            TABLES_OPENED.labels(*labels).inc(s.opened)
            TABLES_CLOSED.labels(*labels).inc(s.closed)


# ---- the history, for operators (admin ``GET /analytics/lobby``)

BUCKET_MS: Final = {"hour": 3_600_000, "day": DAY_MS}
PERIOD_MAX_MS: Final = {"hour": 31 * DAY_MS, "day": 366 * DAY_MS}  # bound per bucket size


class AnalyticsRefused(Exception):
    """``code``: ``invalid_period`` (from after to) or ``period_too_large``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class GamePeriod:
    """One game over one bucket. Means are over the bucket's samples; ``occupancy`` is the
    share of seats taken (None without seats); ``seat_wait_mean_ms`` None when no seat wait
    ended in the bucket."""

    start_ms: int
    asset: str
    variant: str
    stakes: str
    samples: int
    tables_mean: float
    occupancy: float | None
    seated_mean: float
    waiting_mean: float
    waiting_max: int
    hands_per_hour_mean: float
    tables_opened: int
    tables_closed: int
    seat_waits: int
    seat_wait_mean_ms: int | None


async def report(
    store: Store, from_ms: int, to_ms: int, bucket: str, asset: str | None = None
) -> list[GamePeriod]:
    if to_ms <= from_ms:
        raise AnalyticsRefused("invalid_period", "from_ms must be before to_ms")
    if to_ms - from_ms > PERIOD_MAX_MS[bucket]:
        days = PERIOD_MAX_MS[bucket] // DAY_MS
        raise AnalyticsRefused("period_too_large", f"at most {days} days by {bucket}")
    found = await store.run(
        partial(db.buckets, from_ms, to_ms, BUCKET_MS[bucket], asset), read_only=True
    )
    return [
        GamePeriod(
            start_ms=b.start_ms,
            asset=b.asset,
            variant=b.variant,
            stakes=b.stakes,
            samples=b.samples,
            tables_mean=b.tables / b.samples,
            occupancy=b.seated / b.seats if b.seats else None,
            seated_mean=b.seated / b.samples,
            waiting_mean=b.waiting / b.samples,
            waiting_max=b.waiting_max,
            hands_per_hour_mean=b.hands_per_hour / b.samples,
            tables_opened=b.opened,
            tables_closed=b.closed,
            seat_waits=b.seat_waits,
            seat_wait_mean_ms=round(b.seat_wait_ms_sum / b.seat_waits) if b.seat_waits else None,
        )
        for b in found
    ]
