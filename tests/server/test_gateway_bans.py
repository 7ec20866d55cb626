"""A ban reaches live sessions: they end at once (4006), run nothing more, and stay ended.

Over real websockets; the first test goes through the whole server and the admin API's ban
route, the others drive Gateway.ban_player (what that route calls) with recording doubles.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import trio
import trio.testing
from trio_websocket import open_websocket_url

from protocol.client import ConnectionLost, ServerError, open_client
from protocol.codec import encode
from protocol.errors import CloseCode, ErrorCode
from protocol.game import GameRequest, SitOut
from protocol.messages import Error, LoggedIn, Login, Register, Reply, WalletTransfer
from server.app import Listening, run_server
from server.auth import TokenSigner
from server.config import Settings
from tests.protocol.gateway_harness import (
    PASSWORD,
    RecordingHooks,
    exchange,
    gateway_and_store,
    say_hello,
    wait_closed,
)

JWT_SECRET = "ban-test-secret-" + "x" * 40


@asynccontextmanager
async def whole_server(tmp_path: Path) -> AsyncIterator[Listening]:
    settings = Settings(
        ws_port=0, admin_port=0, api_port=0, data_dir=tmp_path, jwt_secret=JWT_SECRET
    )
    async with trio.open_nursery() as nursery:
        listening: Listening = await nursery.start(run_server, settings)
        yield listening
        nursery.cancel_scope.cancel()


async def test_a_ban_through_the_admin_api_closes_every_session_of_the_player_with_4006(
    tmp_path: Path,
) -> None:
    staff, _ = TokenSigner(JWT_SECRET).issue("sam", "support")
    async with (
        whole_server(tmp_path) as server,
        open_client(server.ws_url) as first,
        open_client(server.ws_url) as bob,
    ):
        alice = await first.register("alice", PASSWORD)
        await bob.register("bob_b", PASSWORD)
        async with open_client(server.ws_url) as second:
            await second.login("alice", PASSWORD)  # two sessions of hers
            await first.balance()  # her wallet works until the ban
            async with httpx.AsyncClient(base_url=server.admin_url) as admin:
                found = await admin.get(
                    "/players", params={"q": "alice"}, headers={"authorization": f"Bearer {staff}"}
                )
                (row,) = found.json()["players"]
                banned = await admin.post(
                    f"/players/{row['id']}/ban",
                    headers={"authorization": f"Bearer {staff}"},
                    json={"reason": "chip dumping"},
                )
                assert banned.status_code == 200, banned.text
            for client in (first, second):
                with pytest.raises(trio.EndOfChannel):  # closed, and no reconnect
                    await client.next_event(timeout_s=5)
                assert client.close_code == CloseCode.ACCOUNT_BANNED
                with pytest.raises(ConnectionLost):  # nothing more can be sent
                    await client.send_raw(
                        encode(WalletTransfer(id=9, to_player="bob_b", amount=1, key="k"))
                    )
        # Her token and her password are both refused from now on.
        async with open_client(server.ws_url) as again:
            with pytest.raises(ServerError) as info:
                await again.authenticate(alice.token)
            assert info.value.code in (ErrorCode.ACCOUNT_BANNED, ErrorCode.TOKEN_INVALID)
            with pytest.raises(ServerError) as info:
                await again.login("alice", PASSWORD)
            assert info.value.code == ErrorCode.ACCOUNT_BANNED
        assert (await bob.balance()).balance == 0  # nothing reached bob


class HeldTables:
    """A GameRequests double whose requests wait until released; records what ran."""

    def __init__(self) -> None:
        self.started: list[GameRequest] = []
        self.finished: list[GameRequest] = []
        self.release = trio.Event()

    async def handle(
        self, player_id: int, player: str, request: GameRequest, address: str = ""
    ) -> Reply | None:
        self.started.append(request)
        await self.release.wait()
        self.finished.append(request)
        return None


async def test_no_request_of_the_player_runs_after_the_ban_and_the_session_ends(
    tmp_path: Path,
) -> None:
    hooks = RecordingHooks()
    tables = HeldTables()
    async with (
        gateway_and_store(tmp_path, hooks=hooks, game_requests=tables) as (gateway, store),
        open_client(gateway.url) as bob,
    ):
        await bob.register("bob_b", PASSWORD)
        async with open_client(gateway.url) as registering:
            await registering.register("alice", PASSWORD)
            await registering.logout()
        assert (await hooks.next_call())[:2] == ("ended", "alice")
        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            logged_in = await exchange(ws, encode(Login(id=2, name="alice", password=PASSWORD)))
            assert isinstance(logged_in, LoggedIn)
            # A request in flight (held by the tables), and a transfer queued behind it.
            await ws.send_message(encode(SitOut(id=3, table_id="t1")))
            transfer = WalletTransfer(id=4, to_player="bob_b", amount=1, key="k1")
            await ws.send_message(encode(transfer))
            await trio.testing.wait_all_tasks_blocked()
            assert len(tables.started) == 1
            account = await store.get_account_by_name("alice")
            assert account is not None
            await store.set_account_banned(account.id, True)
            assert gateway.ban_player(account.id) == 1
            tables.release.set()
            assert await wait_closed(ws) == CloseCode.ACCOUNT_BANNED
        assert await hooks.next_call() == ("ended", "alice", logged_in.session_id)
        assert tables.finished == []  # cancelled where it waited
        assert gateway.sessions.of_player("alice") == []
        assert gateway.bans_enforced == 1
        history = await bob.history()
        assert history.entries == []  # the queued transfer never ran


async def test_a_token_login_that_raced_the_ban_is_refused(tmp_path: Path) -> None:
    async with gateway_and_store(tmp_path) as (gateway, store):
        async with open_client(gateway.url) as client:
            logged_in = await client.register("alice", PASSWORD)
        account = await store.get_account_by_name("alice")
        assert account is not None
        gateway.ban_player(account.id)  # no session now; the database says "not banned"
        before = trio.current_time() - 1
        assert gateway.banned_since(account.id, before)
        assert not gateway.banned_since(account.id, trio.current_time() + 1)
        async with open_client(gateway.url, reconnect=False) as client:
            with pytest.raises(ServerError) as info:
                await client.authenticate(logged_in.token)
            # Her session's tokens were revoked with the ban: a racing login is refused too.
            assert info.value.code in (ErrorCode.ACCOUNT_BANNED, ErrorCode.TOKEN_INVALID)


async def test_a_transfer_to_a_banned_player_answers_as_for_an_unknown_name(
    tmp_path: Path,
) -> None:
    async with gateway_and_store(tmp_path) as (gateway, store):
        async with open_client(gateway.url) as client:
            await client.register("mallory", PASSWORD)
        account = await store.get_account_by_name("mallory")
        assert account is not None
        await store.set_account_banned(account.id, True)
        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            register = Register(id=2, name="alice", password=PASSWORD)
            assert isinstance(await exchange(ws, encode(register)), LoggedIn)
            answers = []
            for n, name in enumerate(("mallory", "nobody_here")):
                transfer = WalletTransfer(id=10 + n, to_player=name, amount=1, key=f"k{n}")
                answers.append(await exchange(ws, encode(transfer)))
        banned, unknown = answers
        assert isinstance(banned, Error) and isinstance(unknown, Error)
        assert banned.code == unknown.code == ErrorCode.UNKNOWN_PLAYER
        assert banned.message == unknown.message.replace("nobody_here", "mallory")
        assert str(account.id) not in banned.message and "ban" not in banned.message


async def test_the_client_does_not_reconnect_after_a_ban(tmp_path: Path) -> None:
    async with gateway_and_store(tmp_path) as (gateway, store), open_client(gateway.url) as client:
        await client.register("alice", PASSWORD)
        account = await store.get_account_by_name("alice")
        assert account is not None
        gateway.ban_player(account.id)
        with pytest.raises(trio.EndOfChannel):  # closed, and no reconnect
            await client.next_event(timeout_s=5)
        assert client.close_code == CloseCode.ACCOUNT_BANNED
        assert client.reconnects == 0
