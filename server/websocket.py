"""The gateway's own server-side websocket: websockets' sans-IO protocol driven by trio
directly, with no task of its own (issue 25, cut 3).

trio-websocket runs a reader task per connection that parses frames with wsproto and hands
messages over a memory channel: a task, a nursery, a channel and its events per connection
(12 KB of an idle one) and a task switch per request and per pong. Here the connection's own
reader (``get_message``) reads the socket and feeds the protocol; whoever sends frames writes
them with one ``send_all`` per burst (server/wsburst.py frames them). Clients (protocol/
client.py, the swarm, the tests) keep trio-websocket.

- ``serve_websocket`` listens (TCP, or TLS with an ``ssl.SSLContext``) and runs ``handler``
  with a ``HandshakeRequest`` for each connection whose opening handshake is a valid
  websocket upgrade; the handler accepts or rejects it. Bounds: the handshake must complete
  within ``handshake_timeout_s`` (then the socket is closed); its request line and headers
  are websockets' limits (8 KB a line, 128 headers: 414 / 431; so at most ~1 MB is buffered
  for one handshake); anything that is not a valid
  HTTP request gets 400 and a close; a request that is not a websocket upgrade gets the
  status websockets gives it (400, 405, 426, 505).
- ``ServerWebSocket``: a message over ``message_bytes_max`` (one frame or a fragmented
  message's sum) closes with 1009; a protocol error with 1002; invalid UTF-8 in a text message
  with 1007; the peer's close frame is answered and the connection ends with the peer's code;
  a socket that breaks ends it with 1006. Pings are answered as they are read; pongs are
  matched against the last ping (``PongWait``). ``aclose`` runs the closing handshake (the
  caller bounds it in time) and closes the socket.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Final, NoReturn, cast, final

import trio
from websockets.exceptions import RequestLineTooLong, SecurityError
from websockets.frames import Frame, Opcode
from websockets.headers import parse_subprotocol
from websockets.http11 import Request, Response
from websockets.protocol import SEND_EOF, Protocol, Side, State
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

from server.wsburst import frame_burst

RECEIVE_BYTES: Final = 16 * 1024  # one socket read at most; a larger frame takes several
STREAM_CLOSE_TIMEOUT_S: Final = 1.0  # closing a socket (a TLS close_notify) gives up after this
ABNORMAL_CLOSURE: Final = 1006  # never on the wire: the socket ended without a close frame
INVALID_DATA: Final = 1007
CLOSE_REASON_BYTES_MAX: Final = 123  # a close frame's payload is 125 bytes with the code
# websockets logs every connection's open and close at INFO; ours are counted on /metrics.
_log = logging.getLogger("server.websocket")
_log.setLevel(logging.WARNING)


@final
@dataclass(frozen=True, slots=True)
class CloseReason:
    code: int
    reason: str | None


class ConnectionClosed(Exception):
    """The websocket is closed (``reason``: how); nothing more can be read or sent."""

    def __init__(self, reason: CloseReason) -> None:
        super().__init__(reason)
        self.reason = reason


@final
class PongWait:
    """A ping in flight: ``seen`` once its pong has come back (Heartbeats reads it)."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen = False

    def set(self) -> None:
        self.seen = True


@final
class SendGate:
    """One writer at a time, in arrival order (FIFO: a waiter is handed the gate), like
    trio.Lock but with no scheduler round trip when nobody else holds it (trio.Lock takes a
    checkpoint on every acquire; the write under it takes its own). A connection's writes
    take it several times per table action. Not reentrant."""

    __slots__ = ("_busy", "_lot")

    def __init__(self) -> None:
        self._busy = False
        self._lot: trio.lowlevel.ParkingLot | None = None  # made at the first contention

    def locked(self) -> bool:
        return self._busy

    async def __aenter__(self) -> None:
        if not self._busy:
            self._busy = True
            return
        if self._lot is None:
            self._lot = trio.lowlevel.ParkingLot()
        await self._lot.park()  # woken as the owner (__aexit__ hands the gate over)

    async def __aexit__(self, *exc_info: object) -> None:
        if self._lot is not None and self._lot:
            self._lot.unpark()  # the gate stays busy: the first waiter owns it now
        else:
            self._busy = False


