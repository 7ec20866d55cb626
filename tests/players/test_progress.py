"""Experience, levels, tournament points and periods (players/progress.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from players.progress import (
    LEVEL_MAX,
    Totals,
    hand_achievements,
    hand_xp,
    level_for_xp,
    period_key,
    tournament_points,
    xp_for_level,
)
from players.stats import StatCounters, TournamentResult


def test_each_level_costs_more_than_the_last() -> None:
    costs = [xp_for_level(level + 1) - xp_for_level(level) for level in range(1, 50)]
    assert costs == sorted(costs) and len(set(costs)) == len(costs)
    assert xp_for_level(1) == 0 and xp_for_level(2) == 500 and xp_for_level(3) == 1500


@given(st.integers(0, 10**12))
def test_level_for_xp_is_the_highest_level_reached(xp: int) -> None:
    level = level_for_xp(xp)
    assert 1 <= level <= LEVEL_MAX
    assert xp_for_level(level) <= xp
    if level < LEVEL_MAX:
        assert xp_for_level(level + 1) > xp


def test_hand_xp_counts_hands_and_real_money_rake() -> None:
    hand = StatCounters(hands=1, rake_paid=7)
    assert hand_xp(hand, "chips") == 17
    assert hand_xp(hand, "play") == 10


def test_tournament_points_follow_the_documented_formula() -> None:
    def result(place: int, entrants: int, prize: int) -> TournamentResult:
        return TournamentResult("t", 1, "chips", entrants, place, 10, prize, 0)

    assert tournament_points(result(1, 100, 500)) == 1000
    assert tournament_points(result(10, 100, 20)) == 316
    assert tournament_points(result(1, 2, 20)) == 141
    assert tournament_points(result(50, 100, 0)) == 0


def test_periods_are_utc_days_iso_weeks_and_months() -> None:
    at = 1_764_633_600_000  # 2025-12-02 00:00:00 UTC
    assert period_key("daily", at) == "d2025-12-02"
    assert period_key("daily", at - 1) == "d2025-12-01"
    assert period_key("weekly", at) == "w2025-W49"
    assert period_key("monthly", at) == "m2025-12"


def test_achievements_are_earned_by_the_hand_that_crosses_their_threshold() -> None:
    won = StatCounters(hands=1, won_hands=1, showdown_won_hands=1)
    assert hand_achievements(won, Totals(1, 1, 1), 1, 1) == [
        "first_hand", "first_hand_won", "first_showdown_won",
    ]  # fmt: skip
    lost = StatCounters(hands=1)
    assert hand_achievements(lost, Totals(1000, 3, 2), 9, 10) == ["hands_1000", "level_10"]
    assert hand_achievements(lost, Totals(1001, 3, 2), 10, 10) == []
