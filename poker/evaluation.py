"""Hand values: eval7 for high hands, our own ace-to-five 8-or-better low, Omaha's 2+3 rule.

Our ``Card`` subclasses ``eval7.Card``, so a high evaluation hands the cards straight to
eval7 (no per-call mapping). Values: higher ``high`` is better; lower ``low`` key is better
and ``None`` means no qualifying low.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Final

import eval7

from poker.cards import Card

_evaluate: Final = eval7.evaluate
_handtype: Final = eval7.handtype

# Low rank of each card index: ace = 1, deuce = 2 .. eight = 8; 0 for nine and above.
_LOW_RANK: Final[tuple[int, ...]] = tuple(
    (1 if (i >> 2) == 12 else (i >> 2) + 2) if ((i >> 2) <= 6 or (i >> 2) == 12) else 0
    for i in range(52)
)
_LOW_NAMES: Final = {1: "A", 2: "2", 3: "3", 4: "4", 5: "5", 6: "6", 7: "7", 8: "8"}


# The eval7 value of the best five of 5..7 cards (higher is better): eval7's own function,
# bound without a wrapper (settling a showdown calls it once per player).
high_value: Final[Callable[[Sequence[Card]], int]] = _evaluate


def holdem_high(hole: list[Card], board: list[Card]) -> int:
    """Hold'em: the best five of hole + board, any combination."""
    value: int = _evaluate(hole + board)
    return value


def omaha_high(hole: Sequence[Card], board: Sequence[Card]) -> int:
    """Omaha: exactly two hole cards and exactly three board cards."""
    best = -1
    board_threes = list(combinations(board, 3))
    for first, second in combinations(hole, 2):
        for a, b, c in board_threes:
            value: int = _evaluate([first, second, a, b, c])
            if value > best:
                best = value
    return best


def omaha_low(hole: Sequence[Card], board: Sequence[Card]) -> int | None:
    """Best ace-to-five 8-or-better low using exactly two hole and three board cards.

    Key: the five ranks sorted high to low, read as a base-9 number (lower is better);
    ``None`` when no qualifying low exists. Straights and flushes do not count against a low.
    """
    board_ranks = sorted({_LOW_RANK[card.index] for card in board} - {0})
    if len(board_ranks) < 3:
        return None
    hole_ranks = sorted({_LOW_RANK[card.index] for card in hole} - {0})
    best: int | None = None
    for a, b in combinations(hole_ranks, 2):
        # For fixed hole ranks the three lowest distinct board ranks give the best low.
        chosen = [rank for rank in board_ranks if rank != a and rank != b][:3]
        if len(chosen) < 3:
            continue
        r5, r4, r3, r2, r1 = sorted((a, b, *chosen))
        key = (((r1 * 9 + r2) * 9 + r3) * 9 + r4) * 9 + r5
        if best is None or key < best:
            best = key
    return best


def describe_high(value: int) -> str:
    """E.g. ``"Full House"``."""
    name: str = _handtype(value)
    return name


def describe_low(key: int) -> str:
    """E.g. ``"8-6-4-2-A low"``."""
    ranks = []
    for _ in range(5):
        key, rank = divmod(key, 9)
        ranks.append(rank)
    return "-".join(_LOW_NAMES[rank] for rank in reversed(ranks)) + " low"
