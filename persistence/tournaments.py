"""Tournaments in the store (migration 0016): one row per tournament, rewritten after each
step of its actor with the step's domain events (``tournament.*``) in the same transaction.

The row holds the director's spec, the rules core's snapshot and the live system's own
state (the level clock's elapsed play time, pause, payouts owed) as msgpack bytes: the actor
decodes them; this module only stores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, final

import msgspec

from persistence.events import (
    NewEvent,
    TournamentChanged,
    TournamentPlayerChanged,
    TournamentPlayerRemoved,
    TournamentRescheduled,
)
from persistence.outbox import append
from persistence.work import Query, Row, Work, one

LISTED_MAX: Final = 500  # bound: rows a listing returns (newest first)
_COLUMNS: Final = "id, name, kind, state, asset, spec, core, live, version, created_at_ms"


@final
class StoredTournament(msgspec.Struct, frozen=True):
    id: int
    name: str
    kind: str
    state: str
    asset: str
    spec: bytes
    core: bytes | None
    live: bytes | None
    version: int
    created_at_ms: int


def _row(row: Row) -> StoredTournament:
    return StoredTournament(
        id=int(row[0]), name=row[1], kind=row[2], state=row[3], asset=row[4],
        spec=bytes(row[5]), core=None if row[6] is None else bytes(row[6]),
        live=None if row[7] is None else bytes(row[7]), version=int(row[8]),
        created_at_ms=int(row[9]),
    )  # fmt: skip


def changed(kind: str, tournament_id: int, state: str, level: int | None) -> NewEvent:
    """A lifecycle event (tournament.created, started, level_started, break_started,
    finished)."""
    payload = TournamentChanged(tournament_id=tournament_id, state=state, level=level)
    return NewEvent(kind, f"tournament:{tournament_id}", payload)


def player_changed(
    kind: str,
    tournament_id: int,
    player_id: int,
    entry: int,
    place: int | None = None,
    prize: int | None = None,
) -> NewEvent:
    """An entrant's event (tournament.player_registered, player_eliminated, place_paid)."""
    payload = TournamentPlayerChanged(
        tournament_id=tournament_id, player_id=player_id, entry=entry, place=place, prize=prize
    )
    return NewEvent(kind, f"tournament:{tournament_id}", payload)


def rescheduled(tournament_id: int, starts_at_ms: int) -> NewEvent:
    """A director's new start time (tournament.rescheduled)."""
    payload = TournamentRescheduled(tournament_id=tournament_id, starts_at_ms=starts_at_ms)
    return NewEvent("tournament.rescheduled", f"tournament:{tournament_id}", payload)


def player_removed(
    tournament_id: int, player_id: int, entry: int, refunded: int, disqualified: bool
) -> NewEvent:
    """A director's removal (tournament.player_removed)."""
    payload = TournamentPlayerRemoved(
        tournament_id=tournament_id, player_id=player_id, entry=entry, refunded=refunded,
        disqualified=disqualified,
    )  # fmt: skip
    return NewEvent("tournament.player_removed", f"tournament:{tournament_id}", payload)


def create_tournament(
    name: str, kind: str, asset: str, spec: bytes, now_ms: int
) -> Work[StoredTournament]:
    """A new tournament, registering; ``tournament.created`` in the same transaction."""
    rows = yield Query(
        "INSERT INTO tournaments (name, kind, state, asset, spec, version, created_at_ms,"
        " updated_at_ms) VALUES ($1, $2, 'registering', $3, $4, 0, $5, $5)"
        f" RETURNING {_COLUMNS}",
        (name, kind, asset, spec, now_ms),
    )
    stored = _row(one(rows))
    yield from append(changed("tournament.created", stored.id, "registering", None), now_ms)
    return stored


def save_step(
    tournament_id: int,
    state: str,
    core: bytes | None,
    live: bytes,
    version: int,
    events: Sequence[NewEvent],
    now_ms: int,
) -> Work[bool]:
    """Store one step (only over an older version: a stale write is refused, False) and its
    events, in one transaction. ``core`` None: the stored core stands (the step did not
    change it: a money-in intent, a clock pause, a deal vote), and only the rest is written."""
    if core is None:
        rows = yield Query(
            "UPDATE tournaments SET state = $2, live = $3, version = $4, updated_at_ms = $5"
            " WHERE id = $1 AND version < $4 RETURNING id",
            (tournament_id, state, live, version, now_ms),
        )
    else:
        rows = yield Query(
            "UPDATE tournaments SET state = $2, core = $3, live = $4, version = $5,"
            " updated_at_ms = $6 WHERE id = $1 AND version < $5 RETURNING id",
            (tournament_id, state, core, live, version, now_ms),
        )
    if not rows:
        return False
    for event in events:
        yield from append(event, now_ms)
    return True


def load_tournament(tournament_id: int) -> Work[StoredTournament | None]:
    rows = yield Query(f"SELECT {_COLUMNS} FROM tournaments WHERE id = $1", (tournament_id,))
    return _row(rows[0]) if rows else None


def tournaments_in(states: Sequence[str]) -> Work[list[StoredTournament]]:
    """Tournaments in these states, oldest first (start-up re-opens the unfinished)."""
    marks = ", ".join(f"${i + 1}" for i in range(len(states)))
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM tournaments WHERE state IN ({marks}) ORDER BY id",
        tuple(states),
    )
    return [_row(r) for r in rows]


def recent_tournaments(limit: int = LISTED_MAX) -> Work[list[StoredTournament]]:
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM tournaments ORDER BY id DESC LIMIT $1",
        (min(limit, LISTED_MAX),),
    )
    return [_row(r) for r in rows]


SCANNED_MAX: Final = 10_000  # bound: ids a scan returns (oldest first)


def tournament_ids_in(states: Sequence[str]) -> Work[list[int]]:
    """Ids of the tournaments in these states, oldest first, at most SCANNED_MAX (the
    nodes' scan for tournaments to take over: ids only, not their cores)."""
    marks = ", ".join(f"${i + 1}" for i in range(len(states)))
    rows = yield Query(
        f"SELECT id FROM tournaments WHERE state IN ({marks}) ORDER BY id LIMIT {SCANNED_MAX}",
        tuple(states),
    )
    return [int(r[0]) for r in rows]


def load_state(tournament_id: int) -> Work[str | None]:
    """The tournament's stored state (None: no such tournament)."""
    rows = yield Query("SELECT state FROM tournaments WHERE id = $1", (tournament_id,))
    return str(rows[0][0]) if rows else None
