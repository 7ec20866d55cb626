"""End-to-end harness: a server started in-process, funded players on real websockets, bots
that answer ``action_required`` with a seeded random legal action, and a frame recorder that
checks hole-card privacy on every frame any player received.

The server is ``server.app.run_server`` in this trio run. The harness opens a second store on
the same database to fund wallets and read the ledger (the server's own store is private to
it), and reaches the tables in-process (``runtime.registry``) for exact audits: a table
answers ``AuditEscrow`` between two of its messages, so nothing moves while it counts.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import msgspec
import trio

from actors.registry import Registry
from actors.table.admin import open_table
from actors.table.config import TableConfig
from actors.table.messages import (
    AuditEscrow,
    EscrowAudit,
    GetSeats,
    TableSeats,
)
from persistence import open_store
from persistence.store import Store
from poker import Variant
from protocol import game
from protocol.client import Client, ServerError, open_client
from protocol.messages import Error, Event
from protocol.textframes import DEFAULT_ENCODING, Encoding
from server.app import Listening, run_server
from server.config import Settings
from server.gateway import Gateway
from services.ledger import wallet
from services.wallet import Wallet
from tests.actors.test_table_fakes import choose

JWT_SECRET: Final = "e2e-test-secret-" + "x" * 32
PASSWORD: Final = "correct horse battery"
FUNDS: Final = 100_000
FRAMES_BUFFERED_MAX: Final = 200_000  # bound of the test's frame stream (overflow: test fails)
_CARD = re.compile(r"^[2-9TJQKA][cdhs]$")

Frames = trio.MemoryReceiveChannel[tuple[int, game.GamePush]]


def table_config(table_id: str, **overrides: Any) -> TableConfig:
    """A fast no-limit table for tests: no pause between hands, a generous action clock."""
    settings: dict[str, Any] = {
        "table_id": table_id,
        "name": f"E2E {table_id}",
        "variant": Variant.NO_LIMIT_HOLDEM,
        "small_blind": 1,
        "big_blind": 2,
        "seats": 6,
        "between_hands_ms": 0,
        "action_timeout_ms": 30_000,
    }
    settings.update(overrides)
    return TableConfig(**settings)


# --- hole-card privacy -------------------------------------------------------------------


def _cards_in(body: game.GamePush) -> set[str]:
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            if _CARD.match(value):
                found.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(msgspec.to_builtins(body))
    return found


@dataclass
class FrameRecorder:
    """Every push each player received, in order, and who owns which hole cards.

    ``seat_owner``: (table id, seat) -> player id, from the ``seated`` replies. A hole card's
    owner is the player seated where the engine dealt it, never whoever received the frame,
    so a ``hole_cards`` frame to the wrong player is caught as a leak too."""

    frames: dict[int, list[game.GamePush]] = field(default_factory=lambda: defaultdict(list))
    seat_owner: dict[tuple[str, int], int] = field(default_factory=dict)
    stream_send: trio.MemorySendChannel[tuple[int, game.GamePush]] | None = None

    def stream(self) -> Frames:
        self.stream_send, receive = trio.open_memory_channel[tuple[int, game.GamePush]](
            FRAMES_BUFFERED_MAX
        )
        return receive

    def record(self, player_id: int, body: game.GamePush) -> None:
        self.frames[player_id].append(body)
        if self.stream_send is not None:
            self.stream_send.send_nowait((player_id, body))  # full: WouldBlock fails the test

    def of(self, player_id: int, kind: type[Any]) -> list[Any]:
        return [body for body in self.frames[player_id] if isinstance(body, kind)]

    def assert_no_hole_card_leaks(self) -> int:
        """No frame to a player carries a card dealt to another seat of that hand before a
        ``showdown`` frame showed it to them. Returns the number of frames checked."""
        owner: dict[tuple[str, int, str], int] = {}  # (table, hand, card) -> player id
        for frames in self.frames.values():
            for body in frames:
                if isinstance(body, game.HoleCards):
                    player = self.seat_owner[(body.table_id, body.seat)]
                    for card in body.cards:
                        owner[(body.table_id, body.hand_number, card)] = player
        checked = 0
        for player_id, frames in self.frames.items():
            shown: set[tuple[str, int, str]] = set()
            current: dict[str, int] = {}  # table -> the hand this player last heard of
            for body in frames:
                checked += 1
                table_id = getattr(body, "table_id", "")
                hand_number = getattr(body, "hand_number", None) or current.get(table_id, 0)
                current[table_id] = hand_number
                if isinstance(body, game.Showdown):
                    shown.update((table_id, hand_number, c) for c in body.cards)
                for card in _cards_in(body):
                    key = (table_id, hand_number, card)
                    dealt_to = owner.get(key)
                    assert dealt_to in (None, player_id) or key in shown, (
                        f"player {player_id} saw {card} of player {dealt_to} in {body!r}"
                    )
        return checked


# --- players -------------------------------------------------------------------------------


@dataclass
class Player:
    """A logged-in websocket client. ``run()`` records its pushes and plays as a bot."""

    client: Client
    name: str
    player_id: int
    recorder: FrameRecorder
    rng: random.Random
    silent: bool = False  # never acts (the table's clock acts for them)
    refill: int = 0  # top up and sit in again when busted (0: never)
    acting: bool = True  # False: records only (tests that act themselves)
    calls_only: bool = False  # acts by checking or calling (and showing), never folding
    refused: list[str] = field(default_factory=list)  # error codes the bot got
    seats: dict[str, int] = field(default_factory=dict)  # table id -> my seat

    async def join(self, table_id: str, buy_in: int, seat: int | None = None) -> game.Seated:
        reply = await self.client.request(
            game.JoinTable(id=0, table_id=table_id, buy_in=buy_in, seat=seat)
        )
        assert isinstance(reply, game.Seated), reply
        self.seats[table_id] = reply.seat
        self.recorder.seat_owner[(table_id, reply.seat)] = self.player_id
        return reply

    async def run(self) -> None:
        async for item in self.client.events():
            if isinstance(item, Error):
                self.refused.append(item.code)
                continue
            assert isinstance(item, Event)
            body = item.body
            if not isinstance(body, game.GamePush):  # session notices
                continue
            self.recorder.record(self.player_id, body)
            if self.acting and not self.silent:
                await self.answer(body)

    async def answer(self, body: game.GamePush) -> None:
        if isinstance(body, game.ActionRequired):
            if self.seats.get(body.table_id) != body.seat:
                return
            if self.calls_only:
                try:
                    await self.client.act(body, "show" if body.legal.show else "check_or_call")
                except ServerError as exc:
                    self.refused.append(exc.code)
                return
            action, amount, agree = choose(body.legal, self.rng)
            await self.request(
                game.Act(
                    id=0,
                    table_id=body.table_id,
                    hand_number=body.hand_number,
                    decision_id=body.decision_id,
                    action=action,  # type: ignore[arg-type]
                    amount=amount,
                    agree=agree,
                )
            )
        elif isinstance(body, game.SeatChanged) and self.refill and body.view is not None:
            view = body.view
            if view.player_id == self.player_id and view.stack == 0 and not view.in_hand:
                await self.request(game.TopUp(id=0, table_id=body.table_id, amount=self.refill))
                await self.request(game.WaitForBigBlind(id=0, table_id=body.table_id))

    async def request(self, message: Any) -> object:
        try:
            return await self.client.request(message)
        except ServerError as exc:
            self.refused.append(exc.code)
            return None


@dataclass
class Server:
    listening: Listening
    store: Store  # a second connection to the server's database
    wallet: Wallet
    recorder: FrameRecorder
    nursery: trio.Nursery  # the players' clients and bots
    players: list[Player] = field(default_factory=list)

    @property
    def registry(self) -> Registry:
        return self.listening.runtime.registry

    @property
    def gateway(self) -> Gateway:
        gateway = self.listening.runtime.root.child("gateway").started_value
        assert isinstance(gateway, Gateway)
        return gateway

    async def open_table(self, config: TableConfig) -> str:
        return await open_table(self.registry, config)

    async def player(
        self,
        name: str,
        seed: int,
        *,
        funds: int = FUNDS,
        encoding: Encoding = DEFAULT_ENCODING,
        **bot: Any,
    ) -> Player:
        """Register ``name`` over a websocket (speaking ``encoding``), fund its wallet, start
        its bot."""
        player: Player = await self.nursery.start(self._connect, name, seed, funds, bot, encoding)
        return player

    async def _connect(
        self,
        name: str,
        seed: int,
        funds: int,
        bot: dict[str, Any],
        encoding: Encoding,
        *,
        task_status: trio.TaskStatus[Player],
    ) -> None:
        async with open_client(self.listening.ws_url, encoding=encoding) as client:
            await client.register(name, PASSWORD)
            player_id = self.gateway.sessions.of_player(name)[0].player_id
            assert player_id is not None
            if funds:
                await self.wallet.adjust(f"e2e-fund:{name}", wallet(player_id), funds, "funds")
            player = Player(client, name, player_id, self.recorder, random.Random(seed), **bot)
            self.players.append(player)
            task_status.started(player)
            await player.run()

    async def audit(self, table_id: str) -> EscrowAudit:
        """Stacks + pending top-ups + owed payments == the table's escrow balance, and the
        whole ledger audit is consistent."""
        ref = self.registry.lookup(f"table:{table_id}")
        assert ref is not None, table_id
        audit = await ref.ask(AuditEscrow(), timeout_s=10)
        assert isinstance(audit, EscrowAudit)
        assert audit.chips == audit.escrow_balance, audit
        ledger = await self.wallet.audit()
        assert ledger.consistent, ledger
        return audit

    async def seats(self, table_id: str) -> TableSeats:
        ref = self.registry.lookup(f"table:{table_id}")
        assert ref is not None, table_id
        view = await ref.ask(GetSeats(), timeout_s=10)
        assert isinstance(view, TableSeats)
        return view

    async def wallets(self) -> int:
        return sum([(await self.wallet.balance(p.player_id)).balance for p in self.players])


def settings_for(tmp_path: Path, database_url: str = "", **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ws_port": 0,
        "admin_port": 0,
        "api_port": 0,
        "data_dir": tmp_path,
        "jwt_secret": JWT_SECRET,
        "database_url": database_url,
        # Bots act as fast as the server answers: far above a person's 30 requests a second.
        "rate_burst_requests": 100_000,
        "rate_refill_per_s": 100_000,
        # ... and every player here is on one address (loopback), as a swarm is.
        "rate_ip_burst_requests": 100_000,
        "rate_ip_refill_per_s": 100_000,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_server(
    tmp_path: Path, database_url: str = "", **overrides: Any
) -> AsyncIterator[Server]:
    """The whole server in this trio run, with a second store on its database."""
    settings = settings_for(tmp_path, database_url, **overrides)
    async with trio.open_nursery() as nursery:
        listening: Listening = await nursery.start(run_server, settings)
        async with (
            open_store(settings.effective_database_url()) as store,
            trio.open_nursery() as players,
        ):
            server = Server(listening, store, Wallet(store), FrameRecorder(), players)
            try:
                yield server
            finally:
                players.cancel_scope.cancel()
        nursery.cancel_scope.cancel()


async def wait_for(
    frames: Frames, predicate: Callable[[int, game.GamePush], bool], timeout_s: float = 10.0
) -> tuple[int, game.GamePush]:
    """The next (player id, body) in ``frames`` that matches; fails after ``timeout_s``."""
    with trio.fail_after(timeout_s):
        async for player_id, body in frames:
            if predicate(player_id, body):
                return player_id, body
    raise AssertionError("the frame stream ended")


async def check_down_one_hand(frames: Frames, players: list[Player]) -> int:
    """Every player (``acting=False``) checks or calls to the showdown and shows, until the
    hand ends; its rake."""
    by_id = {p.player_id: p for p in players}
    with trio.fail_after(10):
        async for player_id, body in frames:
            player = by_id.get(player_id)
            if isinstance(body, game.HandEnded) and player is players[0]:
                return body.rake
            if not isinstance(body, game.ActionRequired) or player is None:
                continue
            if player.seats.get(body.table_id) != body.seat:
                continue
            await player.client.act(body, "show" if body.legal.show else "check_or_call")
    raise AssertionError("the frame stream ended")
