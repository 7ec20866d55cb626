"""``tablium bench api``: ``GET /v1/lobby/tables`` through the public API, with and without
``If-None-Match``, against a bare hypercorn + quart-trio route returning the same bytes, all
measured in the same run.

Each server runs in its own process (as in production, and so the clients do not share its
core): ``api`` is the real API app (create_api_app, every hook and check of a request) over a
real lobby actor holding ``--tables`` listings; ``bare`` is one quart-trio route that returns
the API's answer, read from the API first, as fixed bytes. The clients run here: ``--clients``
keep-alive HTTP/1.1 connections, each sending one prebuilt request and reading the whole
answer, again and again. Three measurements, alternated ``--repeats`` times (the median run
counts): ``bare`` (200), ``api_200`` (no If-None-Match) and ``api_304`` (If-None-Match with
the current ETag). Reported: requests/s, p50/p99, and the server process's CPU time per
request.

Goals (issue 18): api_200 reaches at least half of bare's requests/s; a 304 costs at most
half the server CPU of a 200.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from typing import Any, Final

GOAL_RATIO: Final = 0.50  # api_200 requests/s over bare's
GOAL_304_CHEAPER: Final = 2.0  # server CPU of a 200 over a 304's
SAMPLES_PER_CLIENT_MAX: Final = 20_000  # bound on kept latency samples (later ones counted)
ROUTE: Final = "/v1/lobby/tables"
RESPONSE_BYTES_MAX: Final = 4 * 1024 * 1024  # a larger answer is a broken benchmark


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", type=int, default=16, help="keep-alive connections (16)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time each (5)")
    parser.add_argument("--warmup-s", type=float, default=1.0, help="unmeasured warm-up (1)")
    parser.add_argument("--tables", type=int, default=100, help="tables in the lobby (100)")
    parser.add_argument(
        "--limit", type=int, default=100, help="tables per page asked for (100: the default)"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each, alternating; the median run (3)"
    )


@dataclass(frozen=True)
class Figures:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    server_cpu_us_per_request: float
    status: int
    body_bytes: int


def run(args: argparse.Namespace) -> int:
    # The API first: the bare server answers with the bytes the API gave.
    runs: dict[str, list[Figures]] = {"api_200": [], "api_304": [], "bare": []}
    with tempfile.TemporaryDirectory() as data_dir:
        for _ in range(args.repeats):
            for kind in runs:  # alternating spreads the machine's background load over all
                runs[kind].append(_run_once(kind, data_dir, args))
    results = {kind: sorted(figures, key=lambda f: f.rps)[len(figures) // 2] for kind, figures
               in runs.items()}  # fmt: skip
    ratio = results["api_200"].rps / results["bare"].rps
    cheaper = (
        results["api_200"].server_cpu_us_per_request / results["api_304"].server_cpu_us_per_request
    )
    if args.json:
        print(
            json.dumps(
                {
                    "benchmark": "api",
                    "clients": args.clients,
                    "tables": args.tables,
                    "limit": args.limit,
                    "seconds": args.seconds,
                    "repeats": args.repeats,
                    **{kind: asdict(figures) for kind, figures in results.items()},
                    "ratio": round(ratio, 3),
                    "goal_ratio": GOAL_RATIO,
                    "cpu_200_over_304": round(cheaper, 2),
                    "goal_cpu_200_over_304": GOAL_304_CHEAPER,
                }
            )
        )
        return 0
    for kind, f in results.items():
        print(
            f"{kind:8} {f.rps:8.0f} requests/s   p50 {f.p50_ms:6.2f} ms   p99 {f.p99_ms:6.2f} ms"
            f"   server CPU {f.server_cpu_us_per_request:6.1f} us/request   ({f.status},"
            f" {f.body_bytes} bytes, {args.clients} clients, {f.seconds:.1f} s)"
        )
    print(f"api_200 / bare = {ratio:.2f} (goal >= {GOAL_RATIO:.2f})")
    print(f"CPU of a 200 / CPU of a 304 = {cheaper:.2f} (goal >= {GOAL_304_CHEAPER:.1f})")
    return 0


def _run_once(kind: str, data_dir: str, args: argparse.Namespace) -> Figures:
    import trio

    server_kind = "bare" if kind == "bare" else "api"
    server = subprocess.Popen(
        [sys.executable, "-m", "server.bench.api", server_kind, data_dir, str(args.tables)],
        env={**os.environ, "TABLIUM_LOG_LEVEL": "warning"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        return trio.run(_measure, kind, server, data_dir, args)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=10)


# --- the clients -------------------------------------------------------------------------


class _Connection:
    """The least client-side work per request: one prebuilt request out, the status line,
    Content-Length and the body in."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._buffer = bytearray()

    async def exchange(self, request: bytes) -> tuple[int, bytes, bytes]:
        await self._stream.send_all(request)
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            await self._fill()
        head = bytes(self._buffer[:end])
        del self._buffer[: end + 4]
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length > RESPONSE_BYTES_MAX:
            raise RuntimeError(f"a {length}-byte answer")
        while len(self._buffer) < length:
            await self._fill()
        body = bytes(self._buffer[:length])
        del self._buffer[:length]
        return status, head, body

    async def _fill(self) -> None:
        data = await self._stream.receive_some(65536)
        if not data:
            raise EOFError("the server closed the connection")
        self._buffer += data


