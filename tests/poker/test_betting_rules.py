"""Betting: minimum bets and raises, short all-ins (WSOP rule 96), pot limit, fixed limit."""

from __future__ import annotations

import pytest

from poker import (
    AmountNotAllowed,
    AmountTooLarge,
    AmountTooSmall,
    CannotFold,
    CannotRaise,
    Hand,
    HandIsOver,
    NotYourTurn,
    UnknownSeat,
    Variant,
    WrongPhase,
)
from poker.events import ActionKind, PlayerActed, UncalledBetReturned
from tests.poker import deal, of_type


def _limp_to_flop(hand: Hand) -> None:
    while len(hand.board) < 3:
        seat = hand.actor
        assert seat is not None
        hand.check_or_call(seat)


def test_minimum_bet_is_the_big_blind() -> None:
    hand, _ = deal([100, 100, 100])
    _limp_to_flop(hand)
    legal = hand.legal_actions()
    assert (legal.seat, legal.check, legal.min_raise_to, legal.max_raise_to) == (0, True, 2, 98)
    with pytest.raises(AmountTooSmall):
        hand.bet_or_raise_to(0, 1)


def test_minimum_raise_is_the_last_full_bet_or_raise() -> None:
    hand, _ = deal([500, 500, 500])
    _limp_to_flop(hand)
    hand.bet_or_raise_to(0, 10)
    assert hand.legal_actions().min_raise_to == 20
    hand.bet_or_raise_to(1, 30)  # a raise of 20
    assert hand.legal_actions().min_raise_to == 50
    with pytest.raises(AmountTooSmall):
        hand.bet_or_raise_to(2, 49)


def test_all_in_for_less_than_a_minimum_raise_is_allowed() -> None:
    hand, _ = deal([100, 100, 5])
    legal = hand.legal_actions()
    assert (legal.seat, legal.min_raise_to, legal.max_raise_to) == (2, 4, 5)
    hand2, _ = deal([100, 100, 3])
    legal = hand2.legal_actions()
    assert (legal.min_raise_to, legal.max_raise_to) == (3, 3)
    events = hand2.bet_or_raise_to(2, 3)
    acted = of_type(events, PlayerActed)[0]
    assert (acted.action, acted.all_in) == (ActionKind.RAISE, True)


def test_short_all_in_does_not_reopen_betting() -> None:
    hand, _ = deal([1000, 1000, 702])
    _limp_to_flop(hand)
    hand.bet_or_raise_to(0, 500)
    hand.check_or_call(1)
    hand.bet_or_raise_to(2, 700)  # all-in, a raise of 200 < 500
    legal = hand.legal_actions()
    assert (legal.seat, legal.call) == (0, 200)
    assert legal.min_raise_to is None
    with pytest.raises(CannotRaise):
        hand.bet_or_raise_to(0, 1200)


def test_short_all_in_lets_players_who_have_not_acted_raise() -> None:
    hand, _ = deal([1000, 1000, 702, 2000])
    _limp_to_flop(hand)
    hand.bet_or_raise_to(0, 500)
    hand.check_or_call(1)
    hand.bet_or_raise_to(2, 700)
    legal = hand.legal_actions()
    assert legal.seat == 3
    assert legal.min_raise_to == 1200  # the last full raise (500) still sets the size


def test_consecutive_short_all_ins_reopen_betting() -> None:
    # WSOP tournament rule 96a, the rule's own example (after everyone limps preflop).
    hand, _ = deal([10_002, 10_002, 10_002, 1302, 1702])
    _limp_to_flop(hand)
    hand.bet_or_raise_to(0, 500)  # A bets 500
    hand.bet_or_raise_to(1, 1000)  # B raises to 1,000
    hand.check_or_call(2)  # C calls
    hand.bet_or_raise_to(3, 1300)  # D all-in 1,300
    hand.bet_or_raise_to(4, 1700)  # E all-in 1,700
    hand.check_or_call(0)  # A calls
    for seat in (1, 2):
        legal = hand.legal_actions()
        assert legal.seat == seat
        assert legal.min_raise_to == 2200  # call 1,700 and raise the last full raise, 500
        hand.check_or_call(seat)


