"""A table's epoch: which opening of its id a table is. Every ledger key and hand id carries
it, so a table id closed and opened again never replays the closed table's transfers, while a
restarted table (in process or from the store) keeps its epoch and replays its own."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from actors.seed_tables import start_tables
from actors.table.admin import next_epoch
from actors.table.deps import TableDeps
from actors.table.durable import SNAPSHOT_KIND
from actors.table.messages import (
    JoinSeat,
    StandUp,
)
from actors.table.state import EscrowDebit, TableState, encode_table_state
from persistence.snapshots import Snapshot
from services.ledger import wallet
from tests.actors.test_table_buy_in_recovery import stored_tables
from tests.actors.test_table_fakes import FUNDS, game_tree, nlhe
from tests.persistence.stores import BACKENDS, fresh_store


@pytest.mark.parametrize("backend", BACKENDS)
async def test_each_opening_of_a_table_id_takes_the_next_epoch(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    async with fresh_store(backend, tmp_path, postgres_url) as store:
        assert [await next_epoch(store, "t") for _ in range(3)] == [1, 2, 3]
        assert await next_epoch(store, "other") == 1


async def _keys_of(deps: TableDeps, player_id: int) -> list[str]:
    records = await deps.store.ledger_history(wallet(player_id), None, 50)
    return sorted(r.key for r in records if r.kind in ("buy_in", "cash_out"))


async def test_a_table_restarted_from_the_store_keeps_its_epoch(
    tmp_path: Path,
) -> None:
    async with stored_tables(tmp_path) as deps:
        await next_epoch(deps.store, "kept")  # an earlier, closed table had epoch 1
        with trio.CancelScope() as process:
            async with game_tree(deps, lobby=False) as session:
                table = await session.open_table(nlhe("kept", between_hands_ms=60_000))
                await session.fund([1, 2])
                await table.ask(JoinSeat(player_id=1, buy_in=200))
                await deps.snapshots.flush()  # type: ignore[union-attr]
                process.cancel()
        async with game_tree(deps, lobby=False) as session:
            tables = session.runtime.registry.supervisor("tables")
            assert await start_tables(tables, deps, seeds=()) == ["kept"]
            table = session.runtime.registry.get("table:kept")
            await table.ask(JoinSeat(player_id=2, buy_in=200))
            await table.ask(StandUp(player_id=1))
            await session.assert_conserved(table)
        assert await _keys_of(deps, 1) == ["table:kept:2:buy_in:1", "table:kept:2:cash_out:3"]
        assert await _keys_of(deps, 2) == ["table:kept:2:buy_in:2"]


async def test_a_table_stored_before_epochs_pays_its_old_debts_then_takes_an_epoch(
    tmp_path: Path,
) -> None:
    async with stored_tables(tmp_path) as deps:
        await deps.wallet.adjust("fund:1", wallet(1), FUNDS, "test funds")
        await deps.wallet.adjust("fund:2", wallet(2), FUNDS, "test funds")
        # What a table of the previous release left: a cash-out owed under a key without an
        # epoch (its buy-in was made under one too).
        await deps.wallet.buy_in("table:old:buy_in:1", 1, "table:old", 200)
        legacy = TableState(
            config=nlhe("old", between_hands_ms=60_000),
            seat_events=2,
            owed=[EscrowDebit("table:old:cash_out:2", "cash_out", 1, 200)],
            version=1,
        )
        assert legacy.epoch == 0
        stored = Snapshot(SNAPSHOT_KIND, "old", 1, encode_table_state(legacy))
        await deps.store.save_snapshots([stored])
        async with game_tree(deps, lobby=False) as session:
            tables = session.runtime.registry.supervisor("tables")
            assert await start_tables(tables, deps, seeds=()) == ["old"]
            table = session.runtime.registry.get("table:old")
            await table.ask(JoinSeat(player_id=2, buy_in=200))
            await session.assert_conserved(table)
        assert (await deps.wallet.balance(1)).balance == FUNDS  # paid under its own key
        assert await _keys_of(deps, 1) == ["table:old:buy_in:1", "table:old:cash_out:2"]
        assert await _keys_of(deps, 2) == ["table:old:1:buy_in:3"]
