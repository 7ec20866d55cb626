"""The ledger's storage: accounts with balances, transfers, player limits and daily totals.

Every account and transfer carries an *asset* (``chips``: real money, the asset of everything
made before assets existed; ``play``: play money). A transfer moves one asset between two
accounts of that asset (a trigger refuses anything else: the ledger_assets migration), so the
ledger sums to zero per asset. A table's escrow and a tournament's prize pool hold one asset
for life.

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
WEEK_DAYS = 7  # the "weekly" totals: the last 7 UTC days, today included
MONTH_DAYS = 30  # the "monthly" totals: the last 30 UTC days, today included
WALLET_KIND = "wallet"  # a player's wallet account is owned by str(player_id)
POOL_KINDS = frozenset({"escrow", "prize_pool"})  # one asset per owner, for life
# The real-money asset: every account and transfer made before assets existed is in it, and
# it is what an AccountRef names when it names no asset.
DEFAULT_ASSET = "chips"
HISTORY_PAGE_MAX = 200  # bound: a larger page is clamped to this
IDEMPOTENCY_KEY_CHARS_MAX = 128  # bound: longer keys are refused (ValueError)
MEMO_CHARS_MAX = 200  # bound: longer memos are refused (ValueError)

TransferState = Literal["pending", "posted", "voided"]
PendingAction = Literal["post", "void"]


@final
class AccountRef(msgspec.Struct, frozen=True, order=True):
    """Names a ledger account: ``("wallet", "42")``, ``("escrow", "table:7")``, ``("rake", "")``,
    in an asset (real-money ``chips`` unless named: ``("wallet", "42", "play")``)."""

    kind: str
    owner: str = ""
    asset: str = DEFAULT_ASSET


@final
class LedgerAccount(msgspec.Struct, frozen=True):
    id: int
    kind: str
    owner: str
    balance: int  # posted credits minus posted debits
    reserved: int  # pending debits, not yet posted or voided
    may_go_negative: bool
    asset: str = DEFAULT_ASSET

    @property
    def ref(self) -> AccountRef:
        return AccountRef(self.kind, self.owner, self.asset)

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
    # The rules count this transfer against the sender's daily totals (the operator's daily
    # transfer limit), so the unit reads them. Not content: it is not in the hash.
    reads_sender_totals: bool = False

    @property
    def asset(self) -> str:
        return self.debit.asset

    def content_hash(self) -> str:
        """Everything but the key: the same key with other content is a conflict, not a retry.

        A real-money transfer hashes exactly as it did before assets existed (the accounts as
        ``{kind, owner}`` maps), so a retry of a transfer stored then is still a retry; any
        other asset is hashed too.
        """
        content: tuple[object, ...] = (
            self.kind, _hashed_ref(self.debit), _hashed_ref(self.credit), self.amount,
            self.pending, self.memo,
        )  # fmt: skip
        if self.debit.asset != DEFAULT_ASSET or self.credit.asset != DEFAULT_ASSET:
            content += (self.debit.asset, self.credit.asset)
        return hashlib.sha256(msgspec.msgpack.encode(content)).hexdigest()


def _hashed_ref(ref: AccountRef) -> dict[str, str]:
    return {"kind": ref.kind, "owner": ref.owner}


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
    updated_at_ms: int  # for a posted transfer: when it moved the balances

    @property
    def asset(self) -> str:
        return self.debit.asset


@final
class PlayerLimits(msgspec.Struct, frozen=True):
    """Responsible-gaming limits a player sets on herself; None means no limit. Deposits and
    losses count per UTC day, per 7 days and per 30 days (today included); real money only."""

    daily_deposit_max: int | None = None
    daily_loss_max: int | None = None
    table_buy_in_max: int | None = None  # one buy-in into a cash table
    weekly_deposit_max: int | None = None
    monthly_deposit_max: int | None = None
    weekly_loss_max: int | None = None
    monthly_loss_max: int | None = None
    session_minutes_max: int | None = None  # a session's play time (the tables enforce it)


LIMIT_NAMES: tuple[str, ...] = PlayerLimits.__struct_fields__


@final
class PendingRaise(msgspec.Struct, frozen=True):
    """A raise (or removal: ``value`` None) of a limit, in force from ``effective_at_ms``."""

    value: int | None
    effective_at_ms: int


ExclusionKind = Literal["cool_off", "self_exclusion"]


@final
class Exclusion(msgspec.Struct, frozen=True):
    kind: ExclusionKind
    since_ms: int
    until_ms: int


@final
class PlayerRules(msgspec.Struct, frozen=True):
    """What a player set on herself, as stored: limits, raises waiting for their time, and a
    cool-off or self-exclusion (in force while ``until_ms`` is in the future)."""

    limits: PlayerLimits = PlayerLimits()
    pending: dict[str, PendingRaise] = {}
    exclusion: Exclusion | None = None
    updated_at_ms: int = 0

    def effective(self, now_ms: int) -> PlayerLimits:
        """The limits in force at ``now_ms``: a waiting raise counts from its time on."""
        due = {name: p.value for name, p in self.pending.items() if p.effective_at_ms <= now_ms}
        return msgspec.structs.replace(self.limits, **due) if due else self.limits

    def excluded(self, now_ms: int) -> Exclusion | None:
        exclusion = self.exclusion
        return exclusion if exclusion is not None and now_ms < exclusion.until_ms else None


@final
class DailyTotals(msgspec.Struct, frozen=True):
    """What counts against the limits over a span of UTC days (one day, 7 or 30)."""

    deposited: int = 0  # deposits requested (pending or posted)
    net_loss: int = 0  # buy-ins and fees minus cash-outs, prizes and refunds
    transferred: int = 0  # sent to other players


@final
class PlayerState(msgspec.Struct, frozen=True):
    """What the rules see of a player: the limits in force and the totals they count."""

    limits: PlayerLimits
    today: DailyTotals
    week: DailyTotals = DailyTotals()
    month: DailyTotals = DailyTotals()
    exclusion: Exclusion | None = None  # in force now


@final
class TotalsDelta(msgspec.Struct, frozen=True):
    player_id: int
    day: int
    deposited: int = 0
    net_loss: int = 0
    transferred: int = 0


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


AUDIT_LISTED_MAX = 100  # bound: accounts named per kind of violation (the counts are exact)


@final
class LedgerAudit(msgspec.Struct, frozen=True):
    total_balance: int  # must be 0
    accounts: int
    transfers: int
    overdrawn_accounts: int  # available < 0 where not allowed: must be 0
    # Accounts whose balance/reserved disagree with the sum of their transfers: must be 0.
    mismatched_accounts: int
    balance_by_asset: dict[str, int] = {}  # each must be 0
    overdrawn: list[AccountRef] = []  # the first AUDIT_LISTED_MAX of them
    mismatched: list[AccountRef] = []

    @property
    def consistent(self) -> bool:
        return (
            self.total_balance == 0
            and not any(self.balance_by_asset.values())
            and not self.overdrawn_accounts
            and not self.mismatched_accounts
        )


@final
class PoolFigures(msgspec.Struct, frozen=True):
    """A table escrow or a tournament prize pool, from its transfers (posted ones)."""

    account: AccountRef
    balance: int
    reserved: int  # pending buy-ins
    paid_in: int  # buy-ins (and adjustments in)
    paid_out: int  # cash-outs, rake, prizes, refunds (and adjustments out)
    by_kind: dict[str, int]  # posted net per transfer kind, from the pool's side


@final
class ClaimState(msgspec.Struct, frozen=True):
    """A player's play-money refills so far."""

    claims: int
    last_claim_at_ms: int | None


