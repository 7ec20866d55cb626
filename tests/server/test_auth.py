"""Tokens: only our own, unexpired, HS256, right issuer and audience; and password hashing."""

from __future__ import annotations

import base64
import json
import threading
import time

import jwt
import pytest
import trio
import trio.testing

from server.auth import (
    CLOCK_SKEW_LEEWAY_S,
    TOKEN_AUDIENCE,
    TOKEN_ISSUER,
    TokenExpired,
    TokenInvalid,
    TokenSigner,
)
from services.passwords import (
    CHEAP_HASHING_FOR_TESTS,
    HASHING_THREADS_MAX,
    RETRY_AFTER_MS_MAX,
    RETRY_AFTER_MS_MIN,
    HashingAbandoned,
    HashingBusy,
    PasswordHasher,
)

SECRET = "s" * 64
signer = TokenSigner(SECRET)


def claims_now(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": "alice",
        "role": "player",
        "sid": "session-1",
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_an_issued_token_verifies_to_its_claims() -> None:
    token, issued = signer.issue("alice", "director", session_id="s1")
    assert signer.verify(token) == issued
    assert (issued.player, issued.role, issued.session_id) == ("alice", "director", "s1")


def test_each_login_gets_its_own_session_id() -> None:
    assert (
        signer.issue("alice", "player")[1].session_id
        != signer.issue("alice", "player")[1].session_id
    )


def test_an_expired_token_is_refused_as_expired() -> None:
    token, _ = signer.issue("alice", "player", now_s=int(time.time()) - 7200, ttl_s=3600)
    with pytest.raises(TokenExpired):
        signer.verify(token)


def test_expiry_allows_for_clock_skew() -> None:
    token, _ = signer.issue("alice", "player", now_s=int(time.time()) - 100, ttl_s=100 - 5)
    assert CLOCK_SKEW_LEEWAY_S > 5
    assert signer.verify(token).player == "alice"


def test_a_token_with_a_changed_payload_is_refused() -> None:
    token, _ = signer.issue("alice", "player")
    header, _payload, signature = token.split(".")
    forged = f"{header}.{b64(claims_now(role='admin'))}.{signature}"
    with pytest.raises(TokenInvalid):
        signer.verify(forged)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = jwt.encode(claims_now(), "another-secret-" + "y" * 40, algorithm="HS256")
    with pytest.raises(TokenInvalid):
        signer.verify(token)


def test_an_unsigned_alg_none_token_is_refused() -> None:
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims_now(role='admin'))}."
    with pytest.raises(TokenInvalid):
        signer.verify(token)


def test_another_hmac_algorithm_is_refused_even_with_our_secret() -> None:
    token = jwt.encode(claims_now(), SECRET, algorithm="HS512")
    with pytest.raises(TokenInvalid):
        signer.verify(token)


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "someone-else"},
        {"iss": "not-tablium"},
        {"sid": None},
        {"sub": None},
        {"role": None},
        {"iat": None},
        {"exp": None},
        {"role": "superuser"},
        {"iat": int(time.time()) + 3600},  # issued in the future
    ],
    # An id must not carry the clock: xdist's workers collect at different instants, and a
    # test whose id differs between them fails the whole run's collection.
    ids=lambda o: ",".join(f"{k}={'future' if k == 'iat' and v else v}" for k, v in o.items()),
)
def test_tokens_with_wrong_or_missing_claims_are_refused(overrides: dict[str, object]) -> None:
    token = jwt.encode(claims_now(**overrides), SECRET, algorithm="HS256")
    with pytest.raises(TokenInvalid):
        signer.verify(token)


def test_garbage_is_not_a_token() -> None:
    with pytest.raises(TokenInvalid):
        signer.verify("not.a.token")


async def test_a_password_verifies_against_its_hash_and_no_other() -> None:
    hasher = PasswordHasher(CHEAP_HASHING_FOR_TESTS)
    stored = await hasher.hash("correct horse")
    assert stored.startswith("$argon2id$")
    assert await hasher.verify(stored, "correct horse")
    assert not await hasher.verify(stored, "wrong horse")


async def test_an_unknown_account_never_verifies() -> None:
    hasher = PasswordHasher(CHEAP_HASHING_FOR_TESTS)
    assert not await hasher.verify(None, "anything")
    assert not await hasher.verify("not-a-hash", "anything")


# --- admission control: the hashing queue is bounded -------------------------------------------


