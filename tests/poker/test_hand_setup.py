"""Building hands: setup validation, the event stream of a whole hand, typed actions,
snapshots of finished hands."""

from __future__ import annotations

import random

import msgspec
import pytest

from poker import (
    AmountNotAllowed,
    Deck,
    Hand,
    HandAlreadyStarted,
    HandConfig,
    HandIsOver,
    HandNotStarted,
    InvalidSetup,
    Phase,
    SeatSetup,
    SnapshotInvalid,
    Variant,
)
from poker.actions import BetOrRaiseTo, CheckOrCall, Fold
from poker.events import AnyEvent, Event
from tests.poker import deal

NLHE = HandConfig(variant=Variant.NO_LIMIT_HOLDEM, small_blind=1, big_blind=2)


def _seats(count: int, stack: int = 100) -> list[SeatSetup]:
    return [SeatSetup(seat=i, player_id=f"p{i}", stack=stack) for i in range(count)]


def test_a_hand_needs_two_to_ten_players() -> None:
    with pytest.raises(InvalidSetup):
        Hand(NLHE, _seats(1), 0, Deck.shuffled(random.Random(1)))
    Hand(NLHE, _seats(10), 0, Deck.shuffled(random.Random(1)))


def test_two_players_cannot_share_a_seat() -> None:
    seats = [*_seats(2), SeatSetup(seat=1, player_id="other", stack=5)]
    with pytest.raises(InvalidSetup):
        Hand(NLHE, seats, 0, Deck.shuffled(random.Random(1)))


def test_seats_outside_zero_to_nine_and_empty_stacks_are_refused() -> None:
    with pytest.raises(InvalidSetup):
        SeatSetup(seat=10, player_id="x", stack=5)
    with pytest.raises(InvalidSetup):
        SeatSetup(seat=3, player_id="x", stack=0)


def test_a_deck_too_short_for_the_deal_is_refused() -> None:
    with pytest.raises(InvalidSetup):
        Hand(NLHE, _seats(3), 0, Deck.stacked(["As", "Ks", "Qs"]))


def test_config_rules_are_checked() -> None:
    with pytest.raises(InvalidSetup):
        HandConfig(variant=Variant.NO_LIMIT_HOLDEM, small_blind=3, big_blind=2)
    with pytest.raises(InvalidSetup):
        HandConfig(variant=Variant.FIXED_LIMIT_HOLDEM, small_blind=1, big_blind=2)
    with pytest.raises(InvalidSetup):
        HandConfig(
            variant=Variant.FIXED_LIMIT_HOLDEM,
            small_blind=1,
            big_blind=2,
            small_bet=2,
            big_bet=4,
            straddle=4,
        )
    with pytest.raises(InvalidSetup):
        HandConfig(variant=Variant.NO_LIMIT_HOLDEM, small_blind=1, big_blind=2, ante=1)


def test_start_twice_and_acting_before_start_are_refused() -> None:
    hand = Hand(NLHE, _seats(2), 1, Deck.shuffled(random.Random(1)))
    with pytest.raises(HandNotStarted):
        hand.check_or_call(1)
    hand.start()
    with pytest.raises(HandAlreadyStarted):
        hand.start()


def test_the_event_stream_of_a_hand_won_by_a_bet() -> None:
    hand, events = deal([100, 100, 100], hole={0: "AsAd", 1: "KsKd", 2: "2c7h"})
    events += hand.apply(Fold(seat=2))
    events += hand.apply(CheckOrCall(seat=0))
    events += hand.apply(CheckOrCall(seat=1))
    events += hand.apply(BetOrRaiseTo(seat=0, amount=10))
    events += hand.apply(Fold(seat=1))
    names = [type(event).__name__ for event in events]
    assert names == [
        "HandStarted",
        "BlindPosted",
        "BlindPosted",
        "HoleCardsDealt",
        "HoleCardsDealt",
        "HoleCardsDealt",
        "ActionRequested",
        "PlayerActed",  # seat 2 folds
        "ActionRequested",
        "PlayerActed",  # seat 0 completes
        "ActionRequested",
        "PlayerActed",  # seat 1 checks
        "PotsUpdated",
        "BoardDealt",
        "ActionRequested",
        "PlayerActed",  # seat 0 bets 10
        "ActionRequested",
        "PlayerActed",  # seat 1 folds
        "UncalledBetReturned",
        "PotsUpdated",
        "PotAwarded",
        "HandEnded",
    ]
    assert hand.result.stacks == (102, 98, 100)
    with pytest.raises(HandIsOver):
        hand.apply(CheckOrCall(seat=0))


