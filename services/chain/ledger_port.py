"""The cashier's moves in the ledger, behind one small interface.

Every chip that comes in or goes out through the chain is a pending -> posted (or voided)
ledger transfer between the outside world (``external``) and the player's wallet:

- a deposit seen on chain opens a pending ``deposit`` external -> wallet, posted at the
  confirmation line, voided if a reorganisation takes it away before;
- a withdrawal request is a pending ``withdrawal`` wallet -> external (the player's
  available balance drops at once), posted when its batch is confirmed, voided when it is
  rejected, reverted or expired.

``WalletCashierLedger`` is the only code of the chain service that names ledger accounts and
transfer kinds. Its transfers are real money (``chips``, the wallet's default asset: deposits
and withdrawals may move no other); if the chain gets its own hot-wallet account, name it here
instead of ``external``: nothing else in services/chain/ knows.
"""

from __future__ import annotations

from typing import Protocol, final

from persistence.ledger import LedgerAudit, TransferRecord
from services.ledger import CHIPS, EXTERNAL, house_account, wallet
from services.wallet import Wallet


class CashierLedger(Protocol):
    async def check_may_deposit(self, player_id: int) -> None: ...

    async def open_deposit(
        self, key: str, player_id: int, chips: int, memo: str
    ) -> TransferRecord: ...

    async def reserve_withdrawal(
        self, key: str, player_id: int, chips: int, memo: str
    ) -> TransferRecord: ...

    async def post(self, transfer_id: int) -> TransferRecord: ...

    async def void(self, transfer_id: int) -> TransferRecord: ...

    async def transfer(self, transfer_id: int) -> TransferRecord: ...

    async def audit(self) -> LedgerAudit: ...


@final
class WalletCashierLedger:
    """``CashierLedger`` over the wallet service, in real money (``chips``)."""

    def __init__(self, wallet_service: Wallet) -> None:
        self._wallet = wallet_service

    async def check_may_deposit(self, player_id: int) -> None:
        """Refuse a player cooling off or self-excluded (CoolingOff, SelfExcluded): the same
        rule that refuses their real-money play (services/limits.py)."""
        await self._wallet.check_may_play(player_id, CHIPS)

    async def open_deposit(self, key: str, player_id: int, chips: int, memo: str) -> TransferRecord:
        """Pending external -> wallet; the chain's own key (not a player's)."""
        return await self._wallet.move(
            key, "deposit", house_account(EXTERNAL), wallet(player_id), chips, pending=True,
            memo=memo,
        )  # fmt: skip

    async def reserve_withdrawal(
        self, key: str, player_id: int, chips: int, memo: str
    ) -> TransferRecord:
        """Pending wallet -> external under the player's own idempotency key."""
        return await self._wallet.request_withdrawal(key, player_id, chips, memo)

    async def post(self, transfer_id: int) -> TransferRecord:
        return await self._wallet.post(transfer_id)

    async def void(self, transfer_id: int) -> TransferRecord:
        return await self._wallet.void(transfer_id)

    async def transfer(self, transfer_id: int) -> TransferRecord:
        return await self._wallet.transfer_by_id(transfer_id)

    async def audit(self) -> LedgerAudit:
        return await self._wallet.audit()
