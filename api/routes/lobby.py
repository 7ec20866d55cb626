"""The lobby: open cash tables, filtered, paged, cacheable (ETag, 304)."""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import parse_qsl

import msgspec
from msgspec import Meta

from api.context import ApiContext
from api.cursors import decode_cursor, encode_cursor
from api.lobby import PAGES_MAX, ListingKey, ListingsUnavailable, listing_key
from api.problems import ApiProblem
from api.routes.common import EXAMPLE_CURSOR, Cursor
from api.routing import Call, Reply, RouteTable, etag_of
from protocol.game import TABLES_LISTED_MAX, Chips, TableListing, VariantCode
from services.api_keys import Scope

routes = RouteTable()

LOBBY_CACHE_CONTROL: Final = "public, max-age=1"  # listings are kept 1 s (api/lobby.py)
_encoder = msgspec.json.Encoder()


class TablesQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    variant: VariantCode | None = None
    big_blind: Chips | None = None
    cursor: Cursor | None = None
    limit: Annotated[int, Meta(ge=1, le=TABLES_LISTED_MAX)] = 100


class TablesPage(msgspec.Struct, frozen=True):
    data: list[TableListing]  # by variant, big blind, table id
    next_cursor: str | None  # pass as cursor for the next page; null on the last one


EXAMPLE_LISTING: Final = TableListing(
    table_id="nt-1-2-a",
    name="Aurora",
    variant="NT",
    small_blind=1,
    big_blind=2,
    buy_in_min=80,
    buy_in_max=400,
    seats_total=6,
    seats_taken=4,
    waiting=0,
    average_pot=37,
    hands_per_hour=72,
    rake_bp=500,
    rake_cap=6,
)


@routes.operation(
    operation_id="listTables",
    method="GET",
    path="/v1/lobby/tables",
    summary="Open cash tables: variant, stakes, seats, average pot, hands per hour",
    description="Public: no credential needed (one that is sent must be valid and have"
    " `lobby:read`). The answer is at most a second old; send If-None-Match with its ETag"
    " to get 304 when it has not changed. For every change as it happens, subscribe to the"
    " lobby on the websocket.",
    tag="lobby",
    response=TablesPage,
    example=msgspec.to_builtins(TablesPage([EXAMPLE_LISTING], EXAMPLE_CURSOR)),
    scope=Scope.LOBBY_READ,
    auth="optional",
    query=TablesQuery,
    cache_control=LOBBY_CACHE_CONTROL,
    errors=("unavailable",),
)
async def list_tables(call: Call) -> Reply:
    query: TablesQuery = call.query
    try:
        snapshot = await call.context.listings.snapshot(query.variant, query.big_blind)
    except ListingsUnavailable as exc:
        raise ApiProblem("unavailable", str(exc)) from None
    after: ListingKey | None = None
    if query.cursor is not None:
        after = decode_cursor("lobby", query.cursor, ListingKey)
    page_key = (after, query.limit)
    encoded = snapshot.pages.get(page_key)
    if encoded is None:
        chunk, more = snapshot.page(after, query.limit)
        cursor = encode_cursor("lobby", list(listing_key(chunk[-1]))) if more and chunk else None
        body = _encoder.encode(TablesPage(chunk, cursor))
        encoded = (body, etag_of(body))
        if len(snapshot.pages) < PAGES_MAX:
            snapshot.pages[page_key] = encoded
    return Reply(encoded=encoded)


# The parsed form of the query strings clients poll with (the shortcut's 304s parse each one
# again otherwise). Bound: QUERIES_PARSED_MAX; overflow: forgotten all at once, parsed again.
QUERIES_PARSED_MAX: Final = 1024
_NOT_SIMPLE: Final = object()  # a query only the route can answer (refusal, repeats, ...)
_parsed_queries: dict[bytes, object] = {}


def _parsed(query_string: bytes) -> tuple[str | None, int | None, ListingKey | None, int] | None:
    found = _parsed_queries.get(query_string)
    if found is None:
        found = _parse(query_string)
        if len(_parsed_queries) >= QUERIES_PARSED_MAX:
            _parsed_queries.clear()
        _parsed_queries[query_string] = found
    return None if found is _NOT_SIMPLE else found  # type: ignore[return-value]


def _parse(query_string: bytes) -> object:
    try:
        pairs = parse_qsl(
            query_string.decode("ascii"), keep_blank_values=True, strict_parsing=False
        )
        args = dict(pairs)
        if len(args) != len(pairs):
            return _NOT_SIMPLE
        query = msgspec.convert(args, TablesQuery, strict=False)
        after = None
        if query.cursor is not None:
            after = decode_cursor("lobby", query.cursor, ListingKey)
    except (UnicodeDecodeError, ValueError, msgspec.ValidationError, ApiProblem):
        return _NOT_SIMPLE
    return (query.variant, query.big_blind, after, query.limit)


def current_tag(context: ApiContext, query_string: bytes) -> tuple[str, str] | None:
    """The ETag and Cache-Control list_tables would answer for this query, when its page is
    encoded and fresh already (api/shortcut.py); None when only the route can tell."""
    parsed = _parsed(query_string)
    if parsed is None:
        return None
    variant, big_blind, after, limit = parsed
    snapshot = context.listings.fresh(variant, big_blind)
    encoded = None if snapshot is None else snapshot.pages.get((after, limit))
    return None if encoded is None else (encoded[1], LOBBY_CACHE_CONTROL)
