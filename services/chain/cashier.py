"""The cashier's service functions: players' deposit references and withdrawal requests, and
what staff do with them (lists, approving or rejecting large withdrawals, pausing).

A withdrawal request, in order (each step survives a crash; see docs/chain.md):

1. ``requested``: the row is written first, under the player's idempotency key;
2. the ledger reserves the amount (a pending wallet -> external transfer, under the same key);
   a refusal (insufficient funds, ...) makes it ``refused`` and reaches the player;
3. ``awaiting_approval`` at or above the approval threshold, else ``queued`` for the batcher;
4. the batcher moves it ``batched`` -> ``paid`` (posted) or ``voided`` (released).

Staff actions are audited here, in the service, so every door (the admin API today) gets the
same record. Refusals raise :class:`services.ledger.WalletError` subclasses with stable codes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Final, final

import msgspec
import structlog

from persistence import chain as db
from persistence.audit import AuditStamp
from persistence.chain import Deposit, DepositState, Withdrawal, WithdrawalState
from persistence.store import Store
from services.chain.ledger_port import CashierLedger
from services.chain.settings import ChainSettings
from services.chain.units import new_reference, parse_address
from services.ledger import InvalidAmount, WalletError
from services.wallet import AMOUNT_MAX

log = structlog.get_logger("tablium.chain")

FINISH_ROWS_MAX: Final = 500  # bound: ledger follow-ups per call; the rest wait for the next
REQUESTED_ROWS_MAX: Final = 500  # bound: interrupted requests finished per call
REASON_CHARS_MAX: Final = 500  # bound on a staff reason
WITHDRAWALS_PAGE_MAX: Final = 100  # bound: a player's withdrawals per page (larger: refused)


@final
class WithdrawalConflict(WalletError):
    code = "idempotency_conflict"


@final
class UnknownWithdrawal(WalletError):
    code = "unknown_withdrawal"


@final
class WithdrawalNotAwaitingApproval(WalletError):
    code = "withdrawal_not_awaiting_approval"


@final
class WithdrawalRefused(WalletError):
    """A retried request that the ledger refused the first time (the reason says why)."""

    code = "withdrawal_refused"


@final
class DepositInstructions(msgspec.Struct, frozen=True):
    """What a player's wallet app needs to deposit: call ``deposit(amount, reference)`` (or
    ``deposit_native(reference)``) on ``cashier`` on chain ``chain_id``."""

    chain_id: int
    cashier: str
    token: str  # the zero address: the native coin
    reference: str
    rate: str  # chips per token unit


@final
class StaffAction(msgspec.Struct, frozen=True):
    """Who acts, in what role, why, under which request id (for the audit log)."""

    subject: str
    role: str
    reason: str
    request_id: str


class WithdrawalPage(msgspec.Struct, frozen=True):
    """A page of one player's withdrawals, newest first; ``next_before_id`` (the last id of
    this page) asks for the next, older one, and is None on the last page."""

    withdrawals: list[Withdrawal]
    next_before_id: int | None


@final
class ChainCashier:
    def __init__(
        self,
        store: Store,
        ledger: CashierLedger,
        settings: ChainSettings,
        *,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._ledger = ledger
        self._settings = settings
        self._chain = settings.chain_id
        self._rate = settings.exchange_rate
        # Tells the batcher a withdrawal is queued (a full batch goes out without waiting).
        self.on_queued: Callable[[], None] = on_queued or (lambda: None)
        # Called after each ledger follow-up: where the crash tests kill the process.
        self.crash_point: Callable[[str], None] = lambda point: None

    @property
    def settings(self) -> ChainSettings:
        return self._settings

    @property
    def store(self) -> Store:
        return self._store

    # -- players ----------------------------------------------------------------------------

    async def deposit_instructions(self, player_id: int) -> DepositInstructions:
        """The player's deposit reference (made on first ask) and where to send. Refused:
        SelfExcluded, CoolingOff (a deposit they sent anyway is held: docs/chain.md)."""
        await self._ledger.check_may_deposit(player_id)
        store = self._store
        reference = await store.run(
            partial(db.deposit_reference, player_id, new_reference(), store.clock_ms())
        )
        s = self._settings
        return DepositInstructions(
            s.chain_id, s.cashier_address, s.token_address, reference, str(self._rate)
        )

    async def request_withdrawal(
        self, player_id: int, key: str, chips: int, address: str
    ) -> Withdrawal:
        """Reserve ``chips`` and queue them for payment to ``address``; idempotent by ``key``
        (the player's own, as for every wallet request)."""
        recipient = parse_address(address)
        if type(chips) is not int or not 0 < chips <= AMOUNT_MAX:
            raise InvalidAmount(f"amount must be an integer in 1..{AMOUNT_MAX}, got {chips!r}")
        units = self._rate.units_for(chips)
        if units <= 0:
            raise InvalidAmount(f"{chips} chips are worth no token unit at {self._rate}")
        store = self._store
        row = await store.run(
            partial(
                db.insert_withdrawal, self._chain, player_id, _request_key(player_id, key),
                recipient, chips, units, store.clock_ms(),
            )
        )  # fmt: skip
        # The key names one request across chains too (request_key is unique): reused for
        # another chain, it is another request.
        if (row.chain_id, row.player_id, row.address, row.chips) != (
            self._chain,
            player_id,
            recipient,
            chips,
        ):
            raise WithdrawalConflict(f"idempotency key {key!r} was used for another withdrawal")
        if row.state == "requested":
            return await self._reserve(row, key)
        if row.state == "refused":
            raise WithdrawalRefused(f"withdrawal {row.id} was refused: {row.reason}")
        return row

    async def _reserve(self, row: Withdrawal, key: str | None) -> Withdrawal:
        """Reserve the amount in the ledger and queue the request. With the player's ``key``
        (the request itself) a refusal is raised to the player after it is recorded."""
        store = self._store
        ledger_key = key if key is not None else _player_key_of(row)
        try:
            record = await self._ledger.reserve_withdrawal(
                ledger_key, row.player_id, row.chips, f"to {row.address}"
            )
        except WalletError as exc:
            moved = await store.run(
                partial(
                    db.set_withdrawal_state, row.id, ("requested",), "refused", store.clock_ms(),
                    reason=f"{exc.code}: {exc}"[:REASON_CHARS_MAX],
                )
            )  # fmt: skip
            if key is not None:
                raise
            return moved or await self._get(row.id)
        large = row.chips >= self._settings.approval_threshold_chips
        state: WithdrawalState = "awaiting_approval" if large else "queued"
        moved = await store.run(
            partial(
                db.set_withdrawal_state, row.id, ("requested",), state, store.clock_ms(),
                transfer_id=record.id,
            )
        )  # fmt: skip
        if moved is None:
            return await self._get(row.id)
        if state == "queued":
            self.on_queued()
        return moved

    async def withdrawal_of(self, player_id: int, withdrawal_id: int) -> Withdrawal:
        """One of the player's withdrawals on this chain; UnknownWithdrawal for any other
        (another player's answers the same as none)."""
        row = await self._store.run(partial(db.get_withdrawal, withdrawal_id), read_only=True)
        if row is None or row.player_id != player_id or row.chain_id != self._chain:
            raise UnknownWithdrawal(f"you have no withdrawal {withdrawal_id}")
        return row

    async def withdrawals_of(
        self,
        player_id: int,
        *,
        state: WithdrawalState | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> WithdrawalPage:
        """The player's withdrawals on this chain, newest first, ``limit`` (1 to
        WITHDRAWALS_PAGE_MAX) at most, those with an id below ``before_id`` when given."""
        if not 1 <= limit <= WITHDRAWALS_PAGE_MAX:
            raise ValueError(f"limit {limit} is not 1..{WITHDRAWALS_PAGE_MAX}")
        # One row more than asked says whether an older page exists.
        rows = await self._store.run(
            partial(db.list_withdrawals, self._chain, state, player_id, before_id, limit + 1),
            read_only=True,
        )
        if len(rows) > limit:
            return WithdrawalPage(rows[:limit], rows[limit - 1].id)
        return WithdrawalPage(rows, None)

    async def _get(self, withdrawal_id: int) -> Withdrawal:
        row = await self._store.run(partial(db.get_withdrawal, withdrawal_id), read_only=True)
        if row is None:
            raise UnknownWithdrawal(f"no withdrawal {withdrawal_id}")
        return row

    # -- recovery (the batcher calls these every tick) ---------------------------------------

    async def complete_requested(self) -> int:
        """Finish requests a crash interrupted between writing the row and reserving."""
        rows = await self._store.run(
            partial(db.withdrawals_in_state, self._chain, "requested", REQUESTED_ROWS_MAX),
            read_only=True,
        )
        for row in rows:
            await self._reserve(row, None)
        return len(rows)

    async def finish_ledger(self) -> int:
        """Post the transfers of paid withdrawals, void those of voided and rejected ones."""
        store = self._store
        rows = await store.run(
            partial(db.withdrawals_to_finish, self._chain, FINISH_ROWS_MAX), read_only=True
        )
        for row in rows:
            assert row.transfer_id is not None, "a final withdrawal without a transfer"
            if row.state == "paid":
                await self._ledger.post(row.transfer_id)  # paid on chain: voided is our bug
            else:
                await self._ledger.void(row.transfer_id)
            self.crash_point("ledger_followed")
            await store.run(partial(db.mark_ledger_done, row.id, store.clock_ms()))
        return len(rows)

    async def expire_stale(self) -> int:
        """Release requests that waited longer than ``withdrawal_expiry_s`` for a batch (fees
        too high, withdrawals paused, no approval, ...)."""
        store = self._store
        cutoff = store.clock_ms() - int(self._settings.withdrawal_expiry_s * 1000)
        expired = 0
        for state in ("queued", "awaiting_approval"):
            rows = await store.run(
                partial(
                    db.withdrawals_in_state, self._chain, state, FINISH_ROWS_MAX,
                    created_before_ms=cutoff,
                ),
                read_only=True,
            )  # fmt: skip
            for row in rows:
                moved = await store.run(
                    partial(
                        db.set_withdrawal_state, row.id, (state,), "voided", store.clock_ms(),
                        reason="expired",
                    )
                )  # fmt: skip
                if moved is not None:
                    expired += 1
                    log.warning("withdrawal expired", withdrawal=row.id)
        if expired:
            await self.finish_ledger()
        return expired

    # -- staff -------------------------------------------------------------------------------

    async def list_deposits(
        self,
        *,
        state: DepositState | None = None,
        player_id: int | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[Deposit]:
        """Newest first; page with ``before_id`` (the last id of the previous page)."""
        return await self._store.run(
            partial(db.list_deposits, self._chain, state, player_id, before_id, limit),
            read_only=True,
        )

    async def list_withdrawals(
        self,
        *,
        state: WithdrawalState | None = None,
        player_id: int | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[Withdrawal]:
        return await self._store.run(
            partial(db.list_withdrawals, self._chain, state, player_id, before_id, limit),
            read_only=True,
        )

    async def approve(self, withdrawal_id: int, staff: StaffAction) -> Withdrawal:
        """A large withdrawal may go into the next batch."""
        after = await self._decide(withdrawal_id, "queued", "", staff, "chain.withdrawal.approve")
        self.on_queued()
        return after

    async def reject(self, withdrawal_id: int, staff: StaffAction) -> Withdrawal:
        """A large withdrawal is refused: its reservation is released to the player."""
        reason = f"rejected: {staff.reason}"[:REASON_CHARS_MAX]
        await self._decide(withdrawal_id, "rejected", reason, staff, "chain.withdrawal.reject")
        await self.finish_ledger()
        return await self._get(withdrawal_id)

    async def _decide(
        self,
        withdrawal_id: int,
        state: WithdrawalState,
        reason: str,
        staff: StaffAction,
        action: str,
    ) -> Withdrawal:
        """Move a withdrawal awaiting approval; the change and its audit entry are one
        transaction."""
        store = self._store
        decided, _ = await store.run_audited(
            _stamp(staff, action, f"chain_withdrawal:{withdrawal_id}"),
            partial(
                db.decide_withdrawal_change, self._chain, withdrawal_id, state,
                store.clock_ms(), reason,
            ),
        )  # fmt: skip
        if decided is None:
            current = await self._get(withdrawal_id)
            if current.chain_id != self._chain:
                raise UnknownWithdrawal(f"no withdrawal {withdrawal_id} on chain {self._chain}")
            raise WithdrawalNotAwaitingApproval(
                f"withdrawal {withdrawal_id} is {current.state}, not awaiting approval"
            )
        return decided[1]

    async def withdrawals_paused(self) -> bool:
        return await self._store.run(partial(db.withdrawals_paused, self._chain), read_only=True)

    async def set_withdrawals_paused(self, paused: bool, staff: StaffAction) -> bool:
        """Stop (or restart) sending batches; requests still queue. Returns the old flag.
        (The contract's own pause is the owner's: see docs/chain.md, runbook.) The flag and
        its audit entry are one transaction."""
        store = self._store
        action = "chain.withdrawals.pause" if paused else "chain.withdrawals.resume"
        before, _ = await store.run_audited(
            _stamp(staff, action, f"chain:{self._chain}"),
            partial(db.set_withdrawals_paused_change, self._chain, paused, store.clock_ms()),
        )
        if not paused:
            self.on_queued()
        return before


def _stamp(staff: StaffAction, action: str, target: str) -> AuditStamp:
    return AuditStamp(
        subject=staff.subject,
        role=staff.role,
        action=action,
        target=target,
        reason=staff.reason,
        request_id=staff.request_id,
    )


def _request_key(player_id: int, key: str) -> str:
    # The ledger namespaces a player's keys the same way (services/wallet.py).
    return f"player:{player_id}:{key}"


def _player_key_of(row: Withdrawal) -> str:
    prefix = f"player:{row.player_id}:"
    assert row.request_key.startswith(prefix)
    return row.request_key[len(prefix) :]
