"""Password logins under attack, over real websockets: guessing is throttled per account and
per address, failures are logged and counted, one address gets only its share of the
hashing queue, registrations per address are bounded, and weak secrets and staff-like names
are refused."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import msgspec
import pytest
import structlog
import trio
import trio.testing
from prometheus_client.registry import CollectorRegistry
from trio.testing import MockClock
from trio_websocket import WebSocketConnection, open_websocket_url, wrap_client_stream

from protocol.client import ServerError, open_client
from protocol.codec import encode
from protocol.errors import ErrorCode
from protocol.messages import Error, LoggedIn, Login, Register
from server.gateway import GatewayLimits
from services.accounts import LoginPolicy
from services.throttle import BackoffPolicy
from tests.e2e.clock import gateway_test_clock
from tests.protocol.gateway_harness import (
    PASSWORD,
    decode,
    exchange,
    gateway_and_store,
    running_gateway,
    say_hello,
)
from tests.server.test_gateway import HeldHashing


@pytest.fixture
def clock() -> MockClock:
    return gateway_test_clock()


@asynccontextmanager
async def ws_from(url: str, source: str) -> AsyncIterator[WebSocketConnection]:
    """A websocket whose TCP connection comes from ``source`` (another loopback address)."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    async with trio.open_nursery() as nursery:
        stream = await trio.open_tcp_stream(parts.hostname, parts.port, local_address=source)
        ws = await wrap_client_stream(nursery, stream, parts.hostname, "/")
        try:
            yield ws
        finally:
            await ws.aclose()


async def _login(ws: WebSocketConnection, request_id: int, name: str, password: str) -> object:
    return await exchange(ws, encode(Login(id=request_id, name=name, password=password)))


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_guessing_a_password_is_slowed_then_the_right_one_must_wait_too(
    tmp_path: Path, clock: MockClock
) -> None:
    registry = CollectorRegistry()
    async with gateway_and_store(tmp_path, metrics_registry=registry) as (gateway, _store):
        async with open_client(gateway.url) as owner:
            await owner.register("alice", PASSWORD)
        answers: list[str] = []
        with structlog.testing.capture_logs() as logged:
            for batch in range(5):  # 100 guesses over 5 connections, back to back
                async with open_websocket_url(gateway.url) as ws:
                    await say_hello(ws)
                    for n in range(20):
                        reply = await _login(ws, n + 2, "alice", f"guess-number-{batch}-{n}")
                        assert isinstance(reply, Error), reply
                        answers.append(reply.code)
            async with open_websocket_url(gateway.url) as ws:
                await say_hello(ws)
                refused = await _login(ws, 2, "alice", PASSWORD)
        # Five guesses were checked; from then on, refusals without hashing.
        assert answers[:5] == [ErrorCode.BAD_CREDENTIALS] * 5
        assert set(answers[5:]) == {ErrorCode.LOGIN_THROTTLED}
        assert isinstance(refused, Error) and refused.code == ErrorCode.LOGIN_THROTTLED
        assert refused.retry_after_ms is not None and 0 < refused.retry_after_ms <= 1000
        # Logged with the address (hashed by the log pipeline, server/logs.py), the name of
        # the account when the name was looked up, never the password.
        failures = [entry for entry in logged if entry["event"] == "login failed"]
        assert len(failures) == 101
        assert {(e["name"], e["address"], e["reason"]) for e in failures} == {
            ("alice", "127.0.0.1", "bad_credentials"),
            (None, "127.0.0.1", "throttled"),
        }
        assert all("guess-number" not in repr(entry) for entry in logged)
        assert PASSWORD not in repr(logged)
        metric = "tablium_login_failures_total"
        assert _sample(registry, metric, reason="bad_credentials") == 5
        assert _sample(registry, metric, reason="throttled") == 96
        # After the wait, the right password gets in.
        await trio.sleep(refused.retry_after_ms / 1000)
        async with open_client(gateway.url) as client:
            assert (await client.login("alice", PASSWORD)).player == "alice"


async def test_repeated_failures_lock_the_account_for_the_lock_time(
    tmp_path: Path, clock: MockClock
) -> None:
    policy = LoginPolicy(per_account=BackoffPolicy(2, 4, 1000, 600))
    async with running_gateway(tmp_path, limits=GatewayLimits(login_policy=policy)) as gateway:
        async with open_client(gateway.url) as client:
            await client.register("alice", PASSWORD)
        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            failures = 0
            request_id = 2
            while failures < 4:  # guess whenever allowed
                request_id += 1
                reply = await _login(ws, request_id, "alice", "not-the-password")
                assert isinstance(reply, Error)
                if reply.code == ErrorCode.BAD_CREDENTIALS:
                    failures += 1
                else:
                    assert reply.retry_after_ms is not None
                    await trio.sleep(reply.retry_after_ms / 1000)
            locked = await _login(ws, request_id + 1, "alice", PASSWORD)
            assert isinstance(locked, Error) and locked.code == ErrorCode.LOGIN_THROTTLED
            assert locked.retry_after_ms == 600_000


