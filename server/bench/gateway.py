"""``tablium bench gateway``: no-op request round trips through the gateway, against a raw
trio-websocket echo server measured in the same run.

Each server runs in its own process (the way it runs in production, and so that the clients
do not share its core); the clients run here, one trio task each, with the same loop for
both servers: send one small binary frame, wait for the answer, repeat. For the gateway the
frame is a Ping request of a logged-in session (token login, so no password hashing) and
the answer a Pong; for the echo server the same bytes come back. Reported per server:
round trips per second, p50/p99 round trip, and the server process's CPU time per round
trip, which tells whether the websocket layer or our code is where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from typing import Any

GOAL_RATIO = 0.60  # the gateway must reach this share of the raw echo rate
CONNECTING_AT_ONCE_MAX = 50  # handshakes in flight while the clients connect
SAMPLES_PER_CLIENT_MAX = 20_000  # bound on kept round-trip samples (later ones are counted)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", type=int, default=500, help="concurrent clients (500)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time each (5)")
    parser.add_argument("--warmup-s", type=float, default=1.0, help="unmeasured warm-up (1)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each, alternating; the median run (3)"
    )
    parser.add_argument(
        "--profile-dir",
        default=None,
        metavar="DIR",
        help="write each server process's cProfile stats to DIR/<kind>-<run>.prof",
    )


@dataclass(frozen=True)
class Figures:
    round_trips: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    server_cpu_us_per_rt: float


def run(args: argparse.Namespace) -> int:
    runs: dict[str, list[Figures]] = {"echo": [], "gateway": []}
    for repeat in range(args.repeats):
        # Alternating the two servers spreads the machine's background load over both.
        for kind in runs:
            profile = (
                os.path.join(args.profile_dir, f"{kind}-{repeat}.prof") if args.profile_dir else ""
            )
            runs[kind].append(_run_once(kind, args.clients, args.seconds, args.warmup_s, profile))
    results = {kind: _median(figures) for kind, figures in runs.items()}
    ratio = results["gateway"].rps / results["echo"].rps
    if args.json:
        print(
            json.dumps(
                {
                    "benchmark": "gateway",
                    "clients": args.clients,
                    "seconds": args.seconds,
                    "repeats": args.repeats,
                    **{kind: asdict(figures) for kind, figures in results.items()},
                    "ratio": round(ratio, 3),
                    "goal_ratio": GOAL_RATIO,
                }
            )
        )
    else:
        for kind, f in results.items():
            print(
                f"{kind:8} {f.rps:9.0f} round trips/s   p50 {f.p50_ms:6.2f} ms   p99"
                f" {f.p99_ms:6.2f} ms   server CPU {f.server_cpu_us_per_rt:5.1f} us/round trip"
                f"   ({args.clients} clients, {f.seconds:.1f} s)"
            )
        print(f"gateway / echo = {ratio:.2f} (goal >= {GOAL_RATIO:.2f})")
    return 0


def _median(runs: list[Figures]) -> Figures:
    """The run with the median rate (its own latencies and CPU, not a mix of runs)."""
    return sorted(runs, key=lambda f: f.rps)[len(runs) // 2]


def _run_once(
    kind: str, clients: int, seconds: float, warmup_s: float, profile: str = ""
) -> Figures:
    import trio

    secret = secrets.token_urlsafe(48)
    with tempfile.TemporaryDirectory() as data_dir:
        server = subprocess.Popen(
            [sys.executable, "-m", "server.bench.gateway", kind, data_dir, str(clients)],
            env={**os.environ, "TABLIUM_BENCH_SECRET": secret, "TABLIUM_BENCH_PROFILE": profile},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            return trio.run(_measure, kind, server, secret, clients, seconds, warmup_s)
        finally:
            if server.stdin is not None:
                server.stdin.close()
            server.wait(timeout=10)


# --- the clients -------------------------------------------------------------------------


async def _measure(
    kind: str,
    server: subprocess.Popen[str],
    secret: str,
    clients: int,
    seconds: float,
    warmup_s: float,
) -> Figures:
    import trio

    from protocol.codec import ServerMessageDecoder, encode
    from protocol.messages import Authenticate, Hello, LoggedIn, Ping, Pong, ServerMessage, Welcome
    from server.auth import TokenSigner
    from server.bench.rawws import RawWebsocket, masked_binary_frame

    assert server.stdin is not None and server.stdout is not None
    port = int(await trio.to_thread.run_sync(server.stdout.readline))
    signer = TokenSigner(secret)
    decoder = ServerMessageDecoder()

    def decode(frame: bytes | str) -> ServerMessage:
        assert isinstance(frame, bytes)
        return decoder.decode(frame)

    measuring = False
    counts = [0] * clients
    samples: list[list[float]] = [[] for _ in range(clients)]

    connecting = trio.CapacityLimiter(CONNECTING_AT_ONCE_MAX)
    connected = 0
    all_connected = trio.Event()

    async def client(index: int) -> None:
        nonlocal connected
        async with connecting:
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            ws = RawWebsocket(stream)
            await ws.handshake("127.0.0.1", port)
            if kind == "gateway":
                await ws.send(encode(Hello(id=1, versions=[1])))
                assert isinstance(decode(await ws.receive()), Welcome)
                token, _ = signer.issue(f"bench-{index}", "player")
                await ws.send(encode(Authenticate(id=2, token=token)))
                assert isinstance(decode(await ws.receive()), LoggedIn)
        connected += 1
        if connected == clients:
            all_connected.set()
        await all_connected.wait()
        request = masked_binary_frame(encode(Ping(id=3)))
        async with stream:
            kept = samples[index]
            clock = trio.current_time
            while True:
                started = clock()
                await stream.send_all(request)
                answer = await ws.receive()
                if measuring:
                    counts[index] += 1
                    if len(kept) < SAMPLES_PER_CLIENT_MAX:
                        kept.append(clock() - started)
                elif kind == "gateway" and index == 0:
                    assert isinstance(decode(answer), Pong)

    def server_cpu_s() -> float:
        assert server.stdin is not None and server.stdout is not None
        server.stdin.write("cpu\n")
        server.stdin.flush()
        return float(server.stdout.readline())

    async with trio.open_nursery() as nursery:
        for index in range(clients):
            nursery.start_soon(client, index)
        await all_connected.wait()
        await trio.sleep(warmup_s)
        cpu_before = await trio.to_thread.run_sync(server_cpu_s)
        started = trio.current_time()
        measuring = True
        await trio.sleep(seconds)
        measuring = False
        elapsed = trio.current_time() - started
        cpu_after = await trio.to_thread.run_sync(server_cpu_s)
        nursery.cancel_scope.cancel()
    total = sum(counts)
    rtts = sorted(s for kept in samples for s in kept)
    quantiles = statistics.quantiles(rtts, n=100)
    return Figures(
        round_trips=total,
        seconds=round(elapsed, 3),
        rps=round(total / elapsed, 1),
        p50_ms=round(quantiles[49] * 1000, 3),
        p99_ms=round(quantiles[98] * 1000, 3),
        server_cpu_us_per_rt=round((cpu_after - cpu_before) / max(total, 1) * 1e6, 1),
    )


# --- the servers (each in its own process: python -m server.bench.gateway KIND DIR N) ------


def _serve(kind: str, data_dir: str, clients: int) -> None:
    import time
    from functools import partial

    import trio
    from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

    from persistence.store import open_store
    from server.gateway import GatewayLimits, serve_gateway
    from server.logs import configure_logging

    configure_logging("console", "warning")  # stdout carries the port and CPU answers

    async def echo(request: WebSocketRequest) -> None:
        ws = await request.accept()
        try:
            while True:
                await ws.send_message(await ws.get_message())
        except ConnectionClosed:
            pass

    async def answer_cpu_queries() -> None:
        # The parent asks for our CPU time around its measurement; EOF means stop.
        while True:
            line = await trio.to_thread.run_sync(sys.stdin.readline)
            if not line:
                return
            print(time.process_time(), flush=True)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            if kind == "echo":
                server = await nursery.start(partial(serve_websocket, echo, "127.0.0.1", 0, None))
                port = server.port
            else:
                limits = GatewayLimits(
                    connections_per_ip_max=clients + 16,
                    rate_burst_requests=1_000_000,
                    rate_refill_per_s=1_000_000,
                    # Every client is on loopback: lift the per-address limits too.
                    rate_ip_burst_requests=1_000_000,
                    rate_ip_refill_per_s=1_000_000,
                    heartbeat_interval_ms=15_000,
                )
                store = await nursery.start(_open_store, f"sqlite:///{data_dir}/bench.sqlite3")
                gateway = await nursery.start(
                    partial(serve_gateway, store, os.environ["TABLIUM_BENCH_SECRET"], limits=limits)
                )
                port = gateway.port
            print(port, flush=True)
            await answer_cpu_queries()
            nursery.cancel_scope.cancel()

    async def _open_store(url: str, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        async with open_store(url) as store:
            task_status.started(store)
            await trio.sleep_forever()

    profile = os.environ.get("TABLIUM_BENCH_PROFILE", "")
    if not profile:
        trio.run(main)
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        trio.run(main)
    finally:
        profiler.disable()
        profiler.dump_stats(profile)


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))
