"""My statement for a period: opening and closing balance, totals by kind, every entry; as
JSON (paged by cursor) or as CSV (the whole period, streamed).

Only translation: the statement is services/wallet.py ``Wallet.statement`` (the websocket's
``wallet_statement`` and the admin API's statement call the same), the CSV services/
statements.py ``statement_csv`` (the admin API's export writes the same bytes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from api.cursors import decode_cursor, encode_cursor
from api.problems import ApiProblem
from api.routes.common import EXAMPLE_CURSOR, EXAMPLE_TIME_MS, Cursor, RowId
from api.routes.wallet import ENTRY_EXAMPLE, Asset, wallet_problem
from api.routing import Call, Reply, RouteTable
from persistence.ledger import STATEMENT_PAGE_MAX, StatementTotal
from services.api_keys import Scope
from services.ledger import WalletError
from services.statements import CSV_COLUMNS, iso_ms, statement_csv
from services.wallet import HistoryEntry

routes = RouteTable()

TimeMs = Annotated[int, Meta(ge=0, le=2**53)]
CSV: Final = "text/csv; charset=utf-8"
CURSOR_KIND: Final = "statement"


class StatementQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    from_ms: TimeMs
    to_ms: TimeMs
    asset: Asset = "chips"
    format: Literal["json", "csv"] = "json"
    cursor: Cursor | None = None  # JSON only: the next page of entries
    limit: Annotated[int, Meta(ge=1, le=STATEMENT_PAGE_MAX)] = 200  # JSON only


class StatementPage(msgspec.Struct, frozen=True):
    """``closing_balance`` = ``opening_balance`` + the net of ``totals`` (which cover the whole
    period, whatever the page); ``entries`` are the transfers posted in the period, oldest
    first, one page at a time."""

    player_id: int
    asset: str
    from_ms: int
    to_ms: int
    opening_balance: int
    closing_balance: int
    totals: list[StatementTotal]  # per transfer kind
    entries: list[HistoryEntry]
    next_cursor: str | None  # pass as cursor (with the same period and asset) for the next page


EXAMPLE_FROM_MS: Final = EXAMPLE_TIME_MS - 86_400_000
STATEMENT_EXAMPLE: Final = msgspec.to_builtins(
    StatementPage(
        player_id=42, asset="chips", from_ms=EXAMPLE_FROM_MS, to_ms=EXAMPLE_TIME_MS,
        opening_balance=1750, closing_balance=1500,
        totals=[StatementTotal("player_transfer", 1, 0, 250)],
        entries=[ENTRY_EXAMPLE], next_cursor=EXAMPLE_CURSOR,
    )
)  # fmt: skip
CSV_EXAMPLE: Final = (
    ",".join(CSV_COLUMNS) + "\r\n"
    f"opening,,{iso_ms(EXAMPLE_FROM_MS)},,,1750,,,\r\n"
    f"entry,1207,{iso_ms(EXAMPLE_TIME_MS)},{iso_ms(EXAMPLE_TIME_MS)},player_transfer,-250,,"
    "wallet:43,for the cab\r\n"
    "total,,,,player_transfer,-250,1,,\r\n"
    f"closing,,{iso_ms(EXAMPLE_TIME_MS)},,,1500,,,\r\n"
)


def _position(query: StatementQuery, after_id: int) -> list[object]:
    # The cursor names its period and asset too: another period's cursor is refused.
    return [query.asset, query.from_ms, query.to_ms, after_id]


@routes.operation(
    operation_id="getStatement",
    method="GET",
    path="/v1/wallet/statement",
    summary="My statement for [from_ms, to_ms): opening and closing balance, totals, entries",
    description="At most a year (`invalid_period` otherwise). `format=json` pages the entries"
    " (`limit`, `cursor`); `format=csv` answers `text/csv` with the whole period, streamed:"
    " `entry` rows, then a `total` row per kind and the `opening` and `closing` balances"
    " (docs/storage.md has the columns).",
    tag="wallet",
    response=StatementPage,
    example=STATEMENT_EXAMPLE,
    scope=Scope.WALLET_READ,
    personal=True,
    query=StatementQuery,
    errors=("invalid_period", "wrong_asset"),
    alternatives={"text/csv": CSV_EXAMPLE},
)
async def statement(call: Call) -> Reply:
    query: StatementQuery = call.query
    if query.format == "csv":
        return await _csv(call, query)
    after_id = None
    if query.cursor is not None:
        found = decode_cursor(CURSOR_KIND, query.cursor, tuple[str, int, int, RowId])
        if list(found[:3]) != _position(query, 0)[:3]:
            raise ApiProblem("invalid_cursor", "the cursor is of another period or asset")
        after_id = found[3]
    try:
        page = await call.context.wallet.statement(
            call.player_id, query.from_ms, query.to_ms, query.asset, after_id, query.limit
        )
    except WalletError as exc:
        raise wallet_problem(exc) from None
    next_id = page.next_after_id
    return Reply(
        StatementPage(
            player_id=page.player_id, asset=page.asset, from_ms=page.from_ms, to_ms=page.to_ms,
            opening_balance=page.opening_balance, closing_balance=page.closing_balance,
            totals=page.totals, entries=page.entries,
            next_cursor=(
                None if next_id is None
                else encode_cursor(CURSOR_KIND, _position(query, next_id))
            ),
        )
    )  # fmt: skip


async def _csv(call: Call, query: StatementQuery) -> Reply:
    if query.cursor is not None:
        raise ApiProblem("invalid_cursor", "a CSV statement is the whole period: no cursor")
    pieces = statement_csv(
        call.context.wallet, call.player_id, query.from_ms, query.to_ms, query.asset
    )
    try:
        first = await anext(pieces)  # the period is checked before the status is sent
    except WalletError as exc:
        raise wallet_problem(exc) from None

    async def body() -> AsyncIterator[bytes]:
        yield first.encode()
        async for piece in pieces:
            yield piece.encode()

    name = f"statement-{query.asset}-{query.from_ms}-{query.to_ms}.csv"
    return Reply(
        body(), content_type=CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
