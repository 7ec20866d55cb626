"""Wallet requests from a player's session, answered by the wallet service.

The gateway only translates: protocol request -> services.wallet call -> reply. The money
rules (balances, limits, idempotency) live in services/; their refusals (WalletError with a
stable ``code``) become error frames with that code.
"""

from __future__ import annotations

from typing import Final, final

from persistence.ledger import AccountRef, TransferRecord
from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.messages import (
    Balance,
    HistoryEntry,
    HistoryPage,
    Reply,
    TransferResult,
    WalletBalance,
    WalletDeposit,
    WalletHistory,
    WalletTransfer,
    WalletWithdraw,
)
from server.session import PlayerSession
from services.accounts import Accounts
from services.ledger import UnknownPlayer, WalletError
from services.wallet import Wallet

WalletRequest = WalletBalance | WalletHistory | WalletTransfer | WalletDeposit | WalletWithdraw
WALLET_REQUESTS: Final = (
    WalletBalance,
    WalletHistory,
    WalletTransfer,
    WalletDeposit,
    WalletWithdraw,
)


def _counterparty(ref: AccountRef) -> str:
    return f"{ref.kind}:{ref.owner}" if ref.owner else ref.kind


def _result(request_id: int, record: TransferRecord) -> TransferResult:
    return TransferResult(
        id=request_id, transfer_id=record.id, state=record.state, amount=record.amount
    )


@final
class WalletRefused(Exception):
    """A wallet request refused by the service: an error frame with the service's code."""

    def __init__(self, code: str, message: str, request_id: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id


@final
class WalletRequests:
    """Serves the wallet messages of protocol/messages.py for one gateway."""

    def __init__(self, wallet: Wallet, accounts: Accounts) -> None:
        self._wallet = wallet
        self._accounts = accounts

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
            raise WalletRefused(exc.code, str(exc), request.id) from None

    async def _dispatch(self, player_id: int, request: WalletRequest) -> Reply:
        wallet = self._wallet
        if isinstance(request, WalletBalance):
            balance = await wallet.balance(player_id)
            return Balance(
                id=request.id,
                balance=balance.balance,
                reserved=balance.reserved,
                available=balance.available,
            )
        if isinstance(request, WalletHistory):
            page = await wallet.history(player_id, request.before_id, request.limit)
            return HistoryPage(
                id=request.id,
                entries=[
                    HistoryEntry(
                        transfer_id=e.transfer_id,
                        kind=e.kind,
                        state=e.state,  # type: ignore[arg-type]
                        amount=e.amount,
                        counterparty=_counterparty(e.counterparty),
                        memo=e.memo,
                        created_at_ms=e.created_at_ms,
                        updated_at_ms=e.updated_at_ms,
                    )
                    for e in page.entries
                ],
                next_before_id=page.next_before_id,
            )
        if isinstance(request, WalletTransfer):
            recipient = await self._accounts.find(request.to_player)
            if recipient is None or recipient.banned:
                # A banned player answers as no player at all: neither her id nor her ban
                # is anyone else's business.
                raise UnknownPlayer(f"no player named {request.to_player!r}")
            record = await wallet.transfer_to_player(
                request.key, player_id, recipient.id, request.amount, request.memo
            )
            return _result(request.id, record)
        if isinstance(request, WalletDeposit):
            record = await wallet.request_deposit(
                request.key, player_id, request.amount, request.memo
            )
            return _result(request.id, record)
        record = await wallet.request_withdrawal(
            request.key, player_id, request.amount, request.memo
        )
        return _result(request.id, record)
