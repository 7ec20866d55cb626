"""Finishing places and bounties: same-hand eliminations, ties, hand-for-hand sharing,
knockouts split by the pot that held the last chips, regular and progressive bounties."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from poker.events import PotShare
from poker.showdown import Award, PotResult
from poker.tournament import (
    BountyAward,
    BountyKind,
    knockout_shares,
    order_busts,
    payouts,
    place_groups,
    settle_bounty,
    split_by_weight,
)


def test_same_hand_eliminations_finish_by_starting_stack_wsop_126b() -> None:
    # Three out at one table: the larger stack at the start of the hand finishes higher.
    groups = order_busts([(1, 500), (2, 2_000), (3, 1_000)])
    assert groups == [[2], [3], [1]]
    placed = place_groups(groups, remaining_before=10, prizes=[0] * 10)
    assert [(p.entry, p.place) for p in placed] == [(2, 8), (3, 9), (1, 10)]


def test_equal_starting_stacks_share_the_places_and_their_prizes() -> None:
    prizes = [500, 300, 201]
    placed = place_groups(order_busts([(7, 1_000), (8, 1_000)]), 3, prizes)
    # Two out with three left: they share 2nd and 3rd, (300 + 201) / 2, odd chip to the first.
    assert [(p.entry, p.place, p.tied, p.prize) for p in placed] == [
        (7, 2, 2, 251),
        (8, 2, 2, 250),
    ]


def test_hand_for_hand_busts_share_the_places_paid_tda_rp_8() -> None:
    # TDA RP-8A: 52 left, 50 paid, 3 out on the hand: all three share the 50th place prize.
    prizes = payouts(500_000, 333)
    assert len(prizes) == 50
    placed = place_groups([[11, 12, 13]], remaining_before=52, prizes=prizes)
    assert {p.place for p in placed} == {50}
    assert sum(p.prize for p in placed) == prizes[49]
    assert max(p.prize for p in placed) - min(p.prize for p in placed) <= 1


def pot(amount: int, eligible: tuple[int, ...], *awards: tuple[int, int]) -> PotResult:
    return PotResult(
        amount=amount,
        rake=0,
        eligible=eligible,
        awards=tuple(Award(0, PotShare.WHOLE, seat, chips) for seat, chips in awards),
    )


def test_the_bounty_goes_to_the_winner_of_the_pot_holding_the_last_chips() -> None:
    # Seat 1 all-in for the main pot only: seat 2 wins the main pot, seat 3 the side pot.
    pots = [pot(300, (1, 2, 3), (2, 300)), pot(400, (2, 3), (3, 400))]
    assert knockout_shares(pots, 1) == [(2, 300)]
    # Seat 2 was in the side pot too: its last chips were there, seat 3 knocked it out.
    assert knockout_shares(pots, 2) == [(3, 400)]


def test_a_split_pot_splits_the_bounty_by_what_each_won_of_it() -> None:
    pots = [pot(301, (1, 2, 3), (2, 151), (3, 150))]
    shares = knockout_shares(pots, 1)
    assert settle_bounty(BountyKind.REGULAR, 100, shares) == [
        BountyAward(winner=2, cash=50, head=0),
        BountyAward(winner=3, cash=50, head=0),
    ]


def test_progressive_knockout_pays_half_and_adds_half_to_the_eliminators_head() -> None:
    assert settle_bounty(BountyKind.PROGRESSIVE, 101, [(4, 1)]) == [
        BountyAward(winner=4, cash=50, head=51)  # the odd chip stays on the head
    ]


def test_no_bounty_event_pays_nothing() -> None:
    assert settle_bounty(BountyKind.NONE, 100, [(4, 1)]) == []


@settings(deadline=None)
@given(
    st.integers(0, 10**9),
    st.lists(st.integers(1, 10**6), min_size=1, max_size=10),
)
def test_split_by_weight_sums_exactly(amount: int, weights: list[int]) -> None:
    shares = split_by_weight(amount, list(enumerate(weights)))
    assert sum(share for _, share in shares) == amount
    total = sum(weights)
    for (_, share), weight in zip(shares, weights, strict=True):
        assert abs(share - amount * weight / total) < 1 + 1e-9


@settings(deadline=None)
@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=9), st.integers(1, 50))
def test_places_are_the_bottom_ones_and_each_is_given(stacks: list[int], extra: int) -> None:
    remaining = len(stacks) + extra
    prizes = payouts(remaining * 100, remaining)
    placed = place_groups(order_busts(list(enumerate(stacks))), remaining, prizes)
    covered = sorted(p.place + k for p in placed for k in range(p.tied) if p.place + k)
    assert len({p.entry for p in placed}) == len(stacks)
    assert set(covered) == set(range(extra + 1, remaining + 1))
