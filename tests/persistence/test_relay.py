"""The relay against the real RabbitMQ, on SQLite and PostgreSQL: a committed change arrives
with its routing key and payload; a rolled-back one publishes nothing; a broker that goes away
and comes back loses nothing and makes no consumer apply anything twice; order within an
aggregate holds under retries. (The kill -9 case: test_relay_crash.py.)"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from functools import partial
from urllib.parse import urlsplit

import msgspec
import pytest
import trio

from persistence import outbox
from persistence.amqp import AmqpBus, AmqpConsumers, queue_name
from persistence.event_bus import (
    CLOUDEVENTS_CONTENT_TYPE,
    BrokerUnavailable,
    Consumer,
    Event,
    InProcessBus,
)
from persistence.events import NewEvent, PlayerBanChanged
from persistence.outbox import OutboxEvent
from persistence.relay import OutboxRelay
from persistence.store import Store
from persistence.work import Query, Work
from tests.persistence.amqp_tools import BrokerProxy, private_broker
from tests.persistence.stores import ManualClock


def _create_applied_table(dialect: str) -> Work[None]:
    key = "INTEGER PRIMARY KEY AUTOINCREMENT" if dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
    yield Query(
        f"CREATE TABLE test_applied (n {key}, consumer TEXT NOT NULL, event_id BIGINT NOT NULL,"
        " aggregate TEXT NOT NULL, sequence BIGINT NOT NULL, UNIQUE (consumer, event_id))"
    )


def _record(name: str, event: Event) -> Work[None]:
    """A consumer's own change: one row per application (the UNIQUE refuses a second)."""
    yield Query(
        "INSERT INTO test_applied (consumer, event_id, aggregate, sequence)"
        " VALUES ($1, $2, $3, $4)",
        (name, event.id, event.aggregate, event.sequence),
    )


def _applied() -> Work[list[tuple[str, int, str, int]]]:
    rows = yield Query(
        "SELECT consumer, event_id, aggregate, sequence FROM test_applied ORDER BY n"
    )
    return [(r[0], int(r[1]), r[2], int(r[3])) for r in rows]


def recorder(name: str, types: set[str]) -> Consumer:
    return Consumer(name, frozenset(types), partial(_record, name))


async def _stored(store: Store) -> list[OutboxEvent]:
    return await store.run(lambda: outbox.between(1, None, 1000), read_only=True)


async def test_a_committed_change_arrives_with_its_routing_key_and_payload(
    store: Store, amqp_url: str
) -> None:
    async with private_broker(amqp_url) as broker:
        observer = await broker.bind_observer("player.*")
        bus = AmqpBus(amqp_url, broker.loop, exchange=broker.exchange)
        relay = OutboxRelay(store, bus)
        async with trio.open_nursery() as nursery:
            await nursery.start(relay.run)
            account = await store.create_account("Alice", "hash", "player")
            await relay.drained()
            nursery.cancel_scope.cancel()
        await bus.aclose()
        messages = await broker.drain(observer)
    (stored,) = await _stored(store)
    assert stored.relayed_at_ms is not None
    ((key, body, properties),) = messages
    assert key == "player.registered"
    assert properties.delivery_mode == 2  # persistent
    assert properties.content_type == CLOUDEVENTS_CONTENT_TYPE
    assert properties.message_id == str(stored.id)
    envelope = json.loads(body)
    assert envelope["specversion"] == "1.0" and envelope["type"] == "player.registered"
    assert envelope["id"] == str(stored.id) and envelope["subject"] == f"player:{account.id}"
    assert envelope["sequence"] == "1" and envelope["tabliumschemaversion"] == 1
    assert envelope["data"] == {"player_id": account.id, "name": "Alice", "role": "player"}


