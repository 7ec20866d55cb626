"""Every strategy answers every legal record with a decision the record allows."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from loadtest.strategies import (
    MIX_ORDER,
    STRATEGIES,
    CallingStation,
    Decision,
    TightAggressive,
    hand_score,
    strategy_for,
)
from protocol.game import Legal


@st.composite
def betting_legal(draw: st.DrawFn) -> Legal:
    to_call = draw(st.one_of(st.none(), st.integers(1, 500)))
    can_raise = draw(st.booleans())
    low = draw(st.integers(2, 1000))
    high = low + draw(st.integers(0, 5000))
    return Legal(
        fold=to_call is not None,
        check=to_call is None,
        call=to_call,
        min_raise_to=low if can_raise else None,
        max_raise_to=high if can_raise else None,
    )


def allowed(legal: Legal, decision: Decision) -> bool:
    match decision.action:
        case "fold":
            return legal.fold
        case "check_or_call":
            return legal.check or legal.call is not None
        case "bet_or_raise_to":
            low, high = legal.min_raise_to, legal.max_raise_to
            return low is not None and high is not None and low <= decision.amount <= high
        case "show":
            return legal.show
        case "muck":
            return legal.muck
        case "run_it_twice":
            return legal.run_it_twice
    return False


@settings(max_examples=300, deadline=None)
@given(legal=betting_legal(), seed=st.integers(0, 2**32), cards=st.sampled_from(["AsAd", "7c2d"]))
def test_every_strategy_only_takes_legal_betting_actions(
    legal: Legal, seed: int, cards: str
) -> None:
    hole = (cards[:2], cards[2:])
    for strategy in STRATEGIES.values():
        decision = strategy.decide(legal, hole, random.Random(seed))
        assert allowed(legal, decision), (strategy.name, legal, decision)


@given(show=st.booleans(), muck=st.booleans(), rit=st.booleans(), seed=st.integers(0, 2**32))
def test_showdown_and_run_it_twice_offers_get_an_answer_they_allow(
    show: bool, muck: bool, rit: bool, seed: int
) -> None:
    legal = Legal(show=show, muck=muck, run_it_twice=rit)
    for strategy in STRATEGIES.values():
        decision = strategy.decide(legal, (), random.Random(seed))
        if show or muck or rit:
            assert allowed(legal, decision), (strategy.name, legal, decision)


def test_calling_station_never_folds_when_it_can_call() -> None:
    decision = CallingStation().decide(Legal(fold=True, call=40), ("7c", "2d"), random.Random(1))
    assert decision == Decision("check_or_call")


def test_tight_aggressive_folds_junk_to_a_bet_and_never_folds_a_free_check() -> None:
    tag = TightAggressive()
    facing_bet = Legal(fold=True, call=10, min_raise_to=20, max_raise_to=200)
    assert tag.decide(facing_bet, ("7c", "2d"), random.Random(1)).action == "fold"
    free = Legal(check=True, min_raise_to=2, max_raise_to=200)
    assert tag.decide(free, ("7c", "2d"), random.Random(1)).action == "check_or_call"


def test_tight_aggressive_raises_aces_most_of_the_time() -> None:
    rng = random.Random(7)
    legal = Legal(fold=True, call=10, min_raise_to=20, max_raise_to=200)
    actions = [TightAggressive().decide(legal, ("As", "Ad"), rng).action for _ in range(200)]
    assert actions.count("bet_or_raise_to") > 100
    assert "fold" not in actions


def test_pairs_and_broadway_cards_score_above_junk() -> None:
    assert hand_score(("As", "Ad")) > hand_score(("Ks", "Qd")) > hand_score(("7c", "2d"))
    assert hand_score(("6s", "6d")) >= TightAggressive().score_to_play


def test_mix_deals_the_four_strategies_in_turn() -> None:
    names = [strategy_for("mix", i).name for i in range(8)]
    assert names == [*MIX_ORDER, *MIX_ORDER]
    assert strategy_for("station", 3).name == "station"


def test_only_the_flaky_strategy_disconnects() -> None:
    flaky = {name for name, s in STRATEGIES.items() if s.disconnect_chance > 0}
    assert flaky == {"flaky"}
