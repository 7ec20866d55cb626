"""Wallet requests from a player's session, answered by the wallet service.

The gateway only translates: protocol request -> services.wallet call -> reply. The money
rules (balances, assets, limits, exclusions, play money, statements, idempotency) live in
services/; their refusals (WalletError with a stable ``code``, and ``retry_after_ms`` when
waiting helps) become error frames with that code. The public API calls the same service
functions (services/wallet.py ``Wallet``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, final

from persistence.ledger import LIMIT_NAMES, TransferRecord
from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.messages import (
    Account,
    Balance,
    ClaimPlayChips,
    DepositAddress,
    ExclusionState,
    GetLimits,
    GetWithdrawal,
    HistoryEntry,
    HistoryPage,
    LimitValues,
    ListWithdrawals,
    PendingRaise,
    Reply,
    SelfExclude,
    SetLimits,
    Statement,
    StatementTotal,
    Totals,
    TransferResult,
    WalletBalance,
    WalletDeposit,
    WalletHistory,
    WalletStatement,
    WalletTransfer,
    WalletWithdraw,
    Withdrawal,
    WithdrawalPage,
    WithdrawalRecord,
)
from protocol.messages import Limits as LimitsReply
from server.config import Settings
from server.session import PlayerSession
from services import wallet as service
from services.chain.availability import CashierUnavailable
from services.ledger import WalletError
from services.limits import LimitsView
from services.play_money import PlayMoneyPolicy
from services.wallet import Wallet, WalletPolicy

if TYPE_CHECKING:  # the chain extra (web3, ...) is installed only where a cashier runs
    from persistence.chain import Withdrawal as WithdrawalRow
    from services.chain.cashier import ChainCashier
    from services.chain.cashiers import Cashiers

WalletRequest = (
    WalletBalance
    | WalletHistory
    | WalletTransfer
    | WalletDeposit
    | WalletWithdraw
    | GetWithdrawal
    | ListWithdrawals
    | WalletStatement
    | ClaimPlayChips
    | GetLimits
    | SetLimits
    | SelfExclude
)
WALLET_REQUESTS: Final = (
    WalletBalance,
    WalletHistory,
    WalletTransfer,
    WalletDeposit,
    WalletWithdraw,
    GetWithdrawal,
    ListWithdrawals,
    WalletStatement,
    ClaimPlayChips,
    GetLimits,
    SetLimits,
    SelfExclude,
)


def wallet_policy_of(settings: Settings) -> WalletPolicy:
    """The wallet's rules the operator's settings ask for (server/config.py)."""
    return WalletPolicy(
        transfers_enabled=settings.player_transfers_enabled,
        transfer_daily_max=settings.player_transfer_daily_max or None,
        play=PlayMoneyPolicy(
            starting_balance=settings.play_starting_chips,
            refill_below=settings.play_refill_below,
            refill_amount=settings.play_refill_chips,
            refill_period_ms=settings.play_refill_period_s * 1000,
        ),
    )


def _result(request_id: int, record: TransferRecord) -> TransferResult:
    return TransferResult(
        id=request_id,
        transfer_id=record.id,
        state=record.state,
        amount=record.amount,
        asset=record.asset,  # type: ignore[arg-type]
    )


def withdrawal_reply(request_id: int, row: WithdrawalRow) -> Withdrawal:
    return Withdrawal(
        id=request_id, withdrawal_id=row.id, chain_id=row.chain_id, address=row.address,
        amount=row.chips, units=str(row.units), state=row.state, transfer_id=row.transfer_id,
        reason=row.reason, created_at_ms=row.created_at_ms, updated_at_ms=row.updated_at_ms,
    )  # fmt: skip


def withdrawal_record(row: WithdrawalRow) -> WithdrawalRecord:
    return WithdrawalRecord(
        withdrawal_id=row.id, chain_id=row.chain_id, address=row.address, amount=row.chips,
        units=str(row.units), state=row.state, transfer_id=row.transfer_id, reason=row.reason,
        created_at_ms=row.created_at_ms, updated_at_ms=row.updated_at_ms,
    )  # fmt: skip


def _entry(e: service.HistoryEntry) -> HistoryEntry:
    return HistoryEntry(
        transfer_id=e.transfer_id,
        kind=e.kind,
        state=e.state,  # type: ignore[arg-type]
        amount=e.amount,
        counterparty=Account(
            kind=e.counterparty.kind,
            owner=e.counterparty.owner,
            asset=e.counterparty.asset,  # type: ignore[arg-type]
        ),
        memo=e.memo,
        created_at_ms=e.created_at_ms,
        updated_at_ms=e.updated_at_ms,
    )


def limits_reply(request_id: int, found: LimitsView) -> LimitsReply:
    """The wire form of a player's limits (also what the public API can return)."""
    limits = found.limits
    return LimitsReply(
        id=request_id,
        limits=LimitValues(**{name: getattr(limits, name) for name in LIMIT_NAMES}),
        pending=[
            PendingRaise(limit=name, value=p.value, effective_at_ms=p.effective_at_ms)  # type: ignore[arg-type]
            for name, p in sorted(found.pending.items())
        ],
        exclusion=(
            None
            if found.exclusion is None
            else ExclusionState(
                kind=found.exclusion.kind,
                since_ms=found.exclusion.since_ms,
                until_ms=found.exclusion.until_ms,
            )
        ),
        today=Totals(**_totals(found.today)),
        week=Totals(**_totals(found.week)),
        month=Totals(**_totals(found.month)),
    )


