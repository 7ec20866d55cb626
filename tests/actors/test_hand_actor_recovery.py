"""Crashes mid-hand: a crashed hand actor resumes from its snapshot and finishes the hand; a
crashed table (or a new process loading the stored table) voids the running hand. Either
way no chip is lost: stacks against escrow, and the whole ledger, checked after every hand."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import trio

from actors.hand import HandActor
from actors.seed_tables import start_tables
from actors.table.deps import TableDeps
from actors.table.hands import RunningHands
from actors.table.messages import (
    AddWatcher,
    HandAct,
    HandMessage,
    PlayerAct,
)
from persistence import open_store
from persistence.snapshot_writer import SnapshotWriter
from protocol import game
from services.ledger import RAKE, house_account
from services.wallet import Wallet
from tests.actors.test_table_fakes import (
    Bots,
    RecordingChannel,
    drive,
    game_tree,
    nlhe,
    running_game,
    sqlite_url,
)

WATCHER = 999


class Boom(RuntimeError):
    """An injected bug."""


async def test_crashed_hand_actor_resumes_the_hand_with_no_chip_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = HandActor.handle
    acts = 0

    async def crash_on_seventh_act(self: HandActor, message: HandMessage) -> object:
        nonlocal acts
        if isinstance(message, HandAct):
            acts += 1
            if acts == 7:
                raise Boom("injected crash in the hand actor")
        return await handle(self, message)

    monkeypatch.setattr(HandActor, "handle", crash_on_seventh_act)
    async with running_game(sqlite_url(tmp_path), seed=8) as session:
        table = await session.open_table(nlhe("crash", between_hands_ms=10))
        await session.fund(range(1, 5))
        stream = session.channel.stream()
        seats = await session.seat_all(table, range(1, 5), buy_in=200)
        await table.ask(AddWatcher(player_id=WATCHER))
        bots = Bots(table, "crash", seats, random.Random(8), refill=200)
        ended: list[int] = []

        async def until(player_id: int, body: game.GamePush) -> bool:
            if player_id == WATCHER and isinstance(body, game.HandEnded):
                ended.append(body.hand_number)
                await session.assert_conserved(table)
            return len(ended) >= 10

        await drive(session, bots, stream, until)
        assert acts > 7
        assert "hand_restarting" in bots.refused  # the act that crashed it was refused
        assert ended == list(range(1, 11))  # every hand finished, none voided
        assert not session.channel.of(WATCHER, game.HandVoided)
        summaries = await session.store.hands_by_table("crash")
        assert len(summaries) == 10


async def test_crashed_table_voids_the_running_hand_and_refunds_every_chip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The table's running hand takes the action inside the table actor's turn (RunningHands
    # is a field of TableActor): raising there crashes the table actor.
    act = RunningHands.act
    calls = 0

    async def crash_on_fifth_act(self: RunningHands, message: PlayerAct) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise Boom("injected crash in the table actor")
        await act(self, message)

    monkeypatch.setattr(RunningHands, "act", crash_on_fifth_act)
    async with running_game(sqlite_url(tmp_path), seed=9) as session:
        table = await session.open_table(nlhe("void", between_hands_ms=10))
        await session.fund(range(1, 5))
        stream = session.channel.stream()
        # Watch before anyone sits: the first hand may start as soon as two are seated, and
        # the watcher must see its hand_started (a slow machine once dealt it first).
        await table.ask(AddWatcher(player_id=WATCHER))
        seats = await session.seat_all(table, range(1, 5), buy_in=200)
        bots = Bots(table, "void", seats, random.Random(9), refill=200)
        started: dict[int, game.HandStarted] = {}
        voided: list[game.HandVoided] = []
        ended: list[int] = []

        async def until(player_id: int, body: game.GamePush) -> bool:
            if player_id != WATCHER:
                return False
            if isinstance(body, game.HandStarted):
                started[body.hand_number] = body
            elif isinstance(body, game.HandVoided):
                voided.append(body)
                await session.assert_conserved(table)
            elif isinstance(body, game.HandEnded):
                ended.append(body.hand_number)
                await session.assert_conserved(table)
            return len(ended) >= 3 and bool(voided)

        await drive(session, bots, stream, until)
        (void,) = voided
        before = started[void.hand_number]
        # Every stack is back to what it was when the voided hand started.
        assert dict(zip(void.seats, void.stacks, strict=True)) == dict(
            zip(before.seats, before.stacks, strict=True)
        )
        assert void.hand_number not in ended
        assert max(ended) > void.hand_number  # play went on after the restart
        history = await session.store.get_hand(f"void:1:{void.hand_number}")
        assert history is None  # a voided hand has no history


async def test_table_loaded_from_the_store_voids_the_hand_it_was_running(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    async with open_store(url) as store:
        writer = SnapshotWriter(store, flush_interval_ms=1)
        channel = RecordingChannel()
        deps = TableDeps(
            store=store, wallet=Wallet(store), channel=channel, rng=random.Random(10),
            snapshots=writer,
        )  # fmt: skip
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.run)
            # First process: play until hand 3 is dealt, then stop everything mid-hand.
            async with game_tree(deps) as session:
                table = await session.open_table(nlhe("saved", between_hands_ms=10))
                await session.fund(range(1, 4))
                stream = channel.stream()
                seats = await session.seat_all(table, range(1, 4), buy_in=200)
                bots = Bots(table, "saved", seats, random.Random(10))
                dealt: list[game.HandStarted] = []

                def until(player_id: int, body: Any) -> bool:
                    if isinstance(body, game.HandStarted) and player_id == seats[min(seats)]:
                        dealt.append(body)
                    return len(dealt) >= 3

                await drive(session, bots, stream, until)
                running = dealt[-1]
            await writer.flush()
            channel.bodies.clear()
            # Second process: the table comes back from its stored snapshot.
            async with game_tree(deps) as session:
                tables = session.runtime.registry.supervisor("tables")
                assert await start_tables(tables, deps, seeds=()) == ["saved"]
                table = session.runtime.registry.get("table:saved")
                void = channel.of(seats[min(seats)], game.HandVoided)
                assert [v.hand_number for v in void] == [running.hand_number]
                assert dict(zip(void[0].seats, void[0].stacks, strict=True)) == dict(
                    zip(running.seats, running.stacks, strict=True)
                )
                await session.assert_conserved(table)
                view = await session.seats(table)
                assert {s.seat: s.player_id for s in view.seats} == seats
            nursery.cancel_scope.cancel()


async def test_database_failure_while_paying_out_is_retried_once_by_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=12) as session:
        save_hand, take_rake = session.store.save_hand, session.wallet.take_rake
        failures = {"save_hand": 0, "take_rake": 0}

        async def flaky_save_hand(record: Any) -> bool:
            if record.hand_id == "payout:1:3" and not failures["save_hand"]:
                failures["save_hand"] += 1
                raise OSError("database went away")
            return await save_hand(record)

        async def flaky_take_rake(key: str, table_id: str, amount: int, **asset: Any) -> Any:
            record = await take_rake(key, table_id, amount, **asset)
            if not failures["take_rake"]:
                failures["take_rake"] += 1  # the transfer landed, the reply was lost
                raise OSError("connection reset")
            return record

        monkeypatch.setattr(session.store, "save_hand", flaky_save_hand)
        monkeypatch.setattr(session.wallet, "take_rake", flaky_take_rake)
        table = await session.open_table(nlhe("payout", between_hands_ms=10, rake_bp=1000))
        await session.fund(range(1, 5))
        stream = session.channel.stream()
        seats = await session.seat_all(table, range(1, 5), buy_in=200)
        await table.ask(AddWatcher(player_id=WATCHER))
        bots = Bots(table, "payout", seats, random.Random(12), refill=200)
        ended: list[int] = []

        async def until(player_id: int, body: game.GamePush) -> bool:
            if player_id == WATCHER and isinstance(body, game.HandEnded):
                ended.append(body.hand_number)
                await session.assert_conserved(table)
            return len(ended) >= 8

        await drive(session, bots, stream, until)
        await session.assert_conserved(table)  # after the last hand's settlement too
        assert failures == {"save_hand": 1, "take_rake": 1}
        assert not session.channel.of(WATCHER, game.HandVoided)
        summaries = await session.store.hands_by_table("payout")
        assert sorted(s.hand_id for s in summaries)[:3] == [
            "payout:1:1",
            "payout:1:2",
            "payout:1:3",
        ]
        rake_paid = sum(s.rake for s in summaries)
        rake_account = await session.store.ledger_account(house_account(RAKE))
        assert rake_account is not None and rake_account.balance == rake_paid


async def test_hand_that_keeps_crashing_is_voided_by_its_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = HandActor.handle
    broken_hand = 2

    async def always_crash_in_hand_two(self: HandActor, message: HandMessage) -> object:
        if isinstance(message, HandAct) and self.setup.hand_number == broken_hand:
            raise Boom("injected crash on every act of hand 2")
        return await handle(self, message)

    monkeypatch.setattr(HandActor, "handle", always_crash_in_hand_two)
    async with running_game(sqlite_url(tmp_path), seed=13) as session:
        table = await session.open_table(nlhe("escalate", between_hands_ms=10))
        await session.fund(range(1, 4))
        stream = session.channel.stream()
        seats = await session.seat_all(table, range(1, 4), buy_in=200)
        await table.ask(AddWatcher(player_id=WATCHER))
        bots = Bots(table, "escalate", seats, random.Random(13))

        async def until(player_id: int, body: game.GamePush) -> bool:
            if player_id == WATCHER and isinstance(body, game.HandVoided | game.HandEnded):
                await session.assert_conserved(table)
                return isinstance(body, game.HandEnded) and body.hand_number > broken_hand
            return False

        await drive(session, bots, stream, until)
        # Past its restart intensity the hand escalated into the table, which restarted
        # and voided it; the next hand was dealt and finished normally.
        voided = session.channel.of(WATCHER, game.HandVoided)
        assert [v.hand_number for v in voided] == [broken_hand]
        assert bots.refused.count("hand_restarting") >= 3
