"""The batching snapshot writer, on the embedded store, with trio's autojump clock.

The store works in a thread, and the autojump clock may jump while a thread works, so these
tests assert only lower bounds on time, or upper bounds while no other timer is pending.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from persistence.snapshot_writer import SnapshotWriter
from persistence.snapshots import Snapshot
from persistence.store import Store, open_store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(f"sqlite:///{tmp_path / 'snapshots.sqlite3'}") as opened:
        yield opened


def snap(actor_id: str, version: int) -> Snapshot:
    return Snapshot("table", actor_id, version, f"{actor_id}@{version}".encode())


async def test_a_lone_snapshot_is_written_after_the_flush_interval(
    store: Store, autojump_clock: trio.testing.MockClock
) -> None:
    writer = SnapshotWriter(store, flush_interval_ms=50, batch_items_max=100)
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        start = trio.current_time()
        await writer.submit(snap("table:1", 1))
        await trio.sleep(0.040)
        assert writer.stats.written == 0
        await writer.flush()
        assert trio.current_time() - start >= 0.050
        assert await store.load_snapshot("table:1") is not None
        nursery.cancel_scope.cancel()


async def test_a_full_batch_is_written_without_waiting(
    store: Store, autojump_clock: trio.testing.MockClock
) -> None:
    writer = SnapshotWriter(store, flush_interval_ms=60_000, batch_items_max=5)
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        start = trio.current_time()
        for n in range(5):
            await writer.submit(snap(f"table:{n}", 1))
        await writer.flush()
        assert trio.current_time() - start < 60  # the interval timer never fired
        assert (writer.stats.written, writer.stats.batches) == (5, 1)
        assert len(await store.load_snapshots("table")) == 5
        nursery.cancel_scope.cancel()


async def test_newer_snapshots_replace_waiting_ones(
    store: Store, autojump_clock: trio.testing.MockClock
) -> None:
    writer = SnapshotWriter(store, flush_interval_ms=50)
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        for version in (1, 2, 3):
            await writer.submit(snap("table:1", version))
        await writer.flush()
        assert (writer.stats.written, writer.stats.coalesced) == (1, 2)
        loaded = await store.load_snapshot("table:1")
        assert loaded is not None and loaded.version == 3
        with pytest.raises(ValueError):  # an actor's versions only go forward
            await writer.submit(snap("table:1", 4))
            await writer.submit(snap("table:1", 4))
        nursery.cancel_scope.cancel()


async def test_stale_snapshots_are_reported_not_written(
    store: Store, autojump_clock: trio.testing.MockClock
) -> None:
    stale: list[Snapshot] = []
    writer = SnapshotWriter(store, flush_interval_ms=10, on_stale=stale.append)
    await store.save_snapshot(snap("table:1", 5))
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        await writer.submit(snap("table:1", 3))
        await writer.submit(snap("table:2", 1))
        await writer.flush()
        nursery.cancel_scope.cancel()
    assert stale == [snap("table:1", 3)]
    assert writer.stats.stale == 1
    loaded = await store.load_snapshot("table:1")
    assert loaded is not None and loaded.version == 5


async def test_a_full_writer_makes_submitters_wait(
    store: Store, autojump_clock: trio.testing.MockClock
) -> None:
    writer = SnapshotWriter(store, flush_interval_ms=1000, pending_actors_max=2)
    submitted = trio.Event()

    async def submit_third() -> None:
        await writer.submit(snap("table:3", 1))
        submitted.set()

    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        await writer.submit(snap("table:1", 1))
        await writer.submit(snap("table:2", 1))
        nursery.start_soon(submit_third)
        await trio.sleep(0.5)
        assert not submitted.is_set()
        await writer.submit(snap("table:1", 2))  # replacing a waiting actor needs no room
        await submitted.wait()
        assert trio.current_time() >= 1.0  # room came only from the first batch's write
        await writer.flush()
        assert writer.stats.written == 3
        nursery.cancel_scope.cancel()
    assert [s.actor_id for s in await store.load_snapshots("table")] == [
        "table:1",
        "table:2",
        "table:3",
    ]


async def test_a_failed_write_keeps_the_batch_for_the_restarted_writer(
    store: Store, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = SnapshotWriter(store, flush_interval_ms=10)
    real_save = store.save_snapshots

    async def failing_save(batch: list[Snapshot]) -> list[bool]:
        raise OSError("database went away")

    monkeypatch.setattr(store, "save_snapshots", failing_save)
    await writer.submit(snap("table:1", 1))
    with pytest.raises(OSError):
        await writer.run()
    monkeypatch.setattr(store, "save_snapshots", real_save)
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)  # what the supervisor does
        await writer.flush()
        nursery.cancel_scope.cancel()
    assert await store.load_snapshot("table:1") is not None


async def test_flush_waits_for_a_batch_already_taken_from_the_queue(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = SnapshotWriter(store, flush_interval_ms=0)
    real_save = store.save_snapshots
    in_flight, release = trio.Event(), trio.Event()

    async def slow_save(batch: list[Snapshot]) -> list[bool]:
        in_flight.set()
        await release.wait()
        return await real_save(batch)

    monkeypatch.setattr(store, "save_snapshots", slow_save)
    flushed: list[int] = []
    done = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        await writer.submit(snap("table:1", 1))
        await in_flight.wait()  # the batch is out of the queue, not written yet

        async def flush() -> None:
            await writer.flush()
            flushed.append(writer.stats.written)
            done.set()

        nursery.start_soon(flush)
        await trio.testing.wait_all_tasks_blocked()
        assert flushed == []
        release.set()
        await done.wait()
        nursery.cancel_scope.cancel()
    assert flushed == [1]