async def test_a_rolled_back_change_publishes_nothing(store: Store, amqp_url: str) -> None:
    ban = NewEvent("player.banned", "player:9", PlayerBanChanged(player_id=9, banned=True))

    def failing() -> Work[None]:
        yield from outbox.append(ban, 1)
        yield Query("SELECT no_such_column FROM outbox")

    async with private_broker(amqp_url) as broker:
        observer = await broker.bind_observer()
        bus = AmqpBus(amqp_url, broker.loop, exchange=broker.exchange)
        relay = OutboxRelay(store, bus)
        async with trio.open_nursery() as nursery:
            await nursery.start(relay.run)
            with pytest.raises(Exception, match="no_such_column"):
                await store.run(failing)
            await store.create_account("bob", "hash", "player")
            with pytest.raises(Exception, match="exists"):
                await store.create_account("BOB", "hash", "player")
            await relay.drained()
            nursery.cancel_scope.cancel()
        await bus.aclose()
        messages = await broker.drain(observer)
    assert [key for key, _, _ in messages] == ["player.registered"]
    assert json.loads(messages[0][2].message_id or "0") == (await _stored(store))[0].id


async def test_broker_away_mid_run_loses_nothing_and_applies_nothing_twice(
    store: Store, amqp_url: str
) -> None:
    await store.run(partial(_create_applied_table, store.dialect))
    target = urlsplit(amqp_url)
    proxy = BrokerProxy(target.hostname or "127.0.0.1", target.port or 5672)
    consumer = recorder("recorder", {"player.registered", "player.banned"})
    applied: set[int] = set()
    all_applied = trio.Event()
    failed = trio.Event()
    expected = 60

    def on_delivered(_: Consumer, event: Event, first_time: bool) -> None:
        assert first_time or event.id in applied
        applied.add(event.id)
        if len(applied) == expected:
            all_applied.set()

    async with private_broker(amqp_url) as broker, trio.open_nursery() as nursery:
        await nursery.start(proxy.serve)
        url = proxy.url(amqp_url)
        consumers = AmqpConsumers(
            url, broker.loop, store, [consumer], exchange=broker.exchange,
            on_delivered=on_delivered,
        )  # fmt: skip
        broker.queues.append(queue_name(consumer, broker.exchange))
        await nursery.start(consumers.run)
        bus = AmqpBus(url, broker.loop, exchange=broker.exchange)
        relay = OutboxRelay(
            store, bus, batch_events_max=7, backoff_min_ms=10, backoff_max_ms=100,
            on_failure=lambda _: failed.set(),
        )  # fmt: skip
        await nursery.start(relay.run)
        for i in range(expected // 2):
            await store.create_account(f"early{i}", "hash", "player")
        proxy.cut()  # mid-run: some of these are confirmed, some not, some being consumed
        for i in range(expected // 2):
            await store.create_account(f"late{i}", "hash", "player")
        await failed.wait()  # the relay met the missing broker (and backs off, retrying)
        backlog = await store.run(outbox.backlog, read_only=True)
        assert backlog.pending > 0
        proxy.restore()
        await relay.drained()
        with trio.fail_after(30):
            await all_applied.wait()
        nursery.cancel_scope.cancel()
    rows = await store.run(_applied, read_only=True)
    ids = [event_id for _, event_id, _, _ in rows]
    assert len(ids) == len(set(ids)) == expected  # each event applied exactly once
    assert set(ids) == {e.id for e in await _stored(store)}
    assert relay.stats.failures >= 1 and consumers.reconnects >= 1


class FlakyBus:
    """Fails a seeded share of batches: some after publishing a prefix of the batch for real
    (the broker has it, the relay does not know), some before publishing anything."""

    def __init__(self, bus: AmqpBus, seed: int) -> None:
        self.bus = bus
        self.rng = random.Random(seed)
        self.failures = 0

    async def publish(self, events: Sequence[OutboxEvent]) -> None:
        if self.rng.random() < 0.4:
            self.failures += 1
            await self.bus.publish(events[: self.rng.randrange(len(events) + 1)])
            raise BrokerUnavailable("flaky (test)")
        await self.bus.publish(events)


@pytest.mark.parametrize("seed", [1, 2])
async def test_order_within_an_aggregate_holds_under_retries(
    store: Store, amqp_url: str, seed: int
) -> None:
    players = [(await store.create_account(f"p{i}", "hash", "player")).id for i in range(5)]
    rng = random.Random(seed)
    for _ in range(40):  # interleaved across aggregates
        await store.set_account_banned(rng.choice(players), rng.random() < 0.5)
    async with private_broker(amqp_url) as broker:
        observer = await broker.bind_observer()
        bus = AmqpBus(amqp_url, broker.loop, exchange=broker.exchange)
        flaky = FlakyBus(bus, seed)
        relay = OutboxRelay(store, flaky, batch_events_max=4, backoff_min_ms=1, backoff_max_ms=2)
        async with trio.open_nursery() as nursery:
            await nursery.start(relay.run)
            await relay.drained()
            nursery.cancel_scope.cancel()
        await bus.aclose()
        messages = await broker.drain(observer)
    assert flaky.failures > 0
    first_seen: dict[int, tuple[str, int]] = {}
    for _, body, _ in messages:
        envelope = json.loads(body)
        first_seen.setdefault(int(envelope["id"]), (envelope["subject"], int(envelope["sequence"])))
    stored = await _stored(store)
    assert set(first_seen) == {e.id for e in stored}  # nothing lost
    by_aggregate: dict[str, list[int]] = {}
    for aggregate, sequence in first_seen.values():  # in arrival order (dict keeps it)
        by_aggregate.setdefault(aggregate, []).append(sequence)
    for aggregate, sequences in by_aggregate.items():
        assert sequences == list(range(1, len(sequences) + 1)), aggregate


async def test_without_a_broker_consumers_get_each_event_once_in_process(store: Store) -> None:
    await store.run(partial(_create_applied_table, store.dialect))
    consumer = recorder("stats", {"player.registered"})
    other = recorder("audit", {"player.registered", "player.banned"})
    bus = InProcessBus(store, [consumer, other])
    relay = OutboxRelay(store, bus)
    account = await store.create_account("carol", "hash", "player")
    await store.set_account_banned(account.id, True)
    async with trio.open_nursery() as nursery:
        await nursery.start(relay.run)
        await relay.drained()
        await bus.publish(await _stored(store))  # delivered again (a crash before the stamp)
        nursery.cancel_scope.cancel()
    rows = await store.run(_applied, read_only=True)
    assert sorted((name, aggregate, seq) for name, _, aggregate, seq in rows) == [
        ("audit", f"player:{account.id}", 1),
        ("audit", f"player:{account.id}", 2),
        ("stats", f"player:{account.id}", 1),
    ]


async def test_a_short_batch_counts_as_the_empty_read_and_a_full_one_reads_on(
    store: Store,
) -> None:
    """One read per short batch (per busy table's hand), not two: the batch was everything
    pending, so ``drained`` returns once it is stamped; a full batch is read on at once."""
    await store.run(partial(_create_applied_table, store.dialect))
    bus = InProcessBus(store, [recorder("audit", {"player.registered"})])
    relay = OutboxRelay(store, bus, batch_events_max=2)
    async with trio.open_nursery() as nursery:
        await nursery.start(relay.run)
        await relay.drained()  # nothing pending: one empty read
        assert relay._reads == 1
        await store.create_account("dave", "hash", "player")
        await relay.drained()  # one short batch of one event, and no read after it
        assert (relay._reads, relay.stats.batches) == (2, 1)
        for name in ("erin", "frank", "grace"):
            await store.create_account(name, "hash", "player")
        await relay.drained()  # a full batch of two, at once a short one of one
        assert (relay._reads, relay.stats.batches, relay.stats.published) == (4, 3, 4)
        nursery.cancel_scope.cancel()
    assert len(await store.run(_applied, read_only=True)) == 4


async def test_a_consumer_failure_rolls_back_its_record_and_retries(store: Store) -> None:
    calls = []

    def flaky_apply(event: Event) -> Work[None]:
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("consumer bug (test)")
        yield Query("SELECT 1")

    consumer = Consumer("flaky", frozenset({"player.registered"}), flaky_apply)
    await store.create_account("dave", "hash", "player")
    (row,) = await _stored(store)
    bus = InProcessBus(store, [consumer])
    with pytest.raises(BrokerUnavailable, match="consumer bug"):
        await bus.publish([row])  # the relay retries it after its backoff
    assert not await store.run(lambda: outbox.processed("flaky", row.id), read_only=True)
    await bus.publish([row])
    await bus.publish([row])
    assert calls == [row.id, row.id]  # the third delivery was skipped


def test_a_consumer_must_subscribe_to_known_types() -> None:
    with pytest.raises(ValueError, match="no event types"):
        Consumer("x", frozenset({"player.teleported"}), partial(_record, "x"))
    with pytest.raises(ValueError, match="no event type"):
        Consumer("x", frozenset(), partial(_record, "x"))


def test_cloudevent_round_trip() -> None:
    from persistence.event_bus import from_cloudevent, to_cloudevent

    row = OutboxEvent(
        7, "player.banned", 1, "player:3", 2, 1_750_000_000_123, '{"player_id":3,"banned":true}'
    )
    event = from_cloudevent(to_cloudevent(row))
    assert event == Event(7, "player.banned", "player:3", 2, 1, 1_750_000_000_123,
                          PlayerBanChanged(3, True))  # fmt: skip
    assert msgspec.json.decode(to_cloudevent(row))["time"] == "2025-06-15T15:06:40.123Z"


class BrokenBus:
    async def publish(self, events: Sequence[OutboxEvent]) -> None:
        raise BrokerUnavailable("always away (test)")


async def test_retention_prunes_relayed_rows_and_never_a_pending_one(
    store: Store, clock: ManualClock
) -> None:
    relayed = await store.create_account("old", "hash", "player")
    relay = OutboxRelay(store, InProcessBus(store), retention_ms=1000, prune_interval_ms=0)
    async with trio.open_nursery() as nursery:
        await nursery.start(relay.run)
        await relay.drained()
        nursery.cancel_scope.cancel()
    await store.create_account("stuck", "hash", "player")  # never relayed below
    clock.advance(60_000)  # both rows are far older than the retention now
    failures = 0
    tried_twice = trio.Event()

    def failed(_: BrokerUnavailable) -> None:
        nonlocal failures
        failures += 1
        if failures == 2:
            tried_twice.set()

    stuck = OutboxRelay(
        store, BrokenBus(), retention_ms=1000, prune_interval_ms=0, backoff_min_ms=1,
        backoff_max_ms=1, on_failure=failed,
    )  # fmt: skip
    async with trio.open_nursery() as nursery:
        await nursery.start(stuck.run)
        await tried_twice.wait()  # its loop pruned before each of these attempts
        nursery.cancel_scope.cancel()
    (left,) = await _stored(store)
    assert left.relayed_at_ms is None and left.aggregate != f"player:{relayed.id}"
    assert stuck.stats.pruned == 1


async def _publish_raw(broker_url: str, exchange: str, key: str, body: bytes) -> None:
    import aiormq

    connection = await aiormq.connect(broker_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await channel.basic_publish(body, exchange=exchange, routing_key=key)
    finally:
        await connection.close()


async def test_consumers_drop_what_is_not_an_event_and_retry_what_failed(
    store: Store, amqp_url: str
) -> None:
    await store.run(partial(_create_applied_table, store.dialect))
    attempts: list[int] = []

    def fails_once(event: Event) -> Work[None]:
        attempts.append(event.id)
        if len(attempts) == 1:
            raise RuntimeError("consumer bug (test)")
        yield from _record("picky", event)

    consumer = Consumer("picky", frozenset({"player.registered"}), fails_once)
    applied = trio.Event()

    def on_delivered(_: Consumer, event: Event, first_time: bool) -> None:
        if first_time:
            applied.set()

    async with private_broker(amqp_url) as broker, trio.open_nursery() as nursery:
        consumers = AmqpConsumers(
            amqp_url, broker.loop, store, [consumer], exchange=broker.exchange,
            on_delivered=on_delivered,
        )  # fmt: skip
        broker.queues.append(queue_name(consumer, broker.exchange))
        await nursery.start(consumers.run)
        await broker.loop.run_aio_coroutine(
            _publish_raw(amqp_url, broker.exchange, "player.registered", b"not a cloudevent")
        )
        account = await store.create_account("erin", "hash", "player")
        bus = AmqpBus(amqp_url, broker.loop, exchange=broker.exchange)
        relay = OutboxRelay(store, bus)
        await nursery.start(relay.run)
        await relay.drained()
        with trio.fail_after(30):
            await applied.wait()  # after the failure, a reconnect and the redelivery
        nursery.cancel_scope.cancel()
        await bus.aclose()
    # (>= 1: a batch that failed after dropping it gets it again with the redelivery)
    assert consumers.rejected >= 1 and consumers.reconnects >= 1
    rows = await store.run(_applied, read_only=True)
    assert [(name, aggregate) for name, _, aggregate, _ in rows] == [
        ("picky", f"player:{account.id}")
    ]
    assert len(attempts) == 2
