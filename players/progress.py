"""Experience, levels, achievements, tournament points and leaderboard periods (docs/players.md).

Pure: the store calls these in the transaction that applies a hand (persistence/players.py).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from math import isqrt
from typing import Final, Literal, final

from players.stats import StatCounters, TournamentResult

# --- experience -----------------------------------------------------------------------------

XP_PER_HAND: Final = 10  # every hand dealt, any asset
XP_PER_RAKE_CHIP: Final = 1  # per chip of rake paid at a real-money table (asset "chips")
XP_PER_TOURNAMENT_ENTRY: Final = 50
# A finished tournament also gives its tournament points as XP (tournament_points below).
LEVEL_MAX: Final = 1000  # bound: XP beyond level 1000's threshold stays level 1000
LEVEL_STEP_XP: Final = 500  # level L -> L + 1 costs L x 500 XP: each level harder


def hand_xp(counters: StatCounters, asset: str) -> int:
    """XP for one hand's counters (hands dealt, and rake paid in real money)."""
    rake_xp = counters.rake_paid * XP_PER_RAKE_CHIP if asset == "chips" else 0
    return counters.hands * XP_PER_HAND + rake_xp


def tournament_xp(points: int) -> int:
    return XP_PER_TOURNAMENT_ENTRY + points


def xp_for_level(level: int) -> int:
    """Total XP at which ``level`` starts: 500 x L x (L - 1) / 2 (level 1 at 0 XP)."""
    if not 1 <= level <= LEVEL_MAX:
        raise ValueError(f"level {level} outside 1..{LEVEL_MAX}")
    return LEVEL_STEP_XP * level * (level - 1) // 2


def level_for_xp(xp: int) -> int:
    """The highest level whose threshold ``xp`` reaches (exact integer arithmetic)."""
    if xp < 0:
        raise ValueError("negative XP")
    # L(L-1) <= 2 xp / 500  <=>  L <= (1 + sqrt(1 + 8 xp / 500)) / 2
    level = (1 + isqrt(1 + 8 * xp // LEVEL_STEP_XP)) // 2
    while level > 1 and xp_for_level(min(level, LEVEL_MAX)) > xp:
        level -= 1
    while level < LEVEL_MAX and xp_for_level(level + 1) <= xp:
        level += 1
    return min(level, LEVEL_MAX)


# --- achievements ---------------------------------------------------------------------------

AchievementCode = Literal[
    "first_hand", "first_hand_won", "first_showdown_won", "hands_1000", "hands_10000",
    "level_10", "first_tournament_cashed",
]  # fmt: skip
ACHIEVEMENTS: Final[dict[str, str]] = {
    "first_hand": "Dealt a first hand",
    "first_hand_won": "Won a first hand",
    "first_showdown_won": "Won a first showdown",
    "hands_1000": "Played 1,000 hands",
    "hands_10000": "Played 10,000 hands",
    "level_10": "Reached level 10",
    "first_tournament_cashed": "Cashed in a first tournament",
}


@final
@dataclass(frozen=True, slots=True)
class Totals:
    """A player's running totals after a hand (player_progress)."""

    hands: int
    won_hands: int
    showdown_won_hands: int


def crossed(before: int, after: int, threshold: int) -> bool:
    return before < threshold <= after


def hand_achievements(
    hand: StatCounters, after: Totals, level_before: int, level_after: int
) -> list[str]:
    """The achievements this hand earned: each is earned by the hand that crosses its
    threshold, so a hand earns few (usually none) and the store writes only those."""
    earned: list[str] = []
    if crossed(after.hands - hand.hands, after.hands, 1):
        earned.append("first_hand")
    if crossed(after.won_hands - hand.won_hands, after.won_hands, 1):
        earned.append("first_hand_won")
    if crossed(after.showdown_won_hands - hand.showdown_won_hands, after.showdown_won_hands, 1):
        earned.append("first_showdown_won")
    for threshold, code in ((1000, "hands_1000"), (10000, "hands_10000")):
        if crossed(after.hands - hand.hands, after.hands, threshold):
            earned.append(code)
    if crossed(level_before, level_after, 10):
        earned.append("level_10")
    return earned


# --- tournament points ----------------------------------------------------------------------

TOURNAMENT_POINTS_SCALE: Final = 100


def tournament_points(result: TournamentResult) -> int:
    """floor(100 x sqrt(entrants / place)) for a finish in the money, 0 otherwise: a win in
    a field of 100 is 1,000 points, 10th of 100 is 316, a heads-up win 141."""
    if result.prize <= 0:
        return 0
    if not 1 <= result.place <= result.entrants:
        raise ValueError(f"place {result.place} of {result.entrants}")
    return isqrt(TOURNAMENT_POINTS_SCALE**2 * result.entrants // result.place)


# --- leaderboards ---------------------------------------------------------------------------

Period = Literal["daily", "weekly", "monthly"]
PERIODS: Final[tuple[Period, ...]] = ("daily", "weekly", "monthly")
BOARD_CHARS_MAX: Final = 80


def period_key(period: Period, at_ms: int) -> str:
    """The UTC period containing ``at_ms``: ``d2026-12-02``, ``w2026-W49`` (ISO week),
    ``m2026-12``."""
    day = _dt.datetime.fromtimestamp(at_ms / 1000, tz=_dt.UTC).date()
    if period == "daily":
        return f"d{day.isoformat()}"
    if period == "weekly":
        year, week, _ = day.isocalendar()
        return f"w{year}-W{week:02d}"
    return f"m{day.year}-{day.month:02d}"


def xp_board() -> str:
    return "xp"


def net_board(asset: str, game: str, stake: str) -> str:
    return f"net:{asset}:{game}:{stake}"


def points_board() -> str:
    return "points"


@final
@dataclass(frozen=True, slots=True)
class ScoreDelta:
    board: str
    period: str
    player_id: int
    delta: int


def score_deltas(board: str, player_id: int, delta: int, at_ms: int) -> list[ScoreDelta]:
    return [ScoreDelta(board, period_key(p, at_ms), player_id, delta) for p in PERIODS]
