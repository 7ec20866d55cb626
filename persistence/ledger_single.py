"""A transfer in one round trip (PostgreSQL): check first, then apply if nothing changed.

The full unit of work (``ledger.transfer``) costs four round trips: BEGIN, lock the accounts
(with the key check and limits), INSERT, COMMIT. One client pays each of them in full. Here the
rules run *before* the database is asked, on the two accounts' values as this process last saw
them (:class:`AccountCache`), and one autocommitted statement, migration 0004's
``ledger_transfer_if_unchanged``, locks the accounts, confirms the values still hold and
applies the transfer. Equal values mean the rules saw exactly what was locked, so the outcome
is the one the full unit of work would have reached.

The cache is a hint, never a source of truth: a stale value only makes the statement answer
``changed`` with the current values, and the rules run again on those. Whatever is not the
plain case goes to the full unit of work, which decides it as before: a refusal, a reused key,
a player with limits (their daily totals are part of the rules' input), a transfer the rules
count against the operator's daily transfer limit (the sender's total is), an account not yet
created, and a run of ``changed`` answers (accounts another process keeps moving).
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Final, final

import msgspec

from persistence.ledger import (
    ACCOUNT_COLUMNS,
    AccountRef,
    Applied,
    DailyTotals,
    LedgerAccount,
    PlayerLimits,
    PlayerState,
    TransferCheck,
    TransferRecord,
    TransferRequest,
    TransferState,
    account_from_row,
    day_of,
    player_of,
    validate,
)
from persistence.work import Query, Work, one

ACCOUNT_CACHE_MAX: Final = 4096  # bound: past it the least recently used account is forgotten
ATTEMPTS_MAX: Final = 3  # bound: after this many 'changed' answers, the full unit of work


@final
class AccountCache:
    """The accounts' values as this process last saw them, least recently used first."""

    def __init__(self, entries_max: int = ACCOUNT_CACHE_MAX) -> None:
        self.entries_max = entries_max
        self.stale = 0  # metric: 'changed' answers (another process moved a cached account)
        self._accounts: collections.OrderedDict[AccountRef, LedgerAccount] = (
            collections.OrderedDict()
        )

    def __len__(self) -> int:
        return len(self._accounts)

    def get(self, ref: AccountRef) -> LedgerAccount | None:
        account = self._accounts.get(ref)
        if account is not None:
            self._accounts.move_to_end(ref)
        return account

    def put(self, account: LedgerAccount) -> None:
        self._accounts[account.ref] = account
        self._accounts.move_to_end(account.ref)
        while len(self._accounts) > self.entries_max:  # overflow: forget the coldest
            self._accounts.popitem(last=False)

    def forget(self, refs: Iterable[AccountRef]) -> None:
        """Drop accounts another path has just moved (saves a 'changed' round trip)."""
        for ref in refs:
            self._accounts.pop(ref, None)


_READ = (
    f"SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts"
    " WHERE (kind = $1 AND owner = $2 AND asset = $3) OR (kind = $4 AND owner = $5 AND asset = $6)"
)
_APPLY = (
    "SELECT outcome, transfer_id, debit_balance, debit_reserved, credit_balance,"
    " credit_reserved FROM ledger_transfer_if_unchanged($1, $2, $3, $4, $5, $6, $7, $8, $9,"
    " $10, $11, $12, $13, $14, $15, $16, $17)"
)


def _read(req: TransferRequest) -> Query:
    d, c = req.debit, req.credit
    return Query(_READ, (d.kind, d.owner, d.asset, c.kind, c.owner, c.asset))


def transfer_if_unchanged(
    req: TransferRequest, now_ms: int, check: TransferCheck, cache: AccountCache
) -> Work[Applied | None]:
    """Apply ``req`` in one statement when the plain case holds; None: run the full unit.

    Runs without a transaction around it (each statement commits on its own): the one statement
    that writes is atomic by itself, and the read before it (only when the cache lacks an
    account) decides nothing.
    """
    validate(req)
    debit, credit = cache.get(req.debit), cache.get(req.credit)
    if debit is None or credit is None:
        rows = yield _read(req)
        found = {account_from_row(r).ref: r for r in rows}
        if len(found) < 2:
            return None  # an account to create: the full unit creates it under its locks
        debit, credit = (account_from_row(found[ref]) for ref in (req.debit, req.credit))
    day = day_of(now_ms)
    # The full unit reads daily totals only for players with limits, and the statement sends
    # every transfer of a player with limits to the full unit: so here, as there, the rules
    # see players without limits.
    players = {
        p: PlayerState(PlayerLimits(), DailyTotals())
        for p in (player_of(req.debit), player_of(req.credit))
        if p is not None
    }
    content_hash = req.content_hash()
    state: TransferState = "pending" if req.pending else "posted"
    for _ in range(ATTEMPTS_MAX):
        try:
            deltas = check(req, debit, credit, players, day)
        except Exception:  # refused, perhaps on stale values: the full unit decides it
            return None
        if any(d.transferred for d in deltas):
            # Counted against the daily transfer limit: the rules saw no total here (the
            # full unit reads the sender's), and this statement does not write it.
            return None
        totals = [d for d in deltas if d.deposited or d.net_loss]
        rows = yield Query(
            _APPLY,
            (
                req.key, content_hash, req.kind, debit.id, credit.id, req.amount, state,
                req.memo, now_ms, debit.balance, debit.reserved, credit.balance,
                credit.reserved, [d.player_id for d in totals], [d.day for d in totals],
                [d.deposited for d in totals], [d.net_loss for d in totals],
            ),
        )  # fmt: skip
        outcome, transfer_id, *values = one(rows)
        if outcome == "locked_path":
            cache.forget((req.debit, req.credit))
            return None
        debit = _with_values(debit, values[0], values[1])
        credit = _with_values(credit, values[2], values[3])
        cache.put(debit)
        cache.put(credit)
        if outcome == "applied":
            return Applied(
                TransferRecord(
                    id=int(transfer_id), key=req.key, kind=req.kind, debit=req.debit,
                    credit=req.credit, amount=req.amount, state=state, memo=req.memo,
                    created_at_ms=now_ms, updated_at_ms=now_ms,
                )
            )  # fmt: skip
        assert outcome == "changed", outcome
        cache.stale += 1
    return None


def _with_values(account: LedgerAccount, balance: int, reserved: int) -> LedgerAccount:
    return msgspec.structs.replace(account, balance=int(balance), reserved=int(reserved))
