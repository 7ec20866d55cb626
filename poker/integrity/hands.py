"""A stored hand as the integrity reports read it, and who paid whom in it. Pure.

The reports (chip dumping, collusion) work from the summary every stored hand has (who was
dealt in and their net result), not from replaying each history: a month of a busy room is
millions of hands. Only the hands a report lists are read in full (their PHH), for patterns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Final, final

import msgspec

# The summary's ``game`` is "{variant} {small blind}/{big blind}" (actors/table/history.py).
_STAKES: Final = re.compile(r"(?:^|\s)(\d+)/(\d+)$")
PLAYERS_PER_HAND_MAX: Final = 10  # a table seats at most 10; more is refused (ValueError)


@final
class SeatedPlayer(msgspec.Struct, frozen=True):
    player_id: int
    net: int  # chips won (positive) or lost (negative) in the hand, after rake


@final
class SeatedHand(msgspec.Struct, frozen=True):
    """What the reports need of one stored hand (persistence.hands.HandSummary)."""

    hand_id: str
    table_id: str
    game: str  # e.g. "NT 1/2": the stakes group of the collusion statistic
    asset: str  # "chips" (real money) or "play": never mixed in one figure
    ended_at_ms: int
    players: tuple[SeatedPlayer, ...]

    def __post_init__(self) -> None:
        if len(self.players) > PLAYERS_PER_HAND_MAX:
            raise ValueError(f"hand {self.hand_id!r}: more than {PLAYERS_PER_HAND_MAX} players")
        ids = [p.player_id for p in self.players]
        if len(set(ids)) != len(ids):
            raise ValueError(f"hand {self.hand_id!r}: a player is dealt in twice")


def big_blind_of(game: str) -> int:
    """The big blind of a summary's ``game`` ("NT 1/2" -> 2; fixed limit's small bet for
    "FT 2/4" is the blinds' 2/4 as well). 1 when the text names no stakes (an old row): the
    figure is then in chips."""
    found = _STAKES.search(game.strip())
    if found is None:
        return 1
    return max(1, int(found.group(2)))


Pair = tuple[int, int]  # (from player, to player)


def pair_flows(hand: SeatedHand) -> dict[Pair, Fraction]:
    """Chips that went from each loser to each winner of the hand, exactly.

    A loser's loss is shared among the winners in proportion to what each won:
    ``flow(l -> w) = loss(l) * win(w) / total loss``. Each winner's inflows sum to her
    win; each loser's outflows sum to her loss less her share of the rake. With one winner
    (almost every hand) it is exact: every loser paid that winner. With a split or side pots
    it is the proportional share (documented in docs/integrity.md)."""
    winners = [(p.player_id, p.net) for p in hand.players if p.net > 0]
    losers = [(p.player_id, -p.net) for p in hand.players if p.net < 0]
    lost = sum(loss for _, loss in losers)
    if not winners or lost == 0:
        return {}
    return {
        (loser, winner): Fraction(loss * won, lost)
        for loser, loss in losers
        for winner, won in winners
    }


def flows_in_big_blinds(hand: SeatedHand) -> Mapping[Pair, Fraction]:
    big_blind = big_blind_of(hand.game)
    return {pair: flow / big_blind for pair, flow in pair_flows(hand).items()}


def nearest_chip(amount: Fraction) -> int:
    """A figure for people: the nearest whole chip (halves to even, as ``round``)."""
    return round(amount)
