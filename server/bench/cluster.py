"""``tablium bench cluster``: what sharing the address rate limit through Redis costs a
request (docs/scaling.md), against the node's own bucket, in one run.

One client sends sequential pings to one gateway (a scratch SQLite store), first with no
Redis (the baseline), then with a ClusterLink taking ``--chunks`` tokens per Redis call
(16: the default; 1: exact), in ``--rounds`` alternating rounds so that the machine's load
falls on every mode alike. Also: the bare cost of one Redis round trip through the link
(PING, and the bucket's Lua script). Redis keys live under a random prefix, deleted after.

``--mode routing``: an action's round trip with the player and the table on different
nodes against the same node, in one run (server/bench/cluster_routing.py).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import tempfile
import time
from functools import partial
from typing import Any


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("TABLIUM_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="redis://HOST:PORT/DB (default: TABLIUM_REDIS_URL or 127.0.0.1:6379)",
    )
    parser.add_argument("--requests", type=int, default=2000, help="pings per round and mode")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunks", default="16,8,1", help="tokens per Redis call to compare")
    parser.add_argument(
        "--mode",
        choices=("rate-limit", "routing", "capacity"),
        default="rate-limit",
        help="rate-limit: the shared address bucket's cost; routing: an action's round trip"
        " with the player on another node than the table, against the same node; capacity:"
        " one to three nodes with the players split across them",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="routing: postgresql://... for the nodes' shared database (a scratch schema,"
        " dropped after); default: a scratch SQLite file",
    )
    parser.add_argument("--players", type=int, default=4, help="routing: players (even, 2..6)")
    parser.add_argument("--actions", type=int, default=60, help="routing: actions a side")
    parser.add_argument("--nodes", default="1,2,3", help="capacity: node counts to compare")
    parser.add_argument("--tables", type=int, default=6, help="capacity: six-seat tables")
    parser.add_argument("--seconds", type=float, default=30.0, help="capacity: the window")
    parser.add_argument("--warmup-s", type=float, default=10.0, help="capacity: before it")
    parser.add_argument("--think-ms", type=int, default=0, help="capacity: before each act")
    parser.add_argument(
        "--connect",
        choices=("spread", "owner"),
        default="spread",
        help="capacity: players connect round-robin to the nodes (spread: most actions"
        " routed) or to their table's node (owner)",
    )


def run(args: argparse.Namespace) -> int:
    import trio

    if args.mode == "capacity":
        from server.bench import cluster_capacity

        capacity = cluster_capacity.measure(args)
        print(json.dumps(capacity) if args.json else "\n".join(cluster_capacity.lines(capacity)))
        return 0
    if args.mode == "routing":
        from server.bench import cluster_routing

        routed = cluster_routing.measure(args)
        print(json.dumps(routed) if args.json else "\n".join(cluster_routing.lines(routed)))
        return 0

    chunks = [int(c) for c in args.chunks.split(",") if c.strip()]
    if not 1 <= args.requests <= 1_000_000 or not 1 <= args.rounds <= 100 or not chunks:
        raise SystemExit("need 1 <= --requests <= 1000000, 1 <= --rounds <= 100, --chunks")
    report = trio.run(_measure, args.redis_url, args.requests, args.rounds, chunks)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"redis round trip through the link: PING {report['redis_ping_us']:.0f} us"
              f" wall, bucket script {report['redis_take_us']:.0f} us wall")  # fmt: skip
        for mode, figures in report["modes"].items():
            print(
                f"{mode:>9}: {figures['round_trips_per_s']:7.0f} round trips/s (median),"
                f" {figures['cpu_us_per_request']:6.0f} us CPU per ping (client + server)"
            )
    return 0


async def _measure(redis_url: str, requests: int, rounds: int, chunks: list[int]) -> dict[str, Any]:
    from persistence.redis_link import open_redis
    from persistence.shared_state import RedisThrottles

    prefix = f"tablium-bench:{secrets.token_hex(4)}:"
    modes = ["local", *(f"chunk-{c}" for c in chunks)]
    runs: dict[str, list[tuple[float, float]]] = {mode: [] for mode in modes}
    async with open_redis(redis_url) as link:
        throttles = RedisThrottles(link, prefix)

        async def ping(client: Any) -> None:
            await client.ping()

        ping_us = await _timed(lambda: link.call(ping), requests)
        take_us = await _timed(lambda: throttles.take("bench", "k", 10**9, 1e6, 1), requests)
        try:
            for _ in range(rounds):
                for mode in modes:
                    chunk = None if mode == "local" else int(mode.removeprefix("chunk-"))
                    runs[mode].append(await _pings(link, prefix, chunk, requests))
        finally:

            async def clean(client: Any) -> None:
                async for key in client.scan_iter(match=f"{prefix}*", count=1000):
                    await client.delete(key)

            await link.call(clean)
    return {
        "benchmark": "cluster",
        "requests": requests,
        "rounds": rounds,
        "redis_ping_us": ping_us,
        "redis_take_us": take_us,
        "modes": {
            mode: {
                "round_trips_per_s": statistics.median(r for r, _ in figures),
                "cpu_us_per_request": statistics.median(c for _, c in figures),
                "runs": [{"round_trips_per_s": r, "cpu_us_per_request": c} for r, c in figures],
            }
            for mode, figures in runs.items()
        },
    }


async def _timed(call: Any, count: int) -> float:
    for _ in range(min(100, count)):
        await call()
    started = time.perf_counter()
    for _ in range(count):
        await call()
    return (time.perf_counter() - started) / count * 1e6


async def _pings(link: Any, prefix: str, chunk: int | None, requests: int) -> tuple[float, float]:
    """(round trips/s, CPU µs per ping) of one client against one gateway."""
    import trio

    from persistence.store import open_store
    from protocol.client import open_client
    from server.cluster import ClusterLink, ClusterSettings
    from server.gateway import GatewayLimits, serve_gateway
    from services.passwords import CHEAP_HASHING_FOR_TESTS

    unlimited = 10**6
    limits = GatewayLimits(
        rate_burst_requests=unlimited,
        rate_refill_per_s=unlimited,
        rate_ip_burst_requests=unlimited,
        rate_ip_refill_per_s=unlimited,
    )
    cluster = None
    if chunk is not None:
        settings = ClusterSettings(address_rate_chunk=chunk)
        cluster = ClusterLink(link, node="bench", prefix=f"{prefix}{chunk}:", settings=settings)
    with tempfile.TemporaryDirectory() as scratch:
        async with (
            open_store(f"sqlite:///{scratch}/bench.sqlite3") as store,
            trio.open_nursery() as nursery,
        ):
            gateway = await nursery.start(
                partial(
                    serve_gateway,
                    store,
                    secrets.token_urlsafe(32),
                    limits=limits,
                    hashing=CHEAP_HASHING_FOR_TESTS,
                    metrics_registry=None,
                    cluster=cluster,
                )
            )
            async with open_client(gateway.url) as client:
                await client.register("bencher", "correct horse battery")
                for _ in range(min(200, requests)):
                    await client.ping()
                wall, cpu = time.perf_counter(), time.process_time()
                for _ in range(requests):
                    await client.ping()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            nursery.cancel_scope.cancel()
    return requests / wall, cpu / requests * 1e6
