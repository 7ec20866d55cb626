"""The subprotocol handshake and JSON text frames, over real websockets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
from trio_websocket import HandshakeError, open_websocket_url

from protocol.client import open_client
from protocol.errors import ErrorCode
from protocol.textframes import Encoding
from tests.protocol.gateway_harness import PASSWORD, exchange, running_gateway, say_hello


async def _text_exchange(ws: object, fields: dict[str, object]) -> dict[str, object]:
    await ws.send_message(json.dumps(fields))  # type: ignore[attr-defined]
    frame = await ws.get_message()  # type: ignore[attr-defined]
    assert isinstance(frame, str), "a JSON connection gets text frames"
    answer = json.loads(frame)
    assert isinstance(answer, dict)
    return answer


async def test_a_json_connection_speaks_text_both_ways_and_refuses_binary(tmp_path: Path) -> None:
    async with (
        running_gateway(tmp_path) as gateway,
        open_websocket_url(gateway.url, subprotocols=["tablium.json.v1"]) as ws,
    ):
        assert ws.subprotocol == "tablium.json.v1"
        welcome = await _text_exchange(ws, {"type": "hello", "id": 1, "versions": [1]})
        assert welcome["type"] == "welcome" and welcome["id"] == 1
        logged_in = await _text_exchange(
            ws, {"type": "register", "id": 2, "name": "jay", "password": PASSWORD}
        )
        assert logged_in["type"] == "logged_in" and logged_in["id"] == 2
        await ws.send_message(b"\x81\xa4type\xa4ping")  # msgpack on a JSON connection
        refused = json.loads(await ws.get_message())
        assert (refused["type"], refused["code"]) == ("error", ErrorCode.MALFORMED_FRAME)
        deep = await _text_exchange(ws, {"type": "ping", "id": 3, "x": [[[[[[[[[[1]]]]]]]]]]})
        assert deep["code"] == ErrorCode.NESTING_TOO_DEEP
        assert (await _text_exchange(ws, {"type": "ping", "id": 4})) == {"type": "pong", "id": 4}


async def test_the_sdk_speaks_json_when_asked(tmp_path: Path) -> None:
    async with (
        running_gateway(tmp_path) as gateway,
        open_client(gateway.url, encoding=Encoding.JSON) as client,
    ):
        logged_in = await client.register("kim", PASSWORD)
        assert logged_in.player == "kim"
        balance = await client.balance()
        assert balance.balance >= 0


async def test_no_subprotocol_offered_is_msgpack_and_none_is_named(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway, open_websocket_url(gateway.url) as ws:
        assert ws.subprotocol is None
        await say_hello(ws)  # binary msgpack, as before subprotocols existed
        error = await exchange(ws, '{"type": "ping", "id": 5}')
        assert getattr(error, "code", None) == ErrorCode.MALFORMED_FRAME


async def test_a_handshake_offering_only_unknown_subprotocols_is_refused(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway:
        with pytest.raises(HandshakeError) as info:
            with trio.fail_after(10):
                async with open_websocket_url(gateway.url, subprotocols=["chat", "json"]):
                    pass
        assert getattr(info.value, "status_code", None) == 400
        assert gateway.handshakes_refused["subprotocol"] == 1
