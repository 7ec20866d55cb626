"""Which node runs which tournament (docs/scaling.md, "Tournaments"): the same lease and
fence as a table's (server/cluster_tables.py's TableOwnership, over ``tournament:<id>``
leases, sharing the node's fences), with the tournament's own opener and stopper.

- A tournament actor takes its lease and the next fencing epoch when it starts (its
  ``TournamentDeps.lease``); its stored steps carry that epoch (``fenced_unit``), and so do
  its ledger transfers (every key is ``tournament:<id>:...``: ``transfer_fence``). Its
  tables open on its node, each under a fence of its own taken then.
- Another node's tournament is not opened here: its id waits, and once its lease is free
  (its owner died, or stopped cleanly) this node takes it and opens it from its stored step,
  as a restart does (a hand running at its tables is voided, chips back to the stacks).
- A lost lease (another node holds it, or fenced it while it had lapsed) stops the
  tournament here and every one of its tables.
- Tournaments created on other nodes after this one started are found by a scan of the
  store every SCAN_PERIOD_S, so that a survivor knows them when their owner dies.
"""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Final

import structlog
import trio

from actors.addresses import TableAddress
from actors.errors import ChildNotFound, NameNotFound, NameTaken
from actors.runtime import Registry
from actors.tournament import TournamentDeps
from actors.tournament_directory import TOURNAMENTS_SUPERVISOR, tournament_spec
from actors.tournament_messages import TOURNAMENT_PREFIX, TOURNAMENT_TABLE_PREFIX
from persistence import tournaments as stored
from persistence.leases import NodeFences, RedisLeases
from persistence.redis_link import RedisDown, RedisLink
from persistence.store import Store
from server.cluster_tables import TableOwnership

log = structlog.get_logger("tablium.cluster")

SCAN_PERIOD_S: Final = 5.0  # how soon a survivor knows a tournament created elsewhere
UNFINISHED: Final = ("registering", "running")


def tournament_number(actor_name: str) -> int | None:
    """``tournament:<id>`` -> id (None for any other name)."""
    number = actor_name.removeprefix(TOURNAMENT_PREFIX)
    if number == actor_name or not number.isdigit():
        return None
    return int(number)


def tournament_ownership(
    link: RedisLink, prefix: str, node: str, ttl_ms: int, store: Store, fences: NodeFences
) -> TableOwnership:
    """The leases of this node's tournaments (their tables ride on them, fenced each)."""
    return TableOwnership(RedisLeases(link, prefix, node, ttl_ms), store, fences)


def tournament_table_names(registry: Registry, number: int) -> list[str]:
    """The actor names of the tournament's tables open on this node."""
    return registry.names(TableAddress(f"{TOURNAMENT_TABLE_PREFIX}{number}-").actor_name)


async def stop_tournament_here(registry: Registry, tables_supervisor: str, number: int) -> None:
    """Stop the tournament's actor, then its tables (a hand report told meanwhile finds no
    actor: the next owner voids that hand, as after a crash)."""
    with contextlib.suppress(ChildNotFound, NameNotFound):
        await registry.supervisor(TOURNAMENTS_SUPERVISOR).stop_child(f"{TOURNAMENT_PREFIX}{number}")
    tables = registry.supervisor(tables_supervisor)
    for table in tournament_table_names(registry, number):
        with contextlib.suppress(ChildNotFound, NameNotFound):
            await tables.stop_child(table)


def run_tournaments_here(
    ownership: TableOwnership, registry: Registry, deps: TournamentDeps
) -> None:
    """A tournament lost to another node stops here with its tables; one whose owner went
    away opens here from its stored step."""

    async def stop_tournament(name: str) -> None:
        number = tournament_number(name)
        if number is None:
            return
        await stop_tournament_here(registry, deps.tables_supervisor, number)
        log.warning("tournament stopped here: another node owns it", tournament=number)

    async def open_tournament(name: str) -> bool:
        number = tournament_number(name)
        if number is None:
            return False
        row = await deps.store.run(partial(stored.load_state, number), read_only=True)
        if row not in UNFINISHED:
            return False  # over (or gone) meanwhile: nothing to run
        with contextlib.suppress(NameTaken):
            supervisor = registry.supervisor(TOURNAMENTS_SUPERVISOR)
            await supervisor.start_actor(tournament_spec(number, deps))
        log.warning("tournament taken over from another node", tournament=number)
        return True

    ownership.on_lost = stop_tournament
    ownership.opener = open_tournament


async def scan_tournaments(
    ownership: TableOwnership,
    store: Store,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Until cancelled: every unfinished tournament another node runs waits here for its
    lease (TableOwnership.adopt opens it here once its owner's lease lapses). One found
    with no lease waits only if it still has none at the next scan: a tournament just
    created on another node is claimed there in the meantime, not taken from it here."""
    task_status.started()
    unleased: set[str] = set()
    while True:
        numbers = await store.run(partial(stored.tournament_ids_in, UNFINISHED), read_only=True)
        names = [f"{TOURNAMENT_PREFIX}{n}" for n in numbers]
        names = [n for n in names if n not in ownership.held and n not in ownership.waiting]
        try:
            holders = await ownership.leases.holders(names)
        except RedisDown:
            holders = {}  # the renewals say so; the next scan tries again
        for name, holder in holders.items():
            if holder is not None or name in unleased:
                ownership.waiting[name] = None  # (bounded by SCANNED_MAX ids)
        unleased = {name for name, holder in holders.items() if holder is None}
        await trio.sleep(SCAN_PERIOD_S)
