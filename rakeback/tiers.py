"""Tiers: points per period from rake, thresholds, rakeback percentages, and the grace rule.

Points: a player earns ``rake x points_per_chip_num // points_per_chip_den`` points in a
period (rake from every source of the program, in whole chips; the operator's rate, 1 point
per chip by default), rounded down once per period.

Tiers: a table of (name, threshold in points, rakeback in basis points), thresholds strictly
increasing from 0 (the first tier is everyone's), rakeback never decreasing. The tier a number
of points *earns* is the highest whose threshold it reaches.

Status (what is "kept for the next period"): a player's status for period N is decided by her
points of period N-1:

    status(N) = earned(points(N-1))               if that is not below status(N-1)
              = max(earned(points(N-1)), status(N-1) - 1)  otherwise   (the grace rule)

so a player moves up as far as her points take her, but drops at most one tier per period:
one quiet week costs one tier, not all of them. A player with no history has status 0.

The rate paid for period N is the better of her status and what period N's own points earn:
``paid_tier(N) = max(status(N), earned(points(N)))``, so a newcomer who plays a lot is paid
at her level at once, and a regular keeps her status through a quiet period.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, final

from protocol.limits import BASIS_POINTS, POINTS_MAX

TIERS_MAX: Final = 20  # bound: a longer table is refused (InvalidTiers)
TIER_NAME_CHARS_MAX: Final = 40
POINTS_RATE_MAX: Final = 1_000  # bound on the rate's numerator and denominator


class InvalidTiers(ValueError):
    """A tier table or points rate that breaks the rules above (an operator's mistake)."""


@final
@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    threshold_points: int
    rakeback_bp: int  # basis points of the player's rake: 2_500 = 25 %


@final
@dataclass(frozen=True, slots=True)
class TierTable:
    tiers: tuple[Tier, ...]
    points_per_chip_num: int = 1
    points_per_chip_den: int = 1

    def __post_init__(self) -> None:
        check_tiers(self.tiers, self.points_per_chip_num, self.points_per_chip_den)

    @property
    def top_bp(self) -> int:
        return self.tiers[-1].rakeback_bp

    def points(self, rake: int) -> int:
        if rake < 0:
            raise ValueError("rake is never negative")
        return rake * self.points_per_chip_num // self.points_per_chip_den

    def earned(self, points: int) -> int:
        """The index of the highest tier whose threshold ``points`` reach."""
        index = 0
        for i, tier in enumerate(self.tiers):
            if points >= tier.threshold_points:
                index = i
        return index

    def next_status(self, status: int, points: int) -> int:
        """Status for the next period, from this period's status and points (grace rule)."""
        status = self.clamp(status)
        earned = self.earned(points)
        return earned if earned >= status else max(earned, status - 1)

    def paid_tier(self, status: int, points: int) -> int:
        return max(self.clamp(status), self.earned(points))

    def clamp(self, status: int) -> int:
        """A stored status under a table that has since lost tiers: its top tier at most."""
        return max(0, min(status, len(self.tiers) - 1))


def check_tiers(tiers: Sequence[Tier], num: int, den: int) -> None:
    if not 1 <= len(tiers) <= TIERS_MAX:
        raise InvalidTiers(f"a tier table has 1 to {TIERS_MAX} tiers")
    if tiers[0].threshold_points != 0:
        raise InvalidTiers("the first tier's threshold is 0 (every player has a tier)")
    for before, after in itertools.pairwise(tiers):
        if after.threshold_points <= before.threshold_points:
            raise InvalidTiers("thresholds must increase strictly")
        if after.rakeback_bp < before.rakeback_bp:
            raise InvalidTiers("a higher tier never pays a lower rakeback")
    names = [t.name for t in tiers]
    if len(set(names)) != len(names):
        raise InvalidTiers("tier names must differ")
    for tier in tiers:
        if not 1 <= len(tier.name) <= TIER_NAME_CHARS_MAX or not tier.name.isprintable():
            raise InvalidTiers(f"a tier name is 1-{TIER_NAME_CHARS_MAX} printable characters")
        if not 0 <= tier.rakeback_bp <= BASIS_POINTS:
            raise InvalidTiers(f"rakeback is 0..{BASIS_POINTS} basis points")
        if tier.threshold_points > POINTS_MAX:
            raise InvalidTiers(f"a threshold is at most {POINTS_MAX} points")
    if not (1 <= num <= POINTS_RATE_MAX and 1 <= den <= POINTS_RATE_MAX):
        raise InvalidTiers(f"the points rate is num/den with both in 1..{POINTS_RATE_MAX}")


# The house's default table (server settings may replace it): documented in docs/rakeback.md.
DEFAULT_TIERS: Final = TierTable(
    (
        Tier("Bronze", 0, 1_000),
        Tier("Silver", 1_000, 2_000),
        Tier("Gold", 10_000, 3_000),
        Tier("Platinum", 50_000, 4_000),
    )
)


def parse_tiers(text: str) -> TierTable:
    """A tier table from ``NAME:POINTS:BP,NAME:POINTS:BP,...`` (the server setting); the
    empty text is DEFAULT_TIERS. Raises InvalidTiers."""
    if not text.strip():
        return DEFAULT_TIERS
    tiers: list[Tier] = []
    for part in text.split(","):
        fields = part.strip().split(":")
        if len(fields) != 3 or not all(f.strip().isdigit() for f in fields[1:]):
            raise InvalidTiers(f"a tier is NAME:POINTS:BASIS_POINTS, not {part.strip()!r}")
        tiers.append(Tier(fields[0].strip(), int(fields[1]), int(fields[2])))
        if len(tiers) > TIERS_MAX:
            break
    return TierTable(tuple(tiers))
