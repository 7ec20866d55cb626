"""The wallet service: every money movement goes through here, one transaction each.

Callers: the gateway and the public API (a player's balances, history, statements, limits,
transfers, deposit and withdrawal requests, play-money refills), tables (buy-in, cash-out,
rake), tournaments (buy-in, fees, prizes), the chain service (posting or voiding deposit and
withdrawal requests) and the admin API (adjustments, statements, limits, audit). Refusals
raise :class:`services.ledger.WalletError` subclasses, each with a stable ``code``; anything
else is our bug and crashes the calling actor.

Assets: every account is real money (``chips``, the default of every call here) or play money
(``play``); callers that move money for a table or tournament pass its asset. A play-money
table never touches a real-money balance: the ledger refuses a transfer between assets, and a
pool (escrow, prize pool) holds one asset for life (``wrong_asset``).

Idempotency: every transfer carries a key. A retry with the same key and content returns the
original transfer (even after a restart); the same key with other content raises
:class:`IdempotencyConflict`. Keys a player sends are namespaced by the player id, so one
player's keys never collide with another's. A refused transfer stores nothing: retrying it
evaluates the rules again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Final, final

import msgspec
from prometheus_client import Counter

from persistence.audit import AuditStamp
from persistence.ledger import (
    HISTORY_PAGE_MAX,
    STATEMENT_PAGE_MAX,
    AccountRef,
    AlreadyResolved,
    Applied,
    ClaimState,
    ExclusionKind,
    KeyConflict,
    LedgerAccount,
    LedgerAudit,
    NotPending,
    PendingAction,
    PlayerLimits,
    PlayerState,
    PoolAssetTaken,
    PoolFigures,
    Replayed,
    Resolved,
    StatementTotal,
    TransferOutcome,
    TransferRecord,
    TransferRequest,
)
from persistence.ledger import UnknownTransfer as MissingTransfer
from persistence.store import Store
from protocol.limits import CHIPS_MAX
from services.ledger import (
    ASSETS,
    CHIPS,
    EXTERNAL,
    FEES,
    HOUSE,
    NEGATIVE_KINDS,
    PLAY,
    RAKE,
    TRANSFER_KINDS,
    ExclusionInForce,
    IdempotencyConflict,
    InvalidAmount,
    TransferNotAllowed,
    TransferNotPending,
    TransfersDisabled,
    TransferToSelf,
    UnknownPlayer,
    UnknownTransfer,
    WalletError,
    WrongAsset,
    check_transfer,
    escrow,
    house_account,
    on_resolve,
    prize_pool,
    wallet,
)
from services.limits import LimitsView, change_limits, check_may_play_real_money, exclude, view
from services.play_money import PlayMoneyPolicy, decide_refill, refill_key, start_key

LEDGER_TRANSFERS: Final = Counter(
    "tablium_ledger_transfers",
    "Transfers applied to the ledger (retries that replay an earlier one are not counted).",
    ["kind"],
)
AMOUNT_MAX: Final = CHIPS_MAX  # bound: larger amounts are refused (InvalidAmount); fits BIGINT sums
STATEMENT_SPAN_MS_MAX: Final = 366 * 86_400_000  # bound: a statement covers at most a year


@final
@dataclass(frozen=True, slots=True)
class WalletPolicy:
    """The operator's wallet settings (server/config.py builds one from the settings).

    ``transfers_enabled``: players may send real money to each other (the server's default
    is off; this library default is on, for tests and tools). ``transfer_daily_max``: what
    one player may send per UTC day (None: no limit). ``play``: play money.
    """

    transfers_enabled: bool = True
    transfer_daily_max: int | None = None
    play: PlayMoneyPolicy = field(default_factory=PlayMoneyPolicy)


@final
class Balance(msgspec.Struct, frozen=True):
    player_id: int
    balance: int  # posted
    reserved: int  # held by pending withdrawals and buy-ins
    available: int  # balance - reserved: what the player can spend
    asset: str = CHIPS


@final
class HistoryEntry(msgspec.Struct, frozen=True):
    transfer_id: int
    kind: str
    state: str  # "pending", "posted" or "voided"
    amount: int  # from the player's side: positive in, negative out
    counterparty: AccountRef
    memo: str
    created_at_ms: int
    updated_at_ms: int  # for a posted entry: when it moved the balance


@final
class HistoryPage(msgspec.Struct, frozen=True):
    entries: list[HistoryEntry]
    # Pass as before_id for the next (older) page; None when this page is the last.
    next_before_id: int | None


@final
class Statement(msgspec.Struct, frozen=True):
    """A player's account over [from_ms, to_ms): what it held before, what moved it, what it
    held after. ``closing_balance`` = ``opening_balance`` + the net of ``totals``. Entries are
    the transfers posted in the period (a pending request appears when it is posted), in id
    order, one page at a time: pass ``next_after_id`` as ``after_id`` for the next."""

    player_id: int
    asset: str
    from_ms: int
    to_ms: int
    opening_balance: int
    closing_balance: int
    totals: list[StatementTotal]  # per transfer kind, over the whole period
    entries: list[HistoryEntry]
    next_after_id: int | None


@final
class InvalidPeriod(WalletError):
    """A statement's period that is empty, reversed, before the epoch or over a year."""

    code = "invalid_period"


