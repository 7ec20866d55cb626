"""Final-table deals: ICM (Malmuth-Harville) and chip-chop, in integer chips.

ICM: the chance that a player finishes first is their share of the chips in play; given who
finished above, the chance of the next place is their share of the chips left (Malmuth-
Harville). ``icm_equities`` computes every player's expected prize exactly (``Fraction``)
by dynamic programming over the subsets of players already placed: O(2^n * n), exact for up
to ``ICM_PLAYERS_MAX`` players; ``icm_equities_brute_force`` sums over every finishing order
(the tests check one against the other).

A deal shares the prizes of the places still to be decided. Some of it may be kept to be
played for (``keep``): it is taken off the top prizes, first place down, flattening them
(first place comes down to second's level before both come down together, and so on), and
goes to whoever wins. Amounts are whole chips: each player gets their exact share rounded
down, and the chips left over go one each to the largest fractional parts (ties: the larger
stack, then the order given), so a deal sums exactly to what it shares.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from fractions import Fraction
from typing import Final

from poker.tournament.errors import DealRefused

ICM_PLAYERS_MAX: Final = 10


def _check(stacks: Sequence[int], prizes: Sequence[int]) -> None:
    if not 1 <= len(stacks) <= ICM_PLAYERS_MAX:
        raise DealRefused(f"a deal is for 1..{ICM_PLAYERS_MAX} players, got {len(stacks)}")
    if any(type(s) is not int or s <= 0 for s in stacks):
        raise DealRefused("every player in a deal has chips")
    if len(prizes) != len(stacks) or any(type(p) is not int or p < 0 for p in prizes):
        raise DealRefused("one prize (>= 0) per remaining place")


def icm_equities(stacks: Sequence[int], prizes: Sequence[int]) -> list[Fraction]:
    """Each player's expected prize; ``prizes[k]`` is the prize for place k+1."""
    _check(stacks, prizes)
    n = len(stacks)
    total = sum(stacks)
    # reach[mask]: the chance that the players in ``mask`` took places 1..popcount(mask).
    reach: list[Fraction] = [Fraction(0)] * (1 << n)
    reach[0] = Fraction(1)
    chips_in = [0] * (1 << n)
    equities = [Fraction(0)] * n
    for mask in range(1 << n):
        chance = reach[mask]
        if not chance:
            continue
        place = mask.bit_count()
        if place == n:
            continue
        left = total - chips_in[mask]
        for player in range(n):
            bit = 1 << player
            if mask & bit:
                continue
            step = chance * Fraction(stacks[player], left)
            equities[player] += step * prizes[place]
            reach[mask | bit] += step
            chips_in[mask | bit] = chips_in[mask] + stacks[player]
    return equities


def icm_equities_brute_force(stacks: Sequence[int], prizes: Sequence[int]) -> list[Fraction]:
    """The same by summing over every finishing order (n! of them; for tests)."""
    _check(stacks, prizes)
    n = len(stacks)
    equities = [Fraction(0)] * n
    for order in itertools.permutations(range(n)):
        chance = Fraction(1)
        left = sum(stacks)
        for player in order:
            chance *= Fraction(stacks[player], left)
            left -= stacks[player]
        for place, player in enumerate(order):
            equities[player] += chance * prizes[place]
    return equities


def whole_chips(exact: Sequence[Fraction], stacks: Sequence[int]) -> list[int]:
    """Exact shares summing to a whole number, rounded to whole chips summing to the same."""
    total = sum(exact)
    if total.denominator != 1:
        raise DealRefused("the shares do not sum to a whole number of chips")
    amounts = [share.numerator // share.denominator for share in exact]
    left = int(total) - sum(amounts)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - amounts[i]), -stacks[i], i))
    for index in order[:left]:
        amounts[index] += 1
    return amounts


def keep_off_the_top(prizes: Sequence[int], keep: int) -> list[int]:
    """``prizes`` (non-increasing) less ``keep`` chips taken from the top, flattening: the
    largest prizes come down first, to the next one's level, then together."""
    if keep < 0 or keep > sum(prizes):
        raise DealRefused(f"cannot keep {keep} of {sum(prizes)} to play for")
    result = list(prizes)
    left = keep
    count = 1
    while left:
        while count < len(result) and result[count] == result[0]:
            count += 1
        floor = result[count] if count < len(result) else 0
        room = (result[0] - floor) * count
        if room >= left:
            each, odd = divmod(left, count)
            for i in range(count):
                result[i] -= each + (1 if i >= count - odd else 0)
            left = 0
        else:
            for i in range(count):
                result[i] = floor
            left -= room
    return result


def icm_deal(stacks: Sequence[int], prizes: Sequence[int], keep: int = 0) -> list[int]:
    """What each player takes now in an ICM deal; ``keep`` stays to be played for."""
    _check(stacks, prizes)
    shared = keep_off_the_top(prizes, keep)
    return whole_chips(icm_equities(stacks, shared), stacks)


def chip_chop(stacks: Sequence[int], prizes: Sequence[int], keep: int = 0) -> list[int]:
    """Chip-chop: each player gets the lowest remaining prize, and what is left of the
    shared prizes in proportion to their chips. (With a large chip lead this can pay the
    leader more than first prize: the players agree to it, the core does not refuse it.)"""
    _check(stacks, prizes)
    shared = keep_off_the_top(prizes, keep)
    lowest = min(shared)
    rest = sum(shared) - lowest * len(stacks)
    total = sum(stacks)
    exact = [lowest + Fraction(rest * s, total) for s in stacks]
    return whole_chips(exact, stacks)
