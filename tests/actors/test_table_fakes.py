"""Shared pieces of the table, hand and lobby tests: a recording player channel, seeded bots
that choose legal actions, a running game tree, and the hole-card leak check.

(No tests here: the name keeps it among the table tests' files.)
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import trio

from actors.lobby import LobbyActor
from actors.runtime import (
    ActorRef,
    ChildSpec,
    Runtime,
    Strategy,
    SupervisionPolicy,
    TargetError,
)
from actors.table.actor import table_spec
from actors.table.config import TableConfig
from actors.table.deps import TableDeps
from actors.table.messages import (
    AuditEscrow,
    EscrowAudit,
    GameRefused,
    GetSeats,
    JoinSeat,
    PlayerAct,
    SeatGranted,
    SitIn,
    TableSeats,
    TopUpChips,
)
from actors.table.player_tables import AtTable, TablesAt
from persistence import open_store
from persistence.store import Store
from poker import IllegalAction, Variant
from protocol import game
from services.ledger import WalletError, wallet
from services.wallet import Wallet

FUNDS = 1_000_000
PROMPTS_BUFFER_MAX = 100_000  # the fake channel's bound (a test never queues more)


@dataclass
class RecordingChannel:
    """Records every body delivered to every player, with the trio time it arrived."""

    bodies: dict[int, list[tuple[float, game.GamePush]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    send: trio.MemorySendChannel[tuple[int, game.GamePush]] | None = None

    def deliver(self, player_id: int, body: game.GamePush) -> None:
        self.bodies[player_id].append((trio.current_time(), body))
        if self.send is not None:
            self.send.send_nowait((player_id, body))

    # What her sessions would know: the tables' AtTable notes, applied at once.
    tables: dict[int, TablesAt] = field(default_factory=lambda: defaultdict(TablesAt))

    def at_table(self, player_id: int, note: AtTable) -> None:
        self.tables[player_id].apply(note)

    def seats_of(self, player_id: int) -> list[str]:
        return sorted(self.tables[player_id].seated)

    def watched_by(self, player_id: int) -> list[str]:
        return sorted(self.tables[player_id].watching)

    def of(self, player_id: int, kind: type[Any]) -> list[Any]:
        return [body for _, body in self.bodies[player_id] if isinstance(body, kind)]

    def stream(self) -> trio.MemoryReceiveChannel[tuple[int, game.GamePush]]:
        self.send, receive = trio.open_memory_channel[tuple[int, game.GamePush]](PROMPTS_BUFFER_MAX)
        return receive


def choose(legal: game.Legal, rng: random.Random) -> tuple[str, int, bool]:
    """A random legal decision: (action, amount, agree)."""
    if legal.show or legal.muck:
        return ("show" if rng.random() < 0.7 else "muck"), 0, False
    if legal.run_it_twice:
        return "run_it_twice", 0, rng.random() < 0.5
    roll = rng.random()
    if legal.fold and roll < 0.2:
        return "fold", 0, False
    if legal.min_raise_to is not None and legal.max_raise_to is not None and roll > 0.7:
        low, high = legal.min_raise_to, legal.max_raise_to
        amount = low if rng.random() < 0.6 else rng.randint(low, high)
        return "bet_or_raise_to", amount, False
    return "check_or_call", 0, False


@dataclass
class Bots:
    """Players who answer every prompt meant for them with a seeded random legal action."""

    table: ActorRef[Any]
    table_id: str
    seats: dict[int, int]  # seat -> player id
    rng: random.Random
    silent: set[int] = field(default_factory=set)  # players who never act
    refill: int = 0  # top up and sit in again when busted (0: never)
    refused: list[str] = field(default_factory=list)  # error codes the bots got

    def wants(self, body: game.GamePush) -> bool:
        """Whether ``body`` may need an answer (saves a task per delivered body)."""
        return isinstance(body, game.ActionRequired) or (
            self.refill > 0 and isinstance(body, game.SeatChanged)
        )

    async def act_on(self, player_id: int, body: game.GamePush) -> None:
        if player_id in self.silent:
            return
        if isinstance(body, game.ActionRequired) and body.table_id == self.table_id:
            if self.seats.get(body.seat) != player_id:
                return
            action, amount, agree = choose(body.legal, self.rng)
            message = PlayerAct(
                player_id=player_id,
                hand_number=body.hand_number,
                decision_id=body.decision_id,
                action=action,
                amount=amount,
                agree=agree,
            )
            await self._ask(message)
        elif isinstance(body, game.SeatChanged) and self.refill and body.view is not None:
            view = body.view
            if view.player_id == player_id and view.stack == 0 and not view.in_hand:
                await self._ask(TopUpChips(player_id=player_id, amount=self.refill))
                await self._ask(SitIn(player_id=player_id, post_now=False))

    async def _ask(self, message: Any) -> None:
        try:
            await self.table.ask(message, timeout_s=30.0)
        except (GameRefused, IllegalAction, WalletError, TargetError) as exc:
            self.refused.append(getattr(exc, "code", type(exc).__name__))

    async def run(self, stream: trio.MemoryReceiveChannel[tuple[int, game.GamePush]]) -> None:
        async for player_id, body in stream:
            await self.act_on(player_id, body)


@dataclass
class Game:
    runtime: Runtime
    store: Store
    wallet: Wallet
    channel: RecordingChannel
    deps: TableDeps
    nursery: trio.Nursery

    async def open_table(self, config: TableConfig) -> ActorRef[Any]:
        tables = self.runtime.registry.supervisor("tables")
        return await tables.start_actor(table_spec(config, self.deps))

    async def fund(self, player_ids: Iterable[int], amount: int = FUNDS) -> None:
        for player_id in player_ids:
            await self.wallet.adjust(f"fund:{player_id}", wallet(player_id), amount, "test funds")

    async def seat_all(
        self, table: ActorRef[Any], players: Iterable[int], buy_in: int
    ) -> dict[int, int]:
        seats: dict[int, int] = {}
        for player_id in players:
            granted = await table.ask(JoinSeat(player_id=player_id, buy_in=buy_in))
            assert isinstance(granted, SeatGranted)
            seats[granted.seat] = player_id
        return seats

    async def assert_conserved(self, table: ActorRef[Any]) -> EscrowAudit:
        audit = await table.ask(AuditEscrow())
        assert isinstance(audit, EscrowAudit)
        assert audit.chips == audit.escrow_balance, audit
        ledger = await self.wallet.audit()
        assert ledger.consistent, ledger
        return audit

    async def seats(self, table: ActorRef[Any]) -> TableSeats:
        view = await table.ask(GetSeats())
        assert isinstance(view, TableSeats)
        return view


def nlhe(table_id: str = "t1", **overrides: Any) -> TableConfig:
    settings: dict[str, Any] = {
        "table_id": table_id,
        "name": f"Test {table_id}",
        "variant": Variant.NO_LIMIT_HOLDEM,
        "small_blind": 1,
        "big_blind": 2,
        "seats": 6,
        "between_hands_ms": 0,
        "action_timeout_ms": 60_000,
    }
    settings.update(overrides)
    return TableConfig(**settings)


@asynccontextmanager
async def running_game(database_url: str, seed: int, *, lobby: bool = True) -> AsyncIterator[Game]:
    async with open_store(database_url) as store:
        deps = TableDeps(
            store=store, wallet=Wallet(store), channel=RecordingChannel(), rng=random.Random(seed)
        )
        async with game_tree(deps, lobby=lobby) as session:
            yield session


@asynccontextmanager
async def game_tree(deps: TableDeps, *, lobby: bool = True) -> AsyncIterator[Game]:
    """A runtime with the lobby and the tables supervisor, as server/app.py will build it."""
    channel = deps.channel
    assert isinstance(channel, RecordingChannel)
    children = [ChildSpec.supervisor("tables", policy=SupervisionPolicy(intensity=5))]
    if lobby:
        children.insert(0, ChildSpec.worker("lobby", lambda: LobbyActor(deps)))
    runtime = Runtime(
        children,
        policy=SupervisionPolicy(strategy=Strategy.ONE_FOR_ONE),
        metrics_registry=None,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        try:
            yield Game(runtime, deps.store, deps.wallet, channel, deps, nursery)
        finally:
            runtime.stop()


async def drive(
    session: Game,
    bots: Bots | None,
    stream: trio.MemoryReceiveChannel[tuple[int, game.GamePush]],
    until: Callable[[int, game.GamePush], Awaitable[bool] | bool],
) -> None:
    """Hand every delivered body to the bots until ``until`` says stop.

    No trio deadline here: on the autojump clock, a wait for a database thread counts as
    idle, so a deadline would be jumped to while the store works."""
    async with trio.open_nursery() as nursery:
        async for player_id, body in stream:
            verdict = until(player_id, body)
            if not isinstance(verdict, bool):
                verdict = await verdict
            if verdict:
                nursery.cancel_scope.cancel()
                return
            if bots is not None and bots.wants(body):
                nursery.start_soon(bots.act_on, player_id, body)


def sqlite_url(tmp_path: Path) -> str:
    return "sqlite:///" + str(tmp_path / "db.sqlite3")


def assert_no_hole_card_leaks(
    channel: RecordingChannel, seat_of: dict[tuple[str, int], int]
) -> int:
    """No body delivered to a player carries another seat's hole cards before that seat
    showed them. ``seat_of``: (table id, player id) -> seat (watchers have none). Returns
    the number of bodies checked."""
    holes: dict[tuple[str, int], dict[int, tuple[str, ...]]] = defaultdict(dict)
    for player_bodies in channel.bodies.values():
        for _, body in player_bodies:
            if isinstance(body, game.HoleCards):
                holes[(body.table_id, body.hand_number)][body.seat] = body.cards
    checked = 0
    for player_id, player_bodies in channel.bodies.items():
        shown: set[tuple[str, int, int]] = set()
        for _, body in player_bodies:
            table_id = getattr(body, "table_id", None)
            hand_number = getattr(body, "hand_number", None)
            if table_id is None or not hand_number:
                continue
            own = seat_of.get((table_id, player_id))
            if isinstance(body, game.Showdown):
                shown.add((table_id, hand_number, body.seat))
            text = msgspec.json.encode(body).decode()
            for seat, cards in holes.get((table_id, hand_number), {}).items():
                if seat == own or (table_id, hand_number, seat) in shown:
                    continue
                for card in cards:
                    assert f'"{card}"' not in text, (
                        f"player {player_id} got seat {seat}'s {card} in {body!r}"
                    )
            checked += 1
    return checked
