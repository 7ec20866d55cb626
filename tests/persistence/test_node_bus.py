"""The node bus (persistence/node_bus.py) against the real Redis: order, acknowledgement,
claiming of entries a dead consumer left, the stream's bound, and repeats dropped."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import hypothesis.strategies as st
import pytest
import redis
import trio
import trio.lowlevel
from hypothesis import HealthCheck, given, settings

from persistence.node_bus import GROUP, BusSettings, NodeBus
from persistence.redis_link import RedisLink, open_redis

WAIT_S = 10.0  # bound on every wait for the bus to deliver


def _prefix(redis_prefix: str) -> str:
    return f"{redis_prefix}bus-{secrets.token_hex(4)}:"


class Inbox:
    """What a node's handler received, with a way to wait for it."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes]] = []
        self._changed = trio.Event()

    async def handle(self, sender: str, items: list[bytes]) -> None:
        self.items += [(sender, item) for item in items]
        self._changed.set()
        self._changed = trio.Event()

    async def until(self, count: int) -> None:
        with trio.fail_after(WAIT_S):
            while len(self.items) < count:
                await self._changed.wait()


@asynccontextmanager
async def running(bus: NodeBus, inbox: Inbox) -> AsyncIterator[trio.Nursery]:
    async with trio.open_nursery() as nursery:
        await nursery.start(bus.run, inbox.handle)
        await nursery.start(bus.run_sender)
        yield nursery
        nursery.cancel_scope.cancel()


def _pending(redis_url: str, key: str) -> int:
    with redis.Redis.from_url(redis_url) as client:
        return int(client.xpending(key, GROUP)["pending"])


async def _until_acknowledged(redis_url: str, key: str) -> None:
    with trio.fail_after(WAIT_S):
        while _pending(redis_url, key):  # noqa: ASYNC110 (Redis's view: no event to wait on)
            await trio.sleep(0.01)


async def test_items_from_one_sender_arrive_in_order_and_are_acknowledged(
    redis_url: str, redis_prefix: str
) -> None:
    prefix = _prefix(redis_prefix)
    async with open_redis(redis_url) as link:
        a, b = NodeBus(link, prefix, "a"), NodeBus(link, prefix, "b")
        inbox = Inbox()
        async with running(b, inbox), running(a, Inbox()):
            for n in range(300):
                assert a.post("b", n.to_bytes(4, "big"))
                if n % 50 == 0:
                    await trio.lowlevel.checkpoint()  # some batches go while others are posted
            await inbox.until(300)
            assert [int.from_bytes(i, "big") for _, i in inbox.items] == list(range(300))
            assert {sender for sender, _ in inbox.items} == {"a"}
            assert a.entries_sent < 300, "items posted together travel as one entry"
            # Acknowledged with the next read, which follows at once.
            await _until_acknowledged(redis_url, b.stream("b"))
        assert b.duplicates_dropped == 0 and b.entries_claimed == 0


async def test_an_entry_a_killed_consumer_read_and_never_acknowledged_is_claimed_once(
    redis_url: str, redis_prefix: str
) -> None:
    prefix = _prefix(redis_prefix)
    fast_claim = BusSettings(claim_idle_ms=0, claim_period_ms=10)
    async with open_redis(redis_url) as link:
        a, b = NodeBus(link, prefix, "a"), NodeBus(link, prefix, "b", fast_claim)
        # A consumer of b's stream reads an entry and dies before it acknowledges it.
        assert a.post("b", b"stale")
        await a.flush()
        with redis.Redis.from_url(redis_url) as client:
            client.xgroup_create(b.stream("b"), GROUP, id="0")
            read = client.xreadgroup(GROUP, "dead", {b.stream("b"): ">"}, count=10)
            assert len(read[0][1]) == 1
        assert _pending(redis_url, b.stream("b")) == 1
        inbox = Inbox()
        async with running(b, inbox):
            await inbox.until(1)
            await _until_acknowledged(redis_url, b.stream("b"))
        assert inbox.items == [("a", b"stale")]
        assert b.entries_claimed == 1 and b.duplicates_dropped == 0


