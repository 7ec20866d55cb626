"""The gateway's own websocket (server/websocket.py) against real sockets: what a client sees
of bursts, pings, fragments, limits and closes, and a fuzz of raw bytes (a malformed stream
ends that connection with a clear close and changes nothing else)."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trio_websocket import ConnectionClosed as ClientClosed
from trio_websocket import open_websocket_url
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, Side

from server.bench.rawws import masked_frame
from server.websocket import (
    CloseReason,
    ConnectionClosed,
    HandshakeRequest,
    PongWait,
    SendGate,
    ServerWebSocket,
    serve_websocket,
)
from server.wsburst import BURST_BYTES_MAX

MESSAGE_BYTES_MAX = 1000
HANDSHAKE_TIMEOUT_S = 5.0
UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
Handler = Callable[[ServerWebSocket], Awaitable[None]]


@dataclass
class Server:
    port: int
    closes: list[CloseReason | None] = field(default_factory=list)  # each connection's end
    handshakes: int = 0  # requests that reached the handler
    ended: trio.Event = field(default_factory=trio.Event)  # set at each connection's end

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"


async def echo(ws: ServerWebSocket) -> None:
    with trio.move_on_after(10):
        while True:
            await ws.send_message(await ws.get_message())


@asynccontextmanager
async def serving(handler: Handler = echo, **limits: float) -> AsyncIterator[Server]:
    server = Server(0)

    async def on_request(request: HandshakeRequest) -> None:
        server.handshakes += 1
        offered = request.proposed_subprotocols
        ws = await request.accept(subprotocol=offered[0] if offered else None)
        try:
            await handler(ws)
        except ConnectionClosed:
            pass
        finally:
            if ws.closed is None:
                with trio.move_on_after(1):
                    await ws.aclose(4000, "done")
            server.closes.append(ws.closed)
            server.ended.set()
            server.ended = trio.Event()

    async with trio.open_nursery() as nursery:
        server.port = await nursery.start(
            partial(
                serve_websocket,
                on_request,
                "127.0.0.1",
                0,
                None,
                handler_nursery=nursery,
                message_bytes_max=int(limits.get("message_bytes_max", MESSAGE_BYTES_MAX)),
                handshake_timeout_s=limits.get("handshake_timeout_s", HANDSHAKE_TIMEOUT_S),
            )
        )
        yield server
        nursery.cancel_scope.cancel()


@dataclass
class RawClient:
    """A client that writes whatever bytes it is given and parses what comes back."""

    stream: trio.SocketStream
    protocol: Protocol = field(default_factory=lambda: Protocol(Side.CLIENT, max_size=None))
    reset: bool = False  # the server closed with our bytes unread: the kernel sent a reset

    async def send(self, data: bytes, *, eof: bool = True) -> None:
        try:
            await self.stream.send_all(data)
            if eof:
                await self.stream.send_eof()
        except trio.BrokenResourceError:
            self.reset = True

    async def frames(self, count: int) -> list[Frame]:
        frames: list[Frame] = []
        with trio.fail_after(5):
            while len(frames) < count:
                self.protocol.receive_data(await self.stream.receive_some(65536))
                frames += [e for e in self.protocol.events_received() if isinstance(e, Frame)]
        return frames

    async def frames_until_eof(self) -> list[Frame]:
        """Every frame the server sends until it closes the socket."""
        with trio.fail_after(5):
            while True:
                try:
                    data = await self.stream.receive_some(65536)
                except trio.BrokenResourceError:
                    self.reset, data = True, b""
                if not data:
                    self.protocol.receive_eof()
                    break
                self.protocol.receive_data(data)
        return [e for e in self.protocol.events_received() if isinstance(e, Frame)]


@asynccontextmanager
async def raw_client(server: Server, request: bytes = UPGRADE) -> AsyncIterator[RawClient]:
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    async with stream:
        await stream.send_all(request)
        head = b""
        with trio.fail_after(5):
            while b"\r\n\r\n" not in head:
                head += await stream.receive_some(1)
        assert head.startswith(b"HTTP/1.1 101 "), head
        yield RawClient(stream)


def fragment(opcode: int, payload: bytes) -> bytes:
    """A masked frame without FIN."""
    return bytes([opcode]) + masked_frame(opcode, payload)[1:]


def close_code(frames: list[Frame]) -> int:
    closes = [f for f in frames if f.opcode is Opcode.CLOSE]
    assert len(closes) == 1, frames
    return int.from_bytes(closes[0].data[:2], "big")


# --- what a client sees -------------------------------------------------------------------

MESSAGES: list[bytes | str] = [
    b"\x81\xa4type\xa4ping",
    "a text message",
    b"x" * 200,
    *(bytes([n]) * (BURST_BYTES_MAX // 3) for n in range(4)),  # over one write's worth
    "last",
]


async def test_a_burst_arrives_whole_and_in_order_and_a_closed_connection_raises() -> None:
    done = trio.Event()
    server_side: list[ServerWebSocket] = []

    async def burst(ws: ServerWebSocket) -> None:
        server_side.append(ws)
        await ws.send_burst(MESSAGES)
        try:
            with pytest.raises(ConnectionClosed):
                await ws.get_message()  # until the client closes
        finally:
            done.set()

    async with serving(burst, message_bytes_max=1 << 20) as server:
        async with open_websocket_url(server.url) as client:
            assert [await client.get_message() for _ in MESSAGES] == MESSAGES
        with trio.fail_after(5):
            await done.wait()
        with pytest.raises(ConnectionClosed):
            await server_side[0].send_burst([b"after the close", b"and another"])
    assert server.closes == [CloseReason(1000, None)]  # the client's close, answered


async def test_a_burst_larger_than_the_kernels_buffer_arrives_whole_as_it_drains() -> None:
    big: list[bytes | str] = [bytes([n]) * (512 * 1024) for n in range(16)]  # 8 MB
    sent = trio.Event()

    async def burst(ws: ServerWebSocket) -> None:
        await ws.send_burst(big)  # partial writes: the client is not reading yet
        sent.set()
        with contextlib.suppress(ConnectionClosed):
            await ws.get_message()

    async with serving(burst) as server, open_websocket_url(server.url) as client:
        await trio.testing.wait_all_tasks_blocked()
        assert not sent.is_set()  # the kernel took part of it; the rest waits
        assert [await client.get_message() for _ in big] == big
        with trio.fail_after(5):
            await sent.wait()


async def test_write_now_keeps_what_the_kernel_refused_and_the_next_writes_send_it_first() -> None:
    """write_now never waits: past a full socket buffer it keeps the rest of the stream (a
    frame cut anywhere) and the next write under the gate, a burst or a ping, sends it before
    its own bytes, so the client reads every frame whole and in order."""
    big: list[bytes | str] = [bytes([n]) * (256 * 1024) for n in range(16)]  # 4 MB
    after: list[bytes | str] = [b"after", "the rest"]
    checked = trio.Event()

    async def burst(ws: ServerWebSocket) -> None:
        assert ws.can_write_now()
        assert not ws.write_now(big)  # the client reads nothing yet: the buffer fills
        assert ws.unsent and not ws.can_write_now()
        assert ws.write_now([]) is False  # nothing taken while bytes are left over
        await ws.send_ping(PongWait())  # under the gate: the leftover first, then the ping
        await ws.send_burst(after)
        assert not ws.unsent and ws.can_write_now()
        checked.set()
        with contextlib.suppress(ConnectionClosed):
            await ws.get_message()

    async with serving(burst) as server, raw_client(server) as client:
        frames = await client.frames(len(big) + 1 + len(after))
        with trio.fail_after(5):
            await checked.wait()
    assert [f.opcode for f in frames] == [
        *(Opcode.BINARY for _ in big),
        Opcode.PING,
        Opcode.BINARY,
        Opcode.TEXT,
    ]
    assert [f.data for f in frames if f.opcode is not Opcode.PING] == [
        *big,
        b"after",
        b"the rest",
    ]


async def test_a_ping_returns_at_once_and_its_pong_is_seen() -> None:
    seen: list[bool] = []

    async def ping(ws: ServerWebSocket) -> None:
        pong = PongWait()
        await ws.send_ping(pong)
        seen.append(pong.seen)  # sent, not waited for
        await ws.send_burst([b"after the ping", b"and another"])
        # The client answered the ping before it read these, and its reply comes after the
        # pong on the wire: once the reply is read here, the pong has been.
        assert await ws.get_message() == b"reply"
        seen.append(pong.seen)
        await ws.aclose(4002, "bye")

    async with serving(ping) as server, open_websocket_url(server.url) as client:
        assert [await client.get_message() for _ in range(2)] == [b"after the ping", b"and another"]
        await client.send_message(b"reply")
        with pytest.raises(ClientClosed) as info:
            await client.get_message()
        assert info.value.reason.code == 4002 and info.value.reason.reason == "bye"
    assert seen == [False, True]


async def test_the_clients_pings_are_answered_and_its_fragments_joined() -> None:
    async with serving() as server, raw_client(server) as client:
        text = "héllo ".encode()
        await client.send(
            fragment(0x01, text[:2])  # "h" and the first byte of "é": not UTF-8 alone
            + masked_frame(0x09, b"mid")  # a ping between fragments
            + fragment(0x00, text[2:4])
            + masked_frame(0x00, text[4:])
            + masked_frame(0x02, b"\x00\x01"),
            eof=False,
        )
        frames = await client.frames(3)
        # Messages that come with the close are read, but no frame follows the close.
        await client.send(
            masked_frame(0x02, b"late") + masked_frame(0x08, (1000).to_bytes(2, "big"))
        )
        frames += await client.frames_until_eof()
    assert [(f.opcode, bytes(f.data)) for f in frames] == [
        (Opcode.PONG, b"mid"),
        (Opcode.TEXT, "héllo ".encode()),
        (Opcode.BINARY, b"\x00\x01"),
        (Opcode.CLOSE, (1000).to_bytes(2, "big")),
    ]
    assert server.closes == [CloseReason(1000, None)]


@pytest.mark.parametrize(
    ("stream", "code"),
    [
        # One frame over the limit, then a fragmented message whose sum is.
        (masked_frame(0x02, b"x" * (MESSAGE_BYTES_MAX + 1)), 1009),
        (fragment(0x02, b"x" * 600) + masked_frame(0x00, b"y" * 600), 1009),
        (masked_frame(0x01, b"\xff\xfe"), 1007),  # not UTF-8
        (bytes([0x82, 0x03]) + b"abc", 1002),  # unmasked
        (masked_frame(0x03, b"?"), 1002),  # a reserved opcode
        (masked_frame(0x00, b"lost"), 1002),  # a continuation of nothing
    ],
    ids=["frame-too-big", "message-too-big", "bad-utf8", "unmasked", "bad-opcode", "lone-cont"],
)
async def test_a_bad_stream_closes_with_its_code_and_the_socket(stream: bytes, code: int) -> None:
    async with serving() as server, raw_client(server) as client:
        await client.send(masked_frame(0x02, b"before"), eof=False)
        assert [bytes(f.data) for f in await client.frames(1)] == [b"before"]
        await client.send(stream)
        frames = await client.frames_until_eof()
    assert not client.reset
    assert close_code(frames) == code
    assert server.closes[0] is not None and server.closes[0].code == code


async def test_a_peer_that_never_answers_our_close_is_cut_off_by_the_callers_bound() -> None:
    async def close_at_once(ws: ServerWebSocket) -> None:
        with trio.move_on_after(0.2):
            await ws.aclose(4004, "no pong")

    async with serving(close_at_once) as server, raw_client(server) as client:
        frames = await client.frames_until_eof()  # the socket closes although we never answer
    assert close_code(frames) == 4004
    assert server.closes == [CloseReason(4004, "no pong")]


async def test_bad_handshakes_are_answered_and_never_reach_the_handler() -> None:
    async with serving(handshake_timeout_s=0.3) as server:
        for request, status in [
            (b"\x16\x03\x01\x02\x00garbage\r\n\r\n", b"400"),
            (b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", b"426"),  # not an upgrade
            (UPGRADE.replace(b"GET", b"POST"), b"405"),
            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n", b"414"),
            (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 200, b"431"),
        ]:
            async with await trio.open_tcp_stream("127.0.0.1", server.port) as stream:
                await stream.send_all(request)
                answer = b""
                with trio.fail_after(5):
                    while chunk := await stream.receive_some(65536):
                        answer += chunk
                assert answer.split(b" ")[1] == status, answer
        # Half a request: the socket is closed after the handshake's timeout, unanswered.
        async with await trio.open_tcp_stream("127.0.0.1", server.port) as stream:
            await stream.send_all(UPGRADE[:40])
            with trio.fail_after(5):
                assert await stream.receive_some(65536) == b""
    assert server.handshakes == 0


# --- fuzz ---------------------------------------------------------------------------------


def mutated_stream(rng: random.Random) -> bytes:
    """Frames, valid and not: random opcodes, lengths, masks, fragments, truncations."""
    parts: list[bytes] = []
    for _ in range(rng.randrange(1, 8)):
        kind = rng.randrange(6)
        payload = rng.randbytes(rng.choice([0, 1, 5, 125, 126, 300, 1200]))
        if kind == 0:
            parts.append(masked_frame(rng.choice([0x1, 0x2, 0x9, 0xA]), payload[:125]))
        elif kind == 1:  # a random first byte (FIN, RSV bits, opcode)
            frame = masked_frame(0x2, payload)
            parts.append(bytes([rng.randrange(256)]) + frame[1:])
        elif kind == 2:  # a close frame with any code and reason
            code = rng.choice([1000, 1001, 999, 1005, 1015, 3000, 4002, 5000, 65535])
            parts.append(masked_frame(0x8, code.to_bytes(2, "big") + payload[:130]))
        elif kind == 3:  # truncated
            frame = masked_frame(0x2, payload)
            parts.append(frame[: rng.randrange(len(frame))])
        elif kind == 4:  # raw noise
            parts.append(rng.randbytes(rng.randrange(1, 40)))
        else:  # a lying length (16- or 64-bit)
            parts.append(bytes([0x82, 0xFF]) + rng.randbytes(8) + payload)
    return b"".join(parts)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), after_handshake=st.booleans())
def test_random_bytes_end_that_connection_with_a_clear_close_and_nothing_else(
    seed: int, after_handshake: bool
) -> None:
    """Any bytes, after a valid handshake or as the handshake: the server answers or closes
    that socket within its bounds, the handler (if reached) ends with a close reason, nothing
    escapes, and a well-behaved client on the same server is served throughout."""
    rng = random.Random(seed)
    noise = mutated_stream(rng) if after_handshake else rng.randbytes(rng.randrange(1, 300))

    async def run() -> None:
        async with (
            serving(handshake_timeout_s=0.5) as server,
            open_websocket_url(server.url) as good,
        ):
            await good.send_message(b"hello")
            if after_handshake:
                ended = server.ended
                async with raw_client(server) as client:
                    await client.send(noise)
                    frames = await client.frames_until_eof()
                with trio.fail_after(5):
                    await ended.wait()
                reason = server.closes[0]
                assert reason is not None
                closes = [f for f in frames if f.opcode is Opcode.CLOSE]
                assert len(closes) <= 1
                if closes and len(closes[0].data) >= 2:  # (an empty close is echoed empty)
                    assert close_code(frames) == reason.code
                elif not client.reset:
                    assert reason.code in (1005, 1006)  # no close, or one without a code
            else:
                stream = await trio.open_tcp_stream("127.0.0.1", server.port)
                async with stream:
                    raw = RawClient(stream)
                    await raw.send(noise)
                    with trio.fail_after(5):
                        try:
                            while await stream.receive_some(65536):
                                pass
                        except trio.BrokenResourceError:
                            pass  # reset: the server closed with our bytes unread
                assert server.handshakes == 1  # the good client's only
            assert await good.get_message() == b"hello"
            await good.send_message(b"still here")
            assert await good.get_message() == b"still here"

    try:
        trio.run(run)
    except BaseException:
        print(f"replay: seed={seed} after_handshake={after_handshake}")
        raise


async def test_the_send_gate_admits_one_writer_at_a_time_in_arrival_order() -> None:
    gate, order, inside = SendGate(), [], []

    async def writer(name: str) -> None:
        async with gate:
            inside.append(name)
            assert len(inside) == 1  # nobody else in at the same time
            await trio.lowlevel.checkpoint()  # a write's
            order.append(name)
            inside.remove(name)

    async with trio.open_nursery() as nursery, gate:  # held: the writers queue in order
        for name in "abcd":
            nursery.start_soon(writer, name)
            await trio.testing.wait_all_tasks_blocked()
        assert order == []
    assert order == list("abcd") and not gate.locked()
    # A waiter cancelled while queued leaves the queue; the gate is free afterwards.
    async with trio.open_nursery() as nursery, gate:
        nursery.start_soon(writer, "e")
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert not gate.locked() and order == list("abcd")
    await writer("f")
    assert order == [*"abcd", "f"]
