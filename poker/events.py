"""Everything a hand reports: frozen, tagged msgspec Structs (STYLE.md point 4).

These are the stream the hand actor broadcasts and the history records. Cards are their text
codes (``"As"``). ``HoleCardsDealt`` is private to its seat until shown: the actor decides who
may see it. Events are cheap to build on purpose (plain ints, strs and tuples).
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class Street(StrEnum):
    PREFLOP = "preflop"
    FLOP = "flop"
    TURN = "turn"
    RIVER = "river"


class BlindKind(StrEnum):
    SMALL = "small"
    BIG = "big"
    STRADDLE = "straddle"
    POSTED_BIG = "posted_big"  # a returning player's live big blind
    DEAD_SMALL = "dead_small"  # a returning player's dead small blind


class ActionKind(StrEnum):
    FOLD = "fold"
    CHECK = "check"
    CALL = "call"
    BET = "bet"
    RAISE = "raise"


class PotShare(StrEnum):
    WHOLE = "whole"
    HIGH = "high"
    LOW = "low"


class Event(msgspec.Struct, frozen=True, tag=True, gc=False):
    """Base of every hand event.

    ``gc=False`` (inherited): events hold only numbers, strings and tuples of them, so they
    can never be part of a reference cycle; untracked, each costs ~20% less to build.
    """


class HandStarted(Event, frozen=True, tag=True):
    button: int
    seats: tuple[int, ...]
    stacks: tuple[int, ...]  # in the order of ``seats``
    small_blind_seat: int | None
    big_blind_seat: int


class AntePosted(Event, frozen=True, tag=True):
    seat: int
    amount: int
    all_in: bool


class BlindPosted(Event, frozen=True, tag=True):
    seat: int
    kind: BlindKind
    amount: int
    all_in: bool


class HoleCardsDealt(Event, frozen=True, tag=True):
    seat: int
    cards: tuple[str, ...]


class BoardDealt(Event, frozen=True, tag=True):
    street: Street
    cards: tuple[str, ...]  # only the new cards
    run: int = 0  # 1 for the second board of a run it twice


class ActionRequested(Event, frozen=True, tag=True):
    """The next betting decision belongs to ``seat`` (the actor starts its timer)."""

    seat: int


class PlayerActed(Event, frozen=True, tag=True):
    seat: int
    action: ActionKind
    amount: int  # chips this action moved from the stack into the bet
    bet_to: int  # the player's total bet on this street after the action
    all_in: bool


class UncalledBetReturned(Event, frozen=True, tag=True):
    seat: int
    amount: int


class PotView(msgspec.Struct, frozen=True, gc=False):
    amount: int
    eligible: tuple[int, ...]  # seats that can win it


class PotsUpdated(Event, frozen=True, tag=True):
    """Bets were collected into the pots (end of a betting round)."""

    pots: tuple[PotView, ...]


class RunItTwiceOffered(Event, frozen=True, tag=True):
    seats: tuple[int, ...]  # every one of them must agree


class RunItTwiceAnswered(Event, frozen=True, tag=True):
    seat: int
    agree: bool


class RunItTwiceDecided(Event, frozen=True, tag=True):
    runs: int  # 1 or 2


class ShowdownRequested(Event, frozen=True, tag=True):
    """``seat`` must now show or muck."""

    seat: int


class HandShown(Event, frozen=True, tag=True):
    seat: int
    cards: tuple[str, ...]


class HandMucked(Event, frozen=True, tag=True):
    seat: int


class RakeTaken(Event, frozen=True, tag=True):
    pot_index: int
    amount: int


class PotAwarded(Event, frozen=True, tag=True):
    pot_index: int
    run: int
    share: PotShare
    seat: int
    amount: int
    hand: str  # e.g. "Full House" or "8-6-4-2-A low"; "" when won without a showdown


class HandEnded(Event, frozen=True, tag=True):
    seats: tuple[int, ...]
    stacks: tuple[int, ...]  # finishing stacks, in the order of ``seats``
    rake: int


AnyEvent = (
    HandStarted
    | AntePosted
    | BlindPosted
    | HoleCardsDealt
    | BoardDealt
    | ActionRequested
    | PlayerActed
    | UncalledBetReturned
    | PotsUpdated
    | RunItTwiceOffered
    | RunItTwiceAnswered
    | RunItTwiceDecided
    | ShowdownRequested
    | HandShown
    | HandMucked
    | RakeTaken
    | PotAwarded
    | HandEnded
)
