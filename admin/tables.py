"""Cash tables for directors: list, detail, open, pause, resume and close (each audited).

A table's changes are messages to its actor, not SQL, so they cannot share a transaction with
their audit entry. They are logged write-ahead instead: an entry with ``"outcome":
"requested"`` is committed before the actor is asked (no entry, no ask: a database that is down
refuses the change), and a second entry with the same request id records the outcome:
``"done"`` (with the new status), ``"refused"`` (with the table's code) or ``"unknown"`` (the
table did not answer in time: it may have acted). The ask and the outcome entry are shielded
from the caller's cancellation, so a client that hangs up does not leave the outcome out; a
crash between the two leaves the intent, never a change with no entry at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
import trio
from msgspec import Meta, Struct
from quart import Blueprint
from quart_schema import document_request

from actors.addresses import LOBBY, TableAddress
from actors.lobby import ListAllTables
from actors.runtime import Registry, TargetError
from actors.table.admin import (
    ADMIN_ASK_TIMEOUT_S,
    TableDetail,
    close_table,
    open_table,
    pause_table,
    resume_table,
    table_detail,
)
from actors.table.config import TableConfig
from actors.table.messages import GameRefused
from admin.auth import error, requires
from admin.bodies import Reason, read_body
from admin.context import audit_stamp, current_context, record_audit
from admin.permissions import Permission
from poker import Variant
from protocol.game import TableListing
from protocol.limits import (
    CHIPS_MAX,
    RAKE_BP_MAX,
    SEATS_MAX,
    SEATS_MIN,
    TABLE_ID_CHARS_MAX,
    TABLE_ID_OPEN_CHARS_MAX,
    TABLE_ID_PATTERN_TEXT,
    TABLE_NAME_CHARS_MAX,
)

table_routes = Blueprint("tables", __name__)

TABLE_ID = f"<string(maxlength={TABLE_ID_CHARS_MAX}):table_id>"

Chips = Annotated[int, Meta(ge=0, le=CHIPS_MAX)]


class TableListings(Struct, frozen=True):
    tables: list[TableListing]


class OperatorRequest(Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason


class TableCreate(Struct, frozen=True, forbid_unknown_fields=True):
    table_id: Annotated[
        str,
        Meta(min_length=1, max_length=TABLE_ID_OPEN_CHARS_MAX, pattern=TABLE_ID_PATTERN_TEXT),
    ]
    name: Annotated[str, Meta(min_length=1, max_length=TABLE_NAME_CHARS_MAX)]
    variant: Variant
    small_blind: Annotated[int, Meta(ge=1, le=CHIPS_MAX)]
    big_blind: Annotated[int, Meta(ge=1, le=CHIPS_MAX)]
    reason: Reason
    seats: Annotated[int, Meta(ge=SEATS_MIN, le=SEATS_MAX)] = 6
    buy_in_min: Chips = 0  # 0: 40 big blinds
    buy_in_max: Chips = 0  # 0: 200 big blinds
    ante: Chips = 0
    rake_bp: Annotated[int, Meta(ge=0, le=RAKE_BP_MAX)] = 500
    rake_cap: Chips = 0  # 0: 3 big blinds


def _registry() -> Registry:
    registry = current_context().registry
    assert registry is not None, "the admin app runs inside a server with a runtime"
    return registry


def _refused(exc: GameRefused) -> Any:
    status = 404 if exc.code == "no_such_table" else 503 if exc.code == "unavailable" else 409
    return error(status, exc.code, str(exc))


@table_routes.get("/tables")
@requires(Permission.TABLES_READ)
async def list_tables() -> Any:
    """Every open table's listing (variant, stakes, seats, average pot, hands per hour)."""
    lobby = _registry().resolve(LOBBY)
    if lobby is None:
        return error(503, "unavailable", "the lobby is not running")
    try:
        listings = await lobby.ask(ListAllTables(), timeout_s=ADMIN_ASK_TIMEOUT_S)
    except TargetError:
        return error(503, "unavailable", "the lobby did not answer")
    return TableListings(tables=list(listings))


