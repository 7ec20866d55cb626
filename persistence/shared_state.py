"""State that every node of one room shares in Redis (docs/scaling.md): rate limits and
login backoff, presence, token revocations.

Each operation is one Lua script (atomic in Redis, one crossing of the trio-asyncio loop)
that reads Redis's own clock (TIME), so nodes whose clocks differ still agree on a
bucket's refill and on when a presence expires. Every key lives under ``prefix`` and has
an expiry: nothing here grows without bound, and a key nobody touches goes away.

Redis not answering raises persistence.redis_link.RedisDown; callers fall back or refuse
(the degraded mode of docs/scaling.md), they never wait for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, final

from persistence.redis_link import RedisLink

PRESENCE_SESSIONS_PER_PLAYER_MAX: Final = 64  # members of one player's set; beyond: oldest go
PRESENCE_REFRESH_BATCH_MAX: Final = 500  # sessions per pipeline when refreshing

# KEYS[1]: the bucket (hash tokens, stamp_ms). ARGV: burst, refill per ms, tokens wanted.
# Returns {granted, wait_ms}: wait_ms is 0 when granted > 0, else the time until 1 token.
_TAKE_LUA: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local held = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(held[1]) or burst
local stamp = tonumber(held[2]) or now
if now > stamp then
  tokens = math.min(burst, tokens + (now - stamp) * rate)
  stamp = now
end
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', stamp)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
local wait = 0
if granted == 0 then wait = math.ceil((1 - tokens) / rate) end
return {granted, wait}
"""

# KEYS: failure records (hash count, last_ms). ARGV[1]: "read" or "fail"; ARGV[2]: the
# lock time in ms (a record is forgotten that long after its last failure).
# Returns {now_ms, count1, last1, count2, last2, ...} (count 0: no record).
_FAILURES_LUA: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {now}
for i, key in ipairs(KEYS) do
  if ARGV[1] == 'fail' then
    redis.call('HINCRBY', key, 'count', 1)
    redis.call('HSET', key, 'last', now)
    redis.call('PEXPIRE', key, ARGV[2])
  end
  local held = redis.call('HMGET', key, 'count', 'last')
  table.insert(out, tonumber(held[1]) or 0)
  table.insert(out, tonumber(held[2]) or 0)
end
return out
"""

# KEYS[1]: the player's sessions (zset member "node|session", score expiry ms), KEYS[2]:
# everyone online (zset member player, score expiry ms). ARGV: member, player, ttl ms,
# sessions max. Returns nothing.
_ONLINE_LUA: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if extra > 0 then redis.call('ZPOPMIN', KEYS[1], extra) end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
redis.call('PEXPIRE', KEYS[2], ttl)
return 0
"""

# KEYS[1]: the player's sessions; KEYS[2]: everyone online. ARGV: member, player.
_OFFLINE_LUA: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[2]) end
return 0
"""

# KEYS[1]: a zset of expiries. Drops the expired members, returns the live ones.
_LIVE_LUA: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""

_COUNT_LIVE_LUA: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@final
@dataclass(frozen=True, slots=True)
class FailureRecord:
    """A key's failed attempts as Redis holds them."""

    count: int  # 0: none on record
    since_last_s: float  # seconds since the last failure (Redis's clock)


@final
class RedisThrottles:
    """Token buckets and failure counters shared by every node (services/throttle.py's
    SharedThrottles). ``scope`` names the limit (``ws-address``, ``login-account``...), so
    one key (an address) has one bucket per limit."""

    def __init__(self, link: RedisLink, prefix: str) -> None:
        self._link = link
        self._prefix = prefix

    def _key(self, kind: str, scope: str, key: str) -> str:
        return f"{self._prefix}{kind}:{scope}:{key}"

    async def take(
        self, scope: str, key: str, burst: int, refill_per_s: float, want: int
    ) -> tuple[int, float]:
        """Take up to ``want`` tokens of ``key``'s bucket: (granted, wait_s), wait_s > 0
        only when nothing was granted."""
        if burst < 1 or refill_per_s <= 0 or want < 1:
            raise ValueError("need burst >= 1, refill_per_s > 0, want >= 1")
        bucket = self._key("bucket", scope, key)

        async def run(client: Any) -> list[int]:
            found: list[int] = await client.eval(
                _TAKE_LUA, 1, bucket, burst, repr(refill_per_s / 1000), want
            )
            return found

        granted, wait_ms = await self._link.shared(run)
        return int(granted), int(wait_ms) / 1000

    async def failures(self, scope: str, keys: Sequence[str]) -> list[FailureRecord]:
        return await self._failures(scope, keys, "read", 1)

    async def failed(self, scope: str, keys: Sequence[str], lock_s: int) -> list[FailureRecord]:
        """Count one failure of each key; the records after it."""
        return await self._failures(scope, keys, "fail", lock_s * 1000)

    async def succeeded(self, scope: str, key: str) -> None:
        name = self._key("failures", scope, key)

        async def run(client: Any) -> None:
            await client.delete(name)

        await self._link.shared(run)

    async def _failures(
        self, scope: str, keys: Sequence[str], mode: str, lock_ms: int
    ) -> list[FailureRecord]:
        names = [self._key("failures", scope, key) for key in keys]

        async def run(client: Any) -> list[int]:
            found: list[int] = await client.eval(_FAILURES_LUA, len(names), *names, mode, lock_ms)
            return found

        out = await self._link.shared(run)
        now_ms = int(out[0])
        return [
            FailureRecord(int(out[i]), max(0, now_ms - int(out[i + 1])) / 1000)
            for i in range(1, len(out), 2)
        ]


