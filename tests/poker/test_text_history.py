"""PokerStars-style text histories, built from the engine's events."""

from __future__ import annotations

import random
import re

import pytest

from poker import Variant, phh
from poker.events import BoardDealt, HandShown
from poker.simulate import replay, simulate_hands
from poker.text_history import Viewer, history_for, text_from_history

STAFF = Viewer.staff()

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
    return text_from_history(phh.loads(THREE_WAY), viewer=STAFF)


def test_header_names_the_game_the_stakes_and_the_button(text: str) -> None:
    lines = text.splitlines()
    assert lines[0] == "Tablium Hand #77: Hold'em No Limit (1/2)"
    assert lines[1] == "Table 'Tablium' 3-max Seat #3 is the button"
    assert lines[2:5] == [
        "Seat 1: Ann (30 in chips)",
        "Seat 2: Bob (200 in chips)",
        "Seat 3: Cy (200 in chips)",
    ]


def test_staff_see_the_posts_and_every_dealt_hand(text: str) -> None:
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
        text = text_from_history(history, viewer=STAFF)
        collected = sum(int(n) for n in re.findall(r" collected (\d+) from ", text))
        total, rake = re.search(r"Total pot (\d+) .*\| Rake (\d+)", text).groups()  # type: ignore[union-attr]
        assert collected + int(rake) == int(total), f"seed {seed}\n{text}"
        starting = sum(history.starting_stacks)
        assert history.finishing_stacks is not None
        assert sum(history.finishing_stacks) == starting


# A 9-seat table: p1..p3 sit in seats 4, 7 and 1 (the button, last in PHH order). At the
# showdown Bob (p2) shows and wins; Ann (p1) mucks; Cy (p3) folded before the flop.
NINE_SEATS = """\
variant = 'NT'
antes = [0, 0, 0]
blinds_or_straddles = [1, 2, 0]
min_bet = 2
starting_stacks = [200, 200, 200]
actions = ['d dh p1 AsAd', 'd dh p2 KsKd', 'd dh p3 QsQd', 'p3 f', 'p1 cc', 'p2 cc',
           'd db 2c7d9h', 'p1 cc', 'p2 cc', 'd db 3c', 'p1 cc', 'p2 cc', 'd db 4d', 'p1 cbr 10',
           'p2 cbr 30', 'p1 cc', 'p2 sm KsKd', 'p1 sm']
hand = 12
seats = [4, 7, 1]
seat_count = 9
table = 'nt-1-2-b'
players = ['101', '102', '103']
_table_name = "Hold'em 1/2 B"
"""


def test_header_names_the_table_its_size_and_the_real_button_seat() -> None:
    text = text_from_history(phh.loads(NINE_SEATS), viewer=STAFF)
    lines = text.splitlines()
    assert lines[1] == "Table 'Hold'em 1/2 B' 9-max Seat #1 is the button"
    assert lines[2:5] == [
        "Seat 1: 103 (200 in chips)",
        "Seat 4: 101 (200 in chips)",
        "Seat 7: 102 (200 in chips)",
    ]
    summary = text.split("*** SUMMARY ***\n")[1]
    assert "Seat 1: 103 (button) folded before Flop" in summary
    assert "Seat 4: 101 (small blind) mucked [As Ad]" in summary  # staff see mucked cards
    assert "Seat 7: 102 (big blind) showed [Ks Kd] and won" in summary


def test_a_history_without_our_fields_falls_back_to_its_table_id_and_positions() -> None:
    history = phh.loads(NINE_SEATS)
    bare = phh.HandHistory(
        **{
            **{f: getattr(history, f) for f in ("variant", "antes", "blinds_or_straddles")},
            "starting_stacks": history.starting_stacks,
            "actions": history.actions,
            "min_bet": 2,
            "table": "nt-1-2-b",
        }
    )
    lines = text_from_history(bare, viewer=STAFF).splitlines()
    assert lines[1] == "Table 'nt-1-2-b' 3-max Seat #3 is the button"


