"""How a table's state becomes durable: handed to the snapshot writer (soon), or written now
(``durable``: write-ahead points) and checkpointed as the runtime's snapshot, so an
in-process restart resumes from it and not from the state before the message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, final

from actors.table.deps import TableDeps
from actors.table.state import TableState, encode_table_state
from persistence.snapshots import Snapshot

SNAPSHOT_KIND: Final = "table"


@final
class StateWriter:
    def __init__(self, deps: TableDeps) -> None:
        self.deps = deps

    async def save(
        self, state: TableState, checkpoint: Callable[[bytes], None], *, durable: bool = False
    ) -> None:
        """To the snapshot writer (waits only when it is full), or with ``durable`` into the
        store now, returning once it is there."""
        deps = self.deps
        writer = deps.snapshots
        if writer is None and not durable:
            return
        # Wall-clock microseconds keep versions moving forward across restarts, even when an
        # in-process restart went back to an older runtime snapshot.
        state.version = max(state.version + 1, deps.clock_ms() * 1000)
        data = encode_table_state(state)
        if durable:
            checkpoint(data)
        if writer is None:
            return
        table_id = state.config.table_id
        snapshot = Snapshot(kind=SNAPSHOT_KIND, actor_id=table_id, version=state.version, data=data)
        if durable:
            # Older versions still queued in the writer are refused as stale when it runs.
            (landed,) = await deps.store.save_snapshots([snapshot])
            assert landed, f"{table_id}: a newer snapshot than ours is stored"
        else:
            await writer.submit(snapshot)
