"""Finishing places and who knocked whom out: pure functions over one hand's (or one
hand-for-hand round's) eliminations.

- Players out in the same hand at one table finish in order of their stacks at the start of
  that hand: the larger stack finishes higher; equal stacks tie (WSOP tournament rule 126b).
- Players out in the same hand-for-hand round all tie, wherever they sat (TDA RP-8A: "the
  busting players will be eligible for a share of the place(s) paid on the current hand").
- Tied players share their places' prizes equally (``payouts.split_places``).
- A knockout's bounty goes to whoever won the highest pot the eliminated player had chips
  in (their last chips), split by what each took of that pot when it was shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import msgspec

from poker.showdown import PotResult
from poker.tournament.payouts import split_places


class Placed(msgspec.Struct, frozen=True):
    entry: int
    place: int  # the best of the places shared (1-based)
    tied: int  # how many share places place .. place + tied - 1
    prize: int


def order_busts(busts: Sequence[tuple[int, int]]) -> list[list[int]]:
    """``(entry, stack at the start of the hand)`` -> groups from the highest finish down:
    larger stacks finish higher, equal stacks share a group (entries in the order given)."""
    groups: dict[int, list[int]] = {}
    for entry, stack in busts:
        groups.setdefault(stack, []).append(entry)
    return [groups[stack] for stack in sorted(groups, reverse=True)]


def place_groups(
    groups: Sequence[Sequence[int]], remaining_before: int, prizes: Sequence[int]
) -> list[Placed]:
    """Places for groups of eliminated entries (best group first) when ``remaining_before``
    entries were still in (these included): they take the bottom places."""
    out = sum(len(group) for group in groups)
    place = remaining_before - out + 1
    placed: list[Placed] = []
    padded = list(prizes) + [0] * max(0, remaining_before - len(prizes))
    for group in groups:
        shares = split_places(padded, place, len(group))
        for entry, prize in zip(group, shares, strict=True):
            placed.append(Placed(entry=entry, place=place, tied=len(group), prize=prize))
        place += len(group)
    return placed


def knockout_shares(pots: Sequence[PotResult], busted_seat: int) -> list[tuple[int, int]]:
    """``(seat, chips)`` each winner took of the highest pot the busted seat was eligible
    for: the pot that held their last chips. Empty when they were in no pot."""
    for pot in reversed(pots):
        if busted_seat in pot.eligible:
            taken: dict[int, int] = {}
            for award in pot.awards:
                taken[award.seat] = taken.get(award.seat, 0) + award.amount
            return sorted(taken.items())
    return []


def split_by_weight(amount: int, weights: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """``amount`` split in proportion to the weights, in whole chips summing to ``amount``:
    shares rounded down, the leftover chips one each to the largest remainders (ties: the
    order given)."""
    total = sum(weight for _, weight in weights)
    if total <= 0:
        raise ValueError("weights must sum to more than zero")
    base = [(amount * weight) // total for _, weight in weights]
    left = amount - sum(base)
    order = sorted(range(len(weights)), key=lambda i: (-((amount * weights[i][1]) % total), i))
    for index in order[:left]:
        base[index] += 1
    return [(key, share) for (key, _), share in zip(weights, base, strict=True)]


class BountyKind(StrEnum):
    NONE = "none"
    REGULAR = "regular"  # a fixed bounty per knockout
    PROGRESSIVE = "progressive"  # PKO: half in cash, half onto the eliminator's own bounty


class BountyAward(msgspec.Struct, frozen=True):
    winner: int  # the key the shares were given by (a seat, an entry)
    cash: int  # paid now
    head: int  # added to the winner's own bounty (progressive only)


def settle_bounty(
    kind: BountyKind, bounty: int, shares: Sequence[tuple[int, int]]
) -> list[BountyAward]:
    """What the eliminator(s) get for a bounty of ``bounty``, split by ``shares`` (from
    ``knockout_shares``). Progressive: of each share, half (rounded down) is cash and the
    rest goes onto the winner's own head (the odd chip stays on the head)."""
    if kind is BountyKind.NONE or bounty == 0 or not shares:
        return []
    awards = []
    for winner, share in split_by_weight(bounty, shares):
        if kind is BountyKind.PROGRESSIVE:
            cash = share // 2
            awards.append(BountyAward(winner=winner, cash=cash, head=share - cash))
        else:
            awards.append(BountyAward(winner=winner, cash=share, head=0))
    return awards