def test_a_player_sees_their_own_cards_and_the_shown_hands_only() -> None:
    history = phh.loads(NINE_SEATS)
    for player in ("101", "103"):  # the one who mucked, the one who folded
        text = text_from_history(history, viewer=Viewer.of_player(player))
        dealt = [line for line in text.splitlines() if line.startswith("Dealt to ")]
        own = {"101": "Dealt to 101 [As Ad]", "103": "Dealt to 103 [Qs Qd]"}[player]
        assert dealt == [own]
        assert "102: shows [Ks Kd]" in text  # shown at the showdown: everyone saw it
        mucked = "Seat 4: 101 (small blind) mucked"
        assert mucked + (" [As Ad]" if player == "101" else "\n") in text
        others = {"101": ("Qs", "Qd"), "103": ("As", "Ad")}[player]
        assert not any(card in text for card in others), text
    watcher = text_from_history(history, viewer=Viewer.of_player("999"))
    assert "Dealt to" not in watcher and "As" not in watcher and "Qs" not in watcher


def test_a_players_phh_hides_every_card_they_did_not_see() -> None:
    history = phh.loads(NINE_SEATS)
    assert history_for(history, viewer=STAFF) == history
    mine = history_for(history, viewer=Viewer.of_player("103"))
    assert mine.actions[:3] == ("d dh p1 ????", "d dh p2 KsKd", "d dh p3 QsQd")
    assert "p2 sm KsKd" in mine.actions and "p1 sm" in mine.actions
    assert "As" not in phh.dumps(mine)


# Heads-up: Ann bets the river, Bob calls; Ann mucks, so Bob wins without showing. PHH can
# only write the winner's cards as shown (docs/hand-histories.md).
WON_UNSHOWN = """\
variant = 'NT'
antes = [0, 0]
blinds_or_straddles = [1, 2]
min_bet = 2
starting_stacks = [200, 200]
actions = ['d dh p1 AsAd', 'd dh p2 KsKd', 'p2 cc', 'p1 cc', 'd db 2c7d9h', 'p1 cc', 'p2 cc',
           'd db 3c', 'p1 cc', 'p2 cc', 'd db 4d', 'p1 cbr 10', 'p2 cc', 'p1 sm', 'p2 sm KsKd']
hand = 1
players = ['Ann', 'Bob']
"""


def test_a_winner_nobody_called_to_see_keeps_his_cards_from_other_players() -> None:
    history = phh.loads(WON_UNSHOWN)
    text = text_from_history(history, viewer=Viewer.of_player("Ann"))
    assert "Ks" not in text and "Bob collected 24 from pot" in text
    ann_phh = phh.dumps(history_for(history, viewer=Viewer.of_player("Ann")))
    assert "Ks" not in ann_phh and "p2 sm ????" in ann_phh
    bob_phh = phh.dumps(history_for(history, viewer=Viewer.of_player("Bob")))
    assert "KsKd" in bob_phh and "AsAd" not in bob_phh


_CARD_IN_TEXT = re.compile(r"\b[2-9TJQKA][cdhs]\b")


@pytest.mark.parametrize("variant", list(Variant), ids=str)
def test_a_player_never_reads_a_card_they_did_not_see_in_random_hands(variant: Variant) -> None:
    """Every card in a player's text or PHH is on the board, their own, or shown at the
    table (replayed): never another player's folded or mucked hand."""
    seed = 23
    print(f"seed={seed}")
    for history in simulate_hands(variant, 6, 30, random.Random(seed), edge_cases=True):
        events = replay(history).events
        board = {c for e in events if isinstance(e, BoardDealt) for c in e.cards}
        shown = {c for e in events if isinstance(e, HandShown) for c in e.cards}
        holes = [phh.parse_action(a) for a in history.actions]
        for seat in range(history.player_count):
            own = {c for h in holes if isinstance(h, phh.DealHole) and h.player == seat
                   for c in h.cards}  # fmt: skip
            viewer = Viewer.of_player(f"p{seat + 1}")
            allowed = board | shown | own
            text = text_from_history(history, viewer=viewer)
            assert set(_CARD_IN_TEXT.findall(text)) <= allowed, f"seed {seed}\n{text}"
            redacted = history_for(history, viewer=viewer)
            cards = {
                c
                for a in redacted.actions
                for word in a.split()[2:]
                for c in re.findall(r"[2-9TJQKA][cdhs]", word)
            }
            assert cards <= allowed, f"seed {seed}\n{phh.dumps(redacted)}"
