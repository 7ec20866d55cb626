"""Leaderboards in Redis sorted sets: a mirror of the database's ``leaderboard_scores``.

The database is the record (a score is added in the transaction that counts a hand); Redis
answers top-N and my-rank in O(log n). A row is mirrored with its version: a Lua script
writes it only if it is newer than the version Redis holds, so mirrors that arrive out of
order (two tables, two nodes) or twice leave the newest score. Anything lost on the way
(Redis down, a crash after the commit) is put back by ``resync`` (at start-up and by
``tablium players rebuild-stats``).

Members are the player id zero-padded to 20 digits, so Redis orders equal scores by id,
descending in ZREVRANGE, exactly as the database's ORDER BY score DESC, player_id DESC.

Banned players (docs/players.md) keep their rows but are left out of every answer: the set
``lb-banned`` holds them, and the top and rank scripts skip them (a rank counts the banned
players above and takes them off), so an unban restores them at once with the scores they
had. ``set_banned`` keeps the set (after a ban or unban commits); ``replace_banned`` loads it
from the database (at start-up and on a full resync), so a Redis that lost it or missed a
change is right again then.
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


# KEYS: the sorted set, the banned set. ARGV: how many. Walks the board from the top, skipping
# banned members: at most (banned + limit) entries are read.
_TOP_LUA: Final = """
local limit = tonumber(ARGV[1])
if redis.call('SCARD', KEYS[2]) == 0 then
  return redis.call('ZREVRANGE', KEYS[1], 0, limit - 1, 'WITHSCORES')
end
local out = {}
local start = 0
while #out < 2 * limit do
  local page = redis.call('ZREVRANGE', KEYS[1], start, start + limit - 1, 'WITHSCORES')
  if #page == 0 then break end
  for i = 1, #page, 2 do
    if #out < 2 * limit and redis.call('SISMEMBER', KEYS[2], page[i]) == 0 then
      out[#out + 1] = page[i]
      out[#out + 1] = page[i + 1]
    end
  end
  start = start + limit
end
return out
"""

# KEYS: the sorted set, the banned set. ARGV: the member. {0-based position among those not
# banned, score}, or nil (no score, or banned). O(banned x log n).
_RANK_LUA: Final = """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return nil end
local position = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if not position then return nil end
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
local above = 0
for _, banned in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local at = redis.call('ZREVRANK', KEYS[1], banned)
  if at and at < position then above = above + 1 end
end
return {position - above, score}
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

    @property
    def _banned_key(self) -> str:
        return f"{self._prefix}lb-banned"

    async def set_banned(self, player_id: int, banned: bool) -> None:
        """Leave the player out of every answer (banned) or show her again."""
        key, who = self._banned_key, member(player_id)

        async def send(client: Any) -> None:
            if banned:
                await client.sadd(key, who)
            else:
                await client.srem(key, who)

        await self._link.call(send)

    async def replace_banned(self, player_ids: Sequence[int]) -> None:
        """The banned set becomes exactly ``player_ids`` (the database's banned accounts)."""
        key = self._banned_key

        async def send(client: Any) -> None:
            async with client.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                for start in range(0, len(player_ids), MIRROR_BATCH_MAX):
                    pipe.sadd(
                        key, *[member(p) for p in player_ids[start : start + MIRROR_BATCH_MAX]]
                    )
                await pipe.execute()

        await self._link.call(send)

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

        async def read(client: Any) -> list[Any]:
            script = client.register_script(_TOP_LUA)
            found: list[Any] = await script(keys=[key, self._banned_key], args=[limit])
            return found

        flat = await self._link.call(read)
        pairs = zip(flat[0::2], flat[1::2], strict=True)
        return [RankedScore(i + 1, int(m), int(float(s))) for i, (m, s) in enumerate(pairs)]

    async def rank(self, board: str, period: str, player_id: int) -> RankedScore | None:
        key, _ = self._keys(board, period)
        who = member(player_id)

        async def read(client: Any) -> Any:
            script = client.register_script(_RANK_LUA)
            return await script(keys=[key, self._banned_key], args=[who])

        found = await self._link.call(read)
        if not found:
            return None
        position, score = found
        return RankedScore(int(position) + 1, player_id, int(float(score)))

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