@final
class ServerWebSocket:
    """One open server-side websocket over a trio stream (TCP or TLS).

    One task reads (``get_message``, or ``aclose`` once nobody reads any more); any task may
    send, one write at a time (``send_lock``, FIFO, so whole bursts keep their order)."""

    __slots__ = (
        "_events",
        "_held",
        "_parts",
        "_ping",
        "_pong",
        "_protocol",
        "_socket",
        "_stream",
        "_text",
        "_unsent",
        "closed",
        "send_lock",
        "subprotocol",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        protocol: Protocol,
        events: list[Frame],
        subprotocol: str | None,
    ) -> None:
        self._stream = stream
        # The TCP socket to write to directly; None under TLS (SSLStream writes).
        self._socket = stream.socket if isinstance(stream, trio.SocketStream) else None
        self._protocol = protocol
        # Frames parsed but not handled yet, in order. Bound: what one socket read carries.
        self._events = events
        self._held: bytes | str | None = None  # read ahead (read_ahead), not taken yet
        self._parts: list[bytes] | None = None  # a fragmented message so far
        self._text = False  # its first frame's type
        self._ping: bytes | None = None  # the last ping's payload, until its pong
        self._pong: PongWait | None = None
        self.send_lock = SendGate()
        # Framed bytes write_now could not hand the kernel (its buffer was full): the next
        # write under send_lock sends them first, so the stream's bytes keep their order.
        self._unsent = b""
        self.closed: CloseReason | None = None  # set once, when the connection stops
        self.subprotocol = subprotocol

    # --- reading -----------------------------------------------------------------------------

    async def get_message(self) -> bytes | str:
        """The next whole message (bytes for binary, str for text); raises ConnectionClosed
        once the connection has closed (after the messages that came before the close)."""
        held = self._held
        if held is not None:
            self._held = None
            return held
        while True:
            events = self._events
            while events:
                message = self._message(events.pop(0))
                if message is None:
                    continue
                if isinstance(message, bytes):
                    return message
                try:
                    return b"".join(message).decode()
                except UnicodeDecodeError:
                    await self._fail(INVALID_DATA, "invalid UTF-8 in a text message")
                    raise ConnectionClosed(self._closed()) from None
            if self.closed is not None:
                raise ConnectionClosed(self.closed)
            await self._receive()

    async def read_ahead(self) -> None:
        """Read until one message is complete (kept for the next get_message) or the
        connection closes: while its reader waits for something slow, a connection still
        answers pings and notices a close (``closed``). Cancelling it loses nothing."""
        if self._held is None:
            with contextlib.suppress(ConnectionClosed):
                self._held = await self.get_message()

    def _message(self, frame: Frame) -> bytes | list[bytes] | None:
        """A binary message's bytes, a text message's parts (decoded by the caller), or None
        (a control frame, or a fragment of a message not finished yet)."""
        opcode = frame.opcode
        if opcode is Opcode.BINARY or opcode is Opcode.TEXT:
            # The protocol has checked the fragments' sequence and the size.
            data = cast(bytes, frame.data)  # unmasked by the parser: bytes
            if frame.fin:
                return [data] if opcode is Opcode.TEXT else data
            self._parts, self._text = [data], opcode is Opcode.TEXT
            return None
        if opcode is Opcode.CONT:
            parts = self._parts
            assert parts is not None  # the protocol refuses a continuation out of sequence
            parts.append(cast(bytes, frame.data))
            if not frame.fin:
                return None
            self._parts = None
            return parts if self._text else b"".join(parts)
        if opcode is Opcode.PONG and self._ping is not None and frame.data == self._ping:
            assert self._pong is not None
            self._pong.set()
            self._ping = self._pong = None
        return None  # a ping (the protocol queued its pong), a close (see _receive)

    async def _receive(self) -> None:
        """Read once from the socket, feed the protocol, send what it answers (pongs, the
        echo of a close, a failure's close frame) and note whether the connection ended."""
        protocol = self._protocol
        try:
            data = await self._stream.receive_some(RECEIVE_BYTES)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._abort("the connection broke")
            return
        if data:
            protocol.receive_data(data)
        else:
            protocol.receive_eof()
        # Only frames: the handshake is over. Bound: what one read carried.
        self._events = cast(list[Frame], protocol.events_received())
        if protocol.state is not State.OPEN and self.closed is None:
            self.closed = self._closed()
        await self._flush()

    def _closed(self) -> CloseReason:
        """How the protocol ended: the peer's close, our failure's code, or 1006."""
        protocol = self._protocol
        received, sent = protocol.close_rcvd, protocol.close_sent
        if received is not None:  # (codes as plain ints: websockets gives its IntEnum)
            return CloseReason(int(received.code), received.reason or None)
        if isinstance(protocol.parser_exc, EOFError) or sent is None:
            return CloseReason(ABNORMAL_CLOSURE, "the peer closed the socket")
        return CloseReason(int(sent.code), sent.reason or None)

    def _abort(self, reason: str) -> None:
        if self.closed is None:
            self.closed = CloseReason(ABNORMAL_CLOSURE, reason)

    async def _fail(self, code: int, reason: str) -> None:
        if self.closed is None:
            self._protocol.fail(code, reason)
            self.closed = self._closed()
            await self._flush()

    async def _flush(self) -> None:
        """Send what the protocol wants sent; its end of stream closes the socket. Shielded
        (a pong cut in half would break the stream; read_ahead is cancelled at any point) and
        bounded: a peer that reads nothing for STREAM_CLOSE_TIMEOUT_S is dropped."""
        writes = self._protocol.data_to_send()
        if not writes:
            return
        eof = writes[-1] == SEND_EOF
        data = b"".join(writes)
        with trio.CancelScope(shield=True) as scope:
            scope.deadline = trio.current_time() + STREAM_CLOSE_TIMEOUT_S
            await self._flush_locked(data, eof)
        if scope.cancelled_caught:
            self._abort("the peer does not read")
            await trio.aclose_forcefully(self._stream)

    async def _flush_locked(self, data: bytes, eof: bool) -> None:
        async with self.send_lock:
            data, self._unsent = self._unsent + data, b""
            if data:
                try:
                    await self._stream.send_all(data)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    self._abort("the connection broke")
                    return
            if eof:
                await close_stream(self._stream)

    # --- sending -----------------------------------------------------------------------------

    async def send_message(self, message: bytes | str) -> None:
        await self.send_burst((message,))

    async def send_burst(self, messages: Sequence[bytes | str]) -> None:
        """Send ``messages`` in order, framed together and written at once (a burst over
        BURST_BYTES_MAX in several writes); raises ConnectionClosed once closed."""
        async with self.send_lock:
            await self.write_burst(messages)

    async def write_burst(self, messages: Sequence[bytes | str]) -> None:
        """send_burst for a caller that holds ``send_lock`` already (with no messages: what
        write_now left unsent, if anything)."""
        if not messages and self._unsent:
            await self._send_locked(b"")
        for data in frame_burst(messages):
            await self._send_locked(data)

    @property
    def unsent(self) -> bool:
        return bool(self._unsent)

    def can_write_now(self) -> bool:
        """Whether write_now may run: plain TCP, still open, no write under way (none holds
        send_lock), nothing left unsent."""
        return (
            self._socket is not None
            and self.closed is None
            and not self.send_lock.locked()
            and not self._unsent
        )

    def write_now(self, messages: Sequence[bytes | str]) -> bool:
        """Frame ``messages`` and hand them to the kernel without waiting, when
        ``can_write_now()``: nothing awaits here, so no other write comes between. True when
        the kernel took everything; False when its buffer filled (the rest is kept unsent
        for the next write under send_lock) or the connection broke: a writer must run."""
        socket = self._socket
        assert socket is not None
        fd = socket.fileno()  # -1 once closed: the next write under the lock says so
        for data in frame_burst(messages):
            if self._unsent:
                self._unsent += data
                continue
            try:
                sent = os.write(fd, data) if fd >= 0 else 0
            except BlockingIOError:
                sent = 0
            except OSError:
                self._abort("the connection broke")
                return False
            if sent < len(data):
                self._unsent = data[sent:]
        return not self._unsent

    async def send_ping(self, pong: PongWait) -> None:
        """Send a ping with a fresh payload and return at once: ``pong.seen`` turns true when
        its pong arrives (a later ping replaces an unanswered one)."""
        payload = secrets.token_bytes(4)
        async with self.send_lock:
            if self.closed is None:
                self._ping, self._pong = payload, pong
                self._protocol.send_ping(payload)
            await self._send_locked(b"".join(self._protocol.data_to_send()))

    async def _send_locked(self, data: bytes) -> None:
        if self.closed is not None:
            raise ConnectionClosed(self.closed)
        if self._unsent:
            data, self._unsent = self._unsent + data, b""
        try:
            socket = self._socket
            if socket is None:
                await self._stream.send_all(data)
                return
            # Plain TCP: first one write(2) of our own on the non-blocking socket, which a
            # buffer with room (nearly always) takes whole, and the sender goes on without
            # the trip through the scheduler that ends trio's send: a table's action sends
            # to every seat, so that trip was one task step per recipient (issue 25). What
            # the kernel did not take goes through trio's send as the buffer drains (no
            # SocketStream.send_all: its conflict detector and error-translating context
            # manager cost a fifth of the send path; the write gate keeps one write at a
            # time). fileno() is -1 once the socket is closed, so a number reused by a new
            # connection is never written to.
            fd = socket.fileno()
            try:
                sent = os.write(fd, data) if fd >= 0 else 0
            except BlockingIOError:
                sent = 0
            if sent < len(data):
                with memoryview(data) as view:
                    while sent < len(view):
                        sent += await socket.send(view[sent:])
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            self._abort("the connection broke")
            raise ConnectionClosed(self._closed_now()) from None

    def _closed_now(self) -> CloseReason:
        assert self.closed is not None
        return self.closed

    # --- closing -----------------------------------------------------------------------------

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None:
        """Close with ``code``: send the close frame, read until the peer's (or the end of
        the stream), close the socket. Unbounded in time by itself: the caller bounds it (a
        peer that never answers); the socket is closed even when that cancels it."""
        protocol = self._protocol
        try:
            if self.closed is None and protocol.state is State.OPEN:
                text = (reason or "").encode()[:CLOSE_REASON_BYTES_MAX].decode(errors="ignore")
                self.closed = CloseReason(code, text or None)
                protocol.send_close(code, text)
                async with self.send_lock:
                    await self._stream.send_all(b"".join(protocol.data_to_send()))
                while not protocol.eof_sent:  # set when the peer's close (or EOF) is read
                    data = await self._stream.receive_some(RECEIVE_BYTES)
                    if data:
                        protocol.receive_data(data)
                    else:
                        protocol.receive_eof()
                    protocol.events_received()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await close_stream(self._stream)