@final
class RedisPresence:
    """Who is online, on which node: each attached session is a member of its player's
    set with an expiry ``ttl_ms`` ahead, refreshed by its node while the session lives.
    A node that dies stops refreshing, and its sessions drop out after ``ttl_ms``."""

    def __init__(self, link: RedisLink, prefix: str, node: str, ttl_ms: int) -> None:
        if "|" in node or not node:
            raise ValueError(f"a node name is not empty and has no '|': {node!r}")
        self._link = link
        self._prefix = prefix
        self.node = node
        self.ttl_ms = ttl_ms

    def _player_key(self, player: str) -> str:
        return f"{self._prefix}presence:player:{player}"

    @property
    def _all_key(self) -> str:
        return f"{self._prefix}presence:all"

    async def online(self, sessions: Sequence[tuple[str, str]]) -> None:
        """Mark (player, session id) pairs online for ttl_ms more: a new session, or the
        periodic refresh of every live one (batched, one crossing per batch)."""
        for start in range(0, len(sessions), PRESENCE_REFRESH_BATCH_MAX):
            batch = sessions[start : start + PRESENCE_REFRESH_BATCH_MAX]

            async def run(client: Any, batch: Sequence[tuple[str, str]] = batch) -> None:
                script = client.register_script(_ONLINE_LUA)
                async with client.pipeline(transaction=False) as pipe:
                    for player, session_id in batch:
                        await script(
                            keys=[self._player_key(player), self._all_key],
                            args=[
                                f"{self.node}|{session_id}",
                                player,
                                self.ttl_ms,
                                PRESENCE_SESSIONS_PER_PLAYER_MAX,
                            ],
                            client=pipe,
                        )
                    await pipe.execute()

            await self._link.shared(run)

    async def offline(self, player: str, session_id: str) -> None:
        keys = [self._player_key(player), self._all_key]

        async def run(client: Any) -> None:
            await client.eval(_OFFLINE_LUA, 2, *keys, f"{self.node}|{session_id}", player)

        await self._link.shared(run)

    async def where(self, player: str) -> list[tuple[str, str]]:
        """The player's live sessions, as (node, session id), from any node."""
        key = self._player_key(player)

        async def run(client: Any) -> list[bytes]:
            found: list[bytes] = await client.eval(_LIVE_LUA, 1, key)
            return found

        members = [_text(m) for m in await self._link.shared(run)]
        pairs = (m.split("|", 1) for m in members)
        return sorted((node, session_id) for node, session_id in pairs)

    async def online_count(self) -> int:
        """Players with at least one live session, on every node."""
        key = self._all_key

        async def run(client: Any) -> int:
            found: int = await client.eval(_COUNT_LIVE_LUA, 1, key)
            return found

        return int(await self._link.shared(run))


@final
class RedisRevocations:
    """Sessions ended by logout or ban, for every node at once: one key per session,
    expiring when its tokens would have expired anyway. The database keeps the durable
    record (persistence/sessions.py); this answers the nodes' check without a query, for
    guests too (who have no row to check)."""

    def __init__(self, link: RedisLink, prefix: str) -> None:
        self._link = link
        self._prefix = prefix

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}revoked:{session_id}"

    async def revoke(self, session_id: str, until_s: int) -> None:
        key = self._key(session_id)

        async def run(client: Any) -> None:
            await client.set(key, 1, exat=until_s)

        await self._link.shared(run)

    async def revoked(self, session_id: str) -> bool:
        key = self._key(session_id)

        async def run(client: Any) -> int:
            found: int = await client.exists(key)
            return found

        return bool(await self._link.shared(run))


