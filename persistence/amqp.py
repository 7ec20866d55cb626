"""RabbitMQ through aiormq, on the process's trio-asyncio loop (as asyncpg and redis-py).

Why aiormq: it is the asyncio AMQP 0-9-1 client under aio-pika (maintained, pure Python, with
publisher confirms), and trio-asyncio already runs asyncpg for us. aio-pika's extra layer
(robust reconnection, its own object model) would duplicate what the relay does itself
(retry with backoff, publish again from the outbox), so we use the client beneath it. No
maintained AMQP client runs on trio natively.

Crossings into asyncio are the cost (ARCHITECTURE.md): a batch is published in one crossing
(every message written in order on one channel, then every confirmation awaited together),
and a consumer takes up to its prefetch of deliveries per crossing.

Publishing: a durable topic exchange ``tablium.events``; routing key = the event type
(``player.banned``); persistent messages (delivery mode 2), CloudEvents JSON
(persistence/event_bus.py), ``message_id`` = the event id. Consuming: one durable queue per
consumer, ``tablium.<name>``, bound to each of its event types.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, Final, final

import aiormq
import msgspec
import structlog
import trio
import trio_asyncio
from aiormq.abc import DeliveredMessage
from pamqp import commands as spec

from persistence.event_bus import (
    CLOUDEVENTS_CONTENT_TYPE,
    DEFAULT_SOURCE,
    EXCHANGE,
    BrokerUnavailable,
    Consumer,
    Event,
    deliver,
    from_cloudevent,
    to_cloudevent,
)
from persistence.outbox import OutboxEvent
from persistence.store import Store

log = structlog.get_logger("tablium.amqp")

CONNECT_TIMEOUT_S: Final = 5.0  # a broker that does not answer is away, not slow
CONFIRM_TIMEOUT_S: Final = 30.0  # bound on one batch's confirmations
QUEUE_PREFIX: Final = "tablium."
# A message body that is not a Tablium CloudEvent (from_cloudevent refuses it).
NOT_AN_EVENT: Final = (msgspec.DecodeError, msgspec.ValidationError, ValueError, KeyError)
CONSUMER_BACKOFF_MIN_S: Final = 0.1
CONSUMER_BACKOFF_MAX_S: Final = 5.0
# What a lost broker looks like from aiormq (and the sockets under it). aiormq cancels its
# pending futures when the connection dies: asyncio's CancelledError is one of them here (a
# trio cancellation never arrives as one through run_aio_coroutine).
BROKER_ERRORS: Final = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,  # a call on a channel that closed meanwhile
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
    asyncio.CancelledError,
    StopAsyncIteration,  # aiormq's handshake on a connection closed under it
    EOFError,
)


@final
class AmqpBus:
    """Publishes batches with confirms; reconnects on the next batch after a failure."""

    def __init__(
        self,
        url: str,
        loop: trio_asyncio.TrioEventLoop,
        *,
        exchange: str = EXCHANGE,
        source: str = DEFAULT_SOURCE,
        queue: str | None = None,
    ) -> None:
        """``queue``: publish to this one queue only (the default exchange, routing key = the
        queue), as a replay for one rebuilt consumer does; None: the topic exchange."""
        self.url = url
        self.exchange = exchange if queue is None else ""
        self.queue = queue
        self.source = source
        self._loop = loop
        self._connection: aiormq.abc.AbstractConnection | None = None
        self._channel: aiormq.abc.AbstractChannel | None = None
        self.published = 0

    async def publish(self, events: Sequence[OutboxEvent]) -> None:
        bodies = [
            (self.queue or e.routing_key, str(e.id), to_cloudevent(e, self.source)) for e in events
        ]
        try:
            await self._loop.run_aio_coroutine(self._publish_aio(bodies))
        except BROKER_ERRORS as exc:
            await self._drop()
            raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from exc
        self.published += len(events)

    async def publish_direct(self, messages: Sequence[tuple[str, str, bytes]]) -> None:
        """(routing key, message id, body) published with the same client, channel and
        confirms, without the outbox: the benchmark's baseline."""
        await self._loop.run_aio_coroutine(self._publish_aio(messages))

    async def _publish_aio(self, messages: Sequence[tuple[str, str, bytes]]) -> None:
        channel = await self._open_channel_aio()
        publishes = [
            channel.basic_publish(
                body,
                exchange=self.exchange,
                routing_key=key,
                properties=spec.Basic.Properties(
                    delivery_mode=2, content_type=CLOUDEVENTS_CONTENT_TYPE, message_id=message_id
                ),
                wait=False,  # type: ignore[call-arg]  # aiormq.Channel takes it, its ABC omits it
            )
            for key, message_id, body in messages
        ]
        # Tasks take the channel's lock in creation order: the frames go out in this order.
        async with asyncio.timeout(CONFIRM_TIMEOUT_S):
            confirmations = await asyncio.gather(*publishes)
        for confirmation in confirmations:
            if not isinstance(confirmation, spec.Basic.Ack):
                raise aiormq.exceptions.AMQPError(f"broker refused a message: {confirmation!r}")

    async def _open_channel_aio(self) -> aiormq.abc.AbstractChannel:
        channel = self._channel
        if channel is not None and not channel.is_closed:
            return channel
        await self._drop_aio()
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            self._connection = await aiormq.connect(self.url)
            channel = await self._connection.channel(publisher_confirms=True)
            if self.queue is None:
                await channel.exchange_declare(
                    exchange=self.exchange, exchange_type="topic", durable=True
                )
            else:  # refused (ChannelNotFoundEntity) unless the queue exists: nothing dropped
                await channel.queue_declare(self.queue, passive=True)
        self._channel = channel
        return channel

    async def _drop(self) -> None:
        with trio.CancelScope(shield=True):
            await self._loop.run_aio_coroutine(self._drop_aio())

    async def _drop_aio(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT_S):
                    await connection.close()
            except BROKER_ERRORS:
                pass

    async def aclose(self) -> None:
        await self._drop()


