"""The gateway over real websockets: handshake, login, tokens, phases, limits."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import argon2
import jwt
import pytest
import trio
import trio.lowlevel
import trio.testing
from trio.testing import MockClock
from trio_websocket import ConnectionRejected, open_websocket_url

from protocol.client import ServerError, open_client
from protocol.codec import encode
from protocol.errors import CloseCode, ErrorCode
from protocol.messages import (
    Error,
    GuestLogin,
    Hello,
    LoggedIn,
    Login,
    Logout,
    Notice,
    Ok,
    Ping,
    Pong,
    Register,
    Welcome,
)
from server.auth import TOKEN_AUDIENCE, TOKEN_ISSUER, TokenSigner
from server.gateway import GatewayLimits
from services.passwords import HASHING_THREADS_MAX
from tests.e2e.clock import gateway_test_clock
from tests.protocol.gateway_harness import (
    PASSWORD,
    TEST_SECRET,
    RecordingHooks,
    decode,
    exchange,
    push_to_player,
    running_gateway,
    say_hello,
    wait_closed,
)


@pytest.fixture
def clock() -> MockClock:
    return gateway_test_clock()


async def error_of(reply: object, code: ErrorCode) -> Error:
    assert isinstance(reply, Error), reply
    assert reply.code == code, reply
    return reply


async def test_hello_agrees_on_a_version_and_states_the_limits(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway, open_websocket_url(gateway.url) as ws:
        reply = await exchange(ws, encode(Hello(id=7, versions=[1, 99], client="test")))
        assert isinstance(reply, Welcome)
        assert (reply.id, reply.version) == (7, 1)
        assert reply.frame_bytes_max == gateway.limits.frame_bytes_max


async def test_an_unsupported_version_is_refused_and_hello_can_be_retried(
    tmp_path: Path,
) -> None:
    async with running_gateway(tmp_path) as gateway, open_websocket_url(gateway.url) as ws:
        error = await error_of(
            await exchange(ws, encode(Hello(id=1, versions=[2, 3]))),
            ErrorCode.VERSION_UNSUPPORTED,
        )
        assert error.id == 1
        # Nothing changed: still before hello, so a second hello may pick version 1.
        assert isinstance(await exchange(ws, encode(Hello(id=2, versions=[1]))), Welcome)


async def test_the_client_sdk_reports_a_version_mismatch(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway:
        with pytest.raises(ServerError) as info:
            async with open_client(gateway.url, versions=[9]):
                pass
        assert info.value.code == ErrorCode.VERSION_UNSUPPORTED


async def test_a_registered_player_logs_in_on_a_new_connection(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway:
        async with open_client(gateway.url) as client:
            registered = await client.register("alice", PASSWORD)
            assert (registered.player, registered.role, registered.resume) == (
                "alice",
                "player",
                "new",
            )
        async with open_client(gateway.url) as client:
            logged_in = await client.login("alice", PASSWORD)
            assert logged_in.player == "alice"
            assert logged_in.session_id != registered.session_id
            claims = TokenSigner(TEST_SECRET).verify(logged_in.token)
            assert (claims.player, claims.session_id) == ("alice", logged_in.session_id)
            assert await client.ping() >= 0


async def test_a_wrong_password_is_refused_and_the_connection_may_retry(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway:
        async with open_client(gateway.url) as client:
            await client.register("alice", PASSWORD)
        async with open_client(gateway.url) as client:
            with pytest.raises(ServerError) as info:
                await client.login("alice", "not the password")
            assert info.value.code == ErrorCode.BAD_CREDENTIALS
            assert (await client.login("alice", PASSWORD)).player == "alice"


async def test_registering_a_taken_name_is_refused(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway:
        async with open_client(gateway.url) as client:
            await client.register("alice", PASSWORD)
        async with open_client(gateway.url) as client:
            with pytest.raises(ServerError) as info:
                await client.register("Alice", PASSWORD)
            assert info.value.code == ErrorCode.NAME_TAKEN


def forged(**claims: object) -> str:
    now = int(time.time())
    payload: dict[str, object] = {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": "alice",
        "role": "admin",
        "sid": "forged-session",
        "iat": now,
        "exp": now + 600,
        "auth_time": now,
    }
    payload.update(claims)
    return jwt.encode(payload, TEST_SECRET, algorithm="HS256")


def unsigned() -> str:
    _header, payload, _signature = forged().split(".")
    none_header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    return f"{none_header}.{payload}."


def tampered() -> str:
    token = TokenSigner(TEST_SECRET).issue("alice", "player")[0]
    header, _payload, signature = token.split(".")
    return f"{header}.{forged(role='admin').split('.')[1]}.{signature}"


@pytest.mark.parametrize(
    ("make_token", "code"),
    [
        (
            lambda: forged(
                iat=int(time.time()) - 7200,
                exp=int(time.time()) - 3600,
                auth_time=int(time.time()) - 7200,
            ),
            "token_expired",
        ),
        (tampered, "token_invalid"),
        (unsigned, "token_invalid"),
        (lambda: forged(aud="someone-else"), "token_invalid"),
        (lambda: forged(iss="evil"), "token_invalid"),
    ],
    ids=["expired", "tampered", "alg-none", "wrong-audience", "wrong-issuer"],
)
async def test_bad_tokens_are_refused(tmp_path: Path, make_token: object, code: str) -> None:
    assert callable(make_token)
    async with running_gateway(tmp_path) as gateway, open_client(gateway.url) as client:
        with pytest.raises(ServerError) as info:
            await client.authenticate(make_token())
        assert info.value.code == code
        assert len(gateway.sessions) == 0


async def test_a_valid_token_logs_in_and_is_refreshed(tmp_path: Path) -> None:
    token, _ = TokenSigner(TEST_SECRET).issue("bot-7", "player", session_id="s-1")
    async with running_gateway(tmp_path) as gateway, open_client(gateway.url) as client:
        reply = await client.authenticate(token)
        assert (reply.player, reply.session_id, reply.resume) == ("bot-7", "s-1", "new")
        assert TokenSigner(TEST_SECRET).verify(reply.token).session_id == "s-1"


async def test_messages_in_the_wrong_phase_are_refused_and_change_nothing(
    tmp_path: Path,
) -> None:
    async with running_gateway(tmp_path) as gateway, open_websocket_url(gateway.url) as ws:
        await error_of(await exchange(ws, encode(Ping(id=1))), ErrorCode.WRONG_PHASE)
        await error_of(
            await exchange(ws, encode(Login(id=2, name="alice", password=PASSWORD))),
            ErrorCode.WRONG_PHASE,
        )
        await say_hello(ws)
        await error_of(await exchange(ws, encode(Logout(id=3))), ErrorCode.NOT_AUTHENTICATED)
        assert isinstance(await exchange(ws, encode(Ping(id=4))), Pong)
        await exchange(ws, encode(Register(id=5, name="alice", password=PASSWORD)))
        await error_of(await exchange(ws, encode(Hello(id=6, versions=[1]))), ErrorCode.WRONG_PHASE)
        await error_of(
            await exchange(ws, encode(Login(id=7, name="alice", password=PASSWORD))),
            ErrorCode.WRONG_PHASE,
        )
        assert isinstance(await exchange(ws, encode(Ping(id=8))), Pong)


async def test_garbage_and_text_frames_get_errors_and_the_session_goes_on(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway, open_websocket_url(gateway.url) as ws:
        await say_hello(ws)
        await error_of(await exchange(ws, b"\xc1\x00garbage"), ErrorCode.MALFORMED_FRAME)
        await error_of(await exchange(ws, "a text frame"), ErrorCode.MALFORMED_FRAME)
        unknown = await error_of(
            await exchange(ws, encode({"type": "fly", "id": 9})), ErrorCode.UNKNOWN_TYPE
        )
        assert unknown.id == 9
        assert isinstance(await exchange(ws, encode(Ping(id=10))), Pong)


async def test_an_oversized_frame_gets_an_error_and_a_huge_one_closes(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway, open_websocket_url(gateway.url) as ws:
        await say_hello(ws)
        limits = gateway.limits
        await error_of(
            await exchange(ws, b"\x00" * (limits.frame_bytes_max + 1)), ErrorCode.FRAME_TOO_LARGE
        )
        assert isinstance(await exchange(ws, encode(Ping(id=2))), Pong)
        await ws.send_message(b"\x00" * (limits.frame_bytes_hard_max + 1))
        assert await wait_closed(ws) == CloseCode.MESSAGE_TOO_BIG


async def test_requests_over_the_rate_are_refused_until_the_bucket_refills(
    tmp_path: Path, clock: MockClock
) -> None:
    limits = GatewayLimits(rate_burst_requests=5, rate_refill_per_s=2)
    async with (
        running_gateway(tmp_path, limits=limits) as gateway,
        open_websocket_url(gateway.url) as ws,
    ):
        await say_hello(ws)  # spends one token
        for request_id in range(10):
            await ws.send_message(encode(Ping(id=request_id)))
        replies = [decode(await ws.get_message()) for _ in range(10)]
        pongs = [r for r in replies if isinstance(r, Pong)]
        limited = [r for r in replies if isinstance(r, Error)]
        assert len(pongs) == 4
        assert all(e.code == ErrorCode.RATE_LIMITED for e in limited)
        assert [e.id for e in limited] == list(range(4, 10))
        retry_after_ms = limited[-1].retry_after_ms
        assert retry_after_ms is not None and 0 < retry_after_ms <= 500
        await trio.sleep(retry_after_ms / 1000)
        assert isinstance(await exchange(ws, encode(Ping(id=99))), Pong)


async def test_a_connection_that_does_not_log_in_in_time_is_closed(
    tmp_path: Path, clock: MockClock
) -> None:
    async with running_gateway(tmp_path) as gateway, open_websocket_url(gateway.url) as ws:
        await say_hello(ws)
        started = trio.current_time()
        assert await wait_closed(ws) == CloseCode.AUTH_TIMEOUT
        assert trio.current_time() - started <= gateway.limits.auth_timeout_ms / 1000


async def test_a_logged_in_connection_outlives_the_auth_deadline(
    tmp_path: Path, clock: MockClock
) -> None:
    async with running_gateway(tmp_path) as gateway, open_client(gateway.url) as client:
        await client.register("alice", PASSWORD)
        await trio.sleep(gateway.limits.auth_timeout_ms / 1000 * 3)
        assert await client.ping() >= 0
        assert client.reconnects == 0


async def test_a_peer_that_stops_answering_pings_is_closed(
    tmp_path: Path, clock: MockClock
) -> None:
    limits = GatewayLimits(heartbeat_interval_ms=1_000, heartbeat_timeout_ms=2_000)
    hooks = RecordingHooks()
    # message_queue_size=1 and nobody reading: the client's websocket reader stalls behind
    # undelivered messages and answers no more pings, like a frozen peer.
    async with (
        running_gateway(tmp_path, limits=limits, hooks=hooks) as gateway,
        open_websocket_url(gateway.url, message_queue_size=1) as ws,
    ):
        await say_hello(ws)
        reply = await exchange(ws, encode(Register(id=2, name="alice", password=PASSWORD)))
        assert isinstance(reply, LoggedIn)
        for _ in range(3):
            push_to_player(gateway, "alice", Notice(code="n", text="unread"))
        started = trio.current_time()
        assert await hooks.next_call() == ("detached", "alice", reply.session_id)
        waited_s = trio.current_time() - started
        assert waited_s <= (limits.heartbeat_interval_ms + limits.heartbeat_timeout_ms) / 1000
        assert len(gateway.sessions) == 1  # detached, held for resume


async def test_too_many_connections_from_one_address_are_refused(tmp_path: Path) -> None:
    limits = GatewayLimits(connections_per_ip_max=2)
    async with running_gateway(tmp_path, limits=limits) as gateway:
        async with open_websocket_url(gateway.url), open_websocket_url(gateway.url):
            with pytest.raises(ConnectionRejected) as info:
                async with open_websocket_url(gateway.url):
                    pass
            assert info.value.status_code == 429
        async with open_client(gateway.url) as client:  # freed again
            assert isinstance(await client.request(Ping(id=0)), Pong)


async def test_a_client_that_does_not_read_is_disconnected_not_buffered(tmp_path: Path) -> None:
    limits = GatewayLimits(outbound_queue_messages_max=8)
    hooks = RecordingHooks()
    async with (
        running_gateway(tmp_path, limits=limits, hooks=hooks) as gateway,
        open_websocket_url(gateway.url, message_queue_size=1) as ws,
    ):
        await say_hello(ws)
        reply = await exchange(ws, encode(Register(id=2, name="alice", password=PASSWORD)))
        assert isinstance(reply, LoggedIn)
        session = gateway.sessions.of_player("alice")[0]
        text = "x" * 4000
        pushed = 0
        with trio.fail_after(20):
            while session.outlet is not None:
                push_to_player(gateway, "alice", Notice(code="flood", text=text))
                pushed += 1
                await trio.lowlevel.checkpoint()  # lets the writer move bytes to the kernel
        assert await hooks.next_call() == ("detached", "alice", reply.session_id)
        # The flood outgrew the kernel's socket buffers and then the queue of 8.
        assert pushed > limits.outbound_queue_messages_max
        assert len(session.replay) <= limits.replay_events_max


async def test_guests_are_refused_unless_the_setting_allows_them(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway, open_websocket_url(gateway.url) as ws:
        await say_hello(ws)
        await error_of(await exchange(ws, encode(GuestLogin(id=2))), ErrorCode.GUEST_LOGIN_DISABLED)
    async with (
        running_gateway(tmp_path, limits=GatewayLimits(guest_login=True)) as gateway,
        open_client(gateway.url) as client,
    ):
        reply = await client.guest_login()
        assert reply.player.startswith("guest-")
        assert reply.role == "player"


async def test_logout_replies_closes_and_ends_the_session(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway, open_websocket_url(gateway.url) as ws:
        await say_hello(ws)
        await exchange(ws, encode(Register(id=2, name="alice", password=PASSWORD)))
        assert len(gateway.sessions) == 1
        assert await exchange(ws, encode(Logout(id=3))) == Ok(id=3)
        assert await wait_closed(ws) == CloseCode.LOGGED_OUT
        assert len(gateway.sessions) == 0


async def test_stopping_the_gateway_closes_connections_with_going_away(tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        stop = trio.CancelScope()
        started = trio.Event()
        urls: list[str] = []

        async def serve() -> None:
            with stop:
                async with running_gateway(tmp_path) as gateway:
                    urls.append(gateway.url)
                    started.set()
                    await trio.sleep_forever()

        nursery.start_soon(serve)
        await started.wait()
        async with open_websocket_url(urls[0]) as ws:
            await say_hello(ws)
            stop.cancel()
            assert await wait_closed(ws) == CloseCode.GOING_AWAY


async def test_registration_and_login_over_the_gateway_on_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    async with running_gateway(tmp_path, database_url=postgres_url) as gateway:
        async with open_client(gateway.url) as client:
            await client.register("pg_gateway_alice", PASSWORD)
        async with open_client(gateway.url) as client:
            with pytest.raises(ServerError) as info:
                await client.login("pg_gateway_alice", "not the password")
            assert info.value.code == ErrorCode.BAD_CREDENTIALS
            assert (await client.login("PG_Gateway_Alice", PASSWORD)).player == "pg_gateway_alice"


class HeldHashing:
    """Stands in for argon2 behind the gateway: each hash holds its thread until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.hashed: list[str] = []

    def hash(self, password: str) -> str:
        self.release.wait(timeout=10)
        self.hashed.append(password)
        return CHEAP_HASHER.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        self.release.wait(timeout=10)
        self.hashed.append(password)
        return CHEAP_HASHER.verify(stored, password)


