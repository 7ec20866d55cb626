"""Leaderboards answer the same from Redis and from the database (both database backends)."""

from __future__ import annotations

import random
from functools import partial

import pytest

from persistence import players as stored
from persistence.leaderboards_redis import RedisLeaderboards
from persistence.redis_link import open_redis
from persistence.store import Store
from players.progress import ScoreDelta, period_key
from services.leaderboards import LeaderboardRefused, Leaderboards
from tests.players.hands import hand_record, simulated_hand

AT_MS = 1_750_000_000_000
BOARDS = ("xp", "net:chips:NT:1/2")


async def test_redis_and_database_give_the_same_tops_and_ranks(
    store: Store, redis_url: str, redis_prefix: str
) -> None:
    rng = random.Random(19)
    deltas = []
    for board in BOARDS:
        for period in ("daily", "weekly", "monthly"):
            key = period_key(period, AT_MS)
            for player in range(1, 301):
                for _ in range(rng.randint(1, 3)):  # several additions, some negative
                    deltas.append(ScoreDelta(board, key, player, rng.randint(-5, 40)))
    rng.shuffle(deltas)
    rows = []
    for start in range(0, len(deltas), 50):
        rows += await store.run(partial(stored.add_scores, deltas[start : start + 50]))
    async with open_redis(redis_url) as link:
        redis = RedisLeaderboards(link, prefix=f"{redis_prefix}{id(store)}:")
        rng.shuffle(rows)  # out of order and with stale versions: the newest still wins
        await redis.mirror(rows)
        database = Leaderboards(store)
        mirrored = Leaderboards(store, redis)
        for board in BOARDS:
            for period in ("daily", "weekly", "monthly"):
                for limit in (1, 10, 100):
                    db_top = await database.top(board, period, limit, AT_MS)
                    assert await mirrored.top(board, period, limit, AT_MS) == db_top
                    assert len(db_top.entries) == limit
                for player in range(1, 302):  # 301 has no score
                    assert await mirrored.rank(board, period, player, AT_MS) == (
                        await database.rank(board, period, player, AT_MS)
                    )
        # A resync from the database gives the same answers too.
        assert await mirrored.resync() == len({(r.board, r.period, r.player_id) for r in rows})
        for board in BOARDS:
            assert await mirrored.top(board, "weekly", 100, AT_MS) == (
                await database.top(board, "weekly", 100, AT_MS)
            )


async def test_scores_of_stored_hands_reach_redis_through_the_hook(
    store: Store, redis_url: str, redis_prefix: str
) -> None:
    for i in range(4):
        await store.create_account(f"p{i + 1}", "x", "player")
    async with open_redis(redis_url) as link:
        boards = Leaderboards(store, RedisLeaderboards(link, prefix=f"{redis_prefix}h{id(store)}:"))
        store.hand_hooks.append(boards.on_hand_applied)
        for i in range(5):
            hand = simulated_hand(i, [1, 2, 3, 4], hand_id=f"h{i}", ended_at_ms=AT_MS)
            await store.save_hand(hand_record(hand))
        database = Leaderboards(store)
        for board in BOARDS:
            expected = await database.top(board, "daily", 10, AT_MS)
            assert len(expected.entries) == 4
            assert await boards.top(board, "daily", 10, AT_MS) == expected


async def test_unknown_boards_and_periods_are_refused(store: Store) -> None:
    boards = Leaderboards(store)
    with pytest.raises(LeaderboardRefused) as refused:
        await boards.top("net:chips:NT", "daily", 10, AT_MS)
    assert refused.value.code == "unknown_leaderboard"
    with pytest.raises(LeaderboardRefused) as refused:
        await boards.top("xp", "hourly", 10, AT_MS)
    assert refused.value.code == "unknown_period"


async def test_a_redis_that_is_down_falls_back_to_the_database(store: Store) -> None:
    await store.run(
        partial(stored.add_scores, [ScoreDelta("xp", period_key("daily", AT_MS), 7, 5)])
    )
    async with open_redis("redis://127.0.0.1:1/0") as link:  # nothing listens on port 1
        boards = Leaderboards(store, RedisLeaderboards(link))
        top = await boards.top("xp", "daily", 10, AT_MS)
        assert [(e.player_id, e.score) for e in top.entries] == [(7, 5)]
        assert await boards.rank("xp", "daily", 7, AT_MS) == top.entries[0]


async def test_a_restarted_empty_redis_gets_the_current_periods_back(
    store: Store, redis_url: str, redis_prefix: str
) -> None:
    deltas = [
        ScoreDelta(board, period_key(period, AT_MS), player, player * 3)
        for board in BOARDS
        for period in ("daily", "weekly", "monthly")
        for player in range(1, 30)
    ]
    old = [ScoreDelta("xp", period_key("daily", AT_MS - 5 * 86_400_000), 1, 99)]
    await store.run(partial(stored.add_scores, deltas + old))
    async with open_redis(redis_url) as link:
        boards = Leaderboards(store, RedisLeaderboards(link, prefix=f"{redis_prefix}r{id(store)}:"))
        assert await boards.resync_current(AT_MS) == len(deltas)  # not the old day's
        database = Leaderboards(store)
        for board in BOARDS:
            for period in ("daily", "weekly", "monthly"):
                assert await boards.top(board, period, 100, AT_MS) == (
                    await database.top(board, period, 100, AT_MS)
                )


async def test_a_banned_player_leaves_every_board_and_an_unban_restores_her(
    store: Store, redis_url: str, redis_prefix: str
) -> None:
    ids = [(await store.create_account(f"b{i}", "x", "player")).id for i in range(6)]
    day = period_key("daily", AT_MS)
    deltas = [ScoreDelta("xp", day, p, 100 - 10 * n) for n, p in enumerate(ids)]
    deltas.append(ScoreDelta("xp", day, ids[4], 10))  # 70: a tie with ids[3]
    rows = await store.run(partial(stored.add_scores, deltas))
    cheat = ids[1]
    async with open_redis(redis_url) as link:
        redis = RedisLeaderboards(link, prefix=f"{redis_prefix}ban{id(store)}:")
        await redis.mirror(rows)
        database, mirrored = Leaderboards(store), Leaderboards(store, redis)

        async def answers(boards: Leaderboards) -> tuple[object, ...]:
            top = await boards.top("xp", "daily", 100, AT_MS)
            two = await boards.top("xp", "daily", 2, AT_MS)
            ranks = [await boards.rank("xp", "daily", p, AT_MS) for p in ids]
            return top.entries, two.entries, ranks

        before = await answers(database)
        assert before == await answers(mirrored)
        await store.set_account_banned(cheat, True)
        await mirrored.on_ban_changed(cheat, True)
        banned = await answers(database)
        assert banned == await answers(mirrored)
        top, two, ranks = banned
        assert [e.player_id for e in top] == [ids[0], ids[2], ids[4], ids[3], ids[5]]  # type: ignore[attr-defined]
        assert [e.player_id for e in two] == [ids[0], ids[2]]  # type: ignore[attr-defined]
        assert ranks[1] is None
        assert [r.rank for r in ranks if r is not None] == [1, 2, 4, 3, 5]  # type: ignore[union-attr]

        await store.set_account_banned(cheat, False)
        await mirrored.on_ban_changed(cheat, False)
        assert await answers(database) == before == await answers(mirrored)

        # A ban Redis missed (it was down) is right again after the start-up resync.
        await store.set_account_banned(cheat, True)
        assert await answers(mirrored) == before  # stale until then
        await mirrored.resync_current(AT_MS)
        assert await answers(mirrored) == banned
