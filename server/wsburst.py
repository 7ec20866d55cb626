"""Several websocket messages to one connection in one socket write.

trio-websocket writes each message with its own ``send_all``: a table's action that owes one
connection three frames costs three system calls and three trips through trio's I/O. This
frames them all with the connection's own wsproto state and writes the bytes once, under the
connection's stream lock, exactly as ``WebSocketConnection._send`` does for one message.

It reads trio-websocket's private attributes (``_wsproto``, ``_stream``, ``_stream_lock``,
``_close_reason``, ``_abort_web_socket``); the dependency is pinned to the releases it was
checked against (pyproject.toml: <0.13), and tests/server/test_wsburst.py runs it against the
installed release.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection
from wsproto.events import BytesMessage, TextMessage

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
