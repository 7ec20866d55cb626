"""A buy-in or top-up interrupted between the ledger and the table's snapshot: the table
writes its intent to the store before the transfer, so a restart (in process or a new one)
finishes it under the same key. The player ends up either seated with the chips they paid or
not seated and not charged; escrow and the ledger always agree."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from actors.runtime import ActorCrashed
from actors.seed_tables import start_tables
from actors.table.deps import TableDeps
from actors.table.messages import (
    JoinSeat,
    TopUpChips,
)
from persistence import open_store
from persistence.snapshot_writer import SnapshotWriter
from services.ledger import wallet
from services.wallet import Wallet
from tests.actors.test_table_fakes import (
    FUNDS,
    Game,
    RecordingChannel,
    game_tree,
    nlhe,
    running_game,
    sqlite_url,
)


def lose_the_first_reply(session: Game, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first buy-in transfer lands in the ledger, then its reply is lost (the table
    crashes). Returns the keys of the transfers that landed."""
    buy_in = session.wallet.buy_in
    landed: list[str] = []

    async def flaky(key: str, *args: Any, **kwargs: Any) -> Any:
        record = await buy_in(key, *args, **kwargs)
        landed.append(key)
        if len(landed) == 1:
            raise OSError("connection reset after the commit")
        return record

    monkeypatch.setattr(session.wallet, "buy_in", flaky)
    return landed


async def test_buy_in_whose_reply_was_lost_seats_the_player_after_the_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=41, lobby=False) as session:
        table = await session.open_table(nlhe("lost", between_hands_ms=60_000))
        await session.fund([1])
        landed = lose_the_first_reply(session, monkeypatch)
        with pytest.raises(ActorCrashed):
            await table.ask(JoinSeat(player_id=1, buy_in=200))
        # The restarted table made the transfer again under its key: a replay, not a move.
        view = await session.seats(table)
        assert [(s.player_id, s.stack) for s in view.seats] == [(1, 200)]
        assert landed == [landed[0], landed[0]]
        assert (await session.wallet.balance(1)).balance == FUNDS - 200
        assert (await session.assert_conserved(table)).escrow_balance == 200


async def test_top_up_whose_reply_was_lost_is_added_once_after_the_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=42, lobby=False) as session:
        table = await session.open_table(nlhe("lost", between_hands_ms=60_000))
        await session.fund([1])
        await table.ask(JoinSeat(player_id=1, buy_in=100))
        landed = lose_the_first_reply(session, monkeypatch)
        with pytest.raises(ActorCrashed):
            await table.ask(TopUpChips(player_id=1, amount=150))
        view = await session.seats(table)
        assert [(s.player_id, s.stack) for s in view.seats] == [(1, 250)]
        assert len(set(landed)) == 1
        assert (await session.wallet.balance(1)).balance == FUNDS - 250
        assert (await session.assert_conserved(table)).escrow_balance == 250


@asynccontextmanager
async def stored_tables(tmp_path: Path) -> AsyncIterator[TableDeps]:
    async with open_store(sqlite_url(tmp_path)) as store:
        writer = SnapshotWriter(store, flush_interval_ms=1)
        deps = TableDeps(
            store=store, wallet=Wallet(store), channel=RecordingChannel(), rng=random.Random(43),
            snapshots=writer,
        )  # fmt: skip
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.run)
            yield deps
            nursery.cancel_scope.cancel()


async def die_during_buy_in(
    deps: TableDeps, monkeypatch: pytest.MonkeyPatch, *, lands: bool
) -> None:
    """First process: player 1 buys in; the process dies after the transfer committed
    (``lands``) or before it reached the ledger. Nothing after that point runs."""
    buy_in = deps.wallet.buy_in
    reached = trio.Event()

    async def dies(*args: Any, **kwargs: Any) -> Any:
        if lands:
            await buy_in(*args, **kwargs)
        reached.set()
        await trio.sleep_forever()

    with trio.CancelScope() as process:
        async with game_tree(deps, lobby=False) as session:
            table = await session.open_table(nlhe("died", between_hands_ms=60_000))
            await session.fund([1])
            monkeypatch.setattr(deps.wallet, "buy_in", dies)
            session.nursery.start_soon(table.ask, JoinSeat(player_id=1, buy_in=300))
            await reached.wait()
            process.cancel()  # killed: no reply, no further snapshot, no cleanup
    monkeypatch.undo()


async def restart(deps: TableDeps) -> tuple[list[tuple[int, int]], int]:
    """Second process: the table comes back from the store. Returns (player, stack) seated
    and player 1's wallet balance, after checking escrow against the stacks."""
    async with game_tree(deps, lobby=False) as session:
        tables = session.runtime.registry.supervisor("tables")
        assert await start_tables(tables, deps, seeds=()) == ["died"]
        table = session.runtime.registry.get("table:died")
        await session.assert_conserved(table)
        view = await session.seats(table)
        return [(s.player_id, s.stack) for s in view.seats], (await deps.wallet.balance(1)).balance


async def test_buy_in_committed_before_the_process_died_is_seated_on_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with stored_tables(tmp_path) as deps:
        await die_during_buy_in(deps, monkeypatch, lands=True)
        assert (await deps.wallet.balance(1)).balance == FUNDS - 300  # chips in escrow
        assert await restart(deps) == ([(1, 300)], FUNDS - 300)


async def test_buy_in_the_ledger_refuses_after_the_restart_seats_nobody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with stored_tables(tmp_path) as deps:
        await die_during_buy_in(deps, monkeypatch, lands=False)
        # Meanwhile the wallet was emptied: finishing the buy-in is refused, so it never was.
        await deps.wallet.adjust("drain", wallet(1), -FUNDS, "spent elsewhere")
        assert await restart(deps) == ([], 0)
