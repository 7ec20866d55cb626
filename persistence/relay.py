"""The outbox relay: publishes pending events, oldest first, and marks them relayed only once
the bus confirmed them (a child of the ``persistence`` supervisor: server/app.py).

Loop: read up to ``batch_events_max`` pending events (id order), hand them to the bus
(RabbitMQ with publisher confirms, or the in-process consumers), then stamp them relayed. A
crash or a kill between the bus's confirmation and the stamp publishes the batch again after
the restart (at-least-once; consumers apply each event once: persistence/event_bus.py).
After a batch shorter than ``batch_events_max`` (everything that was pending) the relay waits
for a nudge (a commit with events) or the poll interval before it reads again; after a full
one it reads on at once.

When the bus fails (the broker is away), nothing of the batch is stamped, and the same batch,
from its first event, is tried again after a backoff that doubles from ``backoff_min_ms`` to
``backoff_max_ms`` (overflow policy: events wait in the outbox, which is the durable buffer;
the backlog and lag metrics show it). Since a batch is always retried whole and in id order,
and a later batch starts only after an earlier one was confirmed, events of one aggregate
reach the broker in their order, duplicates aside.

Retention: every ``prune_interval_ms`` the relay deletes rows relayed more than
``retention_ms`` ago (TABLIUM_OUTBOX_RETENTION_DAYS); a pending row is never deleted, however
old.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Final, final

import structlog
import trio
from prometheus_client import Counter, Gauge

from persistence import outbox
from persistence.event_bus import BrokerUnavailable, EventBus
from persistence.store import Store

log = structlog.get_logger("tablium.relay")

BATCH_EVENTS_MAX: Final = 500  # bound: events per publication (and per stamp statement)
POLL_INTERVAL_MS: Final = 100  # idle: look for new events this often
BACKOFF_MIN_MS: Final = 100
BACKOFF_MAX_MS: Final = 5_000
BACKLOG_REFRESH_MS: Final = 1_000  # the backlog metric's COUNT runs at most this often
PRUNE_INTERVAL_MS: Final = 60_000  # retention: relayed rows past it are deleted this often
PRUNE_ROUNDS_MAX: Final = 10  # bound: statements (of outbox.PRUNE_ROWS_MAX rows) per prune
DAY_MS: Final = 86_400_000

OUTBOX_BACKLOG: Final = Gauge("tablium_outbox_backlog_events", "Events not yet relayed.")
OUTBOX_LAG: Final = Gauge(
    "tablium_outbox_lag_seconds", "Age of the oldest event not yet relayed (0: none)."
)
OUTBOX_PUBLISHED: Final = Counter(
    "tablium_outbox_published_events_total", "Events the bus confirmed and the relay stamped."
)
OUTBOX_FAILURES: Final = Counter(
    "tablium_outbox_publish_failures_total", "Batches the bus did not confirm (retried)."
)


@final
class RelayStats:
    def __init__(self) -> None:
        self.published = 0
        self.batches = 0
        self.failures = 0
        self.pruned = 0


@final
class OutboxRelay:
    def __init__(
        self,
        store: Store,
        bus: EventBus,
        *,
        batch_events_max: int = BATCH_EVENTS_MAX,
        poll_interval_ms: int = POLL_INTERVAL_MS,
        backoff_min_ms: int = BACKOFF_MIN_MS,
        backoff_max_ms: int = BACKOFF_MAX_MS,
        on_failure: Callable[[BrokerUnavailable], None] | None = None,
        retention_ms: int | None = 7 * DAY_MS,
        prune_interval_ms: int = PRUNE_INTERVAL_MS,
    ) -> None:
        if not 1 <= batch_events_max <= outbox.BATCH_ROWS_MAX:
            raise ValueError(f"batch_events_max must be 1-{outbox.BATCH_ROWS_MAX}")
        self._store = store
        self.bus = bus
        self.batch_events_max = batch_events_max
        self.poll_interval_ms = poll_interval_ms
        self.backoff_min_ms = backoff_min_ms
        self.backoff_max_ms = backoff_max_ms
        self._on_failure = on_failure
        self.retention_ms = retention_ms  # None: keep every relayed row
        self.prune_interval_ms = prune_interval_ms
        self._pruned_at = -float("inf")
        self._wake = trio.Event()
        self._reads = 0  # reads of the pending events started so far
        # drained() callers: (the first read that counts for them, their event).
        self._drain_waiters: list[tuple[int, trio.Event]] = []
        self._backlog_at = -float("inf")
        self.stats = RelayStats()

    def nudge(self) -> None:
        """Look for pending events now rather than at the next poll."""
        self._wake.set()

    async def drained(self) -> None:
        """Return once a look for pending events, started after this call, found none or
        found fewer than a batch and relayed them: every event committed before the call is
        relayed (tests, the benchmark)."""
        done = trio.Event()
        self._drain_waiters.append((self._reads, done))
        self.nudge()
        await done.wait()

    async def run(
        self, *, task_status: trio.TaskStatus[OutboxRelay] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """The relay's loop; a store failure crashes it (its supervisor restarts it). Started
        with itself (a supervisor's child: its ``started_value``)."""
        task_status.started(self)
        backoff_ms = self.backoff_min_ms
        while True:
            await self._refresh_backlog()
            await self._prune()
            self._wake = trio.Event()  # before the read: a nudge during it is not lost
            read = self._reads
            self._reads += 1
            batch = await self._store.run(
                partial(outbox.pending, self.batch_events_max), read_only=True
            )
            if not batch:
                self._release_drain_waiters(read)
                with trio.move_on_after(self.poll_interval_ms / 1000):
                    await self._wake.wait()
                continue
            try:
                await self.bus.publish(batch)
            except BrokerUnavailable as failed:
                self.stats.failures += 1
                OUTBOX_FAILURES.inc()
                log.warning("relay: publication failed", error=str(failed), retry_ms=backoff_ms)
                if self._on_failure is not None:
                    self._on_failure(failed)
                await trio.sleep(backoff_ms / 1000)
                backoff_ms = min(backoff_ms * 2, self.backoff_max_ms)
                continue
            backoff_ms = self.backoff_min_ms
            ids = [e.id for e in batch]
            await self._store.run(partial(outbox.mark_relayed, ids, self._store.clock_ms()))
            self.stats.published += len(ids)
            self.stats.batches += 1
            OUTBOX_PUBLISHED.inc(len(ids))
            if len(batch) < self.batch_events_max:
                # A short batch was everything pending when this read began, and it is
                # relayed now: as good as an empty read at that point, without another
                # read (one per busy table's hand). New events nudge; the poll is the floor.
                self._release_drain_waiters(read)
                with trio.move_on_after(self.poll_interval_ms / 1000):
                    await self._wake.wait()

    def _release_drain_waiters(self, empty_read: int) -> None:
        waiting = []
        for first_read, done in self._drain_waiters:
            if empty_read >= first_read:
                done.set()
            else:
                waiting.append((first_read, done))
        self._drain_waiters = waiting

    async def _prune(self) -> None:
        """Delete rows relayed more than ``retention_ms`` ago (a pending row never)."""
        now = trio.current_time()
        if self.retention_ms is None or now - self._pruned_at < self.prune_interval_ms / 1000:
            return
        self._pruned_at = now
        before_ms = self._store.clock_ms() - self.retention_ms
        for _ in range(PRUNE_ROUNDS_MAX):  # the rest waits for the next prune
            deleted = await self._store.run(partial(outbox.prune, before_ms))
            self.stats.pruned += deleted
            if deleted < outbox.PRUNE_ROWS_MAX:
                return

    async def _refresh_backlog(self) -> None:
        now = trio.current_time()
        if now - self._backlog_at < BACKLOG_REFRESH_MS / 1000:
            return
        self._backlog_at = now
        backlog = await self._store.run(outbox.backlog, read_only=True)
        OUTBOX_BACKLOG.set(backlog.pending)
        lag_ms = (
            0 if backlog.oldest_at_ms is None else self._store.clock_ms() - backlog.oldest_at_ms
        )
        OUTBOX_LAG.set(max(0, lag_ms) / 1000)


async def replay(
    store: Store, bus: EventBus, from_id: int, to_id: int | None, *, page_max: int = 500
) -> tuple[int, int | None]:
    """Publish the stored events ``from_id <= id <= to_id`` again, in id order, a page at a
    time (relayed or not; their stamps are left alone): for a consumer rebuilt from scratch,
    whose processed records were cleared. Returns (events published, last id published).
    Raises BrokerUnavailable when the bus fails (what was published before stays published)."""
    published, last = 0, None
    after = from_id
    while True:
        page = await store.run(partial(outbox.between, after, to_id, page_max), read_only=True)
        if not page:
            return published, last
        await bus.publish(page)
        published += len(page)
        last = page[-1].id
        after = last + 1
