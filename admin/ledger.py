"""The money, for staff: the ledger audit, a player's statement (JSON or CSV), her
responsible-gaming limits (read only: staff see them and never change them) and the rake she
paid. Every route only reads; the rules are services/ (wallet, limits, ledger_audit)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import trio
from msgspec import Meta, Struct
from quart import Blueprint, Response
from quart_schema import document_querystring, validate_querystring

from actors.addresses import LOBBY, TableAddress
from actors.lobby import ListAllTables
from actors.runtime import Registry, TargetError
from actors.table.admin import ADMIN_ASK_TIMEOUT_S
from actors.table.messages import AuditEscrow, EscrowAudit
from admin.auth import error, requires
from admin.bodies import ROW_ID_MAX, RowId
from admin.context import current_context
from admin.permissions import Permission
from persistence.ledger import STATEMENT_PAGE_MAX
from services.ledger import WalletError
from services.ledger_audit import TableEscrowCheck, audit_ledger
from services.statements import statement_csv

ledger_routes = Blueprint("ledger", __name__)

PLAYER = f"<int(max={ROW_ID_MAX}):player_id>"
TimeMs = Annotated[int, Meta(ge=0, le=2**53)]
AUDIT_TABLES_MAX = 10_000  # bound: tables asked by one audit (the lobby lists no more)


class StatementQuery(Struct, frozen=True):
    from_ms: TimeMs
    to_ms: TimeMs
    asset: Literal["chips", "play"] = "chips"
    after_id: RowId | None = None
    limit: Annotated[int, Meta(ge=1, le=STATEMENT_PAGE_MAX)] = STATEMENT_PAGE_MAX


class CsvQuery(Struct, frozen=True):
    from_ms: TimeMs
    to_ms: TimeMs
    asset: Literal["chips", "play"] = "chips"


async def _live_tables(registry: Registry) -> list[TableEscrowCheck]:
    """Each running table's count against its escrow (one ask each, in its mailbox order).
    A table that does not answer in time is left out (it may be restarting)."""
    lobby = registry.resolve(LOBBY)
    if lobby is None:
        return []
    try:
        listings = await lobby.ask(ListAllTables(), timeout_s=ADMIN_ASK_TIMEOUT_S)
    except TargetError:
        return []
    checks: list[TableEscrowCheck] = []
    for listing in list(listings)[:AUDIT_TABLES_MAX]:
        ref = registry.resolve(TableAddress(listing.table_id))
        if ref is None:
            continue
        try:
            audit = await ref.ask(AuditEscrow(), timeout_s=ADMIN_ASK_TIMEOUT_S)
        except (TargetError, trio.TooSlowError):
            continue
        assert isinstance(audit, EscrowAudit)
        checks.append(
            TableEscrowCheck(
                table_id=listing.table_id,
                escrow_owner=TableAddress(listing.table_id).actor_name,
                chips=audit.chips,
                escrow_balance=audit.escrow_balance,
            )
        )
    return checks


@ledger_routes.get("/ledger/audit")
@requires(Permission.LEDGER_READ)
async def ledger_audit() -> Any:
    """Every invariant of the money: the sum per asset, accounts overdrawn or disagreeing with
    their transfers, each live table's chips against its escrow, each tournament prize pool
    against its entries and payouts. ``consistent`` is false on any violation (listed)."""
    context = current_context()
    registry = context.registry
    tables = None if registry is None else (lambda: _live_tables(registry))
    return await audit_ledger(context.wallet, tables)


async def _known(player_id: int) -> bool:
    return await current_context().store.get_account(player_id) is not None


def _no_player(player_id: int) -> Any:
    return error(404, "not_found", f"no player with id {player_id}")


@ledger_routes.get(f"/players/{PLAYER}/statement")
@requires(Permission.WALLET_READ)
@validate_querystring(StatementQuery)
@document_querystring(StatementQuery)
async def statement(player_id: int, query_args: StatementQuery) -> Any:
    """The player's statement for [from_ms, to_ms): opening and closing balance, totals by
    kind, and the entries posted in it (paged by ``after_id``)."""
    if not await _known(player_id):
        return _no_player(player_id)
    q = query_args
    try:
        return await current_context().wallet.statement(
            player_id, q.from_ms, q.to_ms, q.asset, q.after_id, q.limit
        )
    except WalletError as exc:
        return error(400, exc.code, str(exc))


@ledger_routes.get(f"/players/{PLAYER}/statement.csv")
@requires(Permission.WALLET_READ)
@validate_querystring(CsvQuery)
@document_querystring(CsvQuery)
async def statement_as_csv(player_id: int, query_args: CsvQuery) -> Any:
    """The same statement as CSV, every entry (streamed): docs/storage.md has the columns."""
    if not await _known(player_id):
        return _no_player(player_id)
    q = query_args
    pieces = statement_csv(current_context().wallet, player_id, q.from_ms, q.to_ms, q.asset)
    try:
        first = await anext(pieces)  # the period is checked before anything is sent
    except WalletError as exc:
        return error(400, exc.code, str(exc))

    async def body() -> Any:
        yield first.encode()
        async for piece in pieces:
            yield piece.encode()

    name = f"statement-{player_id}-{q.asset}-{q.from_ms}-{q.to_ms}.csv"
    return Response(
        body(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@ledger_routes.get(f"/players/{PLAYER}/limits")
@requires(Permission.WALLET_READ)
async def limits(player_id: int) -> Any:
    """The limits the player set (in force, and raises waiting their 24 hours), a cool-off or
    self-exclusion in force, and her totals. Read only: no route changes them."""
    if not await _known(player_id):
        return _no_player(player_id)
    return await current_context().wallet.limits_view(player_id)


class RakeQuery(Struct, frozen=True):
    from_ms: TimeMs
    to_ms: TimeMs
    asset: Literal["chips", "play"] = "chips"


@ledger_routes.get(f"/players/{PLAYER}/rake")
@requires(Permission.WALLET_READ)
@validate_querystring(RakeQuery)
@document_querystring(RakeQuery)
async def rake_paid(player_id: int, query_args: RakeQuery) -> Any:
    """The player's share of the rake of the hands that ended in [from_ms, to_ms) (for
    rakeback): hands dealt, hands she paid rake in, and the total."""
    if not await _known(player_id):
        return _no_player(player_id)
    q = query_args
    if q.from_ms >= q.to_ms:
        return error(400, "invalid_period", "from_ms must be before to_ms")
    return await current_context().store.rake_paid(player_id, q.from_ms, q.to_ms, q.asset)
