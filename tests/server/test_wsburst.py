"""send_burst against the installed trio-websocket: messages arrive whole and in order, a
burst larger than one write included, and a closed connection raises as send_message does."""

from __future__ import annotations

import pytest
import trio
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    WebSocketRequest,
    open_websocket_url,
    serve_websocket,
)
from wsproto.handshake import H11Handshake

from server.wsburst import BURST_BYTES_MAX, PongWait, release_handshake, send_burst, send_ping

MESSAGES: list[bytes | str] = [
    b"\x81\xa4type\xa4ping",
    "a text message",
    b"x" * 200,
    *(bytes([n]) * (BURST_BYTES_MAX // 3) for n in range(4)),  # over one write's worth
    "last",
]


async def test_a_burst_arrives_whole_and_in_order_and_a_closed_connection_raises() -> None:
    closed = trio.Event()
    server_side: list[WebSocketConnection] = []

    async def handler(request: WebSocketRequest) -> None:
        ws = await request.accept()
        server_side.append(ws)
        await send_burst(ws, MESSAGES)
        with pytest.raises(ConnectionClosed):
            await ws.get_message()  # until the client closes
        closed.set()

    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve_websocket, handler, "127.0.0.1", 0, None)
        port = server.port
        async with open_websocket_url(f"ws://127.0.0.1:{port}/") as client:
            received = [await client.get_message() for _ in MESSAGES]
            assert received == MESSAGES
        with trio.fail_after(5):
            await closed.wait()
        with pytest.raises(ConnectionClosed):
            await send_burst(server_side[0], [b"after the close", b"and another"])
        nursery.cancel_scope.cancel()


async def test_a_ping_returns_at_once_and_its_pong_is_seen_on_a_released_handshake() -> None:
    seen: list[bool] = []

    async def handler(request: WebSocketRequest) -> None:
        ws = await request.accept()
        release_handshake(ws)  # what follows runs without wsproto's handshake state
        assert not isinstance(ws._wsproto.handshake, H11Handshake)
        pong = PongWait()
        await send_ping(ws, pong)
        seen.append(pong.seen)  # sent, not waited for
        await send_burst(ws, [b"after the ping", b"and another"])
        # The client answered the ping before it read these, and its reply comes after the
        # pong on the wire: once the reply is read here, the pong has been.
        assert await ws.get_message() == b"reply"
        seen.append(pong.seen)
        await ws.aclose()

    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve_websocket, handler, "127.0.0.1", 0, None)
        async with open_websocket_url(f"ws://127.0.0.1:{server.port}/") as client:
            assert [await client.get_message() for _ in range(2)] == [
                b"after the ping",
                b"and another",
            ]
            await client.send_message(b"reply")
            with pytest.raises(ConnectionClosed):
                await client.get_message()
        nursery.cancel_scope.cancel()
    assert seen == [False, True]
