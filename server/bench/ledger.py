"""``tablium bench ledger``: ledger transfers/s on PostgreSQL against raw asyncpg INSERTs.

In one run, in a scratch schema it drops afterwards:
- ledger: ``Wallet.move`` player-to-player transfers (rules, row locks, idempotency, insert,
  balance update: one transaction, one trio-asyncio crossing each; one statement when a
  transfer runs alone, see persistence/ledger_single.py) with 1 and with 50 concurrent
  clients;
- raw: the same rows INSERTed into a copy of the transfers table by plain asyncpg, one
  autocommitted statement per crossing, with 1 and with 50 concurrent clients (the floor any
  trio code pays for one durable row);
- ledger without the outbox: the same transfers in a second scratch schema whose outbox
  trigger (migration 0012) is dropped, so the difference is what writing each transfer's
  domain event costs;
- snapshots: the batching writer fed at a fixed rate; p99 of submit-to-commit lag.
Goal: ledger >= 50% of raw at each concurrency.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from typing import Any

CLIENTS = (1, 50)
ROUNDS = 4


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TABLIUM_DATABASE_URL", ""),
        help="postgresql://... (default: TABLIUM_DATABASE_URL)",
    )
    parser.add_argument("--transfers", type=int, default=2000, help="transfers per measurement")
    parser.add_argument("--snapshot-rate", type=int, default=1000, help="snapshots per second")
    parser.add_argument("--snapshot-seconds", type=float, default=5.0)


def run(args: argparse.Namespace) -> int:
    if not args.database_url.startswith(("postgresql://", "postgres://")):
        print("tablium bench ledger: needs --database-url postgresql://...", file=sys.stderr)
        return 2
    import trio

    results = trio.run(_bench, args)
    if args.json:
        print(json.dumps(results, sort_keys=True))
    else:
        for clients in CLIENTS:
            ledger = results[f"ledger_transfers_per_s_{clients}"]
            raw = results[f"raw_inserts_per_s_{clients}"]
            print(
                f"{clients:>2} client(s): ledger {ledger:,.0f} transfers/s, raw asyncpg"
                f" {raw:,.0f} inserts/s ({100 * ledger / raw:.0f}% of raw); without the"
                f" outbox {results[f'ledger_no_outbox_per_s_{clients}']:,.0f} transfers/s"
                f" (the outbox adds {results[f'outbox_cost_us_per_transfer_{clients}']:,.0f}"
                " us per transfer)"
            )
        print(
            f"snapshots at {results['snapshot_rate_per_s']}/s: write lag p50"
            f" {results['snapshot_lag_p50_ms']:.1f} ms, p99 {results['snapshot_lag_p99_ms']:.1f}"
            f" ms, {results['snapshot_batches']} batches"
        )
    return 0


async def _bench(args: argparse.Namespace) -> dict[str, Any]:
    from persistence.store import open_store
    from persistence.work import Query, Work

    schema = f"bench_{secrets.token_hex(4)}"
    bare_schema = f"{schema}_no_outbox"  # the same schema without the outbox trigger

    def ddl(sql: str) -> Work[None]:
        yield Query(sql)

    async with open_store(args.database_url, migrate=False, pool_size=1) as admin:
        await admin.run(lambda: ddl(f'CREATE SCHEMA "{schema}"'))
        await admin.run(lambda: ddl(f'CREATE SCHEMA "{bare_schema}"'))
        try:
            sep = "&" if "?" in args.database_url else "?"
            url = f"{args.database_url}{sep}search_path={schema}"
            bare_url = f"{args.database_url}{sep}search_path={bare_schema}"
            async with (
                open_store(url, pool_size=max(CLIENTS)) as store,
                # Its transfers run one batch at a time (ledger_batch.py): few connections,
                # so both pools stay well within PostgreSQL's max_connections.
                open_store(bare_url, pool_size=4) as bare,
            ):
                await bare.run(
                    lambda: ddl("DROP TRIGGER outbox_transfer_event ON ledger_transfers")
                )
                return await _measure(store, bare, args)
        finally:
            await admin.run(lambda: ddl(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.run(lambda: ddl(f'DROP SCHEMA "{bare_schema}" CASCADE'))


async def _measure(store: Any, bare: Any, args: argparse.Namespace) -> dict[str, Any]:
    import random

    from persistence.postgres import PostgresStore
    from persistence.work import Query, Work
    from services.ledger import wallet
    from services.wallet import Wallet

    assert isinstance(store, PostgresStore)
    w = Wallet(store)
    w_bare = Wallet(bare)
    players = list(range(1, 101))
    for p in players:  # start every wallet rich enough that no transfer is refused
        await w.adjust(f"seed-{p}", wallet(p), 10**9, memo="bench")
        await w_bare.adjust(f"seed-{p}", wallet(p), 10**9, memo="bench")

    def copy_table() -> Work[None]:
        yield Query(
            "CREATE TABLE raw_transfers (LIKE ledger_transfers INCLUDING DEFAULTS"
            " INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING INDEXES)"
        )

    await store.run(copy_table)
    rng = random.Random(7)
    results: dict[str, Any] = {}
    for clients in CLIENTS:
        plan = [(rng.sample(players, 2), rng.randint(1, 100)) for _ in range(args.transfers)]
        tag = f"c{clients}-{secrets.token_hex(3)}"

        async def ledger_one(i: int, plan: Any = plan, tag: str = tag) -> None:
            (a, b), amount = plan[i]
            await w.move(f"{tag}-{i}", "player_transfer", wallet(a), wallet(b), amount)

        async def bare_one(i: int, plan: Any = plan, tag: str = tag) -> None:
            (a, b), amount = plan[i]
            await w_bare.move(f"{tag}-{i}", "player_transfer", wallet(a), wallet(b), amount)

        async def raw_one(i: int, plan: Any = plan, tag: str = tag) -> None:
            (a, b), amount = plan[i]
            await store.raw_connection_run(
                _raw_insert, f"raw-{tag}-{i}", wallet(a), wallet(b), amount, a, b
            )

        # Interleaved rounds, alternating which goes first, so that load from elsewhere on
        # the machine falls on both sides alike.
        spent = {"ledger": 0.0, "raw": 0.0, "bare": 0.0}
        for r in range(ROUNDS):
            chunk = range(r * len(plan) // ROUNDS, (r + 1) * len(plan) // ROUNDS)
            order = [("ledger", ledger_one), ("raw", raw_one), ("bare", bare_one)]
            for name, one in order if r % 2 == 0 else order[::-1]:
                spent[name] += await _timed(one, chunk, clients)
        results[f"ledger_transfers_per_s_{clients}"] = len(plan) / spent["ledger"]
        results[f"raw_inserts_per_s_{clients}"] = len(plan) / spent["raw"]
        results[f"ledger_no_outbox_per_s_{clients}"] = len(plan) / spent["bare"]
        # What writing each transfer's event costs the ledger, per transfer (wall time).
        results[f"outbox_cost_us_per_transfer_{clients}"] = (
            1e6 * (spent["ledger"] - spent["bare"]) / len(plan)
        )
        results[f"ledger_vs_raw_{clients}"] = (
            results[f"ledger_transfers_per_s_{clients}"] / results[f"raw_inserts_per_s_{clients}"]
        )
    audit = await w.audit()
    assert audit.consistent, audit
    results.update(await _snapshot_lag(store, args.snapshot_rate, args.snapshot_seconds))
    return results


async def _raw_insert(
    conn: Any, key: str, debit: Any, credit: Any, amount: int, debit_id: int, credit_id: int
) -> None:
    now_ms = time.time_ns() // 1_000_000
    await conn.execute(
        "INSERT INTO raw_transfers (idempotency_key, content_hash, kind, debit_account_id,"
        " credit_account_id, debit_kind, debit_owner, credit_kind, credit_owner, amount, state,"
        " memo, created_at_ms, updated_at_ms, asset)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)",
        key, "0" * 64, "player_transfer", debit_id, credit_id, debit.kind, debit.owner,
        credit.kind, credit.owner, amount, "posted", "", now_ms, debit.asset,
    )  # fmt: skip


async def _timed(one: Any, indices: range, clients: int) -> float:
    """Seconds to run ``one(i)`` for every index, from ``clients`` concurrent tasks."""
    import trio

    todo = iter(indices)

    async def client() -> None:
        for i in todo:  # shared iterator: each index taken by exactly one client
            await one(i)

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(clients):
            nursery.start_soon(client)
    return time.perf_counter() - start


async def _snapshot_lag(store: Any, rate: int, seconds: float) -> dict[str, Any]:
    import trio

    from persistence.snapshot_writer import SnapshotWriter
    from persistence.snapshots import Snapshot

    writer = SnapshotWriter(store)
    actors = 200
    blob = secrets.token_bytes(1024)
    total = int(rate * seconds)
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        start = trio.current_time()
        for i in range(total):
            # Paced by the clock, not by sleeps per item: late ticks catch up.
            await trio.sleep_until(start + i / rate)
            version, actor = divmod(i, actors)
            await writer.submit(Snapshot("table", f"table:{actor}", version + 1, blob))
        await writer.flush()
        nursery.cancel_scope.cancel()
    stats = writer.stats
    return {
        "snapshot_rate_per_s": rate,
        "snapshot_submitted": stats.submitted,
        "snapshot_written": stats.written,
        "snapshot_batches": stats.batches,
        "snapshot_lag_p50_ms": stats.lag_percentile_ms(50),
        "snapshot_lag_p99_ms": stats.lag_percentile_ms(99),
    }