async def close_stream(stream: trio.abc.Stream) -> None:
    """Close the socket (a TLS stream sends its close_notify), in STREAM_CLOSE_TIMEOUT_S at most;
    closed either way."""
    with trio.move_on_after(STREAM_CLOSE_TIMEOUT_S):
        with contextlib.suppress(trio.BrokenResourceError):
            await stream.aclose()
    await trio.aclose_forcefully(stream)  # a no-op once closed


# --- the listener -----------------------------------------------------------------------------


@final
class HandshakeRequest:
    """A valid websocket upgrade request, for the handler to accept or reject."""

    __slots__ = ("_events", "_protocol", "_request", "_response", "_stream", "remote_address")

    def __init__(
        self,
        stream: trio.abc.Stream,
        protocol: Protocol,
        request: Request,
        response: Response,
        events: list[Frame],
    ) -> None:
        self._stream = stream
        self._protocol = protocol
        self._request: Request | None = request
        self._response: Response | None = response
        self._events = events  # frames the client sent right behind its request
        self.remote_address = _peer_address(stream)

    def _the_request(self) -> Request:
        if self._request is None:
            raise RuntimeError("the handshake was answered already")
        return self._request

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """Every header, name in lower case, both as sent (Latin-1)."""
        return [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in self._the_request().headers.raw_items()
        ]

    @property
    def host(self) -> str | None:
        return self._the_request().headers.get("Host")

    @property
    def path(self) -> str:
        return self._the_request().path

    @property
    def proposed_subprotocols(self) -> tuple[str, ...]:
        headers = self._the_request().headers
        offered: list[str] = []
        for value in headers.get_all("Sec-WebSocket-Protocol"):
            offered.extend(parse_subprotocol(value))  # checked valid by the listener
        return tuple(offered)

    async def accept(self, subprotocol: str | None = None) -> ServerWebSocket:
        """Answer 101 (naming ``subprotocol``, which must be one the client offered)."""
        response = self._response
        if response is None:
            raise RuntimeError("the handshake was answered already")
        if subprotocol is not None:
            response.headers["Sec-WebSocket-Protocol"] = subprotocol
        ws = ServerWebSocket(self._stream, self._protocol, self._events, subprotocol)
        if self._protocol.state is not State.OPEN:  # the client closed right behind its request
            ws.closed = ws._closed()
        # Nothing of the handshake stays with the open connection.
        self._request = self._response = None
        self._events = []
        try:
            # Before any frame the protocol may have answered (a ping sent with the request).
            await self._stream.send_all(response.serialize())
            await ws._flush()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            ws._abort("the connection broke during the handshake")
        return ws

    async def reject(self, status: int, body: bytes = b"") -> None:
        """Answer ``status`` with ``body`` (plain text) and close."""
        if self._response is None:
            raise RuntimeError("the handshake was answered already")
        self._request = self._response = None
        await _answer(self._stream, status, body.decode(errors="replace"))


