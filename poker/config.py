"""What a table tells a hand before it starts: the game's config and the seats."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import msgspec

from poker.errors import InvalidSetup
from protocol.limits import BASIS_POINTS as BASIS_POINTS
from protocol.limits import SEATS_MAX as SEATS_MAX  # seats are numbered 0..9

PLAYERS_MIN: Final = 2
PLAYERS_MAX: Final = 10


def _require_whole_numbers(record: object, *fields: str) -> None:
    """Chips are integers, always. msgspec checks types when it decodes, not when a Struct
    is built in Python, so a float (or a bool, an int subclass) would slip into the stacks."""
    for name in fields:
        if type(getattr(record, name)) is not int:
            raise InvalidSetup(
                f"{name} must be a whole number (int), got {getattr(record, name)!r}"
            )


class Variant(StrEnum):
    """Codes follow the PHH spec. ``PT`` and ``PO/8`` are our extensions, not in the spec."""

    NO_LIMIT_HOLDEM = "NT"
    FIXED_LIMIT_HOLDEM = "FT"
    POT_LIMIT_OMAHA = "PO"
    POT_LIMIT_HOLDEM = "PT"  # extension
    POT_LIMIT_OMAHA_HI_LO = "PO/8"  # extension

    # Read once per hand: plain class-level tables filled in below, not computed per call.
    hole_cards: int
    is_omaha: bool
    is_hi_lo: bool
    limit: Limit


class Limit(StrEnum):
    NO_LIMIT = "no_limit"
    POT_LIMIT = "pot_limit"
    FIXED_LIMIT = "fixed_limit"


_OMAHA: Final = frozenset({Variant.POT_LIMIT_OMAHA, Variant.POT_LIMIT_OMAHA_HI_LO})
_LIMITS: Final = {
    Variant.NO_LIMIT_HOLDEM: Limit.NO_LIMIT,
    Variant.FIXED_LIMIT_HOLDEM: Limit.FIXED_LIMIT,
    Variant.POT_LIMIT_OMAHA: Limit.POT_LIMIT,
    Variant.POT_LIMIT_HOLDEM: Limit.POT_LIMIT,
    Variant.POT_LIMIT_OMAHA_HI_LO: Limit.POT_LIMIT,
}
for _variant in Variant:
    _variant.hole_cards = 4 if _variant in _OMAHA else 2
    _variant.is_omaha = _variant in _OMAHA
    _variant.is_hi_lo = _variant is Variant.POT_LIMIT_OMAHA_HI_LO
    _variant.limit = _LIMITS[_variant]


class AnteMode(StrEnum):
    NONE = "none"
    EACH = "each"  # every dealt-in player posts ``ante``
    BIG_BLIND = "big_blind"  # the big blind posts ``ante`` for the whole table


class ReturningPost(StrEnum):
    """What the table asks a player returning to a cash table to post (WSOP live rule 160)."""

    NONE = "none"
    BIG_BLIND = "big_blind"  # live: counts as the player's bet, with the option to raise
    BIG_BLIND_AND_DEAD_SMALL = "big_blind_and_dead_small"  # small blind goes dead to the pot


class HandConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The game's rules for one hand. Amounts are chips (integers).

    ``raises_cap``: fixed limit only, the number of raises after the bet (3 = a bet plus three
    raises, as agreed; WSOP live rule 126 says four); no cap on a betting round that begins
    with only two players who are not all-in (live rule 127).
    ``rake_bp``: rake in basis points of each pot, rounded down; ``rake_cap`` caps the rake of
    the whole hand (0 = no cap).
    """

    variant: Variant
    small_blind: int
    big_blind: int
    ante: int = 0
    ante_mode: AnteMode = AnteMode.NONE
    straddle: int = 0
    small_bet: int = 0
    big_bet: int = 0
    raises_cap: int = 3
    rake_bp: int = 0
    rake_cap: int = 0
    no_flop_no_drop: bool = True
    allow_run_it_twice: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.variant, Variant) or not isinstance(self.ante_mode, AnteMode):
            raise InvalidSetup("variant and ante_mode must be members of their enums")
        _require_whole_numbers(
            self,
            "small_blind",
            "big_blind",
            "ante",
            "straddle",
            "small_bet",
            "big_bet",
            "raises_cap",
            "rake_bp",
            "rake_cap",
        )
        if not 0 <= self.small_blind <= self.big_blind or self.big_blind <= 0:
            raise InvalidSetup("need 0 <= small_blind <= big_blind and big_blind > 0")
        if self.ante < 0 or (self.ante > 0) != (self.ante_mode is not AnteMode.NONE):
            raise InvalidSetup("ante > 0 exactly when ante_mode is not 'none'")
        if self.straddle and self.straddle < self.big_blind:
            raise InvalidSetup("a straddle is at least the big blind")
        if self.straddle < 0:
            raise InvalidSetup("straddle must not be negative")
        if self.variant.limit is Limit.FIXED_LIMIT:
            if self.small_bet <= 0 or self.big_bet < self.small_bet:
                raise InvalidSetup("fixed limit needs 0 < small_bet <= big_bet")
            if self.straddle:
                raise InvalidSetup("no straddle in fixed limit games (WSOP live rule 11)")
            if self.raises_cap < 1:
                raise InvalidSetup("raises_cap must be at least 1")
        if not 0 <= self.rake_bp <= BASIS_POINTS or self.rake_cap < 0:
            raise InvalidSetup("rake_bp in 0..10000 and rake_cap >= 0")


class SeatSetup(msgspec.Struct, frozen=True, kw_only=True):
    """One dealt-in player. ``posts`` is what the table asks a returning player to post."""

    seat: int
    player_id: str
    stack: int
    posts: ReturningPost = ReturningPost.NONE

    def __post_init__(self) -> None:
        _require_whole_numbers(self, "seat", "stack")
        if not isinstance(self.posts, ReturningPost):
            raise InvalidSetup("posts must be a ReturningPost")
        if not 0 <= self.seat < SEATS_MAX:
            raise InvalidSetup(f"seat {self.seat} out of 0..{SEATS_MAX - 1}")
        if self.stack <= 0:
            raise InvalidSetup(f"seat {self.seat}: a dealt-in player needs chips")


class BlindSeats(msgspec.Struct, frozen=True):
    """Who posts the blinds, as the table planned it (dead button and dead small blind rules
    live in the table's seating plan, WSOP live rule 151). ``small`` None: no small blind."""

    small: int | None
    big: int
