"""The wallet service: every money movement goes through here, one transaction each.

Callers: the gateway (a player's balance, history, transfers, deposit and withdrawal
requests), tables (buy-in, cash-out, rake), tournaments (buy-in, fees, prizes), the chain
service (posting or voiding deposit and withdrawal requests) and the admin API (limits,
adjustments, audit). Refusals raise :class:`services.ledger.WalletError` subclasses, each with
a stable ``code``; anything else is our bug and crashes the calling actor.

Idempotency: every transfer carries a key. A retry with the same key and content returns the
original transfer (even after a restart); the same key with other content raises
:class:`IdempotencyConflict`. Keys a player sends are namespaced by the player id, so one
player's keys never collide with another's. A refused transfer stores nothing: retrying it
evaluates the rules again.
"""

from __future__ import annotations

from typing import Final, final

import msgspec
from prometheus_client import Counter

from persistence.audit import AuditStamp
from persistence.ledger import (
    HISTORY_PAGE_MAX,
    AccountRef,
    AlreadyResolved,
    Applied,
    KeyConflict,
    LedgerAudit,
    NotPending,
    PendingAction,
    PlayerLimits,
    PlayerState,
    Replayed,
    Resolved,
    TransferOutcome,
    TransferRecord,
    TransferRequest,
)
from persistence.ledger import UnknownTransfer as MissingTransfer
from persistence.store import Store
from services.ledger import (
    EXTERNAL,
    HOUSE,
    NEGATIVE_KINDS,
    RAKE,
    IdempotencyConflict,
    InvalidAmount,
    TransferNotAllowed,
    TransferNotPending,
    UnknownPlayer,
    UnknownTransfer,
    check_transfer,
    escrow,
    house_account,
    on_resolve,
    prize_pool,
    wallet,
)

LEDGER_TRANSFERS: Final = Counter(
    "tablium_ledger_transfers",
    "Transfers applied to the ledger (retries that replay an earlier one are not counted).",
    ["kind"],
)
AMOUNT_MAX = 10**15  # bound: larger amounts are refused (InvalidAmount); fits BIGINT sums


@final
class Balance(msgspec.Struct, frozen=True):
    player_id: int
    balance: int  # posted
    reserved: int  # held by pending withdrawals and buy-ins
    available: int  # balance - reserved: what the player can spend


@final
class HistoryEntry(msgspec.Struct, frozen=True):
    transfer_id: int
    kind: str
    state: str  # "pending", "posted" or "voided"
    amount: int  # from the player's side: positive in, negative out
    counterparty: AccountRef
    memo: str
    created_at_ms: int
    updated_at_ms: int


@final
class HistoryPage(msgspec.Struct, frozen=True):
    entries: list[HistoryEntry]
    # Pass as before_id for the next (older) page; None when this page is the last.
    next_before_id: int | None


