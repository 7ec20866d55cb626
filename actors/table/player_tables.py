"""Which tables a player sits at or watches: her sessions' knowledge, not a shared index.

A table tells the player's sessions (through the channel) that she sat down or left,
started or stopped watching (:class:`AtTable`); each session keeps what it was told
(:class:`TablesAt`, ``PlayerSession.tables``), noted at once rather than queued behind the
session's pushes (server/gateway.py ``note_table``: a queued note could be lost with an
overflowed mailbox, or lag behind the session's end and leave a stale record). A dropped,
resumed or ended session reaches exactly those tables with tells
(actors/table/requests.py ``TableSessionHooks``), and the lobby reads them through the
channel (:class:`PlayerTables`): the sessions of the player, and the record of players with
no session on this node (server/gateway.py ``PlayerChannel.away``). Pure: no trio, no I/O.

Bounds: a session knows at most the tables that seat or show the player, each bounded by
its seats and watchers (``config.watchers_max``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol, final

import msgspec

Role = Literal["seated", "watching"]


@final
class AtTable(msgspec.Struct, frozen=True, tag=True):
    """A table's word to the player's sessions: she sat down at (``on``) or left
    ``table_id`` (``role`` "seated"), or started or stopped watching it ("watching")."""

    table_id: str
    role: Role
    on: bool


@final
@dataclass(slots=True)
class TablesAt:
    """The tables one session (or a node's record of a remote player) was told of."""

    seated: set[str] = field(default_factory=set)
    watching: set[str] = field(default_factory=set)

    def apply(self, note: AtTable) -> None:
        tables = self.seated if note.role == "seated" else self.watching
        if note.on:
            tables.add(note.table_id)
        else:
            tables.discard(note.table_id)

    def copy(self) -> TablesAt:
        return TablesAt(set(self.seated), set(self.watching))

    def __bool__(self) -> bool:
        return bool(self.seated or self.watching)


def seats_in(known: Iterable[TablesAt]) -> list[str]:
    """The tables that seat the player, by any of ``known`` (sorted: stable for replies)."""
    return sorted({table_id for tables in known for table_id in tables.seated})


def watched_in(known: Iterable[TablesAt]) -> list[str]:
    return sorted({table_id for tables in known for table_id in tables.watching})


class PlayerTables(Protocol):
    """Read-only: which tables seat or show a player, as her sessions know it."""

    def seats_of(self, player_id: int) -> list[str]: ...

    def watched_by(self, player_id: int) -> list[str]: ...


def keep_away(away: dict[int, TablesAt], player_id: int, note: AtTable) -> None:
    """A table's word for a player with no session to tell: kept in ``away`` until a session
    of hers opens and adopts it; an entry leaves when its tables say she left them."""
    tables = away.get(player_id)
    if tables is None:
        if not note.on:
            return
        tables = away[player_id] = TablesAt()
    tables.apply(note)
    if not tables:
        del away[player_id]


def merged(known: Iterable[TablesAt]) -> TablesAt | None:
    """One record of everything in ``known`` (None: nothing)."""
    result = TablesAt()
    for tables in known:
        result.seated |= tables.seated
        result.watching |= tables.watching
    return result or None
