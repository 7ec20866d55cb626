"""A Redis connection on trio itself, for the node bus (persistence/node_bus.py): commands
written in RESP by hand (a few lines), replies parsed by hiredis's reader (C, sans-IO).

Why the bus does not go through RedisLink (redis-py's asyncio client on the trio-asyncio
loop) as the rest of the shared state does: there a round trip is a chain of trio and
asyncio scheduling steps. Measured on the 2-core machine, one PING at a time: 0.70 ms
through RedisLink (trio-asyncio), 0.09 ms with redis-py on plain asyncio, 0.07 ms on this
connection (docs/scaling.md, "Routing between nodes"). A routed request crosses the bus
twice (request, reply), each crossing a write and a blocked read's answer, so the bus's
round trips were most of what a routed action cost beyond a local one.

A connection carries one caller at a time (the bus gives its sender and its reader one
each). Errors: Redis not answering, a closed or reset socket, a reply not in time:
``ConnectionError`` or ``TimeoutError`` (both OSError), after which the connection is
closed and the caller opens a new one; an error reply (``-ERR ...``) comes back as a
``RespError`` in the list of replies, for the caller to raise or not.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from typing import Final, final
from urllib.parse import unquote, urlsplit

import hiredis
import trio

DEFAULT_PORT: Final = 6379
READ_BYTES: Final = 65_536  # one receive at most
Arg = bytes | str | int


class RespError(Exception):
    """An error reply of Redis (``NOGROUP ...``, ``BUSYGROUP ...``, ``ERR ...``)."""


def encode_command(args: Sequence[Arg]) -> bytes:
    """One command in RESP: an array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


@final
class RespConnection:
    def __init__(self, stream: trio.abc.Stream) -> None:
        self._stream = stream
        self._reader = hiredis.Reader(replyError=RespError)
        self.closed = False

    @classmethod
    async def open(cls, url: str, timeout_s: float) -> RespConnection:
        """Connect to ``url`` (``redis://[user:password@]host[:port][/db]``, ``rediss://``
        for TLS, ``unix:///path[?db=N]``), authenticate and select its database."""
        parts = urlsplit(url)
        try:
            with trio.fail_after(timeout_s):
                stream = await _open_stream(parts.scheme, parts.hostname, parts.port, parts.path)
        except trio.TooSlowError as exc:
            raise TimeoutError(f"redis: no connection within {timeout_s} s") from exc
        except OSError as exc:  # refused, unreachable, a TLS handshake that failed
            raise ConnectionError(f"redis: {exc!r}") from exc
        except trio.BrokenResourceError as exc:
            raise ConnectionError(f"redis: {exc!r}") from exc
        connection = cls(stream)
        setup: list[list[Arg]] = []
        if parts.password is not None:
            user = [unquote(parts.username)] if parts.username else []
            setup.append(["AUTH", *user, unquote(parts.password)])
        db = _db_of(parts.scheme, parts.path, parts.query)
        if db:
            setup.append(["SELECT", db])
        if setup:
            try:
                replies = await connection.execute(setup, timeout_s)
            except BaseException:
                await connection.aclose()
                raise
            for reply in replies:
                if isinstance(reply, RespError):
                    await connection.aclose()
                    raise ConnectionError(f"redis: {reply}")
        return connection

    async def execute(self, commands: Sequence[Sequence[Arg]], timeout_s: float) -> list[object]:
        """Send ``commands`` in one write and return their replies in order (a pipeline).
        Within ``timeout_s``, else TimeoutError and the connection is closed."""
        if self.closed:
            raise ConnectionError("redis: connection closed")
        replies: list[object] = []
        try:
            with trio.fail_after(timeout_s):
                await self._stream.send_all(b"".join(encode_command(c) for c in commands))
                while len(replies) < len(commands):
                    reply = self._reader.gets()
                    if reply is False:  # hiredis: not a whole reply yet
                        data = await self._stream.receive_some(READ_BYTES)
                        if not data:
                            raise ConnectionError("redis: connection closed by the server")
                        self._reader.feed(bytes(data))
                        continue
                    replies.append(reply)
        except trio.TooSlowError as exc:
            await self.aclose()
            raise TimeoutError(f"redis: no reply within {timeout_s} s") from exc
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            await self.aclose()
            raise ConnectionError(f"redis: {exc!r}") from exc
        except BaseException:  # cancelled halfway: the replies still due would be misread
            await self.aclose()
            raise
        return replies

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        with trio.CancelScope(shield=True):
            await trio.aclose_forcefully(self._stream)


async def _open_stream(
    scheme: str, host: str | None, port: int | None, path: str
) -> trio.abc.Stream:
    if scheme == "unix":
        return await trio.open_unix_socket(path)
    if scheme not in ("redis", "rediss"):
        raise ValueError(f"redis: unsupported URL scheme {scheme!r}")
    tcp = await trio.open_tcp_stream(host or "127.0.0.1", port or DEFAULT_PORT)
    if scheme == "redis":
        return tcp
    tls = trio.SSLStream(tcp, ssl.create_default_context(), server_hostname=host)
    await tls.do_handshake()
    return tls


def _db_of(scheme: str, path: str, query: str) -> int:
    if scheme == "unix":
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            if name == "db" and value.isdigit():
                return int(value)
        return 0
    number = path.strip("/")
    return int(number) if number.isdigit() else 0
