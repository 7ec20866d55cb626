"""The hand state machine. (Interface first version: bodies follow.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import final

import msgspec

from poker.actions import AnyAction
from poker.cards import Card, Deck
from poker.config import HandConfig, SeatSetup
from poker.events import Event, PotShare


class BlindSeats(msgspec.Struct, frozen=True):
    """Who posts the blinds, as the table planned it (dead button / dead small blind rules
    live in the table's seating plan). ``small`` None: no small blind this hand."""

    small: int | None
    big: int


class LegalActions(msgspec.Struct, frozen=True):
    """What ``seat`` may do now. Amounts are chips; ``None`` means not allowed.

    ``call`` is the chips a call adds (it may be an all-in for less). ``min_raise_to`` and
    ``max_raise_to`` bound ``bet_or_raise_to(amount)``: the total the bet becomes this street
    (fixed limit: both equal the one allowed amount, or the all-in).
    """

    seat: int
    fold: bool = False
    check: bool = False
    call: int | None = None
    min_raise_to: int | None = None
    max_raise_to: int | None = None
    show: bool = False
    muck: bool = False
    run_it_twice: bool = False


class PotResult(msgspec.Struct, frozen=True):
    amount: int  # before rake
    rake: int
    eligible: tuple[int, ...]
    # (run, share, seat, chips won)
    awards: tuple[tuple[int, PotShare, int, int], ...]


class HandResult(msgspec.Struct, frozen=True):
    seats: tuple[int, ...]
    starting_stacks: tuple[int, ...]
    stacks: tuple[int, ...]  # finishing, in the order of ``seats``
    pots: tuple[PotResult, ...]
    rake: int
    board: tuple[str, ...]
    second_board: tuple[str, ...]  # run it twice; () otherwise

    def stack_of(self, seat: int) -> int:
        return self.stacks[self.seats.index(seat)]


@final
class Hand:
    """One hand of poker. Pure and deterministic: everything random comes in the deck."""

    def __init__(
        self,
        config: HandConfig,
        seats: Sequence[SeatSetup],
        button: int,
        deck: Deck,
        blinds: BlindSeats | None = None,
    ) -> None:
        """``button`` may be an empty seat (dead button). ``blinds`` None: heads-up the
        button posts the small blind, otherwise the next two dealt-in seats clockwise."""
        raise NotImplementedError

    def start(self) -> list[Event]:
        """Post antes and blinds, deal hole cards; the first betting round opens."""
        raise NotImplementedError

    @property
    def actor(self) -> int | None:
        """The seat whose decision the hand waits for, or None (over / not started)."""
        raise NotImplementedError

    @property
    def is_over(self) -> bool:
        raise NotImplementedError

    @property
    def stacks(self) -> dict[int, int]:
        """Chips behind (not in front of the player) by seat, now."""
        raise NotImplementedError

    @property
    def board(self) -> tuple[Card, ...]:
        raise NotImplementedError

    def hole_cards(self, seat: int) -> tuple[Card, ...]:
        raise NotImplementedError

    @property
    def result(self) -> HandResult:
        """Once over: finishing stacks, pots with winners, rake."""
        raise NotImplementedError

    def legal_actions(self) -> LegalActions:
        raise NotImplementedError

    # fold
    def verify_fold(self, seat: int) -> None:
        raise NotImplementedError

    def can_fold(self, seat: int) -> bool:
        raise NotImplementedError

    def fold(self, seat: int) -> list[Event]:
        raise NotImplementedError

    # check or call
    def verify_check_or_call(self, seat: int) -> None:
        raise NotImplementedError

    def can_check_or_call(self, seat: int) -> bool:
        raise NotImplementedError

    def check_or_call(self, seat: int) -> list[Event]:
        raise NotImplementedError

    # bet or raise to
    def verify_bet_or_raise_to(self, seat: int, amount: int) -> None:
        raise NotImplementedError

    def can_bet_or_raise_to(self, seat: int, amount: int) -> bool:
        raise NotImplementedError

    def bet_or_raise_to(self, seat: int, amount: int) -> list[Event]:
        raise NotImplementedError

    # showdown
    def verify_show(self, seat: int) -> None:
        raise NotImplementedError

    def can_show(self, seat: int) -> bool:
        raise NotImplementedError

    def show(self, seat: int) -> list[Event]:
        raise NotImplementedError

    def verify_muck(self, seat: int) -> None:
        raise NotImplementedError

    def can_muck(self, seat: int) -> bool:
        raise NotImplementedError

    def muck(self, seat: int) -> list[Event]:
        raise NotImplementedError

    # run it twice
    def verify_agree_run_it_twice(self, seat: int, agree: bool) -> None:
        raise NotImplementedError

    def can_agree_run_it_twice(self, seat: int, agree: bool) -> bool:
        raise NotImplementedError

    def agree_run_it_twice(self, seat: int, agree: bool) -> list[Event]:
        raise NotImplementedError

    def apply(self, action: AnyAction) -> list[Event]:
        raise NotImplementedError

    def snapshot(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def restore(cls, data: bytes) -> Hand:
        raise NotImplementedError
