"""Final-table deals: ICM (Malmuth-Harville, exact by DP over subsets) and chip-chop."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poker.tournament import (
    DealRefused,
    chip_chop,
    icm_deal,
    icm_equities,
    icm_equities_brute_force,
    keep_off_the_top,
)


def prize_lists(n: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, 10**6), min_size=n, max_size=n).map(
        lambda prizes: sorted(prizes, reverse=True)
    )


@st.composite
def fields(draw: st.DrawFn, max_players: int = 6) -> tuple[list[int], list[int]]:
    n = draw(st.integers(1, max_players))
    stacks = draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n))
    return stacks, draw(prize_lists(n))


@settings(deadline=None)
@given(fields())
def test_icm_equals_brute_force_for_small_fields(field: tuple[list[int], list[int]]) -> None:
    stacks, prizes = field
    assert icm_equities(stacks, prizes) == icm_equities_brute_force(stacks, prizes)


@settings(max_examples=3, deadline=None)
@given(st.lists(st.integers(1, 10**6), min_size=7, max_size=7), prize_lists(7))
def test_icm_equals_brute_force_at_seven_players(stacks: list[int], prizes: list[int]) -> None:
    assert icm_equities(stacks, prizes) == icm_equities_brute_force(stacks, prizes)


def test_icm_runs_exactly_for_ten_players() -> None:
    stacks = [10_000 * (k + 1) for k in range(10)]
    prizes = [3000, 2000, 1500, 1000, 800, 600, 400, 300, 250, 150]
    equities = icm_equities(stacks, prizes)
    assert sum(equities) == sum(prizes)
    assert equities == sorted(equities)  # more chips, more equity


def test_icm_of_two_players_is_the_chip_share_of_the_difference() -> None:
    # Heads-up: P(first) = chip share, so 1st 100, 2nd 0 with stacks 3:1 -> 75 / 25.
    assert icm_equities([300, 100], [100, 0]) == [Fraction(75), Fraction(25)]


def test_icm_refuses_more_than_ten_players() -> None:
    with pytest.raises(DealRefused):
        icm_equities([1] * 11, [0] * 11)


@given(fields(max_players=8), st.integers(0, 10**6))
@settings(deadline=None, max_examples=60)
def test_a_deal_sums_to_what_is_left(field: tuple[list[int], list[int]], keep: int) -> None:
    stacks, prizes = field
    keep = min(keep, sum(prizes))
    for deal in (icm_deal, chip_chop):
        amounts = deal(stacks, prizes, keep)
        assert sum(amounts) == sum(prizes) - keep
        assert all(a >= 0 for a in amounts)


def test_chip_chop_gives_the_lowest_prize_plus_a_chip_share_of_the_rest() -> None:
    # Prizes 500/300/200: each gets 200, and the remaining 400 by chips 50/30/20%.
    assert chip_chop([5_000, 3_000, 2_000], [500, 300, 200]) == [400, 320, 280]


def test_deal_rounding_gives_leftover_chips_to_the_largest_fractions() -> None:
    amounts = icm_deal([1, 1, 1], [2, 0, 0])
    assert sorted(amounts) == [0, 1, 1] and sum(amounts) == 2


def test_keeping_chips_to_play_for_flattens_the_top_prizes() -> None:
    assert keep_off_the_top([500, 300, 200], 100) == [400, 300, 200]
    assert keep_off_the_top([500, 300, 200], 300) == [250, 250, 200]
    assert keep_off_the_top([500, 300, 200], 1_000) == [0, 0, 0]
    with pytest.raises(DealRefused):
        keep_off_the_top([500, 300, 200], 1_001)


@settings(deadline=None)
@given(prize_lists(6), st.integers(0, 6 * 10**6))
def test_keeping_takes_exactly_what_is_kept_and_stays_non_increasing(
    prizes: list[int], keep: int
) -> None:
    keep = min(keep, sum(prizes))
    left = keep_off_the_top(prizes, keep)
    assert sum(prizes) - sum(left) == keep
    assert all(a >= b for a, b in itertools.pairwise(left))
    assert all(0 <= a <= b for a, b in zip(left, prizes, strict=True))