def _totals(totals: object) -> dict[str, int]:
    return {name: getattr(totals, name) for name in ("deposited", "net_loss", "transferred")}


@final
class WalletRefused(Exception):
    """A wallet request refused by the service: an error frame with the service's code."""

    def __init__(
        self, code: str, message: str, request_id: int, retry_after_ms: int | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id
        self.retry_after_ms = retry_after_ms


@final
class WalletRequests:
    """Serves the wallet messages of protocol/messages.py for one gateway. ``cashier``: the
    blockchain cashier (deposits and withdrawals) when ``[chain]`` is configured; without it
    those requests are refused with cashier_unavailable."""

    def __init__(self, wallet: Wallet, cashier: Cashiers | ChainCashier | None = None) -> None:
        self._wallet = wallet
        self._cashier: Cashiers | None = None
        if cashier is not None:
            from services.chain.cashiers import as_cashiers

            self._cashier = as_cashiers(cashier)

    def _chain(self) -> Cashiers:
        if self._cashier is None:
            raise CashierUnavailable()
        return self._cashier

    async def handle(self, session: PlayerSession, request: WalletRequest) -> Reply:
        player_id = session.player_id
        if player_id is None:
            raise RemoteProtocolError(
                ErrorCode.WALLET_UNAVAILABLE, "guests have no wallet; register", request.id
            )
        try:
            return await self._dispatch(player_id, request)
        except WalletError as exc:
            # The wallet's codes are stable by its contract (services/ledger.py) and pass
            # through as they are; protocol/errors.py documents the ones of this version.
            raise WalletRefused(exc.code, str(exc), request.id, exc.retry_after_ms) from None

    async def _dispatch(self, player_id: int, request: WalletRequest) -> Reply:
        wallet = self._wallet
        match request:
            case WalletBalance(id=request_id, asset=asset):
                balance = await wallet.balance(player_id, asset)
                return Balance(
                    id=request_id, balance=balance.balance, reserved=balance.reserved,
                    available=balance.available, asset=asset,
                )  # fmt: skip
            case WalletHistory(id=request_id, before_id=before_id, limit=limit, asset=asset):
                page = await wallet.history(player_id, before_id, limit, asset)
                return HistoryPage(
                    id=request_id,
                    entries=[_entry(e) for e in page.entries],
                    next_before_id=page.next_before_id,
                )
            case WalletStatement():
                statement = await wallet.statement(
                    player_id, request.from_ms, request.to_ms, request.asset, request.after_id,
                    request.limit,
                )  # fmt: skip
                return Statement(
                    id=request.id, asset=request.asset, from_ms=statement.from_ms,
                    to_ms=statement.to_ms, opening_balance=statement.opening_balance,
                    closing_balance=statement.closing_balance,
                    totals=[
                        StatementTotal(
                            kind=t.kind, count=t.count, credited=t.credited, debited=t.debited
                        )
                        for t in statement.totals
                    ],
                    entries=[_entry(e) for e in statement.entries],
                    next_after_id=statement.next_after_id,
                )  # fmt: skip
            case WalletTransfer():
                record = await wallet.send_to_player(
                    request.key, player_id, request.to_player, request.amount, request.memo
                )
                return _result(request.id, record)
            case WalletDeposit(id=request_id, chain_id=chain_id):
                found = await self._chain().deposit_instructions(player_id, chain_id)
                return DepositAddress(
                    id=request_id, chain_id=found.chain_id, cashier=found.cashier,
                    token=found.token, reference=found.reference, rate=found.rate,
                )  # fmt: skip
            case WalletWithdraw(id=request_id):
                row = await self._chain().request_withdrawal(
                    player_id, request.key, request.amount, request.address, request.chain_id
                )
                return withdrawal_reply(request_id, row)
            case GetWithdrawal(id=request_id, withdrawal_id=withdrawal_id):
                row = await self._chain().withdrawal_of(player_id, withdrawal_id)
                return withdrawal_reply(request_id, row)
            case ListWithdrawals(id=request_id, state=state, before_id=before_id, limit=limit):
                listed = await self._chain().withdrawals_of(
                    player_id, state=state, before_id=before_id, limit=limit,
                    chain_id=request.chain_id,
                )  # fmt: skip
                return WithdrawalPage(
                    id=request_id,
                    withdrawals=[withdrawal_record(row) for row in listed.withdrawals],
                    next_before_id=listed.next_before_id,
                )
            case ClaimPlayChips(id=request_id):
                return _result(request_id, await wallet.claim_play_chips(player_id))
            case GetLimits(id=request_id):
                return limits_reply(request_id, await wallet.limits_view(player_id))
            case SetLimits(id=request_id, changes=changes):
                named: dict[str, int | None] = {str(k): v for k, v in changes.items()}
                return limits_reply(request_id, await wallet.set_limits(player_id, named))
            case SelfExclude(id=request_id, kind=kind, days=days):
                return limits_reply(request_id, await wallet.exclude(player_id, kind, days))
