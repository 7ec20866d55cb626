"""Operator controls of a table (pause, resume, close, detail): the part of the table actor
that actors/table/admin.py's messages reach, kept apart so actors/table/actor.py stays readable.

:class:`TableOperatorControls` is a base of ``TableActor`` only; it uses the table's state,
deps and delivery, declared below for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from actors.runtime import ActorContext, Timer
from actors.table.admin import TOMBSTONE_KIND, FinishClose, TableDetail, tombstone_id
from actors.table.bankroll import Bankroll
from actors.table.lifecycle import DEALS, Event, transition
from actors.table.messages import TableClosed, TableDeps, TableSeats
from actors.table.state import TableState
from persistence.snapshots import Snapshot
from protocol import game

log = structlog.get_logger("tablium.table")


class TableOperatorControls:
    """Pause, resume, close and the detail view of one table (a base of TableActor)."""

    state: TableState
    deps: TableDeps
    context: ActorContext[Any]
    start_timer: Timer | None
    close_requested: bool  # a FinishClose is in the mailbox
    closed: bool  # stopped for good after this message
    bankroll: Bankroll

    if TYPE_CHECKING:

        @property
        def table_id(self) -> str: ...

        @property
        def config(self) -> Any: ...

        def _broadcast(self, body: game.GamePush) -> None: ...

        def _seat_changed(self, seat: int) -> None: ...

        def _schedule_start(self) -> None: ...

        async def _persist(self) -> None: ...

        def seats_view(self) -> TableSeats: ...

    async def _change_status(self, event: Event) -> None:
        """Pause, resume, hold or release (actors/table/lifecycle.py decides); a running hand
        finishes either way."""
        before = self.state.lifecycle
        after = transition(before, event)
        if after is before:
            return
        shown = self.state.status
        self.state.enter(after)
        if after not in DEALS and self.start_timer is not None:
            self.start_timer.cancel()
            self.start_timer = None
        await self._persist()
        if self.state.status != shown:
            status = self.state.status
            self._broadcast(game.TableStatusChanged(table_id=self.table_id, status=status))
        self._schedule_start()

    async def _close(self) -> TableDetail:
        if not self.state.closing:
            self.state.enter(transition(self.state.lifecycle, Event.CLOSE))
            if self.start_timer is not None:
                self.start_timer.cancel()
                self.start_timer = None
            await self._persist()
            self._broadcast(game.TableStatusChanged(table_id=self.table_id, status="closing"))
            lobby = self.context.registry.lookup(self.deps.lobby_name)
            if lobby is not None:  # no quick-seat lands here any more
                lobby.tell(TableClosed(table_id=self.table_id))
        if self.state.running is None and not self.closed:
            await self._finish_close()
        return await self._detail()

    def _close_soon(self) -> None:
        if not self.close_requested:
            self.close_requested = True
            self.context.ref.tell(FinishClose())

    async def _finish_close(self) -> None:
        """Stand everyone up and pay them, forget the table in the store, stop for good."""
        self.closed = True
        closed = game.TableStatusChanged(table_id=self.table_id, status="closed")
        self._broadcast(closed)
        for seat in list(self.state.seats):
            record = self.state.seats[seat]
            self.bankroll.cash_out(record.player_id, record.stack + record.pending_top_up)
            del self.state.seats[seat]
            self.deps.player_tables.seated(record.player_id, self.table_id, on=False)
            self._seat_changed(seat)
        for player_id in self.state.watchers:
            self.deps.player_tables.watching(player_id, self.table_id, on=False)
        self.state.watchers.clear()
        self.state.wait_list.clear()
        await self.bankroll.settle()  # pays everyone, writes the histories; a crash retries
        store, writer = self.deps.store, self.deps.snapshots
        now_ms = self.deps.clock_ms()
        await store.save_snapshots(
            [Snapshot(kind=TOMBSTONE_KIND, actor_id=tombstone_id(self.table_id),
                      version=max(1, now_ms), data=b"")]
        )  # fmt: skip
        if writer is not None:
            await writer.flush()  # nothing of ours still queued to land after the delete
        await store.delete_snapshot(self.table_id, self.state.version)
        lobby = self.context.registry.lookup(self.deps.lobby_name)
        if lobby is not None:
            lobby.tell(TableClosed(table_id=self.table_id))
        log.info("table closed", table=self.table_id)
        self.context.stop()  # a transient child: removed from the tables supervisor

    async def _detail(self) -> TableDetail:
        escrow_balance = await self.bankroll.balance()
        return TableDetail(
            config=self.config,
            status="closed" if self.closed else self.state.status,
            seats=self.seats_view(),
            escrow_balance=escrow_balance,
            owed_chips=sum(debit.amount for debit in self.state.owed),
        )