def _peer_address(stream: trio.abc.Stream) -> str:
    transport = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
    if isinstance(transport, trio.SocketStream):
        try:
            peer = transport.socket.getpeername()
        except OSError:
            return ""
        return str(peer[0]) if isinstance(peer, tuple) else str(peer)
    return repr(transport)


async def _send_and_close(stream: trio.abc.Stream, writes: list[bytes]) -> None:
    data = b"".join(writes)
    if data:
        with trio.move_on_after(STREAM_CLOSE_TIMEOUT_S):
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await stream.send_all(data)
    await close_stream(stream)


async def _read_handshake(
    stream: trio.abc.Stream, message_bytes_max: int
) -> HandshakeRequest | None:
    """The client's valid upgrade request, or None once a bad one has been answered (or the
    peer went away) and the socket closed.

    The request is parsed here, not by a ServerProtocol: its parser generator would keep the
    request (headers and all, ~2.5 KB) alive for the connection's whole life."""
    reader = StreamReader()
    parser = Request.parse(reader.read_line)
    request: Request | None = None
    while request is None:
        try:
            data = await stream.receive_some(RECEIVE_BYTES)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            await trio.aclose_forcefully(stream)
            return None
        if data:
            reader.feed_data(data)
        else:
            reader.feed_eof()
        try:
            next(parser)
        except StopIteration as done:
            request = done.value
        except EOFError:  # the peer closed before a whole request
            await trio.aclose_forcefully(stream)
            return None
        except RequestLineTooLong:
            await _answer(stream, 414, "the request line is too long\n")
            return None
        except SecurityError as exc:  # HeaderLineTooLong, TooManyHeaders
            await _answer(stream, 431, f"{exc}\n")
            return None
        except Exception as exc:  # websockets' parser: what it raises is not HTTP
            await _answer(stream, 400, f"not a valid HTTP request: {str(exc)[:200]}\n")
            return None
    checker = ServerProtocol(logger=_log)  # its upgrade checks; no subprotocol chosen yet
    response = checker.accept(request)
    if response.status_code != 101:
        await _send_and_close(stream, [response.serialize()])
        return None
    protocol = Protocol(Side.SERVER, state=State.OPEN, max_size=message_bytes_max, logger=_log)
    events: list[Frame] = []
    if reader.buffer:  # frames sent right behind the request
        protocol.receive_data(bytes(reader.buffer))
        events = [e for e in protocol.events_received() if isinstance(e, Frame)]
    return HandshakeRequest(stream, protocol, request, response, events)


