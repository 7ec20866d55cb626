"""The table shell's effects runner: performs what the pure core decided (actors/table/
effects.py), in the core's order, with the table's parts: the state writer, delivery, the
running hand, the bankroll, the close. Every effect a core command returns passes here.
"""

from __future__ import annotations

from typing import Protocol

from actors.table import effects as fx
from actors.table.bankroll import Bankroll
from actors.table.closing import TableClosing
from actors.table.delivery import TableDelivery
from actors.table.hands import RunningHands
from actors.table.host import TableHost
from actors.table.player_tables import AtTable
from actors.table.seat_waits import SeatWaits


class RunnerHost(TableHost, Protocol):
    """What the runner needs of its table (the table actor)."""

    @property
    def delivery(self) -> TableDelivery: ...

    @property
    def hands(self) -> RunningHands: ...

    @property
    def bankroll(self) -> Bankroll: ...

    @property
    def closing(self) -> TableClosing: ...

    @property
    def waits(self) -> SeatWaits: ...

    @property
    def addresses(self) -> dict[int, str]: ...

    async def persist(self, *, durable: bool = False) -> None: ...


async def run_effects(table: RunnerHost, effects: fx.Effects) -> None:
    """Perform ``effects`` in order (a Persist is awaited before what follows it)."""
    deps, delivery, hands = table.deps, table.delivery, table.hands
    table_id = table.core.table_id
    for effect in effects:
        match effect:
            case fx.Persist():
                await table.persist()
            case fx.ShowSeat(seat=seat, to=to):
                delivery.show_seat(seat, to)
            case fx.Broadcast(body=body, to=to):
                delivery.send(to, body)
            case fx.Push(player_id=player_id, body=body):
                delivery.send((player_id,), body)
            case fx.SendTable(player_id=player_id):
                delivery.send((player_id,), delivery.table_snapshot(player_id))
            case fx.Announce():
                delivery.announce()
            case fx.CommitDeal():
                hands.commit_next_deal()
            case fx.DealSoon():
                hands.schedule()
            case fx.StopDealing():
                hands.cancel()
            case fx.CashOut(player_id=player_id, amount=amount):
                table.bankroll.cash_out(player_id, amount)
            case fx.PayNow():
                await table.bankroll.settle()
            case fx.Seated(player_id=player_id, on=on):
                deps.channel.at_table(player_id, AtTable(table_id, "seated", on))
                if not on:
                    table.addresses.pop(player_id, None)
            case fx.Watching(player_id=player_id, on=on):
                deps.channel.at_table(player_id, AtTable(table_id, "watching", on))
            case fx.WaitStarted(player_id=player_id):
                table.waits.started(player_id, table.core.state, deps.clock_ms())
            case fx.WaitEnded(player_id=player_id):
                table.waits.seated(player_id, deps.clock_ms(), delivery.listing)
            case fx.TellHand(message=message):
                hands.tell(message)
            case fx.TellOwner(report=report):
                owner = table.context.registry.lookup(table.core.config.owner or "")
                if owner is not None:  # a dead owner learns nothing (its successor asks)
                    owner.tell(report)
            case fx.LobbyDrop():
                delivery.lobby_drops()
            case fx.CloseSoon():
                table.closing.soon()