# KEYS[1]: the session's record (hash node, player, role, player_id, last_seq), KEYS[2]:
# its replay list (entries: 8-byte big-endian seq + frame). ARGV: node, ttl ms, events max,
# last_seq, then the entries. Appends only while this node holds the session; returns 1,
# or 0 when another node has taken it over (a resume there).
_MIRROR_LUA: Final = """
local node = redis.call('HGET', KEYS[1], 'node')
if node and node ~= ARGV[1] then return 0 end
if not node then return 0 end
for i = 5, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('HSET', KEYS[1], 'last_seq', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""

# KEYS as above. ARGV: node, ttl ms. Takes the session over for this node and returns
# {player, role, player_id, last_seq, previous node, entries...}, or {} when there is no
# record.
_TAKE_OVER_LUA: Final = """
local held = redis.call('HMGET', KEYS[1], 'player', 'role', 'player_id', 'last_seq', 'node')
if not held[1] then return {} end
redis.call('HSET', KEYS[1], 'node', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local out = {held[1], held[2], held[3], held[4], held[5] or ''}
for _, entry in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do table.insert(out, entry) end
return out
"""

# KEYS as above. ARGV: node. Deletes both keys if the record names this node.
_CLOSE_LUA: Final = """
if redis.call('HGET', KEYS[1], 'node') == ARGV[1] then redis.call('DEL', KEYS[1], KEYS[2]) end
return 0
"""

_SEQ_BYTES: Final = 8


@final
@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session as another node left it in Redis: enough to resume it here."""

    player: str
    role: str
    player_id: int | None
    last_seq: int
    replay: tuple[tuple[int, bytes], ...]  # (seq, frame), consecutive, ending at <= last_seq
    node: str = ""  # the node that held it until this take-over


@final
class RedisSessions:
    """Sessions' resume state (who, last seq, replay buffer) in Redis, so a client whose
    node went away resumes on another with the events it missed. Bounded: the list is
    trimmed to ``events_max``, and both keys expire ``ttl_ms`` after the last write (the
    resume grace period). A node writes a session only while the record names it; a
    resume on another node renames it, and the first node's next write learns it lost the
    session (mirror returns False)."""

    def __init__(
        self, link: RedisLink, prefix: str, node: str, ttl_ms: int, events_max: int
    ) -> None:
        self._link = link
        self._prefix = prefix
        self.node = node
        self.ttl_ms = ttl_ms
        self.events_max = events_max

    def _keys(self, session_id: str) -> list[str]:
        return [f"{self._prefix}session:{session_id}", f"{self._prefix}replay:{session_id}"]

    async def open(
        self, session_id: str, player: str, role: str, player_id: int | None, last_seq: int
    ) -> None:
        """Record a session opened on this node (a new one, or one resumed here)."""
        record, replay = self._keys(session_id)
        fields = {
            "node": self.node,
            "player": player,
            "role": role,
            "player_id": "" if player_id is None else str(player_id),
            "last_seq": str(last_seq),
        }

        async def run(client: Any) -> None:
            async with client.pipeline(transaction=True) as pipe:
                pipe.hset(record, mapping=fields)
                pipe.pexpire(record, self.ttl_ms)
                if last_seq == 0:
                    pipe.delete(replay)
                await pipe.execute()

        await self._link.shared(run)

    async def mirror_many(
        self, batches: Sequence[tuple[str, int, Sequence[tuple[int, bytes]]]]
    ) -> list[bool]:
        """Append each (session id, last seq, events) in one pipeline; per session, False
        when another node has taken it over."""
        if not batches:
            return []

        async def run(client: Any) -> list[int]:
            script = client.register_script(_MIRROR_LUA)
            async with client.pipeline(transaction=False) as pipe:
                for session_id, last_seq, events in batches:
                    entries = [seq.to_bytes(_SEQ_BYTES, "big") + frame for seq, frame in events]
                    await script(
                        keys=self._keys(session_id),
                        args=[self.node, self.ttl_ms, self.events_max, last_seq, *entries],
                        client=pipe,
                    )
                found: list[int] = await pipe.execute()
                return found

        return [bool(kept) for kept in await self._link.shared(run)]

    async def take_over(self, session_id: str) -> StoredSession | None:
        """Claim the session for this node; what it held, or None if Redis has no record
        of it (never mirrored, or expired)."""
        keys = self._keys(session_id)

        async def run(client: Any) -> list[bytes]:
            found: list[bytes] = await client.eval(_TAKE_OVER_LUA, 2, *keys, self.node, self.ttl_ms)
            return found

        out = await self._link.shared(run)
        if not out:
            return None
        player, role, player_id, last_seq, node = (_text(v) for v in out[:5])
        replay = tuple(
            (int.from_bytes(entry[:_SEQ_BYTES], "big"), bytes(entry[_SEQ_BYTES:]))
            for entry in out[5:]
        )
        return StoredSession(
            player, role, int(player_id) if player_id else None, int(last_seq), replay, node
        )

    async def holder(self, session_id: str) -> str | None:
        """The node the session's record names (None: no record: closed, expired or never
        mirrored). A node that learns of the session's end or drop from another node asks
        it: if the record names a third node, the session resumed there and the news is
        stale (server/cluster_routing.py)."""
        record = self._keys(session_id)[0]

        async def run(client: Any) -> bytes | str | None:
            found: bytes | str | None = await client.hget(record, "node")
            return found

        node = await self._link.shared(run)
        return None if node is None else _text(node)

    async def close(self, session_id: str) -> None:
        """The session ended here (logout, grace over): nothing to resume any more, unless
        another node has taken it over meanwhile (then it is that node's)."""
        keys = self._keys(session_id)

        async def run(client: Any) -> None:
            await client.eval(_CLOSE_LUA, 2, *keys, self.node)

        await self._link.shared(run)


# KEYS[1]: the live nodes (zset member node, score expiry ms), KEYS[2]: the node's record.
# ARGV: node, ttl ms, record (JSON). Returns nothing.
_BEAT_LUA: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return 0
"""

NODES_LISTED_MAX: Final = 1000  # nodes /cluster lists; beyond: left out (a room is not that big)


@final
class RedisNodes:
    """The room's live nodes: each node writes its record (load, leases) every beat, with
    an expiry; a node that stops beating drops out. Records are JSON objects, opaque here."""

    def __init__(self, link: RedisLink, prefix: str) -> None:
        self._link = link
        self._prefix = prefix

    @property
    def _all_key(self) -> str:
        return f"{self._prefix}nodes"

    def _key(self, node: str) -> str:
        return f"{self._prefix}node:{node}"

    async def beat(self, node: str, record: bytes, ttl_ms: int) -> None:
        keys = [self._all_key, self._key(node)]

        async def run(client: Any) -> None:
            await client.eval(_BEAT_LUA, 2, *keys, node, ttl_ms, record)

        await self._link.shared(run)

    async def leave(self, node: str) -> None:
        """A node stopping cleanly leaves the room at once (else its record expires)."""
        keys = [self._all_key, self._key(node)]

        async def run(client: Any) -> None:
            async with client.pipeline(transaction=False) as pipe:
                pipe.zrem(keys[0], node)
                pipe.delete(keys[1])
                await pipe.execute()

        await self._link.shared(run)

    async def records(self) -> list[bytes]:
        """Every live node's last record, by node name."""
        all_key = self._all_key

        async def run(client: Any) -> list[bytes | None]:
            members: list[bytes] = await client.eval(_LIVE_LUA, 1, all_key)
            names = sorted(_text(m) for m in members)[:NODES_LISTED_MAX]
            if not names:
                return []
            found: list[bytes | None] = await client.mget([self._key(n) for n in names])
            return found

        return [r for r in await self._link.shared(run) if r is not None]


# KEYS[1]: the player's ban notice. ARGV: ttl ms. Value: Redis's time in ms.
_ANNOUNCE_BAN_LUA: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], now, 'PX', ARGV[1])
return now
"""

BAN_CHECK_BATCH_MAX: Final = 500  # players per MGET when nodes look for bans


@final
class RedisBans:
    """Bans announced to every node: ``<prefix>banned:<player id>`` holds when the ban was
    announced, for long enough that each node's periodic look sees it; each node then ends
    the player's sessions it holds that opened before that time."""

    def __init__(self, link: RedisLink, prefix: str) -> None:
        self._link = link
        self._prefix = prefix

    def _key(self, player_id: int) -> str:
        return f"{self._prefix}banned:{player_id}"

    async def announce(self, player_id: int, ttl_ms: int) -> int:
        """Returns the announcement's time (ms, Redis's clock)."""
        key = self._key(player_id)

        async def run(client: Any) -> int:
            found: int = await client.eval(_ANNOUNCE_BAN_LUA, 1, key, ttl_ms)
            return found

        return int(await self._link.shared(run))

    async def announced(self, player_ids: Sequence[int]) -> dict[int, int]:
        """Players among ``player_ids`` with a live ban notice: when it was announced."""
        found: dict[int, int] = {}
        for start in range(0, len(player_ids), BAN_CHECK_BATCH_MAX):
            batch = list(player_ids[start : start + BAN_CHECK_BATCH_MAX])

            async def run(client: Any, batch: list[int] = batch) -> list[bytes | None]:
                values: list[bytes | None] = await client.mget([self._key(p) for p in batch])
                return values

            for player_id, value in zip(batch, await self._link.shared(run), strict=True):
                if value is not None:
                    found[player_id] = int(value)
        return found
