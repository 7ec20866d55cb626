"""The chain's storage on both backends: upserts across reorganisations, guarded moves,
one batch in flight, the write-ahead batch record."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest

from persistence import chain as db
from persistence.chain import Batch, BatchTx, Cursor, SeenDeposit
from persistence.store import Store
from tests.persistence.stores import BACKENDS, ManualClock, fresh_store

CHAIN = 5


@pytest.fixture(params=BACKENDS)
async def any_store(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str
) -> AsyncIterator[Store]:
    async with fresh_store(request.param, tmp_path, postgres_url, ManualClock()) as opened:
        yield opened


def _seen(tx: str, block: int, block_hash: str, reference: str, chips: int = 10) -> SeenDeposit:
    return SeenDeposit(tx, 0, block, block_hash, "0xsender", reference, chips * 100, chips)


async def _all(store: Store) -> list[db.Deposit]:
    return sorted(
        await store.run(partial(db.list_deposits, CHAIN, None, None, None, 50)), key=lambda d: d.id
    )


async def test_deposits_are_recorded_once_and_follow_their_block(any_store: Store) -> None:
    store = any_store
    ref = await store.run(partial(db.deposit_reference, 42, "0xref", 0))
    assert ref == "0xref"
    assert await store.run(partial(db.deposit_reference, 42, "0xother", 0)) == "0xref"
    cursor = Cursor(CHAIN, 10, "0xh10", 5, "0xh5")
    seen = [_seen("0xa", 8, "0xh8", ref), _seen("0xb", 9, "0xh9", "0xnobody"),
            _seen("0xc", 9, "0xh9", ref, chips=0)]  # fmt: skip
    await store.run(partial(db.record_scan, CHAIN, seen, [], cursor, 1))
    await store.run(partial(db.record_scan, CHAIN, seen, [], cursor, 2))  # a re-read: no copies
    first, second, third = await _all(store)
    assert (first.state, first.player_id, first.units, first.chips) == ("new", 42, 1_000, 10)
    assert (second.state, second.player_id) == ("unmatched", None)
    assert third.state == "too_small"
    assert await store.run(partial(db.get_cursor, CHAIN)) == cursor
    # The same log re-mined in another block takes the new block.
    moved = [_seen("0xa", 9, "0xh9b", ref)]
    await store.run(partial(db.record_scan, CHAIN, moved, [], cursor, 3))
    assert (await _all(store))[0].block_hash == "0xh9b"


async def test_a_vanished_deposit_that_returns_is_a_new_attempt(any_store: Store) -> None:
    store = any_store
    ref = await store.run(partial(db.deposit_reference, 1, "0xr", 0))
    cursor = Cursor(CHAIN, 10, "0xh", 5, "0xh5")
    await store.run(partial(db.record_scan, CHAIN, [_seen("0xa", 8, "0xh8", ref)], [], cursor, 1))
    (row,) = await _all(store)
    assert await store.run(
        partial(db.set_deposit_state, row.id, ("new",), "pending", 2, transfer_id=77)
    )
    await store.run(partial(db.record_scan, CHAIN, [], [row.id], cursor, 3))
    (row,) = await _all(store)
    assert (row.state, row.transfer_id) == ("reorged", 77)
    await store.run(partial(db.record_scan, CHAIN, [_seen("0xa", 9, "0xh9", ref)], [], cursor, 4))
    (row,) = await _all(store)
    assert (row.state, row.attempt, row.transfer_id, row.block_number) == ("new", 1, None, 9)


async def test_a_credited_deposit_is_never_touched_again(any_store: Store) -> None:
    store = any_store
    ref = await store.run(partial(db.deposit_reference, 1, "0xr", 0))
    cursor = Cursor(CHAIN, 10, "0xh", 5, "0xh5")
    await store.run(partial(db.record_scan, CHAIN, [_seen("0xa", 8, "0xh8", ref)], [], cursor, 1))
    (row,) = await _all(store)
    await store.run(partial(db.set_deposit_state, row.id, ("new",), "pending", 2, transfer_id=1))
    await store.run(partial(db.set_deposit_state, row.id, ("pending",), "credited", 3))
    await store.run(partial(db.record_scan, CHAIN, [_seen("0xa", 9, "0xh9", ref)], [row.id],
                            cursor, 4))  # fmt: skip
    (after,) = await _all(store)
    assert (after.state, after.block_number) == ("credited", 8)
    assert not await store.run(partial(db.set_deposit_state, row.id, ("pending",), "new", 5))


def _batch(batch_id: int, nonce: int) -> tuple[Batch, BatchTx]:
    batch = Batch(batch_id, CHAIN, "0xop", nonce, "signed", 1, 500, None, 10, 10)
    return batch, BatchTx(f"0xtx{batch_id}", batch_id, "batch", "0xraw", 100, 10, 10)


async def test_one_batch_in_flight_and_only_queued_withdrawals_join_it(any_store: Store) -> None:
    store = any_store
    rows = [
        await store.run(
            partial(db.insert_withdrawal, CHAIN, p, f"player:{p}:k", "0xabc", 5, 500, 1)
        )
        for p in (1, 2)
    ]
    for row in rows:
        await store.run(partial(db.set_withdrawal_state, row.id, ("requested",), "queued", 2,
                                transfer_id=row.id))  # fmt: skip
    batch, tx = _batch(11, 0)
    assert not await store.run(partial(db.create_batch, batch, tx, [rows[0].id, 999]))
    assert await store.run(partial(db.batch_in_flight, CHAIN)) is None  # rolled back whole
    assert await store.run(partial(db.create_batch, batch, tx, [rows[0].id]))
    second, second_tx = _batch(12, 1)
    assert not await store.run(partial(db.create_batch, second, second_tx, [rows[1].id]))
    flying = await store.run(partial(db.batch_in_flight, CHAIN))
    assert flying is not None and (flying.id, [t.tx_hash for t in flying.txs]) == (11, ["0xtx11"])
    assert await store.run(
        partial(db.settle_batch, 11, "confirmed", "paid", "", 3, mined_tx="0xtx11")
    )
    assert not await store.run(partial(db.settle_batch, 11, "confirmed", "paid", "", 4))
    paid = await store.run(partial(db.get_withdrawal, rows[0].id))
    assert paid is not None and (paid.state, paid.ledger_done, paid.batch_id) == ("paid", False, 11)
    todo = await store.run(partial(db.withdrawals_to_finish, CHAIN, 10))
    assert [w.id for w in todo] == [rows[0].id]
    await store.run(partial(db.mark_ledger_done, rows[0].id, 5))
    assert await store.run(partial(db.withdrawals_to_finish, CHAIN, 10)) == []
    assert await store.run(partial(db.withdrawal_counts, CHAIN)) == {"queued": 1}


async def test_the_pause_flag_is_kept_per_chain(any_store: Store) -> None:
    store = any_store
    assert not await store.run(partial(db.withdrawals_paused, CHAIN))
    assert await store.run(partial(db.set_withdrawals_paused, CHAIN, True, 1)) is False
    assert await store.run(partial(db.withdrawals_paused, CHAIN))
    assert not await store.run(partial(db.withdrawals_paused, CHAIN + 1))


async def test_new_deposits_are_opened_before_held_ones(any_store: Store) -> None:
    store = any_store
    ref = await store.run(partial(db.deposit_reference, 1, "0xr", 0))
    cursor = Cursor(CHAIN, 10, "0xh", 5, "0xh5")
    seen = [_seen(f"0x{i}", 8, "0xh8", ref) for i in range(3)]
    await store.run(partial(db.record_scan, CHAIN, seen, [], cursor, 1))
    first, second, third = await _all(store)
    for row in (first, second):
        await store.run(
            partial(db.set_deposit_state, row.id, ("new",), "held", 2, hold_reason="limit")
        )
    (picked,) = await store.run(partial(db.deposits_to_settle, CHAIN, 1))
    assert picked.id == third.id  # the held ones are retried after it
