"""The Lua scripts of persistence/shared_state.py against the real Redis: buckets, failure
records, the sessions' resume records and who may write them."""

from __future__ import annotations

import secrets

from persistence.redis_link import open_redis
from persistence.shared_state import RedisSessions, RedisThrottles


def _prefix(redis_prefix: str) -> str:
    return f"{redis_prefix}{secrets.token_hex(4)}:"


async def test_a_bucket_grants_up_to_its_burst_then_says_how_long_to_wait(
    redis_url: str, redis_prefix: str
) -> None:
    async with open_redis(redis_url) as link:
        throttles = RedisThrottles(link, _prefix(redis_prefix))
        assert await throttles.take("s", "k", 10, 0.5, 4) == (4, 0.0)
        assert await throttles.take("s", "k", 10, 0.5, 4) == (4, 0.0)
        assert await throttles.take("s", "k", 10, 0.5, 4) == (2, 0.0)
        granted, wait_s = await throttles.take("s", "k", 10, 0.5, 1)
        assert granted == 0 and 1.9 < wait_s <= 2.0
        # Another key, another scope: their own buckets.
        assert await throttles.take("s", "other", 10, 0.5, 1) == (1, 0.0)
        assert await throttles.take("t", "k", 10, 0.5, 1) == (1, 0.0)


async def test_failure_records_count_and_are_forgotten_on_success(
    redis_url: str, redis_prefix: str
) -> None:
    async with open_redis(redis_url) as link:
        throttles = RedisThrottles(link, _prefix(redis_prefix))
        assert [r.count for r in await throttles.failures("login", ["a", "b"])] == [0, 0]
        await throttles.failed("login", ["a", "b"], 600)
        records = await throttles.failed("login", ["a"], 600)
        assert records[0].count == 2 and records[0].since_last_s < 1.0
        assert [r.count for r in await throttles.failures("login", ["a", "b"])] == [2, 1]
        await throttles.succeeded("login", "a")
        assert [r.count for r in await throttles.failures("login", ["a", "b"])] == [0, 1]


async def test_only_the_node_holding_a_session_writes_its_resume_state(
    redis_url: str, redis_prefix: str
) -> None:
    prefix = _prefix(redis_prefix)
    async with open_redis(redis_url) as link:
        on_a = RedisSessions(link, prefix, "a", ttl_ms=60_000, events_max=3)
        on_b = RedisSessions(link, prefix, "b", ttl_ms=60_000, events_max=3)
        await on_a.open("s1", "alice", "player", 7, 0)
        events = [(n, f"frame{n}".encode()) for n in range(1, 6)]
        assert await on_a.mirror_many([("s1", 5, events)]) == [True]
        stored = await on_b.take_over("s1")
        assert stored is not None
        assert (stored.player, stored.role, stored.player_id, stored.last_seq) == (
            "alice",
            "player",
            7,
            5,
        )
        assert stored.replay == tuple(events[-3:])  # trimmed to events_max
        # Node A's late write is refused, and its close leaves B's record alone.
        assert await on_a.mirror_many([("s1", 6, [(6, b"late")])]) == [False]
        await on_a.close("s1")
        assert await on_b.mirror_many([("s1", 6, [(6, b"frame6")])]) == [True]
        await on_b.close("s1")
        assert await on_a.take_over("s1") is None


async def test_a_session_never_recorded_is_not_written_by_mirror(
    redis_url: str, redis_prefix: str
) -> None:
    async with open_redis(redis_url) as link:
        sessions = RedisSessions(link, _prefix(redis_prefix), "a", ttl_ms=60_000, events_max=3)
        assert await sessions.mirror_many([("ghost", 1, [(1, b"x")])]) == [False]
        assert await sessions.take_over("ghost") is None


async def test_a_sessions_record_names_the_node_that_holds_it_until_it_is_closed(
    redis_url: str, redis_prefix: str
) -> None:
    """What a node asks before it takes another node's word that a session dropped or ended
    (server/cluster_routing.py): a session resumed elsewhere names its new node."""
    prefix = _prefix(redis_prefix)
    async with open_redis(redis_url) as link:
        on_a = RedisSessions(link, prefix, "a", ttl_ms=60_000, events_max=3)
        on_b = RedisSessions(link, prefix, "b", ttl_ms=60_000, events_max=3)
        assert await on_a.holder("s1") is None
        await on_a.open("s1", "alice", "player", 7, 0)
        assert await on_b.holder("s1") == "a"
        assert await on_b.take_over("s1") is not None
        assert await on_a.holder("s1") == "b"
        await on_a.close("s1")  # not A's any more: B's record stays
        assert await on_a.holder("s1") == "b"
        await on_b.close("s1")
        assert await on_a.holder("s1") is None
