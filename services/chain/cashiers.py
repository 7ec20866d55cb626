"""The player's side of every configured chain's cashier, behind one door.

A server may run a cashier on several chains (``[[chain]]``, docs/chain.md), each with its
own contract, token, rate, watcher and batcher (``ChainCashier`` per chain). The websocket
and the public API reach them through this router: a deposit address or a withdrawal names
its chain (``chain_id``), or gets the first configured one; a withdrawal is read, and a
player's withdrawals listed, whatever chain they are on (ids are unique across chains).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import final

from persistence import chain as db
from persistence.chain import Withdrawal, WithdrawalState
from services.chain.availability import UnknownChain
from services.chain.cashier import (
    WITHDRAWALS_PAGE_MAX,
    ChainCashier,
    DepositInstructions,
    UnknownWithdrawal,
    WithdrawalPage,
)


@final
class Cashiers:
    def __init__(self, cashiers: Sequence[ChainCashier]) -> None:
        if not cashiers:
            raise ValueError("at least one cashier")
        by_chain = {cashier.settings.chain_id: cashier for cashier in cashiers}
        if len(by_chain) != len(cashiers):
            raise ValueError("one cashier per chain id")
        self._by_chain = by_chain
        self.default = cashiers[0]  # the first configured: for requests that name no chain

    @property
    def chain_ids(self) -> list[int]:
        """In the configured order (the default first)."""
        return list(self._by_chain)

    def on(self, chain_id: int | None) -> ChainCashier:
        """The cashier of ``chain_id`` (the default one for None); UnknownChain."""
        if chain_id is None:
            return self.default
        found = self._by_chain.get(chain_id)
        if found is None:
            known = ", ".join(str(c) for c in self._by_chain)
            raise UnknownChain(f"this server has no cashier on chain {chain_id} (it has: {known})")
        return found

    async def deposit_instructions(
        self, player_id: int, chain_id: int | None = None
    ) -> DepositInstructions:
        return await self.on(chain_id).deposit_instructions(player_id)

    async def request_withdrawal(
        self, player_id: int, key: str, chips: int, address: str, chain_id: int | None = None
    ) -> Withdrawal:
        return await self.on(chain_id).request_withdrawal(player_id, key, chips, address)

    async def withdrawal_of(self, player_id: int, withdrawal_id: int) -> Withdrawal:
        """One of the player's withdrawals, on any chain (one no longer configured too: it is
        her history); UnknownWithdrawal for any other (another player's answers as none)."""
        store = self.default.store
        row = await store.run(partial(db.get_withdrawal, withdrawal_id), read_only=True)
        if row is None or row.player_id != player_id:
            raise UnknownWithdrawal(f"you have no withdrawal {withdrawal_id}")
        return row

    async def withdrawals_of(
        self,
        player_id: int,
        *,
        state: WithdrawalState | None = None,
        before_id: int | None = None,
        limit: int = 50,
        chain_id: int | None = None,
    ) -> WithdrawalPage:
        """The player's withdrawals, newest first, on every chain (or on ``chain_id``)."""
        if chain_id is not None:
            return await self.on(chain_id).withdrawals_of(
                player_id, state=state, before_id=before_id, limit=limit
            )
        if not 1 <= limit <= WITHDRAWALS_PAGE_MAX:
            raise ValueError(f"limit {limit} is not 1..{WITHDRAWALS_PAGE_MAX}")
        rows = await self.default.store.run(
            partial(db.list_withdrawals, None, state, player_id, before_id, limit + 1),
            read_only=True,
        )
        # Rows of a chain no longer configured stay the player's history: shown too.
        if len(rows) > limit:
            return WithdrawalPage(rows[:limit], rows[limit - 1].id)
        return WithdrawalPage(rows, None)


def as_cashiers(cashier: Cashiers | ChainCashier | None) -> Cashiers | None:
    """What the doors keep: one cashier given alone becomes a router of one chain."""
    if cashier is None or isinstance(cashier, Cashiers):
        return cashier
    return Cashiers([cashier])