@final
class StatementTotal(msgspec.Struct, frozen=True):
    kind: str
    count: int
    credited: int  # into the account
    debited: int  # out of it


@final
class PoolAssetTaken(ValueError):
    """A transfer would open a pool (escrow, prize pool) in one asset where the same owner
    already holds a pool of another: pools hold one asset for life."""

    def __init__(self, account: AccountRef) -> None:
        super().__init__(f"{account.kind} {account.owner} holds another asset than {account.asset}")
        self.account = account


def player_of(ref: AccountRef) -> int | None:
    return int(ref.owner) if ref.kind == WALLET_KIND else None


def day_of(ms: int) -> int:
    return ms // DAY_MS


ACCOUNT_COLUMNS = "id, kind, owner, balance, reserved, may_go_negative, asset"
_TRANSFER = (
    "id, idempotency_key, kind, debit_kind, debit_owner, credit_kind, credit_owner, amount,"
    " state, memo, created_at_ms, updated_at_ms, content_hash, debit_account_id,"
    " credit_account_id, asset"
)
_RULES = (
    "daily_deposit_max, daily_loss_max, table_buy_in_max, weekly_deposit_max,"
    " monthly_deposit_max, weekly_loss_max, monthly_loss_max, session_minutes_max,"
    " pending_raises, exclusion_kind, exclusion_since_ms, exclusion_until_ms, updated_at_ms"
)
_RULES_COUNT = 13
_pending_encoder = msgspec.json.Encoder()
_pending_decoder = msgspec.json.Decoder(dict[str, PendingRaise])