class BlockedHashing:
    """Stands in for argon2 in a hasher: every hash blocks its thread until released, so a
    test can fill the threads and the queue deterministically."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.hashed: list[str] = []

    def hash(self, password: str) -> str:
        self.release.wait(timeout=10)
        self.hashed.append(password)
        return "$argon2id$stand-in"

    def verify(self, _stored: str, password: str) -> bool:
        self.hash(password)
        return False


def blocked_hasher(waiting_max: int) -> tuple[PasswordHasher, BlockedHashing]:
    hasher = PasswordHasher(CHEAP_HASHING_FOR_TESTS, waiting_max=waiting_max, hash_s_estimate=0.25)
    blocked = BlockedHashing()
    hasher._hasher = blocked  # type: ignore[assignment]  # the argon2 object, replaced
    return hasher, blocked


async def settle() -> None:
    """Until every task here is blocked: hashing in a (held) thread, or queued for one."""
    await trio.testing.wait_all_tasks_blocked()


async def test_a_hash_past_the_waiting_bound_is_refused_at_once_with_a_retry_hint(
    autojump_clock: trio.testing.MockClock,
) -> None:
    hasher, blocked = blocked_hasher(waiting_max=2)
    async with trio.open_nursery() as nursery:
        for n in range(HASHING_THREADS_MAX + 2):  # every thread busy, two waiting
            nursery.start_soon(hasher.hash, f"password-{n}")
        await settle()
        assert hasher.running == HASHING_THREADS_MAX and hasher.waiting == 2
        started = trio.current_time()
        with pytest.raises(HashingBusy) as refused:
            await hasher.hash("one-too-many")
        assert trio.current_time() == started  # answered without waiting
        assert RETRY_AFTER_MS_MIN <= refused.value.retry_after_ms <= RETRY_AFTER_MS_MAX
        assert hasher.refused == 1 and hasher.waiting == 2
        blocked.release.set()
    # The refused one was never hashed; everyone admitted was.
    assert sorted(blocked.hashed) == [f"password-{n}" for n in range(HASHING_THREADS_MAX + 2)]
    assert hasher.waiting == 0


async def test_the_retry_hint_grows_with_the_queue() -> None:
    hasher, blocked = blocked_hasher(waiting_max=8)
    hints: list[int] = []
    async with trio.open_nursery() as nursery:
        for n in range(HASHING_THREADS_MAX + 8):
            nursery.start_soon(hasher.hash, f"password-{n}")
            await settle()
            assert hasher.waiting == max(0, n + 1 - HASHING_THREADS_MAX)
            hints.append(hasher.retry_after_ms())
        blocked.release.set()
    assert hints == sorted(hints) and hints[-1] > hints[0]


async def test_a_queued_hash_whose_requester_left_is_dropped_not_computed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    hasher, blocked = blocked_hasher(waiting_max=4)
    connected = {"left": True, "stays": True}
    outcomes: dict[str, str] = {}

    async def log_in(who: str) -> None:
        try:
            await hasher.verify(None, who, still_wanted=lambda: connected[who])
            outcomes[who] = "hashed"
        except HashingAbandoned:
            outcomes[who] = "abandoned"

    async with trio.open_nursery() as nursery:
        for n in range(HASHING_THREADS_MAX):
            nursery.start_soon(hasher.hash, f"busy-{n}")
        await settle()
        nursery.start_soon(log_in, "left")
        await settle()  # "left" queues first
        nursery.start_soon(log_in, "stays")
        await settle()
        assert hasher.running == HASHING_THREADS_MAX and hasher.waiting == 2
        connected["left"] = False  # its connection closed while it waited
        blocked.release.set()
    assert outcomes == {"left": "abandoned", "stays": "hashed"}
    assert "left" not in blocked.hashed and hasher.abandoned == 1


async def test_a_cancelled_waiter_leaves_the_queue(autojump_clock: trio.testing.MockClock) -> None:
    hasher, blocked = blocked_hasher(waiting_max=1)
    async with trio.open_nursery() as nursery:
        for n in range(HASHING_THREADS_MAX):
            nursery.start_soon(hasher.hash, f"busy-{n}")
        await settle()
        with trio.move_on_after(1):  # e.g. the gateway's login deadline
            await hasher.hash("gives-up")
        assert hasher.waiting == 0
        blocked.release.set()
        assert await hasher.hash("next") == "$argon2id$stand-in"  # the slot is free again
    assert "gives-up" not in blocked.hashed


async def test_a_hash_that_would_wait_past_the_time_bound_is_refused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    blocked = BlockedHashing()
    queued_max = 8
    # 250 ms a hash: 8 hashes take 2000 ms on one thread, 1000 on two, ...
    bound_ms = 250 * queued_max // HASHING_THREADS_MAX
    bounded = PasswordHasher(
        CHEAP_HASHING_FOR_TESTS, waiting_max=100, hash_s_estimate=0.25, wait_ms_max=bound_ms
    )
    bounded._hasher = blocked  # type: ignore[assignment]
    async with trio.open_nursery() as nursery:
        for n in range(queued_max):  # each admitted: what is ahead drains within the bound
            nursery.start_soon(bounded.hash, f"password-{n}")
        await settle()
        assert bounded.drain_ms() == bound_ms
        with pytest.raises(HashingBusy) as refused:
            await bounded.hash("too-late")
        assert refused.value.retry_after_ms == bound_ms
        blocked.release.set()
    assert "too-late" not in blocked.hashed and bounded.refused == 1