@table_routes.get(f"/tables/{TABLE_ID}")
@requires(Permission.TABLES_READ)
async def get_table(table_id: str) -> Any:
    """One table: its configuration, status, seats (player ids, stacks) and escrow."""
    try:
        return await table_detail(_registry(), table_id)
    except GameRefused as exc:
        return _refused(exc)


@table_routes.post("/tables")
@requires(Permission.TABLES_WRITE)
@document_request(TableCreate)
async def create_table() -> Any:
    """Open a table (stored at once, recovered after a restart); audited."""
    body = await read_body(TableCreate)
    fields = msgspec.structs.asdict(body)
    reason = fields.pop("reason")
    try:
        config = TableConfig(**fields)
    except ValueError as exc:
        return error(400, "invalid_request", str(exc))
    registry = _registry()

    async def open_it() -> str:
        await open_table(registry, config)
        return "open"  # a table the lobby opened starts open

    opened = await _write_ahead(
        "tables.open",
        config.table_id,
        reason,
        before=None,
        requested={"config": msgspec.to_builtins(config)},
        operation=open_it,
    )
    if not isinstance(opened, str):
        return opened  # the refusal
    try:
        return await table_detail(registry, config.table_id)
    except GameRefused as exc:  # opened (and logged so), but it did not answer since
        if exc.code == "no_such_table":  # placed on another node of the room (docs/scaling.md)
            return {"table_id": config.table_id, "status": "open", "elsewhere": True}, 202
        return _refused(exc)


async def _write_ahead(
    action: str,
    table_id: str,
    reason: str,
    *,
    before: Any,
    requested: dict[str, Any],
    operation: Callable[[], Awaitable[Any]],
) -> Any:
    """Log the intent, ask the table, log the outcome (see the module's docstring).

    ``operation`` returns the table's status after the change, or a TableDetail (its status
    is logged); a GameRefused answer becomes the refusal this returns."""
    stamp = audit_stamp(action, TableAddress(table_id).actor_name, reason)
    await record_audit(stamp, before=before, after={"outcome": "requested", **requested})
    # Bounded: the ask times out (ADMIN_ASK_TIMEOUT_S), and so does a database statement.
    with trio.CancelScope(shield=True):
        try:
            after = await operation()
        except GameRefused as exc:
            outcome = "unknown" if exc.code == "unavailable" else "refused"
            await record_audit(stamp, before=before, after={"outcome": outcome, "error": exc.code})
            return _refused(exc)
        status = after.status if isinstance(after, TableDetail) else after
        await record_audit(stamp, before=before, after={"outcome": "done", "status": status})
    return after


async def _operate(
    table_id: str,
    action: str,
    operation: Callable[[Registry, str], Awaitable[TableDetail]],
) -> Any:
    body = await read_body(OperatorRequest)
    registry = _registry()
    try:
        # Checked before anything is logged: no such table is a refusal with no entry.
        before = await table_detail(registry, table_id)
    except GameRefused as exc:
        return _refused(exc)

    async def operate() -> TableDetail:
        return await operation(registry, table_id)

    return await _write_ahead(
        action,
        table_id,
        body.reason,
        before={"status": before.status},
        requested={},
        operation=operate,
    )


@table_routes.post(f"/tables/{TABLE_ID}/pause")
@requires(Permission.TABLES_WRITE)
@document_request(OperatorRequest)
async def pause(table_id: str) -> Any:
    """No new hand starts; the running hand finishes. Audited."""
    return await _operate(table_id, "tables.pause", pause_table)


@table_routes.post(f"/tables/{TABLE_ID}/resume")
@requires(Permission.TABLES_WRITE)
@document_request(OperatorRequest)
async def resume(table_id: str) -> Any:
    """Hands start again. Audited."""
    return await _operate(table_id, "tables.resume", resume_table)


@table_routes.post(f"/tables/{TABLE_ID}/close")
@requires(Permission.TABLES_WRITE)
@document_request(OperatorRequest)
async def close(table_id: str) -> Any:
    """Close for good: after the running hand every player is cashed out. Audited."""
    return await _operate(table_id, "tables.close", close_table)
