"""Who generated how much rake: per hand and player, and tournament fees per entry.

Two methods for a cash hand (the program's setting):

- ``weighted`` (the default): the player's stored share of the hand's rake
  (poker/rake_shares.py: rake x her chips in the raked pots / all chips in them, whole chips,
  odd chips by largest remainder). The shares of a hand sum to its rake.
- ``dealt``: the hand's rake split equally among the players dealt in, whoever put chips in:
  ``apportion(rake, [1] * n)`` with the players ordered by seat, so the odd chips go one each
  to the lowest seats. The shares sum to the rake too.

A hand stored without shares (every share 0 while the hand has rake: written by a table that
does not compute them) is attributed as ``dealt`` under either method, so its rake is never
lost; docs/rakeback.md says so.

A tournament entry's fee counts in full for the player who paid it (its ledger transfer); a
refund of a fee counts against it. A player's fee total for a period is never below zero
(a refund of a fee paid in an earlier period does not take back that period's rakeback).

Every attributed amount keeps the id it came from (``hand:<id>`` or ``transfer:<id>``), so a
statement can be traced to its hands and entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, final

AttributionMethod = Literal["weighted", "dealt"]
ATTRIBUTION_METHODS: Final = ("weighted", "dealt")
Source = Literal["cash", "tournament"]
SOURCES: Final[tuple[Source, ...]] = ("cash", "tournament")


class InconsistentHand(ValueError):
    """A stored hand whose shares do not sum to its rake, or that lists a player twice:
    a broken record (our bug), never a client's mistake."""


@final
@dataclass(frozen=True, slots=True)
class HandSeat:
    player_id: int
    seat: int
    rake_paid: int  # her stored (weighted) share


@final
@dataclass(frozen=True, slots=True)
class HandRake:
    """One stored hand, as rakeback reads it."""

    hand_id: str
    rake: int
    seats: tuple[HandSeat, ...]


@final
@dataclass(frozen=True, slots=True)
class FeeEntry:
    """A tournament fee paid (``amount`` > 0) or refunded (< 0), from its ledger transfer."""

    transfer_id: int
    player_id: int
    amount: int


@final
@dataclass(frozen=True, slots=True)
class Attributed:
    """One amount of rake (or fee) attributed to one player, traceable to its origin."""

    player_id: int
    source: Source
    origin: str  # "hand:<hand id>" or "transfer:<ledger transfer id>"
    amount: int


def apportion(total: int, weights: Sequence[int]) -> tuple[int, ...]:
    """``total`` split in proportion to ``weights`` (non-negative, not all zero), in whole
    units: rounded down, the rest one each by largest remainder, ties to the lowest index.
    (The rule of poker/rake_shares.py, restated so this package stays self-contained.)"""
    weight_sum = sum(weights)
    if total < 0 or weight_sum <= 0 or min(weights) < 0:
        raise ValueError("apportion needs total >= 0 and non-negative weights, not all zero")
    shares = [total * w // weight_sum for w in weights]
    left = total - sum(shares)
    remainders = [total * w % weight_sum for w in weights]
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[i] += 1
    return tuple(shares)


def attribute_hand(hand: HandRake, method: AttributionMethod) -> dict[int, int]:
    """Each player's part of the hand's rake; the parts sum to ``hand.rake`` exactly."""
    players = [s.player_id for s in hand.seats]
    if len(set(players)) != len(players):
        raise InconsistentHand(f"hand {hand.hand_id}: a player dealt in twice")
    if hand.rake == 0 or not hand.seats:
        return {}
    if method == "weighted" and any(s.rake_paid for s in hand.seats):
        paid = sum(s.rake_paid for s in hand.seats)
        if paid != hand.rake or min(s.rake_paid for s in hand.seats) < 0:
            raise InconsistentHand(
                f"hand {hand.hand_id}: shares {[s.rake_paid for s in hand.seats]} do not sum"
                f" to its rake {hand.rake}"
            )
        return {s.player_id: s.rake_paid for s in hand.seats if s.rake_paid}
    ordered = sorted(hand.seats, key=lambda s: s.seat)
    parts = apportion(hand.rake, [1] * len(ordered))
    return {s.player_id: part for s, part in zip(ordered, parts, strict=True) if part}


def attribute(
    hands: Iterable[HandRake], fees: Iterable[FeeEntry], method: AttributionMethod
) -> list[Attributed]:
    """Every hand's and fee's attribution, hand by hand, in the order given."""
    found: list[Attributed] = []
    for hand in hands:
        for player, amount in sorted(attribute_hand(hand, method).items()):
            found.append(Attributed(player, "cash", f"hand:{hand.hand_id}", amount))
    for fee in fees:
        if fee.amount:
            found.append(Attributed(fee.player_id, "tournament", f"transfer:{fee.transfer_id}",
                                    fee.amount))  # fmt: skip
    return found


def totals_by_player(items: Iterable[Attributed]) -> dict[int, dict[Source, int]]:
    """Per player and source, the period's total (a source's total is never below zero)."""
    sums: dict[int, dict[Source, int]] = {}
    for item in items:
        by_source = sums.setdefault(item.player_id, {})
        by_source[item.source] = by_source.get(item.source, 0) + item.amount
    return {
        player: {source: max(0, amount) for source, amount in by_source.items()}
        for player, by_source in sums.items()
    }


def rake_of(totals: Mapping[Source, int]) -> int:
    return sum(totals.values())
