"""The clock paused by a director holds every table after its hand; at the final table, with
the prizes final and no hand running, the players make an ICM deal: one proposal, every
player's yes, each paid their share at once, the event over, the pool exactly zero."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from actors.table.messages import GetSeats, TableSeats
from actors.tournament_messages import (
    AdjustStack,
    DealProposal,
    GetResults,
    GetStandings,
    GetTournament,
    PauseClock,
    ProposeDeal,
    RegisterPlayer,
    Results,
    ResumeClock,
    Standings,
    TournamentDetails,
    TournamentRefusal,
    TournamentSpec,
    VoteDeal,
)
from poker.tournament import DealKind
from protocol import game
from protocol import tournaments as wire
from tests.actors.test_table_fakes import sqlite_url
from tests.e2e.clock import autojump_between_threads
from tests.tournaments.harness import FUNDS, tournament_room

PLAYERS = [1, 2, 3]


async def test_a_paused_final_table_makes_an_icm_deal_and_everyone_is_paid(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=41) as room:
        room.think_s = 1.0
        await room.fund(PLAYERS)
        spec = TournamentSpec(
            name="Deal", kind="sng", preset="hyper-hands", buy_in=100, fee=10,
            seats_per_table=3, entries_max=3, action_timeout_ms=5_000, between_hands_ms=0,
        )  # fmt: skip
        tid = await room.create(spec)
        actor = room.tournament(tid)
        stream = room.channel.stream()
        for player in PLAYERS:
            await actor.ask(RegisterPlayer(player_id=player))
        hands: list[int] = []

        def first_hand_over(player: int, body: object) -> bool:
            if isinstance(body, game.HandStarted) and player == 1:
                hands.append(body.hand_number)
            return len(hands) >= 1

        await room.play(stream, first_hand_over)
        await actor.ask(PauseClock())
        with pytest.raises(TournamentRefusal) as refused:
            await actor.ask(VoteDeal(player_id=1, accept=True))
        assert refused.value.code == "no_deal_proposed"
        # The hand running when the clock stopped finishes; then the table holds.
        async with trio.open_nursery() as nursery:
            nursery.start_soon(room.play, stream, lambda p, b: False)
            while True:  # polls the tournament's own view: the bots play meanwhile
                details = await actor.ask(GetTournament())
                assert isinstance(details, TournamentDetails) and details.clock_paused
                if not any(t.in_hand for t in details.tables):
                    break
                await trio.sleep(1)
            nursery.cancel_scope.cancel()
        left = [line for line in (await actor.ask(GetResults())).lines if not line.place]
        standings = await actor.ask(GetStandings())
        assert isinstance(standings, Standings)
        before = {line.entry: line.stack for line in standings.lines}
        alive = [line.player_id for line in left]
        # A director's correction between hands: the table seats the new stack.
        first = left[0]
        new_stack = await actor.ask(AdjustStack(entry=first.entry, chips=25))
        table = room.runtime.registry.lookup(f"table:t{tid}-1")
        assert table is not None
        seats = await table.ask(GetSeats())
        assert isinstance(seats, TableSeats)
        assert {s.player_id: s.stack for s in seats.seats}[first.player_id] == new_stack
        proposal = await actor.ask(ProposeDeal(player_id=alive[0], kind=DealKind.ICM))
        assert isinstance(proposal, DealProposal)
        assert sum(proposal.amounts) == 300 - sum(
            line.prize for line in (await actor.ask(GetResults())).lines
        )
        standings = await actor.ask(GetStandings())
        assert isinstance(standings, Standings)
        after = {line.entry: line.stack for line in standings.lines}
        assert after[first.entry] == before[first.entry] + 25
        for player in alive[1:]:
            await actor.ask(VoteDeal(player_id=player, accept=True, deal_id=proposal.deal_id))
        for player in alive:  # each saw the proposal and the deal made
            assert room.channel.of(player, wire.TournamentDealProposed)
            decided = room.channel.of(player, wire.TournamentDealDecided)
            assert [d.made for d in decided] == [True]
        results = await actor.ask(GetResults())
        assert isinstance(results, Results) and results.state == "finished"
        assert results.paid == 300 and await room.pool(tid) == 0
        balances = [await room.balance(p) for p in PLAYERS]
        assert sum(balances) == 3 * FUNDS - 30  # only the fees stayed with the house
        with pytest.raises(TournamentRefusal):
            await actor.ask(ResumeClock())
        assert room.checks.failures == []
