"""Bet sizing for no-limit, pot-limit and fixed-limit betting rounds.

Pure functions over the few numbers a betting round keeps, so the rules read in one place:

- Minimum bet is the big blind; a raise must be at least the last full bet or raise on the
  street (WSOP tournament rule 96, live rule 128). An all-in for less is always allowed.
- Pot limit: the largest raise is the pot after calling (tournament rule 101).
- Fixed limit: every bet and raise is exactly one bet of the street's size; a short all-in of
  at least half a bet counts as a full bet (live rule 129) and the next raise goes a full bet
  above it, otherwise the next player may complete to the full amount.
- Reopening: a player who already acted may raise again only if the bet grew by at least a
  full raise since they acted (rule 96 and its consecutive all-ins exception 96a); in fixed
  limit by at least half a bet (live rule 129).
"""

from __future__ import annotations

from typing import Final

from poker.config import Limit

NOT_ACTED: Final = -1


def betting_reopened(limit: Limit, high: int, acted_at: int, raise_size: int) -> bool:
    """Whether a player who acted when the bet was ``acted_at`` may raise at ``high``.

    ``raise_size``: no/pot limit, the last full raise of the street; fixed limit, the
    street's bet size.
    """
    if acted_at == NOT_ACTED:
        return True
    grown = high - acted_at
    if limit is Limit.FIXED_LIMIT:
        return grown * 2 >= raise_size
    return grown >= raise_size


def raise_bounds(
    limit: Limit,
    *,
    high: int,
    bet: int,
    stack: int,
    raise_size: int,
    full_to: int,
    pot_after_call: int,
) -> tuple[int, int]:
    """``(min_to, max_to)`` for a player allowed to raise; ``max_to`` may be below the full
    minimum when the player is all-in for less, in which case both equal the all-in."""
    all_in_to = bet + stack
    if limit is Limit.FIXED_LIMIT:
        target = full_to + raise_size
        amount = target if target < all_in_to else all_in_to
        return amount, amount
    min_to = high + raise_size
    if limit is Limit.POT_LIMIT:
        max_to = high + pot_after_call
        if max_to > all_in_to:
            max_to = all_in_to
    else:
        max_to = all_in_to
    if min_to > max_to:
        min_to = max_to
    return min_to, max_to
