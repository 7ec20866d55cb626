"""Several websocket messages to one connection in one socket write; a ping that does not
wait for its pong.

trio-websocket writes each message with its own ``send_all``: a table's action that owes one
connection three frames costs three system calls and three trips through trio's I/O. This
frames them all with the connection's own wsproto state and writes the bytes once, under the
connection's stream lock, exactly as ``WebSocketConnection._send`` does for one message.

``release_handshake`` lets go of wsproto's handshake state (an h11 connection, its buffers)
once the connection is open: nothing reads it again, and it is ~2.5 KB of every idle
connection.

``send_ping`` sends a ping as ``WebSocketConnection.ping`` does but returns at once: the
connection's writer checks the pong's ``PongWait`` later, so that the heartbeat needs no task
of its own while it waits.

They read trio-websocket's private attributes (``_wsproto``, ``_stream``, ``_stream_lock``,
``_close_reason``, ``_abort_web_socket``, ``_pings``, ``_send``) and wsproto's
(``WSConnection.handshake``, ``H11Handshake._events``); trio-websocket is pinned to the
releases it was checked against (pyproject.toml: <0.13), and tests/server/test_wsburst.py runs
them against the installed releases of both.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from typing import Final, cast, final

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection
from wsproto.events import BytesMessage, Event, Ping, TextMessage
from wsproto.handshake import H11Handshake

BURST_BYTES_MAX: Final = 256 * 1024  # one write carries at most this much (then another)


async def send_burst(ws: WebSocketConnection, messages: Sequence[bytes | str]) -> None:
    """Send ``messages`` in order, framed together and written at once (a burst over
    BURST_BYTES_MAX is written in several pieces); raises ConnectionClosed like
    ``send_message``."""
    if ws._close_reason:
        raise ConnectionClosed(ws._close_reason)
    protocol = ws._wsproto
    chunks: list[bytes] = []
    size = 0
    for message in messages:
        event = (
            TextMessage(data=message) if isinstance(message, str) else BytesMessage(data=message)
        )
        data = protocol.send(event)
        chunks.append(data)
        size += len(data)
        if size >= BURST_BYTES_MAX:
            await _write(ws, b"".join(chunks))
            chunks, size = [], 0
    if chunks:
        await _write(ws, chunks[0] if len(chunks) == 1 else b"".join(chunks))


async def _write(ws: WebSocketConnection, data: bytes) -> None:
    async with ws._stream_lock:
        try:
            await ws._stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            await ws._abort_web_socket()
            assert ws._close_reason is not None
            raise ConnectionClosed(ws._close_reason) from None


@final
class PongWait:
    """A ping in flight: ``seen`` once its pong (or a later ping's) has come back. It stands
    in for the trio.Event that ``WebSocketConnection.ping`` registers (trio-websocket calls
    ``set()`` when the pong arrives), without a parking lot nobody waits in."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen = False

    def set(self) -> None:
        self.seen = True


async def send_ping(ws: WebSocketConnection, pong: PongWait) -> None:
    """Send a ping with a fresh payload and return without waiting: ``pong.seen`` turns true
    when its pong arrives. Raises ConnectionClosed like ``ping``."""
    if ws._close_reason:
        raise ConnectionClosed(ws._close_reason)
    payload = secrets.token_bytes(4)
    while payload in ws._pings:
        payload = secrets.token_bytes(4)
    ws._pings[payload] = cast(trio.Event, pong)
    await ws._send(Ping(payload=payload))


@final
class _Opened:
    """What stands in for wsproto's H11Handshake once the connection is open: wsproto's
    ``WSConnection`` asks it only for its pending events (it has none left) after that."""

    __slots__ = ()

    def events(self) -> Iterator[Event]:
        return iter(())


_OPENED: Final = _Opened()


def release_handshake(ws: WebSocketConnection) -> None:
    """Drop the handshake's state of an open connection (a no-op before it is open)."""
    protocol = ws._wsproto
    if protocol.connection is not None and not isinstance(protocol.handshake, _Opened):
        if protocol.handshake._events:
            return  # events not read yet (trio-websocket reads them at once): keep them
        protocol.handshake = cast(H11Handshake, _OPENED)
