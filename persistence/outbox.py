"""The outbox's units of work: write an event beside its change, read pending ones, mark them
relayed, replay, prune, and consumers' processed-event records (migration 0012).

An event is appended inside the unit of work of its change (:func:`with_events`), so both
commit or neither does. Rows are read in id order; within one aggregate id order is sequence
order (the ``outbox_sequences`` row lock makes a second writer of the aggregate wait for the
first to commit before it takes its id), which is what the relay keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Final, TypeVar, final

import msgspec

from persistence.events import NewEvent, event_type
from persistence.work import Query, Row, Work, WorkFactory, one

T = TypeVar("T")
BATCH_ROWS_MAX: Final = 1000  # bound: a larger page is clamped to this
PRUNE_ROWS_MAX: Final = 10_000  # bound: rows one prune statement deletes
CONSUMER_CHARS_MAX: Final = 64


@final
class OutboxEvent(msgspec.Struct, frozen=True):
    """One stored event (the CloudEvents envelope is made from it: persistence/cloudevents.py)."""

    id: int  # unique forever (never reused after pruning): the event id
    type: str
    schema_version: int
    aggregate: str
    sequence: int
    at_ms: int
    payload: str  # JSON text
    relayed_at_ms: int | None = None

    @property
    def routing_key(self) -> str:
        return self.type


@final
class Backlog(msgspec.Struct, frozen=True):
    pending: int
    oldest_at_ms: int | None  # the oldest pending event's time (lag = now - this)


_COLUMNS = "id, event_type, schema_version, aggregate, sequence, at_ms, payload, relayed_at_ms"


def _event(row: Row) -> OutboxEvent:
    return OutboxEvent(
        id=int(row[0]), type=row[1], schema_version=int(row[2]), aggregate=row[3],
        sequence=int(row[4]), at_ms=int(row[5]), payload=row[6],
        relayed_at_ms=None if row[7] is None else int(row[7]),
    )  # fmt: skip


def append(event: NewEvent, now_ms: int) -> Work[int]:
    """Write one event in the current transaction; its outbox id."""
    payload = event.encoded_payload()
    kind = event_type(event.type)
    rows = yield Query(
        "INSERT INTO outbox_sequences (aggregate, last_sequence) VALUES ($1, 1)"
        " ON CONFLICT (aggregate) DO UPDATE"
        " SET last_sequence = outbox_sequences.last_sequence + 1 RETURNING last_sequence",
        (event.aggregate,),
    )
    sequence = int(one(rows)[0])
    rows = yield Query(
        "INSERT INTO outbox (event_type, schema_version, aggregate, sequence, at_ms, payload)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        (event.type, kind.version, event.aggregate, sequence, now_ms, payload),
    )
    return int(one(rows)[0])


def with_events(
    change: WorkFactory[T], events_of: Callable[[T], Iterable[NewEvent]], now_ms: int
) -> Work[T]:
    """Run ``change``, then append the events its result describes: one transaction."""
    result = yield from change()
    for event in events_of(result):
        yield from append(event, now_ms)
    return result


def pending(limit: int) -> Work[list[OutboxEvent]]:
    """The oldest pending events, in id order."""
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM outbox WHERE relayed_at_ms IS NULL ORDER BY id LIMIT $1",
        (max(1, min(limit, BATCH_ROWS_MAX)),),
    )
    return [_event(r) for r in rows]


def _marks(count: int, first: int) -> str:
    return ", ".join(f"${i}" for i in range(first, first + count))


def mark_relayed(ids: Sequence[int], now_ms: int) -> Work[int]:
    """Stamp events the broker confirmed; how many were still pending."""
    if not ids:
        return 0
    rows = yield Query(
        f"UPDATE outbox SET relayed_at_ms = $1 WHERE id IN ({_marks(len(ids), 2)})"
        " AND relayed_at_ms IS NULL RETURNING id",
        (now_ms, *ids),
    )
    return len(rows)


def backlog() -> Work[Backlog]:
    rows = yield Query("SELECT COUNT(*), MIN(at_ms) FROM outbox WHERE relayed_at_ms IS NULL")
    count, oldest = one(rows)
    return Backlog(int(count), None if oldest is None else int(oldest))


def between(from_id: int, to_id: int | None, limit: int) -> Work[list[OutboxEvent]]:
    """Stored events with ``from_id <= id <= to_id`` (replay), relayed or not, in id order."""
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM outbox WHERE id >= $1 AND id <= $2 ORDER BY id LIMIT $3",
        (from_id, to_id if to_id is not None else 2**62, max(1, min(limit, BATCH_ROWS_MAX))),
    )
    return [_event(r) for r in rows]


def get(event_id: int) -> Work[OutboxEvent | None]:
    rows = yield Query(f"SELECT {_COLUMNS} FROM outbox WHERE id = $1", (event_id,))
    return _event(rows[0]) if rows else None


def prune(relayed_before_ms: int, limit: int = PRUNE_ROWS_MAX) -> Work[int]:
    """Delete events relayed before ``relayed_before_ms`` (never a pending one), oldest first,
    and the processed-event records of events no longer stored (they can never come again:
    only the outbox feeds the relay and a replay). How many events were deleted."""
    rows = yield Query(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE relayed_at_ms IS NOT NULL"
        " AND relayed_at_ms < $1 ORDER BY id LIMIT $2) RETURNING id",
        (relayed_before_ms, max(1, min(limit, PRUNE_ROWS_MAX))),
    )
    if rows:
        oldest = yield Query("SELECT MIN(id) FROM outbox")
        floor = one(oldest)[0]
        floor = max(int(r[0]) for r in rows) + 1 if floor is None else int(floor)
        yield Query(
            "DELETE FROM processed_events WHERE event_id < $1 AND processed_at_ms < $2",
            (floor, relayed_before_ms),
        )
    return len(rows)


def claim(consumer: str, event_id: int, now_ms: int) -> Work[bool]:
    """Record that ``consumer`` applies this event now; False: it applied it before."""
    if not consumer or len(consumer) > CONSUMER_CHARS_MAX:
        raise ValueError(f"consumer name must be 1-{CONSUMER_CHARS_MAX} characters")
    rows = yield Query(
        "INSERT INTO processed_events (consumer, event_id, processed_at_ms) VALUES ($1, $2, $3)"
        " ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id",
        (consumer, event_id, now_ms),
    )
    return bool(rows)


def processed(consumer: str, event_id: int) -> Work[bool]:
    rows = yield Query(
        "SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2",
        (consumer, event_id),
    )
    return bool(rows)