class Crash(Exception):
    pass


async def test_an_entry_handled_before_its_consumer_crashed_is_claimed_and_dropped_as_a_repeat(
    redis_url: str, redis_prefix: str
) -> None:
    prefix = _prefix(redis_prefix)
    fast_claim = BusSettings(claim_idle_ms=0, claim_period_ms=10)
    async with open_redis(redis_url) as link:
        a, b = NodeBus(link, prefix, "a"), NodeBus(link, prefix, "b", fast_claim)
        handled: list[bytes] = []

        async def handle_then_crash(sender: str, items: list[bytes]) -> None:
            handled.extend(items)
            raise Crash  # after handling, before the acknowledgement

        assert a.post("b", b"once")
        await a.flush()
        with pytest.raises(Crash):  # (the read loop calls the handler itself)
            await b.run(handle_then_crash)
        assert _pending(redis_url, b.stream("b")) == 1
        inbox = Inbox()
        async with running(b, inbox):
            with trio.fail_after(WAIT_S):
                while b.duplicates_dropped == 0:  # noqa: ASYNC110 (a counter, no event)
                    await trio.sleep(0.01)  # the claim runs every 10 ms
        assert handled == [b"once"] and inbox.items == []
        assert b.entries_claimed == 1


async def test_an_entry_sent_twice_under_one_id_is_handled_once(
    redis_url: str, redis_prefix: str
) -> None:
    prefix = _prefix(redis_prefix)
    async with open_redis(redis_url) as link:
        a, b = NodeBus(link, prefix, "a"), NodeBus(link, prefix, "b")
        inbox = Inbox()
        async with running(b, inbox):
            # The XADD's answer was lost: the sender sends the same entry again.
            await a.send_entries([("b", "a:1", [b"first"]), ("b", "a:1", [b"first"])])
            await a.send_entries([("b", "a:2", [b"second"])])
            await inbox.until(2)
        assert inbox.items == [("a", b"first"), ("a", b"second")]
        assert b.duplicates_dropped == 1


async def test_the_stream_is_trimmed_to_about_its_bound_and_a_full_outbox_refuses(
    redis_url: str, redis_prefix: str
) -> None:
    prefix = _prefix(redis_prefix)
    bound = BusSettings(stream_entries_max=100, outbox_items_max=5, batch_items_max=1)
    async with open_redis(redis_url) as link:
        a = NodeBus(link, prefix, "a", bound)
        for round_ in range(100):
            for n in range(5):
                assert a.post("nobody", bytes([round_, n]))
            assert not a.post("nobody", b"one too many")
            await a.flush()
        assert a.items_refused == 100
        with redis.Redis.from_url(redis_url) as client:
            length = client.xlen(a.stream("nobody"))
            ttl_ms = client.pttl(a.stream("nobody"))
        # MAXLEN ~ trims whole macro nodes: about the bound, never far beyond it.
        assert 100 <= length < 300
        assert 0 < ttl_ms <= bound.stream_ttl_ms


async def _deliver_batches(link: RedisLink, prefix: str, batches: list[list[bytes]]) -> Inbox:
    a, b = NodeBus(link, prefix, "a"), NodeBus(link, prefix, "b")
    inbox = Inbox()
    async with running(b, inbox):
        for batch in batches:
            for item in batch:
                assert a.post("b", item)
            await a.flush()
        await inbox.until(sum(len(batch) for batch in batches))
    return inbox


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(st.lists(st.binary(max_size=64), max_size=20), min_size=1, max_size=8))
def test_any_batches_arrive_whole_and_in_order(
    redis_url: str, redis_prefix: str, batches: list[list[bytes]]
) -> None:
    async def main() -> Inbox:
        async with open_redis(redis_url) as link:
            return await _deliver_batches(link, _prefix(redis_prefix), batches)

    inbox = trio.run(main)
    assert [item for _, item in inbox.items] == [item for batch in batches for item in batch]
