"""Hostile text and our own crashes, over real websockets.

A NUL in any string is refused at the decoder with the same answer on SQLite and PostgreSQL
(PostgreSQL used to raise inside the session and crash it). A session that does crash closes
with 1011, and its traceback costs the other players nothing noticeable.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
import structlog
import trio
from trio_websocket import open_websocket_url

from protocol.client import open_client
from protocol.codec import encode
from protocol.errors import CloseCode, ErrorCode
from protocol.game import GameRequest, SitOut
from protocol.messages import Error, Pong, Reply
from server.gateway import GatewayLimits
from server.logs import configure_logging
from tests.persistence.stores import store_url
from tests.protocol.gateway_harness import (
    PASSWORD,
    exchange,
    running_gateway,
    say_hello,
    wait_closed,
)

BACKENDS = ["sqlite", "postgres"]


def raw(fields: dict[str, object]) -> bytes:
    return msgspec.msgpack.encode(fields)


async def _nul_login(url: str) -> tuple[object, object]:
    async with open_websocket_url(url) as ws:
        await say_hello(ws)
        login = {"type": "login", "id": 2, "name": "x\x00", "password": "whatever-1"}
        refused = await exchange(ws, raw(login))
        # The connection is still usable: the refusal changed nothing.
        pong = await exchange(ws, raw({"type": "ping", "id": 3}))
        return refused, pong


@pytest.mark.parametrize("backend", BACKENDS)
async def test_ten_logins_with_a_nul_in_the_name_are_refused_alike_on_both_backends(
    tmp_path: Path, postgres_url: str, backend: str
) -> None:
    url = await store_url(backend, tmp_path, postgres_url)
    async with running_gateway(tmp_path, database_url=url) as gateway:
        answers: list[tuple[object, object]] = []

        async def one() -> None:
            answers.append(await _nul_login(gateway.url))

        async with trio.open_nursery() as nursery:
            for _ in range(10):
                nursery.start_soon(one)
        assert len(answers) == 10
        for refused, pong in answers:
            assert isinstance(refused, Error), refused
            assert (refused.id, refused.code) == (2, ErrorCode.INVALID_MESSAGE)
            assert "name" in refused.message
            assert isinstance(pong, Pong)
        assert gateway.session_crashes == 0


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_nul_in_a_transfer_recipient_or_a_withdrawal_key_is_refused(
    tmp_path: Path, postgres_url: str, backend: str
) -> None:
    url = await store_url(backend, tmp_path, postgres_url)
    async with running_gateway(tmp_path, database_url=url) as gateway:
        async with open_client(gateway.url) as client:
            await client.register("nul_sender", PASSWORD)
        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            await exchange(
                ws, raw({"type": "login", "id": 2, "name": "nul_sender", "password": PASSWORD})
            )
            transfer = {
                "type": "wallet_transfer",
                "id": 3,
                "to_player": "bo\x00b",
                "amount": 1,
                "key": "k1",
            }
            withdraw = {
                "type": "wallet_withdraw",
                "id": 4,
                "amount": 1,
                "key": "k\x00",
                "address": "0x" + "ab" * 20,
            }
            for request, field in ((transfer, "to_player"), (withdraw, "key")):
                refused = await exchange(ws, raw(request))
                assert isinstance(refused, Error), refused
                assert (refused.id, refused.code) == (request["id"], ErrorCode.INVALID_MESSAGE)
                assert field in refused.message
            assert isinstance(await exchange(ws, raw({"type": "ping", "id": 5})), Pong)
        assert gateway.session_crashes == 0


class CrashingTables:
    """A GameRequests whose every request is a bug of ours (a crash with a local secret)."""

    async def handle(
        self, player_id: int, player: str, request: GameRequest, address: str = ""
    ) -> Reply | None:
        secret_in_a_local = "do-not-log-this-value"
        raise RuntimeError(f"a bug of ours ({len(secret_in_a_local)})")


@pytest.fixture
def console_logging() -> Iterator[io.StringIO]:
    """The server's console logging, into a buffer, for one test; put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging("console", "info", stream=buffer)
    try:
        yield buffer
    finally:
        structlog.reset_defaults()
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_crashing_sessions_close_with_1011_and_do_not_stall_other_players(
    tmp_path: Path, console_logging: io.StringIO
) -> None:
    # Ten logins at once from one address: allow them all a share of the hashing queue.
    limits = GatewayLimits(login_hashes_per_ip_max=10)
    async with running_gateway(tmp_path, game_requests=CrashingTables(), limits=limits) as gateway:
        for index in range(10):
            async with open_client(gateway.url) as client:
                await client.register(f"crasher{index}", PASSWORD)

        async def crash(index: int, codes: list[int]) -> None:
            async with open_websocket_url(gateway.url) as ws:
                await say_hello(ws)
                login = {"type": "login", "id": 2, "name": f"crasher{index}", "password": PASSWORD}
                assert not isinstance(await exchange(ws, raw(login)), Error)
                await ws.send_message(encode(SitOut(id=3, table_id="t1")))
                codes.append(await wait_closed(ws))

        async with open_client(gateway.url) as pinger:
            await pinger.register("bystander", PASSWORD)
            codes: list[int] = []
            worst_s = 0.0
            async with trio.open_nursery() as nursery:
                for index in range(10):
                    nursery.start_soon(crash, index, codes)
                while len(codes) < 10:
                    started = time.perf_counter()
                    await pinger.ping()
                    worst_s = max(worst_s, time.perf_counter() - started)
                    await trio.sleep(0.05)  # under the rate limit
        assert codes == [CloseCode.INTERNAL_ERROR] * 10
        assert gateway.session_crashes == 10
    logged = console_logging.getvalue()
    assert logged.count("] session actor crashed") == 10
    # Rendering locals (rich's default) took ~4 s a crash and printed the values.
    assert "do-not-log-this-value" not in logged
    assert len(logged) < 10 * 20_000
    assert worst_s < 0.5, f"a bystander's ping took {worst_s * 1000:.0f} ms"
