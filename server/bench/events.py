"""``tablium bench events``: events relayed from the outbox to RabbitMQ with publisher confirms,
against publishing the same messages directly with the same client, in the same run.

In a scratch database (a temporary SQLite file, or a scratch schema of ``--database-url``'s
PostgreSQL, dropped afterwards) and on a scratch exchange with one durable queue bound to it
(so that the broker persists every message before it confirms it, as in production), each
round:

- writes ``--events`` pending events into the outbox (not timed);
- direct: publishes their CloudEvents bodies, built beforehand, in batches of ``--batch``
  through ``AmqpBus.publish_direct`` (the relay's client, channel and confirms, nothing else);
- relay: runs the relay until the outbox is drained: read a batch, build the bodies, publish
  with confirms, stamp them relayed (one transaction).

Rounds alternate which side goes first; the figures are the medians. Goal: relayed >= 70% of
direct.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from typing import Any

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
EVENTS_MAX = 1_000_000  # bound: --events above it is refused


def _positive(limit: int) -> Any:
    def parse(text: str) -> int:
        value = int(text)
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"between 1 and {limit}")
        return value

    return parse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TABLIUM_DATABASE_URL", ""),
        help="postgresql://... (default: TABLIUM_DATABASE_URL; unset: a temporary SQLite file)",
    )
    parser.add_argument(
        "--amqp-url",
        default=os.environ.get("TABLIUM_AMQP_URL", "") or DEFAULT_AMQP_URL,
        help=f"the broker (default: TABLIUM_AMQP_URL, else {DEFAULT_AMQP_URL})",
    )
    parser.add_argument(
        "--events", type=_positive(EVENTS_MAX), default=20_000, help="events per round"
    )
    parser.add_argument("--batch", type=_positive(1000), default=500, help="events per batch")
    parser.add_argument("--rounds", type=_positive(20), default=3, help="rounds (medians)")


def run(args: argparse.Namespace) -> int:
    import trio

    results = trio.run(_bench, args)
    if args.json:
        print(json.dumps(results, sort_keys=True))
    else:
        print(
            f"{results['backend']}, {args.events} events x {args.rounds} rounds, batches of"
            f" {args.batch}: relayed {results['relayed_events_per_s']:,.0f} events/s, direct"
            f" {results['direct_events_per_s']:,.0f} events/s"
            f" ({100 * results['relayed_vs_direct']:.0f}% of direct; goal >= 70%)"
        )
    return 0


async def _bench(args: argparse.Namespace) -> dict[str, Any]:
    from persistence.store import open_store
    from persistence.work import Query, Work

    def ddl(sql: str) -> Work[None]:
        yield Query(sql)

    if not args.database_url:
        with tempfile.TemporaryDirectory(prefix="tablium-bench-events-") as scratch:
            async with open_store(f"sqlite:///{scratch}/bench.sqlite3") as store:
                result: dict[str, Any] = await _measure(store, args, "sqlite")
                return result
    if not args.database_url.startswith(("postgresql://", "postgres://")):
        print("tablium bench events: --database-url must be postgresql://...", file=sys.stderr)
        raise SystemExit(2)
    schema = f"bench_{secrets.token_hex(4)}"
    async with open_store(args.database_url, migrate=False, pool_size=1) as admin:
        await admin.run(lambda: ddl(f'CREATE SCHEMA "{schema}"'))
        try:
            sep = "&" if "?" in args.database_url else "?"
            url = f"{args.database_url}{sep}search_path={schema}"
            async with open_store(url, pool_size=4) as store:
                return await _measure(store, args, "postgres")
        finally:
            await admin.run(lambda: ddl(f'DROP SCHEMA "{schema}" CASCADE'))


async def _measure(store: Any, args: argparse.Namespace, backend: str) -> dict[str, Any]:
    from functools import partial

    import trio

    from persistence import outbox
    from persistence.amqp import AmqpBus, open_amqp_loop
    from persistence.event_bus import to_cloudevent
    from persistence.outbox import OutboxEvent
    from persistence.relay import OutboxRelay

    exchange = f"tablium.bench-{secrets.token_hex(4)}"
    queue = f"{exchange}.all"
    direct_rates: list[float] = []
    relay_rates: list[float] = []
    async with open_amqp_loop() as loop:
        await loop.run_aio_coroutine(_declare(args.amqp_url, exchange, queue))
        bus = AmqpBus(args.amqp_url, loop, exchange=exchange)
        try:
            for round_number in range(args.rounds):
                first_id = await store.run(_next_id, read_only=True)
                await _write_pending(store, args.events, round_number)
                rows: list[OutboxEvent] = []
                while len(rows) < args.events:  # the same messages the relay will send
                    after = rows[-1].id + 1 if rows else first_id
                    rows.extend(
                        await store.run(partial(outbox.between, after, None, 1000), read_only=True)
                    )
                assert all(r.relayed_at_ms is None for r in rows)
                messages = [(r.routing_key, str(r.id), to_cloudevent(r)) for r in rows]

                async def direct(messages: Any = messages) -> float:
                    start = time.perf_counter()
                    for i in range(0, len(messages), args.batch):
                        await bus.publish_direct(messages[i : i + args.batch])
                    return len(messages) / (time.perf_counter() - start)

                async def relayed() -> float:
                    relay = OutboxRelay(store, bus, batch_events_max=args.batch)
                    start = time.perf_counter()
                    async with trio.open_nursery() as nursery:
                        await nursery.start(relay.run)
                        await relay.drained()
                        elapsed = time.perf_counter() - start
                        nursery.cancel_scope.cancel()
                    assert relay.stats.published == args.events, relay.stats.published
                    return float(args.events / elapsed)

                sides = [(direct_rates, direct), (relay_rates, relayed)]
                for rates, side in sides if round_number % 2 == 0 else sides[::-1]:
                    rates.append(await side())
                    await loop.run_aio_coroutine(_purge(args.amqp_url, queue))
        finally:
            await bus.aclose()
            with trio.CancelScope(shield=True):
                await loop.run_aio_coroutine(_delete(args.amqp_url, exchange, queue))
    direct_median = statistics.median(direct_rates)
    relay_median = statistics.median(relay_rates)
    return {
        "backend": backend,
        "events": args.events,
        "batch": args.batch,
        "rounds": args.rounds,
        "direct_events_per_s": direct_median,
        "relayed_events_per_s": relay_median,
        "relayed_vs_direct": relay_median / direct_median,
        "direct_rounds": direct_rates,
        "relayed_rounds": relay_rates,
    }


def _next_id() -> Any:
    from persistence.work import Query

    rows = yield Query("SELECT COALESCE(MAX(id), 0) + 1 FROM outbox")
    return int(rows[0][0])


async def _write_pending(store: Any, count: int, round_number: int) -> None:
    """``count`` pending player.banned events over 100 aggregates, 1,000 per transaction."""
    import msgspec

    from persistence.events import PlayerBanChanged
    from persistence.work import QueryMany, Work

    now_ms = time.time_ns() // 1_000_000

    def chunk(first: int, last: int) -> Work[None]:
        rows = []
        for i in range(first, last):
            player = i % 100
            payload = msgspec.json.encode(PlayerBanChanged(player_id=player, banned=i % 2 == 0))
            rows.append(
                (
                    "player.banned", 1, f"player:bench{round_number}-{player}", i // 100 + 1,
                    now_ms, payload.decode(),
                )
            )  # fmt: skip
        yield QueryMany(
            "INSERT INTO outbox (event_type, schema_version, aggregate, sequence, at_ms, payload)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            rows,
        )

    for first in range(0, count, 1000):
        await store.run(lambda first=first: chunk(first, min(first + 1000, count)))


async def _declare(url: str, exchange: str, queue: str) -> None:
    import aiormq

    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel()
        await channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
        await channel.queue_declare(queue, durable=True)
        await channel.queue_bind(queue, exchange, routing_key="#")
    finally:
        await connection.close()


async def _purge(url: str, queue: str) -> None:
    import aiormq

    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel()
        await channel.queue_purge(queue)
    finally:
        await connection.close()


async def _delete(url: str, exchange: str, queue: str) -> None:
    import aiormq

    connection = await aiormq.connect(url)
    try:
        channel = await connection.channel()
        await channel.queue_delete(queue)
        await channel.exchange_delete(exchange)
    finally:
        await connection.close()
