"""The statistics read from PHH agree with our engine's own account of the same hands
(poker.simulate.replay: its events name every check, call, bet, raise, fold and pot won)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from players.stats import hand_facts
from poker import phh
from poker.config import Variant
from poker.events import ActionKind, BoardDealt, PlayerActed, PotAwarded
from poker.simulate import replay
from tests.players.hands import simulated_hand


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    players=st.integers(2, 9),
    variant=st.sampled_from(list(Variant)),
    edge=st.booleans(),
)
def test_phh_statistics_match_the_engines_events(
    seed: int, players: int, variant: Variant, edge: bool
) -> None:
    hand = simulated_hand(seed, list(range(1, players + 1)), variant=variant, edge_cases=edge)
    events = replay(phh.loads(hand.phh_text)).events
    preflop = True
    vpip, pfr, folded, saw_flop = set(), set(), set(), set()
    bets: dict[int, int] = {}
    calls: dict[int, int] = {}
    awarded: set[int] = set()
    raises = 0  # preflop bets and raises so far (the blinds are not one)
    chance: set[int] = set()
    three_bet: set[int] = set()
    for event in events:
        match event:
            case BoardDealt() if preflop:
                preflop = False
                saw_flop = set(range(players)) - folded
            case PlayerActed(seat=seat, action=action):
                aggressive = action in (ActionKind.BET, ActionKind.RAISE)
                if preflop and raises == 1 and seat not in chance and seat not in pfr:
                    chance.add(seat)  # facing exactly the open raise (docs/players.md)
                    if aggressive:
                        three_bet.add(seat)
                if preflop and aggressive:
                    raises += 1
                if action is ActionKind.FOLD:
                    folded.add(seat)
                elif preflop and action is not ActionKind.CHECK:
                    vpip.add(seat)
                    if action in (ActionKind.BET, ActionKind.RAISE):
                        pfr.add(seat)
                elif not preflop and action in (ActionKind.BET, ActionKind.RAISE):
                    bets[seat] = bets.get(seat, 0) + 1
                elif not preflop and action is ActionKind.CALL:
                    calls[seat] = calls.get(seat, 0) + 1
            case PotAwarded(seat=seat, amount=amount) if (
                amount > 0
            ):  # a share of 0 chips wins nothing
                awarded.add(seat)
    showdown = players - len(folded) > 1
    for fact in hand_facts(hand):
        seat = fact.player_id - 1
        c = fact.counters
        went = showdown and seat not in folded and seat in saw_flop
        assert c.vpip_hands == int(seat in vpip), fact
        assert c.pfr_hands == int(seat in pfr), fact
        assert c.three_bet_chances == int(seat in chance), fact
        assert c.three_bet_hands == int(seat in three_bet), fact
        assert c.postflop_bets_raises == bets.get(seat, 0), fact
        assert c.postflop_calls == calls.get(seat, 0), fact
        assert c.saw_flop_hands == int(seat in saw_flop), fact
        assert c.showdown_hands == int(went), fact
        assert c.showdown_won_hands == int(went and seat in awarded), fact
