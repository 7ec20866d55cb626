"""Who paid the rake: each player's share of a hand's rake, by weighted contribution.

The house takes rake from pots, not from players; rakeback and player statistics need it per
player. The rule ("weighted contributed", as the large rooms count it): a player's share is

    hand's rake x (her chips in the pots that were raked) / (all chips in those pots)

whoever won: a player who folded pays for the chips she left in a raked pot, a player whose
chips all went into a side pot the rake cap left unraked pays nothing, and one who put in half
the raked chips pays half the rake.

Whole chips: each share is rounded down, and the chips this leaves (fewer than the number of
players) go one each to the players with the largest remainders; equal remainders go first to
the player first clockwise from the button (the lowest position, as with odd chips of a split
pot). So the shares are whole, never negative, each within one chip of the exact proportion,
and they sum exactly to the hand's rake.

Dead money (dead small blinds, a big-blind ante) is in the main pot under nobody's name (the
engine keeps it as one sum): it is in no one's weight, and the shares still sum to the rake.
A raked pot made of dead money alone (it cannot happen at a cash table, where someone always
has chips in) is shared by its eligible players equally, by the same rounding.

Pure: no I/O; the table stores the shares in the hand record (persistence/hands.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # showdown.py imports pot_contributions from here
    from poker.showdown import HandResult


def pot_contributions(
    committed: Sequence[int], live: Sequence[bool]
) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Each pot's chips by position and its eligible positions, main pot first, formed as
    ``poker.pots.build_pots`` forms them (without the dead money, which is nobody's)."""
    n = len(committed)
    live_positions = [p for p in range(n) if live[p]]
    levels = sorted({committed[p] for p in live_positions})
    if len(levels) <= 1:
        return [(tuple(committed), tuple(live_positions))]
    pots: list[tuple[list[int], tuple[int, ...]]] = []
    previous = 0
    top = len(levels) - 1
    for index, level in enumerate(levels):
        share = [0] * n
        for p, paid in enumerate(committed):
            if paid > previous:
                share[p] = (paid if index == top or paid < level else level) - previous
        eligible = tuple(p for p in range(n) if live[p] and committed[p] >= level)
        if pots and pots[-1][1] == eligible:
            merged = pots[-1][0]
            for p in range(n):
                merged[p] += share[p]
        elif any(share) or not pots:
            pots.append((share, eligible))
        previous = level
    if not pots:
        pots.append(([0] * n, tuple(live_positions)))
    return [(tuple(share), eligible) for share, eligible in pots]


def rake_shares(result: HandResult) -> tuple[int, ...]:
    """Each position's share of ``result.rake`` (aligned with ``result.seats``); they sum to
    it exactly. Needs the pots' contributions (``PotResult.contributions``)."""
    n = len(result.seats)
    rake = result.rake
    if rake == 0:
        return (0,) * n
    weights = [0] * n
    for pot in result.pots:
        if pot.rake:
            if len(pot.contributions) != n:
                raise ValueError("a raked pot without its contributions")
            for position, chips in enumerate(pot.contributions):
                weights[position] += chips
    if not any(weights):
        positions = {result.seats.index(seat) for pot in result.pots if pot.rake
                     for seat in pot.eligible}  # fmt: skip
        weights = [1 if p in positions else 0 for p in range(n)]
    return apportion(rake, weights)


def apportion(total: int, weights: Sequence[int]) -> tuple[int, ...]:
    """``total`` split in proportion to ``weights`` (non-negative, not all zero), in whole
    units: rounded down, the rest one each by largest remainder, ties to the lowest index."""
    weight_sum = sum(weights)
    if total < 0 or weight_sum <= 0 or min(weights) < 0:
        raise ValueError("apportion needs total >= 0 and non-negative weights, not all zero")
    shares = [total * w // weight_sum for w in weights]
    left = total - sum(shares)
    remainders = [total * w % weight_sum for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return tuple(shares)
