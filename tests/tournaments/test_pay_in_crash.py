"""Money in is write-ahead (docs/tournaments.md, "Crash safety"): a process killed between a
player's buy-in transfer and the stored step restarts with the intent stored, and completes
the entry (the transfer again by key: a replay) or, when the ledger refuses it now, refunds
what landed under the intent's own keys. No chip is ever left in the pool without an entry.

The kill: the actor is frozen at the chosen point (a fault injected in the money), then the
whole runtime is stopped, so only the store is left, and a new runtime starts from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
import trio.testing

from actors.table.messages import GetSeats, TableSeats
from actors.tournament_messages import (
    BuyRebuy,
    GetResults,
    GetStandings,
    ListTournaments,
    RegisterPlayer,
    Results,
    Standings,
    StartTournament,
    TournamentSpec,
)
from persistence.rakeback import transfers_by_keys
from poker.tournament import RebuyRule, preset
from protocol import tournaments as wire
from services.ledger import WalletError, wallet
from services.tournaments import TournamentMoney, key
from services.wallet import Wallet
from tests.actors.test_table_fakes import sqlite_url
from tests.e2e.clock import autojump_between_threads
from tests.tournaments.harness import FUNDS, tournament_room

BUY_IN, FEE = 100, 10
VICTIM = 3


def _spec() -> TournamentSpec:
    structure = msgspec.structs.replace(preset("hyper"), name="crash", starting_stack=1_000)
    return TournamentSpec(
        name="Crash", kind="mtt", structure=structure, buy_in=BUY_IN, fee=FEE,
        seats_per_table=6, starts_at_ms=2**62, action_timeout_ms=5_000,
    )  # fmt: skip


async def _register_and_freeze(room: Any, tid: int, reached: trio.Event) -> None:
    """Register the victim; the injected fault freezes the actor at the chosen point; then
    stop (the caller's nursery is cancelled with the runtime)."""
    async with trio.open_nursery() as nursery:
        nursery.start_soon(room.tournament(tid).ask, RegisterPlayer(player_id=VICTIM))
        await reached.wait()
        nursery.cancel_scope.cancel()


async def _register_and_freeze_player(
    room: Any, tid: int, player: int, reached: trio.Event
) -> None:
    async with trio.open_nursery() as nursery:
        nursery.start_soon(room.tournament(tid).ask, RegisterPlayer(player_id=player))
        await reached.wait()
        nursery.cancel_scope.cancel()


async def _keys(room: Any, tid: int, *ops: str) -> set[str]:
    keys = [key(tid, op) for op in ops]
    found = await room.store.run(lambda: transfers_by_keys(keys), read_only=True)
    return {k.removeprefix(f"tournament:{tid}:") for k in found}


@pytest.mark.parametrize("transferred", [True, False], ids=["after_transfer", "before_transfer"])
async def test_a_kill_between_the_buy_in_and_its_step_completes_the_entry_on_restart(
    tmp_path: Path,
    autojump_clock: trio.testing.MockClock,
    monkeypatch: pytest.MonkeyPatch,
    transferred: bool,
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    url = sqlite_url(tmp_path)
    reached = trio.Event()
    armed = [True]
    real_pay_in = TournamentMoney.pay_in

    async def pay_in(self: TournamentMoney, op: str, player_id: int, *args: Any) -> None:
        if armed[0] and player_id == VICTIM:
            armed[0] = False
            if transferred:
                await real_pay_in(self, op, player_id, *args)
            reached.set()
            await trio.sleep_forever()  # killed here
        await real_pay_in(self, op, player_id, *args)

    monkeypatch.setattr(TournamentMoney, "pay_in", pay_in)
    async with tournament_room(url, seed=81) as room:
        await room.fund([1, 2, VICTIM])
        tid = await room.create(_spec())
        for player in (1, 2):
            await room.tournament(tid).ask(RegisterPlayer(player_id=player))
        await _register_and_freeze(room, tid, reached)
        paid = BUY_IN + FEE if transferred else 0
        assert await room.balance(VICTIM) == FUNDS - paid
        assert await room.pool(tid) == 2 * BUY_IN + (BUY_IN if transferred else 0)
    async with tournament_room(url, seed=82) as room:
        await room.directory.ask(ListTournaments())  # re-opens the stored tournament
        standings = await room.tournament(tid).ask(GetStandings(limit=100))
        assert isinstance(standings, Standings)
        assert sorted(line.player_id for line in standings.lines) == [1, 2, VICTIM]
        assert await room.balance(VICTIM) == FUNDS - BUY_IN - FEE
        assert await room.pool(tid) == 3 * BUY_IN
        assert await _keys(room, tid, "entry:3", "entry:3:fee", "entry:3:undo") == {
            "entry:3",
            "entry:3:fee",
        }
        audit = await room.wallet.audit()
        assert audit.consistent, audit
    async with tournament_room(url, seed=90) as room:  # and again: nothing is left to do
        await room.directory.ask(ListTournaments())
        standings = await room.tournament(tid).ask(GetStandings(limit=100))
        assert isinstance(standings, Standings)
        assert sorted(line.player_id for line in standings.lines) == [1, 2, VICTIM]
        assert await room.balance(VICTIM) == FUNDS - BUY_IN - FEE
        assert await room.pool(tid) == 3 * BUY_IN


async def test_a_kill_after_the_pool_part_refunds_it_when_the_fee_is_refused_on_restart(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    url = sqlite_url(tmp_path)
    reached = trio.Event()
    armed = [True]
    real_fee = Wallet.pay_entry_fee

    async def pay_entry_fee(self: Wallet, k: str, player_id: int, *args: Any, **kw: Any) -> Any:
        if armed[0] and player_id == VICTIM:
            armed[0] = False
            reached.set()
            await trio.sleep_forever()  # killed after the pool part, before the fee
        return await real_fee(self, k, player_id, *args, **kw)

    monkeypatch.setattr(Wallet, "pay_entry_fee", pay_entry_fee)
    async with tournament_room(url, seed=83) as room:
        await room.fund([1, 2, VICTIM])
        tid = await room.create(_spec())
        for player in (1, 2):
            await room.tournament(tid).ask(RegisterPlayer(player_id=player))
        await _register_and_freeze(room, tid, reached)
        assert await room.pool(tid) == 3 * BUY_IN  # the pool part landed, no entry stored
        # While the server is down the player's wallet drops below the fee.
        left = 5
        await room.wallet.adjust(
            "drain", wallet(VICTIM, "chips"), -(FUNDS - BUY_IN - left), "test drain"
        )
    async with tournament_room(url, seed=84) as room:
        await room.directory.ask(ListTournaments())
        standings = await room.tournament(tid).ask(GetStandings(limit=100))
        assert isinstance(standings, Standings)
        assert sorted(line.player_id for line in standings.lines) == [1, 2]
        assert await room.balance(VICTIM) == left + BUY_IN  # the pool part came back
        assert await room.pool(tid) == 2 * BUY_IN
        assert await _keys(room, tid, "entry:3", "entry:3:fee", "entry:3:undo") == {
            "entry:3",
            "entry:3:undo",
        }
        audit = await room.wallet.audit()
        assert audit.consistent, audit
        # The refused player may register again later, under a new entry's keys.
        await room.wallet.adjust("refill", wallet(VICTIM, "chips"), FUNDS, "test refill")
        accepted = await room.tournament(tid).ask(RegisterPlayer(player_id=VICTIM))
        assert accepted.entry == 3  # the number again, under keys never used before
        assert await room.balance(VICTIM) == left + BUY_IN + FUNDS - BUY_IN - FEE
        assert await room.pool(tid) == 3 * BUY_IN
        assert await _keys(room, tid, "entry:3:retry1", "entry:3:retry1:fee") == {
            "entry:3:retry1",
            "entry:3:retry1:fee",
        }
        audit = await room.wallet.audit()
        assert audit.consistent, audit


async def test_a_refused_fee_gives_back_the_pool_part_at_once(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=85) as room:
        await room.fund([1])
        await room.wallet.adjust("poor", wallet(VICTIM, "chips"), BUY_IN + 5, "test funds")
        tid = await room.create(_spec())
        await room.tournament(tid).ask(RegisterPlayer(player_id=1))
        with pytest.raises(WalletError):
            await room.tournament(tid).ask(RegisterPlayer(player_id=VICTIM))
        assert await room.balance(VICTIM) == BUY_IN + 5
        assert await room.pool(tid) == BUY_IN
        # Funded now, the player registers: she pays in full (the refused attempt's keys
        # are never replayed for the new one).
        await room.wallet.adjust("more", wallet(VICTIM, "chips"), 100, "test funds")
        await room.tournament(tid).ask(RegisterPlayer(player_id=VICTIM))
        assert await room.balance(VICTIM) == BUY_IN + 5 + 100 - BUY_IN - FEE
        assert await room.pool(tid) == 2 * BUY_IN
        audit = await room.wallet.audit()
        assert audit.consistent, audit


async def test_a_kill_between_a_rebuy_transfer_and_its_step_completes_the_rebuy_on_restart(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    url = sqlite_url(tmp_path)
    reached = trio.Event()
    armed = [False]
    real_pay_in = TournamentMoney.pay_in

    async def pay_in(self: TournamentMoney, op: str, player_id: int, *args: Any) -> None:
        await real_pay_in(self, op, player_id, *args)
        if armed[0] and op.startswith("rebuy:"):
            armed[0] = False
            reached.set()
            await trio.sleep_forever()  # killed after the rebuy's money moved

    monkeypatch.setattr(TournamentMoney, "pay_in", pay_in)
    structure = msgspec.structs.replace(
        preset("hyper"), name="rebuy-crash", starting_stack=200,
        rebuy=RebuyRule(chips=200, price=100, fee=10, stack_at_most=0, until_level=6,
                        per_entry_max=2),
    )  # fmt: skip
    spec = TournamentSpec(
        name="Rebuy crash", kind="mtt", structure=structure, buy_in=BUY_IN, fee=FEE,
        seats_per_table=6, starts_at_ms=2**62, action_timeout_ms=5_000, between_hands_ms=0,
        rebuy_decision_ms=60_000,
    )  # fmt: skip
    players = list(range(1, 7))
    async with tournament_room(url, seed=86) as room:
        room.think_s = 1.0
        await room.fund(players)
        tid = await room.create(spec)
        actor = room.tournament(tid)
        for player in players:
            await actor.ask(RegisterPlayer(player_id=player))
        await actor.ask(StartTournament())
        offered: list[int] = []

        def until(player: int, body: object) -> bool:
            if isinstance(body, wire.TournamentRebuyOffered):
                offered.append(player)
            return bool(offered)

        await room.play(room.channel.stream(), until)
        buyer = offered[0]
        armed[0] = True
        async with trio.open_nursery() as nursery:
            nursery.start_soon(actor.ask, BuyRebuy(player_id=buyer))
            await reached.wait()
            nursery.cancel_scope.cancel()
        assert await room.balance(buyer) == FUNDS - 2 * (BUY_IN + FEE)
    async with tournament_room(url, seed=87) as room:
        await room.directory.ask(ListTournaments())
        results = await room.tournament(tid).ask(GetResults())
        assert isinstance(results, Results)
        mine = [line for line in results.lines if line.player_id == buyer]
        assert [line.rebuys for line in mine] == [1]  # the rebuy is in, once
        assert await room.balance(buyer) == FUNDS - 2 * (BUY_IN + FEE)
        assert await room.pool(tid) == BUY_IN * (len(players) + 1)
        audit = await room.wallet.audit()
        assert audit.consistent, audit


async def test_a_kill_during_a_late_registration_seats_the_entry_after_the_restart(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    url = sqlite_url(tmp_path)
    reached = trio.Event()
    armed = [True]
    real_pay_in = TournamentMoney.pay_in
    late = 5

    async def pay_in(self: TournamentMoney, op: str, player_id: int, *args: Any) -> None:
        await real_pay_in(self, op, player_id, *args)
        if armed[0] and player_id == late:
            armed[0] = False
            reached.set()
            await trio.sleep_forever()  # killed after the money, before the entry

    monkeypatch.setattr(TournamentMoney, "pay_in", pay_in)
    structure = msgspec.structs.replace(
        preset("hyper"), name="late-crash", starting_stack=1_000, late_registration_levels=4
    )
    spec = TournamentSpec(
        name="Late crash", kind="mtt", structure=structure, buy_in=BUY_IN, fee=FEE,
        seats_per_table=6, starts_at_ms=2**62, action_timeout_ms=5_000, between_hands_ms=0,
    )  # fmt: skip
    async with tournament_room(url, seed=88) as room:
        await room.fund([1, 2, 3, 4, late])
        tid = await room.create(spec)
        actor = room.tournament(tid)
        for player in (1, 2, 3, 4):
            await actor.ask(RegisterPlayer(player_id=player))
        await actor.ask(StartTournament())
        await _register_and_freeze_player(room, tid, late, reached)
    async with tournament_room(url, seed=89) as room:
        await room.directory.ask(ListTournaments())
        actor = room.tournament(tid)
        standings = await actor.ask(GetStandings(limit=100))
        assert isinstance(standings, Standings)
        mine = [line for line in standings.lines if line.player_id == late]
        assert len(mine) == 1 and mine[0].status == "playing" and mine[0].table_id is not None
        table = room.runtime.registry.lookup(f"table:{mine[0].table_id}")
        assert table is not None
        seats = await table.ask(GetSeats())
        assert isinstance(seats, TableSeats)
        assert late in {s.player_id for s in seats.seats}
        assert await room.balance(late) == FUNDS - BUY_IN - FEE
        assert await room.pool(tid) == 5 * BUY_IN
        assert room.checks.failures == []
        audit = await room.wallet.audit()
        assert audit.consistent, audit


async def test_a_registration_stores_the_core_once_its_intent_carries_only_the_live_state(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The intent is stored before the transfer with the core as it was, which is the core
    already stored: it writes the live state only (core None), and the step after the
    transfer writes the new core. Once per registration, not twice; a kill after the
    intent still finds the core it needs (the tests above)."""
    autojump_between_threads(autojump_clock, monkeypatch)
    from persistence import tournaments as stored_tournaments

    real_save = stored_tournaments.save_step
    writes: list[tuple[bool, int]] = []  # (core written, intents in the live state)

    def save_step(tid: int, state: str, core: bytes | None, live: bytes, *rest: Any) -> Any:
        decoded = msgspec.msgpack.decode(live)
        writes.append((core is not None, len(decoded["paying"])))
        return real_save(tid, state, core, live, *rest)

    monkeypatch.setattr(stored_tournaments, "save_step", save_step)
    async with tournament_room(sqlite_url(tmp_path), seed=83) as room:
        await room.fund([1, 2])
        tid = await room.create(_spec())
        await room.tournament(tid).ask(RegisterPlayer(player_id=1))
        writes.clear()
        await room.tournament(tid).ask(RegisterPlayer(player_id=2))
        assert writes == [(False, 1), (True, 0)], "the intent without the core, then the step"
        standings = await room.tournament(tid).ask(GetStandings(limit=100))
        assert isinstance(standings, Standings)
        assert sorted(line.player_id for line in standings.lines) == [1, 2]
        assert await room.pool(tid) == 2 * BUY_IN
    async with tournament_room(sqlite_url(tmp_path), seed=84) as room:  # the store has both
        await room.directory.ask(ListTournaments())
        standings = await room.tournament(tid).ask(GetStandings(limit=100))
        assert isinstance(standings, Standings)
        assert sorted(line.player_id for line in standings.lines) == [1, 2]