def account_from_row(row: Row) -> LedgerAccount:
    """A ``LedgerAccount`` from a row selected as ``ACCOUNT_COLUMNS``."""
    return LedgerAccount(
        id=int(row[0]), kind=row[1], owner=row[2], balance=int(row[3]), reserved=int(row[4]),
        may_go_negative=bool(row[5]), asset=row[6],
    )  # fmt: skip


def _transfer(row: Row) -> TransferRecord:
    asset = row[15]
    return TransferRecord(
        id=int(row[0]), key=row[1], kind=row[2], debit=AccountRef(row[3], row[4], asset),
        credit=AccountRef(row[5], row[6], asset), amount=int(row[7]), state=row[8],
        memo=row[9], created_at_ms=int(row[10]), updated_at_ms=int(row[11]),
    )  # fmt: skip


def _rules(row: Row) -> PlayerRules:
    """``PlayerRules`` from the ``_RULES_COUNT`` values selected as ``_RULES``."""
    limits = PlayerLimits(*(None if v is None else int(v) for v in row[:8]))
    exclusion = None
    if row[9] is not None:
        exclusion = Exclusion(kind=row[9], since_ms=int(row[10]), until_ms=int(row[11]))
    return PlayerRules(
        limits=limits, pending=_pending_decoder.decode(row[8] or "{}"), exclusion=exclusion,
        updated_at_ms=int(row[12]),
    )  # fmt: skip


def validate(req: TransferRequest) -> None:
    if not req.key or len(req.key) > IDEMPOTENCY_KEY_CHARS_MAX:
        raise ValueError(f"idempotency key must be 1-{IDEMPOTENCY_KEY_CHARS_MAX} characters")
    if len(req.memo) > MEMO_CHARS_MAX:
        raise ValueError(f"memo longer than {MEMO_CHARS_MAX} characters")
    if req.debit == req.credit:
        raise ValueError("a transfer needs two different accounts")
    if req.debit.asset != req.credit.asset:
        raise ValueError("a transfer moves one asset between two accounts of that asset")
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
    rules: dict[int, PlayerRules]  # players (of wallets here) that have a player_limits row
    seen_hash: str | None  # content hash of a transfer already stored under the key


def _account_terms(refs: tuple[AccountRef, ...], first: int) -> tuple[str, tuple[str, ...]]:
    terms = " OR ".join(
        f"(a.kind = ${first + 3 * i} AND a.owner = ${first + 3 * i + 1}"
        f" AND a.asset = ${first + 3 * i + 2})"
        for i in range(len(refs))
    )
    return terms, tuple(value for ref in refs for value in (ref.kind, ref.owner, ref.asset))


