"""A minimal websocket client for benchmarks: a prebuilt masked frame out, a small frame
parser in, on a trio stream.

trio-websocket on the client side costs as much CPU as the server under test and would make a
benchmark one of the clients, so the benchmarks' clients (``tablium bench gateway``,
``tablium bench table``) speak the framing themselves: binary frames only, no fragmentation
(servers here never fragment), the server's pings answered, its close turned into EOFError.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any, Final, final

import trio

RECEIVE_BYTES_MAX: Final = 65536  # one read from the socket
OPCODE_BINARY: Final = 0x2
OPCODE_CLOSE: Final = 0x8
OPCODE_PING: Final = 0x9
OPCODE_PONG: Final = 0xA


@final
class RawWebsocket:
    """The client side of one websocket over ``stream`` (a trio stream)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self._buffer = bytearray()
        self._pongs: list[bytes] = []  # payloads of pings read, answered before the next read
        # One sender at a time on the stream (trio refuses two): a reader answering a ping
        # and another task sending a request.
        self._send_lock = trio.StrictFIFOLock()

    async def handshake(self, host: str, port: int) -> None:
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        await self.stream.send_all(
            f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        while b"\r\n\r\n" not in self._buffer:
            await self._fill()
        head, _, rest = bytes(self._buffer).partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"handshake refused: {head[:80]!r}")
        self._buffer = bytearray(rest)

    async def send(self, payload: bytes) -> None:
        async with self._send_lock:
            await self.stream.send_all(masked_frame(OPCODE_BINARY, payload))

    async def receive(self) -> bytes:
        """The payload of the next server frame (servers do not mask)."""
        while True:
            payload = self.next_buffered()
            if payload is not None:
                return payload
            await self._fill()

    def next_buffered(self) -> bytes | None:
        """The next data frame already read from the socket, or None (nothing complete yet).
        Control frames are handled on the way: a ping's pong is queued (sent by the next
        read from the socket, or by answer_pings), a close raises EOFError."""
        buffer = self._buffer
        while len(buffer) >= 2:
            size = buffer[1] & 0x7F
            header = 2
            if size == 126:
                if len(buffer) < 4:
                    return None
                header, size = 4, int.from_bytes(buffer[2:4], "big")
            elif size == 127:
                if len(buffer) < 10:
                    return None
                header, size = 10, int.from_bytes(buffer[2:10], "big")
            if len(buffer) < header + size:
                return None
            opcode = buffer[0] & 0x0F
            payload = bytes(buffer[header : header + size])
            del buffer[: header + size]
            if opcode == OPCODE_PING:
                self._pongs.append(payload)
                continue
            if opcode == OPCODE_CLOSE:
                raise EOFError(f"the server closed the connection: {payload[:2]!r}")
            return payload
        return None

    async def answer_pings(self) -> None:
        """Send the pongs owed for pings read so far (call between reads)."""
        while self._pongs:
            async with self._send_lock:
                await self.stream.send_all(masked_frame(OPCODE_PONG, self._pongs.pop(0)))

    async def _fill(self) -> None:
        await self.answer_pings()
        data = await self.stream.receive_some(RECEIVE_BYTES_MAX)
        if not data:
            raise EOFError("the server closed the connection")
        self._buffer += data


def masked_binary_frame(payload: bytes) -> bytes:
    return masked_frame(OPCODE_BINARY, payload)


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A final frame, masked as clients must (with a zero mask: the bytes stay readable,
    and servers must accept any mask)."""
    size = len(payload)
    first = 0x80 | opcode
    if size < 126:
        header = bytes([first, 0x80 | size])
    elif size < 65536:
        header = bytes([first, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([first, 0x80 | 127]) + size.to_bytes(8, "big")
    return header + b"\x00\x00\x00\x00" + payload