@final
class Wallet:
    def __init__(self, store: Store, policy: WalletPolicy | None = None) -> None:
        self._store = store
        self.policy = policy or WalletPolicy()
        self._check = partial(check_transfer, transfer_daily_max=self.policy.transfer_daily_max)

    @property
    def store(self) -> Store:
        """The store the ledger lives in (the audit reads the tournaments beside it)."""
        return self._store

    # -- reading ------------------------------------------------------------------------------

    async def balance(self, player_id: int, asset: str = CHIPS) -> Balance:
        account = await self._store.ledger_account(wallet(player_id, _asset(asset)))
        if account is None:
            return Balance(player_id, 0, 0, 0, asset)
        return Balance(player_id, account.balance, account.reserved, account.available, asset)

    async def history(
        self, player_id: int, before_id: int | None = None, limit: int = 50, asset: str = CHIPS
    ) -> HistoryPage:
        """The player's transfers, newest first; page with ``next_before_id``."""
        ref = wallet(player_id, _asset(asset))
        records = await self._store.ledger_history(ref, before_id, limit)
        entries = [_entry(ref, r) for r in records]
        full_page = len(records) == max(1, min(limit, HISTORY_PAGE_MAX))
        return HistoryPage(entries, records[-1].id if records and full_page else None)

    async def statement(
        self,
        player_id: int,
        from_ms: int,
        to_ms: int,
        asset: str = CHIPS,
        after_id: int | None = None,
        limit: int = STATEMENT_PAGE_MAX,
    ) -> Statement:
        """The player's statement for [from_ms, to_ms) (at most a year); page the entries
        with ``after_id``. Refused: InvalidPeriod for a period that is empty, reversed or
        longer than a year."""
        if not 0 <= from_ms < to_ms or to_ms - from_ms > STATEMENT_SPAN_MS_MAX:
            raise InvalidPeriod(
                f"a statement covers 1 ms to {STATEMENT_SPAN_MS_MAX} ms from a time >= 0,"
                f" not {from_ms}..{to_ms}"
            )
        ref = wallet(player_id, _asset(asset))
        store = self._store
        # A report of the past: it may come from a read replica (docs/storage.md).
        opening = await store.ledger_balance_at(ref, from_ms, may_lag=True)
        totals = await store.ledger_statement_totals(ref, from_ms, to_ms, may_lag=True)
        records = await store.ledger_statement_entries(
            ref, from_ms, to_ms, after_id, limit, may_lag=True
        )
        full_page = len(records) == max(1, min(limit, STATEMENT_PAGE_MAX))
        return Statement(
            player_id=player_id, asset=asset, from_ms=from_ms, to_ms=to_ms,
            opening_balance=opening,
            closing_balance=opening + sum(t.credited - t.debited for t in totals),
            totals=totals, entries=[_entry(ref, r) for r in records],
            next_after_id=records[-1].id if records and full_page else None,
        )  # fmt: skip

    async def transfer_by_id(self, transfer_id: int) -> TransferRecord:
        record = await self._store.ledger_transfer_by_id(transfer_id)
        if record is None:
            raise UnknownTransfer(f"no transfer {transfer_id}")
        return record

    async def limits(self, player_id: int) -> PlayerState:
        """The player's limits in force and what her totals already count against them."""
        return await self._store.ledger_player_state(player_id)

    async def limits_view(self, player_id: int) -> LimitsView:
        """Limits in force, raises waiting, an exclusion in force, and the totals: what the
        player and staff see."""
        rules = await self._store.ledger_rules(player_id)
        state = await self._store.ledger_player_state(player_id)
        return view(rules, state, self._store.clock_ms())

    async def audit(self) -> LedgerAudit:
        return await self._store.ledger_audit()

    async def pools(self, kind: str) -> list[PoolFigures]:
        """Every table escrow (``escrow``) or tournament prize pool (``prize_pool``) with what
        went in and out of it (the ledger audit)."""
        return await self._store.ledger_pools(kind)

    async def pool_asset(self, kind: str, owner: str) -> str | None:
        """The asset a table's escrow or a tournament's prize pool holds (None: none yet).
        An id reopened with another asset would be refused its buy-ins (wrong_asset)."""
        return await self._store.ledger_pool_asset(kind, owner)

    # -- a player's own requests ------------------------------------------------------------

    async def send_to_player(
        self, key: str, from_player: int, to_name: str, amount: int, memo: str = ""
    ) -> TransferRecord:
        """A transfer to the player named ``to_name`` (what the websocket and the public API
        call). Refused: TransfersDisabled, TransferToSelf, UnknownPlayer (no such name, a
        banned player, or one who may not receive: one answer for all three), the ledger's
        refusals (InsufficientFunds, TransferLimitExceeded, ...)."""
        recipient = await self._store.get_account_by_name(to_name)
        if recipient is None or recipient.banned:
            # A banned player answers as no player at all: neither her id nor her ban is
            # anyone else's business.
            self._check_transfers_enabled()
            raise UnknownPlayer(f"no player named {to_name!r} can receive transfers")
        return await self.transfer_to_player(key, from_player, recipient.id, amount, memo)

    async def transfer_to_player(
        self, key: str, from_player: int, to_player: int, amount: int, memo: str = ""
    ) -> TransferRecord:
        self._check_transfers_enabled()
        if from_player == to_player:
            raise TransferToSelf("cannot transfer to yourself")
        recipient = await self._store.get_account(to_player)
        if recipient is None or recipient.banned:
            raise UnknownPlayer(f"no player {to_player} can receive transfers")
        try:
            return await self.move(
                _player_key(from_player, key), "player_transfer", wallet(from_player),
                wallet(to_player), amount, memo=memo,
            )  # fmt: skip
        except ExclusionInForce:
            # The ledger checks the recipient's exclusion (the sender's does not stop her
            # giving money away); her exclusion is nobody else's business either.
            raise UnknownPlayer(f"no player {to_player} can receive transfers") from None

    def _check_transfers_enabled(self) -> None:
        if not self.policy.transfers_enabled:
            raise TransfersDisabled("transfers between players are not enabled on this server")

    async def request_deposit(
        self, key: str, player_id: int, amount: int, memo: str = ""
    ) -> TransferRecord:
        """A pending external -> wallet transfer; the chain service posts it when paid."""
        return await self.move(
            _player_key(player_id, key), "deposit", house_account(EXTERNAL), wallet(player_id),
            amount, pending=True, memo=memo,
        )  # fmt: skip

    async def request_withdrawal(
        self, key: str, player_id: int, amount: int, memo: str = ""
    ) -> TransferRecord:
        """A pending wallet -> external transfer: reserves the amount until posted or voided."""
        return await self.move(
            _player_key(player_id, key), "withdrawal", wallet(player_id),
            house_account(EXTERNAL), amount, pending=True, memo=memo,
        )  # fmt: skip

    async def set_limits(
        self, player_id: int, limits: PlayerLimits | Mapping[str, int | None]
    ) -> LimitsView:
        """The player changes her limits: a ``PlayerLimits`` sets every limit (None: no
        limit); a mapping changes the limits it names. Lowering is at once, raising after 24
        hours (services/limits.py). Refused: InvalidAmount, LimitRaisePending."""
        if isinstance(limits, PlayerLimits):
            changes: Mapping[str, int | None] = msgspec.structs.asdict(limits)
        else:
            changes = limits
        now_ms = self._store.clock_ms()
        await self._store.ledger_change_rules(
            player_id, lambda rules: change_limits(rules, changes, now_ms)
        )
        return await self.limits_view(player_id)

    async def exclude(self, player_id: int, kind: ExclusionKind, days: int) -> LimitsView:
        """The player takes a cool-off (``cool_off``, 1-42 days) or excludes herself
        (``self_exclusion``, 183 days to 10 years). Refused: InvalidExclusion,
        ExclusionCannotBeShortened."""
        now_ms = self._store.clock_ms()
        await self._store.ledger_change_rules(
            player_id, lambda rules: exclude(rules, kind, days, now_ms)
        )
        return await self.limits_view(player_id)

    async def check_may_play(
        self, player_id: int, asset: str, session_started_ms: int | None = None
    ) -> None:
        """Before a seat at a table or a tournament entry of ``asset``: real money is refused
        to a player cooling off or self-excluded, or whose session has played its time
        (SelfExcluded, CoolingOff, SessionTimeLimitReached). Play money is always allowed."""
        if asset not in ASSETS:
            raise WrongAsset(f"no asset {asset!r}")
        if asset != CHIPS:
            return
        rules = await self._store.ledger_rules(player_id)
        check_may_play_real_money(player_id, rules, self._store.clock_ms(), session_started_ms)

    # -- play money -------------------------------------------------------------------------

    async def grant_starting_play_chips(self, player_id: int) -> TransferRecord | None:
        """A new player's play-money balance (once per player, by key; None when the
        operator gives none)."""
        amount = self.policy.play.starting_balance
        if amount == 0:
            return None
        return await self.move(
            start_key(player_id), "play_grant", house_account(HOUSE, PLAY),
            wallet(player_id, PLAY), amount, memo="play money: starting balance",
        )  # fmt: skip

    async def claim_play_chips(self, player_id: int) -> TransferRecord:
        """A play-money refill. Refused: RefillNotNeeded (balance not below the threshold),
        RefillTooEarly (with ``retry_after_ms``), PlayMoneyDisabled."""
        policy = self.policy.play
        store = self._store

        def decide(claims: ClaimState, account: LedgerAccount | None) -> TransferRequest:
            amount = decide_refill(policy, claims, account, store.clock_ms())
            return _request(
                refill_key(player_id, claims.claims + 1), "play_grant",
                house_account(HOUSE, PLAY), wallet(player_id, PLAY), amount, False,
                "play money: refill",
            )  # fmt: skip

        outcome = await store.ledger_claim(
            player_id, wallet(player_id, PLAY), decide, NEGATIVE_KINDS, self._check
        )
        return _settled("play_grant", outcome)

    # -- tables and tournaments -------------------------------------------------------------

    async def buy_in(
        self,
        key: str,
        player_id: int,
        table_id: str,
        amount: int,
        *,
        pending: bool = False,
        asset: str = CHIPS,
    ) -> TransferRecord:
        return await self.move(
            key, "buy_in", wallet(player_id, asset), escrow(table_id, asset), amount,
            pending=pending,
        )  # fmt: skip

    async def cash_out(
        self, key: str, table_id: str, player_id: int, amount: int, *, asset: str = CHIPS
    ) -> TransferRecord:
        return await self.move(
            key, "cash_out", escrow(table_id, asset), wallet(player_id, asset), amount
        )

    async def take_rake(
        self, key: str, table_id: str, amount: int, *, asset: str = CHIPS
    ) -> TransferRecord:
        return await self.move(
            key, "rake", escrow(table_id, asset), house_account(RAKE, asset), amount
        )

    async def tournament_buy_in(
        self, key: str, player_id: int, tournament_id: str, amount: int, *, asset: str = CHIPS
    ) -> TransferRecord:
        return await self.move(
            key, "buy_in", wallet(player_id, asset), prize_pool(tournament_id, asset), amount
        )

    async def pay_entry_fee(
        self, key: str, player_id: int, amount: int, memo: str = "", *, asset: str = CHIPS
    ) -> TransferRecord:
        """A tournament entry's fee (``memo`` names the tournament and entry): what the
        player paid the house for it, for rakeback and statistics."""
        return await self.move(
            key, "entry_fee", wallet(player_id, asset), house_account(FEES, asset), amount,
            memo=memo,
        )  # fmt: skip

    async def pay_prize(
        self, key: str, tournament_id: str, player_id: int, amount: int, *, asset: str = CHIPS
    ) -> TransferRecord:
        return await self.move(
            key, "prize", prize_pool(tournament_id, asset), wallet(player_id, asset), amount
        )

    async def adjust(
        self,
        key: str,
        account: AccountRef,
        amount: int,
        memo: str,
        *,
        audit_as: AuditStamp | None = None,
    ) -> TransferRecord:
        """An operator's correction: positive credits ``account`` from the house, negative
        debits it back to the house (the house account of the account's asset). With
        ``audit_as``, the transfer and its audit entry (``account``'s balances before and
        after) are one transaction."""
        house = house_account(HOUSE, account.asset)
        if amount > 0:
            kind, debit, credit, moved = "adjustment", house, account, amount
        else:
            kind, debit, credit, moved = "adjustment_reversal", account, house, -amount
        if audit_as is None:
            return await self.move(key, kind, debit, credit, moved, memo=memo)
        request = _request(key, kind, debit, credit, moved, False, memo)
        try:
            outcome = await self._store.ledger_transfer_audited(
                request, NEGATIVE_KINDS, self._check, audit_as=audit_as, watch=account
            )
        except PoolAssetTaken as taken:
            raise WrongAsset(str(taken)) from None
        return _settled(request.kind, outcome)

    # -- the general form and pending resolution -------------------------------------------

    async def move(
        self,
        key: str,
        kind: str,
        debit: AccountRef,
        credit: AccountRef,
        amount: int,
        *,
        pending: bool = False,
        memo: str = "",
    ) -> TransferRecord:
        """Any transfer the rules (services/ledger.TRANSFER_KINDS) allow; idempotent by key."""
        rule = TRANSFER_KINDS.get(kind)
        counted = rule is not None and rule.counts_as_transfer
        request = _request(
            key, kind, debit, credit, amount, pending, memo,
            reads_sender_totals=counted and self.policy.transfer_daily_max is not None,
        )  # fmt: skip
        try:
            outcome = await self._store.ledger_transfer(request, NEGATIVE_KINDS, self._check)
        except PoolAssetTaken as taken:
            raise WrongAsset(str(taken)) from None
        return _settled(request.kind, outcome)

    async def post(self, transfer_id: int) -> TransferRecord:
        """Complete a pending transfer; posting a posted one again returns it (retry)."""
        return await self._resolve(transfer_id, "post")

    async def void(self, transfer_id: int) -> TransferRecord:
        """Cancel a pending transfer, releasing its reservation; repeat-safe like post."""
        return await self._resolve(transfer_id, "void")

    async def _resolve(self, transfer_id: int, action: PendingAction) -> TransferRecord:
        outcome = await self._store.ledger_resolve(transfer_id, action, on_resolve)
        match outcome:
            case Resolved(record) | AlreadyResolved(record):
                return record
            case NotPending(record):
                raise TransferNotPending(record, action)
            case MissingTransfer(missing_id):
                raise UnknownTransfer(f"no transfer {missing_id}")


