"""Prize pools and payout tables, in integer chips of the prize asset.

- ``prize_pool``: the pool is max(guarantee, what the entries, rebuys and add-ons put in);
  the difference is the overlay, paid by the house.
- ``payouts(pool, entrants, config)``: fixed shares for sit-and-gos (9-max 50/30/20, 6-max
  65/35, heads-up 100), or the MTT generator: about ``paid_bp`` of the field paid (15% by
  default), a min-cash of ``min_cash_bp`` of the pool per entrant, the rest on a power law
  whose exponent puts first place on a target share in the usual 15-30% band, each prize
  rounded down to a "nice" amount, and every chip the rounding left over added to first.
  The table is non-increasing and sums exactly to the pool.
- ``split_places``: the prizes of tied places shared equally.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum
from typing import Final

import msgspec

from poker.tournament.errors import PayoutInvalid

BASIS_POINTS: Final = 10_000
PAID_MAX: Final = 100_000  # places a generated table pays at most (policy: capped)
_BISECTION_STEPS: Final = 60


class PayoutKind(StrEnum):
    FIXED = "fixed"  # shares_bp, place by place (sit-and-gos)
    GENERATED = "generated"  # the MTT generator


class PayoutConfig(msgspec.Struct, frozen=True, kw_only=True):
    kind: PayoutKind = PayoutKind.GENERATED
    shares_bp: tuple[int, ...] = ()  # FIXED: first place first, summing to 10,000
    paid_bp: int = 1500  # GENERATED: the share of the field paid (15%)
    # GENERATED: first place's share of the pool; 0 picks one from the number paid (30% for
    # 10 paid, 25% for 100, 20% for 1,000, 15% for 10,000; more for fewer than 10 paid).
    first_bp: int = 0
    # GENERATED: every paid place gets at least this share of the pool per entrant (1.5x
    # an entrant's part of the pool), capped at half the pool in all.
    min_cash_bp: int = 15_000

    def __post_init__(self) -> None:
        if not isinstance(self.kind, PayoutKind):
            raise PayoutInvalid("kind must be a PayoutKind")
        if self.kind is PayoutKind.FIXED:
            if not self.shares_bp or any(type(s) is not int or s < 0 for s in self.shares_bp):
                raise PayoutInvalid("fixed payouts need shares in basis points")
            if sum(self.shares_bp) != BASIS_POINTS:
                raise PayoutInvalid(f"fixed shares sum to {sum(self.shares_bp)}, not 10,000")
            if any(a < b for a, b in zip(self.shares_bp, self.shares_bp[1:], strict=False)):
                raise PayoutInvalid("fixed shares must not increase down the places")
        for name in ("paid_bp", "first_bp", "min_cash_bp"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= 10 * BASIS_POINTS:
                raise PayoutInvalid(f"{name} must be a whole number in 0..100,000")
        if not 0 < self.paid_bp <= BASIS_POINTS or self.first_bp > BASIS_POINTS:
            raise PayoutInvalid("paid_bp in 1..10,000 and first_bp in 0..10,000")


SNG_9MAX: Final = PayoutConfig(kind=PayoutKind.FIXED, shares_bp=(5000, 3000, 2000))
SNG_6MAX: Final = PayoutConfig(kind=PayoutKind.FIXED, shares_bp=(6500, 3500))
HEADS_UP: Final = PayoutConfig(kind=PayoutKind.FIXED, shares_bp=(10_000,))
MTT: Final = PayoutConfig()


class PrizePool(msgspec.Struct, frozen=True):
    pool: int
    collected: int
    overlay: int  # what the house adds to reach the guarantee


def prize_pool(collected: int, guarantee: int = 0) -> PrizePool:
    """``collected``: the prize parts of every entry, rebuy and add-on (fees excluded)."""
    if collected < 0 or guarantee < 0:
        raise PayoutInvalid("amounts must not be negative")
    pool = max(collected, guarantee)
    return PrizePool(pool=pool, collected=collected, overlay=pool - collected)


def payouts(pool: int, entrants: int, config: PayoutConfig = MTT) -> list[int]:
    """Prizes by place, first place first: non-increasing, summing exactly to ``pool``.
    Never more places than entrants, nor than chips in the pool."""
    if type(pool) is not int or type(entrants) is not int or pool < 0 or entrants < 0:
        raise PayoutInvalid("pool and entrants must be whole numbers >= 0")
    if pool == 0 or entrants == 0:
        return []
    if config.kind is PayoutKind.FIXED:
        shares = list(config.shares_bp[:entrants])
        return _fixed(pool, shares)
    return _generated(pool, entrants, config)


def _fixed(pool: int, shares: Sequence[int]) -> list[int]:
    """Each place its share rounded down; the remainder (and the shares of places nobody
    can take, in a short field) goes to first."""
    prizes = [pool * share // BASIS_POINTS for share in shares]
    prizes = [p for p in prizes if p > 0] or [0]
    prizes[0] += pool - sum(prizes)
    return prizes


def paid_places(entrants: int, config: PayoutConfig = MTT) -> int:
    if config.kind is PayoutKind.FIXED:
        return min(entrants, len(config.shares_bp))
    return max(1, min(entrants, PAID_MAX, round(entrants * config.paid_bp / BASIS_POINTS)))


def _target_first_share(paid: int) -> float:
    small = {1: 1.0, 2: 0.65, 3: 0.5, 4: 0.42, 5: 0.37, 6: 0.34, 7: 0.32, 8: 0.31, 9: 0.30}
    if paid in small:
        return small[paid]
    # 30% at 10 paid, minus 5 points for each tenfold, never under 15%.
    return max(0.15, 0.30 - 0.05 * math.log10(paid / 10))


def _weights(paid: int, exponent: float) -> list[float]:
    raw = [1.0 / (place**exponent) for place in range(1, paid + 1)]
    total = sum(raw)
    return [w / total for w in raw]


def _generated(pool: int, entrants: int, config: PayoutConfig) -> list[int]:
    paid = min(paid_places(entrants, config), pool)
    if paid == 1:
        return [pool]
    target = config.first_bp / BASIS_POINTS if config.first_bp else _target_first_share(paid)
    # Min-cash: a floor for every paid place, at most half the pool in all.
    floor = min(pool * config.min_cash_bp // (BASIS_POINTS * entrants), pool // (2 * paid))
    rest = pool - floor * paid
    # First place's share grows with the exponent: bisect for the target.
    wanted = (target * pool - floor) / rest if rest else 0.0
    low, high = 0.0, 12.0
    for _ in range(_BISECTION_STEPS):
        middle = (low + high) / 2
        if _weights(paid, middle)[0] < wanted:
            low = middle
        else:
            high = middle
    prizes = [floor + int(rest * w) for w in _weights(paid, high)]
    prizes = [nice_amount(p) for p in prizes]
    prizes = [p for p in prizes if p > 0]
    prizes[0] += pool - sum(prizes)
    return prizes


def nice_amount(amount: int) -> int:
    """The largest "nice" amount at or below ``amount``: whole numbers below 1,000, then
    three significant figures, the third a multiple of 5 (1,235; 12,350; 123,500). One set of
    nice numbers, so rounding down keeps a non-increasing table non-increasing."""
    if amount < 1000:
        return amount
    step: int = 5 * 10 ** (len(str(amount)) - 4)
    return amount - amount % step


def split_places(prizes: Sequence[int], first_place: int, count: int) -> list[int]:
    """``count`` players tied for places ``first_place`` .. ``first_place + count - 1``
    (1-based) share those places' prizes equally; the odd chips go one each to the first
    of them in the order given (the tournament gives them by entry number)."""
    total = sum(prizes[first_place - 1 : first_place - 1 + count])
    share, odd = divmod(total, count)
    return [share + (1 if index < odd else 0) for index in range(count)]
