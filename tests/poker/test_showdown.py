"""Showdown order (tournament rule 72), mucking, all-in hands face up (rule 70), run it twice."""

from __future__ import annotations

import pytest

from poker import AlreadyDecided, Hand, WrongPhase
from poker.events import (
    BoardDealt,
    HandMucked,
    HandShown,
    PotAwarded,
    RunItTwiceDecided,
    RunItTwiceOffered,
    ShowdownRequested,
)
from tests.poker import deal, of_type


def _to_river(hand: Hand) -> None:
    while len(hand.board) < 5:
        hand.check_or_call(hand.actor or 0)


def test_showdown_starts_with_the_last_aggressor_of_the_river() -> None:
    hand, _ = deal([100, 100, 100], board="2c5d8h9sKc")
    for _ in range(3):
        hand.check_or_call(hand.actor or 0)
    _to_river(hand)
    hand.check_or_call(0)
    hand.bet_or_raise_to(1, 10)
    hand.check_or_call(2)
    events = hand.check_or_call(0)
    assert of_type(events, ShowdownRequested)[0].seat == 1
    order = [1]
    while not hand.is_over:
        seat = hand.actor
        assert seat is not None
        events = hand.show(seat)
        order += [e.seat for e in of_type(events, ShowdownRequested)]
    assert order == [1, 2, 0]


def test_showdown_without_a_river_bet_starts_left_of_the_button() -> None:
    hand, _ = deal([100, 100, 100], button=1)  # seat 2 is first left of the button
    _to_river(hand)
    for _ in range(3):
        hand.check_or_call(hand.actor or 0)
    assert hand.legal_actions().show
    assert hand.actor == 2


def test_a_loser_may_muck_and_the_winner_is_paid() -> None:
    hand, _ = deal([100, 100], button=1, hole={0: "AsAd", 1: "7c2d"}, board="KcQd9h4s3c")
    hand.check_or_call(1)
    hand.check_or_call(0)
    _to_river(hand)
    hand.check_or_call(0)
    hand.check_or_call(1)
    assert hand.actor == 0  # heads-up: the big blind is first left of the button
    hand.show(0)
    events = hand.muck(1)
    assert of_type(events, HandMucked)[0].seat == 1
    assert hand.result.stacks == (102, 98)


def test_the_last_live_hand_wins_without_showing() -> None:
    hand, _ = deal([100, 100], button=1, hole={0: "7c2d", 1: "AsAd"}, board="KcQd9h4s3c")
    hand.check_or_call(1)
    hand.check_or_call(0)
    _to_river(hand)
    hand.check_or_call(0)
    events = hand.check_or_call(1)
    assert of_type(events, ShowdownRequested)[0].seat == 0
    events = hand.muck(0)
    assert hand.is_over
    assert of_type(events, HandShown) == []
    assert hand.result.stacks == (98, 102)


def test_a_mucked_hand_cannot_win_even_if_it_was_best() -> None:
    hand, _ = deal([100, 100], button=1, hole={0: "AsAd", 1: "7c2d"}, board="KcQd9h4s3c")
    hand.check_or_call(1)
    hand.check_or_call(0)
    _to_river(hand)
    hand.check_or_call(0)
    hand.check_or_call(1)
    hand.muck(0)
    assert hand.result.stacks == (98, 102)


def test_all_in_hands_are_turned_face_up_before_the_runout() -> None:
    hand, _ = deal([100, 100, 100], hole={0: "AsAd", 2: "KsKd"}, board="2c5d8h9s3c")
    hand.bet_or_raise_to(2, 100)
    hand.check_or_call(0)
    events = hand.fold(1)
    shown = [events.index(e) for e in of_type(events, HandShown)]
    dealt = [events.index(e) for e in of_type(events, BoardDealt)]
    assert {e.seat for e in of_type(events, HandShown)} == {0, 2}
    assert max(shown) < min(dealt)
    assert hand.is_over
    assert hand.result.stacks == (202, 98, 0)


def test_no_show_or_muck_decisions_after_an_all_in() -> None:
    hand, _ = deal([100, 100, 100])
    hand.bet_or_raise_to(2, 100)
    hand.check_or_call(0)
    hand.fold(1)
    assert hand.is_over


def test_run_it_twice_when_every_remaining_player_agrees() -> None:
    hand, _ = deal(
        [100, 100, 100], hole={0: "AsAd", 2: "KsKd"}, board="2c5d8h", allow_run_it_twice=True
    )
    hand.bet_or_raise_to(2, 100)
    hand.check_or_call(0)
    events = hand.fold(1)
    offer = of_type(events, RunItTwiceOffered)[0]
    assert set(offer.seats) == {0, 2}
    with pytest.raises(WrongPhase):
        hand.check_or_call(hand.actor or 0)
    hand.agree_run_it_twice(2, True)
    with pytest.raises(AlreadyDecided):
        hand.agree_run_it_twice(2, True)
    events = hand.agree_run_it_twice(0, True)
    assert of_type(events, RunItTwiceDecided)[0].runs == 2
    runs = {e.run for e in of_type(events, BoardDealt)}
    assert runs == {0, 1}
    assert len(hand.board) == 5 and len(hand.second_board) == 5
    assert hand.board != hand.second_board
    awards = of_type(events, PotAwarded)
    assert sum(a.amount for a in awards) == 202
    assert [a.amount for a in awards if a.run == 0] == [101]
    assert [a.amount for a in awards if a.run == 1] == [101]


def test_run_it_twice_odd_chip_goes_to_the_first_run() -> None:
    hand, _ = deal([100, 100, 100, 100], hole={1: "AsAd", 2: "KsKd"}, allow_run_it_twice=True)
    hand.bet_or_raise_to(2, 100)
    hand.fold(3)
    hand.fold(0)  # the small blind's 1 chip makes the pot odd: 201
    hand.check_or_call(1)
    hand.agree_run_it_twice(1, True)
    events = hand.agree_run_it_twice(2, True)
    by_run = [sum(a.amount for a in of_type(events, PotAwarded) if a.run == run) for run in (0, 1)]
    assert by_run == [101, 100]


def test_one_refusal_runs_it_once() -> None:
    hand, _ = deal([100, 100, 100], allow_run_it_twice=True)
    hand.bet_or_raise_to(2, 100)
    hand.check_or_call(0)
    hand.fold(1)
    events = hand.agree_run_it_twice(0, False)
    assert of_type(events, RunItTwiceDecided)[0].runs == 1
    assert {e.run for e in of_type(events, BoardDealt)} == {0}
    assert hand.second_board == ()
    assert hand.is_over


def test_run_it_twice_is_not_offered_unless_the_table_allows_it() -> None:
    hand, _ = deal([100, 100, 100])
    hand.bet_or_raise_to(2, 100)
    hand.check_or_call(0)
    events = hand.fold(1)
    assert of_type(events, RunItTwiceOffered) == []
    assert hand.is_over
