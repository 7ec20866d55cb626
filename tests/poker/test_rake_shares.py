"""Who paid the rake (poker/rake_shares.py): weighted contribution, whole chips, exact sums."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from poker.pots import build_pots
from poker.rake_shares import apportion, pot_contributions, rake_shares
from tests.poker import deal, play_out
from tests.poker.test_properties import PROPERTY_SETTINGS, SEEDS, _random_hand


def test_a_raked_pot_is_paid_in_proportion_to_what_each_put_in() -> None:
    # 4 players, 10% rake, no cap. Seat 0 all-in for 10; the rest put in 30 each.
    hand, _ = deal(
        [10, 30, 100, 100],
        hole={0: "AsAd", 1: "KsKd", 2: "QsQd", 3: "JsJd"},
        board="2c5d8h9s3c",
        rake_bp=1000,
    )
    hand.bet_or_raise_to(2, 30)
    hand.check_or_call(3)
    hand.check_or_call(0)
    hand.check_or_call(1)
    play_out(hand)
    result = hand.result
    # Pots: main 40 (rake 4), side 60 (rake 6); weights 10, 30, 30, 30 of 100.
    assert [(p.amount, p.rake) for p in result.pots] == [(40, 4), (60, 6)]
    shares = dict(zip(result.seats, rake_shares(result), strict=True))
    assert shares == {0: 1, 1: 3, 2: 3, 3: 3}
    assert sum(shares.values()) == result.rake == 10


def test_a_side_pot_the_cap_left_unraked_weighs_for_nobody() -> None:
    # 10% rake capped at 3: the main pot (30) takes the whole cap, the side pot (40) pays
    # nothing, so only the main pot's chips count: 10 from each player.
    hand, _ = deal(
        [10, 30, 30],
        hole={0: "AsAd", 1: "KsKd", 2: "QsQd"},
        board="2c5d8h9s3c",
        rake_bp=1000,
        rake_cap=3,
    )
    hand.bet_or_raise_to(2, 30)  # the button acts first, three-handed
    hand.check_or_call(0)
    hand.check_or_call(1)
    play_out(hand)
    result = hand.result
    assert [(p.amount, p.rake) for p in result.pots] == [(30, 3), (40, 0)]
    assert rake_shares(result) == (1, 1, 1)


def test_a_hand_without_rake_costs_nobody_anything() -> None:
    hand, _ = deal([100, 100], hole={0: "AsAd", 1: "KsKd"}, board="2c5d8h9s3c")
    play_out(hand)
    assert rake_shares(hand.result) == (0, 0)


def test_odd_chips_go_by_largest_remainder_then_first_left_of_the_button() -> None:
    # 10 split by weights 1, 1, 1: 3 each, one left, the lowest position takes it.
    assert apportion(10, [1, 1, 1]) == (4, 3, 3)
    # 10 by 2, 1, 0: exact 6.67, 3.33, 0 -> 6, 3 and the chip to the larger remainder.
    assert apportion(10, [2, 1, 0]) == (7, 3, 0)
    # 5 by 1, 3: 1.25, 3.75 -> 1, 3, the chip to the second (remainder .75 beats .25).
    assert apportion(5, [1, 3]) == (1, 4)


def test_apportion_refuses_weights_that_say_nothing() -> None:
    with pytest.raises(ValueError):
        apportion(3, [0, 0])
    with pytest.raises(ValueError):
        apportion(3, [1, -1])


@settings(deadline=None, max_examples=300)
@given(
    total=st.integers(min_value=0, max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=10).filter(
        any
    ),
)
def test_apportioned_shares_sum_exactly_and_stay_within_a_chip(
    total: int, weights: list[int]
) -> None:
    shares = apportion(total, weights)
    assert sum(shares) == total
    weight_sum = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert share >= 0
        # |share - exact| < 1, in integers: |share * W - total * w| < W
        assert abs(share * weight_sum - total * weight) < weight_sum
        if weight == 0:
            assert share == 0


@settings(deadline=None, max_examples=300)
@given(
    committed=st.lists(st.integers(min_value=0, max_value=500), min_size=2, max_size=10),
    live_seed=st.integers(min_value=0, max_value=2**32 - 1),
    dead=st.integers(min_value=0, max_value=20),
)
def test_pot_contributions_form_the_same_pots_as_build_pots(
    committed: list[int], live_seed: int, dead: int
) -> None:
    rng = random.Random(live_seed)
    live = [rng.random() < 0.6 for _ in committed]
    if not any(live):
        live[0] = True
    pots = build_pots(committed, live, dead)
    shares = pot_contributions(committed, live)
    assert len(shares) == len(pots)
    for index, ((amount, eligible), (chips, share_eligible)) in enumerate(
        zip(pots, shares, strict=True)
    ):
        assert sum(chips) + (dead if index == 0 else 0) == amount
        assert share_eligible == eligible
    # Every chip committed is in exactly one pot.
    assert [sum(column) for column in zip(*(c for c, _ in shares), strict=True)] == committed


@PROPERTY_SETTINGS
@given(seed=SEEDS)
def test_every_hands_rake_shares_sum_exactly_to_its_rake(seed: int) -> None:
    note(f"replay: _random_hand({seed})")
    steps = list(_random_hand(seed))
    result = steps[-1][0].result
    shares = rake_shares(result)
    assert len(shares) == len(result.seats)
    assert sum(shares) == result.rake
    assert all(share >= 0 for share in shares)
    raked = [pot for pot in result.pots if pot.rake]
    for position, share in enumerate(shares):
        if share and any(pot.contributions for pot in raked):
            # Nobody pays rake for a pot she put nothing into.
            assert any(pot.contributions[position] for pot in raked)
    for pot in result.pots:
        assert sum(pot.contributions) + pot.dead == pot.amount
