"""My responsible-gaming limits, cool-off and self-exclusion.

Only translation: the rules are services/limits.py's (lowering a limit is at once, raising or
removing it after 24 hours; a cool-off is 1-42 days, a self-exclusion 183 days to 10 years,
neither can be shortened), reached through services/wallet.py as the websocket's
``get_limits`` / ``set_limits`` / ``self_exclude`` reach them. Staff read them on the admin
API and never change them.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from api.problems import ApiProblem
from api.routes.common import EXAMPLE_TIME_MS
from api.routes.wallet import wallet_problem
from api.routing import Call, Reply, RouteTable
from persistence.ledger import LIMIT_NAMES, DailyTotals, Exclusion, PendingRaise, PlayerLimits
from services.api_keys import Scope
from services.ledger import WalletError
from services.limits import (
    COOL_OFF_DAYS,
    LIMIT_VALUE_MAX,
    RAISE_WAIT_MS,
    SELF_EXCLUSION_DAYS,
    SESSION_MINUTES,
    LimitsView,
)

routes = RouteTable()

LimitValue = Annotated[int, Meta(ge=0, le=LIMIT_VALUE_MAX)]
SessionMinutes = Annotated[int, Meta(ge=SESSION_MINUTES[0], le=SESSION_MINUTES[1])]


class LimitChanges(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """The limits to change, each to a value or to null (no limit); a limit not named stays
    as it is. At least one."""

    daily_deposit_max: LimitValue | msgspec.UnsetType | None = msgspec.UNSET
    weekly_deposit_max: LimitValue | msgspec.UnsetType | None = msgspec.UNSET
    monthly_deposit_max: LimitValue | msgspec.UnsetType | None = msgspec.UNSET
    daily_loss_max: LimitValue | msgspec.UnsetType | None = msgspec.UNSET
    weekly_loss_max: LimitValue | msgspec.UnsetType | None = msgspec.UNSET
    monthly_loss_max: LimitValue | msgspec.UnsetType | None = msgspec.UNSET
    table_buy_in_max: LimitValue | msgspec.UnsetType | None = msgspec.UNSET
    session_minutes_max: SessionMinutes | msgspec.UnsetType | None = msgspec.UNSET


assert set(LimitChanges.__struct_fields__) == set(LIMIT_NAMES), "one field per limit"


class ExclusionRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    kind: Literal["cool_off", "self_exclusion"]
    days: Annotated[int, Meta(ge=COOL_OFF_DAYS[0], le=SELF_EXCLUSION_DAYS[1])]


LIMITS_EXAMPLE: Final = msgspec.to_builtins(
    LimitsView(
        limits=PlayerLimits(daily_deposit_max=500, session_minutes_max=120),
        pending={"weekly_loss_max": PendingRaise(2000, EXAMPLE_TIME_MS + RAISE_WAIT_MS)},
        exclusion=None,
        today=DailyTotals(deposited=200, net_loss=50, transferred=0),
        week=DailyTotals(deposited=900, net_loss=300, transferred=100),
        month=DailyTotals(deposited=2500, net_loss=700, transferred=100),
        updated_at_ms=EXAMPLE_TIME_MS,
    )
)
EXCLUDED_EXAMPLE: Final = {
    **LIMITS_EXAMPLE,
    "exclusion": msgspec.to_builtins(
        Exclusion("cool_off", EXAMPLE_TIME_MS, EXAMPLE_TIME_MS + 7 * 86_400_000)
    ),
}


@routes.operation(
    operation_id="getLimits",
    method="GET",
    path="/v1/wallet/limits",
    summary="My limits in force, raises waiting their 24 hours, an exclusion, my totals",
    description="Limits concern real money (`chips`). `pending` holds raises (or removals:"
    " `value` null) by limit name, in force from `effective_at_ms`. `today`, `week` (the"
    " last 7 UTC days) and `month` (30) are what counts against them.",
    tag="wallet",
    response=LimitsView,
    example=LIMITS_EXAMPLE,
    scope=Scope.WALLET_READ,
    personal=True,
)
async def get_limits(call: Call) -> Reply:
    return Reply(await call.context.wallet.limits_view(call.player_id))


@routes.operation(
    operation_id="changeLimits",
    method="POST",
    path="/v1/wallet/limits",
    summary="Change my limits: lowering at once, raising or removing after 24 hours",
    description="Each limit named is set to its value (null: no limit). A lower value is in"
    " force at once and cancels a raise waiting; a higher one (or null) waits 24 hours in"
    " `pending`. The same raise again changes nothing (a retry is safe without a key); a"
    " different raise while one waits is `limit_raise_pending`, with `Retry-After`.",
    tag="wallet",
    response=LimitsView,
    example=LIMITS_EXAMPLE,
    scope=Scope.WALLET_WRITE,
    personal=True,
    body=LimitChanges,
    body_example={"daily_deposit_max": 500, "weekly_loss_max": None},
    errors=("limit_raise_pending", "invalid_amount"),
)
async def change_limits(call: Call) -> Reply:
    changes = {
        name: value
        for name, value in msgspec.structs.asdict(call.body).items()
        if value is not msgspec.UNSET
    }
    if not changes:
        raise ApiProblem("invalid_request", "name at least one limit to change")
    try:
        view = await call.context.wallet.set_limits(call.player_id, changes)
    except WalletError as exc:
        raise wallet_problem(exc) from None
    return Reply(view)


@routes.operation(
    operation_id="createExclusion",
    method="POST",
    path="/v1/wallet/exclusions",
    summary="Take a cool-off (1-42 days) or exclude myself (183 days to 10 years)",
    description="From now, no real-money deposits, buy-ins, tournament entries or incoming"
    " transfers; withdrawals and play money stay open. Neither can be shortened or lifted:"
    " while one is in force a new one must end later (a cool-off may become a"
    " self-exclusion, not the other way round).",
    tag="wallet",
    response=LimitsView,
    example=EXCLUDED_EXAMPLE,
    status=201,
    scope=Scope.WALLET_WRITE,
    personal=True,
    body=ExclusionRequest,
    body_example={"kind": "cool_off", "days": 7},
    idempotent=True,
    errors=("invalid_exclusion", "exclusion_cannot_be_shortened"),
)
async def create_exclusion(call: Call) -> Reply:
    body: ExclusionRequest = call.body
    try:
        view = await call.context.wallet.exclude(call.player_id, body.kind, body.days)
    except WalletError as exc:
        raise wallet_problem(exc) from None
    return Reply(view, headers={"Location": "/v1/wallet/limits"})
