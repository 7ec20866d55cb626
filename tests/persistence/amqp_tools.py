"""Helpers for the tests against the real RabbitMQ: a private exchange and queues per test, a
queue to observe what was published, and a TCP proxy that can take the broker away.

The broker is "stopped" by the proxy (every connection through it reset, new ones refused)
rather than by ``rabbitmqctl stop_app``: it is instant and certain, it hits exactly this
test's connections, and the broker's side of it (durable queues, persistent messages) is the
same either way.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, final
from urllib.parse import urlsplit, urlunsplit

import aiormq
import trio
import trio_asyncio

from persistence.amqp import open_amqp_loop

OBSERVED_MAX = 100_000  # bound: messages one observation reads


@final
class Broker:
    """A test's view of RabbitMQ: its own exchange name, and its queues, deleted after."""

    def __init__(self, url: str, loop: trio_asyncio.TrioEventLoop) -> None:
        self.url = url
        self.loop = loop
        self.exchange = f"tablium.events.test-{secrets.token_hex(4)}"
        self.queues: list[str] = []

    async def bind_observer(self, pattern: str = "#") -> str:
        """A durable queue bound to the exchange (declared first), to read what arrives."""
        name = f"{self.exchange}.observer-{len(self.queues)}"
        self.queues.append(name)

        async def declare() -> None:
            connection = await aiormq.connect(self.url)
            try:
                channel = await connection.channel()
                await channel.exchange_declare(
                    exchange=self.exchange, exchange_type="topic", durable=True
                )
                await channel.queue_declare(name, durable=True)
                await channel.queue_bind(name, self.exchange, routing_key=pattern)
            finally:
                await connection.close()

        await self.loop.run_aio_coroutine(declare())
        return name

    async def drain(self, queue: str) -> list[tuple[str, bytes, Any]]:
        """Every message now in ``queue``: (routing key, body, properties), acknowledged."""

        async def get_all() -> list[tuple[str, bytes, Any]]:
            connection = await aiormq.connect(self.url)
            found: list[tuple[str, bytes, Any]] = []
            try:
                channel = await connection.channel()
                while len(found) < OBSERVED_MAX:
                    message = await channel.basic_get(queue, no_ack=True)
                    if message.delivery_tag is None:  # Basic.GetEmpty
                        break
                    key = message.delivery.routing_key  # type: ignore[union-attr]
                    found.append((str(key), message.body, message.header.properties))
            finally:
                await connection.close()
            return found

        result: list[tuple[str, bytes, Any]] = await self.loop.run_aio_coroutine(get_all())
        return result

    async def cleanup(self, extra_queues: list[str]) -> None:
        async def delete() -> None:
            connection = await aiormq.connect(self.url)
            try:
                channel = await connection.channel()
                for queue in [*self.queues, *extra_queues]:
                    await channel.queue_delete(queue)
                await channel.exchange_delete(self.exchange)
            finally:
                await connection.close()

        with trio.CancelScope(shield=True):
            await self.loop.run_aio_coroutine(delete())


@asynccontextmanager
async def private_broker(url: str) -> AsyncIterator[Broker]:
    async with open_amqp_loop() as loop:
        broker = Broker(url, loop)
        extra: list[str] = []
        try:
            yield broker
        finally:
            await broker.cleanup(extra)


@final
class BrokerProxy:
    """127.0.0.1:<port> -> the broker. ``cut()`` resets every connection and refuses new
    ones until ``restore()``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.up = True
        self.connections = 0
        self._scopes: set[trio.CancelScope] = set()

    def url(self, broker_url: str) -> str:
        parts = urlsplit(broker_url)
        netloc = parts.netloc.rsplit("@", 1)
        credentials = f"{netloc[0]}@" if len(netloc) == 2 else ""
        return urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{self.port}"))

    def cut(self) -> None:
        self.up = False
        for scope in list(self._scopes):
            scope.cancel()

    def restore(self) -> None:
        self.up = True

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started()
        async with trio.open_nursery() as nursery:
            for listener in listeners:
                nursery.start_soon(trio.serve_listeners, self._handle, [listener])

    async def _handle(self, client: trio.SocketStream) -> None:
        if not self.up:
            await client.aclose()
            return
        self.connections += 1
        try:
            upstream = await trio.open_tcp_stream(*self.target)
        except OSError:
            await client.aclose()
            return
        with trio.CancelScope() as scope:
            self._scopes.add(scope)
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(_pump, client, upstream, scope)
                    nursery.start_soon(_pump, upstream, client, scope)
            finally:
                self._scopes.discard(scope)
        for stream in (client, upstream):
            with trio.CancelScope(shield=True):
                await stream.aclose()


async def _pump(source: trio.SocketStream, sink: trio.SocketStream, pair: trio.CancelScope) -> None:
    try:
        while True:
            data = await source.receive_some(65536)
            if not data:
                break
            await sink.send_all(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    pair.cancel()  # either side closing ends the pair
