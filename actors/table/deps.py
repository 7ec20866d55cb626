"""What every table of a process shares: the store, the wallet, where pushes go, the player
index, the clock and the rng (``TableDeps``). The actor shell uses them; the core never does.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, final

from actors.table.config import TableRules
from persistence.snapshot_writer import SnapshotWriter
from persistence.store import Store, wall_clock_ms
from protocol.game import GamePush
from services.wallet import Wallet


class PlayerChannel(Protocol):
    """Where a table's pushes go. ``deliver`` must not block and must not raise for an
    unknown or disconnected player (the gateway's sessions keep or drop as they see fit)."""

    def deliver(self, player_id: int, body: GamePush) -> None: ...


@final
class PlayerTables:
    """Which tables each player sits at or watches: an index the tables write (on seating,
    leaving, watching) and the session hooks read, so a dropped connection reaches the right
    tables with tells and no ask. In process only; bounded by seats and watchers."""

    def __init__(self) -> None:
        self._seated: dict[int, set[str]] = {}
        self._watching: dict[int, set[str]] = {}

    @staticmethod
    def _change(index: dict[int, set[str]], player_id: int, table_id: str, on: bool) -> None:
        tables = index.setdefault(player_id, set())
        if on:
            tables.add(table_id)
        else:
            tables.discard(table_id)
        if not tables:
            del index[player_id]

    def seated(self, player_id: int, table_id: str, on: bool) -> None:
        self._change(self._seated, player_id, table_id, on)

    def watching(self, player_id: int, table_id: str, on: bool) -> None:
        self._change(self._watching, player_id, table_id, on)

    def seats_of(self, player_id: int) -> list[str]:
        return sorted(self._seated.get(player_id, ()))

    def watched_by(self, player_id: int) -> list[str]:
        return sorted(self._watching.get(player_id, ()))


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
    player_tables: PlayerTables = field(default_factory=PlayerTables)
    rules: TableRules = field(default_factory=TableRules)
    # With several nodes (server/cluster_tables.py): takes a cash table's lease and fence
    # as it starts, unless this node holds them already; False: another node owns the table,
    # which then stops here before it deals or writes anything. None: a node alone.
    lease: Callable[[str], Awaitable[bool]] | None = None