@final
class Wallet:
    def __init__(self, store: Store) -> None:
        self._store = store

    # -- reading ------------------------------------------------------------------------------

    async def balance(self, player_id: int) -> Balance:
        account = await self._store.ledger_account(wallet(player_id))
        if account is None:
            return Balance(player_id, 0, 0, 0)
        return Balance(player_id, account.balance, account.reserved, account.available)

    async def history(
        self, player_id: int, before_id: int | None = None, limit: int = 50
    ) -> HistoryPage:
        """The player's transfers, newest first; page with ``next_before_id``."""
        ref = wallet(player_id)
        records = await self._store.ledger_history(ref, before_id, limit)
        entries = [_entry(ref, r) for r in records]
        full_page = len(records) == max(1, min(limit, HISTORY_PAGE_MAX))
        return HistoryPage(entries, records[-1].id if records and full_page else None)

    async def transfer_by_id(self, transfer_id: int) -> TransferRecord:
        record = await self._store.ledger_transfer_by_id(transfer_id)
        if record is None:
            raise UnknownTransfer(f"no transfer {transfer_id}")
        return record

    async def limits(self, player_id: int) -> PlayerState:
        """The player's limits and what today's totals already count against them."""
        return await self._store.ledger_player_state(player_id)

    async def audit(self) -> LedgerAudit:
        return await self._store.ledger_audit()

    # -- a player's own requests ------------------------------------------------------------

    async def transfer_to_player(
        self, key: str, from_player: int, to_player: int, amount: int, memo: str = ""
    ) -> TransferRecord:
        if from_player == to_player:
            raise TransferNotAllowed("cannot transfer to yourself")
        recipient = await self._store.get_account(to_player)
        if recipient is None or recipient.banned:
            raise UnknownPlayer(f"no player {to_player} can receive transfers")
        return await self.move(
            _player_key(from_player, key), "player_transfer", wallet(from_player),
            wallet(to_player), amount, memo=memo,
        )  # fmt: skip

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

    # -- tables and tournaments -------------------------------------------------------------

    async def buy_in(
        self, key: str, player_id: int, table_id: str, amount: int, *, pending: bool = False
    ) -> TransferRecord:
        return await self.move(
            key, "buy_in", wallet(player_id), escrow(table_id), amount, pending=pending
        )

    async def cash_out(
        self, key: str, table_id: str, player_id: int, amount: int
    ) -> TransferRecord:
        return await self.move(key, "cash_out", escrow(table_id), wallet(player_id), amount)

    async def take_rake(self, key: str, table_id: str, amount: int) -> TransferRecord:
        return await self.move(key, "rake", escrow(table_id), house_account(RAKE), amount)

    async def tournament_buy_in(
        self, key: str, player_id: int, tournament_id: str, amount: int
    ) -> TransferRecord:
        return await self.move(key, "buy_in", wallet(player_id), prize_pool(tournament_id), amount)

    async def pay_prize(
        self, key: str, tournament_id: str, player_id: int, amount: int
    ) -> TransferRecord:
        return await self.move(key, "prize", prize_pool(tournament_id), wallet(player_id), amount)

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
        debits it back to the house. With ``audit_as``, the transfer and its audit entry
        (``account``'s balances before and after) are one transaction."""
        if amount > 0:
            kind, debit, credit, moved = "adjustment", house_account(HOUSE), account, amount
        else:
            kind, debit, credit, moved = (
                "adjustment_reversal",
                account,
                house_account(HOUSE),
                -amount,
            )
        if audit_as is None:
            return await self.move(key, kind, debit, credit, moved, memo=memo)
        request = _request(key, kind, debit, credit, moved, False, memo)
        outcome = await self._store.ledger_transfer_audited(
            request, NEGATIVE_KINDS, check_transfer, audit_as=audit_as, watch=account
        )
        return _settled(request, outcome)

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
        request = _request(key, kind, debit, credit, amount, pending, memo)
        outcome = await self._store.ledger_transfer(request, NEGATIVE_KINDS, check_transfer)
        return _settled(request, outcome)

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

    async def set_limits(self, player_id: int, limits: PlayerLimits) -> PlayerLimits:
        for name in ("daily_deposit_max", "daily_loss_max", "table_buy_in_max"):
            value = getattr(limits, name)
            if value is not None and (type(value) is not int or value < 0):
                raise InvalidAmount(f"{name} must be a non-negative integer or None")
        return await self._store.ledger_set_limits(player_id, limits)


def _request(
    key: str,
    kind: str,
    debit: AccountRef,
    credit: AccountRef,
    amount: int,
    pending: bool,
    memo: str,
) -> TransferRequest:
    if type(amount) is not int or not 0 < amount <= AMOUNT_MAX:
        raise InvalidAmount(f"amount must be an integer in 1..{AMOUNT_MAX}, got {amount!r}")
    if debit == credit:
        raise TransferNotAllowed("a transfer needs two different accounts")
    return TransferRequest(key, kind, debit, credit, amount, pending, memo)


def _settled(request: TransferRequest, outcome: TransferOutcome) -> TransferRecord:
    match outcome:
        case Applied(record):
            LEDGER_TRANSFERS.labels(request.kind).inc()
            return record
        case Replayed(record):
            return record
        case KeyConflict(record):
            raise IdempotencyConflict(request.key, record)


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
