"""A director's cancel: before the start every entry gets back all it paid; in the middle,
places decided keep their prizes, the pool left goes to the players still in by their
chips, every fee comes back, and the prize pool ends at exactly zero."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
import trio
import trio.testing

from actors.tournament_messages import (
    CancelTournament,
    GetResults,
    RegisterPlayer,
    RemoveEntry,
    Results,
    StartTournament,
    TournamentRefusal,
    TournamentSpec,
)
from poker.tournament import preset
from protocol import tournaments as wire
from tests.actors.test_table_fakes import sqlite_url
from tests.e2e.clock import autojump_between_threads
from tests.tournaments.harness import FUNDS, tournament_room

PLAYERS = list(range(1, 9))


def spec() -> TournamentSpec:
    structure = msgspec.structs.replace(preset("hyper"), name="cancel", starting_stack=2_000)
    return TournamentSpec(
        name="Cancelled", kind="mtt", structure=structure, buy_in=100, fee=10,
        seats_per_table=4, starts_at_ms=2**62, action_timeout_ms=5_000, between_hands_ms=0,
    )  # fmt: skip


async def test_cancel_before_the_start_refunds_every_entry(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=31) as room:
        await room.fund(PLAYERS)
        tid = await room.create(spec())
        actor = room.tournament(tid)
        for player in PLAYERS:
            await actor.ask(RegisterPlayer(player_id=player))
        assert await room.pool(tid) == 800
        # A director's removal before the start with a refund (without one:
        # test_directors_live.py).
        await actor.ask(RemoveEntry(entry=8, refund=True))
        assert await room.balance(8) == FUNDS and await room.pool(tid) == 700
        await actor.ask(CancelTournament(reason="test"))
        for player in PLAYERS:
            assert await room.balance(player) == FUNDS
        assert await room.pool(tid) == 0
        with pytest.raises(TournamentRefusal) as refused:
            await actor.ask(RegisterPlayer(player_id=1))
        assert refused.value.code == "tournament_not_running"


async def test_cancel_in_the_middle_shares_the_pool_by_chips_and_returns_the_fees(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=32) as room:
        room.think_s = 2.0
        await room.fund(PLAYERS)
        tid = await room.create(spec())
        actor = room.tournament(tid)
        for player in PLAYERS:
            await actor.ask(RegisterPlayer(player_id=player))
        await actor.ask(StartTournament())
        stream = room.channel.stream()
        out: list[int] = []

        def until(player: int, body: object) -> bool:
            if isinstance(body, wire.TournamentEliminated):
                out.append(body.entry)
            return len(out) >= 2

        await room.play(stream, until)
        await actor.ask(CancelTournament(reason="server maintenance"))
        assert room.checks.failures == []
        assert await room.pool(tid) == 0
        balances = [await room.balance(player) for player in PLAYERS]
        assert sum(balances) == FUNDS * len(PLAYERS)  # every chip and every fee came back
        results = await actor.ask(GetResults())
        assert isinstance(results, Results) and results.state == "cancelled"
        cancelled = [
            b for p in PLAYERS for b in room.channel.of(p, wire.TournamentStateChanged)
            if b.event == "cancelled"
        ]  # fmt: skip
        assert len(cancelled) >= len(PLAYERS) - len(out)
