"""Integrity flags for staff: chip-dumping flags and collusion signals computed from the
stored hands of a period (services/integrity.py, docs/integrity.md), each flag with its
hands, and staff's decisions on a flag (dismiss, confirm, ban a player from it), audited in
the decision's own transaction.

Every refusal has its own code (docs/admin.md): ``invalid_flag_id``, ``invalid_period``,
``period_too_large`` (400); ``flag_not_raised``, ``unknown_player`` (404);
``review_unchanged``, ``player_not_in_flag``, ``player_already_banned`` (409).
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct
from quart import Blueprint, g
from quart_schema import document_querystring, document_request, validate_querystring

from admin.auth import error, requires
from admin.bodies import Reason, RowId, read_body
from admin.context import audit_stamp, current_context
from admin.permissions import Permission, allows
from persistence import Account
from persistence.integrity import Review, ReviewRefused, ReviewStatus
from poker.integrity import (
    CollusionReport,
    CollusionSignal,
    DumpingFlag,
    DumpingReport,
)
from services import integrity
from services.integrity import FlagName, IntegrityRefused, Period

integrity_routes = Blueprint("integrity", __name__)

_STATUS = {
    "invalid_flag_id": 400,
    "invalid_period": 400,
    "period_too_large": 400,
    "flag_not_raised": 404,
    "unknown_player": 404,
    "review_unchanged": 409,
    "player_not_in_flag": 409,
    "player_already_banned": 409,
}


class PeriodQuery(Struct, frozen=True):
    """Hands that ended in [from_ms, to_ms); by default the 30 days before to_ms (now)."""

    from_ms: RowId | None = None
    to_ms: RowId | None = None


class ReviewRequest(Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason
    # The period the reviewer looked at (the flag must be raised in it); default as above.
    from_ms: RowId | None = None
    to_ms: RowId | None = None


class BanFromFlagRequest(Struct, frozen=True, forbid_unknown_fields=True):
    player_id: RowId  # one of the flag's two players
    reason: Reason
    from_ms: RowId | None = None
    to_ms: RowId | None = None


class DumpingPage(Struct, frozen=True):
    """The period's flags, figures only (``GET /integrity/flags/{id}`` lists the hands)."""

    from_ms: int
    to_ms: int
    report: DumpingReport
    reviews: dict[str, Review]  # by flag id, for the flags staff have reviewed


class CollusionPage(Struct, frozen=True):
    from_ms: int
    to_ms: int
    report: CollusionReport
    reviews: dict[str, Review]


class FlagView(Struct, frozen=True):
    flag_id: str
    kind: str  # "dumping" | "collusion"
    from_ms: int
    to_ms: int
    dumping: DumpingFlag | None  # with its hands and their patterns
    collusion: CollusionSignal | None  # with its hands
    review: Review | None


class ReviewOutcome(Struct, frozen=True):
    review: Review
    banned_player_id: int | None = None


def _refused(exc: IntegrityRefused | ReviewRefused) -> Any:
    return error(_STATUS[exc.code], exc.code, str(exc))


def _period(from_ms: int | None, to_ms: int | None) -> Period:
    return Period.of(from_ms, to_ms, current_context().store.clock_ms())


@integrity_routes.get("/integrity/dumping")
@requires(Permission.INTEGRITY_READ)
@validate_querystring(PeriodQuery)
@document_querystring(PeriodQuery)
async def dumping_flags(query_args: PeriodQuery) -> Any:
    """Chip-dumping flags of the period: pairs where chips flow mostly one way."""
    store = current_context().store
    try:
        period = _period(query_args.from_ms, query_args.to_ms)
        report = await integrity.dumping_report(store, period)
    except IntegrityRefused as exc:
        return _refused(exc)
    reviews = await integrity.reviews_of(store, [f.flag_id for f in report.flags])
    return DumpingPage(period.from_ms, period.to_ms, report, reviews)


@integrity_routes.get("/integrity/collusion")
@requires(Permission.INTEGRITY_READ)
@validate_querystring(PeriodQuery)
@document_querystring(PeriodQuery)
async def collusion_signals(query_args: PeriodQuery) -> Any:
    """Collusion signals of the period: pairs who sit together far more than chance."""
    store = current_context().store
    try:
        period = _period(query_args.from_ms, query_args.to_ms)
        report = await integrity.collusion_report(store, period)
    except IntegrityRefused as exc:
        return _refused(exc)
    reviews = await integrity.reviews_of(store, [s.flag_id for s in report.signals])
    return CollusionPage(period.from_ms, period.to_ms, report, reviews)