def _lock_accounts(
    refs: tuple[AccountRef, AccountRef], key: str, negative_kinds: frozenset[str], now_ms: int
) -> Work[_Locked]:
    """Lock both accounts (creating missing ones) in id order, so transfers cannot deadlock.

    The same round trip brings the players' limits and whether the idempotency key is taken.
    (In PostgreSQL the subquery sees the statement's snapshot, which may predate a concurrent
    transfer with the same key that we waited for; the insert's ON CONFLICT catches that.)
    """
    terms, args = _account_terms(refs, 2)
    rules_columns = ", ".join(f"l.{c.strip()}" for c in _RULES.split(","))
    select = Query(
        "SELECT a.id, a.kind, a.owner, a.balance, a.reserved, a.may_go_negative, a.asset,"
        f" a.player_id, l.player_id, {rules_columns},"
        " (SELECT content_hash FROM ledger_transfers WHERE idempotency_key = $1)"
        f" FROM ledger_accounts a LEFT JOIN player_limits l ON l.player_id = a.player_id"
        f" WHERE {terms} ORDER BY a.id",
        (key, *args),
        lock="a",
    )
    rows = yield select
    if len(rows) < 2:
        if not rows:  # the key may still be taken (by a transfer between other accounts)
            found = yield from _by_key(key)
            if found is not None:
                return _Locked({}, {}, found[1])
        present = {AccountRef(r[1], r[2], r[6]) for r in rows}
        missing = sorted(set(refs) - present)
        for ref in missing:  # sorted: every transaction creates in order
            # No conflict target: a pool owner that holds another asset (the partial unique
            # index of the ledger_assets migration) is a conflict too, and the account is not
            # created.
            yield Query(
                "INSERT INTO ledger_accounts (kind, owner, asset, balance, reserved,"
                " may_go_negative, player_id, created_at_ms) VALUES ($1, $2, $3, 0, 0, $4, $5, $6)"
                " ON CONFLICT DO NOTHING",
                (
                    ref.kind, ref.owner, ref.asset, ref.kind in negative_kinds, player_of(ref),
                    now_ms,
                ),
            )  # fmt: skip
        rows = yield select
        if len(rows) < 2:
            present = {AccountRef(r[1], r[2], r[6]) for r in rows}
            raise PoolAssetTaken(next(ref for ref in missing if ref not in present))
    rules = {int(r[8]): _rules(r[9 : 9 + _RULES_COUNT]) for r in rows if r[8] is not None}
    return _Locked({a.ref: a for a in map(account_from_row, rows)}, rules, rows[0][-1])


def _player_states(
    player_ids: list[int], rules: dict[int, PlayerRules], sender: int | None, now_ms: int
) -> Work[dict[int, PlayerState]]:
    """States of the players involved. Totals are read for players with rules (over the
    last MONTH_DAYS days) and for ``sender`` (the daily transfer limit); everyone else is
    seen with empty totals, which no rule reads.

    Read after the accounts are locked, in a statement of its own, so they are current (the
    lock statement's joined rows could predate a transfer we waited for).
    """
    day = day_of(now_ms)
    counted = [p for p in player_ids if p in rules or p == sender]
    windows: dict[int, list[DailyTotals]] = {p: [DailyTotals()] * 3 for p in counted}
    if counted:
        rows = yield Query(
            "SELECT player_id, day, deposited, net_loss, transferred FROM player_daily_totals"
            f" WHERE day > $1 AND player_id IN ({_marks(len(counted), 2)})",
            (day - MONTH_DAYS, *counted),
        )
        for player, row_day, deposited, net_loss, transferred in rows:
            totals = DailyTotals(int(deposited), int(net_loss), int(transferred))
            spans = windows[int(player)]
            for index, days in enumerate((1, WEEK_DAYS, MONTH_DAYS)):
                if int(row_day) > day - days:
                    spans[index] = _add(spans[index], totals)
    states: dict[int, PlayerState] = {}
    for p in player_ids:
        today, week, month = windows.get(p, [DailyTotals()] * 3)
        player_rules = rules.get(p, PlayerRules())
        states[p] = PlayerState(
            player_rules.effective(now_ms), today, week, month, player_rules.excluded(now_ms)
        )
    return states


def _add(a: DailyTotals, b: DailyTotals) -> DailyTotals:
    return DailyTotals(
        a.deposited + b.deposited, a.net_loss + b.net_loss, a.transferred + b.transferred
    )


def _marks(count: int, first: int) -> str:
    return ", ".join(f"${i}" for i in range(first, first + count))


def _apply_totals(deltas: Sequence[TotalsDelta]) -> Work[None]:
    for d in deltas:
        if d.deposited == 0 and d.net_loss == 0 and d.transferred == 0:
            continue
        yield Query(
            "INSERT INTO player_daily_totals (player_id, day, deposited, net_loss, transferred)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (player_id, day) DO UPDATE SET"
            " deposited = player_daily_totals.deposited + excluded.deposited,"
            " net_loss = player_daily_totals.net_loss + excluded.net_loss,"
            " transferred = player_daily_totals.transferred + excluded.transferred",
            (d.player_id, d.day, d.deposited, d.net_loss, d.transferred),
        )


