"""Rebuys and the add-on live: a bust while rebuys are open keeps the seat and offers a
rebuy (bought: the table gets the new stack; declined or left to lapse: the entry is out),
the add-on at the first break, every price in the pool and every fee to the house, and the
pool exactly zero at the end."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
import trio
import trio.testing

from actors.tournament_messages import (
    BuyAddOn,
    BuyRebuy,
    DeclineRebuy,
    GetResults,
    RegisterPlayer,
    Results,
    StartTournament,
    TournamentRefusal,
    TournamentSpec,
)
from poker.tournament import AddOnRule, Break, RebuyRule, preset
from poker.tournament import effects as fx
from protocol import tournaments as wire
from tests.actors.test_table_fakes import sqlite_url
from tests.e2e.clock import autojump_between_threads
from tests.tournaments.harness import FUNDS, tournament_room

PLAYERS = list(range(1, 7))
REBUYERS = {1, 2, 3}  # buy every rebuy offered; 4 declines; 5 and 6 let offers lapse


async def test_rebuys_and_the_add_on_move_chips_and_money_and_the_pool_ends_empty(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    structure = msgspec.structs.replace(
        preset("hyper"),
        name="rebuy-live",
        starting_stack=200,
        breaks=(Break(6, 2),),
        rebuy=RebuyRule(
            chips=200, price=100, fee=10, stack_at_most=0, until_level=6, per_entry_max=2
        ),
        addon=AddOnRule(chips=1_000, price=100, fee=10),
    )
    spec = TournamentSpec(
        name="Rebuys", kind="mtt", structure=structure, buy_in=100, fee=10, seats_per_table=6,
        starts_at_ms=2**62, action_timeout_ms=5_000, between_hands_ms=0,
        rebuy_decision_ms=5_000,
    )  # fmt: skip
    async with tournament_room(sqlite_url(tmp_path), seed=51) as room:
        room.think_s = 2.0
        await room.fund(PLAYERS)
        tid = await room.create(spec)
        actor = room.tournament(tid)
        for player in PLAYERS:
            await actor.ask(RegisterPlayer(player_id=player))
        await actor.ask(StartTournament())
        stream = room.channel.stream()
        decisions: list[tuple[int, str]] = []

        async def decide(player: int) -> None:
            try:
                if player in REBUYERS:
                    await actor.ask(BuyRebuy(player_id=player))
                    decisions.append((player, "rebuy"))
                elif player == 4:
                    await actor.ask(DeclineRebuy(player_id=player))
                    decisions.append((player, "decline"))
            except TournamentRefusal as exc:  # rebuys closed meanwhile
                decisions.append((player, exc.code))

        async def add_on(player: int) -> None:
            for _ in range(30):  # refused while her table finishes a hand she is in
                try:
                    await actor.ask(BuyAddOn(player_id=player))
                    decisions.append((player, "addon"))
                    return
                except TournamentRefusal as exc:
                    decisions.append((player, exc.code))
                    await trio.sleep(5)

        def until(player: int, body: object) -> bool:
            if isinstance(body, wire.TournamentRebuyOffered):
                room.nursery.start_soon(decide, player)
            if isinstance(body, wire.TournamentStateChanged):
                if body.event == "break_started" and player % 2 == 0:
                    room.nursery.start_soon(add_on, player)
                if body.event == "finished":
                    return True
            return False

        with trio.fail_after(4 * 3600):  # trio time: a stuck table fails, never hangs
            await room.play(stream, until)
        assert room.checks.failures == []  # chips issued = starting stacks + rebuys + add-ons
        effects = room.checks.effects
        rebuys = [e for e in effects if isinstance(e, fx.RebuyBought)]
        addons = [e for e in effects if isinstance(e, fx.AddOnBought)]
        offers = [e for e in effects if isinstance(e, fx.RebuyOffered)]
        assert offers and rebuys, decisions
        assert len(offers) >= len(rebuys)
        results = await actor.ask(GetResults())
        assert isinstance(results, Results) and results.state == "finished"
        collected = 100 * len(PLAYERS) + 100 * len(rebuys) + 100 * len(addons)
        assert results.paid == collected
        assert await room.pool(tid) == 0
        fees = 10 * (len(PLAYERS) + len(rebuys) + len(addons))
        total = sum([await room.balance(p) for p in PLAYERS])
        assert total == FUNDS * len(PLAYERS) - fees
        audit = await room.wallet.audit()
        assert audit.consistent, audit
