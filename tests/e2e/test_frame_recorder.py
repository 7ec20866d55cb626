"""The privacy check itself: it catches a hole card in another player's frame, accepts it
after that player's showdown, and catches hole cards delivered to the wrong player."""

from __future__ import annotations

import pytest

from protocol import game
from tests.e2e.harness import FrameRecorder

ALICE, BOB = 1, 2


def recorder() -> FrameRecorder:
    frames = FrameRecorder()
    frames.seat_owner[("t", 0)] = ALICE
    frames.seat_owner[("t", 1)] = BOB
    frames.record(ALICE, game.HoleCards(table_id="t", hand_number=1, seat=0, cards=("As", "Kd")))
    frames.record(BOB, game.HoleCards(table_id="t", hand_number=1, seat=1, cards=("2c", "2d")))
    return frames


def test_own_cards_and_the_board_are_not_leaks() -> None:
    frames = recorder()
    frames.record(ALICE, game.BoardDealt(
        table_id="t", hand_number=1, street="flop", cards=("3h", "4h", "5h"), run=0
    ))  # fmt: skip
    assert frames.assert_no_hole_card_leaks() == 3


def test_another_players_card_before_showdown_is_a_leak() -> None:
    frames = recorder()
    listing = game.TableListing(
        table_id="t", name="t", variant="NT", small_blind=1, big_blind=2, buy_in_min=80,
        buy_in_max=400, seats_total=2, seats_taken=2, waiting=0, average_pot=0, hands_per_hour=0,
    )  # fmt: skip
    frames.record(BOB, game.TableSnapshot(
        table_id="t", listing=listing, seats=(), button=0, hand_number=1, hole_cards=("As", "Kd")
    ))  # fmt: skip
    with pytest.raises(AssertionError, match="player 2 saw"):
        frames.assert_no_hole_card_leaks()


def test_shown_cards_are_public_after_the_showdown() -> None:
    frames = recorder()
    show = game.Showdown(table_id="t", hand_number=1, seat=0, cards=("As", "Kd"), mucked=False)
    frames.record(BOB, show)
    assert frames.assert_no_hole_card_leaks() == 3


def test_hole_cards_delivered_to_the_wrong_player_are_a_leak() -> None:
    frames = recorder()
    frames.record(BOB, game.HoleCards(table_id="t", hand_number=1, seat=0, cards=("As", "Kd")))
    with pytest.raises(AssertionError):
        frames.assert_no_hole_card_leaks()