def transfer(
    req: TransferRequest, now_ms: int, negative_kinds: frozenset[str], check: TransferCheck
) -> Work[TransferOutcome]:
    """One transfer, posted or pending, in one transaction; idempotent by ``req.key``.

    Round trips: lock (with limits and the key check), insert (the trigger moves the
    balances), and for players with limits (and a sender whose daily transfer total the
    rules count, ``req.reads_sender_totals``), their totals read and written.
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
    sender = player_of(req.debit) if req.reads_sender_totals else None
    states = yield from _player_states(players, locked.rules, sender, now_ms)
    deltas = check(req, debit, credit, states, day)
    rows = yield Query(
        "INSERT INTO ledger_transfers (idempotency_key, content_hash, kind, debit_account_id,"
        " credit_account_id, debit_kind, debit_owner, credit_kind, credit_owner, amount, state,"
        " memo, created_at_ms, updated_at_ms, asset)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)"
        f" ON CONFLICT (idempotency_key) DO NOTHING RETURNING {_TRANSFER}",
        (
            req.key, content_hash, req.kind, debit.id, credit.id, req.debit.kind,
            req.debit.owner, req.credit.kind, req.credit.owner, req.amount,
            "pending" if req.pending else "posted", req.memo, now_ms, req.asset,
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
        f"SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts"
        " WHERE kind = $1 AND owner = $2 AND asset = $3",
        (ref.kind, ref.owner, ref.asset),
    )
    return account_from_row(rows[0]) if rows else None


def pool_asset(kind: str, owner: str) -> Work[str | None]:
    """The asset a pool owner (a table's escrow, a tournament's prize pool) holds, if any."""
    rows = yield Query(
        "SELECT asset FROM ledger_accounts WHERE kind = $1 AND owner = $2", (kind, owner)
    )
    return str(rows[0][0]) if rows else None


_ACCOUNT_ID = "(SELECT id FROM ledger_accounts WHERE kind = $1 AND owner = $2 AND asset = $3)"


def history(ref: AccountRef, before_id: int | None, limit: int) -> Work[list[TransferRecord]]:
    """Transfers touching one account, newest first, ``id < before_id``."""
    page = max(1, min(limit, HISTORY_PAGE_MAX))
    rows = yield Query(
        f"SELECT {_TRANSFER} FROM ledger_transfers WHERE id < $4 AND ("
        f" debit_account_id = {_ACCOUNT_ID} OR credit_account_id = {_ACCOUNT_ID})"
        f" ORDER BY id DESC LIMIT {page}",
        (ref.kind, ref.owner, ref.asset, before_id if before_id is not None else 2**62),
    )
    return [_transfer(row) for row in rows]


# -- a player's rules (limits, waiting raises, exclusion) -------------------------------------

# Decides a player's new rules from the stored ones (PlayerRules() when none): raises to refuse
# (nothing is written), returns the rules to store.
RulesChange = Callable[[PlayerRules], PlayerRules]


def get_rules(player_id: int) -> Work[PlayerRules | None]:
    rows = yield Query(f"SELECT {_RULES} FROM player_limits WHERE player_id = $1", (player_id,))
    return _rules(rows[0]) if rows else None


def change_rules(player_id: int, now_ms: int, change: RulesChange) -> Work[PlayerRules]:
    """Read the player's rules under a row lock, let ``change`` decide, store the result: two
    changes at once are decided one after the other, each on what the other wrote."""
    yield Query(
        "INSERT INTO player_limits (player_id, updated_at_ms) VALUES ($1, $2)"
        " ON CONFLICT (player_id) DO NOTHING",
        (player_id, now_ms),
    )
    rows = yield Query(
        f"SELECT {', '.join(f'l.{c.strip()}' for c in _RULES.split(','))} FROM player_limits l"
        " WHERE l.player_id = $1",
        (player_id,),
        lock="l",
    )
    stored = _rules(one(rows))
    rules = change(stored)
    if rules == stored:
        return stored  # nothing changed (a retry): nothing written, not even the time
    rules = msgspec.structs.replace(rules, updated_at_ms=now_ms)
    limits, exclusion = rules.limits, rules.exclusion
    yield Query(
        "UPDATE player_limits SET daily_deposit_max = $2, daily_loss_max = $3,"
        " table_buy_in_max = $4, weekly_deposit_max = $5, monthly_deposit_max = $6,"
        " weekly_loss_max = $7, monthly_loss_max = $8, session_minutes_max = $9,"
        " pending_raises = $10, exclusion_kind = $11, exclusion_since_ms = $12,"
        " exclusion_until_ms = $13, updated_at_ms = $14 WHERE player_id = $1",
        (
            player_id, *(getattr(limits, name) for name in LIMIT_NAMES),
            _pending_encoder.encode(rules.pending).decode(),
            exclusion.kind if exclusion else None, exclusion.since_ms if exclusion else None,
            exclusion.until_ms if exclusion else None, now_ms,
        ),
    )  # fmt: skip
    return rules


def get_player_state(player_id: int, now_ms: int) -> Work[PlayerState]:
    """The player's limits in force and her totals (today, 7 and 30 days)."""
    found = yield from get_rules(player_id)
    rules = {player_id: found} if found is not None else {}
    states = yield from _player_states([player_id], rules, player_id, now_ms)
    return states[player_id]


