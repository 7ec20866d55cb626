"""Table leases in the real Redis and their fencing epochs in the database, on both backends
(persistence/leases.py, server/cluster_tables.py). Two stores over one database stand for
two nodes; the stores' clocks are manual, and a lease "expires" when the test deletes its
key (what Redis does at the end of PX), so no test waits or pauses a process."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
import redis.asyncio

from persistence.leases import (
    NodeFences,
    RedisLeases,
    current_fence,
    fence_key,
    save_fenced_snapshots,
    take_fence,
)
from persistence.redis_link import RedisLink, open_redis
from persistence.snapshots import Snapshot
from persistence.store import Store, open_store
from server.cluster_tables import TableOwnership
from tests.persistence.stores import BACKENDS, ManualClock, store_url

TABLE = "nt-1-2-a"


@asynccontextmanager
async def two_nodes(
    backend: str, tmp_path: Path, postgres_url: str
) -> AsyncIterator[tuple[Store, Store]]:
    url = await store_url(backend, tmp_path, postgres_url)
    async with (
        open_store(url, clock_ms=ManualClock()) as store_a,
        open_store(url, clock_ms=ManualClock()) as store_b,
    ):
        yield store_a, store_b


def _snapshot(version: int, data: bytes = b"state") -> Snapshot:
    return Snapshot(kind="table", actor_id=TABLE, version=version, data=data)


async def _expire(link: RedisLink, prefix: str, table_id: str) -> None:
    """What Redis does when the lease's PX runs out."""

    async def run(client: redis.asyncio.Redis) -> None:
        await client.delete(f"{prefix}lease:{table_id}")

    await link.call(run)


def _ownership(link: RedisLink, prefix: str, node: str, store: Store) -> TableOwnership:
    fences = NodeFences()
    ownership = TableOwnership(RedisLeases(link, prefix, node, ttl_ms=60_000), store, fences)
    store.fences = fences
    store.on_fenced = ownership.fenced
    return ownership


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_owner_paused_past_its_lease_cannot_write_after_another_node_took_over(
    backend: str, tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    prefix = f"{redis_prefix}{secrets.token_hex(4)}:"
    async with (
        two_nodes(backend, tmp_path, postgres_url) as (store_a, store_b),
        open_redis(redis_url) as link,
    ):
        node_a = _ownership(link, prefix, "node-a", store_a)
        node_b = _ownership(link, prefix, "node-b", store_b)
        assert await node_a.claim(TABLE)
        assert not await node_b.claim(TABLE), "a lease held by a live node is not taken"
        await store_a.save_snapshot(_snapshot(1, b"a1"))
        # Node A pauses; its lease runs out; node B takes the table over from the snapshot.
        await _expire(link, prefix, TABLE)
        assert await node_b.claim(TABLE)
        assert await store_b.run(partial(current_fence, TABLE)) == 2
        assert (await store_b.load_snapshot(TABLE)) == (await store_a.load_snapshot(TABLE))
        assert await store_b.save_snapshots([_snapshot(2, b"b2")]) == [True]
        # Node A wakes up and writes, with a newer version even: refused by the fence.
        assert await store_a.save_snapshots([_snapshot(3, b"a3")]) == [False]
        stored = await store_b.load_snapshot(TABLE)
        assert stored is not None and (stored.version, stored.data) == (2, b"b2")
        # Its renewal finds the lease taken: it gives the table up (and its epoch stays, so
        # nothing else it tries lands either).
        await node_a.renew()
        assert TABLE not in node_a.held and TABLE in node_a.lost
        assert await store_a.save_snapshots([_snapshot(4)]) == [False]
        assert TABLE in node_b.held


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_fenced_write_leaves_other_tables_of_the_batch_alone(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    async with two_nodes(backend, tmp_path, postgres_url) as (store_a, store_b):
        assert await store_a.run(partial(take_fence, TABLE, "node-a", 1)) == 1
        assert await store_b.run(partial(take_fence, TABLE, "node-b", 2)) == 2
        other = Snapshot(kind="table", actor_id="other", version=1, data=b"o")
        epoch_record = Snapshot(
            kind="table-epoch", actor_id=f"table-epoch:{TABLE}", version=1, data=b""
        )
        batch = [_snapshot(1), other, epoch_record]
        landed, fenced = await store_a.run(partial(save_fenced_snapshots, batch, {TABLE: 1}, 5))
        assert landed == [False, True, False] and fenced == [TABLE]
        assert fence_key(epoch_record.actor_id) == TABLE
        assert await store_a.load_snapshot(TABLE) is None
        landed, fenced = await store_b.run(partial(save_fenced_snapshots, batch, {TABLE: 2}, 6))
        assert landed == [True, False, True] and fenced == []  # "other": stale version now


async def test_a_lapsed_lease_is_taken_again_only_if_nobody_fenced_meanwhile(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    prefix = f"{redis_prefix}{secrets.token_hex(4)}:"
    async with (
        two_nodes("sqlite", tmp_path, postgres_url) as (store_a, store_b),
        open_redis(redis_url) as link,
    ):
        node_a = _ownership(link, prefix, "node-a", store_a)
        node_b = _ownership(link, prefix, "node-b", store_b)
        assert await node_a.claim(TABLE) and await node_a.claim("t2")
        # Redis restarted empty (or A's renewals did not get through for a while).
        await _expire(link, prefix, TABLE)
        await _expire(link, prefix, "t2")
        assert await node_b.claim("t2")  # B fenced t2 meanwhile; TABLE nobody touched
        await node_a.renew()
        assert node_a.held == {TABLE}
        assert list(node_a.lost) == ["t2"]
        holders = await node_a.leases.holders([TABLE, "t2"])
        assert holders == {TABLE: "node-a", "t2": "node-b"}


async def test_a_clean_stop_releases_only_this_nodes_leases(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    prefix = f"{redis_prefix}{secrets.token_hex(4)}:"
    async with (
        two_nodes("sqlite", tmp_path, postgres_url) as (store_a, store_b),
        open_redis(redis_url) as link,
    ):
        node_a = _ownership(link, prefix, "node-a", store_a)
        node_b = _ownership(link, prefix, "node-b", store_b)
        assert await node_a.claim(TABLE) and await node_b.claim("t2")
        await node_b.leases.release([TABLE])  # not B's: nothing happens
        assert (await node_a.leases.holders([TABLE]))[TABLE] == "node-a"
        await node_a.release_all()
        assert await node_a.leases.holders([TABLE, "t2"]) == {TABLE: None, "t2": "node-b"}
        assert await node_b.claim(TABLE)
        assert await store_b.run(partial(current_fence, TABLE)) == 2