async def _raised(
    flag_id: str, from_ms: int | None, to_ms: int | None
) -> tuple[FlagName, Period, DumpingFlag | CollusionSignal]:
    """The flag as the period raises it; IntegrityRefused otherwise."""
    name = integrity.parse_flag_id(flag_id)
    period = _period(from_ms, to_ms)
    found = await integrity.find_flag(current_context().store, name, period)
    if found is None:
        raise IntegrityRefused(
            "flag_not_raised", f"the hands of the period do not raise flag {flag_id}"
        )
    return name, period, found


@integrity_routes.get("/integrity/flags/<flag_id>")
@requires(Permission.INTEGRITY_READ)
@validate_querystring(PeriodQuery)
@document_querystring(PeriodQuery)
async def flag_detail(flag_id: str, query_args: PeriodQuery) -> Any:
    """One flag with its hands (a dumping flag's with their patterns) and its review."""
    try:
        name, period, found = await _raised(flag_id, query_args.from_ms, query_args.to_ms)
    except IntegrityRefused as exc:
        return _refused(exc)
    review = await integrity.review_of(current_context().store, flag_id)
    return FlagView(
        flag_id=flag_id,
        kind=name.kind,
        from_ms=period.from_ms,
        to_ms=period.to_ms,
        dumping=found if isinstance(found, DumpingFlag) else None,
        collusion=found if isinstance(found, CollusionSignal) else None,
        review=review,
    )


async def _review(flag_id: str, status: ReviewStatus) -> Any:
    body = await read_body(ReviewRequest)
    try:
        name, _, _ = await _raised(flag_id, body.from_ms, body.to_ms)
        action = "integrity.dismiss" if status == "dismissed" else "integrity.confirm"
        review, _ = await integrity.review_flag(
            current_context().store,
            name,
            flag_id,
            status,
            audit_stamp(action, f"flag:{flag_id}", body.reason),
        )
    except (IntegrityRefused, ReviewRefused) as exc:
        return _refused(exc)
    return ReviewOutcome(review)


@integrity_routes.post("/integrity/flags/<flag_id>/dismiss")
@requires(Permission.INTEGRITY_REVIEW)
@document_request(ReviewRequest)
async def dismiss_flag(flag_id: str) -> Any:
    """Dismiss a raised flag (audited, with a reason): staff found nothing wrong."""
    return await _review(flag_id, "dismissed")


@integrity_routes.post("/integrity/flags/<flag_id>/confirm")
@requires(Permission.INTEGRITY_REVIEW)
@document_request(ReviewRequest)
async def confirm_flag(flag_id: str) -> Any:
    """Confirm a raised flag (audited, with a reason): staff found cheating."""
    return await _review(flag_id, "confirmed")


@integrity_routes.post("/integrity/flags/<flag_id>/ban")
@requires(Permission.INTEGRITY_REVIEW)
@document_request(BanFromFlagRequest)
async def ban_from_flag(flag_id: str) -> Any:
    """Ban one of a raised flag's players: the ban, the flag's confirmation (naming the ban)
    and one audit entry (``integrity.ban``, target ``player:{id}``) in one transaction; then
    the player's live sessions end. Needs ``players:ban`` as well."""
    if not allows(g.identity.role, Permission.PLAYERS_BAN):
        return error(403, "forbidden", f"role {g.identity.role!r} lacks {Permission.PLAYERS_BAN}")
    body = await read_body(BanFromFlagRequest)
    context = current_context()
    try:
        name, _, _ = await _raised(flag_id, body.from_ms, body.to_ms)
        review, account = await integrity.review_flag(
            context.store,
            name,
            flag_id,
            "confirmed",
            audit_stamp("integrity.ban", f"player:{body.player_id}", body.reason),
            ban_player_id=body.player_id,
        )
    except (IntegrityRefused, ReviewRefused) as exc:
        return _refused(exc)
    banned: Account | None = account
    assert banned is not None and banned.banned, "a ban from a flag returned no banned account"
    # After the commit: a ban that rolled back must not have cut anyone off.
    await context.on_banned(banned.id)
    await context.on_ban_changed(banned.id, True)
    return ReviewOutcome(review, banned.id)
