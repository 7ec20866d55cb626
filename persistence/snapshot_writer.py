"""The snapshot writer: batches actors' snapshots into few transactions.

Actors hand their latest snapshot to :meth:`SnapshotWriter.submit` and go on; the writer's
task (run under the persistence supervisor) writes a batch when ``batch_items_max`` actors are
waiting or ``flush_interval_ms`` after the oldest waiting one, whichever comes first.

Latest wins: only an actor's newest snapshot matters, so a newer submit replaces a waiting
older one. The waiting set is therefore bounded by the number of distinct actors, and
``pending_actors_max`` bounds that: overflow policy = the submitting actor waits (backpressure)
until the writer frees room. A stale snapshot (the store holds a newer version: another node
owns the actor now) is handed to ``on_stale``; the default counts it.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import final

import trio

from persistence.snapshots import Snapshot, check_snapshot
from persistence.store import Store

LAG_SAMPLES_MAX = 100_000  # bound: the oldest lag samples are dropped first


@final
class SnapshotWriterStats:
    def __init__(self) -> None:
        self.submitted = 0
        self.coalesced = 0  # replaced by a newer snapshot before being written
        self.written = 0
        self.stale = 0
        self.batches = 0
        # Seconds from submit to commit of each written snapshot (trio clock).
        self.lag_s: collections.deque[float] = collections.deque(maxlen=LAG_SAMPLES_MAX)

    def lag_percentile_ms(self, percentile: float) -> float:
        if not self.lag_s:
            return 0.0
        ordered = sorted(self.lag_s)
        index = min(len(ordered) - 1, int(len(ordered) * percentile / 100))
        return ordered[index] * 1000


@final
class SnapshotWriter:
    def __init__(
        self,
        store: Store,
        *,
        batch_items_max: int = 500,
        flush_interval_ms: int = 20,
        pending_actors_max: int = 10_000,
        on_stale: Callable[[Snapshot], None] | None = None,
    ) -> None:
        self._store = store
        self.batch_items_max = batch_items_max
        self.flush_interval_ms = flush_interval_ms
        self.pending_actors_max = pending_actors_max
        self._on_stale = on_stale
        # actor id -> (snapshot, submit time); insertion order = oldest first.
        self._pending: dict[str, tuple[Snapshot, float]] = {}
        self._wake_writer = trio.Event()
        self._room = trio.Event()
        self._written_through = trio.Event()
        self._writing = False  # a batch is out of the queue and not yet written
        self.stats = SnapshotWriterStats()

    async def submit(self, snapshot: Snapshot) -> None:
        """Queue a snapshot for writing; waits only while the writer is full."""
        check_snapshot(snapshot)
        await trio.lowlevel.checkpoint()
        while snapshot.actor_id not in self._pending and (
            len(self._pending) >= self.pending_actors_max
        ):
            if self._room.is_set():
                self._room = trio.Event()
            await self._room.wait()
        self.stats.submitted += 1
        waiting = self._pending.get(snapshot.actor_id)
        if waiting is not None:
            if waiting[0].version >= snapshot.version:
                raise ValueError(
                    f"{snapshot.actor_id}: version {snapshot.version} submitted after"
                    f" {waiting[0].version}"
                )
            self.stats.coalesced += 1
            # Keep the actor's place in line (its older submit time): lag is measured honestly.
            self._pending[snapshot.actor_id] = (snapshot, waiting[1])
        else:
            self._pending[snapshot.actor_id] = (snapshot, trio.current_time())
        self._wake_writer.set()

    async def flush(self) -> None:
        """Return once everything submitted before this call has been written (a batch
        already taken from the queue included)."""
        while self._pending or self._writing:
            if self._written_through.is_set():
                self._written_through = trio.Event()
            self._wake_writer.set()
            await self._written_through.wait()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The writer's loop; crashes (after requeueing its batch) if the store fails."""
        task_status.started()
        while True:
            if not self._pending:
                self._wake_writer = trio.Event()
                await self._wake_writer.wait()
            oldest_s = next(iter(self._pending.values()))[1]
            deadline = oldest_s + self.flush_interval_ms / 1000
            while len(self._pending) < self.batch_items_max and trio.current_time() < deadline:
                self._wake_writer = trio.Event()
                with trio.move_on_at(deadline):
                    await self._wake_writer.wait()
            await self._write_batch()

    async def _write_batch(self) -> None:
        batch: list[tuple[Snapshot, float]] = []
        for actor_id in list(self._pending)[: self.batch_items_max]:
            batch.append(self._pending.pop(actor_id))
        self._room.set()
        self._writing = True
        try:
            landed = await self._store.save_snapshots([s for s, _ in batch])
        except BaseException:
            # Put the batch back unless a newer snapshot arrived meanwhile, then crash: the
            # supervisor restarts the writer and nothing waiting was lost.
            for snapshot, submitted_s in batch:
                self._pending.setdefault(snapshot.actor_id, (snapshot, submitted_s))
            raise
        finally:
            self._writing = False
        now = trio.current_time()
        self.stats.batches += 1
        for (snapshot, submitted_s), ok in zip(batch, landed, strict=True):
            if ok:
                self.stats.written += 1
                self.stats.lag_s.append(now - submitted_s)
            else:
                self.stats.stale += 1
                if self._on_stale is not None:
                    self._on_stale(snapshot)
        self._written_through.set()
