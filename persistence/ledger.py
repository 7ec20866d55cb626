"""The ledger's storage: accounts with balances, transfers, player limits and daily totals.

Only storage lives here. Which transfers are allowed (kinds, balance and limit rules) is decided
by a pure ``check`` function that ``services/ledger.py`` passes in: a unit of work calls it
after it has locked the accounts involved, inside the same transaction, so the rule sees the
balances that will be written. Results that are not errors of storage (a replayed idempotency
key, a key reused with other content, a pending transfer in the wrong state) come back as
outcome values; the wallet service turns them into its typed errors.

Invariants, guarded by the schema itself (migration 0002's triggers and CHECK constraints):
- balances are derived from transfers: inserting a transfer, or moving a pending one to
  posted or voided, updates both accounts in the same statement, and nothing else writes
  ``balance`` or ``reserved``. So the sum of ``balance`` over all accounts is zero;
- ``reserved`` is the sum of the account's pending debits; ``balance - reserved`` (available)
  is never negative on an account that may not go negative;
- transfers are append-only: only ``state`` changes, and only from pending.
``audit()`` recomputes all of this from the rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, final

import msgspec

from persistence.audit import Change
from persistence.work import Query, Row, Work, one

DAY_MS = 86_400_000  # limits count per UTC day
WALLET_KIND = "wallet"  # a player's wallet account is owned by str(player_id)
HISTORY_PAGE_MAX = 200  # bound: a larger page is clamped to this
IDEMPOTENCY_KEY_CHARS_MAX = 128  # bound: longer keys are refused (ValueError)
MEMO_CHARS_MAX = 200  # bound: longer memos are refused (ValueError)

TransferState = Literal["pending", "posted", "voided"]
PendingAction = Literal["post", "void"]


@final
class AccountRef(msgspec.Struct, frozen=True, order=True):
    """Names a ledger account: ``("wallet", "42")``, ``("escrow", "table:7")``, ``("rake", "")``."""

    kind: str
    owner: str = ""


@final
class LedgerAccount(msgspec.Struct, frozen=True):
    id: int
    kind: str
    owner: str
    balance: int  # posted credits minus posted debits
    reserved: int  # pending debits, not yet posted or voided
    may_go_negative: bool

    @property
    def ref(self) -> AccountRef:
        return AccountRef(self.kind, self.owner)

    @property
    def available(self) -> int:
        return self.balance - self.reserved


@final
class TransferRequest(msgspec.Struct, frozen=True):
    key: str  # the client's idempotency key
    kind: str  # "deposit", "buy_in", ...: what the rules check
    debit: AccountRef
    credit: AccountRef
    amount: int
    pending: bool = False
    memo: str = ""

    def content_hash(self) -> str:
        # Everything but the key: the same key with other content is a conflict, not a retry.
        body = msgspec.msgpack.encode(
            (self.kind, self.debit, self.credit, self.amount, self.pending, self.memo)
        )
        return hashlib.sha256(body).hexdigest()


@final
class TransferRecord(msgspec.Struct, frozen=True):
    id: int
    key: str
    kind: str
    debit: AccountRef
    credit: AccountRef
    amount: int
    state: TransferState
    memo: str
    created_at_ms: int
    updated_at_ms: int


@final
class PlayerLimits(msgspec.Struct, frozen=True):
    """Responsible-gaming limits; None means no limit."""

    daily_deposit_max: int | None = None
    daily_loss_max: int | None = None
    table_buy_in_max: int | None = None


@final
class DailyTotals(msgspec.Struct, frozen=True):
    deposited: int = 0  # deposits requested today (pending or posted)
    net_loss: int = 0  # buy-ins and fees minus cash-outs and prizes today


@final
class PlayerState(msgspec.Struct, frozen=True):
    limits: PlayerLimits
    today: DailyTotals


@final
class TotalsDelta(msgspec.Struct, frozen=True):
    player_id: int
    day: int
    deposited: int = 0
    net_loss: int = 0


@final
class Applied(msgspec.Struct, frozen=True):
    record: TransferRecord


@final
class Replayed(msgspec.Struct, frozen=True):
    """The key was used before with the same content: the original result."""

    record: TransferRecord


@final
class KeyConflict(msgspec.Struct, frozen=True):
    """The key was used before with different content."""

    record: TransferRecord


TransferOutcome = Applied | Replayed | KeyConflict


@final
class Resolved(msgspec.Struct, frozen=True):
    record: TransferRecord


@final
class AlreadyResolved(msgspec.Struct, frozen=True):
    """Posting a posted (voiding a voided) transfer again: a retry, answered with the record."""

    record: TransferRecord


@final
class NotPending(msgspec.Struct, frozen=True):
    """Posting a voided transfer, voiding a posted one, or resolving a non-pending one."""

    record: TransferRecord


@final
class UnknownTransfer(msgspec.Struct, frozen=True):
    transfer_id: int


ResolveOutcome = Resolved | AlreadyResolved | NotPending | UnknownTransfer

# Called inside the transaction with the locked accounts; raises to refuse, returns the changes
# to the players' daily totals.
TransferCheck = Callable[
    [TransferRequest, LedgerAccount, LedgerAccount, Mapping[int, PlayerState], int],
    Sequence[TotalsDelta],
]
# Called when a pending transfer is posted or voided; returns the daily totals to give back.
ResolveHook = Callable[[TransferRecord, PendingAction], Sequence[TotalsDelta]]


@final
class LedgerAudit(msgspec.Struct, frozen=True):
    total_balance: int  # must be 0
    accounts: int
    transfers: int
    overdrawn_accounts: int  # available < 0 where not allowed: must be 0
    # Accounts whose balance/reserved disagree with the sum of their transfers: must be 0.
    mismatched_accounts: int

    @property
    def consistent(self) -> bool:
        return (
            self.total_balance == 0
            and not self.overdrawn_accounts
            and not (self.mismatched_accounts)
        )


def player_of(ref: AccountRef) -> int | None:
    return int(ref.owner) if ref.kind == WALLET_KIND else None


def day_of(ms: int) -> int:
    return ms // DAY_MS


ACCOUNT_COLUMNS = "id, kind, owner, balance, reserved, may_go_negative"
_TRANSFER = (
    "id, idempotency_key, kind, debit_kind, debit_owner, credit_kind, credit_owner, amount,"
    " state, memo, created_at_ms, updated_at_ms, content_hash, debit_account_id,"
    " credit_account_id"
)


def account_from_row(row: Row) -> LedgerAccount:
    """A ``LedgerAccount`` from a row selected as ``ACCOUNT_COLUMNS``."""
    return LedgerAccount(
        id=int(row[0]), kind=row[1], owner=row[2], balance=int(row[3]), reserved=int(row[4]),
        may_go_negative=bool(row[5]),
    )  # fmt: skip


def _transfer(row: Row) -> TransferRecord:
    return TransferRecord(
        id=int(row[0]), key=row[1], kind=row[2], debit=AccountRef(row[3], row[4]),
        credit=AccountRef(row[5], row[6]), amount=int(row[7]), state=row[8], memo=row[9],
        created_at_ms=int(row[10]), updated_at_ms=int(row[11]),
    )  # fmt: skip


def validate(req: TransferRequest) -> None:
    if not req.key or len(req.key) > IDEMPOTENCY_KEY_CHARS_MAX:
        raise ValueError(f"idempotency key must be 1-{IDEMPOTENCY_KEY_CHARS_MAX} characters")
    if len(req.memo) > MEMO_CHARS_MAX:
        raise ValueError(f"memo longer than {MEMO_CHARS_MAX} characters")
    if req.debit == req.credit:
        raise ValueError("a transfer needs two different accounts")
    if type(req.amount) is not int or req.amount <= 0:
        raise ValueError(f"amount must be a positive integer, got {req.amount!r}")


def _by_key(key: str) -> Work[tuple[TransferRecord, str] | None]:
    rows = yield Query(
        f"SELECT {_TRANSFER} FROM ledger_transfers WHERE idempotency_key = $1", (key,)
    )
    return (_transfer(rows[0]), rows[0][12]) if rows else None


def _seen(found: tuple[TransferRecord, str], content_hash: str) -> TransferOutcome:
    record, stored_hash = found
    return Replayed(record) if stored_hash == content_hash else KeyConflict(record)


@final
class _Locked(msgspec.Struct, frozen=True):
    accounts: dict[AccountRef, LedgerAccount]
    limits: dict[int, PlayerLimits]  # players (of wallets here) that have limits set
    seen_hash: str | None  # content hash of a transfer already stored under the key


def _lock_accounts(
    refs: tuple[AccountRef, AccountRef], key: str, negative_kinds: frozenset[str], now_ms: int
) -> Work[_Locked]:
    """Lock both accounts (creating missing ones) in id order, so transfers cannot deadlock.

    The same round trip brings the players' limits and whether the idempotency key is taken.
    (In PostgreSQL the subquery sees the statement's snapshot, which may predate a concurrent
    transfer with the same key that we waited for; the insert's ON CONFLICT catches that.)
    """
    select = Query(
        "SELECT a.id, a.kind, a.owner, a.balance, a.reserved, a.may_go_negative, a.player_id,"
        " l.daily_deposit_max, l.daily_loss_max, l.table_buy_in_max,"
        " (SELECT content_hash FROM ledger_transfers WHERE idempotency_key = $5)"
        " FROM ledger_accounts a LEFT JOIN player_limits l ON l.player_id = a.player_id"
        " WHERE (a.kind = $1 AND a.owner = $2) OR (a.kind = $3 AND a.owner = $4)"
        " ORDER BY a.id",
        (refs[0].kind, refs[0].owner, refs[1].kind, refs[1].owner, key),
        lock="a",
    )
    rows = yield select
    if len(rows) < 2:
        if not rows:  # the key may still be taken (by a transfer between other accounts)
            found = yield from _by_key(key)
            if found is not None:
                return _Locked({}, {}, found[1])
        present = {AccountRef(r[1], r[2]) for r in rows}
        for ref in sorted(set(refs) - present):  # sorted: every transaction creates in order
            yield Query(
                "INSERT INTO ledger_accounts (kind, owner, balance, reserved, may_go_negative,"
                " player_id, created_at_ms) VALUES ($1, $2, 0, 0, $3, $4, $5)"
                " ON CONFLICT (kind, owner) DO NOTHING",
                (ref.kind, ref.owner, ref.kind in negative_kinds, player_of(ref), now_ms),
            )
        rows = yield select
    limits = {
        int(r[6]): PlayerLimits(r[7], r[8], r[9])
        for r in rows
        if r[6] is not None and (r[7], r[8], r[9]) != (None, None, None)
    }
    return _Locked({a.ref: a for a in map(account_from_row, rows)}, limits, rows[0][10])


def _player_states(
    player_ids: list[int], limits: dict[int, PlayerLimits], day: int
) -> Work[dict[int, PlayerState]]:
    """States of the players involved; today's totals are read only for players with limits.

    Read after the accounts are locked, in a statement of its own, so they are current (the
    lock statement's joined rows could predate a transfer we waited for).
    """
    limited = [p for p in player_ids if p in limits]
    totals: dict[int, DailyTotals] = {}
    if limited:
        rows = yield Query(
            "SELECT player_id, deposited, net_loss FROM player_daily_totals"
            f" WHERE day = $1 AND player_id IN ({_marks(len(limited), 2)})",
            (day, *limited),
        )
        totals = {int(r[0]): DailyTotals(int(r[1]), int(r[2])) for r in rows}
    return {
        p: PlayerState(limits.get(p, PlayerLimits()), totals.get(p, DailyTotals()))
        for p in player_ids
    }


def _marks(count: int, first: int) -> str:
    return ", ".join(f"${i}" for i in range(first, first + count))


def _apply_totals(deltas: Sequence[TotalsDelta]) -> Work[None]:
    for d in deltas:
        if d.deposited == 0 and d.net_loss == 0:
            continue
        yield Query(
            "INSERT INTO player_daily_totals (player_id, day, deposited, net_loss)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (player_id, day) DO UPDATE SET"
            " deposited = player_daily_totals.deposited + excluded.deposited,"
            " net_loss = player_daily_totals.net_loss + excluded.net_loss",
            (d.player_id, d.day, d.deposited, d.net_loss),
        )


def transfer(
    req: TransferRequest, now_ms: int, negative_kinds: frozenset[str], check: TransferCheck
) -> Work[TransferOutcome]:
    """One transfer, posted or pending, in one transaction; idempotent by ``req.key``.

    Round trips: lock (with limits and the key check), insert (the trigger moves the
    balances), and for players with limits, their totals read and written.
    """
    validate(req)
    content_hash = req.content_hash()
    locked = yield from _lock_accounts((req.debit, req.credit), req.key, negative_kinds, now_ms)
    if locked.seen_hash is not None:
        found = yield from _by_key(req.key)
        assert found is not None, "an idempotency key vanished"
        return _seen(found, content_hash)
    debit, credit = locked.accounts[req.debit], locked.accounts[req.credit]
    day = day_of(now_ms)
    players = sorted({p for p in (player_of(req.debit), player_of(req.credit)) if p is not None})
    states = yield from _player_states(players, locked.limits, day)
    deltas = check(req, debit, credit, states, day)
    rows = yield Query(
        "INSERT INTO ledger_transfers (idempotency_key, content_hash, kind, debit_account_id,"
        " credit_account_id, debit_kind, debit_owner, credit_kind, credit_owner, amount, state,"
        " memo, created_at_ms, updated_at_ms)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)"
        f" ON CONFLICT (idempotency_key) DO NOTHING RETURNING {_TRANSFER}",
        (
            req.key, content_hash, req.kind, debit.id, credit.id, req.debit.kind,
            req.debit.owner, req.credit.kind, req.credit.owner, req.amount,
            "pending" if req.pending else "posted", req.memo, now_ms,
        ),
    )  # fmt: skip
    if not rows:
        # The same key committed by a concurrent transaction after our first look.
        found = yield from _by_key(req.key)
        assert found is not None, "a conflicting idempotency key vanished"
        return _seen(found, content_hash)
    yield from _apply_totals(deltas)
    return Applied(_transfer(one(rows)))


def lock_in_id_order(refs: list[AccountRef]) -> Query:
    """Lock every existing account of a batch (or of an audited transfer) up front, in id order.

    Items lock their accounts as they come, in no global order; two processes' batches over
    the same accounts (a player seated on two nodes, the one rake account) would then wait for
    each other in a cycle until PostgreSQL's deadlock detector broke it, a second later. The
    list is padded to a power of two so few distinct statements reach the statement cache.
    """
    padded = refs + [refs[-1]] * ((1 << (len(refs) - 1).bit_length()) - len(refs))
    terms = " OR ".join(
        f"(a.kind = ${2 * i + 1} AND a.owner = ${2 * i + 2})" for i in range(len(padded))
    )
    return Query(
        f"SELECT a.id FROM ledger_accounts a WHERE {terms} ORDER BY a.id",
        tuple(value for ref in padded for value in (ref.kind, ref.owner)),
        lock="a",
        lock_only=True,
    )


def _balances(account: LedgerAccount | None) -> dict[str, int]:
    if account is None:  # created by the transfer: it held nothing before
        return {"balance": 0, "reserved": 0, "available": 0}
    return {
        "balance": account.balance,
        "reserved": account.reserved,
        "available": account.available,
    }


def transfer_change(
    req: TransferRequest,
    now_ms: int,
    negative_kinds: frozenset[str],
    check: TransferCheck,
    watch: AccountRef,
) -> Work[Change[TransferOutcome]]:
    """A transfer as an audited change (audit.audited): ``watch``'s balances before and after.

    Both accounts are locked (PostgreSQL) before "before" is read, so nothing moves them in
    between. A replayed key is logged again (the log records attempts, the ledger money); a
    key reused with other content changed nothing and is not logged. A refusal raises.
    """
    yield lock_in_id_order(sorted({req.debit, req.credit}))
    before = yield from get_account(watch)
    outcome = yield from transfer(req, now_ms, negative_kinds, check)
    if isinstance(outcome, KeyConflict):
        return Change(outcome, logged=False)
    after = yield from get_account(watch)
    record = outcome.record
    moved = record.amount if record.credit == watch else -record.amount
    return Change(
        outcome,
        before=_balances(before),
        after={**_balances(after), "transfer_id": record.id, "amount": moved},
    )


_TARGET_STATE: dict[PendingAction, TransferState] = {"post": "posted", "void": "voided"}


def resolve_pending(
    transfer_id: int, action: PendingAction, now_ms: int, hook: ResolveHook
) -> Work[ResolveOutcome]:
    """Post (move the reserved amount) or void (release it) a pending transfer.

    The state change is the whole write: the ledger trigger moves the amounts.
    """
    rows = yield Query(
        f"SELECT {_TRANSFER} FROM ledger_transfers t WHERE id = $1", (transfer_id,), lock="t"
    )
    if not rows:
        return UnknownTransfer(transfer_id)
    record = _transfer(rows[0])
    debit_id, credit_id = int(rows[0][13]), int(rows[0][14])
    target = _TARGET_STATE[action]
    if record.state == target:
        return AlreadyResolved(record)
    if record.state != "pending":
        return NotPending(record)
    # Lock both accounts in id order before the trigger updates them (in debit, credit
    # order), so a resolve and a transfer never wait for each other in a cycle.
    yield Query(
        "SELECT a.id FROM ledger_accounts a WHERE a.id IN ($1, $2) ORDER BY a.id",
        (debit_id, credit_id),
        lock="a",
    )
    rows = yield Query(
        f"UPDATE ledger_transfers SET state = $2, updated_at_ms = $3 WHERE id = $1"
        f" RETURNING {_TRANSFER}",
        (transfer_id, target, now_ms),
    )
    updated = _transfer(one(rows))
    yield from _apply_totals(hook(updated, action))
    return Resolved(updated)


def get_transfer(transfer_id: int) -> Work[TransferRecord | None]:
    rows = yield Query(f"SELECT {_TRANSFER} FROM ledger_transfers WHERE id = $1", (transfer_id,))
    return _transfer(rows[0]) if rows else None


def get_account(ref: AccountRef) -> Work[LedgerAccount | None]:
    rows = yield Query(
        f"SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE kind = $1 AND owner = $2",
        (ref.kind, ref.owner),
    )
    return account_from_row(rows[0]) if rows else None


def history(ref: AccountRef, before_id: int | None, limit: int) -> Work[list[TransferRecord]]:
    """Transfers touching one account, newest first, ``id < before_id``."""
    page = max(1, min(limit, HISTORY_PAGE_MAX))
    rows = yield Query(
        f"SELECT {_TRANSFER} FROM ledger_transfers WHERE id < $3 AND ("
        " debit_account_id = (SELECT id FROM ledger_accounts WHERE kind = $1 AND owner = $2)"
        " OR credit_account_id = (SELECT id FROM ledger_accounts WHERE kind = $1 AND owner = $2))"
        f" ORDER BY id DESC LIMIT {page}",
        (ref.kind, ref.owner, before_id if before_id is not None else 2**62),
    )
    return [_transfer(row) for row in rows]


def set_limits(player_id: int, limits: PlayerLimits, now_ms: int) -> Work[PlayerLimits]:
    yield Query(
        "INSERT INTO player_limits (player_id, daily_deposit_max, daily_loss_max,"
        " table_buy_in_max, updated_at_ms) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (player_id) DO UPDATE SET daily_deposit_max = excluded.daily_deposit_max,"
        " daily_loss_max = excluded.daily_loss_max, table_buy_in_max = excluded.table_buy_in_max,"
        " updated_at_ms = excluded.updated_at_ms",
        (
            player_id, limits.daily_deposit_max, limits.daily_loss_max, limits.table_buy_in_max,
            now_ms,
        ),
    )  # fmt: skip
    return limits


def get_player_state(player_id: int, now_ms: int) -> Work[PlayerState]:
    rows = yield Query(
        "SELECT daily_deposit_max, daily_loss_max, table_buy_in_max FROM player_limits"
        " WHERE player_id = $1",
        (player_id,),
    )
    limits = PlayerLimits(*rows[0]) if rows else PlayerLimits()
    rows = yield Query(
        "SELECT deposited, net_loss FROM player_daily_totals WHERE player_id = $1 AND day = $2",
        (player_id, day_of(now_ms)),
    )
    today = DailyTotals(int(rows[0][0]), int(rows[0][1])) if rows else DailyTotals()
    return PlayerState(limits, today)


def audit() -> Work[LedgerAudit]:
    """Check the ledger's invariants from the rows themselves (recovery, tests, admin)."""
    rows = yield Query(
        "SELECT COALESCE(SUM(balance), 0), COUNT(*),"
        " COALESCE(SUM(CASE WHEN NOT may_go_negative AND balance < reserved THEN 1 ELSE 0 END), 0)"
        " FROM ledger_accounts"
    )
    total, accounts, overdrawn = one(rows)
    rows = yield Query("SELECT COUNT(*) FROM ledger_transfers")
    transfers = one(rows)[0]
    rows = yield Query(
        "SELECT COUNT(*) FROM ledger_accounts a LEFT JOIN ("
        " SELECT account_id, SUM(net) AS net, SUM(held) AS held FROM ("
        "  SELECT debit_account_id AS account_id,"
        "   CASE WHEN state = 'posted' THEN -amount ELSE 0 END AS net,"
        "   CASE WHEN state = 'pending' THEN amount ELSE 0 END AS held FROM ledger_transfers"
        "  UNION ALL"
        "  SELECT credit_account_id, CASE WHEN state = 'posted' THEN amount ELSE 0 END, 0"
        "  FROM ledger_transfers) moves GROUP BY account_id) sums ON sums.account_id = a.id"
        " WHERE a.balance <> COALESCE(sums.net, 0) OR a.reserved <> COALESCE(sums.held, 0)"
    )
    return LedgerAudit(
        total_balance=int(total), accounts=int(accounts), transfers=int(transfers),
        overdrawn_accounts=int(overdrawn), mismatched_accounts=int(one(rows)[0]),
    )  # fmt: skip
