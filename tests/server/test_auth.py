"""Tokens: only our own, unexpired, HS256, right issuer and audience; and password hashing."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from server.auth import (
    CLOCK_SKEW_LEEWAY_S,
    TOKEN_AUDIENCE,
    TOKEN_ISSUER,
    TokenExpired,
    TokenInvalid,
    TokenSigner,
)
from services.passwords import CHEAP_HASHING_FOR_TESTS, PasswordHasher

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
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
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
