"""What every table of a process shares: the store, the wallet, where pushes go (the players'
sessions, which also know the tables each player is at), the clock and the rng
(``TableDeps``). The actor shell uses them; the core never does.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, final

from actors.table.config import TableRules
from actors.table.player_tables import AtTable, PlayerTables
from persistence.snapshot_writer import SnapshotWriter
from persistence.store import Store, wall_clock_ms
from protocol.game import GamePush
from services.wallet import Wallet


class PlayerChannel(PlayerTables, Protocol):
    """Where a table's pushes go, and its word of who sits and watches: to the player's
    sessions (a push into each session actor's bounded mailbox: the session's overflow
    policy applies; a note straight into each session's record). ``deliver`` and
    ``at_table`` must not block and must not raise for an unknown or disconnected player
    (the gateway's sessions keep or drop as they see fit). What the sessions know is read
    back as :class:`PlayerTables` (actors/table/player_tables.py)."""

    def deliver(self, player_id: int, body: GamePush) -> None: ...

    def at_table(self, player_id: int, note: AtTable) -> None: ...


@final
@dataclass(frozen=True, slots=True)
class TableDeps:
    """What every table shares. ``snapshots``: where durable table snapshots go (None: kept
    in process only). ``rng``: shuffles the decks (seeded in tests)."""

    store: Store
    wallet: Wallet
    channel: PlayerChannel
    rng: random.Random = field(default_factory=random.SystemRandom)
    snapshots: SnapshotWriter | None = None
    lobby_name: str = "lobby"
    tables_supervisor: str = "tables"
    clock_ms: Callable[[], int] = wall_clock_ms
    rules: TableRules = field(default_factory=TableRules)
    # With several nodes (server/cluster_tables.py): takes a cash table's lease and fence
    # as it starts, unless this node holds them already; False: another node owns the table,
    # which then stops here before it deals or writes anything. None: a node alone.
    lease: Callable[[str], Awaitable[bool]] | None = None

    @property
    def player_tables(self) -> PlayerTables:
        """Which tables seat or show a player: what her sessions were told (the channel)."""
        return self.channel
