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
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from actors.registry import Registry
from actors.runtime import ActorRef, TargetError
from actors.table_messages import GameRefused, OpenTable, TableConfig, TableMessage, TableSeats
from protocol import game

ADMIN_ASK_TIMEOUT_S: Final = 10.0  # closing settles every cash-out in the ledger first
TOMBSTONE_KIND: Final = "table_closed"  # a snapshot kind: ids of tables closed for good


def tombstone_id(table_id: str) -> str:
    return f"table-closed:{table_id}"


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


# --- what the admin API calls ---------------------------------------------------------------


def _table(registry: Registry, table_id: str) -> ActorRef[Any]:
    ref = registry.lookup(f"table:{table_id}")
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


async def open_table(registry: Registry, config: TableConfig, lobby: str = "lobby") -> str:
    """Start a table (stored at once, so it is recovered after a restart); its id.
    Raises GameRefused: ``table_exists``, ``too_many_tables``, ``unavailable``."""
    ref = registry.lookup(lobby)
    if ref is None:
        raise GameRefused("unavailable", "the lobby is not running")
    try:
        table_id = await ref.ask(OpenTable(config=config), timeout_s=ADMIN_ASK_TIMEOUT_S)
    except TargetError as exc:
        raise GameRefused("unavailable", "the lobby did not answer") from exc
    assert isinstance(table_id, str)
    return table_id


async def pause_table(registry: Registry, table_id: str) -> TableDetail:
    return await _ask_table(registry, table_id, PauseTable())


async def resume_table(registry: Registry, table_id: str) -> TableDetail:
    return await _ask_table(registry, table_id, ResumeTable())


async def close_table(registry: Registry, table_id: str) -> TableDetail:
    """Returns at once (status ``closing``, or ``closed`` if no hand was running)."""
    return await _ask_table(registry, table_id, CloseTable())


async def table_detail(registry: Registry, table_id: str) -> TableDetail:
    return await _ask_table(registry, table_id, GetTableDetail())