@final
class AmqpConsumers:
    """Runs consumers on their durable queues: takes deliveries, applies each once
    (persistence/event_bus.py: apply_once) and acknowledges after the transaction committed.
    A lost broker: reconnect with backoff; unacknowledged deliveries come again (and are
    skipped by the processed records)."""

    def __init__(
        self,
        url: str,
        loop: trio_asyncio.TrioEventLoop,
        store: Store,
        consumers: Sequence[Consumer],
        *,
        exchange: str = EXCHANGE,
        on_delivered: Callable[[Consumer, Event, bool], None] | None = None,
    ) -> None:
        self.url = url
        self.exchange = exchange
        self._loop = loop
        self._store = store
        self.consumers = consumers
        # Told of each delivery once its transaction committed (applied, or seen before).
        self._on_delivered = on_delivered
        self.applied = 0
        self.skipped = 0
        self.rejected = 0  # messages that were not Tablium events (dropped)
        self.reconnects = 0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            for consumer in self.consumers:
                await nursery.start(self._run_one, consumer)
            task_status.started()

    async def _run_one(
        self, consumer: Consumer, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        started = False
        backoff_s = CONSUMER_BACKOFF_MIN_S
        while True:
            try:
                async with self._subscribed(consumer) as inbox:
                    if not started:
                        started = True
                        task_status.started()
                    backoff_s = CONSUMER_BACKOFF_MIN_S
                    await self._consume(consumer, inbox)
            except Exception as exc:  # BROKER_ERRORS, or the consumer's change (or the store)
                # refused a delivery: nothing unacknowledged is lost (the broker hands it out
                # again once we reconnect), so back off and reconnect rather than crash.
                self.reconnects += 1
                log.warning("consumer stopped", consumer=consumer.name, error=repr(exc))
                if not started:
                    started = True
                    task_status.started()
                await trio.sleep(backoff_s)
                backoff_s = min(backoff_s * 2, CONSUMER_BACKOFF_MAX_S)

    @asynccontextmanager
    async def _subscribed(self, consumer: Consumer) -> AsyncIterator[_Inbox]:
        inbox = _Inbox()

        async def open_aio() -> aiormq.abc.AbstractConnection:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                connection = await aiormq.connect(self.url)
                channel = await connection.channel()
                await channel.basic_qos(prefetch_count=consumer.prefetch)
                await channel.exchange_declare(
                    exchange=self.exchange, exchange_type="topic", durable=True
                )
                queue = queue_name(consumer, self.exchange)
                # Single active consumer: with several nodes, one of them consumes the queue
                # at a time (another takes over when it goes), so an aggregate's events are
                # applied in their order.
                await channel.queue_declare(
                    queue, durable=True, arguments={"x-single-active-consumer": True}
                )
                for name in sorted(consumer.types):
                    await channel.queue_bind(queue, self.exchange, routing_key=name)
                await channel.basic_consume(queue, inbox.put, no_ack=False)
                inbox.channel = channel
                return connection

        connection = await self._loop.run_aio_coroutine(open_aio())
        inbox.connection = connection
        try:
            yield inbox
        finally:
            with trio.CancelScope(shield=True), suppress(*BROKER_ERRORS):
                await self._loop.run_aio_coroutine(_close_aio(connection))

    async def _consume(self, consumer: Consumer, inbox: _Inbox) -> None:
        while True:
            deliveries = await self._loop.run_aio_coroutine(inbox.take(consumer.prefetch))
            last_tag = 0
            for message in deliveries:
                last_tag = message.delivery_tag or last_tag
                try:
                    event = from_cloudevent(message.body)
                except NOT_AN_EVENT as exc:
                    # Not one of ours (someone published by hand to our exchange): dropped
                    # with the acknowledgement below, or it would come back forever.
                    self.rejected += 1
                    log.warning(
                        "consumer dropped a message", consumer=consumer.name, error=str(exc)
                    )
                    continue
                applied = await deliver(self._store, consumer, event)
                if applied:
                    self.applied += 1
                else:
                    self.skipped += 1
                if self._on_delivered is not None:
                    self._on_delivered(consumer, event, applied)
            if last_tag:
                channel = inbox.channel
                assert channel is not None
                await self._loop.run_aio_coroutine(channel.basic_ack(last_tag, multiple=True))


def queue_name(consumer: Consumer, exchange: str = EXCHANGE) -> str:
    """tablium.<consumer>; on another exchange (tests), named after it too."""
    if exchange == EXCHANGE:
        return f"{QUEUE_PREFIX}{consumer.name}"
    return f"{exchange}.{consumer.name}"


@final
class _Inbox:
    """Deliveries handed over by aiormq's callback (asyncio side), taken in batches."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[DeliveredMessage] = asyncio.Queue()
        self.channel: aiormq.abc.AbstractChannel | None = None
        self.connection: aiormq.abc.AbstractConnection | None = None

    async def put(self, message: DeliveredMessage) -> None:
        self.queue.put_nowait(message)  # bounded by the consumer's prefetch

    async def take(self, most: int) -> list[DeliveredMessage]:
        first_get = asyncio.ensure_future(self.queue.get())
        closings: list[Any] = [
            resource.closing for resource in (self.connection, self.channel) if resource
        ]
        try:
            done, _ = await asyncio.wait(
                [first_get, *closings], return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for closing in closings:
                closing.cancel()  # only this observer of the closure
        if first_get not in done:
            first_get.cancel()
            raise ConnectionError("the broker closed the connection")
        taken = [first_get.result()]
        while len(taken) < most and not self.queue.empty():
            taken.append(self.queue.get_nowait())
        return taken


async def _close_aio(connection: aiormq.abc.AbstractConnection) -> None:
    async with asyncio.timeout(CONNECT_TIMEOUT_S):
        await connection.close()


@asynccontextmanager
async def open_amqp_loop() -> AsyncIterator[trio_asyncio.TrioEventLoop]:
    """The current trio-asyncio loop, or one opened here for the caller's lifetime."""
    loop = trio_asyncio.current_loop.get()
    if loop is None:
        async with trio_asyncio.open_loop() as own_loop:
            yield own_loop
    else:
        yield loop
