"""A seeded model of the in-process path: changes interleaved with the relay, a bus that fails
part-way through batches at random; every event must be applied exactly once, and each
aggregate's events in their order. SQLite and PostgreSQL; a failing seed replays."""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import partial

import pytest
import trio

from persistence import outbox
from persistence.event_bus import BrokerUnavailable, InProcessBus
from persistence.outbox import OutboxEvent
from persistence.relay import OutboxRelay
from persistence.store import Store
from tests.persistence.test_relay import _applied, _create_applied_table, recorder

TYPES = {"player.registered", "player.banned", "player.unbanned"}


class PartlyFailingBus:
    """Delivers a random prefix of some batches, then fails them (seeded)."""

    def __init__(self, bus: InProcessBus, rng: random.Random) -> None:
        self.bus = bus
        self.rng = rng
        self.failures = 0

    async def publish(self, events: Sequence[OutboxEvent]) -> None:
        if self.rng.random() < 0.3:
            self.failures += 1
            await self.bus.publish(events[: self.rng.randrange(len(events) + 1)])
            raise BrokerUnavailable(f"model failure {self.failures}")
        await self.bus.publish(events)


@pytest.mark.parametrize("seed", range(6))
async def test_every_event_is_applied_once_in_aggregate_order_under_failures(
    store: Store, seed: int
) -> None:
    # Real time: asyncpg's timeouts would fire under an autojump clock. The backoffs are a few
    # milliseconds, and the relay is nudged rather than polled.
    await store.run(partial(_create_applied_table, store.dialect))
    rng = random.Random(seed)
    # Its own generator: how many batches there are depends on timing, the workload must not.
    bus = PartlyFailingBus(
        InProcessBus(store, [recorder("model", TYPES)]), random.Random(seed + 1000)
    )
    relay = OutboxRelay(
        store, bus, batch_events_max=rng.randint(1, 6), backoff_min_ms=1, backoff_max_ms=8
    )
    players: list[int] = []
    async with trio.open_nursery() as nursery:
        await nursery.start(relay.run)
        for step in range(40):
            if not players or rng.random() < 0.3:
                account = await store.create_account(f"s{seed}p{step}", "hash", "player")
                players.append(account.id)
            else:
                await store.set_account_banned(rng.choice(players), rng.random() < 0.5)
            if rng.random() < 0.1:
                await relay.drained()
        await relay.drained()
        nursery.cancel_scope.cancel()
    stored = await store.run(lambda: outbox.between(1, None, 1000), read_only=True)
    rows = await store.run(_applied, read_only=True)
    assert sorted(event_id for _, event_id, _, _ in rows) == [e.id for e in stored], seed
    by_aggregate: dict[str, list[int]] = {}
    for _, _, aggregate, sequence in rows:  # in the order they were applied
        by_aggregate.setdefault(aggregate, []).append(sequence)
    for aggregate, sequences in by_aggregate.items():
        assert sequences == list(range(1, len(sequences) + 1)), (seed, aggregate)
    assert all(e.relayed_at_ms is not None for e in stored)
