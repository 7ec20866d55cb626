"""The statistics core (players/stats.py), against docs/players.md's definitions."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from players.stats import (
    STAT_FIELDS,
    FinishedHand,
    StakeKey,
    StatCounters,
    figures,
    hand_facts,
    rebuild,
    stake_key,
)
from poker.config import Variant
from tests.players.hands import scripted_hand, simulated_hand

DEAL3 = ["d dh p1 ????", "d dh p2 ????", "d dh p3 ????"]


def _by_player(hand: FinishedHand) -> dict[int, StatCounters]:
    return {f.player_id: f.counters for f in hand_facts(hand)}


def test_big_blind_checking_is_not_voluntary() -> None:
    # p1 small blind completes, p2 big blind checks, p3 (button) folds first.
    hand = scripted_hand([*DEAL3, "p3 f", "p1 cc", "p2 cc", "d db AhKh2c", "p1 cc", "p2 cc",
                          "d db 3d", "p1 cc", "p2 cc", "d db 4s", "p1 cc", "p2 cc",
                          "p1 sm AsAd", "p2 sm"], [2, -2, 0])  # fmt: skip
    c = _by_player(hand)
    assert c[1].vpip_hands == 1 and c[1].pfr_hands == 0
    assert c[2].vpip_hands == 0  # the big blind's check
    assert c[3].vpip_hands == 0 and c[3].saw_flop_hands == 0
    assert c[1].showdown_hands == c[2].showdown_hands == 1
    assert c[1].showdown_won_hands == 1 and c[2].showdown_won_hands == 0
    assert c[1].postflop_calls == 0  # checks are not calls


def test_open_raise_gives_the_others_a_three_bet_chance() -> None:
    # p3 opens to 6, p1 folds, p2 re-raises to 18 (a 3-bet), p3 folds.
    hand = scripted_hand([*DEAL3, "p3 cbr 6", "p1 f", "p2 cbr 18", "p3 f"], [-1, 7, -6])
    c = _by_player(hand)
    assert c[3].pfr_hands == 1 and c[3].three_bet_chances == 0
    assert c[1].three_bet_chances == 1 and c[1].three_bet_hands == 0
    assert c[2].three_bet_chances == 1 and c[2].three_bet_hands == 1 and c[2].pfr_hands == 1
    assert all(x.saw_flop_hands == 0 and x.showdown_hands == 0 for x in c.values())
    assert c[2].won_hands == 1


def test_postflop_bets_raises_and_calls_make_the_aggression_factor() -> None:
    hand = scripted_hand([*DEAL3, "p3 cc", "p1 cc", "p2 cc", "d db AhKh2c", "p1 cbr 4",
                          "p2 cbr 12", "p3 f", "p1 cc", "d db 3d", "p1 cc", "p2 cbr 10", "p1 f"],
                         [-14, 16, -2])  # fmt: skip
    c = _by_player(hand)
    assert (c[1].postflop_bets_raises, c[1].postflop_calls) == (1, 1)
    assert (c[2].postflop_bets_raises, c[2].postflop_calls) == (2, 0)
    assert c[3].vpip_hands == 1 and c[3].saw_flop_hands == 1
    assert c[2].showdown_hands == 0  # won uncontested
    assert figures(c[1]).aggression_factor == 1.0


def test_an_uncalled_bet_back_is_not_a_showdown_win() -> None:
    # p1 all-in for 50; p2 bets 150, 100 of it uncalled and returned; p1 wins the showdown.
    hand = scripted_hand(["d dh p1 ????", "d dh p2 ????", "p2 cbr 150", "p1 cc",
                          "d db AhKh2c", "d db 3d", "d db 4s", "p1 sm AsAd", "p2 sm"],
                         [50, -50], stacks=(50, 300))  # fmt: skip
    c = _by_player(hand)
    assert c[1].showdown_won_hands == 1
    assert c[2].showdown_won_hands == 0


def test_bb_per_100_counts_big_blinds_won() -> None:
    counters = StatCounters(hands=200, big_blinds_won_centi=1000)  # 10 bb in 200 hands
    assert figures(counters).bb_per_100 == 5.0


def test_stake_key_reads_the_game() -> None:
    assert stake_key("PO 5/10", "play") == StakeKey("play", "PO", "5/10")
    assert stake_key("NT 1/2", "chips").big_blind == 2


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    players=st.integers(2, 9),
    variant=st.sampled_from(list(Variant)),
    edge=st.booleans(),
)
def test_counters_are_consistent_on_random_hands(
    seed: int, players: int, variant: Variant, edge: bool
) -> None:
    hand = simulated_hand(seed, list(range(1, players + 1)), variant=variant, edge_cases=edge)
    facts = hand_facts(hand)
    assert sorted(f.player_id for f in facts) == list(range(1, players + 1))
    assert sum(f.counters.net_won for f in facts) == 0  # no rake in simulated hands
    for f in facts:
        c = f.counters
        assert c.hands == 1
        assert c.pfr_hands <= c.vpip_hands
        assert c.three_bet_hands <= c.three_bet_chances <= 1
        assert c.showdown_won_hands <= c.showdown_hands <= c.saw_flop_hands
        assert c.won_hands == int(c.net_won > 0)
    showdown = [f for f in facts if f.counters.showdown_hands]
    assert len(showdown) != 1  # a showdown takes two
    if showdown:
        assert any(f.counters.showdown_won_hands for f in showdown)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32), order_seed=st.integers(0, 2**16))
def test_rebuild_is_order_free_and_counts_each_hand_once(seed: int, order_seed: int) -> None:
    rng = random.Random(seed)
    hands = [
        simulated_hand(rng.randrange(2**32), rng.sample(range(1, 8), rng.randint(2, 6)),
                       hand_id=f"h{i}")
        for i in range(12)
    ]  # fmt: skip
    shuffled = hands + hands[:5]  # replays of the same hand ids change nothing
    random.Random(order_seed).shuffle(shuffled)
    assert rebuild(shuffled) == rebuild(hands)
    total = rebuild(hands)
    assert sum(c.hands for c in total.values()) == sum(len(h.outcomes) for h in hands)


def test_counters_add_field_by_field() -> None:
    a = StatCounters(*range(len(STAT_FIELDS)))
    assert a.plus(a) == StatCounters(*(2 * i for i in range(len(STAT_FIELDS))))
