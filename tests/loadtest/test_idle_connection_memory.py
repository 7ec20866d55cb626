"""What an idle connection costs the server: 200 logged-in, idle websocket connections to a
gateway under the actor runtime (a session actor each, as `tablium serve` runs them), measured
with tracemalloc in this process (issue 25's goal: at most 30 KB per idle connection, as the
resident set `tablium bench table` measures it; docs/loadtest.md).

The clients are raw sockets (server/bench/rawws.py) in a process of their own. The figure is
Python's own allocations (not the allocator's slack or the kernel's socket buffers, which the
resident set also counts), and it is stable to a few bytes from run to run: every connection
takes the same path."""

from __future__ import annotations

import gc
import subprocess
import sys
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

import trio
import trio.testing

from server.gateway import GatewayLimits
from tests.server.test_gateway_actors import supervised_gateway

CONNECTIONS: Final = 200
WARM_UP_CONNECTIONS: Final = 20  # first: lazy imports, caches and free lists fill
# tracemalloc's figure on 2026-12-02 (Python 3.11.7, websockets 17.4): 20.1 KB since the
# gateway's own websocket replaced trio-websocket's server (issue 25, cut 3; 29.6 KB with
# trio-websocket and wsproto, 43.0 KB before the cuts of issue 25); the session actor is ~6 KB
# of it. The bound leaves room for dependency updates, not for a task (~3 KB) or a dict of
# bound methods more per connection.
IDLE_CONNECTION_BYTES_MAX: Final = 24 * 1024


# The clients run in a process of their own, so that everything traced here is the server's.
CLIENTS_SCRIPT: Final = """
import sys, trio
from protocol.codec import ServerMessageDecoder, encode
from protocol.messages import GuestLogin, Hello, LoggedIn, Welcome
from server.bench.rawws import RawWebsocket

async def main(port, count):
    decoder, kept = ServerMessageDecoder(), []
    for _ in range(count):
        ws = RawWebsocket(await trio.open_tcp_stream("127.0.0.1", port))
        await ws.handshake("127.0.0.1", port)
        await ws.send(encode(Hello(id=1, versions=[1])))
        assert isinstance(decoder.decode(await ws.receive()), Welcome)
        await ws.send(encode(GuestLogin(id=2)))
        assert isinstance(decoder.decode(await ws.receive()), LoggedIn)
        kept.append(ws)
    print("logged_in", flush=True)
    await trio.to_thread.run_sync(sys.stdin.readline)  # until told to go

trio.run(main, int(sys.argv[1]), int(sys.argv[2]))
"""


@asynccontextmanager
async def idle_clients(port: int, count: int) -> AsyncIterator[None]:
    """``count`` connections logged in as guests, idle until the block ends."""
    process = await trio.lowlevel.open_process(
        [sys.executable, "-c", CLIENTS_SCRIPT, str(port), str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        said = b""
        while b"\n" not in said:
            chunk = await process.stdout.receive_some()
            assert chunk, "the clients' process ended early"
            said += chunk
        assert said.startswith(b"logged_in"), said
        yield
    finally:
        await process.stdin.aclose()
        await process.wait()


async def _traced_bytes() -> int:
    await trio.testing.wait_all_tasks_blocked()
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def test_an_idle_logged_in_connection_costs_the_server_under_24_kb(tmp_path: Path) -> None:
    limits = GatewayLimits(  # every client comes from one address
        guest_login=True, connections_per_ip_max=CONNECTIONS * 2, rate_ip_burst_requests=10_000
    )
    async with supervised_gateway(tmp_path, limits) as (_, gateway):
        async with idle_clients(gateway.port, WARM_UP_CONNECTIONS):
            tracemalloc.start()
            try:
                before = await _traced_bytes()
                async with idle_clients(gateway.port, CONNECTIONS):
                    assert len(gateway.sessions) == WARM_UP_CONNECTIONS + CONNECTIONS
                    after = await _traced_bytes()
            finally:
                tracemalloc.stop()
        per_connection = (after - before) / CONNECTIONS
        print(f"idle connection: {per_connection:.0f} bytes (tracemalloc)")
        assert per_connection <= IDLE_CONNECTION_BYTES_MAX
