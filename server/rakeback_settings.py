"""The rakeback policy the operator's settings ask for (server/config.py)."""

from __future__ import annotations

from rakeback.tiers import parse_tiers
from server.config import Settings
from services.rakeback import RakebackPolicy


def rakeback_policy_of(settings: Settings) -> RakebackPolicy:
    return RakebackPolicy(
        period_kind="day" if settings.rakeback_period == "day" else "week",
        method="dealt" if settings.rakeback_method == "dealt" else "weighted",
        house_tiers=parse_tiers(settings.rakeback_tiers),
        settle_delay_ms=settings.rakeback_settle_delay_s * 1000,
    )
