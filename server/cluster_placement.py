"""Where a new table of a room goes (docs/scaling.md, "Placement"): the least-loaded live
node, this one when it is not more loaded than every other.

Load is the number of players seated at a node's tables (its lobby's listings: idle tables
cost next to nothing, each seated player costs her actions), then the number of tables it
holds, then its name: compared in that order, lower is less loaded. Other nodes' figures
come from their records (``seated``, ``tables``: published every presence refresh, at most
10 s old, read by the router every 5 s), plus what this node placed there since that record
(each table counted as PLACED_TABLE_SEATS seated players, as if it filled at once); this
node's own figures are live. Ties stay here (a table on the player's own node needs no
routing). A draining node is never chosen, and a draining node places every new table
elsewhere when it can.

New tournaments go the same way (server/cluster_tournaments.py: the chosen node opens them
over the bus; each counts as one table placed there), and a node's tournament players count
as seated (``tournament_players``).

Two kinds of new tables:

- an operator's or club owner's (the lobby's ``OpenTable``): opened on the chosen node over
  the bus (``RouteCreate``; that node opens it as its own, ``open_table(..., here=True)``);
  if it does not answer, here;
- a quick seat that must open a table (the seat matcher, when every matching table of this
  node's lobby is full): the matcher makes the new table's config (its id carries this
  node's ``id_tag``) and refuses with ``placed_elsewhere`` naming the node and table; the
  player's request (server/cluster_routing.py) asks that node to open it (``RouteCreate``)
  and routes her ``join_table`` there, and she plays there through routing. Later quick
  seats of the same game on this node go to that table for PLACED_GAME_TTL_S (30 s), so
  players arriving together sit together; a refusal there (full) forgets it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import TYPE_CHECKING, Final, final

if TYPE_CHECKING:
    from actors.seat_matcher import ListingsCache
    from actors.table.config import TableConfig
    from server.cluster import NodeView

PLACED_TABLE_SEATS: Final = 6  # a table placed since a node's record counts as this many seated
GAMES_MAX: Final = 1_000  # games remembered for quick seat; overflow: the oldest forgotten
TO_OPEN_MAX: Final = 64  # new tables chosen, not yet opened; overflow: the oldest forgotten


def _never() -> bool:
    return False


@final
class TablePlacement:
    def __init__(self, node: str, own_tables: Callable[[], Collection[str]]) -> None:
        self.node = node
        self._own_tables = own_tables
        # Quick seat's table ids carry it, so two nodes never open the same new id.
        self.id_tag = hashlib.blake2s(node.encode(), digest_size=3).hexdigest()
        self.draining: Callable[[], bool] = _never  # ClusterLink.draining (server/app.py)
        self.listings: ListingsCache | None = None  # the lobby's: this node's seated players
        # The players of this node's tournaments (server/cluster_tournaments.py): their
        # tables are not in the lobby's listings.
        self.tournament_players: Callable[[], int] = int
        self._others: list[NodeView] = []  # live, not draining, as the router last read them
        # node -> (its record's seen_at_ms, tables placed there since that record)
        self._placed: dict[str, tuple[int, int]] = {}
        # Opens a table on another node (NodeRouter.create_table); None before the gateway runs.
        self.remote_open: Callable[[str, TableConfig], Awaitable[bool]] | None = None
        # Quick seat: game -> (node, table id, until) of the last new table sent elsewhere,
        # and the configs of those not opened yet (the requester's node opens them).
        self._games: dict[tuple[str, int, str], tuple[str, str, float]] = {}
        self._to_open: dict[str, TableConfig] = {}
        self.placed_here = 0
        self.placed_elsewhere = 0

    def update(self, nodes: Sequence[NodeView]) -> None:
        """The room's records, as read by the router (every NODES_REFRESH_S)."""
        self._others = [n for n in nodes if n.node != self.node and not n.draining]
        placed = {}
        for n in self._others:
            seen_at, count = self._placed.get(n.node, (n.seen_at_ms, 0))
            placed[n.node] = (n.seen_at_ms, count if seen_at == n.seen_at_ms else 0)
        self._placed = placed

    def seated_here(self) -> int:
        """Players seated at this node's tables, as its lobby lists them, and the players
        registered or still in at its tournaments."""
        listings = self.listings
        tournaments = self.tournament_players()
        if listings is None:
            return tournaments
        seated = sum(listing.seats_taken for listing, _config in listings.tables.values())
        return tournaments + seated

    def _load(self, node: str) -> tuple[int, int, str]:
        if node == self.node:
            return (self.seated_here(), len(self._own_tables()), node)
        for n in self._others:
            if n.node == node:
                placed = self._placed.get(node, (0, 0))[1]
                return (n.seated + placed * PLACED_TABLE_SEATS, n.tables + placed, node)
        raise KeyError(node)

    def loads(self) -> dict[str, int]:
        """Every known live node's load (this one's included) as placement counts it: its
        seated players (the first of the figures compared)."""
        return {node: self._load(node)[0] for node in [self.node, *(n.node for n in self._others)]}

    def choose(self) -> str | None:
        """The node a new table goes to: None for this one."""
        if not self._others:
            return None
        best = min(self._load(n.node) for n in self._others)
        if best < self._load(self.node) or self.draining():
            return best[2]
        return None

    def live(self, node: str) -> bool:
        return any(n.node == node for n in self._others)

    def game_table(self, game_key: tuple[str, int, str], now: float) -> tuple[str, str] | None:
        sent = self._games.get(game_key)
        if sent is None or sent[2] <= now or not self.live(sent[0]):
            return None
        return sent[0], sent[1]

    def new_table(
        self, game_key: tuple[str, int, str], node: str, config: TableConfig, until: float
    ) -> None:
        self._games.pop(game_key, None)
        self._games[game_key] = (node, config.table_id, until)
        while len(self._games) > GAMES_MAX:
            del self._games[next(iter(self._games))]
        self._to_open[config.table_id] = config
        while len(self._to_open) > TO_OPEN_MAX:
            del self._to_open[next(iter(self._to_open))]

    def to_open(self, table_id: str) -> TableConfig | None:
        """The config of a new table chosen for another node and not opened yet (taken)."""
        return self._to_open.pop(table_id, None)

    def forget_table(self, table_id: str) -> None:
        """A table placed elsewhere that refused a seat (full, closing): the next quick seat
        of its game picks again."""
        for key, (_node, placed_id, _until) in list(self._games.items()):
            if placed_id == table_id:
                del self._games[key]

    def placed(self, node: str | None) -> None:
        if node is None:
            self.placed_here += 1
            return
        self.placed_elsewhere += 1
        self.note_placed(node)

    def note_placed(self, node: str) -> None:
        """Something new went to ``node`` (a table, a tournament): it counts as one more table
        there, PLACED_TABLE_SEATS seated, until that node's next record."""
        seen_at, count = self._placed.get(node, (0, 0))
        self._placed[node] = (seen_at, count + 1)

    async def open_elsewhere(self, config: TableConfig) -> bool:
        """An operator's new table: True when another, less-loaded node opened it."""
        node = self.choose()
        if node is None or self.remote_open is None:
            self.placed(None)
            return False
        if not await self.remote_open(node, config):
            self.placed(None)
            return False
        self.placed(node)
        return True
