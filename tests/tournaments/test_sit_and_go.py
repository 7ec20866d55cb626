"""A sit-and-go run live: registration money, the start when full, hands dealt by the
tournament's tables, eliminations, places paid as decided, the prize pool zero at the end."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import trio
import trio.testing

from actors.tournament_messages import (
    GetResults,
    GetTournament,
    RegisterPlayer,
    Results,
    TournamentDetails,
    TournamentRefusal,
    TournamentSpec,
    UnregisterPlayer,
)
from persistence.players import player_tournaments
from protocol import game
from protocol import tournaments as wire
from services.ledger_audit import audit_ledger
from tests.actors.test_table_fakes import sqlite_url
from tests.e2e.clock import autojump_between_threads
from tests.persistence.stores import store_url
from tests.tournaments.harness import FUNDS, tournament_room

PLAYERS = list(range(1, 7))


def sng(**overrides: object) -> TournamentSpec:
    settings: dict[str, object] = {
        "name": "Hyper 6", "kind": "sng", "preset": "hyper-hands", "buy_in": 100, "fee": 10,
        "seats_per_table": 6, "entries_max": 6, "action_timeout_ms": 5_000,
        "between_hands_ms": 0,
    }  # fmt: skip
    settings.update(overrides)
    return TournamentSpec(**settings)  # type: ignore[arg-type]


async def test_a_sit_and_go_runs_to_a_winner_and_empties_its_prize_pool(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=5) as room:
        await room.fund(PLAYERS)
        tid = await room.create(sng())
        stream = room.channel.stream()
        for player in PLAYERS:
            await room.tournament(tid).ask(RegisterPlayer(player_id=player))
        finished = []

        def until(player: int, body: object) -> bool:
            if isinstance(body, wire.TournamentStateChanged) and body.event == "finished":
                finished.append(player)
            return len(finished) == len(PLAYERS)

        await room.play(stream, until)
        assert room.checks.failures == []
        hands = {(b.table_id, b.hand_number) for b in room.channel.of(1, game.HandEnded)}
        assert len(hands) >= 3  # played, not decided by the registration
        results = await room.tournament(tid).ask(GetResults())
        assert isinstance(results, Results) and results.state == "finished"
        assert sorted(line.place for line in results.lines) == [1, 2, 3, 4, 5, 6]
        # 6 x 100 in the pool, 65/35 for six players; each place paid as it was decided.
        assert results.prize_pool == 600 and results.paid == 600
        assert await room.pool(tid) == 0
        won = {line.player_id: line.prize for line in results.lines}
        for player in PLAYERS:
            assert await room.balance(player) == FUNDS - 110 + won[player]
        for player in PLAYERS:  # each finish counted once in the player's statistics
            ((asset, counters),) = await room.store.run(
                partial(player_tournaments, player), read_only=True
            )
            assert asset == "chips" and counters.entries == 1
            assert counters.prizes_won == won[player]
        paid = [b for p in PLAYERS for b in room.channel.of(p, wire.TournamentPaid)]
        assert sorted(b.amount for b in paid) == sorted(v for v in won.values() if v)
        audit = await room.wallet.audit()
        assert audit.consistent, audit
        report = await audit_ledger(room.wallet)  # the pool checked against its entries
        assert report.consistent, report.violations
        (pool,) = [p for p in report.prize_pools if p.owner == f"tournament:{tid}"]
        assert (pool.entries, pool.payouts, pool.balance) == (600, 600, 0)


async def test_unregistering_refunds_buy_in_and_fee_and_a_second_tournament_never_replays(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=6) as room:
        await room.fund([1, 2])
        first = await room.create(sng(entries_max=3, seats_per_table=3))
        second = await room.create(sng(entries_max=3, seats_per_table=3))
        for tid in (first, second):
            await room.tournament(tid).ask(RegisterPlayer(player_id=1))
        assert await room.balance(1) == FUNDS - 220  # two entries, two sets of keys
        await room.tournament(first).ask(UnregisterPlayer(player_id=1))
        assert await room.balance(1) == FUNDS - 110
        assert await room.pool(first) == 0 and await room.pool(second) == 100
        with pytest.raises(TournamentRefusal) as refused:
            await room.tournament(first).ask(UnregisterPlayer(player_id=1))
        assert refused.value.code == "not_registered"
        # Registering again is a new entry (entry 2): new keys, charged again.
        await room.tournament(first).ask(RegisterPlayer(player_id=1))
        assert await room.balance(1) == FUNDS - 220
        details = await room.tournament(first).ask(GetTournament())
        assert isinstance(details, TournamentDetails) and details.summary.entries == 1


async def test_a_sit_and_go_runs_to_a_winner_on_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    url = await store_url("postgres", tmp_path, postgres_url)  # a schema of its own
    async with tournament_room(url, seed=7) as room:
        await room.fund(PLAYERS)
        tid = await room.create(sng())
        stream = room.channel.stream()
        for player in PLAYERS:
            await room.tournament(tid).ask(RegisterPlayer(player_id=player))
        finished: list[int] = []

        def until(player: int, body: object) -> bool:
            if isinstance(body, wire.TournamentStateChanged) and body.event == "finished":
                finished.append(player)
            return len(finished) == len(PLAYERS)

        with trio.fail_after(120):
            await room.play(stream, until)
        assert room.checks.failures == []
        results = await room.tournament(tid).ask(GetResults())
        assert isinstance(results, Results) and results.paid == 600
        assert await room.pool(tid) == 0
        report = await audit_ledger(room.wallet)
        assert report.consistent, report.violations
