"""The websocket and the public API are two doors to the same services: what one does, the
other sees, on a whole server (run_server) with real sockets on both sides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from protocol.client import ServerError, open_client
from protocol.errors import CloseCode
from server.app import Listening, run_server
from server.auth import TokenSigner
from server.config import Settings

JWT_SECRET = "same-state-secret-" + "x" * 40
PASSWORD = "correct horse battery"


@asynccontextmanager
async def whole_server(tmp_path: Path) -> AsyncIterator[Listening]:
    settings = Settings(
        ws_port=0, admin_port=0, api_port=0, data_dir=tmp_path, jwt_secret=JWT_SECRET,
        player_transfers_enabled=True,  # the operator's switch (off by default)
    )  # fmt: skip
    async with trio.open_nursery() as nursery:
        listening: Listening = await nursery.start(run_server, settings)
        yield listening
        nursery.cancel_scope.cancel()


async def fund(listening: Listening, player_id: int, amount: int) -> None:
    staff, _ = TokenSigner(JWT_SECRET).issue("sam", "support")
    async with httpx.AsyncClient(base_url=listening.admin_url) as admin:
        response = await admin.post(
            f"/players/{player_id}/wallet/adjustments",
            headers={"authorization": f"Bearer {staff}"},
            json={"amount": amount, "reason": "test funds", "key": f"fund-{player_id}"},
        )
        assert response.status_code == 200, response.text


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_a_transfer_over_http_shows_on_the_socket_and_back(tmp_path: Path) -> None:
    async with (
        whole_server(tmp_path) as server,
        httpx.AsyncClient(base_url=server.api_url) as http,
        open_client(server.ws_url) as bob_ws,
    ):
        credentials = {"name": "alice", "password": PASSWORD}
        alice = (await http.post("/v1/auth/register", json=credentials)).json()
        bob = await bob_ws.register("bobby", PASSWORD)
        await fund(server, alice["player"]["id"], 1000)
        sent = await http.post(
            "/v1/wallet/transfers",
            json={"to_player": "bobby", "amount": 300, "memo": "over http"},
            headers={**bearer(alice), "Idempotency-Key": "h-1"},
        )
        assert sent.status_code == 201, sent.text
        assert (await bob_ws.balance()).balance == 300
        (entry,) = (await bob_ws.history()).entries
        assert (entry.amount, entry.memo) == (300, "over http")
        await bob_ws.transfer("alice", 120, key="w-1", memo="over the socket")
        balance = (await http.get("/v1/wallet", headers=bearer(alice))).json()
        assert balance["balance"] == 1000 - 300 + 120
        entries = (await http.get("/v1/wallet/entries", headers=bearer(alice))).json()["data"]
        assert [(e["amount"], e["memo"]) for e in entries[:2]] == [
            (120, "over the socket"), (-300, "over http"),
        ]  # fmt: skip
        # The account bob registered on the socket is the one the API's profiles show.
        assert bob.player == "bobby"
        assert (await http.get("/v1/players/2")).json()["name"] == "bobby"


async def test_both_doors_give_a_new_player_the_same_play_money(tmp_path: Path) -> None:
    async with (
        whole_server(tmp_path) as server,
        httpx.AsyncClient(base_url=server.api_url) as http,
        open_client(server.ws_url) as bob_ws,
    ):
        credentials = {"name": "alice", "password": PASSWORD}
        alice = (await http.post("/v1/auth/register", json=credentials)).json()
        await bob_ws.register("bobby", PASSWORD)
        over_http = (await http.get("/v1/wallet?asset=play", headers=bearer(alice))).json()
        over_ws = await bob_ws.balance("play")
        assert over_http["balance"] == over_ws.balance == Settings().play_starting_chips > 0


async def test_the_websocket_accepts_the_apis_access_token_until_logout(tmp_path: Path) -> None:
    async with (
        whole_server(tmp_path) as server,
        httpx.AsyncClient(base_url=server.api_url) as http,
    ):
        alice = (
            await http.post("/v1/auth/register", json={"name": "alice", "password": PASSWORD})
        ).json()
        async with open_client(server.ws_url) as ws:
            logged_in = await ws.authenticate(alice["access_token"])
            assert (logged_in.player, logged_in.session_id) == ("alice", alice["session_id"])
            assert (await ws.balance()).balance == 0
            out = await http.post("/v1/auth/logout", headers=bearer(alice))
            assert out.status_code == 204
            with pytest.raises(trio.EndOfChannel):  # the live socket of that session closes
                await ws.next_event(timeout_s=5)
            assert ws.close_code == CloseCode.LOGGED_OUT
        async with open_client(server.ws_url) as again:
            with pytest.raises(ServerError) as refused:
                await again.authenticate(alice["access_token"])
            assert refused.value.code == "token_invalid"


async def test_a_websocket_logout_ends_the_api_session_too(tmp_path: Path) -> None:
    async with (
        whole_server(tmp_path) as server,
        httpx.AsyncClient(base_url=server.api_url) as http,
    ):
        alice = (
            await http.post("/v1/auth/register", json={"name": "alice", "password": PASSWORD})
        ).json()
        async with open_client(server.ws_url) as ws:
            await ws.authenticate(alice["access_token"])
            await ws.logout()
        me = await http.get("/v1/me", headers=bearer(alice))
        assert (me.status_code, me.json()["code"]) == (401, "token_revoked")