async def test_failures_from_one_address_slow_it_down_but_not_other_addresses(
    tmp_path: Path, clock: MockClock
) -> None:
    policy = LoginPolicy(per_address=BackoffPolicy(3, 50, 1000, 600))
    async with running_gateway(tmp_path, limits=GatewayLimits(login_policy=policy)) as gateway:
        async with open_client(gateway.url) as client:
            await client.register("alice", PASSWORD)
        async with ws_from(gateway.url, "127.0.0.1") as ws:
            await say_hello(ws)
            for n in range(3):  # three different names: no one account is throttled
                reply = await _login(ws, n + 2, f"victim{n}", "not-the-password")
                assert isinstance(reply, Error) and reply.code == ErrorCode.BAD_CREDENTIALS
            slowed = await _login(ws, 9, "alice", PASSWORD)
            assert isinstance(slowed, Error) and slowed.code == ErrorCode.LOGIN_THROTTLED
        async with ws_from(gateway.url, "127.0.0.2") as ws:
            await say_hello(ws)
            assert isinstance(await _login(ws, 2, "alice", PASSWORD), LoggedIn)


async def _until(condition: Callable[[], bool]) -> None:
    """Returns once ``condition()`` holds, checked each time every task waits (a task that
    waits for the store's thread counts as waiting, so one check is not enough)."""
    while not condition():
        await trio.testing.wait_all_tasks_blocked()


async def test_one_address_cannot_fill_the_hashing_queue(tmp_path: Path) -> None:
    limits = GatewayLimits(login_hashes_waiting_max=32, login_hashes_per_ip_max=4)
    async with (
        running_gateway(tmp_path, limits=limits) as gateway,
        contextlib.AsyncExitStack() as stack,
    ):
        async with open_client(gateway.url) as client:
            await client.register("alice", PASSWORD)
        held = HeldHashing()
        hasher = gateway.accounts.hasher
        hasher._hasher = held  # type: ignore[assignment]
        sockets = [
            await stack.enter_async_context(ws_from(gateway.url, "127.0.0.1")) for _ in range(48)
        ]
        answers: dict[int, object] = {}

        async def answer(n: int, ws: WebSocketConnection) -> None:
            answers[n] = decode(await ws.get_message())

        async with trio.open_nursery() as readers:
            for n, ws in enumerate(sockets):
                await say_hello(ws)
                await ws.send_message(encode(Login(id=n, name=f"nobody{n}", password="wrong")))
                readers.start_soon(answer, n, ws)
            # Each login reads the store first, so they reach the hasher in no fixed order:
            # some four are in line, and the other 44, beyond the address's share, are
            # refused at once.
            await _until(lambda: len(answers) == 44)
            in_line = sorted(set(range(48)) - answers.keys())
            refused = [answers[n] for n in answers]
            assert all(isinstance(a, Error) and a.code == ErrorCode.SERVER_BUSY for a in refused)
            assert hasher.refused_over_share == 44
            assert hasher.waiting + hasher.running == 4
            # Another address still gets in line, and in.
            async with ws_from(gateway.url, "127.0.0.2") as other:
                await say_hello(other)
                await other.send_message(encode(Login(id=1, name="alice", password=PASSWORD)))
                await _until(lambda: hasher.waiting + hasher.running == 5)
                held.release.set()
                assert isinstance(decode(await other.get_message()), LoggedIn)
        # The four in line were heard out: wrong passwords.
        for n in in_line:
            reply = answers[n]
            assert isinstance(reply, Error) and reply.code == ErrorCode.BAD_CREDENTIALS


async def test_registrations_per_address_are_limited(tmp_path: Path, clock: MockClock) -> None:
    policy = LoginPolicy(registrations_per_address_per_hour=3)
    async with running_gateway(tmp_path, limits=GatewayLimits(login_policy=policy)) as gateway:
        for n in range(3):
            async with open_client(gateway.url) as client:
                await client.register(f"player{n}", PASSWORD)
        async with open_client(gateway.url) as client:
            with pytest.raises(ServerError) as info:
                await client.register("player3", PASSWORD)
            assert info.value.code == ErrorCode.REGISTRATION_LIMITED
            assert info.value.retry_after_ms is not None
            assert 0 < info.value.retry_after_ms <= 1200 * 1000  # one in 20 minutes
        async with ws_from(gateway.url, "127.0.0.2") as ws:  # another address may
            await say_hello(ws)
            register = Register(id=2, name="player3", password=PASSWORD)
            assert isinstance(await exchange(ws, encode(register)), LoggedIn)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("12345678", ErrorCode.WEAK_PASSWORD),
        ("password", ErrorCode.WEAK_PASSWORD),
        ("PassWord", ErrorCode.WEAK_PASSWORD),
        ("qwertyuiop", ErrorCode.WEAK_PASSWORD),
        (" " * 8, ErrorCode.WEAK_PASSWORD),
        ("ab" * 8, ErrorCode.WEAK_PASSWORD),
        ("\x00" * 8, ErrorCode.INVALID_MESSAGE),
        ("carol-rules-99", ErrorCode.WEAK_PASSWORD),  # holds the name
    ],
)
async def test_weak_passwords_are_refused(tmp_path: Path, password: str, code: str) -> None:
    async with running_gateway(tmp_path) as gateway, open_websocket_url(gateway.url) as ws:
        await say_hello(ws)
        frame = msgspec.msgpack.encode(
            {"type": "register", "id": 2, "name": "Carol", "password": password}
        )
        reply = await exchange(ws, frame)
        assert isinstance(reply, Error) and reply.code == code, reply


@pytest.mark.parametrize(
    "name", ["admin", "Root", "support", "Adm1n", "support_team", "admin2", "t4blium", "STAFF"]
)
async def test_staff_like_names_are_reserved(tmp_path: Path, name: str) -> None:
    async with running_gateway(tmp_path) as gateway, open_client(gateway.url) as client:
        with pytest.raises(ServerError) as info:
            await client.register(name, PASSWORD)
        assert info.value.code == ErrorCode.INVALID_NAME
