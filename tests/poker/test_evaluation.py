"""Hand values: eval7 high through our wrapper, Omaha's 2+3 rule, the 8-or-better low."""

from __future__ import annotations

import random
from itertools import combinations

import eval7

from poker import ALL_CARDS, parse_cards
from poker.evaluation import (
    describe_high,
    describe_low,
    high_value,
    holdem_high,
    omaha_high,
    omaha_low,
)


def test_high_value_matches_raw_eval7_on_random_hands() -> None:
    rng = random.Random(11)
    for _ in range(2000):
        cards = rng.sample(ALL_CARDS, 7)
        raw = eval7.evaluate([eval7.Card(card.code) for card in cards])
        assert high_value(cards) == raw
        assert holdem_high(cards[:2], cards[2:]) == raw


def test_omaha_must_use_exactly_two_hole_cards() -> None:
    # Four hearts on board and one heart in hand is no flush in Omaha.
    hole = parse_cards("Ah2c7d9s")
    board = parse_cards("KhQh5h3hJc")
    assert describe_high(omaha_high(hole, board)) != "Flush"
    # Hold'em rules would make the flush.
    assert describe_high(high_value([*parse_cards("Ah2c"), *board])) == "Flush"


def test_omaha_must_use_exactly_three_board_cards() -> None:
    # Quads in hand do not play: only two of them may be used.
    hole = parse_cards("AsAdAcAh")
    board = parse_cards("2c5d9hJsKd")
    assert describe_high(omaha_high(hole, board)) == "Pair"


def test_omaha_high_is_the_best_of_all_two_plus_three_combinations() -> None:
    rng = random.Random(5)
    for _ in range(200):
        cards = rng.sample(ALL_CARDS, 9)
        hole, board = cards[:4], cards[4:]
        expected = max(
            eval7.evaluate([*two, *three])
            for two in combinations(hole, 2)
            for three in combinations(board, 3)
        )
        assert omaha_high(hole, board) == expected


def test_low_needs_five_distinct_ranks_eight_or_lower() -> None:
    assert omaha_low(parse_cards("As2dKhKd"), parse_cards("3c4c9c9h9d")) is None
    key = omaha_low(parse_cards("As2dKhKd"), parse_cards("3c4c8c9h9d"))
    assert key is not None
    assert describe_low(key) == "8-4-3-2-A low"


def test_low_ignores_straights_and_flushes() -> None:
    key = omaha_low(parse_cards("Ac2cKhKd"), parse_cards("3c4c5c9h9d"))
    assert key is not None
    assert describe_low(key) == "5-4-3-2-A low"


def test_low_uses_exactly_two_hole_cards() -> None:
    # Three low cards in hand, two low on board: only two hole cards may play -> no low.
    assert omaha_low(parse_cards("As2d3hKd"), parse_cards("4c5cKcQhJd")) is None


def test_lower_low_wins() -> None:
    board = parse_cards("3c4c7hKhQd")
    better = omaha_low(parse_cards("As2dJhJd"), board)  # 7-4-3-2-A
    worse = omaha_low(parse_cards("As6dJsJc"), board)  # 7-6-4-3-A
    assert better is not None and worse is not None
    assert better < worse
    assert describe_low(better) == "7-4-3-2-A low"
    assert describe_low(worse) == "7-6-4-3-A low"


def test_paired_hole_cards_do_not_make_a_low() -> None:
    # A pair in hand counts once: A-A cannot supply two low ranks.
    assert omaha_low(parse_cards("AsAdKhKd"), parse_cards("2c3c7hQhQd")) is None
