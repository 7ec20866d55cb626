"""The ledger audit for staff: every invariant of the money, checked from the rows.

One function, ``audit_ledger``, behind ``GET /ledger/audit`` (admin API) and ``tablium ledger
audit`` (the command). It reports, and calls a *violation* anything that must never be:

- ``asset_sum``: the sum of every account's balance in one asset is not zero;
- ``overdrawn``: an account that may not go negative (everything but the outside world and
  the house) has less than it has reserved;
- ``mismatched``: an account's balance or reserved disagrees with its transfers;
- ``escrow_vs_seats``: a live table's chips (stacks, pending top-ups, cash-outs and rake owed)
  differ from its escrow account's balance (both read by the table between two messages);
- ``prize_pool``: a tournament's prize pool holds other than its entries (buy-ins) and
  overlay minus its payouts (prizes and refunds), or less than nothing, or anything at all
  once the tournament is finished or cancelled (persistence/tournaments.py says which).

A tournament's entry fees are recorded one transfer per entry, rebuy and add-on (kind
``entry_fee``, memo ``tournament:<id>:entry:<n>``): the fees report reads them.

Live tables are asked by the caller (``TableChecks``: the admin API asks each running table,
between two of its messages); without them (the command on a stopped server) the escrows are
listed with their figures and reported as not checked against seats.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, final

import msgspec

from persistence import tournaments
from persistence.ledger import LedgerAudit, PoolFigures
from services.ledger import ESCROW, PRIZE_POOL
from services.wallet import Wallet


@final
class TableEscrowCheck(msgspec.Struct, frozen=True):
    """A live table's own count against its escrow (read between two of its messages)."""

    table_id: str
    escrow_owner: str  # the escrow account's owner, ``table:<id>``
    chips: int  # stacks + pending top-ups + what it owes out of escrow
    escrow_balance: int


# The live tables' counts, or None when there is no live server to ask.
TableChecks = Callable[[], Awaitable[list[TableEscrowCheck]]]


@final
class Violation(msgspec.Struct, frozen=True):
    code: str  # asset_sum, overdrawn, mismatched, escrow_vs_seats, prize_pool
    subject: str  # the asset, account or table concerned
    detail: str


@final
class PrizePoolCheck(msgspec.Struct, frozen=True):
    owner: str
    asset: str
    balance: int
    entries: int  # buy-ins (and a guarantee's overlay) in
    payouts: int  # prizes and refunds out
    other: int  # anything else (adjustments), net


@final
class LedgerReport(msgspec.Struct, frozen=True):
    consistent: bool  # no violation
    ledger: LedgerAudit
    escrows: list[PoolFigures]
    tables: list[TableEscrowCheck]
    tables_checked: bool  # False: no live tables were asked (see the module doc)
    prize_pools: list[PrizePoolCheck]
    violations: list[Violation]


VIOLATIONS_MAX: Final = 1000  # bound: listed violations (consistent stays exact)


def _prize_pool(pool: PoolFigures) -> PrizePoolCheck:
    entries = pool.by_kind.get("buy_in", 0) + pool.by_kind.get("overlay", 0)
    payouts = -(pool.by_kind.get("prize", 0) + pool.by_kind.get("refund", 0))
    known = {"buy_in", "overlay", "prize", "refund"}
    other = sum(v for k, v in pool.by_kind.items() if k not in known)
    return PrizePoolCheck(
        owner=pool.account.owner, asset=pool.account.asset, balance=pool.balance,
        entries=entries, payouts=payouts, other=other,
    )  # fmt: skip


async def audit_ledger(wallet: Wallet, tables: TableChecks | None = None) -> LedgerReport:
    ledger = await wallet.audit()
    violations: list[Violation] = []
    for asset, total in sorted(ledger.balance_by_asset.items()):
        if total != 0:
            violations.append(Violation("asset_sum", asset, f"accounts sum to {total}, not 0"))
    for ref in ledger.overdrawn:
        violations.append(
            Violation("overdrawn", _name(ref.kind, ref.owner, ref.asset), "below what it holds")
        )
    for ref in ledger.mismatched:
        violations.append(
            Violation(
                "mismatched", _name(ref.kind, ref.owner, ref.asset), "balance != its transfers"
            )
        )
    escrows = await wallet.pools(ESCROW)
    checks = await tables() if tables is not None else []
    for check in checks:
        # Both figures were read by the table in one message: play cannot move between them.
        if check.chips != check.escrow_balance:
            violations.append(
                Violation(
                    "escrow_vs_seats",
                    check.table_id,
                    f"the table counts {check.chips} chips, its escrow holds"
                    f" {check.escrow_balance}",
                )
            )
    prize_pools = [_prize_pool(pool) for pool in await wallet.pools(PRIZE_POOL)]
    for pool in prize_pools:
        expected = pool.entries - pool.payouts + pool.other
        if pool.balance != expected or pool.balance < 0:
            violations.append(
                Violation(
                    "prize_pool",
                    pool.owner,
                    f"holds {pool.balance}: entries {pool.entries} - payouts {pool.payouts}"
                    f" + other {pool.other} = {expected}",
                )
            )
    over = await wallet.store.run(
        lambda: tournaments.tournaments_in(("finished", "cancelled")), read_only=True
    )
    ended = {f"tournament:{row.id}" for row in over}
    for pool in prize_pools:
        if pool.owner in ended and pool.balance != 0:
            violations.append(
                Violation("prize_pool", pool.owner, f"holds {pool.balance} after its end")
            )
    consistent = ledger.consistent and not violations
    return LedgerReport(
        consistent=consistent, ledger=ledger, escrows=escrows, tables=checks,
        tables_checked=tables is not None, prize_pools=prize_pools,
        violations=violations[:VIOLATIONS_MAX],
    )  # fmt: skip


def _name(kind: str, owner: str, asset: str) -> str:
    return f"{kind}:{owner}@{asset}" if owner else f"{kind}@{asset}"
