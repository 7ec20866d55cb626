"""Group commit: concurrent transfers share transactions, and each still fails alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from persistence.ledger import AccountRef, TransferRecord
from persistence.postgres import PostgresStore
from persistence.store import Store, open_store
from services.ledger import InsufficientFunds, wallet
from services.wallet import Wallet
from tests.persistence.stores import BACKENDS, fresh_store, store_url


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str
) -> AsyncIterator[Store]:
    async with fresh_store(request.param, tmp_path, postgres_url) as opened:
        yield opened
        audit = await opened.ledger_audit()
        assert audit.consistent, audit


async def burst(
    w: Wallet, moves: list[tuple[str, AccountRef, AccountRef, int, str]]
) -> list[TransferRecord | Exception]:
    """Start every move at once; collect each one's record or exception, in order."""
    results: list[TransferRecord | Exception] = [RuntimeError("not run")] * len(moves)

    async def one(i: int) -> None:
        key, debit, credit, amount, memo = moves[i]
        try:
            results[i] = await w.move(key, "player_transfer", debit, credit, amount, memo=memo)
        except Exception as exc:
            results[i] = exc

    async with trio.open_nursery() as nursery:
        for i in range(len(moves)):
            nursery.start_soon(one, i)
    return results


async def test_concurrent_transfers_share_transactions(store: Store) -> None:
    w = Wallet(store)
    await w.adjust("seed", wallet(1), 1000, memo="")
    before = store.transfers.batches
    moves = [(f"k{i}", wallet(1), wallet(2 + i % 5), 10, "") for i in range(40)]
    results = await burst(w, moves)
    assert all(isinstance(r, TransferRecord) for r in results)
    assert store.transfers.batches - before < 40  # fewer transactions than transfers
    assert (await w.balance(1)).balance == 600


async def test_a_refused_transfer_fails_alone_inside_a_batch(store: Store) -> None:
    w = Wallet(store)
    await w.adjust("seed", wallet(1), 100, memo="")
    moves = [(f"k{i}", wallet(1), wallet(2), 30, "") for i in range(4)]  # only 3 fit
    results = await burst(w, moves)
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert len(refused) == 1
    assert sum(isinstance(r, TransferRecord) for r in results) == 3
    assert (await w.balance(2)).balance == 90


async def test_the_same_key_twice_in_one_batch_applies_once(store: Store) -> None:
    w = Wallet(store)
    await w.adjust("seed", wallet(1), 100, memo="")
    results = await burst(w, [("k", wallet(1), wallet(2), 30, "")] * 5)
    ids = {r.id for r in results if isinstance(r, TransferRecord)}
    assert len(ids) == 1 and all(isinstance(r, TransferRecord) for r in results)
    assert (await w.balance(2)).balance == 30


async def test_a_transfer_the_database_refuses_fails_alone(
    tmp_path: Path, postgres_url: str
) -> None:
    # PostgreSQL refuses NUL characters in text (SQLite stores them): a failure that only
    # the database sees, after the rules passed, so the whole batch's transaction fails.
    async with fresh_store("postgres", tmp_path, postgres_url) as store:
        w = Wallet(store)
        await w.adjust("seed", wallet(1), 100, memo="")
        moves = [
            (f"k{i}", wallet(1), wallet(2), 10, "bad\x00memo" if i == 2 else "") for i in range(5)
        ]
        results = await burst(w, moves)
        assert not isinstance(results[2], TransferRecord)
        assert sum(isinstance(r, TransferRecord) for r in results) == 4
        assert (await w.balance(2)).balance == 40
        assert (await store.ledger_audit()).consistent


async def test_batches_of_two_processes_over_the_same_accounts_never_deadlock(
    tmp_path: Path, postgres_url: str
) -> None:
    # Two stores on one database stand for two server processes. Each runs batches whose
    # items touch the same accounts in opposite orders; without locking a batch's accounts in
    # id order up front, PostgreSQL would find deadlocks (and we would rerun batches).
    url = await store_url("postgres", tmp_path, postgres_url)
    async with open_store(url) as first, open_store(url) as second:
        assert isinstance(first, PostgresStore) and isinstance(second, PostgresStore)
        w1, w2 = Wallet(first), Wallet(second)
        for p in range(1, 5):
            await w1.adjust(f"seed{p}", wallet(p), 10_000, memo="")
        forward = [(wallet(1), wallet(2)), (wallet(3), wallet(4))]
        backward = [(wallet(4), wallet(3)), (wallet(2), wallet(1))]

        async def stream(w: Wallet, pairs: list[tuple[AccountRef, AccountRef]], tag: str) -> None:
            moves = [(f"{tag}{n}", *pairs[n % 2], 1, "") for n in range(60)]
            results = await burst(w, moves)
            assert all(isinstance(r, TransferRecord) for r in results)

        async with trio.open_nursery() as nursery:
            for round_ in range(3):
                nursery.start_soon(stream, w1, forward, f"f{round_}-")
                nursery.start_soon(stream, w2, backward, f"b{round_}-")
        assert (first.retries, second.retries) == (0, 0)
        assert (await first.ledger_audit()).consistent