def _request(port: int, etag: str | None, limit: int) -> bytes:
    extra = f"If-None-Match: {etag}\r\n" if etag else ""
    path = f"{ROUTE}?limit={limit}"
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode()


def _etag_of(head: bytes) -> str:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"etag":
            return value.strip().decode()
    raise RuntimeError("the API's answer has no ETag")


async def _measure(
    kind: str, server: subprocess.Popen[str], data_dir: str, args: argparse.Namespace
) -> Figures:
    import trio

    assert server.stdin is not None and server.stdout is not None
    port = int(await trio.to_thread.run_sync(server.stdout.readline))
    probe = _Connection(await trio.open_tcp_stream("127.0.0.1", port))
    status, head, body = await probe.exchange(_request(port, None, args.limit))
    assert status == 200, f"{kind}: the first answer is {status}"
    etag = None
    if kind != "bare":
        # The bare server answers with these very bytes.
        await trio.Path(data_dir, "body.json").write_bytes(body)
        if kind == "api_304":
            etag = _etag_of(head)
    request = _request(port, etag, args.limit)
    expected = 304 if kind == "api_304" else 200
    measuring = False
    counts = [0] * args.clients
    samples: list[list[float]] = [[] for _ in range(args.clients)]
    sizes: set[int] = set()

    async def client(index: int) -> None:
        connection = _Connection(await trio.open_tcp_stream("127.0.0.1", port))
        kept = samples[index]
        clock = trio.current_time
        while True:
            started = clock()
            answer_status, _, answer = await connection.exchange(request)
            if answer_status != expected:
                raise RuntimeError(f"{kind}: answered {answer_status}, expected {expected}")
            if measuring:
                counts[index] += 1
                if len(kept) < SAMPLES_PER_CLIENT_MAX:
                    kept.append(clock() - started)
            elif index == 0:
                sizes.add(len(answer))

    def server_cpu_s() -> float:
        assert server.stdin is not None and server.stdout is not None
        server.stdin.write("cpu\n")
        server.stdin.flush()
        return float(server.stdout.readline())

    async with trio.open_nursery() as nursery:
        for index in range(args.clients):
            nursery.start_soon(client, index)
        await trio.sleep(args.warmup_s)
        cpu_before = await trio.to_thread.run_sync(server_cpu_s)
        started = trio.current_time()
        measuring = True
        await trio.sleep(args.seconds)
        measuring = False
        elapsed = trio.current_time() - started
        cpu_after = await trio.to_thread.run_sync(server_cpu_s)
        nursery.cancel_scope.cancel()
    total = sum(counts)
    latencies = sorted(s for kept in samples for s in kept)
    quantiles = statistics.quantiles(latencies, n=100)
    return Figures(
        requests=total,
        seconds=round(elapsed, 3),
        rps=round(total / elapsed, 1),
        p50_ms=round(quantiles[49] * 1000, 3),
        p99_ms=round(quantiles[98] * 1000, 3),
        server_cpu_us_per_request=round((cpu_after - cpu_before) / max(total, 1) * 1e6, 1),
        status=expected,
        body_bytes=max(sizes, default=0),
    )


# --- the servers (each in its own process: python -m server.bench.api KIND DIR TABLES) -------


def _stand_in_table() -> Any:
    from actors.actor import Actor

    class StandInTable(Actor[object]):
        """A listed table's address, and nothing more: the lobby keeps a listing while the
        table's actor lives."""

        async def handle(self, message: object) -> object:
            return None

    return StandInTable()


