"""Directors' operations on a live tournament (the messages the admin routes send): move an
entry between hands with its stack exactly, remove a playing entry with a refund (undone:
its money back) or without (disqualified: out now), remove an entry before the start
without a refund (its buy-in stays prize money; a cancel gives that back too). The live
tables always seat what the core holds; chips are conserved after every step; the pool
ends at 0 and the ledger audit holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
import trio.testing

from actors.tournament_messages import (
    BreakTable,
    CancelTournament,
    GetResults,
    GetTournament,
    MoveEntry,
    RegisterPlayer,
    RemoveEntry,
    Results,
    ResumeClock,
    StartTournament,
    TournamentRefusal,
    TournamentSpec,
)
from persistence import outbox
from poker.tournament import preset
from protocol import tournaments as wire
from tests.actors.test_table_fakes import sqlite_url
from tests.e2e.clock import autojump_between_threads
from tests.tournaments.harness import (
    FUNDS,
    Room,
    hold_between_hands,
    standings_lines,
    tables_agree,
    tournament_room,
)

PLAYERS = list(range(1, 9))
BUY_IN, FEE = 100, 10


def _spec() -> TournamentSpec:
    structure = msgspec.structs.replace(
        preset("hyper"), name="directors", starting_stack=1_000, late_registration_levels=3
    )
    return TournamentSpec(
        name="Directors", kind="mtt", structure=structure, buy_in=BUY_IN, fee=FEE,
        seats_per_table=6, starts_at_ms=2**62, action_timeout_ms=5_000, between_hands_ms=0,
    )  # fmt: skip


async def test_directors_move_and_remove_playing_entries_and_the_tournament_ends_clean(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=61) as room:
        room.think_s = 1.0
        await room.fund(PLAYERS)
        tid = await room.create(_spec())
        actor = room.tournament(tid)
        stream = room.channel.stream()
        for player in PLAYERS:
            await actor.ask(RegisterPlayer(player_id=player))
        await actor.ask(StartTournament())
        await hold_between_hands(room, actor, stream, bots=False)  # nobody busts before it
        lines = await standings_lines(actor)
        chips = sum(line.stack for line in lines.values())
        tables = sorted({line.table_id for line in lines.values() if line.table_id})
        assert len(tables) == 2
        # Move: an entry of the first table to the second, its stack exactly.
        mover = next(line for line in lines.values() if line.table_id == tables[0])
        details = await actor.ask(GetTournament())
        target = next(t.table for t in details.tables if t.table_id != mover.table_id)
        await actor.ask(MoveEntry(entry=mover.entry, table=target))
        after = await standings_lines(actor)
        assert after[mover.entry].stack == mover.stack
        assert sum(line.stack for line in after.values()) == chips
        pushed = room.channel.of(mover.player_id, wire.TournamentMoved)
        assert [(m.reason, m.stack) for m in pushed][-1:] == [("director", mover.stack)]
        await tables_agree(room, tid, actor)
        # Refused: to a table that is not there; nothing changes.
        with pytest.raises(TournamentRefusal) as refused:
            await actor.ask(MoveEntry(entry=mover.entry, table=9))
        assert refused.value.code == "table_refused"
        # Remove with a refund while the prizes are open: undone, all paid back.
        refunded = next(line for line in after.values() if line.entry != mover.entry)
        await actor.ask(RemoveEntry(entry=refunded.entry, refund=True))
        assert await room.balance(refunded.player_id) == FUNDS
        assert await room.pool(tid) == BUY_IN * (len(PLAYERS) - 1)
        # Remove without a refund: disqualified, out now, its chips out of play.
        lines = await standings_lines(actor)
        dq = next(
            line for line in lines.values()
            if line.status == "playing" and line.entry not in (mover.entry, refunded.entry)
        )  # fmt: skip
        await actor.ask(RemoveEntry(entry=dq.entry, refund=False))
        lines = await standings_lines(actor)
        assert lines[dq.entry].status == "out"
        remaining = chips - refunded.stack - dq.stack
        assert sum(line.stack for line in lines.values()) == remaining
        assert await room.balance(dq.player_id) == FUNDS - BUY_IN - FEE
        assert await _removals(room) == [
            {"tournament_id": tid, "player_id": refunded.player_id, "entry": refunded.entry,
             "refunded": BUY_IN + FEE, "disqualified": False},
            {"tournament_id": tid, "player_id": dq.player_id, "entry": dq.entry,
             "refunded": 0, "disqualified": True},
        ]  # fmt: skip
        await tables_agree(room, tid, actor)
        # Six left fit in one table: the core broke the other; nothing left to break.
        details = await actor.ask(GetTournament())
        assert len(details.tables) == 1
        with pytest.raises(TournamentRefusal):
            await actor.ask(BreakTable(table=details.tables[0].table))
        assert room.checks.failures == []
        # Play on to a winner.
        await actor.ask(ResumeClock())

        def finished(player: int, body: object) -> bool:
            return isinstance(body, wire.TournamentStateChanged) and body.event == "finished"

        await room.play(stream, finished)
        results = await actor.ask(GetResults())
        assert isinstance(results, Results) and results.state == "finished"
        assert room.checks.failures == []
        assert await room.pool(tid) == 0
        audit = await room.wallet.audit()
        assert audit.consistent, audit


async def test_a_removal_before_the_start_without_a_refund_keeps_the_buy_in_as_prizes(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=62) as room:
        await room.fund([1, 2, 3])
        tid = await room.create(_spec())
        actor = room.tournament(tid)
        for player in (1, 2, 3):
            await actor.ask(RegisterPlayer(player_id=player))
        await actor.ask(RemoveEntry(entry=2, refund=False))
        assert await room.balance(2) == FUNDS - BUY_IN - FEE
        assert await room.pool(tid) == 3 * BUY_IN
        details = await actor.ask(GetTournament())
        assert details.summary.entries == 2 and details.collected == 3 * BUY_IN
        assert await _removals(room) == [
            {"tournament_id": tid, "player_id": 2, "entry": 2, "refunded": 0,
             "disqualified": False},
        ]  # fmt: skip
        with pytest.raises(TournamentRefusal) as refused:  # once removed, not again
            await actor.ask(RemoveEntry(entry=2, refund=True))
        assert refused.value.code == "registration_refused"
        # A cancel before the start gives back every buy-in, the struck-out one's too
        # (its fee stays with the house).
        await actor.ask(CancelTournament())
        assert [await room.balance(p) for p in (1, 2, 3)] == [FUNDS, FUNDS - FEE, FUNDS]
        assert await room.pool(tid) == 0
        audit = await room.wallet.audit()
        assert audit.consistent, audit


async def _removals(room: Room) -> list[dict[str, Any]]:
    """The tournament.player_removed domain events written so far, oldest first."""
    events = await room.store.run(lambda: outbox.pending(1_000))
    return [json.loads(e.payload) for e in events if e.type == "tournament.player_removed"]


async def test_a_directors_table_break_moves_its_players_with_their_stacks_between_hands(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The core breaks a table itself as soon as the players fit in one fewer, except during
    hand-for-hand (TDA RP-8: tables are balanced after each round): that is when a director's
    break has work to do. Two tables of four, hand-for-hand from the start (registration
    closed, every place within ``hand_for_hand_from_bubble`` of the money); between hands two
    players of the first table are disqualified; the director breaks it: its last two players
    move to the other table with their stacks exactly, the table closes, every chip is still
    in play; then it plays to a winner, the pool ends at 0 and the ledger audit holds."""
    autojump_between_threads(autojump_clock, monkeypatch)
    structure = msgspec.structs.replace(
        preset("hyper"), name="break", starting_stack=1_000, late_registration_levels=0
    )
    spec = TournamentSpec(
        name="Break", kind="mtt", structure=structure, buy_in=BUY_IN, fee=FEE,
        seats_per_table=6, starts_at_ms=2**62, action_timeout_ms=5_000, between_hands_ms=0,
        hand_for_hand_from_bubble=len(PLAYERS),
    )  # fmt: skip
    async with tournament_room(sqlite_url(tmp_path), seed=63) as room:
        room.think_s = 1.0
        await room.fund(PLAYERS)
        tid = await room.create(spec)
        actor = room.tournament(tid)
        stream = room.channel.stream()
        for player in PLAYERS:
            await actor.ask(RegisterPlayer(player_id=player))
        await actor.ask(StartTournament())
        await hold_between_hands(room, actor, stream, bots=False)
        details = await actor.ask(GetTournament())
        assert details.hand_for_hand and len(details.tables) == 2
        lines = await standings_lines(actor)
        broken = details.tables[0]
        seated = [
            line for line in lines.values()
            if line.table_id == broken.table_id and line.status == "playing"
        ]  # fmt: skip
        # Refused while the other table lacks the seats for its players: nothing changes.
        with pytest.raises(TournamentRefusal) as refused:
            await actor.ask(BreakTable(table=broken.table))
        assert refused.value.code == "table_refused"
        assert await standings_lines(actor) == lines
        for line in seated[: len(seated) - 2]:
            await actor.ask(RemoveEntry(entry=line.entry, refund=False))
        lines = await standings_lines(actor)
        chips = sum(line.stack for line in lines.values())
        movers = {
            line.entry: line.stack for line in lines.values()
            if line.table_id == broken.table_id and line.status == "playing"
        }  # fmt: skip
        assert len(movers) == 2
        await actor.ask(BreakTable(table=broken.table))
        after = await standings_lines(actor)
        details = await actor.ask(GetTournament())
        assert [t.table_id for t in details.tables] == [details.tables[0].table_id]
        assert details.tables[0].table_id != broken.table_id
        for entry, stack in movers.items():
            assert after[entry].stack == stack
            assert after[entry].table_id == details.tables[0].table_id
            pushed = room.channel.of(after[entry].player_id, wire.TournamentMoved)
            assert [(m.from_table_id, m.stack) for m in pushed][-1:] == [(broken.table_id, stack)]
        assert sum(line.stack for line in after.values()) == chips
        assert room.runtime.registry.lookup(f"table:{broken.table_id}") is None
        await tables_agree(room, tid, actor)
        assert room.checks.failures == []
        await actor.ask(ResumeClock())

        def finished(player: int, body: object) -> bool:
            return isinstance(body, wire.TournamentStateChanged) and body.event == "finished"

        await room.play(stream, finished)
        results = await actor.ask(GetResults())
        assert isinstance(results, Results) and results.state == "finished"
        assert room.checks.failures == []
        assert await room.pool(tid) == 0
        audit = await room.wallet.audit()
        assert audit.consistent, audit
