"""Clubs and rakeback, for staff: a club, its members and statistics; its deal, bans and
tables (audited); rakeback preview, distribution (audited), verification and statements.
The rules are services/clubs.py and services/rakeback.py; these routes only translate."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct
from quart import Blueprint
from quart_schema import document_querystring, document_request, validate_querystring

from admin.auth import error, requires
from admin.bodies import ROW_ID_MAX, Reason, RowId, read_body
from admin.context import audit_stamp, current_context
from admin.permissions import Permission
from persistence.clubs import CLUB_PAGE_MAX
from persistence.rakeback import STATEMENT_PERIODS_MAX
from rakeback.periods import PERIOD_ID_CHARS_MAX, InvalidPeriodId, Period, parse_period
from server.rakeback_settings import rakeback_policy_of
from services.club_rules import ClubError
from services.clubs import TABLE_ID_CHARS_MAX, Clubs
from services.ledger import WalletError
from services.rakeback import (
    PeriodNotOver,
    PeriodOutOfOrder,
    Rakeback,
    RakebackError,
    UnknownScope,
)

club_routes = Blueprint("clubs", __name__)

CLUB = f"<int(max={ROW_ID_MAX}):club_id>"
PLAYER = f"<int(max={ROW_ID_MAX}):player_id>"
# Named with their converter: quart-schema turns "<a>/.../<int:b>" into "{b}" in the spec.
SCOPE = "<string:scope>"
PERIOD = "<string:period>"
SCOPE_CHARS_MAX = 30  # "club:" and a 64-bit id
TRACE_ITEMS_MAX = 10_000  # bound: items listed by one trace (count and total cover all)
_NOT_FOUND = frozenset({"club_not_found", "club_member_not_found"})


def _clubs() -> Clubs:
    return Clubs(current_context().store)


def _rakeback() -> Rakeback:
    context = current_context()
    return Rakeback(context.store, context.wallet, rakeback_policy_of(context.settings))


def club_error(exc: ClubError) -> Any:
    return error(404 if exc.code in _NOT_FOUND else 400, exc.code, str(exc))


def rakeback_error(exc: RakebackError | WalletError) -> Any:
    if isinstance(exc, UnknownScope):
        return error(404, exc.code, str(exc))
    status = 409 if isinstance(exc, PeriodNotOver | PeriodOutOfOrder | WalletError) else 400
    return error(status, exc.code, str(exc))


def _period(text: str) -> Period | Any:
    if len(text) > PERIOD_ID_CHARS_MAX:
        return error(400, "invalid_period", "a period is day:YYYY-MM-DD or week:YYYY-MM-DD")
    try:
        return parse_period(text)
    except InvalidPeriodId as exc:
        return error(400, "invalid_period", str(exc))


def _scope(text: str) -> str | None:
    if text == "house" or (
        len(text) <= SCOPE_CHARS_MAX and text.startswith("club:") and text[5:].isdigit()
    ):
        return text
    return None


class MembersQuery(Struct, frozen=True):
    after_player: RowId | None = None
    limit: Annotated[int, Meta(ge=1, le=CLUB_PAGE_MAX)] = 50


class PeriodQuery(Struct, frozen=True):
    period: Annotated[str, Meta(min_length=1, max_length=PERIOD_ID_CHARS_MAX)]


class DealRequest(Struct, frozen=True, forbid_unknown_fields=True):
    deal_bp: Annotated[int, Meta(ge=0, le=10_000)]
    reason: Reason


class TableRequest(Struct, frozen=True, forbid_unknown_fields=True):
    table_id: Annotated[str, Meta(min_length=1, max_length=TABLE_ID_CHARS_MAX)]
    reason: Reason


class ReasonRequest(Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason


class StatementQuery(Struct, frozen=True):
    limit: Annotated[int, Meta(ge=1, le=STATEMENT_PERIODS_MAX)] = 50


@club_routes.get(f"/clubs/{CLUB}")
@requires(Permission.CLUBS_READ)
async def club_detail(club_id: int) -> Any:
    """A club: name, code, join policy, members; its benefits (deal, tiers, agents' rates)
    and its tables."""
    clubs = _clubs()
    try:
        info = await clubs.club(None, club_id)
        return {
            "club": info,
            "benefits": await clubs.benefits(None, club_id),
            "tables": await clubs.tables(None, club_id),
        }
    except ClubError as exc:
        return club_error(exc)


@club_routes.get(f"/clubs/{CLUB}/members")
@requires(Permission.CLUBS_READ)
@validate_querystring(MembersQuery)
@document_querystring(MembersQuery)
async def club_members(club_id: int, query_args: MembersQuery) -> Any:
    """Members in player id order, paged by ``after_player``."""
    try:
        found = await _clubs().members(None, club_id, query_args.after_player, query_args.limit)
    except ClubError as exc:
        return club_error(exc)
    return {"members": found}


@club_routes.get(f"/clubs/{CLUB}/stats")
@requires(Permission.CLUBS_READ)
@validate_querystring(PeriodQuery)
@document_querystring(PeriodQuery)
async def club_stats(club_id: int, query_args: PeriodQuery) -> Any:
    """Members, active players, hands, rake, rakeback and commission paid for a period."""
    period = _period(query_args.period)
    if not isinstance(period, Period):
        return period
    try:
        return await _clubs().stats(None, club_id, period)
    except ClubError as exc:
        return club_error(exc)


@club_routes.post(f"/clubs/{CLUB}/deal")
@requires(Permission.CLUBS_WRITE)
@document_request(DealRequest)
async def set_deal(club_id: int) -> Any:
    """The club's rakeback deal in basis points of its tables' rake; refused below its tiers
    or an agent's rate; audited."""
    body = await read_body(DealRequest)
    stamp = audit_stamp("clubs.deal", f"club:{club_id}", body.reason)
    try:
        return await _clubs().set_deal(club_id, body.deal_bp, stamp)
    except ClubError as exc:
        return club_error(exc)


@club_routes.post(f"/clubs/{CLUB}/tables")
@requires(Permission.CLUBS_WRITE)
@document_request(TableRequest)
async def register_table(club_id: int) -> Any:
    """A table belongs to the club from now on (its rake is the club's); audited."""
    body = await read_body(TableRequest)
    stamp = audit_stamp("clubs.table", f"club:{club_id}", body.reason)
    try:
        await _clubs().register_table(None, club_id, body.table_id, audit_as=stamp)
    except ClubError as exc:
        return club_error(exc)
    return {"club_id": club_id, "table_id": body.table_id}


@club_routes.post(f"/clubs/{CLUB}/bans/{PLAYER}")
@requires(Permission.CLUBS_WRITE)
@document_request(ReasonRequest)
async def ban_from_club(club_id: int, player_id: int) -> Any:
    """Out of the club, and she cannot join again; audited."""
    body = await read_body(ReasonRequest)
    stamp = audit_stamp("clubs.ban", f"club:{club_id}", body.reason)
    if await current_context().store.get_account(player_id) is None:
        return error(404, "not_found", f"no player with id {player_id}")
    try:
        await _clubs().ban(None, club_id, player_id, audit_as=stamp)
    except ClubError as exc:
        return club_error(exc)
    return {"club_id": club_id, "banned": player_id}


@club_routes.get(f"/rakeback/{SCOPE}/{PERIOD}/preview")
@requires(Permission.RAKEBACK_READ)
async def rakeback_preview(scope: str, period: str) -> Any:
    """What distributing the period would pay (nothing is written), or, once it is frozen,
    what it pays."""
    return await _with_period(scope, period, lambda s, p: _rakeback().preview(s, p))


@club_routes.get(f"/rakeback/{SCOPE}/{PERIOD}/verify")
@requires(Permission.RAKEBACK_READ)
async def rakeback_verify(scope: str, period: str) -> Any:
    """The period recomputed hand by hand against what was accrued and paid."""

    async def verify(s: str, p: Period) -> Any:
        found = await _rakeback().verify(s, p)
        return {"ok": found.ok, **{f: getattr(found, f) for f in found.__struct_fields__}}

    return await _with_period(scope, period, verify)


@club_routes.post(f"/rakeback/{SCOPE}/{PERIOD}/distribute")
@requires(Permission.RAKEBACK_RUN)
@document_request(ReasonRequest)
async def rakeback_distribute(scope: str, period: str) -> Any:
    """Freeze, fund, pay and close the period (audited; repeat-safe; resumes a stopped run)."""
    body = await read_body(ReasonRequest)
    stamp = audit_stamp("rakeback.distribute", f"rakeback:{scope}:{period}", body.reason)
    return await _with_period(scope, period, lambda s, p: _rakeback().distribute(s, p, stamp))


@club_routes.get(f"/rakeback/{SCOPE}/{PERIOD}/players/{PLAYER}/trace")
@requires(Permission.RAKEBACK_READ)
async def rakeback_trace(scope: str, period: str, player_id: int) -> Any:
    """Every hand (``hand:<id>``) and fee transfer (``transfer:<id>``) that makes up the
    player's rake in the period, with the amount each attributes to her."""

    async def trace(s: str, p: Period) -> Any:
        items = await _rakeback().trace(s, p, player_id)
        return {"items": [{"source": i.source, "origin": i.origin, "amount": i.amount}
                          for i in items[:TRACE_ITEMS_MAX]],
                "total": sum(i.amount for i in items), "count": len(items)}  # fmt: skip

    return await _with_period(scope, period, trace)


@club_routes.get(f"/players/{PLAYER}/rakeback")
@requires(Permission.RAKEBACK_READ)
@validate_querystring(StatementQuery)
@document_querystring(StatementQuery)
async def rakeback_statement(player_id: int, query_args: StatementQuery) -> Any:
    """The player's rakeback and commission: accrued and paid, by period, program and source."""
    if await current_context().store.get_account(player_id) is None:
        return error(404, "not_found", f"no player with id {player_id}")
    return {"lines": await _rakeback().statement(player_id, query_args.limit)}


async def _with_period(scope: str, period_text: str, act: Any) -> Any:
    checked = _scope(scope)
    if checked is None:
        return error(404, "rakeback_unknown_scope", "a scope is house or club:<id>")
    period = _period(period_text)
    if not isinstance(period, Period):
        return period
    try:
        return await act(checked, period)
    except (RakebackError, WalletError) as exc:
        return rakeback_error(exc)
