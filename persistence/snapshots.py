"""Actor snapshots: the last state of each actor, by id, with a version that only moves forward.

Optimistic check: a write carries the version it produces; it lands only if the stored version
is lower. A stale writer (an old owner of a table that lost its lease, a late retry) is refused
instead of overwriting newer state.
"""

from __future__ import annotations

from typing import final

import msgspec

from persistence.work import Query, Row, Work

SNAPSHOT_BYTES_MAX = 4 * 1024 * 1024  # bound: a bigger snapshot is a bug; refused (ValueError)
SNAPSHOTS_PAGE_MAX = 1000  # rows per statement when loading every snapshot of a kind


@final
class Snapshot(msgspec.Struct, frozen=True):
    kind: str  # "table", "tournament", ...: what recovery restores
    actor_id: str
    version: int  # > 0, strictly increasing per actor
    data: bytes  # msgpack blob, opaque here
    updated_at_ms: int = 0


class SnapshotConflict(Exception):
    """The stored snapshot is as new as or newer than the one being written."""

    code = "snapshot_conflict"

    def __init__(self, actor_id: str, version: int) -> None:
        super().__init__(f"snapshot of {actor_id!r} at version {version} is stale")
        self.actor_id = actor_id
        self.version = version


_COLUMNS = "kind, actor_id, version, data, updated_at_ms"
_UPSERT = (
    "INSERT INTO snapshots (kind, actor_id, version, data, updated_at_ms)"
    " VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (actor_id) DO UPDATE SET kind = excluded.kind, version = excluded.version,"
    " data = excluded.data, updated_at_ms = excluded.updated_at_ms"
    " WHERE snapshots.version < excluded.version RETURNING version"
)


def _snapshot(row: Row) -> Snapshot:
    return Snapshot(
        kind=row[0], actor_id=row[1], version=int(row[2]), data=bytes(row[3]),
        updated_at_ms=int(row[4]),
    )  # fmt: skip


def check_snapshot(snapshot: Snapshot) -> None:
    if snapshot.version <= 0:
        raise ValueError(f"snapshot version must be positive, got {snapshot.version}")
    if len(snapshot.data) > SNAPSHOT_BYTES_MAX:
        raise ValueError(f"snapshot of {snapshot.actor_id!r} exceeds {SNAPSHOT_BYTES_MAX} bytes")


def save_snapshots(batch: list[Snapshot], now_ms: int) -> Work[list[bool]]:
    """Write a batch in one transaction; per item, True if it landed, False if it was stale."""
    for snapshot in batch:
        check_snapshot(snapshot)
    landed: list[bool] = []
    for s in batch:
        rows = yield Query(_UPSERT, (s.kind, s.actor_id, s.version, s.data, now_ms))
        landed.append(bool(rows))
    return landed


def load_snapshot(actor_id: str) -> Work[Snapshot | None]:
    rows = yield Query(f"SELECT {_COLUMNS} FROM snapshots WHERE actor_id = $1", (actor_id,))
    return _snapshot(rows[0]) if rows else None


def load_snapshots_page(kind: str, after_actor_id: str) -> Work[list[Snapshot]]:
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM snapshots WHERE kind = $1 AND actor_id > $2"
        f" ORDER BY actor_id LIMIT {SNAPSHOTS_PAGE_MAX}",
        (kind, after_actor_id),
    )
    return [_snapshot(row) for row in rows]


def delete_snapshot(actor_id: str, version: int) -> Work[bool]:
    """Delete (a table closed for good) unless a newer snapshot was written meanwhile."""
    rows = yield Query(
        "DELETE FROM snapshots WHERE actor_id = $1 AND version <= $2 RETURNING actor_id",
        (actor_id, version),
    )
    return bool(rows)
