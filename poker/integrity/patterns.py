"""What a flagged pair did in one hand, read from its stored history (staff's copy: every
card). Pure. The patterns are evidence for the staff who review a flag, not part of the
flag's test (docs/integrity.md):

- ``folded_best_hand``: the giver folded to the receiver's bet or raise while holding the
  better hand: after the flop, the better hand on the board dealt so far; before it, one of
  AA, KK, QQ, AK (hold'em).
- ``big_loss_weak_hand``: the giver paid the receiver at least BIG_LOSS_BB_MIN big blinds in
  the hand holding nothing: no pair on the final board (or, all in before the flop, two
  unpaired cards below a ten).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Final

from poker import phh
from poker.cards import Card
from poker.evaluation import describe_high, holdem_high, omaha_high

FOLDED_BEST_HAND: Final = "folded_best_hand"
BIG_LOSS_WEAK_HAND: Final = "big_loss_weak_hand"
BIG_LOSS_BB_MIN: Final = 20
PATTERNS: Final = (BIG_LOSS_WEAK_HAND, FOLDED_BEST_HAND)

_HOLDEM: Final = frozenset({"NT", "FT", "PT"})
_OMAHA: Final = frozenset({"PO", "PO/8"})
_PREMIUM_RANKS: Final = frozenset({("A", "A"), ("K", "K"), ("Q", "Q"), ("A", "K")})
_BROADWAY: Final = frozenset("TJQKA")


def _value(variant: str, hole: list[Card], board: list[Card]) -> int | None:
    if variant in _HOLDEM:
        return holdem_high(hole, board)
    if variant in _OMAHA and len(hole) >= 2:
        return omaha_high(hole, board)
    return None


def _premium(variant: str, hole: list[Card]) -> bool:
    if variant not in _HOLDEM or len(hole) != 2:
        return False
    ranks = sorted((card.code[0] for card in hole), key="AKQ".find)
    return (ranks[0], ranks[1]) in _PREMIUM_RANKS


def _nothing(variant: str, hole: list[Card], board: list[Card]) -> bool:
    if len(board) >= 3:
        value = _value(variant, hole, board)
        return value is not None and describe_high(value) == "High Card"
    if variant not in _HOLDEM or len(hole) != 2:
        return False
    first, second = (card.code[0] for card in hole)
    return first != second and first not in _BROADWAY and second not in _BROADWAY


def dumping_patterns(
    history: phh.HandHistory, giver: int, receiver: int, giver_paid_bb: Fraction
) -> tuple[str, ...]:
    """The patterns of one hand (sorted names), for the giver and receiver (player ids, as the
    history's ``players`` holds them). A history without players, or without either of them,
    or whose cards are unknown, has none."""
    players = history.players or ()
    try:
        g, r = players.index(str(giver)), players.index(str(receiver))
    except ValueError:
        return ()
    variant = history.variant
    hole: dict[int, list[Card]] = {}
    board: list[Card] = []
    aggressor: int | None = None  # who bet or raised last on this street
    found: set[str] = set()
    for text in history.actions:
        try:
            action = phh.parse_action(text)
        except phh.PhhError:
            return ()
        match action:
            case phh.DealHole(player=p, cards=cards) if phh.UNKNOWN_CARD not in cards:
                hole[p] = [Card.parse(code) for code in cards]
            case phh.DealBoard(cards=cards):
                board.extend(Card.parse(code) for code in cards)
                aggressor = None
            case phh.CompleteBetOrRaiseTo(player=p):
                aggressor = p
            case phh.Fold(player=p) if p == g and aggressor == r:
                if _folded_best(variant, hole.get(g), hole.get(r), board):
                    found.add(FOLDED_BEST_HAND)
            case _:
                pass
    own = hole.get(g)
    if giver_paid_bb >= BIG_LOSS_BB_MIN and own is not None and _nothing(variant, own, board):
        found.add(BIG_LOSS_WEAK_HAND)
    return tuple(sorted(found))


def _folded_best(
    variant: str, own: list[Card] | None, theirs: list[Card] | None, board: list[Card]
) -> bool:
    if own is None:
        return False
    if len(board) < 3:
        return _premium(variant, own)
    if theirs is None:
        return False
    mine, other = _value(variant, own, board), _value(variant, theirs, board)
    return mine is not None and other is not None and mine > other
