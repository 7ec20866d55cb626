"""``tablium bench players``: the statistics consumer's hands/s, and leaderboard latency with a
million players, Redis against the database, in one run.

- consumer: simulated 6-max hands among 100 players (played before the clock starts) are
  counted one transaction each (persistence/players.py ``apply_hand``: statistics, XP,
  achievements, leaderboard scores), as the table's hand-history write counts them; and the
  pure core alone (players/stats.py ``hand_facts``), its ceiling.
- leaderboards: one board and period filled with ``--players`` (1,000,000) scores, in the
  database (``leaderboard_scores``) and in a Redis sorted set; then top-100 and my-rank for
  random players through services/leaderboards.py, on each backend, with a check that both
  answer the same. Goal: my-rank under 5 ms (median) on Redis.

The database is a scratch SQLite file (default) or a scratch schema of ``--database-url``
(PostgreSQL), dropped afterwards; Redis keys live under a random prefix, deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

BOARD = "xp"
# The consumer's hands are dealt among this many players: most player-hands are then not a
# player's first (a first hand writes an achievement row: the steady state writes none).
CONSUMER_PLAYERS = 100
LOAD_BATCH_ROWS = 20_000


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default="",
        help="postgresql://... (default: a scratch SQLite file)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("TABLIUM_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="redis://HOST:PORT/DB (default: TABLIUM_REDIS_URL or 127.0.0.1:6379)",
    )
    parser.add_argument("--hands", type=int, default=2000, help="hands for the consumer")
    parser.add_argument("--players", type=int, default=1_000_000, help="leaderboard size")
    parser.add_argument("--queries", type=int, default=300, help="lookups per measurement")
    parser.add_argument("--seed", type=int, default=19)


def run(args: argparse.Namespace) -> int:
    import trio

    if not 1 <= args.players <= 10_000_000 or not 1 <= args.hands <= 1_000_000:
        print("tablium bench players: --players 1..10^7, --hands 1..10^6", file=sys.stderr)
        return 2
    results = trio.run(_bench, args)
    if args.json:
        print(json.dumps(results, sort_keys=True))
        return 0
    print(
        f"consumer ({results['backend']}): {results['consumer_hands_per_s']:,.0f} hands/s counted"
        f" (one transaction each), {results['rebuild_hands_per_s']:,.0f} hands/s 100 per"
        f" transaction (rebuild); pure core {results['core_hands_per_s']:,.0f} hands/s"
    )
    for backend in ("redis", "database"):
        print(
            f"{backend:>8}, {results['players']:,} players: top-100 median"
            f" {results[f'{backend}_top100_ms_p50']:.2f} ms (p99"
            f" {results[f'{backend}_top100_ms_p99']:.2f}), my-rank median"
            f" {results[f'{backend}_rank_ms_p50']:.2f} ms (p99"
            f" {results[f'{backend}_rank_ms_p99']:.2f})"
        )
    print(f"same answers on both: {results['same_answers']}")
    return 0


async def _bench(args: argparse.Namespace) -> dict[str, Any]:
    from persistence.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        url, schema = await _scratch_url(args.database_url, Path(tmp))
        try:
            async with open_store(url) as store:
                results = await _measure(store, args)
        finally:
            if schema:
                await _drop_schema(args.database_url, schema)
    results["backend"] = "postgresql" if schema else "sqlite"
    return results


async def _scratch_url(database_url: str, tmp: Path) -> tuple[str, str]:
    if not database_url:
        return f"sqlite:///{tmp / 'bench.sqlite3'}", ""
    from persistence.store import open_store
    from persistence.work import Query

    schema = f"bench_players_{secrets.token_hex(4)}"

    def create() -> Any:
        yield Query(f'CREATE SCHEMA "{schema}"')

    async with open_store(database_url, migrate=False, pool_size=1) as admin:
        await admin.run(create)
    joiner = "&" if "?" in database_url else "?"
    return f"{database_url}{joiner}search_path={schema}", schema


async def _drop_schema(database_url: str, schema: str) -> None:
    from persistence.store import open_store
    from persistence.work import Query

    def drop() -> Any:
        yield Query(f'DROP SCHEMA "{schema}" CASCADE')

    async with open_store(database_url, migrate=False, pool_size=1) as admin:
        await admin.run(drop)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measure(store: Any, args: argparse.Namespace) -> dict[str, Any]:
    from persistence import players as stored
    from persistence.hands import HandPlayer, HandRecord
    from persistence.leaderboards_redis import RedisLeaderboards, member
    from persistence.redis_link import open_redis
    from persistence.work import Query, QueryMany
    from players.progress import period_key
    from players.stats import hand_facts
    from poker import phh
    from poker.config import Variant
    from poker.simulate import random_setup, simulate_hand
    from services.leaderboards import Leaderboards

    rng = random.Random(args.seed)
    results: dict[str, Any] = {"players": args.players, "hands": args.hands}

    # --- the consumer -----------------------------------------------------------------------
    now_ms = store.clock_ms()
    records: list[HandRecord] = []
    for n in range(args.hands):
        ids = rng.sample(range(1, CONSUMER_PLAYERS + 1), 6)
        setup = random_setup(Variant.NO_LIMIT_HOLDEM, 6, rng)
        history = replace(simulate_hand(setup, rng), players=tuple(str(i) for i in ids))
        finishing = history.finishing_stacks
        assert finishing is not None
        records.append(
            HandRecord(
                hand_id=f"bench-{n}", table_id="bench", game="NT 1/2",
                started_at_ms=now_ms, ended_at_ms=now_ms, pot_total=0, rake=0,
                players=tuple(
                    HandPlayer(pid, seat, end - start)
                    for seat, (pid, start, end) in enumerate(
                        zip(ids, history.starting_stacks, finishing, strict=True)
                    )
                ),
                phh=phh.dumps(history),
            )
        )  # fmt: skip
    started = time.perf_counter()
    for record in records:
        hand_facts(stored.finished_hand(record))
    results["core_hands_per_s"] = len(records) / (time.perf_counter() - started)
    started = time.perf_counter()
    for record in records:
        await store.run(partial(stored.apply_hand, record, now_ms))
    results["consumer_hands_per_s"] = len(records) / (time.perf_counter() - started)
    # The same hands counted again, 100 per transaction (how rebuild-stats counts them).
    await store.run(stored.clear_derived)
    started = time.perf_counter()
    for start in range(0, len(records), 100):
        await store.run(partial(stored.apply_hands, records[start : start + 100], now_ms))
    results["rebuild_hands_per_s"] = len(records) / (time.perf_counter() - started)

    # --- leaderboards -----------------------------------------------------------------------
    # The next day's board: the consumer above wrote today's for its players.
    at_ms = now_ms + 86_400_000
    period = period_key("daily", at_ms)
    scores = [rng.randrange(0, 5_000_000) for _ in range(args.players)]
    for start in range(0, args.players, LOAD_BATCH_ROWS):
        rows = [
            (BOARD, period, pid + 1, scores[pid], 1)
            for pid in range(start, min(args.players, start + LOAD_BATCH_ROWS))
        ]

        def load(rows: list[tuple[Any, ...]] = rows) -> Any:
            yield QueryMany(
                "INSERT INTO leaderboard_scores (board, period, player_id, score, version)"
                " VALUES ($1, $2, $3, $4, $5)",
                rows,
            )

        await store.run(load)

    # Fresh planner statistics, as a live database has them (autovacuum): without them
    # PostgreSQL sorts the whole board for a top-100 instead of reading the rank index.
    def analyze() -> Any:
        yield Query("ANALYZE leaderboard_scores")

    await store.run(analyze)
    prefix = f"tablium-bench:{secrets.token_hex(4)}:"
    async with open_redis(args.redis_url) as link:
        redis = RedisLeaderboards(link, prefix=prefix)
        key = f"{prefix}lb:{BOARD}:{period}"
        try:
            for start in range(0, args.players, LOAD_BATCH_ROWS):
                mapping = {
                    member(pid + 1): scores[pid]
                    for pid in range(start, min(args.players, start + LOAD_BATCH_ROWS))
                }

                async def zadd(client: Any, mapping: dict[str, int] = mapping) -> None:
                    await client.zadd(key, mapping)

                await link.call(zadd)
            boards = {"redis": Leaderboards(store, redis), "database": Leaderboards(store)}
            lookups = [rng.randrange(1, args.players + 1) for _ in range(args.queries)]
            answers: dict[str, list[Any]] = {}
            for name, board in boards.items():
                top_ms: list[float] = []
                rank_ms: list[float] = []
                seen: list[Any] = []
                for player in lookups[:5]:  # warm up: connections, caches
                    await board.top(BOARD, "daily", 100, at_ms)
                    await board.rank(BOARD, "daily", player, at_ms)
                for _ in range(max(20, args.queries // 5)):
                    t0 = time.perf_counter()
                    seen.append(await board.top(BOARD, "daily", 100, at_ms))
                    top_ms.append(1000 * (time.perf_counter() - t0))
                for player in lookups:
                    t0 = time.perf_counter()
                    seen.append(await board.rank(BOARD, "daily", player, at_ms))
                    rank_ms.append(1000 * (time.perf_counter() - t0))
                answers[name] = seen
                results[f"{name}_top100_ms_p50"] = statistics.median(top_ms)
                results[f"{name}_top100_ms_p99"] = _percentile(top_ms, 0.99)
                results[f"{name}_rank_ms_p50"] = statistics.median(rank_ms)
                results[f"{name}_rank_ms_p99"] = _percentile(rank_ms, 0.99)
            results["same_answers"] = answers["redis"] == answers["database"]
        finally:

            async def clean(client: Any) -> None:
                await client.unlink(key)  # freed in the background: DEL of 10^6 members blocks

            await link.call(clean)
    return results