def test_events_round_trip_through_msgpack_as_one_tagged_union() -> None:
    hand, events = deal([100, 100, 100])
    while not hand.is_over:
        legal = hand.legal_actions()
        events += hand.show(legal.seat) if legal.show else hand.check_or_call(legal.seat)
    data = msgspec.msgpack.encode(events)
    decoded = msgspec.msgpack.decode(data, type=list[AnyEvent])
    assert decoded == events
    assert all(isinstance(event, Event) for event in decoded)


def test_apply_refuses_something_that_is_not_an_action() -> None:
    hand, _ = deal([100, 100])
    with pytest.raises(TypeError):
        hand.apply("fold")  # type: ignore[arg-type]


def test_a_finished_hand_restores_with_its_result() -> None:
    hand, _ = deal([100, 100, 100])
    hand.fold(2)
    hand.fold(0)
    restored = Hand.restore(hand.snapshot())
    assert restored.is_over
    assert restored.result == hand.result


def test_garbage_is_not_a_snapshot() -> None:
    with pytest.raises(SnapshotInvalid):
        Hand.restore(b"\x93\x01\x02\x03")
    with pytest.raises(SnapshotInvalid):
        Hand.restore(b"not msgpack at all")


def test_chips_are_whole_numbers_in_the_setup() -> None:
    # "Chips and money are integers, always": msgspec does not check types when a Struct
    # is built in Python, so the setup records check their own amounts.
    with pytest.raises(InvalidSetup):
        SeatSetup(seat=1, player_id="x", stack=10.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidSetup):
        SeatSetup(seat=True, player_id="x", stack=10)
    with pytest.raises(InvalidSetup):
        HandConfig(variant=Variant.NO_LIMIT_HOLDEM, small_blind=0.5, big_blind=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidSetup):
        HandConfig(variant=Variant.NO_LIMIT_HOLDEM, small_blind=1, big_blind=2, rake_bp=2.5)  # type: ignore[arg-type]


def test_a_bet_must_be_whole_chips() -> None:
    hand, _ = deal([100, 100, 100])
    before = hand.snapshot()
    for amount in (4.5, 5.0, True):
        with pytest.raises(AmountNotAllowed):
            hand.bet_or_raise_to(2, amount)  # type: ignore[arg-type]
        assert not hand.can_bet_or_raise_to(2, amount)  # type: ignore[arg-type]
    assert hand.snapshot() == before


def _states_of_every_phase() -> list[Hand]:
    """One hand in each phase: not started, betting, run it twice, showdown, over."""
    not_started = Hand(NLHE, _seats(3), 2, Deck.shuffled(random.Random(7)))
    betting, _ = deal([100, 100, 100])
    run_it_twice, _ = deal([100, 100, 100], allow_run_it_twice=True)
    run_it_twice.bet_or_raise_to(2, 100)
    run_it_twice.fold(0)
    run_it_twice.check_or_call(1)
    showdown, _ = deal([100, 100])
    while showdown.phase is not Phase.SHOWDOWN:
        showdown.check_or_call(showdown.actor or 0)
    over, _ = deal([100, 100, 100])
    over.fold(2)
    over.fold(0)
    hands = [not_started, betting, run_it_twice, showdown, over]
    assert [hand.phase for hand in hands] == list(Phase)
    return hands


def test_snapshot_and_restore_in_every_phase_give_the_same_hand() -> None:
    for hand in _states_of_every_phase():
        data = hand.snapshot()
        restored = Hand.restore(data)
        assert restored.snapshot() == data
        assert restored.phase is hand.phase
        assert restored.legal_actions() == hand.legal_actions()


def test_a_snapshot_whose_chips_do_not_add_up_is_refused() -> None:
    # A restored hand must not create or destroy chips: stacks, bets in the pot and dead
    # money must add up to the starting stacks (after the end: stacks and rake).
    for hand in _states_of_every_phase():
        state = msgspec.msgpack.decode(hand.snapshot())
        stacks_field = 11  # HandState is array-like: version, config, seats, ..., stacks
        state[stacks_field][0] += 1
        with pytest.raises(SnapshotInvalid):
            Hand.restore(msgspec.msgpack.encode(state))


def test_a_snapshot_with_lists_of_the_wrong_length_is_refused() -> None:
    hand, _ = deal([100, 100, 100])
    state = msgspec.msgpack.decode(hand.snapshot())
    folded_field = 15
    state[folded_field] = state[folded_field][:2]
    with pytest.raises(SnapshotInvalid):
        Hand.restore(msgspec.msgpack.encode(state))


def test_a_snapshot_with_a_deck_position_past_the_deck_is_refused() -> None:
    hand, _ = deal([100, 100, 100])
    state = msgspec.msgpack.decode(hand.snapshot())
    deck_position_field = 10
    state[deck_position_field] = 53
    with pytest.raises(SnapshotInvalid):
        Hand.restore(msgspec.msgpack.encode(state))
