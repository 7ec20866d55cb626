"""Server-to-client websocket frames, framed by hand: several messages to one connection in
one socket write (cut 1 of issue 25).

A server's frames are never masked and we negotiate no extension, so a data frame is a
2-, 4- or 10-byte header and the payload (RFC 6455, 5.2): framing it here costs a fraction of
a protocol library's per-frame object and checks, and a table's action owes each player a few
frames at once. Pure (no I/O, no trio): server/websocket.py writes what this returns.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from typing import Final

BURST_BYTES_MAX: Final = 256 * 1024  # one write carries at most this much (then another)
_FIN_TEXT: Final = 0x81  # FIN + opcode 1
_FIN_BINARY: Final = 0x82  # FIN + opcode 2
_HEADER_16: Final = struct.Struct("!BBH")
_HEADER_64: Final = struct.Struct("!BBQ")


def frame(message: bytes | str) -> bytes:
    """One unfragmented, unmasked data frame: text for a str (UTF-8), binary for bytes."""
    if isinstance(message, str):
        payload, first = message.encode(), _FIN_TEXT
    else:
        payload, first = message, _FIN_BINARY
    size = len(payload)
    if size < 126:
        return bytes((first, size)) + payload
    if size < 65536:
        return _HEADER_16.pack(first, 126, size) + payload
    return _HEADER_64.pack(first, 127, size) + payload


def frame_burst(messages: Sequence[bytes | str]) -> Iterator[bytes]:
    """The frames of ``messages`` in order, joined into writes of about BURST_BYTES_MAX at
    most (one write unless the burst is larger; a single larger frame is one write)."""
    chunks: list[bytes] = []
    size = 0
    for message in messages:
        data = frame(message)
        chunks.append(data)
        size += len(data)
        if size >= BURST_BYTES_MAX:
            yield b"".join(chunks)
            chunks, size = [], 0
    if chunks:
        yield chunks[0] if len(chunks) == 1 else b"".join(chunks)
