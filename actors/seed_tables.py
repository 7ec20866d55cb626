"""The tables a fresh server opens (``make run``), and start-up recovery of stored tables.

``start_tables`` is what the composition root calls once the ``tables`` supervisor and the
lobby run: every table with a stored snapshot comes back from it (a hand that was running is
voided, its chips back in the stacks), then every seed table not stored yet is opened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from actors.runtime import Supervisor
from actors.table.actor import table_spec
from actors.table.admin import TOMBSTONE_KIND, tombstone_id
from actors.table.config import TableConfig
from actors.table.deps import TableDeps
from actors.table.durable import SNAPSHOT_KIND
from actors.table.state import decode_table_state
from poker import Variant

SEED_TABLES: Final[tuple[TableConfig, ...]] = (
    TableConfig(table_id="nt-1-2-a", name="Hold'em 1/2 A", variant=Variant.NO_LIMIT_HOLDEM,
                small_blind=1, big_blind=2, seats=6),
    TableConfig(table_id="nt-1-2-b", name="Hold'em 1/2 B", variant=Variant.NO_LIMIT_HOLDEM,
                small_blind=1, big_blind=2, seats=9),
    TableConfig(table_id="nt-5-10", name="Hold'em 5/10", variant=Variant.NO_LIMIT_HOLDEM,
                small_blind=5, big_blind=10, seats=6),
    TableConfig(table_id="ft-2-4", name="Limit Hold'em 2/4", variant=Variant.FIXED_LIMIT_HOLDEM,
                small_blind=1, big_blind=2, seats=9),
    TableConfig(table_id="ft-5-10", name="Limit Hold'em 5/10",
                variant=Variant.FIXED_LIMIT_HOLDEM, small_blind=2, big_blind=5, seats=9),
    TableConfig(table_id="pt-1-2", name="Pot-Limit Hold'em 1/2",
                variant=Variant.POT_LIMIT_HOLDEM, small_blind=1, big_blind=2, seats=6),
    TableConfig(table_id="pt-2-5", name="Pot-Limit Hold'em 2/5",
                variant=Variant.POT_LIMIT_HOLDEM, small_blind=2, big_blind=5, seats=6),
    TableConfig(table_id="po-1-2", name="Omaha 1/2", variant=Variant.POT_LIMIT_OMAHA,
                small_blind=1, big_blind=2, seats=6),
    TableConfig(table_id="po-2-5", name="Omaha 2/5", variant=Variant.POT_LIMIT_OMAHA,
                small_blind=2, big_blind=5, seats=9),
    TableConfig(table_id="po8-1-2", name="Omaha Hi/Lo 1/2",
                variant=Variant.POT_LIMIT_OMAHA_HI_LO, small_blind=1, big_blind=2, seats=6),
    TableConfig(table_id="po8-2-5", name="Omaha Hi/Lo 2/5",
                variant=Variant.POT_LIMIT_OMAHA_HI_LO, small_blind=2, big_blind=5, seats=9),
    # Play money, for everyone (a new player's starting balance, refills): no rake.
    TableConfig(table_id="play-nt-1-2-a", name="Play Hold'em 1/2 A",
                variant=Variant.NO_LIMIT_HOLDEM, small_blind=1, big_blind=2, seats=6,
                asset="play", rake_bp=0),
    TableConfig(table_id="play-nt-1-2-b", name="Play Hold'em 1/2 B",
                variant=Variant.NO_LIMIT_HOLDEM, small_blind=1, big_blind=2, seats=9,
                asset="play", rake_bp=0),
    TableConfig(table_id="play-nt-5-10", name="Play Hold'em 5/10",
                variant=Variant.NO_LIMIT_HOLDEM, small_blind=5, big_blind=10, seats=6,
                asset="play", rake_bp=0),
)  # fmt: skip


async def start_tables(
    tables: Supervisor,
    deps: TableDeps,
    seeds: tuple[TableConfig, ...] = SEED_TABLES,
    claim: Callable[[str], Awaitable[bool]] | None = None,
) -> list[str]:
    """Recover stored tables, then open the seeds neither stored nor closed by an operator
    (actors/table/admin.py); returns the table ids. ``claim(table_id)``, with several nodes
    (server/cluster_tables.py): False when another node owns the table; it is then left
    to that node, stored or not."""
    started: list[str] = []
    elsewhere: set[str] = set()
    for stored in await deps.store.load_snapshots(SNAPSHOT_KIND):
        config = decode_table_state(stored.data).config
        if claim is not None and config.bankroll == "tournament":
            # Several nodes: a tournament's table opens with its tournament, on the
            # tournament's node (server/tournament_leases.py), never on its own here.
            elsewhere.add(config.table_id)
            continue
        if claim is not None and not await claim(config.table_id):
            elsewhere.add(config.table_id)
            continue
        await tables.start_actor(table_spec(config, deps, recovered=stored.data))
        started.append(config.table_id)
    closed = {s.actor_id for s in await deps.store.load_snapshots(TOMBSTONE_KIND)}
    for config in seeds:
        table_id = config.table_id
        if table_id in started or table_id in elsewhere or tombstone_id(table_id) in closed:
            continue
        if claim is not None and not await claim(table_id):
            continue
        await tables.start_actor(table_spec(config, deps))
        started.append(table_id)
    return started


async def open_stored_table(
    tables: Supervisor, deps: TableDeps, table_id: str, seeds: tuple[TableConfig, ...] = SEED_TABLES
) -> bool:
    """Open one table as start_tables would (from its snapshot, or as a seed never stored
    and never closed), after start: a table taken over from another node
    (server/cluster_tables.py). False when there is nothing to open."""
    stored = await deps.store.load_snapshot(table_id)
    if stored is not None and stored.kind == SNAPSHOT_KIND:
        config = decode_table_state(stored.data).config
        await tables.start_actor(table_spec(config, deps, recovered=stored.data))
        return True
    if await deps.store.load_snapshot(tombstone_id(table_id)) is not None:
        return False
    for config in seeds:
        if config.table_id == table_id:
            await tables.start_actor(table_spec(config, deps))
            return True
    return False
