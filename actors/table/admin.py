"""Operator controls of cash tables: open, pause, resume, close, and a detail view.

The admin API calls the functions at the bottom (``open_table``, ``pause_table``,
``resume_table``, ``close_table``, ``table_detail``); each is one ask of the lobby or of the
table ``table:<id>``, so it is ordered with everything else the table does.

- Pause: no new hand starts; a running hand finishes. Seats, joins, top-ups and leaving work.
- Resume: hands start again as usual.
- Close: at once the lobby drops the listing and new seats are refused (``table_closing``);
  when the running hand ends (at once if none), every player is stood up and cashed out, the
  table's snapshot is deleted and a tombstone stored (so a seed table does not come back at
  the next start), and the table stops for good.

Every status change is told to the seated players and watchers (``table_status_changed``)
and kept in the table's durable state, so it survives a restart.

Reopening an id starts a new table, not the old one again: each table takes the next
*epoch* of its id when it first starts (``next_epoch``, a counter kept in the store apart
from the table's snapshot and never deleted), and every ledger key and hand id it makes
carries that epoch.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, final

import msgspec
import outcome
import trio

from actors.addresses import TableAddress
from actors.registry import Registry
from actors.runtime import ActorRef, TargetError
from actors.table.config import TableConfig
from actors.table.messages import (
    GameRefused,
    OpenTable,
    TableMessage,
    TableSeats,
)
from actors.table.state import TableState
from persistence.domain_events import TableStakes
from persistence.snapshot_writer import SnapshotWriter
from persistence.snapshots import Snapshot
from persistence.store import Store
from protocol import game

ADMIN_ASK_TIMEOUT_S: Final = 10.0  # closing settles every cash-out in the ledger first
TOMBSTONE_KIND: Final = "table_closed"  # a snapshot kind: ids of tables closed for good


# A snapshot kind used as a counter: version = the last epoch given to the id, data the stakes
# it opened with (persistence/domain_events.TableStakes: its table.opened event says them).
EPOCH_KIND: Final = "table_epoch"
# Bound: tries when another writer takes the same epoch first (two nodes opening one id);
# past it the table crashes and its supervisor decides.
EPOCH_TRIES_MAX: Final = 3


def tombstone_id(table_id: str) -> str:
    return f"table-closed:{table_id}"


def epoch_id(table_id: str) -> str:
    return f"table-epoch:{table_id}"


async def next_epoch(store: Store, table_id: str, config: TableConfig | None = None) -> int:
    """Take the next epoch of ``table_id`` (1 for an id never opened), durably: no two tables
    ever get the same (id, epoch), across closes, reopenings and restarts. The counter is a
    snapshot row whose version only moves forward, so a racing writer is refused, not
    overwritten. ``config``: recorded with it for the ``table.opened`` event."""
    data = b"" if config is None else msgspec.msgpack.encode(_stakes(config))
    for _ in range(EPOCH_TRIES_MAX):
        stored = await store.load_snapshot(epoch_id(table_id))
        epoch = (stored.version if stored is not None else 0) + 1
        counter = Snapshot(kind=EPOCH_KIND, actor_id=epoch_id(table_id), version=epoch, data=data)
        (landed,) = await store.save_snapshots([counter])
        if landed:
            return epoch
    raise RuntimeError(f"table {table_id!r}: epoch taken by another writer {EPOCH_TRIES_MAX} times")


def _stakes(config: TableConfig) -> TableStakes:
    return TableStakes(
        variant=config.variant.value, small_blind=config.small_blind,
        big_blind=config.big_blind, ante=config.ante, buy_in_min=config.buy_in_min,
        buy_in_max=config.buy_in_max, rake_bp=config.rake_bp, rake_cap=config.rake_cap,
        seats=config.seats, asset=config.asset, bankroll=config.bankroll,
        club_id=config.club_id,
    )  # fmt: skip


# --- messages to a table (each reply: TableDetail) ------------------------------------------


class PauseTable(TableMessage, frozen=True, tag=True):
    """No new hand starts until ResumeTable; the running hand finishes."""


class ResumeTable(TableMessage, frozen=True, tag=True):
    pass


class CloseTable(TableMessage, frozen=True, tag=True):
    """Close for good after the running hand (refused players: ``table_closing``)."""


class GetTableDetail(TableMessage, frozen=True, tag=True):
    pass


class FinishClose(TableMessage, frozen=True, tag=True):
    """The table's own: no hand runs, so stand everyone up, pay them, and stop for good."""


