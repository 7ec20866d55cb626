"""An operator's close of a table, in the actor shell: new seats and hands stop at once (the
core's ``status.close``); when no hand runs, everyone stands up and is paid, the table is
forgotten in the store (a tombstone, actors/table/admin.py) and the actor stops for good. A
field of the table actor (``closing``), with the detail view the admin API reads.
"""

from __future__ import annotations

from typing import Protocol, final

import structlog

from actors.table import status
from actors.table.admin import FinishClose, TableDetail, forget_closed_table
from actors.table.bankroll import Bankroll
from actors.table.delivery import TableDelivery
from actors.table.effects import Effects
from actors.table.host import TableHost
from actors.table.state import seats_of

log = structlog.get_logger("tablium.table")


class ClosingHost(TableHost, Protocol):
    """What the close needs of its table (the table actor)."""

    @property
    def bankroll(self) -> Bankroll: ...

    @property
    def delivery(self) -> TableDelivery: ...

    async def run(self, effects: Effects) -> None: ...


@final
class TableClosing:
    def __init__(self, host: ClosingHost) -> None:
        self.host = host
        self.requested = False  # a FinishClose is in the mailbox
        self.closed = False  # stopped for good after this message

    async def close(self) -> TableDetail:
        """The operator's CloseTable: at once if no hand runs, else when it ends."""
        await self.host.run(status.close(self.host.core))
        if self.host.core.state.running is None and not self.closed:
            await self.finish()
        return await self.detail()

    def soon(self) -> None:
        """No hand runs any more: finish in a message of its own (``FinishClose``)."""
        if not self.requested:
            self.requested = True
            self.host.context.ref.tell(FinishClose())

    async def finish(self) -> None:
        """Stand everyone up and pay them, forget the table in the store, stop for good."""
        host = self.host
        self.closed = True
        await host.run(status.finish_close(host.core))
        await host.bankroll.settle()  # pays everyone, writes the histories; a crash retries
        deps, state = host.deps, host.core.state
        table_id, now_ms = host.core.table_id, deps.clock_ms()
        await forget_closed_table(deps.store, deps.snapshots, table_id, state, now_ms)
        host.delivery.lobby_drops()
        log.info("table closed", table=host.core.table_id)
        host.context.stop()  # a transient child: removed from its supervisor

    async def detail(self) -> TableDetail:
        state = self.host.core.state
        return TableDetail(
            config=state.config,
            status="closed" if self.closed else state.status,
            seats=seats_of(state),
            escrow_balance=await self.host.bankroll.balance(),
            owed_chips=sum(debit.amount for debit in state.owed),
        )
