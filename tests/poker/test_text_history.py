"""PokerStars-style text histories, built from the engine's events."""

from __future__ import annotations

import random
import re

import pytest

from poker import Variant, phh
from poker.simulate import simulate_hands
from poker.text_history import text_from_history

# p1 (small blind, 30 chips) is all-in preflop; p2 and p3 play a side pot to the river.
THREE_WAY = """\
variant = 'NT'
antes = [0, 0, 0]
blinds_or_straddles = [1, 2, 0]
min_bet = 2
starting_stacks = [30, 200, 200]
actions = ['d dh p1 AsAd', 'd dh p2 KsKd', 'd dh p3 QsQd', 'p3 cbr 6', 'p1 cbr 30', 'p2 cc',
           'p3 cc', 'd db 2c7d9h', 'p2 cc', 'p3 cbr 20', 'p2 cc', 'd db 3c', 'p2 cc', 'p3 cc',
           'd db 4d', 'p2 cbr 50', 'p3 f']
hand = 77
players = ['Ann', 'Bob', 'Cy']
"""


@pytest.fixture
def text() -> str:
    return text_from_history(phh.loads(THREE_WAY))


def test_header_names_the_game_the_stakes_and_the_button(text: str) -> None:
    lines = text.splitlines()
    assert lines[0] == "Tablium Hand #77: Hold'em No Limit (1/2)"
    assert lines[1] == "Table 'Tablium' 3-max Seat #3 is the button"
    assert lines[2:5] == [
        "Seat 1: Ann (30 in chips)",
        "Seat 2: Bob (200 in chips)",
        "Seat 3: Cy (200 in chips)",
    ]


def test_posts_and_every_dealt_hand_are_listed(text: str) -> None:
    assert "Ann: posts small blind 1\nBob: posts big blind 2\n*** HOLE CARDS ***" in text
    assert "Dealt to Ann [As Ad]\nDealt to Bob [Ks Kd]\nDealt to Cy [Qs Qd]" in text


def test_raises_say_by_how_much_and_to_what(text: str) -> None:
    assert "Cy: raises 4 to 6\n" in text
    assert "Ann: raises 24 to 30 and is all-in\n" in text
    assert "Bob: calls 28\n" in text
    assert "Cy: calls 24\n" in text


def test_streets_show_the_board_so_far_and_the_new_cards(text: str) -> None:
    assert "*** FLOP *** [2c 7d 9h]\n" in text
    assert "*** TURN *** [2c 7d 9h] [3c]\n" in text
    assert "*** RIVER *** [2c 7d 9h 3c] [4d]\n" in text


def test_uncalled_bet_returns_and_pots_are_named(text: str) -> None:
    assert "Bob: bets 50\nCy: folds\nUncalled bet (50) returned to Bob\n" in text
    # Ann's aces win the main pot of 3 x 30; the side pot of 2 x 20 goes to Bob uncontested.
    assert "Ann collected 90 from main pot\n" in text
    assert "Bob collected 40 from side pot-1\n" in text
    assert "Total pot 130 Main pot 90. Side pot-1 40. | Rake 0\n" in text
    assert "Board [2c 7d 9h 3c 4d]\n" in text


def test_summary_says_how_each_seat_ended(text: str) -> None:
    summary = text.split("*** SUMMARY ***\n")[1]
    assert "Seat 1: Ann (small blind) showed [As Ad] and won (90) with Pair" in summary
    assert "Seat 2: Bob (big blind) showed [Ks Kd] and won (40)" in summary
    assert "Seat 3: Cy (button) folded on the River" in summary


@pytest.mark.parametrize("variant", list(Variant), ids=str)
def test_collected_chips_add_up_to_the_total_pot_in_random_hands(variant: Variant) -> None:
    seed = 99
    for history in simulate_hands(variant, 6, 40, random.Random(seed), edge_cases=True):
        text = text_from_history(history)
        collected = sum(int(n) for n in re.findall(r" collected (\d+) from ", text))
        total, rake = re.search(r"Total pot (\d+) .*\| Rake (\d+)", text).groups()  # type: ignore[union-attr]
        assert collected + int(rake) == int(total), f"seed {seed}\n{text}"
        starting = sum(history.starting_stacks)
        assert history.finishing_stacks is not None
        assert sum(history.finishing_stacks) == starting
