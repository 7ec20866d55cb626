"""Operator controls: open (stored, so recovered after a restart), pause, resume, close (after
the running hand: everyone cashed out, listing dropped, snapshot deleted, never recovered),
and the detail view."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import trio

from actors.lobby import LobbyActor
from actors.runtime import ChildSpec, Runtime, Strategy, SupervisionPolicy, wait_down
from actors.seed_tables import start_tables
from actors.table.admin import (
    close_table,
    open_table,
    pause_table,
    resume_table,
    table_detail,
    tombstone_id,
)
from actors.table.deps import TableDeps
from actors.table.messages import (
    GameRefused,
    JoinSeat,
    ListTablesQuery,
)
from persistence import open_store
from persistence.snapshot_writer import SnapshotWriter
from protocol import game
from services.ledger import escrow
from services.wallet import Wallet
from tests.actors.test_table_fakes import (
    FUNDS,
    Bots,
    RecordingChannel,
    nlhe,
    running_game,
    sqlite_url,
)

Stream = trio.MemoryReceiveChannel[tuple[int, game.GamePush]]


async def _play_until(stream: Stream, bots: Bots, done: Any) -> None:
    """Bots answer prompts until ``done(player_id, body)``; later bodies stay in ``stream``."""
    async with trio.open_nursery() as nursery:
        async for player_id, body in stream:
            if done(player_id, body):
                nursery.cancel_scope.cancel()
                return
            if bots.wants(body):
                nursery.start_soon(bots.act_on, player_id, body)


async def test_pause_lets_the_running_hand_finish_and_starts_no_new_one(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=3) as session:
        registry = session.runtime.registry
        table = await session.open_table(nlhe("p1", between_hands_ms=100))
        await session.fund([1, 2])
        stream = session.channel.stream()
        seats = await session.seat_all(table, [1, 2], buy_in=200)
        bots = Bots(table, "p1", seats, random.Random(3))
        await _play_until(stream, bots, lambda _p, b: isinstance(b, game.HandStarted))
        paused = await pause_table(registry, "p1")
        assert paused.status == "paused" and paused.seats.hand_number == 1
        assert session.channel.of(1, game.TableStatusChanged)[-1].status == "paused"
        await _play_until(stream, bots, lambda _p, b: isinstance(b, game.HandEnded))
        # Five times the pause between hands (real clock: the store's thread would let an
        # autojump clock time the asks out): nothing starts.
        await trio.sleep(0.5)
        detail = await table_detail(registry, "p1")
        assert detail.seats.hand_number == 0 and detail.seats.hands_played == 1
        assert len(session.channel.of(1, game.HandStarted)) == 1
        resumed = await resume_table(registry, "p1")
        assert resumed.status == "open"
        await _play_until(stream, bots, lambda _p, b: isinstance(b, game.HandStarted))
        assert len(session.channel.of(1, game.HandStarted)) == 2
        await session.assert_conserved(table)


async def test_close_after_the_hand_cashes_everyone_out_and_stops_for_good(
    tmp_path: Path,
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=5) as session:
        registry = session.runtime.registry
        lobby = registry.get("lobby")
        table = await session.open_table(nlhe("c1", between_hands_ms=10))
        await session.fund([1, 2, 3])
        stream = session.channel.stream()
        seats = await session.seat_all(table, [1, 2, 3], buy_in=150)
        bots = Bots(table, "c1", seats, random.Random(5))
        await _play_until(stream, bots, lambda _p, b: isinstance(b, game.HandStarted))
        closing = await close_table(registry, "c1")
        assert closing.status == "closing" and closing.seats.hand_number == 1
        assert "c1" not in [t.table_id for t in await lobby.ask(ListTablesQuery())]
        with pytest.raises(GameRefused) as refused:
            await table.ask(JoinSeat(player_id=4, buy_in=100))
        assert refused.value.code == "table_closing"
        await _play_until(
            stream,
            bots,
            lambda p, b: p == 1 and isinstance(b, game.TableStatusChanged) and b.status == "closed",
        )
        with trio.fail_after(5):
            down = await wait_down(table)
        assert down.reason == "normal"  # it stopped itself: a close, not a crash
        assert "table:c1" not in registry
        total = sum([(await session.wallet.balance(p)).balance for p in (1, 2, 3)])
        rake = sum(s.rake for s in await session.store.hands_by_table("c1", limit=10))
        assert total + rake == 3 * FUNDS  # every chip back in a wallet, less the rake
        account = await session.store.ledger_account(escrow("table:c1"))
        assert account is not None and account.balance == 0
        assert (await session.wallet.audit()).consistent
        with pytest.raises(GameRefused) as gone:
            await table_detail(registry, "c1")
        assert gone.value.code == "no_such_table"


async def test_close_idle_table_is_immediate_and_reports_closed(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=6) as session:
        registry = session.runtime.registry
        table = await session.open_table(nlhe("c2", between_hands_ms=60_000))
        await session.fund([1])
        await session.seat_all(table, [1], buy_in=100)
        detail = await close_table(registry, "c2")
        assert detail.status == "closed" and detail.seats.seats == ()
        assert detail.escrow_balance == 0 and detail.owed_chips == 0
        assert (await session.wallet.balance(1)).balance == FUNDS


async def test_detail_shows_config_seats_and_escrow(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=7) as session:
        table = await session.open_table(nlhe("d1", between_hands_ms=60_000))
        await session.fund([1, 2])
        await session.seat_all(table, [1, 2], buy_in=120)
        detail = await table_detail(session.runtime.registry, "d1")
        assert detail.config.table_id == "d1" and detail.status == "open"
        assert [(s.player_id, s.stack) for s in detail.seats.seats] == [(1, 120), (2, 120)]
        assert detail.escrow_balance == 240 and detail.seats.hand_number == 0
        with pytest.raises(GameRefused) as missing:
            await table_detail(session.runtime.registry, "nope")
        assert missing.value.code == "no_such_table"


async def _with_tree(deps: TableDeps, writer: SnapshotWriter, body: Any) -> None:
    runtime = Runtime(
        [
            ChildSpec.service("persistence", writer.run),
            ChildSpec.worker("lobby", lambda: LobbyActor(deps)),
            ChildSpec.supervisor("tables", policy=SupervisionPolicy(intensity=5)),
        ],
        policy=SupervisionPolicy(strategy=Strategy.ONE_FOR_ONE),
        metrics_registry=None,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        try:
            await body(runtime)
        finally:
            await writer.flush()
            runtime.stop()


async def test_opened_table_is_recovered_and_closed_seed_is_not_reopened(tmp_path: Path) -> None:
    seeds = (nlhe("seed-a", between_hands_ms=60_000), nlhe("seed-b", between_hands_ms=60_000))
    async with open_store(sqlite_url(tmp_path)) as store:
        for run in range(2):
            writer = SnapshotWriter(store)
            deps = TableDeps(
                store=store, wallet=Wallet(store), channel=RecordingChannel(),
                rng=random.Random(run), snapshots=writer,
            )  # fmt: skip

            async def first(runtime: Runtime, deps: TableDeps = deps) -> None:
                started = await start_tables(runtime.registry.supervisor("tables"), deps, seeds)
                assert sorted(started) == ["seed-a", "seed-b"]
                assert await open_table(runtime.registry, nlhe("made")) == "made"
                with pytest.raises(GameRefused) as exists:
                    await open_table(runtime.registry, nlhe("made"))
                assert exists.value.code == "table_exists"
                assert (await close_table(runtime.registry, "seed-b")).status == "closed"

            async def second(runtime: Runtime, deps: TableDeps = deps) -> None:
                started = await start_tables(runtime.registry.supervisor("tables"), deps, seeds)
                assert sorted(started) == ["made", "seed-a"]  # made: recovered; seed-b: closed
                lobby = runtime.registry.get("lobby")
                with trio.fail_after(5):
                    # Tables tell the lobby their listing: poll it (no event to wait on).
                    while len(await lobby.ask(ListTablesQuery())) < 2:  # noqa: ASYNC110
                        await trio.sleep(0.01)
                listed = [t.table_id for t in await lobby.ask(ListTablesQuery())]
                assert listed == ["made", "seed-a"]

            await _with_tree(deps, writer, first if run == 0 else second)
        assert await store.load_snapshot("seed-b") is None
        assert await store.load_snapshot(tombstone_id("seed-b")) is not None


@pytest.mark.parametrize(
    "bad",
    [
        {"table_id": "a:b"},  # would break actor names and ledger accounts
        {"table_id": "x" * 49},
        {"name": ""},
        {"action_timeout_ms": 0},
        {"between_hands_ms": -1},
        {"rake_bp": 10_001},
        {"time_bank_ms": 70_000, "time_bank_max_ms": 60_000},
        {"wait_list_max": -1},
    ],
)
def test_a_config_a_table_cannot_live_with_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        nlhe(**bad)
