"""Cards and decks.

A ``Card`` is one of 52 interned singletons. It subclasses ``eval7.Card`` so that hand
evaluation hands our cards straight to eval7 with no per-evaluation mapping (the issue allows
the wrapper at most 1.3x the cost of raw eval7 calls; a lookup per card costs ~1.7x).
Each card also carries ``index`` (0..51, ``rank * 4 + suit``) for compact snapshots and wire
messages, and ``code`` (``"As"``) for text.

Randomness is injected: ``Deck.shuffled(rng)`` takes a ``random.Random``; production passes
``secrets.SystemRandom()``, tests a seeded ``random.Random``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from typing import Final, final

import eval7

from poker.errors import DeckExhausted

RANKS: Final = "23456789TJQKA"
SUITS: Final = "cdhs"  # eval7's suit order: c=0, d=1, h=2, s=3
DECK_SIZE: Final = 52
_SHUFFLE_BITS: Final = 256
# Values at or above this would make some orders likelier than others: redraw them.
_SHUFFLE_LIMIT: Final = (
    (1 << _SHUFFLE_BITS) // math.factorial(DECK_SIZE) * math.factorial(DECK_SIZE)
)


@final
class Card(eval7.Card):  # type: ignore[misc]  # eval7 ships no type stubs
    """A playing card. Use ``Card.parse("As")`` or ``Card.from_index(i)``; never construct."""

    index: int
    code: str

    @staticmethod
    def parse(code: str) -> Card:
        """The card for a two-character code such as ``"As"`` or ``"Td"``."""
        try:
            return _BY_CODE[code]
        except KeyError:
            raise ValueError(f"not a card code: {code!r}") from None

    @staticmethod
    def from_index(index: int) -> Card:
        """The card with ``index`` = rank * 4 + suit (0 = ``2c`` .. 51 = ``As``)."""
        if not 0 <= index < DECK_SIZE:
            raise ValueError(f"card index out of range: {index}")
        return ALL_CARDS[index]

    @property
    def rank_index(self) -> int:
        """0 for a deuce .. 12 for an ace."""
        return self.index >> 2

    def __str__(self) -> str:
        return self.code

    def __repr__(self) -> str:
        return f"Card({self.code!r})"

    def __int__(self) -> int:
        return self.index

    def __index__(self) -> int:
        return self.index


def _make_card(index: int) -> Card:
    code = RANKS[index >> 2] + SUITS[index & 3]
    card = Card(code)
    card.index = index
    card.code = code
    return card


ALL_CARDS: Final[tuple[Card, ...]] = tuple(_make_card(i) for i in range(DECK_SIZE))
_BY_CODE: Final[dict[str, Card]] = {card.code: card for card in ALL_CARDS}


def parse_cards(text: str) -> tuple[Card, ...]:
    """Cards from concatenated codes, spaces allowed: ``"AsKd"`` or ``"As Kd 2c"``."""
    compact = text.replace(" ", "")
    if len(compact) % 2:
        raise ValueError(f"odd number of characters in card text: {text!r}")
    return tuple(Card.parse(compact[i : i + 2]) for i in range(0, len(compact), 2))


def _as_card(card: Card | str) -> Card:
    return card if isinstance(card, Card) else Card.parse(card)


def _card_list(cards: str | Sequence[Card | str]) -> list[Card]:
    if isinstance(cards, str):
        return list(parse_cards(cards))
    return [_as_card(card) for card in cards]


def cards_text(cards: Iterable[Card]) -> str:
    """``"AsKd"`` for the cards in order."""
    return "".join(card.code for card in cards)


@final
class Deck:
    """An ordered deck; ``draw`` takes from the top (the front of ``cards``).

    The engine's dealing order (see docs/poker-engine.md and ``Hand.start``) says which
    drawn card goes where, so ``Deck.stacked`` reproduces any deal exactly.
    """

    __slots__ = ("_cards", "_position")

    def __init__(self, cards: Sequence[Card], position: int = 0) -> None:
        if len(set(cards)) != len(cards):  # eval7 cards hash and compare by value
            raise ValueError("a deck may not hold the same card twice")
        self._cards: list[Card] = list(cards)
        self._position = position

    @classmethod
    def shuffled(cls, rng: random.Random) -> Deck:
        """All 52 cards in a uniformly random order drawn from ``rng``.

        One ``getrandbits(256)`` instead of ``rng.shuffle``'s 51 calls: its value, if below
        the largest multiple of 52! under 2**256 (else drawn again, p < 1e-9), read as mixed
        radix digits is a Fisher-Yates shuffle with exactly uniform swaps. Twice as fast
        with ``random.Random``, nine times with ``secrets.SystemRandom`` (one urandom read).
        """
        getrandbits = rng.getrandbits
        value = getrandbits(_SHUFFLE_BITS)
        while value >= _SHUFFLE_LIMIT:
            value = getrandbits(_SHUFFLE_BITS)
        cards = list(ALL_CARDS)
        for top in range(DECK_SIZE - 1, 0, -1):
            value, pick = divmod(value, top + 1)
            cards[top], cards[pick] = cards[pick], cards[top]
        deck = cls.__new__(cls)
        deck._cards = cards
        deck._position = 0
        return deck

    @classmethod
    def stacked(cls, cards: Iterable[Card | str], *, complete: bool = False) -> Deck:
        """A deck holding ``cards`` in this order on top (tests and PHH replay).

        ``complete``: the unused cards follow in index order (2c, 2d, ..), so a hand needs
        only the cards that matter stacked; otherwise the deck holds exactly ``cards`` and
        ``Hand`` refuses a deck too short for a full deal.
        """
        top = [card if isinstance(card, Card) else Card.parse(card) for card in cards]
        if complete:
            used = {card.index for card in top}
            top.extend(card for card in ALL_CARDS if card.index not in used)
        return cls(top)

    @classmethod
    def for_deal(
        cls, hole: Sequence[str | Sequence[Card | str]], board: str | Sequence[Card | str] = ()
    ) -> Deck:
        """A deck from which ``Hand`` deals exactly these hole cards and board.

        ``hole``: each player's cards (``"AsKd"`` or a sequence) in dealing order
        (``Hand.dealing_order``). The engine deals one card at a time around the table,
        then burns one card before the flop, the turn and the river. Burn cards and any
        board left open are the unused cards in index order, then the rest of the deck.
        """
        hole_cards = [_card_list(cards) for cards in hole]
        board_cards = _card_list(board)
        used = {card.index for cards in hole_cards for card in cards}
        used.update(card.index for card in board_cards)
        spare = [card for card in ALL_CARDS if card.index not in used]
        spare.reverse()  # pop() from the end gives index order
        order: list[Card] = []
        rounds = max((len(cards) for cards in hole_cards), default=0)
        for round_index in range(rounds):
            order.extend(cards[round_index] for cards in hole_cards)
        for street_cards in (board_cards[:3], board_cards[3:4], board_cards[4:5]):
            if not street_cards:
                break
            order.append(spare.pop())
            order.extend(street_cards)
        order.extend(reversed(spare))
        return cls(order)

    @property
    def remaining(self) -> int:
        return len(self._cards) - self._position

    @property
    def cards(self) -> tuple[Card, ...]:
        """Every card of the deck in order, dealt ones included."""
        return tuple(self._cards)

    @property
    def position(self) -> int:
        """How many cards have been drawn."""
        return self._position

    def draw(self, count: int) -> list[Card]:
        """The next ``count`` cards from the top."""
        start = self._position
        end = start + count
        if end > len(self._cards):
            raise DeckExhausted(f"deck has {len(self._cards) - start} cards, {count} needed")
        self._position = end
        return self._cards[start:end]

    def copy(self) -> Deck:
        deck = Deck.__new__(Deck)
        deck._cards = list(self._cards)
        deck._position = self._position
        return deck