class TableDetail(msgspec.Struct, frozen=True, kw_only=True):
    """What an operator sees of one table. ``status``: open, paused, closing or closed.
    ``owed_chips``: cash-outs and rake recorded but not paid out of escrow yet."""

    config: TableConfig
    status: game.TableStatus
    seats: TableSeats  # player ids, stacks, the running hand's number (0: none), button
    escrow_balance: int
    owed_chips: int


async def forget_closed_table(
    store: Store, writer: SnapshotWriter | None, table_id: str, state: TableState, now_ms: int
) -> None:
    """A closed table's last writes: a tombstone (a seed table does not come back at the next
    start), then its snapshot deleted once nothing of it is still queued to land."""
    tombstone = Snapshot(
        kind=TOMBSTONE_KIND, actor_id=tombstone_id(table_id), version=max(1, now_ms), data=b""
    )
    await store.save_snapshots([tombstone])
    if writer is not None:
        await writer.flush()  # nothing of ours still queued to land after the delete
    await store.delete_snapshot(table_id, state.version)


# --- what the admin API calls ---------------------------------------------------------------


def _table(registry: Registry, table_id: str) -> ActorRef[Any]:
    ref = registry.resolve(TableAddress(table_id))
    if ref is None:
        raise GameRefused("no_such_table", f"no table {table_id!r}")
    return ref


async def _ask_table(registry: Registry, table_id: str, message: TableMessage) -> TableDetail:
    try:
        detail = await _table(registry, table_id).ask(message, timeout_s=ADMIN_ASK_TIMEOUT_S)
    except TargetError as exc:
        raise GameRefused("unavailable", f"table {table_id!r} did not answer") from exc
    assert isinstance(detail, TableDetail)
    return detail


@final
@dataclass(frozen=True, slots=True)
class TableToOpen:
    """The lobby's answer to OpenTable (in process only): the id is reserved for the asker,
    and ``open`` starts the table (or has a less-loaded node open it) in the asker's own
    task, then frees the reservation: the lobby's turn never waits for a table's start,
    which takes a lease, an epoch and a durable write (actors/lobby.py)."""

    table_id: str
    open: Callable[[], Awaitable[None]]


async def open_table(
    registry: Registry, config: TableConfig, lobby: str = "lobby", *, here: bool = False
) -> str:
    """Start a table (stored at once, so it is recovered after a restart); its id. ``here``:
    on this node, whatever placement says (a table another node placed here).
    Raises GameRefused: ``table_exists``, ``too_many_tables``, ``unavailable``."""
    ref = registry.lookup(lobby)
    if ref is None:
        raise GameRefused("unavailable", "the lobby is not running")
    try:
        reserved = await ref.ask(OpenTable(config, here), timeout_s=ADMIN_ASK_TIMEOUT_S)
    except TargetError as exc:
        raise GameRefused("unavailable", "the lobby did not answer") from exc
    assert isinstance(reserved, TableToOpen)
    await run_in_empty_context(reserved.open)
    return reserved.table_id


async def run_in_empty_context(open_: Callable[[], Awaitable[None]]) -> None:
    """Await ``open_()`` in a task of its own whose context holds no variable, so the
    tasks it starts (a table's) copy that empty context, not the caller's. An admin or API
    request's context holds the request, its app and the log fields bound for it: a table
    started from it kept all of that alive for as long as it ran (16 KB an idle table, issue
    25's memory figure) and logged with the request's id. (A system task: its outcome,
    whatever it is, comes back to the caller; cancelling the caller leaves the opening to
    finish, bounded as it is by its lease and the lobby's reservation.)"""
    done = trio.Event()
    result: list[outcome.Outcome[None]] = []

    async def opening() -> None:
        result.append(await outcome.acapture(open_))
        done.set()

    trio.lowlevel.spawn_system_task(opening, context=contextvars.Context())
    await done.wait()
    result[0].unwrap()


async def pause_table(registry: Registry, table_id: str) -> TableDetail:
    return await _ask_table(registry, table_id, PauseTable())


async def resume_table(registry: Registry, table_id: str) -> TableDetail:
    return await _ask_table(registry, table_id, ResumeTable())


async def close_table(registry: Registry, table_id: str) -> TableDetail:
    """Returns at once (status ``closing``, or ``closed`` if no hand was running)."""
    return await _ask_table(registry, table_id, CloseTable())


async def table_detail(registry: Registry, table_id: str) -> TableDetail:
    return await _ask_table(registry, table_id, GetTableDetail())