# -- play money -----------------------------------------------------------------------------

# Decides a refill from the player's claims so far and her play wallet (None: none yet):
# raises to refuse, returns the transfer to make.
ClaimDecision = Callable[[ClaimState, LedgerAccount | None], TransferRequest]


def claim(
    player_id: int,
    wallet_ref: AccountRef,
    now_ms: int,
    decide: ClaimDecision,
    negative_kinds: frozenset[str],
    check: TransferCheck,
) -> Work[TransferOutcome]:
    """A play-money refill: the player's claims row is locked while ``decide`` looks at it
    and the refill is made, so two claims at once are one refill and one refusal."""
    yield Query(
        "INSERT INTO play_money_claims (player_id, claims, last_claim_at_ms) VALUES ($1, 0, NULL)"
        " ON CONFLICT (player_id) DO NOTHING",
        (player_id,),
    )
    rows = yield Query(
        "SELECT c.claims, c.last_claim_at_ms FROM play_money_claims c WHERE c.player_id = $1",
        (player_id,),
        lock="c",
    )
    claims, last = one(rows)
    state = ClaimState(int(claims), None if last is None else int(last))
    account = yield from get_account(wallet_ref)
    request = decide(state, account)
    outcome = yield from transfer(request, now_ms, negative_kinds, check)
    if isinstance(outcome, Applied):
        yield Query(
            "UPDATE play_money_claims SET claims = claims + 1, last_claim_at_ms = $2"
            " WHERE player_id = $1",
            (player_id, now_ms),
        )
    return outcome


# -- statements ------------------------------------------------------------------------------

STATEMENT_PAGE_MAX = 500  # bound: a larger page is clamped to this


def balance_at(ref: AccountRef, at_ms: int) -> Work[int]:
    """The account's posted balance just before ``at_ms``: every transfer posted earlier (a
    posted transfer's ``updated_at_ms`` is when it moved the balances)."""
    account = yield from get_account(ref)
    if account is None:
        return 0
    rows = yield Query(
        "SELECT COALESCE(SUM(CASE WHEN credit_account_id = $1 THEN amount ELSE -amount END), 0)"
        " FROM ledger_transfers WHERE (debit_account_id = $1 OR credit_account_id = $1)"
        " AND state = 'posted' AND updated_at_ms < $2",
        (account.id, at_ms),
    )
    return int(one(rows)[0])