async def _answer(stream: trio.abc.Stream, status: int, text: str) -> None:
    response = ServerProtocol(logger=_log).reject(status, text)
    await _send_and_close(stream, [response.serialize()])


async def _serve_connection(
    handler: Callable[[HandshakeRequest], Awaitable[None]],
    message_bytes_max: int,
    handshake_timeout_s: float,
    stream: trio.abc.Stream,
) -> None:
    try:
        request = None
        with trio.move_on_after(handshake_timeout_s):
            request = await _read_handshake(stream, message_bytes_max)
        if request is not None:
            await handler(request)
    finally:
        await trio.aclose_forcefully(stream)  # closed cleanly by now, unless cancelled


def listening_port(listeners: Sequence[trio.abc.Listener[trio.abc.Stream]]) -> int:
    listener = listeners[0]
    if isinstance(listener, trio.SSLListener):
        listener = listener.transport_listener
    assert isinstance(listener, trio.SocketListener)
    port = listener.socket.getsockname()[1]
    assert isinstance(port, int)
    return port


async def serve_websocket(
    handler: Callable[[HandshakeRequest], Awaitable[None]],
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
    *,
    handler_nursery: trio.Nursery,
    message_bytes_max: int,
    handshake_timeout_s: float,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> NoReturn:
    """Listen until cancelled; ``task_status.started`` gets the port. Each connection runs in
    ``handler_nursery`` (one task: the handshake, then ``handler``)."""
    listeners: Sequence[trio.abc.Listener[trio.abc.Stream]]
    if ssl_context is None:
        listeners = await trio.open_tcp_listeners(port, host=host)
    else:
        # https_compatible: a TLS peer that drops the socket without close_notify is an
        # ordinary end, as browsers do it.
        listeners = await trio.open_ssl_over_tcp_listeners(
            port, ssl_context, host=host, https_compatible=True
        )
    serve = partial(_serve_connection, handler, message_bytes_max, handshake_timeout_s)
    async with trio.open_nursery() as nursery:
        await nursery.start(
            partial(trio.serve_listeners, serve, list(listeners), handler_nursery=handler_nursery)
        )
        task_status.started(listening_port(listeners))
        await trio.sleep_forever()
