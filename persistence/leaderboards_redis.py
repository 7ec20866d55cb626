"""Leaderboards in Redis sorted sets: a mirror of the database's ``leaderboard_scores``.

The database is the record (a score is added in the transaction that counts a hand); Redis
answers top-N and my-rank in O(log n). A row is mirrored with its version: a Lua script
writes it only if it is newer than the version Redis holds, so mirrors that arrive out of
order (two tables, two nodes) or twice leave the newest score. Anything lost on the way
(Redis down, a crash after the commit) is put back by ``resync`` (at start-up and by
``tablium players rebuild-stats``).

Members are the player id zero-padded to 20 digits, so Redis orders equal scores by id,
descending in ZREVRANGE, exactly as the database's ORDER BY score DESC, player_id DESC.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, final

from persistence.players import RankedScore, ScoreRow
from persistence.redis_link import RedisLink

# Redis drops a period's board this long after its last write (the database keeps it).
TTL_S: Final = {"d": 8 * 86_400, "w": 36 * 86_400, "m": 400 * 86_400}
MIRROR_BATCH_MAX: Final = 1000  # rows per pipeline
_MEMBER_DIGITS: Final = 20

# KEYS: the sorted set, the versions hash. ARGV: member, score, version, ttl seconds.
_MIRROR_LUA: Final = """
local held = redis.call('HGET', KEYS[2], ARGV[1])
if held and tonumber(held) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""


def member(player_id: int) -> str:
    return f"{player_id:0{_MEMBER_DIGITS}d}"


@final
class RedisLeaderboards:
    def __init__(self, link: RedisLink, prefix: str = "tablium:") -> None:
        self._link = link
        self._prefix = prefix

    def _keys(self, board: str, period: str) -> tuple[str, str]:
        return f"{self._prefix}lb:{board}:{period}", f"{self._prefix}lbv:{board}:{period}"

    async def mirror(self, rows: Sequence[ScoreRow]) -> None:
        for start in range(0, len(rows), MIRROR_BATCH_MAX):
            batch = rows[start : start + MIRROR_BATCH_MAX]

            async def send(client: Any, batch: Sequence[ScoreRow] = batch) -> None:
                script = client.register_script(_MIRROR_LUA)
                async with client.pipeline(transaction=False) as pipe:
                    for row in batch:
                        keys = self._keys(row.board, row.period)
                        ttl = TTL_S.get(row.period[:1], TTL_S["m"])
                        await script(
                            keys=keys,
                            args=[member(row.player_id), row.score, row.version, ttl],
                            client=pipe,
                        )
                    await pipe.execute()

            await self._link.call(send)

    async def top(self, board: str, period: str, limit: int) -> list[RankedScore]:
        key, _ = self._keys(board, period)

        async def read(client: Any) -> list[tuple[bytes, float]]:
            found: list[tuple[bytes, float]] = await client.zrevrange(
                key, 0, limit - 1, withscores=True
            )
            return found

        found = await self._link.call(read)
        return [RankedScore(i + 1, int(m), int(s)) for i, (m, s) in enumerate(found)]

    async def rank(self, board: str, period: str, player_id: int) -> RankedScore | None:
        key, _ = self._keys(board, period)
        who = member(player_id)

        async def read(client: Any) -> list[Any]:
            async with client.pipeline(transaction=False) as pipe:
                pipe.zrevrank(key, who)
                pipe.zscore(key, who)
                found: list[Any] = await pipe.execute()
                return found

        position, score = await self._link.call(read)
        if position is None or score is None:
            return None
        return RankedScore(int(position) + 1, player_id, int(score))

    async def clear(self) -> int:
        """Delete every leaderboard key under the prefix (before a full resync)."""

        async def wipe(client: Any) -> int:
            deleted = 0
            for pattern in (f"{self._prefix}lb:*", f"{self._prefix}lbv:*"):
                batch: list[Any] = []
                async for key in client.scan_iter(match=pattern, count=1000):
                    batch.append(key)
                    if len(batch) >= 1000:
                        deleted += await client.delete(*batch)
                        batch = []
                if batch:
                    deleted += await client.delete(*batch)
            return deleted

        return await self._link.call(wipe)
