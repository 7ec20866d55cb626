"""Cash tables for directors: list, detail, open, pause, resume and close (each audited)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct
from quart import Blueprint
from quart_schema import document_request

from actors.runtime import Registry, TargetError
from actors.table_admin import (
    ADMIN_ASK_TIMEOUT_S,
    TableDetail,
    close_table,
    open_table,
    pause_table,
    resume_table,
    table_detail,
)
from actors.table_messages import GameRefused, ListTablesQuery, TableConfig
from admin.auth import error, requires
from admin.bodies import Reason, read_body
from admin.context import current_context, record_audit
from admin.permissions import Permission
from poker import Variant
from poker.config import SEATS_MAX
from protocol.game import TABLE_ID_CHARS_MAX, TABLE_NAME_CHARS_MAX, TableListing

table_routes = Blueprint("tables", __name__)

CHIPS_MAX = 10**12  # bound on blinds and buy-ins an operator can configure
TABLE_ID = f"<string(maxlength={TABLE_ID_CHARS_MAX}):table_id>"

Chips = Annotated[int, Meta(ge=0, le=CHIPS_MAX)]


class TableListings(Struct, frozen=True):
    tables: list[TableListing]


class OperatorRequest(Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason


class TableCreate(Struct, frozen=True, forbid_unknown_fields=True):
    table_id: Annotated[
        str, Meta(min_length=1, max_length=TABLE_ID_CHARS_MAX, pattern=r"^[a-z0-9][a-z0-9-]*$")
    ]
    name: Annotated[str, Meta(min_length=1, max_length=TABLE_NAME_CHARS_MAX)]
    variant: Variant
    small_blind: Annotated[int, Meta(ge=1, le=CHIPS_MAX)]
    big_blind: Annotated[int, Meta(ge=1, le=CHIPS_MAX)]
    reason: Reason
    seats: Annotated[int, Meta(ge=2, le=SEATS_MAX)] = 6
    buy_in_min: Chips = 0  # 0: 40 big blinds
    buy_in_max: Chips = 0  # 0: 200 big blinds
    ante: Chips = 0
    rake_bp: Annotated[int, Meta(ge=0, le=1_000)] = 500  # at most 10%
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
    lobby = _registry().lookup("lobby")
    if lobby is None:
        return error(503, "unavailable", "the lobby is not running")
    try:
        listings = await lobby.ask(ListTablesQuery(), timeout_s=ADMIN_ASK_TIMEOUT_S)
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
    try:
        table_id = await open_table(_registry(), config)
    except GameRefused as exc:
        return _refused(exc)
    detail = await table_detail(_registry(), table_id)
    await record_audit(
        "tables.open", f"table:{table_id}", reason, before=None, after=_audited(detail)
    )
    return detail


def _audited(detail: TableDetail) -> dict[str, Any]:
    return {"status": detail.status, "config": msgspec.to_builtins(detail.config)}


async def _operate(table_id: str, action: str, operation: Any) -> Any:
    body = await read_body(OperatorRequest)
    registry = _registry()
    try:
        before = await table_detail(registry, table_id)
        after = await operation(registry, table_id)
    except GameRefused as exc:
        return _refused(exc)
    await record_audit(
        action,
        f"table:{table_id}",
        body.reason,
        before={"status": before.status},
        after={"status": after.status},
    )
    return after


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
