"""What players and the lobby are told of a table: pushes to its audience (with tell, never
waiting for a player), its lobby listing, and the table as one player may see it. A field of
the table actor (``delivery``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, final

from actors.table.fairness import FairDealer
from actors.table.host import TableHost
from actors.table.messages import ListingChanged, TableClosed
from actors.table.state import LiveHand, listing_of, seat_view, snapshot_for
from protocol import game


class DeliveryHost(TableHost, Protocol):
    """What delivery needs of its table (the table actor)."""

    @property
    def live(self) -> LiveHand | None: ...

    @property
    def dealer(self) -> FairDealer: ...


@final
class TableDelivery:
    def __init__(self, host: DeliveryHost) -> None:
        self.host = host

    def send(self, players: Iterable[int], body: game.GamePush) -> None:
        deliver = self.host.deps.channel.deliver
        for player_id in players:
            deliver(player_id, body)

    def broadcast(self, body: game.GamePush) -> None:
        """To everyone at the table now: the seated players, then the watchers."""
        self.send(self.host.core.audience(), body)

    def show_seat(self, seat: int, to: Iterable[int] | None = None) -> None:
        """The seat's view as it is now (None: empty), to ``to`` (default: everyone)."""
        state = self.host.core.state
        record = state.seats.get(seat)
        view = None if record is None else seat_view(state, seat, record)
        changed = game.SeatChanged(table_id=state.config.table_id, seat=seat, view=view)
        self.send(self.host.core.audience() if to is None else to, changed)

    def listing(self) -> game.TableListing:
        host = self.host
        state = host.core.state
        recent = ((at_ms / 1000, pot) for at_ms, pot in state.recent_pots)
        now_s = host.deps.clock_ms() / 1000
        return listing_of(state, recent, now_s, host.stakes.hand_config())

    def table_snapshot(self, player_id: int) -> game.TableSnapshot:
        """The table as ``player_id`` may see it (her own hole cards only)."""
        state = self.host.core.state
        commitment = self.host.dealer.commitment(state.next_hand_number)
        return snapshot_for(state, self.host.live, player_id, self.listing(), commitment)

    def announce(self) -> None:
        """The lobby's listing of a cash table."""
        state = self.host.core.state
        if state.closing:
            return  # the lobby has dropped the listing: it must not come back
        if state.config.owner is not None:
            return  # an owner's table (a tournament's) is not a cash game to list
        lobby = self.host.context.registry.lookup(self.host.deps.lobby_name)
        if lobby is not None:
            lobby.tell(ListingChanged(listing=self.listing(), config=state.config))

    def lobby_drops(self) -> None:
        """The lobby drops the listing: no quick-seat lands here any more."""
        lobby = self.host.context.registry.lookup(self.host.deps.lobby_name)
        if lobby is not None:
            lobby.tell(TableClosed(table_id=self.host.core.table_id))