def test_pot_limit_maximum_is_the_pot_after_calling() -> None:
    hand, _ = deal([1000, 1000, 1000], variant=Variant.POT_LIMIT_HOLDEM)
    legal = hand.legal_actions()
    assert (legal.min_raise_to, legal.max_raise_to) == (4, 7)  # call 2, pot 5, to 7
    with pytest.raises(AmountTooLarge):
        hand.bet_or_raise_to(2, 8)
    hand.bet_or_raise_to(2, 7)
    # Small blind: pot 10 + call 6 = 16 -> raise to 7 + 16 = 23.
    assert hand.legal_actions().max_raise_to == 23


def test_pot_limit_omaha_bet_into_a_pot_after_the_flop() -> None:
    hand, _ = deal([1000, 1000, 1000], variant=Variant.POT_LIMIT_OMAHA)
    _limp_to_flop(hand)
    legal = hand.legal_actions()
    assert (legal.min_raise_to, legal.max_raise_to) == (2, 6)


def test_fixed_limit_uses_small_bet_then_big_bet() -> None:
    hand, _ = deal([100, 100, 100], variant=Variant.FIXED_LIMIT_HOLDEM)
    assert hand.legal_actions().min_raise_to == hand.legal_actions().max_raise_to == 4
    with pytest.raises(AmountNotAllowed):
        hand.bet_or_raise_to(2, 5)
    _limp_to_flop(hand)
    assert hand.legal_actions().max_raise_to == 2
    hand.check_or_call(0)
    hand.check_or_call(1)
    hand.check_or_call(2)
    assert len(hand.board) == 4
    assert hand.legal_actions().max_raise_to == 4  # the big bet on the turn


def test_fixed_limit_caps_at_a_bet_and_three_raises() -> None:
    hand, _ = deal([100, 100, 100, 100], variant=Variant.FIXED_LIMIT_HOLDEM)
    hand.bet_or_raise_to(2, 4)
    hand.bet_or_raise_to(3, 6)
    hand.bet_or_raise_to(0, 8)  # the big blind was the bet: this is the third raise
    legal = hand.legal_actions()
    assert legal.seat == 1
    assert legal.call == 6
    assert legal.min_raise_to is None


def test_fixed_limit_is_uncapped_when_the_round_begins_heads_up() -> None:
    hand, _ = deal([100, 100], variant=Variant.FIXED_LIMIT_HOLDEM, button=1)
    seat = 1
    for to in range(4, 24, 2):  # ten raises
        hand.bet_or_raise_to(seat, to)
        seat = 1 - seat
    assert hand.legal_actions().min_raise_to == 24


def test_fixed_limit_all_in_of_half_a_bet_counts_as_a_full_bet() -> None:
    # Live rule 129's example: on a 20 round, a 15 all-in bet may be raised to 35.
    hand, _ = deal(
        [1000, 1000, 35],
        variant=Variant.FIXED_LIMIT_HOLDEM,
        small_blind=10,
        big_blind=20,
        small_bet=20,
        big_bet=40,
        button=0,
    )
    # button 0: seat 1 small blind, seat 2 big blind, seat 0 first to act.
    hand.check_or_call(0)
    hand.check_or_call(1)
    hand.check_or_call(2)
    assert hand.actor == 1
    hand.check_or_call(1)
    hand.bet_or_raise_to(2, 15)  # all-in
    legal = hand.legal_actions()
    assert (legal.seat, legal.call, legal.min_raise_to) == (0, 15, 35)


def test_fixed_limit_all_in_under_half_a_bet_may_be_completed() -> None:
    hand, _ = deal(
        [1000, 1000, 25],
        variant=Variant.FIXED_LIMIT_HOLDEM,
        small_blind=10,
        big_blind=20,
        small_bet=20,
        big_bet=40,
        button=0,
    )
    for seat in (0, 1, 2, 1):
        hand.check_or_call(seat)
    hand.bet_or_raise_to(2, 5)  # all-in for a quarter bet
    legal = hand.legal_actions()
    assert (legal.seat, legal.call, legal.min_raise_to) == (0, 5, 20)  # complete to 20


