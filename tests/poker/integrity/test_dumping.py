"""Chip-dumping flags (poker/integrity/dumping.py): the method of docs/integrity.md."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poker.integrity import (
    DumpingThresholds,
    SeatedHand,
    SeatedPlayer,
    big_blind_of,
    find_dumping,
    pair_flows,
)
from poker.integrity.dumping import sign_test_bound
from tests.poker.integrity.generated import DUMPEE, DUMPER, generate_room


def hand(number: int, *nets: tuple[int, int], game: str = "NT 1/2") -> SeatedHand:
    return SeatedHand(
        hand_id=f"h{number}",
        table_id="t1",
        game=game,
        asset="chips",
        ended_at_ms=number * 1000,
        players=tuple(SeatedPlayer(p, n) for p, n in nets),
    )


def test_one_winner_is_paid_by_every_loser_exactly() -> None:
    flows = pair_flows(hand(1, (1, -10), (2, -4), (3, 13), (4, 0)))  # 1 chip of rake
    assert flows == {(1, 3): Fraction(130, 14), (2, 3): Fraction(52, 14)}
    assert sum(flows.values()) == 13  # what the winner won


def test_a_split_pot_shares_each_loss_by_what_each_winner_won() -> None:
    flows = pair_flows(hand(1, (1, -30), (2, 20), (3, 10)))
    assert flows == {(1, 2): 20, (1, 3): 10}


def test_a_hand_nobody_lost_has_no_flows() -> None:
    assert pair_flows(hand(1, (1, 0), (2, 0))) == {}


@given(
    st.lists(st.integers(-10_000, 10_000), min_size=2, max_size=10),
)
def test_flows_add_up_to_every_winners_win(nets: list[int]) -> None:
    flows = pair_flows(hand(1, *enumerate(nets)))
    for player, net in enumerate(nets):
        if net > 0 and any(n < 0 for n in nets):
            assert sum(f for (_, to), f in flows.items() if to == player) == net
        if net <= 0:
            assert not any(to == player for _, to in flows)
    assert all(f > 0 for f in flows.values())


@pytest.mark.parametrize(
    ("game", "big_blind"),
    [("NT 1/2", 2), ("PO 5/10", 10), ("FT 2/4", 4), ("NT", 1), ("", 1), ("NT 0/0", 1)],
)
def test_big_blind_comes_from_the_summary_stakes(game: str, big_blind: int) -> None:
    assert big_blind_of(game) == big_blind


def steady_dumping(hands: int, each: int) -> list[SeatedHand]:
    return [hand(i, (1, -each), (2, each)) for i in range(hands)]


def test_a_steady_one_way_flow_is_flagged_with_its_hands_newest_first() -> None:
    report = find_dumping(steady_dumping(12, 20))  # 12 hands of 10 bb: 120 bb
    (flag,) = report.flags
    assert (flag.giver, flag.receiver, flag.flag_id) == (1, 2, "dumping:chips:1:2")
    assert (flag.contested_hands, flag.giver_losing_hands, flag.hands_together) == (12, 12, 12)
    assert (flag.chips_to_receiver, flag.chips_to_giver, flag.net_bb) == (240, 0, 120.0)
    assert flag.one_way_share == 1.0
    assert flag.p_value == pytest.approx(math.exp(-6))  # 120^2 / (2 * 12 * 10^2)
    assert report.p_value_max == 0.01  # one pair
    assert [h.hand_id for h in flag.hands] == [f"h{i}" for i in range(11, -1, -1)]
    assert all(h.chips == 20 and h.bb == 10.0 for h in flag.hands)


def test_too_few_contested_hands_are_not_a_flag() -> None:
    assert not find_dumping(steady_dumping(9, 100)).flags


def test_a_two_way_flow_is_not_a_flag() -> None:
    hands = steady_dumping(20, 20) + [hand(100 + i, (1, 16), (2, -16)) for i in range(20)]
    assert not find_dumping(hands).flags  # share 20/36


def test_one_big_pot_among_small_ones_is_a_cooler_not_a_flag() -> None:
    hands = [hand(0, (1, -400), (2, 400)), *steady_dumping(12, 2)[1:]]  # 200 bb + 11 bb
    assert not find_dumping(hands).flags
    assert sign_test_bound(211, 200**2 + 11) > 0.5


def test_the_sign_test_needs_more_hands_when_more_pairs_are_tested() -> None:
    noise = [hand(1000 + i, (10 + i, -2), (11 + i, 2)) for i in range(99)]  # 99 more pairs
    assert not find_dumping(steady_dumping(12, 20) + noise).flags  # e^-6 > 0.01 / 100
    assert find_dumping(steady_dumping(24, 20) + noise).flags  # e^-12 < 0.01 / 100


def test_stakes_are_counted_in_each_hands_big_blinds() -> None:
    small = [hand(i, (1, -10), (2, 10), game="NT 5/10") for i in range(12)]  # 12 bb in all
    assert not find_dumping(small).flags
    assert find_dumping(small, DumpingThresholds(net_bb_min=12)).flags


def test_play_money_and_real_money_are_separate_pairs() -> None:
    hands = steady_dumping(6, 100) + [
        SeatedHand(
            f"p{i}", "t9", "NT 1/2", "play", i, (SeatedPlayer(1, -200), SeatedPlayer(2, 200))
        )
        for i in range(6)
    ]
    assert not find_dumping(hands).flags


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_planted_dumping_is_found_and_no_honest_pair_is_flagged(seed: int) -> None:
    room = generate_room(seed)
    report = find_dumping(room.hands)
    flagged = {(f.giver, f.receiver) for f in report.flags}
    assert flagged == {(DUMPER, DUMPEE)}, f"seed {seed}: {report.flags}"
    assert report.pairs_with_flows > 500  # the honest pairs were all looked at


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_an_honest_room_has_no_flags(seed: int) -> None:
    room = generate_room(seed, plant_dumpers=False)
    assert not find_dumping(room.hands).flags, f"seed {seed}"


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_a_better_honest_player_is_not_flagged(seed: int) -> None:
    # She wins 60% of her pots against everyone: chips flow her way from many players, not
    # one way between two (docs/integrity.md: what the method does not know).
    room = generate_room(seed, plant_dumpers=False, plant_colluders=False, shark=7)
    assert not find_dumping(room.hands).flags, f"seed {seed}"


@pytest.mark.parametrize(
    "bad",
    [
        {"contested_hands_min": 0},
        {"one_way_share_min": 0.4},
        {"one_way_share_min": 1.1},
        {"net_bb_min": 0},
        {"alpha": 0},
        {"alpha": 1},
    ],
)
def test_thresholds_out_of_range_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DumpingThresholds(**bad)  # type: ignore[arg-type]


def test_a_player_dealt_in_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        hand(1, (1, -2), (1, 2))


@given(
    st.lists(
        st.tuples(
            st.integers(1, 4),
            st.integers(1, 4),
            st.integers(1, 400),
            st.sampled_from(["1/2", "5/10"]),
        ),
        max_size=80,
    ),
    st.integers(1, 15),
)
def test_every_flag_meets_every_threshold_and_its_figures_add_up(
    pots: list[tuple[int, int, int, str]], hands_min: int
) -> None:
    hands = [
        hand(i, (loser, -amount), (winner, amount), game=f"NT {stakes}")
        for i, (loser, winner, amount, stakes) in enumerate(pots)
        if loser != winner
    ]
    thresholds = DumpingThresholds(contested_hands_min=hands_min, net_bb_min=5, alpha=0.5)
    report = find_dumping(hands, thresholds)
    for flag in report.flags:
        assert flag.contested_hands >= hands_min and flag.net_bb >= 5
        assert flag.one_way_share >= 0.8 and flag.p_value <= report.p_value_max
        assert len(flag.hands) == flag.contested_hands <= flag.hands_together
        assert sum(h.chips for h in flag.hands) == flag.chips_to_receiver - flag.chips_to_giver
        assert sum(1 for h in flag.hands if h.chips > 0) == flag.giver_losing_hands


def test_sums_over_many_odd_shares_stay_integers_to_a_millionth_of_a_chip() -> None:
    # Three-way pots: each flow has its own denominator; the exact sum's would grow without
    # bound, the report keeps millionths of a chip and rounds the total. One chip of rake.
    hands = [
        hand(i, (1, -(7 + i % 13)), (3, -(5 + i % 7)), (2, 11 + i % 13 + i % 7))
        for i in range(3000)
    ]
    exact = sum(pair_flows(h)[(1, 2)] for h in hands)
    (flag,) = [f for f in find_dumping(hands).flags if (f.giver, f.receiver) == (1, 2)]
    assert flag.chips_to_receiver == round(exact)
