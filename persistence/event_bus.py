"""How events reach consumers: the consumer interface, the CloudEvents envelope, and the bus
the relay publishes to (RabbitMQ: persistence/amqp.py; or in process, here).

A consumer (player statistics, rakeback, notifications) is a :class:`Consumer`: a name, the
event types it subscribes to, and ``apply``, its own change as a unit of work. Whatever
carries the event (a RabbitMQ queue, or the relay itself when no broker is configured), it
is applied by :func:`apply_once`: the consumer's processed-events record and its change are
one transaction, so an event delivered twice (at-least-once delivery, a replay) changes
things once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final, Protocol, final

import msgspec

from persistence import outbox
from persistence.events import BY_NAME, UnknownEventType, event_type
from persistence.outbox import CONSUMER_CHARS_MAX, OutboxEvent
from persistence.store import Store
from persistence.work import Work

CLOUDEVENTS_CONTENT_TYPE: Final = "application/cloudevents+json"
DEFAULT_SOURCE: Final = "/tablium"
EXCHANGE: Final = "tablium.events"  # durable topic exchange; routing key = the event type


class BrokerUnavailable(Exception):
    """The broker did not confirm a batch (away, closed the connection, or refused a
    message); the relay retries the batch later. Nothing of the batch counts as relayed."""


@final
class Event(msgspec.Struct, frozen=True):
    """An event as a consumer receives it, whatever carried it."""

    id: int  # unique forever: what the processed-events record keys on
    type: str
    aggregate: str
    sequence: int
    schema_version: int
    at_ms: int
    payload: Any  # the type's payload Struct (persistence/events.py)


def event_from_outbox(row: OutboxEvent) -> Event:
    return Event(
        id=row.id, type=row.type, aggregate=row.aggregate, sequence=row.sequence,
        schema_version=row.schema_version, at_ms=row.at_ms,
        payload=msgspec.json.decode(row.payload, type=event_type(row.type).payload),
    )  # fmt: skip


# -- CloudEvents 1.0, structured JSON mode -------------------------------------------------------


@final
class CloudEvent(msgspec.Struct, frozen=True, omit_defaults=True):
    specversion: str
    id: str
    source: str
    type: str
    subject: str  # the aggregate
    time: str  # RFC 3339, UTC
    datacontenttype: str
    sequence: str  # CloudEvents' sequence extension: the place within the aggregate
    tabliumschemaversion: int  # the payload's schema version (extension attribute)
    tabliumtimems: int  # the same instant as ``time``, in milliseconds (extension attribute)
    data: msgspec.Raw


_ce_encoder = msgspec.json.Encoder()
_ce_decoder = msgspec.json.Decoder(CloudEvent)


def _rfc3339(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    return moment.replace("+00:00", "Z")


def to_cloudevent(row: OutboxEvent, source: str = DEFAULT_SOURCE) -> bytes:
    return _ce_encoder.encode(
        CloudEvent(
            specversion="1.0", id=str(row.id), source=source, type=row.type,
            subject=row.aggregate, time=_rfc3339(row.at_ms), datacontenttype="application/json",
            sequence=str(row.sequence), tabliumschemaversion=row.schema_version,
            tabliumtimems=row.at_ms, data=msgspec.Raw(row.payload.encode()),
        )
    )  # fmt: skip


def from_cloudevent(body: bytes) -> Event:
    """Raises msgspec.DecodeError (or UnknownEventType) for a message that is not ours."""
    ce = _ce_decoder.decode(body)
    return Event(
        id=int(ce.id), type=ce.type, aggregate=ce.subject, sequence=int(ce.sequence),
        schema_version=ce.tabliumschemaversion, at_ms=ce.tabliumtimems,
        payload=msgspec.json.decode(ce.data, type=event_type(ce.type).payload),
    )  # fmt: skip


# -- consumers ----------------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class Consumer:
    """A subscriber that applies each event at most once (see the module's docstring).

    ``apply`` returns the consumer's change as a unit of work (persistence/work.py); it runs
    in the transaction that records the event as processed, and is not run at all for an
    event processed before. Raising rolls both back: the event is delivered again later.
    """

    name: str  # its RabbitMQ queue is tablium.<name>; its records are keyed on it
    types: frozenset[str]
    apply: Callable[[Event], Work[None]]
    prefetch: int = 100  # bound: unacknowledged messages the broker hands it at once

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > CONSUMER_CHARS_MAX:
            raise ValueError(f"consumer name must be 1-{CONSUMER_CHARS_MAX} characters")
        if not self.types:
            raise ValueError(f"consumer {self.name!r} subscribes to no event type")
        unknown = sorted(self.types - set(BY_NAME))
        if unknown:
            raise UnknownEventType(f"consumer {self.name!r}: no event types {unknown}")


def apply_once(consumer: Consumer, event: Event, now_ms: int) -> Work[bool]:
    """The consumer's change for ``event`` with its processed record; False: seen before."""
    claimed = yield from outbox.claim(consumer.name, event.id, now_ms)
    if not claimed:
        return False
    yield from consumer.apply(event)
    return True


async def deliver(store: Store, consumer: Consumer, event: Event) -> bool:
    """Apply ``event`` to ``consumer`` (one transaction); False: it was applied before."""
    return await store.run(partial(apply_once, consumer, event, store.clock_ms()))


# -- the bus the relay publishes to --------------------------------------------------------------


class EventBus(Protocol):
    """Where the relay hands pending events: it returns once every event of the batch is
    safe (confirmed by the broker, or applied by every in-process consumer), in order;
    raises BrokerUnavailable otherwise."""

    async def publish(self, events: Sequence[OutboxEvent]) -> None: ...


@final
@dataclass
class InProcessBus:
    """No broker configured: the relay applies each event to the subscribed consumers itself,
    in id order, before marking it relayed (so a crash in between delivers it again, and the
    processed records make that harmless)."""

    store: Store
    consumers: Sequence[Consumer] = ()
    delivered: int = 0
    _by_type: dict[str, list[Consumer]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_type = subscriptions(self.consumers)

    async def publish(self, events: Sequence[OutboxEvent]) -> None:
        for row in events:
            subscribers = self._by_type.get(row.type, ())
            if not subscribers:
                continue
            event = event_from_outbox(row)
            for consumer in subscribers:
                try:
                    await deliver(self.store, consumer, event)
                except Exception as failed:  # the consumer's change, or the store, refused
                    # Retried with the batch, after the relay's backoff: a consumer's bug must
                    # not crash the relay (and with it every other consumer's deliveries).
                    raise BrokerUnavailable(
                        f"consumer {consumer.name!r} failed on event {event.id}: {failed!r}"
                    ) from failed
                self.delivered += 1


def subscriptions(consumers: Iterable[Consumer]) -> dict[str, list[Consumer]]:
    names = [c.name for c in consumers]
    if len(names) != len(set(names)):
        raise ValueError(f"two consumers share a name: {sorted(names)}")
    by_type: dict[str, list[Consumer]] = {}
    for consumer in consumers:
        for name in sorted(consumer.types):
            by_type.setdefault(name, []).append(consumer)
    return by_type