CHEAP_HASHER = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


async def test_logins_past_the_hashing_queue_get_server_busy_with_a_retry_hint_at_once(
    tmp_path: Path,
) -> None:
    limits = GatewayLimits(login_hashes_waiting_max=1)
    async with (
        running_gateway(tmp_path, limits=limits) as gateway,
        contextlib.AsyncExitStack() as stack,
    ):
        held = HeldHashing()
        gateway.accounts.hasher._hasher = held  # type: ignore[assignment]
        admitted = HASHING_THREADS_MAX + 1  # every thread hashing, one waiting
        sockets = [
            await stack.enter_async_context(open_websocket_url(gateway.url))
            for _ in range(admitted + 1)
        ]
        for n, ws in enumerate(sockets[:admitted]):
            await say_hello(ws)
            register = Register(id=n, name=f"early{n}", password=f"pw-{n}" * 3)
            await ws.send_message(encode(register))
        await trio.testing.wait_all_tasks_blocked()
        assert gateway.accounts.hasher.waiting == 1
        await say_hello(sockets[-1])
        late = Register(id=9, name="late", password=PASSWORD)
        refused = await error_of(await exchange(sockets[-1], encode(late)), ErrorCode.SERVER_BUSY)
        assert refused.id == 9 and refused.retry_after_ms is not None
        assert refused.retry_after_ms > 0
        held.release.set()
        for ws in sockets[:admitted]:
            assert isinstance(decode(await ws.get_message()), LoggedIn)
        # The refusal changed nothing: the same request now succeeds.
        reply = await exchange(sockets[-1], encode(Register(id=10, name="late", password=PASSWORD)))
        assert isinstance(reply, LoggedIn)
    assert PASSWORD in held.hashed and len(held.hashed) == admitted + 1


async def test_a_queued_login_whose_connection_closed_is_not_hashed(tmp_path: Path) -> None:
    limits = GatewayLimits(login_hashes_waiting_max=4)
    async with (
        running_gateway(tmp_path, limits=limits) as gateway,
        contextlib.AsyncExitStack() as stack,
    ):
        hasher = gateway.accounts.hasher
        held = HeldHashing()
        hasher._hasher = held  # type: ignore[assignment]
        sockets = [
            await stack.enter_async_context(open_websocket_url(gateway.url))
            for _ in range(HASHING_THREADS_MAX + 1)
        ]
        for n, ws in enumerate(sockets):
            await say_hello(ws)
            await ws.send_message(encode(Register(id=n, name=f"user{n}", password=f"pw-{n}" * 3)))
        await trio.testing.wait_all_tasks_blocked()
        assert hasher.waiting == 1
        await sockets[-1].aclose()  # the one waiting gives up
        await trio.testing.wait_all_tasks_blocked()
        held.release.set()
        for ws in sockets[:-1]:
            assert isinstance(decode(await ws.get_message()), LoggedIn)
        assert hasher.abandoned == 1
    assert sorted(held.hashed) == [f"pw-{n}" * 3 for n in range(HASHING_THREADS_MAX)]
