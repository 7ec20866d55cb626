"""How long players wait for a seat at a table, for the lobby's analytics
(services/lobby_analytics.py). In memory only: a restart forgets the waits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import final

from actors.table.state import TableState
from protocol import game
from services.lobby_analytics import Game, observe_seat_wait


@final
class SeatWaits:
    def __init__(self) -> None:
        # Player id -> when she joined the wait list (clock ms). Bounded by the wait list and
        # the seats held (``started`` forgets the waits that ended without a seat).
        self.since_ms: dict[int, int] = {}

    def started(self, player_id: int, state: TableState, now_ms: int) -> None:
        holders = {held for held, _ in state.holds.values()}
        for waiting in [p for p in self.since_ms if p not in holders]:
            if waiting not in state.wait_list:
                del self.since_ms[waiting]  # a hold that lapsed, a player who left
        self.since_ms[player_id] = now_ms

    def left(self, player_id: int) -> None:
        self.since_ms.pop(player_id, None)

    def seated(self, player_id: int, now_ms: int, listing: Callable[[], game.TableListing]) -> None:
        since_ms = self.since_ms.pop(player_id, None)
        if since_ms is not None:  # seated after waiting for this table
            observe_seat_wait(Game.of(listing()), now_ms - since_ms)