def statement_totals(ref: AccountRef, from_ms: int, to_ms: int) -> Work[list[StatementTotal]]:
    """Per transfer kind, what was posted into and out of the account in [from_ms, to_ms)."""
    account = yield from get_account(ref)
    if account is None:
        return []
    rows = yield Query(
        "SELECT kind, COUNT(*),"
        " COALESCE(SUM(CASE WHEN credit_account_id = $1 THEN amount ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN debit_account_id = $1 THEN amount ELSE 0 END), 0)"
        " FROM ledger_transfers WHERE (debit_account_id = $1 OR credit_account_id = $1)"
        " AND state = 'posted' AND updated_at_ms >= $2 AND updated_at_ms < $3"
        " GROUP BY kind ORDER BY kind",
        (account.id, from_ms, to_ms),
    )
    return [StatementTotal(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows]


def statement_entries(
    ref: AccountRef, from_ms: int, to_ms: int, after_id: int | None, limit: int
) -> Work[list[TransferRecord]]:
    """Transfers posted into or out of the account in [from_ms, to_ms), in id order, after
    ``after_id``."""
    page = max(1, min(limit, STATEMENT_PAGE_MAX))
    account = yield from get_account(ref)
    if account is None:
        return []
    rows = yield Query(
        f"SELECT {_TRANSFER} FROM ledger_transfers WHERE id > $2"
        " AND (debit_account_id = $1 OR credit_account_id = $1)"
        " AND state = 'posted' AND updated_at_ms >= $3 AND updated_at_ms < $4"
        f" ORDER BY id LIMIT {page}",
        (account.id, after_id or 0, from_ms, to_ms),
    )
    return [_transfer(row) for row in rows]


# -- the audit -------------------------------------------------------------------------------


def audit() -> Work[LedgerAudit]:
    """Check the ledger's invariants from the rows themselves (recovery, tests, admin): the
    sum per asset, accounts overdrawn where they must not be, and accounts whose balance or
    reserved disagree with their transfers."""
    rows = yield Query(
        "SELECT asset, COALESCE(SUM(balance), 0), COUNT(*) FROM ledger_accounts GROUP BY asset"
        " ORDER BY asset"
    )
    by_asset = {str(r[0]): int(r[1]) for r in rows}
    accounts = sum(int(r[2]) for r in rows)
    rows = yield Query(
        "SELECT COUNT(*) FROM ledger_accounts WHERE NOT may_go_negative AND balance < reserved"
    )
    overdrawn_count = int(one(rows)[0])
    rows = yield Query(
        "SELECT kind, owner, asset FROM ledger_accounts"
        f" WHERE NOT may_go_negative AND balance < reserved ORDER BY id LIMIT {AUDIT_LISTED_MAX}"
    )
    overdrawn = [AccountRef(r[0], r[1], r[2]) for r in rows]
    rows = yield Query("SELECT COUNT(*) FROM ledger_transfers")
    transfers = one(rows)[0]
    rows = yield Query(
        "SELECT a.kind, a.owner, a.asset FROM ledger_accounts a LEFT JOIN ("
        " SELECT account_id, SUM(net) AS net, SUM(held) AS held FROM ("
        "  SELECT debit_account_id AS account_id,"
        "   CASE WHEN state = 'posted' THEN -amount ELSE 0 END AS net,"
        "   CASE WHEN state = 'pending' THEN amount ELSE 0 END AS held FROM ledger_transfers"
        "  UNION ALL"
        "  SELECT credit_account_id, CASE WHEN state = 'posted' THEN amount ELSE 0 END, 0"
        "  FROM ledger_transfers) moves GROUP BY account_id) sums ON sums.account_id = a.id"
        " WHERE a.balance <> COALESCE(sums.net, 0) OR a.reserved <> COALESCE(sums.held, 0)"
        " ORDER BY a.id"
    )
    mismatched = [AccountRef(r[0], r[1], r[2]) for r in rows]
    return LedgerAudit(
        total_balance=sum(by_asset.values()), accounts=accounts, transfers=int(transfers),
        overdrawn_accounts=overdrawn_count, mismatched_accounts=len(mismatched),
        balance_by_asset=by_asset, overdrawn=overdrawn, mismatched=mismatched[:AUDIT_LISTED_MAX],
    )  # fmt: skip


POOLS_MAX = 10_000  # bound: pools listed by one audit (the rest are counted, not listed)


def pools(kind: str) -> Work[list[PoolFigures]]:
    """Every pool of a kind (escrow, prize_pool) with what went in and out, by transfer kind."""
    rows = yield Query(
        "SELECT a.kind, a.owner, a.asset, a.balance, a.reserved, t.kind,"
        " COALESCE(SUM(CASE WHEN t.credit_account_id = a.id THEN t.amount ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN t.debit_account_id = a.id THEN t.amount ELSE 0 END), 0)"
        " FROM ledger_accounts a LEFT JOIN ledger_transfers t"
        " ON (t.debit_account_id = a.id OR t.credit_account_id = a.id) AND t.state = 'posted'"
        f" WHERE a.id IN (SELECT id FROM ledger_accounts WHERE kind = $1 ORDER BY id"
        f" LIMIT {POOLS_MAX}) GROUP BY a.id, a.kind, a.owner, a.asset, a.balance, a.reserved,"
        " t.kind ORDER BY a.id",
        (kind,),
    )
    found: dict[AccountRef, PoolFigures] = {}
    for r in rows:
        ref = AccountRef(r[0], r[1], r[2])
        figures = found.get(ref) or PoolFigures(ref, int(r[3]), int(r[4]), 0, 0, {})
        if r[5] is not None:
            into, out = int(r[6]), int(r[7])
            figures.by_kind[str(r[5])] = into - out
            figures = msgspec.structs.replace(
                figures, paid_in=figures.paid_in + into, paid_out=figures.paid_out + out
            )
        found[ref] = figures
    return list(found.values())