def test_fixed_limit_all_in_under_half_a_bet_does_not_reopen() -> None:
    hand, _ = deal(
        [1000, 1000, 49],
        variant=Variant.FIXED_LIMIT_HOLDEM,
        small_blind=10,
        big_blind=20,
        small_bet=20,
        big_bet=40,
        button=0,
    )
    for seat in (0, 1, 2):
        hand.check_or_call(seat)
    assert len(hand.board) == 3
    hand.bet_or_raise_to(1, 20)
    hand.bet_or_raise_to(2, 29)  # all-in, a raise of 9 < half of 20
    hand.check_or_call(0)
    legal = hand.legal_actions()
    assert (legal.seat, legal.call, legal.min_raise_to) == (1, 9, None)


def test_cannot_fold_when_checking_is_free() -> None:
    hand, _ = deal([100, 100, 100])
    _limp_to_flop(hand)
    with pytest.raises(CannotFold):
        hand.fold(0)
    assert not hand.can_fold(0)
    assert not hand.legal_actions().fold


def test_cannot_raise_when_everyone_else_is_all_in() -> None:
    hand, _ = deal([100, 100, 50])
    hand.bet_or_raise_to(2, 50)
    hand.fold(0)
    legal = hand.legal_actions()
    assert (legal.seat, legal.call, legal.min_raise_to) == (1, 48, None)


def test_acting_out_of_turn_is_refused_and_changes_nothing() -> None:
    hand, _ = deal([100, 100, 100])
    before = hand.snapshot()
    with pytest.raises(NotYourTurn):
        hand.check_or_call(0)
    with pytest.raises(UnknownSeat):
        hand.check_or_call(7)
    with pytest.raises(WrongPhase):
        hand.show(2)
    assert not hand.can_check_or_call(0)
    assert hand.snapshot() == before


def test_uncalled_bet_is_returned_when_everyone_folds() -> None:
    hand, _ = deal([100, 100, 100])
    _limp_to_flop(hand)
    hand.bet_or_raise_to(0, 40)
    hand.fold(1)
    events = hand.fold(2)
    assert [(r.seat, r.amount) for r in of_type(events, UncalledBetReturned)] == [(0, 40)]
    assert hand.result.stacks == (104, 98, 98)
    with pytest.raises(HandIsOver):
        hand.check_or_call(0)


def test_uncalled_part_of_a_bet_over_an_all_in_call_is_returned() -> None:
    hand, _ = deal([100, 100, 30], hole={0: "AsAd"})
    _limp_to_flop(hand)
    hand.bet_or_raise_to(0, 80)
    hand.fold(1)
    events = hand.check_or_call(2)  # all-in for 28
    assert [(r.seat, r.amount) for r in of_type(events, UncalledBetReturned)] == [(0, 52)]


def test_big_blind_keeps_the_option_after_a_short_all_in() -> None:
    # Live rule 152: the big blind may still raise when someone is all-in for less than a
    # minimum raise.
    hand, _ = deal([100, 100, 3])
    hand.bet_or_raise_to(2, 3)  # all-in for 3, less than a raise to 4
    hand.check_or_call(0)
    legal = hand.legal_actions()
    assert (legal.seat, legal.call, legal.min_raise_to) == (1, 1, 5)


def test_the_only_player_with_chips_is_not_asked_to_check() -> None:
    # Nobody could call a raise and there is nothing to call: the round simply ends.
    hand, _ = deal([100, 1, 100])  # seat 1 is an all-in big blind
    hand.fold(2)
    events = hand.check_or_call(0)  # the small blind completes: nothing left to decide
    assert hand.is_over
    assert [(r.seat, r.amount) for r in of_type(events, UncalledBetReturned)] == [(0, 1)]