def _listings(count: int) -> list[tuple[Any, Any]]:
    """``count`` tables' listings and configs, of several games and stakes."""
    from actors.table.config import TableConfig
    from poker import Variant
    from protocol.game import TableListing

    variants = [Variant.NO_LIMIT_HOLDEM, Variant.POT_LIMIT_OMAHA, Variant.FIXED_LIMIT_HOLDEM]
    found = []
    for n in range(count):
        variant = variants[n % len(variants)]
        big_blind = (2, 4, 10, 50)[n // len(variants) % 4]
        table_id = f"bench-{n:04}"
        config = TableConfig(
            table_id=table_id, name=f"Bench {n}", variant=variant,
            small_blind=big_blind // 2, big_blind=big_blind,
        )  # fmt: skip
        listing = TableListing(
            table_id=table_id, name=f"Bench {n}", variant=variant.value,  # type: ignore[arg-type]
            small_blind=big_blind // 2, big_blind=big_blind, buy_in_min=40 * big_blind,
            buy_in_max=200 * big_blind, seats_total=6, seats_taken=n % 7,
            waiting=0, average_pot=13 * big_blind, hands_per_hour=60 + n % 30, rake_bp=500,
            rake_cap=3 * big_blind,
        )  # fmt: skip
        found.append((listing, config))
    return found


def _serve(kind: str, data_dir: str, tables: int) -> None:
    import dataclasses
    import time
    from functools import partial

    import hypercorn.config
    import hypercorn.trio
    import trio
    from quart import Response
    from quart_trio import QuartTrio

    from server.logs import configure_logging

    configure_logging("console", "warning")  # stdout carries the port and CPU answers

    def config() -> hypercorn.config.Config:
        hyper = hypercorn.config.Config()
        hyper.bind = ["127.0.0.1:0"]
        hyper.accesslog = None
        hyper.include_server_header = False  # as api/serve.py configures the API's
        # hypercorn closes a connection after 1,000 requests by default; the bench's clients
        # keep theirs for the whole run (a quiet machine does 1,000 a connection in 5 s).
        hyper.keep_alive_max_requests = 10**9
        return hyper

    async def answer_cpu_queries() -> None:
        while True:  # the parent asks for our CPU time around its measurement; EOF: stop
            line = await trio.to_thread.run_sync(sys.stdin.readline)
            if not line:
                return
            print(time.process_time(), flush=True)

    async def bare() -> None:
        body = await trio.Path(data_dir, "body.json").read_bytes()
        app = QuartTrio("bench.bare")

        @app.get(ROUTE)
        async def tables_route() -> Response:
            return Response(body, content_type="application/json")

        async with trio.open_nursery() as nursery:
            binds = await nursery.start(partial(hypercorn.trio.serve, app, config()))
            print(binds[0].rsplit(":", 1)[1], flush=True)
            await answer_cpu_queries()
            nursery.cancel_scope.cancel()

    async def api() -> None:
        import random

        from actors.addresses import TableAddress
        from actors.lobby import LobbyActor
        from actors.runtime import ChildSpec, Registry, Runtime
        from actors.table.deps import TableDeps
        from actors.table.messages import ListingChanged
        from api.app import create_api_app
        from api.context import build_context
        from api.lobby import LobbyListings, lobby_actor_source
        from persistence.store import open_store
        from server.config import Settings
        from server.gateway import PlayerChannel
        from services.wallet import Wallet

        settings = dataclasses.replace(
            Settings(jwt_secret="bench-" + "x" * 40),
            api_rate_ip_burst_requests=10**9,
            api_rate_ip_refill_per_s=10**9,
        )
        async with open_store(f"sqlite:///{data_dir}/bench.sqlite3") as store:
            registry = Registry()
            deps = TableDeps(
                store=store, wallet=Wallet(store), channel=PlayerChannel(), rng=random.Random(1)
            )
            listed = _listings(tables)
            # The lobby lists a table only while its actor lives (it monitors each one):
            # stand-ins hold the tables' addresses; the listings are the bench's own.
            stand_ins = [
                ChildSpec.worker(TableAddress(listing.table_id).actor_name, _stand_in_table)
                for listing, _config in listed
            ]
            runtime = Runtime(
                [*stand_ins, ChildSpec.worker("lobby", partial(LobbyActor, deps))],
                registry=registry,
                metrics_registry=None,
            )
            async with trio.open_nursery() as nursery:
                await nursery.start(runtime.run)
                lobby = registry.lookup("lobby")
                assert lobby is not None
                for listing, table_config in listed:
                    lobby.tell(ListingChanged(listing=listing, config=table_config))
                context = build_context(
                    settings,
                    store,
                    Wallet(store),
                    lambda: None,
                    LobbyListings(lobby_actor_source(registry)),
                )
                app = create_api_app(context)
                binds = await nursery.start(partial(hypercorn.trio.serve, app, config()))
                print(binds[0].rsplit(":", 1)[1], flush=True)
                await answer_cpu_queries()
                nursery.cancel_scope.cancel()

    trio.run(bare if kind == "bare" else api)


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))
