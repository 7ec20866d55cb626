"""Patterns of a flagged pair's hand, read from its history (poker/integrity/patterns.py)."""

from __future__ import annotations

from fractions import Fraction

from poker import phh
from poker.integrity import BIG_LOSS_WEAK_HAND, FOLDED_BEST_HAND, dumping_patterns

HEADER = """variant = 'NT'
antes = [0, 0]
blinds_or_straddles = [1, 2]
min_bet = 2
starting_stacks = [400, 400]
players = ['5', '6']
"""


def history(*actions: str, variant: str = "NT") -> phh.HandHistory:
    text = HEADER.replace("'NT'", repr(variant)) + f"actions = {list(actions)!r}\n"
    return phh.loads(text)


def test_folding_aces_to_the_partners_raise_is_folding_the_best_hand() -> None:
    hand = history("d dh p1 AsAd", "d dh p2 7c2d", "p2 cbr 10", "p1 f")
    assert dumping_patterns(hand, 5, 6, Fraction(1)) == (FOLDED_BEST_HAND,)


def test_folding_a_made_hand_that_was_ahead_on_the_flop() -> None:
    hand = history(
        "d dh p1 Kh9h", "d dh p2 7c2d", "p2 cc", "p1 cc", "d db KcKd4s", "p1 cc", "p2 cbr 8",
        "p1 f",
    )  # fmt: skip
    assert dumping_patterns(hand, 5, 6, Fraction(1)) == (FOLDED_BEST_HAND,)


def test_folding_the_worse_hand_or_to_someone_else_is_no_pattern() -> None:
    behind = history(
        "d dh p1 Kh9h", "d dh p2 4c4d", "p2 cc", "p1 cc", "d db KcKd4s", "p1 cc", "p2 cbr 8",
        "p1 f",
    )  # fmt: skip
    assert dumping_patterns(behind, 5, 6, Fraction(1)) == ()
    # The receiver is not in the hand: nothing to say about the pair.
    assert dumping_patterns(behind, 5, 7, Fraction(1)) == ()


def test_a_big_loss_with_nothing_on_the_river() -> None:
    hand = history(
        "d dh p1 8h3c", "d dh p2 AsKs", "p2 cbr 6", "p1 cc", "d db Kd7s2c", "p1 cc", "p2 cbr 40",
        "p1 cc", "d db 9d", "p1 cc", "p2 cc", "d db Jh", "p1 cbr 300", "p2 cc", "p2 sm AsKs",
        "p1 sm 8h3c",
    )  # fmt: skip
    assert dumping_patterns(hand, 5, 6, Fraction(173)) == (BIG_LOSS_WEAK_HAND,)
    assert dumping_patterns(hand, 5, 6, Fraction(19)) == ()  # under 20 big blinds: no pattern


def test_all_in_before_the_flop_with_two_low_cards_is_a_weak_hand() -> None:
    hand = history("d dh p1 8h3c", "d dh p2 AsKs", "p2 cbr 400", "p1 cc", "d db Kd7s2c9dJh")
    assert dumping_patterns(hand, 5, 6, Fraction(200)) == (BIG_LOSS_WEAK_HAND,)


def test_unknown_cards_give_no_pattern() -> None:
    hand = history("d dh p1 ????", "d dh p2 7c2d", "p2 cbr 10", "p1 f")
    assert dumping_patterns(hand, 5, 6, Fraction(100)) == ()


def test_omaha_folds_are_judged_by_omaha_hands() -> None:
    hand = history(
        "d dh p1 KhKs9h2c", "d dh p2 7c2d3h4h", "p2 cc", "p1 cc", "d db Kc8d4s", "p1 cc",
        "p2 cbr 8", "p1 f", variant="PO",
    )  # fmt: skip
    assert dumping_patterns(hand, 5, 6, Fraction(1)) == (FOLDED_BEST_HAND,)
