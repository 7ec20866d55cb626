"""Lobby analytics for operators (services/lobby_analytics.py, docs/operations.md):
occupancy by game and stakes over time, wait lists and seat waits, table churn, hands per
hour, from the lobby samples the server stores every minute.

Refusals: ``invalid_period`` and ``period_too_large`` (400).
"""

from __future__ import annotations

from typing import Any, Literal

from msgspec import Struct
from quart import Blueprint
from quart_schema import document_querystring, validate_querystring

from admin.auth import error, requires
from admin.bodies import RowId
from admin.context import current_context
from admin.permissions import Permission
from protocol.fields import Asset
from services import lobby_analytics
from services.lobby_analytics import AnalyticsRefused, GamePeriod

analytics_routes = Blueprint("analytics", __name__)

DEFAULT_DAYS = {"hour": 1, "day": 30}


class LobbyAnalyticsQuery(Struct, frozen=True):
    """Samples in [from_ms, to_ms), by hour (at most 31 days) or day (at most 366). By
    default to_ms is now and the period the last day (hour) or 30 days (day)."""

    bucket: Literal["hour", "day"] = "hour"
    from_ms: RowId | None = None
    to_ms: RowId | None = None
    asset: Asset | None = None


class LobbyAnalytics(Struct, frozen=True):
    from_ms: int
    to_ms: int
    bucket: str
    games: list[GamePeriod]  # by bucket start, then asset, variant, stakes


@analytics_routes.get("/analytics/lobby")
@requires(Permission.TABLES_READ)
@validate_querystring(LobbyAnalyticsQuery)
@document_querystring(LobbyAnalyticsQuery)
async def lobby(query_args: LobbyAnalyticsQuery) -> Any:
    """Occupancy, wait lists, seat waits, table churn and hands per hour by game and stakes."""
    store = current_context().store
    to_ms = query_args.to_ms if query_args.to_ms is not None else store.clock_ms()
    from_ms = query_args.from_ms
    if from_ms is None:
        from_ms = max(0, to_ms - DEFAULT_DAYS[query_args.bucket] * lobby_analytics.DAY_MS)
    try:
        games = await lobby_analytics.report(
            store, from_ms, to_ms, query_args.bucket, query_args.asset
        )
    except AnalyticsRefused as exc:
        return error(400, exc.code, str(exc))
    return LobbyAnalytics(from_ms, to_ms, query_args.bucket, games)
