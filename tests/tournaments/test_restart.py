"""A tournament stopped in the middle (the whole runtime gone, as after kill -9: nothing but
the store is left) resumes on a new runtime at the same level, with the clock it had and every
stack and entry as stored; then it plays on to a winner and empties its prize pool."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
import trio
import trio.lowlevel
import trio.testing

from actors.table.messages import TableHandEnded
from actors.tournament import TournamentActor
from actors.tournament_messages import (
    GetResults,
    GetStandings,
    GetTournament,
    ListTournaments,
    RegisterPlayer,
    Results,
    Standings,
    StartTournament,
    TournamentDetails,
    TournamentSpec,
)
from poker.tournament import preset
from protocol import tournaments as wire
from tests.actors.test_table_fakes import sqlite_url
from tests.e2e.clock import autojump_between_threads
from tests.tournaments.harness import tournament_room

PLAYERS = list(range(1, 9))


async def test_a_restart_keeps_the_level_the_clock_and_every_stack(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    structure = msgspec.structs.replace(preset("hyper"), name="restart", starting_stack=2_000)
    spec = TournamentSpec(
        name="Restart", kind="mtt", structure=structure, buy_in=100, fee=10,
        seats_per_table=4, starts_at_ms=2**62, action_timeout_ms=5_000, between_hands_ms=0,
    )  # fmt: skip
    url = sqlite_url(tmp_path)
    async with tournament_room(url, seed=21) as room:
        room.think_s = 2.0
        await room.fund(PLAYERS)
        tid = await room.create(spec)
        actor = room.tournament(tid)
        for player in PLAYERS:
            await actor.ask(RegisterPlayer(player_id=player))
        await actor.ask(StartTournament())
        stream = room.channel.stream()
        levels: list[int] = []

        def until(player: int, body: object) -> bool:
            if isinstance(body, wire.TournamentStateChanged) and body.event == "level":
                assert body.level is not None
                levels.append(body.level.level)
            return bool(levels) and levels[-1] >= 3

        await room.play(stream, until)
        before = await actor.ask(GetTournament())
        standings_before = await actor.ask(GetStandings(limit=100))
        assert isinstance(before, TournamentDetails) and isinstance(standings_before, Standings)
        assert before.level is not None and before.level.level >= 3
    # Everything in memory is gone; a new runtime on the same database.
    async with tournament_room(url, seed=22) as room:
        restarted_at = trio.current_time()
        room.think_s = 2.0
        stream = room.channel.stream()  # the seats are pushed again after the restart
        # The directory re-opens stored tournaments once started (a message before this).
        await room.directory.ask(ListTournaments())
        actor = room.tournament(tid)
        after = await actor.ask(GetTournament())
        standings_after = await actor.ask(GetStandings(limit=100))
        assert isinstance(after, TournamentDetails) and isinstance(standings_after, Standings)
        assert after.summary.state == "running"
        assert after.level == before.level  # the same level ...
        # ... with the time it had left at its last stored step, less only what has passed
        # since the restart (the time the runtime was down does not count).
        since_ms = int((trio.current_time() - restarted_at) * 1000) + 1
        assert before.level_remaining_ms - since_ms <= after.level_remaining_ms
        assert after.level_remaining_ms <= before.level_remaining_ms + 60_000
        assert [(s.entry, s.status, s.stack) for s in standings_after.lines] == [
            (s.entry, s.status, s.stack) for s in standings_before.lines
        ]
        finished: list[int] = []

        def done(player: int, body: object) -> bool:
            if isinstance(body, wire.TournamentStateChanged) and body.event == "finished":
                finished.append(player)
            return bool(finished)

        await room.play(stream, done)
        assert room.checks.failures == []
        results = await actor.ask(GetResults())
        assert isinstance(results, Results) and results.state == "finished"
        assert results.paid == 100 * len(PLAYERS)
        assert await room.pool(tid) == 0


async def test_a_hand_report_told_while_the_actor_restarts_alone_counts(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tournament actor crashes alone (its runtime lives on) while its table plays a hand;
    the table's ``TableHandEnded`` waits in the mailbox (which outlives a restart) while
    ``started`` runs. The restart reads it before voiding anything: the hand counts, every
    stack is the one the table reported."""
    autojump_between_threads(autojump_clock, monkeypatch)
    reports: list[TableHandEnded] = []
    hand_ended = TournamentActor._hand_ended
    started = TournamentActor.started

    async def recorded(self: TournamentActor, message: TableHandEnded) -> None:
        reports.append(message)
        await hand_ended(self, message)

    back = trio.Event()

    async def restarted(self: TournamentActor) -> None:
        if self.context.incarnation > 0:  # down until the table has told its report
            while self.context.ref.depth == 0:  # noqa: ASYNC110 (a mailbox has no event)
                await trio.sleep(0.1)
        await started(self)
        if self.context.incarnation > 0:
            back.set()

    monkeypatch.setattr(TournamentActor, "_hand_ended", recorded)
    monkeypatch.setattr(TournamentActor, "started", restarted)
    spec = TournamentSpec(
        name="Alone", kind="mtt", preset="hyper", buy_in=100, fee=10, seats_per_table=4,
        starts_at_ms=2**62, action_timeout_ms=5_000, between_hands_ms=0,
    )  # fmt: skip
    async with tournament_room(sqlite_url(tmp_path), seed=23) as room:
        room.think_s = 2.0
        await room.fund(PLAYERS[:4])
        tid = await room.create(spec)
        actor = room.tournament(tid)
        for player in PLAYERS[:4]:
            await actor.ask(RegisterPlayer(player_id=player))
        stream = room.channel.stream()
        await actor.ask(StartTournament())
        async with trio.open_nursery() as bots:
            bots.start_soon(room.play, stream, lambda player, body: False)
            await trio.sleep(1)  # the first hand is dealt; each decision takes 2 s
            details = await actor.ask(GetTournament())
            assert isinstance(details, TournamentDetails)
            assert [t.in_hand for t in details.tables] == [True] and not reports
            actor.tell("not a tournament message")  # type: ignore[arg-type]  # crashes it
            await back.wait()
            standings = await actor.ask(GetStandings(limit=10), timeout_s=600)
            assert isinstance(standings, Standings)
            (report,) = reports[:1]
            assert report.hand_number == 1
            # Counted, not voided: the stacks are the table's after the hand (the blinds moved).
            after = {line.player_id: line.stack for line in standings.lines}
            assert after == dict(report.stacks) and set(after.values()) != {spec_stack()}
            bots.cancel_scope.cancel()
        assert room.checks.failures == []


def spec_stack() -> int:
    return preset("hyper").starting_stack
