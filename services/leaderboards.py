"""Leaderboards: daily, weekly and monthly, by XP, by net won per stake, by tournament points.

One answer whichever backend serves it: Redis sorted sets when Redis is configured
(persistence/leaderboards_redis.py, a mirror kept by ``on_hand_applied`` and ``resync``), the
database otherwise (persistence/players.py). Ranks start at 1; equal scores rank the higher
player id first (both backends order them so). Banned players are left out of both (their
scores are kept: an unban shows them again); ``on_ban_changed`` tells Redis of a ban or an
unban once it has committed (the admin API's hook), and every resync reloads Redis's banned
set from the database.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Final, final

import msgspec
import redis
import structlog
import trio

from persistence import players as stored
from persistence.leaderboards_redis import RedisLeaderboards
from persistence.players import HandApplied, RankedScore
from persistence.store import Store
from players.progress import PERIODS, Period, period_key

log = structlog.get_logger("tablium.leaderboards")

TOP_MAX: Final = stored.LEADERBOARD_PAGE_MAX  # 100
RESYNC_PAGE_ROWS: Final = 5000
_BOARD = re.compile(r"xp|points|net:(chips|play):(NT|FT|PO|PT|PO/8):[0-9]{1,15}/[0-9]{1,15}")


def _redis_failed(exc: Exception, what: str) -> None:
    """Redis down or slow (redis-py's errors, timeouts, a dropped socket): logged, and the
    database serves. Anything else is our bug and propagates."""
    if not isinstance(exc, (OSError, TimeoutError, redis.RedisError)):
        raise exc
    log.warning("leaderboard redis failed", operation=what, error=str(exc))


class LeaderboardRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_board(board: str) -> str:
    if len(board) > 64 or not _BOARD.fullmatch(board):
        raise LeaderboardRefused(
            "unknown_leaderboard",
            "a board is xp, points, or net:<asset>:<game>:<stake> (net:chips:NT:1/2)",
        )
    return board


def check_period(period: str) -> Period:
    for known in PERIODS:
        if period == known:
            return known
    raise LeaderboardRefused("unknown_period", "a period is daily, weekly or monthly")


@final
class Standing(msgspec.Struct, frozen=True):
    board: str
    period: str  # the period's key: d2026-12-02, w2026-W49, m2026-12
    entries: list[RankedScore]


@final
class Leaderboards:
    def __init__(self, store: Store, redis: RedisLeaderboards | None = None) -> None:
        self._store = store
        self.redis = redis

    async def top(self, board: str, period: str, limit: int, at_ms: int) -> Standing:
        key = period_key(check_period(period), at_ms)
        n = max(1, min(limit, TOP_MAX))
        board = check_board(board)
        if self.redis is not None:
            try:
                return Standing(board, key, await self.redis.top(board, key, n))
            except Exception as exc:
                _redis_failed(exc, "top")  # the database answers the same
        entries = await self._store.run_may_lag(partial(stored.top_scores, board, key, n))
        return Standing(board, key, entries)

    async def rank(self, board: str, period: str, player_id: int, at_ms: int) -> RankedScore | None:
        key = period_key(check_period(period), at_ms)
        board = check_board(board)
        if self.redis is not None:
            try:
                return await self.redis.rank(board, key, player_id)
            except Exception as exc:
                _redis_failed(exc, "rank")  # the database answers the same
        return await self._store.run_may_lag(partial(stored.rank_of, board, key, player_id))

    async def on_hand_applied(self, applied: HandApplied) -> None:
        """The store's hand hook: mirror the new scores. Redis failing loses nothing (the
        database has them; ``resync`` puts them back), so it is logged, not raised."""
        if self.redis is None or not applied.scores:
            return
        try:
            await self.redis.mirror(applied.scores)
        except Exception as exc:
            _redis_failed(exc, "mirror")

    async def on_ban_changed(self, player_id: int, banned: bool) -> None:
        """After a ban or unban committed: Redis leaves the player out (or shows her again).
        Redis failing is logged: its answers show her until the next resync (at start-up)."""
        if self.redis is None:
            return
        try:
            await self.redis.set_banned(player_id, banned)
        except Exception as exc:
            _redis_failed(exc, "ban")

    async def _load_banned(self) -> None:
        assert self.redis is not None
        banned = await self._store.run(stored.banned_player_ids, read_only=True)
        await self.redis.replace_banned(banned)

    async def resync_current(self, now_ms: int) -> int:
        """Mirror the current day's, week's and month's scores into Redis again (at start-up:
        a Redis that restarted empty serves them at once). Safe beside live mirrors: each
        row carries its version, so an older one never overwrites a newer. Rows mirrored."""
        if self.redis is None:
            return 0
        await self._load_banned()
        loaded = 0
        for kind in PERIODS:
            key = period_key(kind, now_ms)
            after: tuple[str, int] | None = None
            while True:
                page = await self._store.run(
                    partial(stored.period_scores_page, key, after, RESYNC_PAGE_ROWS),
                    read_only=True,
                )
                if not page:
                    break
                await self.redis.mirror(page)
                loaded += len(page)
                after = (page[-1].board, page[-1].player_id)
        return loaded

    async def run_start_up_resync(self, *, task_status: trio.TaskStatus[None]) -> None:
        """A temporary service child (server/app.py): the current periods into Redis, once.
        Redis failing is logged: the database answers meanwhile."""
        task_status.started()
        try:
            loaded = await self.resync_current(self._store.clock_ms())
        except Exception as exc:
            _redis_failed(exc, "resync")
            return
        log.info("leaderboards mirrored to redis", rows=loaded)

    async def resync(self) -> int:
        """Load every score row of the database into Redis again; the rows loaded."""
        if self.redis is None:
            return 0
        await self.redis.clear()
        await self._load_banned()
        after: tuple[str, str, int] | None = None
        loaded = 0
        while True:
            page = await self._store.run(
                partial(stored.scores_page, after, RESYNC_PAGE_ROWS), read_only=True
            )
            if not page:
                return loaded
            await self.redis.mirror(page)
            loaded += len(page)
            last = page[-1]
            after = (last.board, last.period, last.player_id)
