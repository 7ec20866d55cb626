"""The client SDK's own behaviour: concurrent requests, timeouts, lost connections."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import trio
from trio.testing import MockClock
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket
from wsproto import ConnectionType, WSConnection
from wsproto import events as wsevents

from protocol.client import ConnectionLost, RequestTimeout, open_client
from protocol.codec import RequestDecoder, encode
from protocol.errors import CloseCode
from protocol.messages import Hello, Ping, Pong, Welcome
from server.gateway import GatewayLimits
from tests.e2e.clock import gateway_test_clock
from tests.protocol.gateway_harness import PASSWORD, running_gateway


@pytest.fixture
def clock() -> MockClock:
    return gateway_test_clock()


async def test_concurrent_requests_each_get_their_own_reply(tmp_path: Path) -> None:
    limits = GatewayLimits(rate_burst_requests=500)
    async with (
        running_gateway(tmp_path, limits=limits) as gateway,
        open_client(gateway.url) as client,
    ):
        await client.register("alice", PASSWORD)
        replies: list[object] = []

        async def one() -> None:
            replies.append(await client.request(Ping(id=0)))

        async with trio.open_nursery() as nursery:
            for _ in range(200):
                nursery.start_soon(one)
        assert all(isinstance(r, Pong) for r in replies)
        assert len({r.id for r in replies if isinstance(r, Pong)}) == 200


async def scripted_server(
    script: str, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
) -> None:
    """A server that answers hello, then either stays silent or hangs up."""
    decoder = RequestDecoder()

    async def handler(request: WebSocketRequest) -> None:
        ws = await request.accept()
        try:
            while True:
                message = await ws.get_message()
                assert isinstance(message, bytes)
                decoded = decoder.decode(message)
                if isinstance(decoded, Hello):
                    await ws.send_message(
                        encode(
                            Welcome(
                                id=decoded.id,
                                version=1,
                                server="scripted",
                                heartbeat_ms=1,
                                frame_bytes_max=1,
                                rate_burst_requests=1,
                                rate_refill_per_s=1,
                            )
                        )
                    )
                elif script == "hang up":
                    await ws.aclose(CloseCode.GOING_AWAY)
                    return
        except ConnectionClosed:
            pass

    async with trio.open_nursery() as nursery:
        server = await nursery.start(partial(serve_websocket, handler, "127.0.0.1", 0, None))
        task_status.started(server.port)


async def test_a_request_without_reply_times_out(clock: MockClock) -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(scripted_server, "silent")
        async with open_client(f"ws://127.0.0.1:{port}", request_timeout_s=3) as client:
            started = trio.current_time()
            with pytest.raises(RequestTimeout):
                await client.request(Ping(id=0))
            assert 3 <= trio.current_time() - started < 4
        nursery.cancel_scope.cancel()


async def test_a_request_in_flight_when_the_connection_drops_is_lost() -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(scripted_server, "hang up")
        async with open_client(f"ws://127.0.0.1:{port}", reconnect=False) as client:
            with pytest.raises(ConnectionLost):
                await client.request(Ping(id=0))
            assert client.close_code == CloseCode.GOING_AWAY
        nursery.cancel_scope.cancel()


# --- the server pings while we close -------------------------------------------------------


async def pinging_while_closing_server(
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """A raw wsproto server: welcomes the client, and when the client starts its closing
    handshake, sends a ping before answering the close (legal for a server; trio-websocket's
    reader then cannot send the pong, and wsproto raises LocalProtocolError)."""
    decoder = RequestDecoder()

    async def serve(stream: trio.SocketStream) -> None:
        ws = WSConnection(ConnectionType.SERVER)
        async with stream:
            while data := await stream.receive_some(65536):
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, wsevents.Request):
                        await stream.send_all(ws.send(wsevents.AcceptConnection()))
                    elif isinstance(event, wsevents.BytesMessage):
                        hello = decoder.decode(bytes(event.data))
                        assert isinstance(hello, Hello)
                        welcome = Welcome(
                            id=hello.id,
                            version=1,
                            server="scripted",
                            heartbeat_ms=15_000,
                            frame_bytes_max=16_384,
                            rate_burst_requests=60,
                            rate_refill_per_s=30,
                        )
                        await stream.send_all(ws.send(wsevents.Message(data=encode(welcome))))
                    elif isinstance(event, wsevents.CloseConnection):
                        # wsproto will not send a ping now either: the frame by hand (FIN +
                        # opcode 9, unmasked, then the length and payload).
                        payload = b"still there?"
                        await stream.send_all(bytes([0x89, len(payload)]) + payload)
                        await stream.send_all(ws.send(event.response()))
                        return

    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    task_status.started(listeners[0].socket.getsockname()[1])
    await trio.serve_listeners(serve, listeners)


async def test_a_server_ping_during_our_closing_handshake_counts_as_a_close(
    clock: MockClock,
) -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(pinging_while_closing_server)
        # Before the fix, wsproto's LocalProtocolError escaped open_client here.
        async with open_client(f"ws://127.0.0.1:{port}", reconnect=False) as client:
            assert client.welcome is not None and client.welcome.server == "scripted"
        nursery.cancel_scope.cancel()
