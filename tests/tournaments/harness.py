"""A runtime with the tables and tournaments supervisors, the directory, seeded RNGs, a
recording channel, and bots that answer every prompt at whichever table the tournament has
seated or moved them to."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import trio

from actors.runtime import ActorRef, ChildSpec, Runtime, Strategy, SupervisionPolicy
from actors.table.config import TableRules
from actors.table.deps import TableDeps
from actors.table.messages import (
    GameRefused,
    GetSeats,
    PlayerAct,
    TableSeats,
)
from actors.tournament import TournamentDeps
from actors.tournament_directory import TournamentDirectory
from actors.tournament_messages import (
    DIRECTORY_NAME,
    CreateTournament,
    GetStandings,
    GetTournament,
    PauseClock,
    Standings,
    TournamentAddress,
    TournamentCreated,
    TournamentDetails,
    TournamentSpec,
)
from actors.tournament_state import TournamentLease
from persistence import open_store
from persistence.snapshot_writer import SnapshotWriter
from persistence.store import Store
from poker import IllegalAction
from poker.tournament import Tournament
from poker.tournament import effects as fx
from protocol import game
from protocol import tournaments as wire
from services.ledger import WalletError, prize_pool, wallet
from services.wallet import Wallet
from tests.actors.test_table_fakes import RecordingChannel, choose

FUNDS = 100_000


@dataclass
class Checks:
    """Invariants asserted after every step the tournament performs."""

    steps: int = 0
    moves: int = 0
    effects: list[fx.AnyEffect] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __call__(self, tournament_id: int, core: Tournament, effects: list[fx.AnyEffect]) -> None:
        self.steps += 1
        self.effects.extend(effects)
        self.moves += sum(isinstance(e, fx.PlayerMoved) for e in effects)
        try:
            core.check_invariants()  # stacks sum to the chips issued, one seat per entry
        except AssertionError as exc:
            self.failures.append(f"step {self.steps}: {exc}")


@dataclass
class Room:
    runtime: Runtime
    store: Store
    wallet: Wallet
    channel: RecordingChannel
    deps: TournamentDeps
    checks: Checks
    nursery: trio.Nursery
    rng: random.Random
    where: dict[int, tuple[str, int]] = field(default_factory=dict)  # player -> table, seat
    refused: list[str] = field(default_factory=list)
    think_s: float = 0.0  # each decision takes this long (trio time: levels pass in play)

    @property
    def directory(self) -> ActorRef[Any]:
        ref = self.runtime.registry.lookup(DIRECTORY_NAME)
        assert ref is not None
        return ref

    def tournament(self, tournament_id: int) -> ActorRef[Any]:
        ref = self.runtime.registry.lookup(TournamentAddress(tournament_id).actor_name)
        assert ref is not None
        return ref

    async def create(self, spec: TournamentSpec) -> int:
        created = await self.directory.ask(CreateTournament(spec=spec))
        assert isinstance(created, TournamentCreated)
        return created.tournament_id

    async def fund(self, players: range | list[int], asset: str = "chips") -> None:
        for player in players:
            await self.wallet.adjust(
                f"fund:{player}:{asset}", wallet(player, asset), FUNDS, "test funds"
            )

    async def balance(self, player: int, asset: str = "chips") -> int:
        return (await self.wallet.balance(player, asset)).balance

    async def pool(self, tournament_id: int, asset: str = "chips") -> int:
        account = await self.store.ledger_account(
            prize_pool(TournamentAddress(tournament_id).pool_owner, asset)
        )
        return 0 if account is None else account.balance

    async def play(self, stream: Any, until: Callable[[int, Any], bool]) -> None:
        """Answer every prompt until ``until`` says stop."""
        async with trio.open_nursery() as nursery:
            async for player_id, body in stream:
                if isinstance(body, wire.TournamentSeated | wire.TournamentMoved):
                    self.where[player_id] = (body.table_id, body.seat)
                if until(player_id, body):
                    nursery.cancel_scope.cancel()
                    return
                mine = self.where.get(player_id)
                if isinstance(body, game.ActionRequired) and mine == (body.table_id, body.seat):
                    nursery.start_soon(self._act, player_id, body)

    async def _act(self, player_id: int, body: game.ActionRequired) -> None:
        ref = self.runtime.registry.lookup(f"table:{body.table_id}")
        if ref is None:
            return
        if self.think_s:
            await trio.sleep(self.think_s)
        action, amount, agree = choose(body.legal, self.rng)
        message = PlayerAct(
            player_id=player_id, hand_number=body.hand_number, decision_id=body.decision_id,
            action=action, amount=amount, agree=agree,
        )  # fmt: skip
        try:
            await ref.ask(message, timeout_s=30.0)
        except (GameRefused, IllegalAction, WalletError) as exc:
            self.refused.append(getattr(exc, "code", type(exc).__name__))


@asynccontextmanager
async def tournament_room(
    database_url: str,
    seed: int,
    rules: TableRules | None = None,
    lease: TournamentLease | None = None,
    snapshots: SnapshotWriter | None = None,
) -> AsyncIterator[Room]:
    """``rules``: the tables' rules against abuse (the one-address rule applies at
    registration too); None: the defaults. ``lease``: as with several nodes (its fences
    become the store's). ``snapshots``: where the tables' snapshots go (None: nowhere)."""
    async with open_store(database_url) as store:
        if lease is not None:
            store.fences = lease.fences
        channel = RecordingChannel()
        wallet_service = Wallet(store)
        table_deps = TableDeps(
            store=store, wallet=wallet_service, channel=channel, rng=random.Random(seed),
            rules=rules or TableRules(), snapshots=snapshots,
        )  # fmt: skip
        checks = Checks()
        deps = TournamentDeps(
            store=store, wallet=wallet_service, channel=channel, table_deps=table_deps,
            rng=random.Random(seed + 1), on_effects=checks, lease=lease,
        )  # fmt: skip
        runtime = Runtime(
            [
                ChildSpec.supervisor("tables", policy=SupervisionPolicy(intensity=5)),
                ChildSpec.supervisor(
                    "tournaments", policy=SupervisionPolicy(strategy=Strategy.ONE_FOR_ONE)
                ),
                ChildSpec.worker(DIRECTORY_NAME, lambda: TournamentDirectory(deps)),
            ],
            policy=SupervisionPolicy(strategy=Strategy.ONE_FOR_ONE),
            metrics_registry=None,
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
            try:
                yield Room(
                    runtime, store, wallet_service, channel, deps, checks, nursery,
                    random.Random(seed + 2),
                )  # fmt: skip
            finally:
                runtime.stop()


async def hold_between_hands(room: Room, actor: Any, stream: Any, *, bots: bool = True) -> None:
    """Play the first hand, pause, and wait until every table holds between hands.
    ``bots=False``: the clock is paused at once and nobody acts in the hands dealt before
    it (their action clocks fold the players): nobody busts, whatever the cards."""
    if bots:
        started: list[int] = []

        def first_hand(player: int, body: object) -> bool:
            if isinstance(body, game.HandStarted):
                started.append(player)
            return bool(started)

        await room.play(stream, first_hand)
    await actor.ask(PauseClock())
    async with trio.open_nursery() as nursery:
        if bots:
            nursery.start_soon(room.play, stream, lambda p, b: False)
        while True:  # polls the tournament's own view (the bots, if any, play meanwhile)
            details = await actor.ask(GetTournament())
            assert isinstance(details, TournamentDetails)
            if not any(t.in_hand for t in details.tables):
                break
            await trio.sleep(1)
        nursery.cancel_scope.cancel()


async def standings_lines(actor: Any) -> dict[int, Any]:
    standings = await actor.ask(GetStandings(limit=100))
    assert isinstance(standings, Standings)
    return {line.entry: line for line in standings.lines}


async def tables_agree(room: Room, tid: int, actor: Any) -> None:
    """Every live table seats exactly the players the core has there, with its stacks."""
    details = await actor.ask(GetTournament())
    lines = await standings_lines(actor)
    for table in details.tables:
        ref = room.runtime.registry.lookup(f"table:{table.table_id}")
        assert ref is not None
        seats = await ref.ask(GetSeats())
        assert isinstance(seats, TableSeats)
        want = {
            line.player_id: line.stack
            for line in lines.values()
            if line.table_id == table.table_id and line.status == "playing"
        }
        assert {s.player_id: s.stack for s in seats.seats} == want
