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
import base64
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
            ws = _RawWebsocket(stream)
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
        request = _masked_binary_frame(encode(Ping(id=3)))
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


class _RawWebsocket:
    """The least client-side work per round trip: a prebuilt masked frame out, a minimal
    frame parser in. (trio-websocket on the client side costs as much CPU as the server
    under test and would make this a benchmark of the clients.)"""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._buffer = bytearray()

    async def handshake(self, host: str, port: int) -> None:
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        await self._stream.send_all(
            f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        while b"\r\n\r\n" not in self._buffer:
            await self._fill()
        head, _, rest = bytes(self._buffer).partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"handshake refused: {head[:80]!r}")
        self._buffer = bytearray(rest)

    async def send(self, payload: bytes) -> None:
        await self._stream.send_all(_masked_binary_frame(payload))

    async def receive(self) -> bytes:
        """The payload of the next server frame (servers do not mask)."""
        while True:
            if len(self._buffer) >= 2:
                size = self._buffer[1] & 0x7F
                header = 2
                if size == 126:
                    header = 4
                    size = (
                        int.from_bytes(self._buffer[2:4], "big") if len(self._buffer) >= 4 else -1
                    )
                elif size == 127:
                    header = 10
                    size = (
                        int.from_bytes(self._buffer[2:10], "big") if len(self._buffer) >= 10 else -1
                    )
                if size >= 0 and len(self._buffer) >= header + size:
                    opcode = self._buffer[0] & 0x0F
                    payload = bytes(self._buffer[header : header + size])
                    del self._buffer[: header + size]
                    if opcode == 0x9:  # the server's heartbeat ping: answer, keep reading
                        await self._stream.send_all(_masked_frame(0xA, payload))
                        continue
                    if opcode == 0x8:
                        raise EOFError(f"the server closed the connection: {payload[:2]!r}")
                    return payload
            await self._fill()

    async def _fill(self) -> None:
        data = await self._stream.receive_some(65536)
        if not data:
            raise EOFError("the server closed the connection")
        self._buffer += data


def _masked_binary_frame(payload: bytes) -> bytes:
    return _masked_frame(0x2, payload)


def _masked_frame(opcode: int, payload: bytes) -> bytes:
    """A final frame, masked as clients must (with a zero mask: the bytes stay readable,
    and servers must accept any mask)."""
    size = len(payload)
    first = 0x80 | opcode
    if size < 126:
        header = bytes([first, 0x80 | size])
    elif size < 65536:
        header = bytes([first, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([first, 0x80 | 127]) + size.to_bytes(8, "big")
    return header + b"\x00\x00\x00\x00" + payload


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
