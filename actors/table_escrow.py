"""A table's money (the part of the table actor that moves chips in and out of escrow), kept
apart so actors/table.py stays readable.

In: buy-ins and top-ups, write-ahead. The intent (``Funding``) is durably stored, and the
runtime's snapshot checkpointed, before the wallet moves the chips; a restarted table makes
the transfer again under the same key (a replay if it had landed) and seats the player, or
drops the intent if the ledger refuses it now. Out: cash-outs and rake are listed as owed
(``EscrowDebit``) in the state, durably stored, then paid by key (``SettleOwed``).

:class:`TableEscrow` is a base of ``TableActor`` only; it uses the table's state, deps and
persistence, declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from actors.runtime import ActorContext
from actors.table_messages import EscrowAudit, SettleOwed, TableDeps
from actors.table_state import EscrowDebit, Funding, SeatRecord, TableState
from services.ledger import WalletError, escrow

log = structlog.get_logger("tablium.table")


class TableEscrow:
    """Buy-ins, top-ups, debts owed out of escrow, and the escrow audit (a base of TableActor)."""

    state: TableState
    deps: TableDeps
    context: ActorContext[Any]
    settle_requested: bool  # a SettleOwed is in the mailbox

    if TYPE_CHECKING:

        @property
        def table_id(self) -> str: ...

        @property
        def config(self) -> Any: ...

        def _in_running_hand(self, seat: int) -> bool: ...

        async def _persist(self, *, durable: bool = False) -> None: ...

    async def _fund(
        self, kind: str, player_id: int, seat: int, amount: int, post_to_enter: bool = False
    ) -> None:
        """Move a buy-in or top-up wallet -> escrow, write-ahead: the intent is in the store
        before the ledger sees the transfer, so a process killed in between restarts with the
        intent and finishes it (``_resolve_funding``) instead of losing the chips in escrow."""
        self.state.seat_events += 1
        key = self.state.ledger_key(kind, self.state.seat_events)
        funding = Funding(
            key=key,
            kind=kind,
            player_id=player_id,
            seat=seat,
            amount=amount,
            post_to_enter=post_to_enter,
        )
        self.state.funding.append(funding)
        await self._persist(durable=True)
        await self._transfer(funding)

    async def _transfer(self, funding: Funding) -> None:
        """Make the funding's transfer (again, by key, after a crash) and apply it. Refused
        (WalletError, raised): the intent is dropped, durably, so no restart retries it."""
        try:
            await self.deps.wallet.buy_in(
                funding.key,
                funding.player_id,
                self.config.escrow_owner,
                funding.amount,
                asset=self.config.asset,
            )
        except WalletError:
            self.state.funding.remove(funding)
            await self._persist(durable=True)
            raise
        self.state.funding.remove(funding)
        if funding.kind == "top_up":
            record = self.state.seats[funding.seat]
            assert record.player_id == funding.player_id, "a top-up for a seat someone left"
            if self._in_running_hand(funding.seat):
                record.pending_top_up += funding.amount
            else:
                record.stack += funding.amount
            return
        assert funding.seat not in self.state.seats, "a buy-in for a seat someone else has"
        player_id = funding.player_id
        self.state.holds.pop(funding.seat, None)
        self.state.seats[funding.seat] = SeatRecord(
            player_id=player_id,
            stack=funding.amount,
            post_to_enter=funding.post_to_enter,
            time_bank_ms=self.config.time_bank_ms,
        )
        if player_id in self.state.wait_list:
            self.state.wait_list.remove(player_id)
        if player_id in self.state.watchers:
            self.state.watchers.remove(player_id)
            self.deps.player_tables.watching(player_id, self.table_id, on=False)
        self.deps.player_tables.seated(player_id, self.table_id, on=True)

    async def _resolve_funding(self) -> None:
        """After a restart: finish the buy-in or top-up a crash interrupted."""
        for funding in list(self.state.funding):
            try:
                await self._transfer(funding)
            except WalletError as exc:
                log.warning("interrupted buy-in refused", table=self.table_id, key=funding.key,
                            error=exc.code)  # fmt: skip
            else:
                log.warning("interrupted buy-in completed", table=self.table_id, key=funding.key)

    def _owe(self, debit: EscrowDebit) -> None:
        self.state.owed.append(debit)
        self._settle_soon()

    def _settle_soon(self) -> None:
        if (self.state.owed or self.state.histories) and not self.settle_requested:
            self.settle_requested = True
            self.context.ref.tell(SettleOwed())

    async def _settle(self) -> None:
        """Pay what is owed, oldest first, then write histories. A crash here restarts the
        table from before this message, with everything still listed: paying again under
        the same keys replays the transfers already made."""
        self.settle_requested = False
        # Write-ahead: the stacks, the debts and the histories about to be paid and written
        # are on disk before the ledger or the history table sees any of them. Killed after
        # this, the table restarts with them listed and pays again under the same keys;
        # killed before, nothing was paid and the hand is voided with every chip back.
        await self._persist(durable=True)
        wallet, owner, asset = self.deps.wallet, self.config.escrow_owner, self.config.asset
        while self.state.owed:
            debit = self.state.owed[0]
            if debit.kind == "rake":
                await wallet.take_rake(debit.key, owner, debit.amount, asset=asset)
            else:
                await wallet.cash_out(debit.key, owner, debit.player_id, debit.amount, asset=asset)
            self.state.owed.pop(0)
        while self.state.histories:
            await self.deps.store.save_hand(self.state.histories[0])  # a retry is a no-op
            self.state.histories.pop(0)
        await self._persist()

    async def _audit(self) -> EscrowAudit:
        # Settle first: a payment in doubt (made, but its reply lost to a crash) is still
        # listed as owed until paid again under its key.
        await self._settle()
        account = await self.deps.store.ledger_account(
            escrow(self.config.escrow_owner, self.config.asset)
        )
        chips = sum(r.stack + r.pending_top_up for r in self.state.seats.values())
        chips += sum(debit.amount for debit in self.state.owed)
        return EscrowAudit(chips=chips, escrow_balance=account.balance if account else 0)
