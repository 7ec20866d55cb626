"""Two whole servers over one PostgreSQL and one Redis: a table is opened by one node only,
and a clean stop hands the tables' leases back so the next node to start opens them."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import httpx
import redis.asyncio
import trio

from actors.addresses import TableAddress
from actors.seed_tables import SEED_TABLES
from actors.table.admin import open_table
from actors.table.config import TableConfig
from persistence.leases import current_fence
from persistence.redis_link import open_redis
from poker import Variant
from server.app import run_server
from server.auth import TokenSigner
from server.cluster_tables import TableOwnership
from server.config import Settings
from tests.persistence.stores import store_url

LONG_LEASE = {"table_lease_ttl_ms": 90_000}


def _settings(
    tmp_path: Path, name: str, database_url: str, redis_url: str, prefix: str
) -> Settings:
    return Settings(
        ws_port=0,
        admin_port=0,
        api_port=0,
        data_dir=tmp_path / name,
        jwt_secret="s" * 40,
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=prefix,
    )


async def test_a_table_leased_by_a_live_node_is_not_opened_by_another(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    database_url = await store_url("postgres", tmp_path, postgres_url)
    prefix = f"{redis_prefix}tables:"
    seeds = {f"table:{config.table_id}" for config in SEED_TABLES}
    async with trio.open_nursery() as nursery:
        first = await nursery.start(
            run_server, _settings(tmp_path, "a", database_url, redis_url, prefix)
        )
        assert set(first.runtime.registry.names("table:")) >= seeds
        async with trio.open_nursery() as second_nursery:
            second = await second_nursery.start(
                run_server, _settings(tmp_path, "b", database_url, redis_url, prefix)
            )
            assert set(second.runtime.registry.names("table:")) & seeds == set()
            # /cluster on either node: both nodes, the tables' leases all the first's.
            token, _ = TokenSigner("s" * 40).issue("ops", "admin")
            async with httpx.AsyncClient(base_url=second.admin_url) as admin:
                answer = await admin.get("/cluster", headers={"Authorization": f"Bearer {token}"})
            body = answer.json()
            assert body["clustered"] is True
            (first_node, second_node) = sorted(body["nodes"], key=lambda n: -n["tables"])
            assert second_node["node"] == body["node"] and second_node["tables"] == 0
            assert {f"table:{t}" for t in first_node["leases"]} >= seeds
            second_nursery.cancel_scope.cancel()
        # A clean stop of the first releases its leases: the next node opens the tables.
        first.runtime.stop()
    async with trio.open_nursery() as nursery:
        third = await nursery.start(
            run_server, _settings(tmp_path, "c", database_url, redis_url, prefix)
        )
        assert set(third.runtime.registry.names("table:")) >= seeds
        nursery.cancel_scope.cancel()


async def test_a_table_whose_lease_another_node_took_is_stopped_here(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    database_url = await store_url("postgres", tmp_path, postgres_url)
    prefix = f"{redis_prefix}stolen:"
    table = SEED_TABLES[0].table_id
    async with trio.open_nursery() as nursery:
        listening = await nursery.start(
            run_server, _settings(tmp_path, "a", database_url, redis_url, prefix)
        )
        ownership = listening.runtime.root.child("table-leases").started_value
        assert isinstance(ownership, TableOwnership) and table in ownership.held
        # Another node holds the lease now (ours lapsed while this node was paused).
        async with open_redis(redis_url) as link:

            async def steal(client: redis.asyncio.Redis) -> None:
                await client.set(f"{prefix}lease:{table}", "node-x", px=60_000)

            await link.call(steal)
            await ownership.renew()
        assert table not in ownership.held and table in ownership.lost
        names = listening.runtime.registry.names("table:")
        assert f"table:{table}" not in names
        assert f"table:{SEED_TABLES[1].table_id}" in names  # the others play on
        nursery.cancel_scope.cancel()


async def test_tables_whose_owner_went_away_are_taken_over_by_a_node_that_waited(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    database_url = await store_url("postgres", tmp_path, postgres_url)
    prefix = f"{redis_prefix}adopt:"
    seeds = {config.table_id for config in SEED_TABLES}
    # Leases long enough that neither node's own renew-and-adopt round (every third of the
    # lease) runs while the test steps through the takeover by hand: on a loaded machine
    # opening 14 tables took longer than the default round, and node A re-took the leases
    # the test had lapsed before node B could claim them all.
    settings_a, settings_b = (
        replace(_settings(tmp_path, name, database_url, redis_url, prefix), **LONG_LEASE)
        for name in ("a", "b")
    )
    async with trio.open_nursery() as nursery:
        first = await nursery.start(run_server, settings_a)
        second = await nursery.start(run_server, settings_b)
        owner_a = first.runtime.root.child("table-leases").started_value
        owner_b = second.runtime.root.child("table-leases").started_value
        assert isinstance(owner_a, TableOwnership) and isinstance(owner_b, TableOwnership)
        assert owner_a.held >= seeds and set(owner_b.waiting) >= seeds
        assert await owner_b.adopt() == []  # the owner is alive: nothing to take
        # Node A stalls (its leases lapse, as when it is paused or dead).
        async with open_redis(redis_url) as link:

            async def lapse(client: redis.asyncio.Redis) -> None:
                await client.delete(*(f"{prefix}lease:{t}" for t in seeds))

            await link.call(lapse)
        assert set(await owner_b.adopt()) >= seeds
        assert {f"table:{t}" for t in seeds} <= set(second.runtime.registry.names("table:"))
        # Node A wakes: its renewal finds the leases node B's, and it stops those tables.
        await owner_a.renew()
        assert owner_a.held & seeds == set()
        assert set(first.runtime.registry.names("table:")) & {f"table:{t}" for t in seeds} == set()
        nursery.cancel_scope.cancel()


async def test_a_table_opened_after_start_is_leased_and_fenced_like_the_seeds(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    database_url = await store_url("postgres", tmp_path, postgres_url)
    prefix = f"{redis_prefix}opened:"
    config = TableConfig(
        table_id="op-new-1", name="An operator's table", variant=Variant.NO_LIMIT_HOLDEM,
        small_blind=1, big_blind=2, seats=6,
    )  # fmt: skip
    # As in the takeover test above: the nodes' own rounds stay out of the steps by hand.
    # Placement stays local: node B holds no table, so least-loaded placement would open
    # the operator's table on B as soon as A has heard B's heartbeat (a race the test lost
    # under a loaded CI run); what is tested here is the lease, not where a table goes.
    settings_a, settings_b = (
        replace(
            _settings(tmp_path, name, database_url, redis_url, prefix),
            placement="local",
            **LONG_LEASE,
        )
        for name in ("a", "b")
    )
    async with trio.open_nursery() as nursery:
        first = await nursery.start(run_server, settings_a)
        second = await nursery.start(run_server, settings_b)
        owner_a = first.runtime.root.child("table-leases").started_value
        owner_b = second.runtime.root.child("table-leases").started_value
        assert isinstance(owner_a, TableOwnership) and isinstance(owner_b, TableOwnership)
        # An operator opens a table on node A: it takes the lease and the next epoch.
        await open_table(first.runtime.registry, config)
        # Stored before the open is answered (not left to the snapshot writer's next batch):
        # node B takes it over from this snapshot below, and under load the batch came late.
        assert await owner_a.store.load_snapshot(config.table_id) is not None
        assert config.table_id in owner_a.held
        assert owner_a.fences.epoch(config.table_id) == 1
        assert (await owner_a.leases.holders([config.table_id]))[config.table_id] == owner_a.node
        # The same id opened on node B: refused by the lease, it stops before it deals or
        # writes anything (it took no epoch), and waits for A's lease to lapse.
        await open_table(second.runtime.registry, config)
        assert config.table_id not in owner_b.held and config.table_id in owner_b.waiting
        assert await owner_b.store.run(partial(current_fence, config.table_id)) == 1
        # Node A's lease lapses: node B takes the table over from A's stored snapshot.
        async with open_redis(redis_url) as link:

            async def lapse(client: redis.asyncio.Redis) -> None:
                await client.delete(f"{prefix}lease:{config.table_id}")

            await link.call(lapse)
        assert config.table_id in await owner_b.adopt()
        assert owner_b.fences.epoch(config.table_id) == 2
        assert TableAddress(config.table_id).actor_name in second.runtime.registry
        nursery.cancel_scope.cancel()
