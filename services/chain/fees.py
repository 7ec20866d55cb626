"""EIP-1559 fees from the node's fee history: what to offer, when to wait, how to replace.

Pure. ``quote`` reads ``eth_feeHistory`` (base fees of the last blocks and the next one, and
a percentile of the priority fees paid in each); a transaction offers the next base fee twice
over plus the priority fee, capped by our maximum. When even the next base fee plus the
priority fee is above the maximum, the answer is to wait (``TooExpensive``) and ask again
later. A stuck transaction is replaced with both fees raised by at least 12.5% (nodes want
10%), never above the maximum.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import final

import msgspec

BUMP_NUM, BUMP_DEN = 9, 8  # replacement: +12.5% on both fees


@final
class FeeQuote(msgspec.Struct, frozen=True):
    max_fee_wei: int
    priority_fee_wei: int
    base_fee_wei: int  # the next block's, when quoted


@final
class TooExpensive(msgspec.Struct, frozen=True):
    base_fee_wei: int
    priority_fee_wei: int
    max_fee_cap_wei: int


def _median(values: Sequence[int]) -> int:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0


def quote(
    base_fees: Sequence[int],
    rewards: Sequence[Sequence[int]],
    *,
    max_fee_cap_wei: int,
    priority_floor_wei: int,
) -> FeeQuote | TooExpensive:
    """``base_fees`` as eth_feeHistory returns them (the last is the next block's);
    ``rewards`` one list per block with our one percentile."""
    if not base_fees:
        raise ValueError("fee history without base fees")
    base = base_fees[-1]
    priority = max(_median([r[0] for r in rewards if r]), priority_floor_wei)
    if base + priority > max_fee_cap_wei:
        return TooExpensive(base, priority, max_fee_cap_wei)
    return FeeQuote(min(2 * base + priority, max_fee_cap_wei), priority, base)


def _bumped(value: int) -> int:
    return (value * BUMP_NUM + BUMP_DEN - 1) // BUMP_DEN


def replacement(
    previous: FeeQuote, fresh: FeeQuote | TooExpensive, *, max_fee_cap_wei: int
) -> FeeQuote | None:
    """Fees for a transaction replacing ``previous`` (same nonce): at least +12.5% on both,
    at least today's quote. None when that would pass the cap: keep waiting."""
    priority = _bumped(previous.priority_fee_wei)
    max_fee = _bumped(previous.max_fee_wei)
    base = previous.base_fee_wei
    if isinstance(fresh, FeeQuote):
        priority = max(priority, fresh.priority_fee_wei)
        max_fee = max(max_fee, fresh.max_fee_wei)
        base = fresh.base_fee_wei
    max_fee = max(max_fee, priority)
    if max_fee > max_fee_cap_wei:
        return None
    return FeeQuote(max_fee, priority, base)
