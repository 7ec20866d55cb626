"""Tokens over real websockets: logout survives a restart, sessions have a maximum lifetime,
tokens longer-lived than ours are refused, and a resume cannot claim events never sent."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from trio_websocket import open_websocket_url

from protocol.client import ServerError, open_client
from protocol.codec import encode
from protocol.errors import ErrorCode
from protocol.messages import Authenticate, Error, LoggedIn, Notice, Ping, Pong
from server.auth import TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_TTL_S, TokenSigner
from server.gateway import GatewayLimits
from tests.persistence.stores import store_url
from tests.protocol.gateway_harness import (
    PASSWORD,
    TEST_SECRET,
    exchange,
    push_to_player,
    running_gateway,
    say_hello,
)


def token_with(**claims: object) -> str:
    now = int(time.time())
    payload: dict[str, object] = {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": "alice",
        "role": "player",
        "sid": "a-session",
        "iat": now,
        "exp": now + 600,
        "auth_time": now,
    }
    payload.update(claims)
    return jwt.encode(payload, TEST_SECRET, algorithm="HS256")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_logged_out_token_stays_refused_after_a_restart(
    tmp_path: Path, postgres_url: str, backend: str
) -> None:
    url = await store_url(backend, tmp_path, postgres_url)
    async with (
        running_gateway(tmp_path, database_url=url) as gateway,
        open_client(gateway.url) as c,
    ):
        token = (await c.register("alice", PASSWORD)).token
        await c.logout()
    # A new process: nothing in memory remembers the logout.
    async with (
        running_gateway(tmp_path, database_url=url) as gateway,
        open_client(gateway.url, reconnect=False) as client,
    ):
        with pytest.raises(ServerError) as info:
            await client.authenticate(token)
        assert info.value.code == ErrorCode.TOKEN_INVALID
        # The password still works: a logout ends one session, not the account.
        assert (await client.login("alice", PASSWORD)).player == "alice"


async def test_a_token_with_a_lifetime_longer_than_ours_is_refused(tmp_path: Path) -> None:
    now = int(time.time())
    async with running_gateway(tmp_path) as gateway:
        for exp in (10**20, now + TOKEN_TTL_S + 3600):
            async with open_client(gateway.url, reconnect=False) as client:
                with pytest.raises(ServerError) as info:
                    await client.authenticate(token_with(exp=exp))
                assert info.value.code == ErrorCode.TOKEN_INVALID
        assert len(gateway.sessions) == 0


async def test_refreshed_tokens_never_outlive_the_sessions_maximum_lifetime(
    tmp_path: Path,
) -> None:
    lifetime_s = 3 * 3600
    limits = GatewayLimits(session_lifetime_max_s=lifetime_s)
    now = int(time.time())
    async with running_gateway(tmp_path, limits=limits) as gateway:
        # A session that began with a password two hours ago: its token is refreshed, but
        # only up to the session's end, not 24 h from now.
        started = now - 2 * 3600
        async with open_client(gateway.url, reconnect=False) as client:
            fresh = await client.authenticate(token_with(auth_time=started, sid="s-old"))
            assert fresh.expires_at_s == started + lifetime_s
            claims = TokenSigner(TEST_SECRET, session_lifetime_max_s=lifetime_s).verify(fresh.token)
            assert claims.authenticated_at_s == started
        # A session past its lifetime is refused however fresh its last token is.
        async with open_client(gateway.url, reconnect=False) as client:
            with pytest.raises(ServerError) as info:
                await client.authenticate(token_with(auth_time=now - lifetime_s - 3600))
            assert info.value.code == ErrorCode.TOKEN_EXPIRED


@pytest.mark.parametrize("ahead_by", [1, None], ids=["newest+1", "2^63-1"])
async def test_a_resume_from_beyond_the_newest_event_is_refused(
    tmp_path: Path, ahead_by: int | None
) -> None:
    async with running_gateway(tmp_path) as gateway, open_client(gateway.url) as client:
        logged_in = await client.register("alice", PASSWORD)
        assert push_to_player(gateway, "alice", Notice(code="n", text="one")) == 1
        await client.next_event()
        newest = 1
        last_seq = newest + ahead_by if ahead_by is not None else 2**63 - 1
        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            reply = await exchange(
                ws, encode(Authenticate(id=5, token=logged_in.token, last_seq=last_seq))
            )
            assert isinstance(reply, Error), reply
            assert (reply.id, reply.code) == (5, ErrorCode.INVALID_MESSAGE)
            # Nothing changed: the first connection still holds the session.
            assert not isinstance(await exchange(ws, encode(Ping(id=6))), LoggedIn)
        assert isinstance(await client.request(Ping(id=0)), Pong)
        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            ok = await exchange(
                ws, encode(Authenticate(id=7, token=logged_in.token, last_seq=newest))
            )
            assert isinstance(ok, LoggedIn) and ok.resume == "complete"