def _asset(asset: str) -> str:
    if asset not in ASSETS:
        raise WrongAsset(f"no asset {asset!r}; the assets are {', '.join(sorted(ASSETS))}")
    return asset


def _request(
    key: str,
    kind: str,
    debit: AccountRef,
    credit: AccountRef,
    amount: int,
    pending: bool,
    memo: str,
    *,
    reads_sender_totals: bool = False,
) -> TransferRequest:
    if type(amount) is not int or not 0 < amount <= AMOUNT_MAX:
        raise InvalidAmount(f"amount must be an integer in 1..{AMOUNT_MAX}, got {amount!r}")
    if debit == credit:
        raise TransferNotAllowed("a transfer needs two different accounts")
    for ref in (debit, credit):
        _asset(ref.asset)
    if debit.asset != credit.asset:
        raise WrongAsset(f"{debit.kind} holds {debit.asset}, {credit.kind} holds {credit.asset}")
    return TransferRequest(
        key, kind, debit, credit, amount, pending, memo, reads_sender_totals=reads_sender_totals
    )


def _settled(kind: str, outcome: TransferOutcome) -> TransferRecord:
    match outcome:
        case Applied(record):
            LEDGER_TRANSFERS.labels(kind).inc()
            return record
        case Replayed(record):
            return record
        case KeyConflict(record):
            raise IdempotencyConflict(record.key, record)


def _player_key(player_id: int, key: str) -> str:
    return f"player:{player_id}:{key}"


def _entry(ref: AccountRef, record: TransferRecord) -> HistoryEntry:
    incoming = record.credit == ref
    return HistoryEntry(
        transfer_id=record.id,
        kind=record.kind,
        state=record.state,
        amount=record.amount if incoming else -record.amount,
        counterparty=record.debit if incoming else record.credit,
        memo=record.memo,
        created_at_ms=record.created_at_ms,
        updated_at_ms=record.updated_at_ms,
    )
