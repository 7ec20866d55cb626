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

from persistence.hands import HandRecord
from persistence.leases import (
    Fenced,
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
from services.ledger import escrow, wallet
from services.wallet import Wallet
from tests.persistence.stores import BACKENDS, ManualClock, store_url
from tests.players.hands import hand_record, simulated_hand

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


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_paused_owner_cannot_move_its_tables_chips_after_another_node_took_over(
    backend: str, tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    prefix = f"{redis_prefix}{secrets.token_hex(4)}:"
    async with (
        two_nodes(backend, tmp_path, postgres_url) as (store_a, store_b),
        open_redis(redis_url) as link,
    ):
        node_a = _ownership(link, prefix, "node-a", store_a)
        node_b = _ownership(link, prefix, "node-b", store_b)
        fenced_off: list[list[str]] = []
        store_a.on_fenced = fenced_off.append
        wallet_a, wallet_b = Wallet(store_a), Wallet(store_b)
        owner = f"table:{TABLE}"
        await wallet_a.adjust("fund-7", wallet(7), 500, "test funds")
        assert await node_a.claim(TABLE)
        await wallet_a.buy_in("buy-in-1", 7, owner, 200)  # the owner's own: lands
        # Node A pauses; its lease runs out; node B takes the table over.
        await _expire(link, prefix, TABLE)
        assert await node_b.claim(TABLE)
        # Node A wakes and pays a cash-out, takes rake, takes a buy-in: none of it lands.
        with pytest.raises(Fenced) as refused:
            await wallet_a.cash_out("cash-out-1", owner, 7, 200)
        assert (refused.value.epoch, refused.value.current) == (1, 2)
        with pytest.raises(Fenced):
            await wallet_a.take_rake("rake-1", owner, 3)
        with pytest.raises(Fenced):
            await wallet_a.buy_in("buy-in-2", 7, owner, 100)
        assert fenced_off == [[TABLE]] * 3  # each time, the store told its ownership
        assert (await wallet_a.balance(7)).balance == 300
        account = await store_b.ledger_account(escrow(owner))
        assert account is not None and account.balance == 200
        # The new owner moves the table's chips as usual, and the ledger adds up.
        await wallet_b.cash_out("cash-out-1", owner, 7, 200)
        assert (await wallet_b.balance(7)).balance == 500
        assert (await store_b.ledger_audit()).consistent
        # A transfer that touches no fenced escrow is not held back on node A.
        await wallet_a.adjust("fund-8", wallet(8), 50, "test funds")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_paused_owner_cannot_store_a_hand_after_another_node_took_over(
    backend: str, tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    prefix = f"{redis_prefix}{secrets.token_hex(4)}:"
    async with (
        two_nodes(backend, tmp_path, postgres_url) as (store_a, store_b),
        open_redis(redis_url) as link,
    ):
        node_a = _ownership(link, prefix, "node-a", store_a)
        node_b = _ownership(link, prefix, "node-b", store_b)
        fenced_off: list[list[str]] = []
        store_a.on_fenced = fenced_off.append

        def hand(hand_id: str) -> HandRecord:
            return hand_record(simulated_hand(3, [1, 2], hand_id=hand_id), table_id=TABLE)

        assert await node_a.claim(TABLE)
        assert await store_a.save_hand(hand("h1"))  # the owner's own: stored
        # Node A pauses; its lease runs out; node B takes the table over.
        await _expire(link, prefix, TABLE)
        assert await node_b.claim(TABLE)
        # Node A wakes with a hand it finished meanwhile: it is not stored, nor counted.
        with pytest.raises(Fenced) as refused:
            await store_a.save_hand(hand("h2"))
        assert (refused.value.epoch, refused.value.current) == (1, 2)
        assert fenced_off == [[TABLE]]
        assert await store_b.get_hand("h2") is None
        assert [h.hand_id for h in await store_b.hands_by_table(TABLE)] == ["h1"]
        # The new owner stores its hands as usual; a table with no fence is never held back.
        assert await store_b.save_hand(hand("h3"))
        other = hand_record(simulated_hand(4, [1, 2], hand_id="h4"), table_id="another-table")
        assert await store_a.save_hand(other)
