"""Fencing under any interleaving (hypothesis): two nodes take a table's fence in turn and
write its snapshots in any order, on one SQLite store. A write lands if and only if its
writer holds the current epoch (or nobody ever fenced the table) and its version is newer
than the stored one; the stored snapshot is always the last one that landed."""

from __future__ import annotations

import tempfile
from functools import partial

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from persistence.leases import NodeFences, take_fence
from persistence.snapshots import Snapshot
from persistence.store import open_store
from tests.persistence.stores import ManualClock

TABLE = "t"
NODES = ("a", "b")

# ("take", node) or ("write", node, version)
Op = tuple[str, str] | tuple[str, str, int]
ops_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("take"), st.sampled_from(NODES)),
        st.tuples(st.just("write"), st.sampled_from(NODES), st.integers(1, 30)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(ops=ops_strategy)
def test_only_the_current_epoch_holder_writes_and_versions_only_move_forward(
    ops: list[Op],
) -> None:
    async def main() -> None:
        with tempfile.TemporaryDirectory() as scratch:
            async with open_store(
                f"sqlite:///{scratch}/f.sqlite3", clock_ms=ManualClock()
            ) as store:
                fences = {node: NodeFences() for node in NODES}
                current = 0  # the model: the epoch in the database
                held: dict[str, int] = {}
                stored: tuple[int, bytes] | None = None
                for op in ops:
                    node = op[1]
                    if op[0] == "take":
                        epoch = await store.run(partial(take_fence, TABLE, node, 0))
                        current += 1
                        assert epoch == current
                        held[node] = epoch
                        fences[node].hold(TABLE, epoch)
                        continue
                    assert len(op) == 3
                    version = op[2]
                    data = f"{node}{version}".encode()
                    store.fences = fences[node]
                    (landed,) = await store.save_snapshots(
                        [Snapshot(kind="table", actor_id=TABLE, version=version, data=data)]
                    )
                    # Never fenced (0): anyone writes; else only the current epoch's holder.
                    may = held.get(node, 0) == current
                    newer = stored is None or version > stored[0]
                    assert landed == (may and newer), (op, held, current, stored)
                    if landed:
                        stored = (version, data)
                    found = await store.load_snapshot(TABLE)
                    assert (found.version, found.data) == stored if found else stored is None

    trio.run(main)
