"""A multi-table tournament run live over three tables: balancing moves and broken tables,
a break all tables take together, hand-for-hand on the bubble, re-entries during late
registration, progressive knockout bounties paid at each knockout, every place paid as it is
decided, and the prize pool exactly zero at the end."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
import trio
import trio.testing
from prometheus_client import REGISTRY

from actors.tournament_messages import (
    GetResults,
    RegisterPlayer,
    Results,
    StartTournament,
    TournamentRefusal,
    TournamentSpec,
)
from poker.tournament import BountyKind, Break, preset
from poker.tournament import effects as fx
from protocol import tournaments as wire
from tests.actors.test_table_fakes import sqlite_url
from tests.e2e.clock import autojump_between_threads
from tests.tournaments.harness import FUNDS, tournament_room

PLAYERS = list(range(1, 13))
REENTERING = {1, 2, 3, 4}


def mtt_spec() -> TournamentSpec:
    """Hand-for-hand from three places off the money (when the bubble is still ahead as the
    prizes are set, which depends on that race): with the bubble alone (one place off)
    a hand that busts two players at once across it skips hand-for-hand, and which hands
    those are depends on how many re-entries beat the close of registration (a race with
    the play: 12 to 15 entries between runs). At 4 seats a table no hand busts more than 3."""
    structure = msgspec.structs.replace(
        preset("hyper"),
        name="mtt-live-test",
        breaks=(Break(1, 1),),
        late_registration_levels=1,
        entries_per_player_max=2,
    )
    return TournamentSpec(
        name="Three tables", kind="mtt", structure=structure, buy_in=100, fee=10, bounty=50,
        bounty_kind=BountyKind.PROGRESSIVE, seats_per_table=4, entries_max=100,
        starts_at_ms=2**62, paid_bp=5_000, action_timeout_ms=5_000, between_hands_ms=0,
        hand_for_hand_from_bubble=3,
    )  # fmt: skip


async def test_a_three_table_tournament_balances_breaks_plays_hand_for_hand_and_pays_out(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=11) as room:
        room.think_s = 2.0
        await room.fund(PLAYERS)
        tid = await room.create(mtt_spec())
        actor = room.tournament(tid)
        stream = room.channel.stream()
        for player in PLAYERS:
            await actor.ask(RegisterPlayer(player_id=player))
        await actor.ask(StartTournament())
        reentered: list[int] = []
        finished: list[int] = []

        async def reenter(player: int) -> None:
            try:
                await actor.ask(RegisterPlayer(player_id=player))
                reentered.append(player)
            except TournamentRefusal as exc:
                assert exc.code == "registration_refused"  # closed meanwhile

        def until(player: int, body: object) -> bool:
            eliminated = isinstance(body, wire.TournamentEliminated) and body.may_reenter
            if eliminated and player in REENTERING and player not in reentered:
                room.nursery.start_soon(reenter, player)
            if isinstance(body, wire.TournamentStateChanged) and body.event == "finished":
                finished.append(player)
                return True
            return False

        await room.play(stream, until)
        assert room.checks.failures == []  # chips conserved, one seat each, after every step
        effects = room.checks.effects
        kinds = {type(e) for e in effects}
        assert fx.BreakStarted in kinds and fx.BreakEnded in kinds
        # Hand-for-hand comes if the bubble is still ahead once the prizes are set (the
        # close of late registration): how many busted before it is a race between the
        # re-entries and the play (some runs find the field in the money already).
        prizes_at = next(i for i, e in enumerate(effects) if isinstance(e, fx.PrizesSet))
        prizes = effects[prizes_at]
        assert isinstance(prizes, fx.PrizesSet)
        out = sum(isinstance(e, fx.Eliminated) for e in effects[:prizes_at])
        bubble_ahead = len(PLAYERS) + len(reentered) - out > len(prizes.prizes)
        assert (fx.HandForHandStarted in kinds) == bubble_ahead
        assert room.checks.moves > 0
        assert any(isinstance(e, fx.TableClosed) for e in effects)  # a table broken
        results = await actor.ask(GetResults())
        assert isinstance(results, Results) and results.state == "finished"
        entries = results.entries
        assert entries == len(PLAYERS) + len(reentered)
        # Every entry placed; prizes and bounties paid sum to all that came in.
        assert sorted(line.place for line in results.lines if line.tied == 1) == sorted(
            {line.place for line in results.lines if line.tied == 1}
        )
        assert all(line.place for line in results.lines)
        bounties = sum(e.cash for e in effects if isinstance(e, fx.BountyWon))
        assert bounties == 50 * entries
        assert results.paid == 150 * entries
        assert await room.pool(tid) == 0
        total = 0
        for player in PLAYERS:
            total += await room.balance(player)
        assert total == FUNDS * len(PLAYERS) - 10 * entries  # only the fees left the players
        paid_pushes = [b for p in PLAYERS for b in room.channel.of(p, wire.TournamentPaid)]
        assert sum(b.amount for b in paid_pushes) == 150 * entries
        moved = [b for p in PLAYERS for b in room.channel.of(p, wire.TournamentMoved)]
        assert len(moved) == room.checks.moves
        audit = await room.wallet.audit()
        assert audit.consistent, audit
        # Metrics: moves counted; the finished tournament's own series are gone.
        assert REGISTRY.get_sample_value("tablium_tournament_moves_total") >= room.checks.moves
        live = {"tournament": str(tid)}
        assert REGISTRY.get_sample_value("tablium_tournament_entrants", live) is None
        finished_count = REGISTRY.get_sample_value("tablium_tournaments", {"state": "finished"})
        assert finished_count is not None and finished_count >= 1
