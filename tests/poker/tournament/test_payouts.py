"""Prize pools and payout tables: fixed sit-and-go tables, the MTT generator, guarantees."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poker.tournament import (
    HEADS_UP,
    MTT,
    SNG_6MAX,
    SNG_9MAX,
    PayoutConfig,
    PayoutInvalid,
    PayoutKind,
    nice_amount,
    paid_places,
    payouts,
    prize_pool,
    split_places,
)


def test_nine_max_sit_and_go_pays_50_30_20() -> None:
    assert payouts(9_000, 9, SNG_9MAX) == [4_500, 2_700, 1_800]


def test_six_max_sit_and_go_pays_65_35() -> None:
    assert payouts(6_000, 6, SNG_6MAX) == [3_900, 2_100]


def test_heads_up_pays_the_winner_everything() -> None:
    assert payouts(2_000, 2, HEADS_UP) == [2_000]


def test_fixed_table_rounding_remainder_goes_to_first() -> None:
    assert payouts(1_001, 9, SNG_9MAX) == [501, 300, 200]


def test_fixed_table_never_pays_more_places_than_entrants() -> None:
    assert payouts(1_000, 2, SNG_9MAX) == [700, 300]


def test_fixed_shares_must_sum_to_the_whole_pool() -> None:
    with pytest.raises(PayoutInvalid, match="sum to"):
        PayoutConfig(kind=PayoutKind.FIXED, shares_bp=(5000, 3000))
    with pytest.raises(PayoutInvalid, match="must not increase"):
        PayoutConfig(kind=PayoutKind.FIXED, shares_bp=(3000, 7000))


def test_about_fifteen_percent_of_the_field_is_paid_by_default() -> None:
    assert paid_places(1_000) == 150
    assert len(payouts(100_000, 1_000)) == 150
    assert len(payouts(100_000, 1_000, PayoutConfig(paid_bp=1000))) == 100


def test_guarantee_overlay_is_the_house_top_up() -> None:
    assert prize_pool(collected=7_000, guarantee=10_000).overlay == 3_000
    assert prize_pool(collected=12_000, guarantee=10_000).pool == 12_000
    assert prize_pool(collected=12_000, guarantee=10_000).overlay == 0


def test_a_small_field_pays_like_a_sit_and_go() -> None:
    assert payouts(2_000, 20) == [1_001, 570, 429]  # 3 paid: about 50/30/20


@pytest.mark.parametrize("entrants", [100, 1_000, 10_000])
def test_first_place_lies_in_the_usual_band(entrants: int) -> None:
    pool = entrants * 100
    prizes = payouts(pool, entrants)
    assert 0.15 <= prizes[0] / pool <= 0.31


def test_the_last_paid_place_gets_at_least_the_buy_in() -> None:
    prizes = payouts(100 * 1_000, 1_000)
    assert prizes[-1] >= 100


@settings(deadline=None)
@given(
    pool=st.integers(min_value=0, max_value=10**10),
    entrants=st.integers(min_value=1, max_value=20_000),
    paid_bp=st.integers(min_value=1, max_value=10_000),
)
def test_generated_payouts_are_non_increasing_and_sum_to_the_pool(
    pool: int, entrants: int, paid_bp: int
) -> None:
    prizes = payouts(pool, entrants, PayoutConfig(paid_bp=paid_bp))
    assert sum(prizes) == pool
    assert all(a >= b for a, b in itertools.pairwise(prizes))
    assert all(p > 0 for p in prizes)
    assert len(prizes) <= entrants


@settings(deadline=None)
@given(pool=st.integers(min_value=0, max_value=10**9), entrants=st.integers(1, 12))
def test_fixed_payouts_sum_to_the_pool(pool: int, entrants: int) -> None:
    for config in (SNG_9MAX, SNG_6MAX, HEADS_UP):
        prizes = payouts(pool, entrants, config)
        assert sum(prizes) == pool
        assert all(a >= b for a, b in itertools.pairwise(prizes))


@settings(deadline=None)
@given(st.integers(0, 10**12), st.integers(0, 10**12))
def test_nice_rounding_is_monotone_and_never_rounds_up(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert nice_amount(low) <= nice_amount(high)
    assert nice_amount(high) <= high


def test_nice_amounts_have_three_significant_figures_in_steps_of_five() -> None:
    assert nice_amount(999) == 999
    assert nice_amount(12_349) == 12_300
    assert nice_amount(12_399) == 12_350
    assert nice_amount(123_456) == 123_000
    assert nice_amount(1_239_999) == 1_235_000


def test_tied_places_share_their_prizes_equally() -> None:
    assert split_places([100, 50, 31, 0], 3, 2) == [16, 15]
    assert split_places([100, 50, 30], 2, 2) == [40, 40]


def test_refuses_negative_amounts() -> None:
    with pytest.raises(PayoutInvalid):
        payouts(-1, 10, MTT)
    with pytest.raises(PayoutInvalid):
        prize_pool(-1)
