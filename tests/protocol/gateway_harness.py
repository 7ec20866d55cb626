"""A real gateway on a free port over a real SQLite store, for the gateway and client tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio
from prometheus_client.registry import CollectorRegistry
from trio_websocket import ConnectionClosed, WebSocketConnection

from persistence.store import Store, open_store
from protocol.codec import ServerMessageDecoder, encode
from protocol.messages import Hello, PushBody, ServerMessage, Welcome
from server.gateway import (
    GameRequests,
    Gateway,
    GatewayLimits,
    PlayerChannel,
    SessionHooks,
    serve_gateway,
)
from services.passwords import CHEAP_HASHING_FOR_TESTS
from services.wallet import Wallet, WalletPolicy

if TYPE_CHECKING:
    from services.chain.settings import ChainSettings

TEST_SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"


@asynccontextmanager
async def gateway_and_store(
    tmp_path: Path,
    *,
    limits: GatewayLimits | None = None,
    hooks: SessionHooks | None = None,
    database_url: str | None = None,
    metrics_registry: CollectorRegistry | None = None,
    game_requests: GameRequests | None = None,
    channel: PlayerChannel | None = None,
    wallet_policy: WalletPolicy | None = None,
    chain: ChainSettings | None = None,
) -> AsyncIterator[tuple[Gateway, Store]]:
    """``chain``: give wallet_deposit and wallet_withdraw a blockchain cashier (its player
    side needs no node)."""
    url = database_url or f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    async with open_store(url) as store, trio.open_nursery() as nursery:
        cashier: Any = None
        if chain is not None:
            from services.chain.cashier import ChainCashier
            from services.chain.ledger_port import WalletCashierLedger

            cashier = ChainCashier(store, WalletCashierLedger(Wallet(store, wallet_policy)), chain)
        gateway: Gateway = await nursery.start(
            partial(
                serve_gateway,
                store,
                TEST_SECRET,
                limits=limits,
                hooks=hooks,
                hashing=CHEAP_HASHING_FOR_TESTS,
                metrics_registry=metrics_registry,
                game_requests=game_requests,
                channel=channel,
                wallet_policy=wallet_policy,
                cashier=cashier,
            )
        )
        try:
            yield gateway, store
        finally:
            nursery.cancel_scope.cancel()


@asynccontextmanager
async def running_gateway(
    tmp_path: Path,
    *,
    limits: GatewayLimits | None = None,
    hooks: SessionHooks | None = None,
    database_url: str | None = None,
    game_requests: GameRequests | None = None,
    channel: PlayerChannel | None = None,
    chain: ChainSettings | None = None,
) -> AsyncIterator[Gateway]:
    async with gateway_and_store(
        tmp_path,
        limits=limits,
        hooks=hooks,
        database_url=database_url,
        game_requests=game_requests,
        channel=channel,
        chain=chain,
    ) as (gateway, _store):
        yield gateway


_decoder = ServerMessageDecoder()


def decode(frame: bytes | str) -> ServerMessage:
    assert isinstance(frame, bytes), "the server sends binary frames only"
    return _decoder.decode(frame)


async def exchange(ws: WebSocketConnection, frame: bytes | str) -> ServerMessage:
    """Send one raw frame and read the next message the server sends."""
    await ws.send_message(frame)
    return decode(await ws.get_message())


async def say_hello(ws: WebSocketConnection) -> None:
    reply = await exchange(ws, encode(Hello(id=1, versions=[1])))
    assert isinstance(reply, Welcome), reply


async def wait_closed(ws: WebSocketConnection) -> int:
    """Read until the server closes; return its close code."""
    with trio.fail_after(30):
        while True:
            try:
                await ws.get_message()
            except ConnectionClosed as exc:
                return exc.reason.code


class RecordingHooks:
    """SessionHooks that report each call on a channel, so tests wait for them, not poll."""

    def __init__(self, state: Sequence[PushBody] = (), table_ids: Sequence[str] = ()) -> None:
        self.state = list(state)
        self.seated_at = list(table_ids)
        # Bounded: a test that makes more than 256 calls without reading them fails loudly.
        self.calls_send, self.calls = trio.open_memory_channel[tuple[str, str, str]](256)

    def session_detached(self, player_id: int | None, player: str, session_id: str) -> None:
        self.calls_send.send_nowait(("detached", player, session_id))

    def session_ended(self, player_id: int | None, player: str, session_id: str) -> None:
        self.calls_send.send_nowait(("ended", player, session_id))

    def current_state(self, player_id: int | None, player: str) -> Sequence[PushBody]:
        return self.state

    def table_ids(self, player_id: int | None) -> list[str]:
        return list(self.seated_at)

    def profile_changed(
        self,
        player_id: int,
        display_name: str | None = None,
        auto_muck: bool | None = None,
        auto_post_blinds: bool | None = None,
    ) -> None:
        pass  # no tables here

    async def next_call(self, timeout_s: float = 30) -> tuple[str, str, str]:
        with trio.fail_after(timeout_s):
            return await self.calls.receive()


def push_to_player(gateway: Gateway, player: str, body: PushBody) -> int:
    """Push ``body`` to every session of ``player`` (as the server's own notices are); returns
    how many. The tests' way to make events: the gateway has no such method of its own."""
    sessions = gateway.sessions.of_player(player)
    for session in sessions:
        session.push(body)
    return len(sessions)
