"""Token key rotation (server/token_keys.py, server/auth.py): tokens name their key, the
previous key verifies what it signed until its end, an unknown or retired key verifies
nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st
from trio_websocket import open_websocket_url

from protocol.codec import encode
from protocol.messages import Authenticate, LoggedIn
from server.app import run_server
from server.auth import (
    ROTATION_OVERLAP_S,
    TOKEN_AUDIENCE,
    TOKEN_ISSUER,
    TOKEN_TTL_S,
    TokenExpired,
    TokenInvalid,
    TokenSigner,
)
from server.config import Settings
from server.token_keys import (
    DEFAULT_KID,
    PREVIOUS_KEYS_MAX,
    TokenKey,
    TokenKeyError,
    TokenKeyRing,
    new_token_key,
    parse_token_key_ring,
)
from tests.protocol.gateway_harness import exchange, say_hello

OLD = TokenKey("2026-11", "o" * 40)
NEW = TokenKey("2026-12", "n" * 40)


def rotated(now_s: int, overlap_s: int = ROTATION_OVERLAP_S) -> TokenKeyRing:
    return TokenKeyRing(OLD).rotated(NEW, now_s=now_s, overlap_s=overlap_s)


def claims(now_s: int, **overrides: object) -> dict[str, object]:
    return {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": "alice",
        "role": "player",
        "sid": "s1",
        "iat": now_s,
        "exp": now_s + 3600,
        "auth_time": now_s,
        **overrides,
    }


def hand_made(header: dict[str, Any], payload: dict[str, object], secret: str) -> str:
    """An HS256 token with any header at all (PyJWT's encode refuses odd ones)."""

    def part(data: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    signing_input = f"{part(header)}.{part(payload)}"
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def test_a_token_names_the_current_key_in_its_header() -> None:
    token, _ = TokenSigner(rotated(int(time.time()))).issue("alice", "player")
    assert jwt.get_unverified_header(token)["kid"] == NEW.kid
    # Signed with the current key's secret, not the previous one's.
    jwt.decode(token, NEW.secret, algorithms=["HS256"], audience=TOKEN_AUDIENCE)


def test_a_token_signed_by_the_previous_key_verifies_until_its_exp_after_a_rotation() -> None:
    now = int(time.time())
    before = TokenSigner(TokenKeyRing(OLD))
    token, issued = before.issue("alice", "player", session_id="s1")  # lives TOKEN_TTL_S
    after = TokenSigner(rotated(now))
    assert after.verify(token) == issued
    # Its whole life is inside the overlap: the previous key ends after its exp.
    assert after.keys.previous[0].verify_until_s is not None
    assert after.keys.previous[0].verify_until_s > issued.expires_at_s
    # And its exp still applies: an expired token of the previous key is expired.
    expired, _ = before.issue("alice", "player", now_s=now - TOKEN_TTL_S, ttl_s=3600)
    with pytest.raises(TokenExpired):
        after.verify(expired)


def test_the_default_overlap_outlives_every_token_the_previous_key_signed() -> None:
    assert ROTATION_OVERLAP_S > TOKEN_TTL_S


def test_a_previous_key_past_its_end_verifies_nothing() -> None:
    now = int(time.time())
    token, _ = TokenSigner(TokenKeyRing(OLD)).issue("alice", "player")
    ended = rotated(now - 10, overlap_s=5)  # OLD's end was 5 s ago
    with pytest.raises(TokenInvalid, match="unknown or retired"):
        TokenSigner(ended).verify(token)


def test_an_unknown_kid_is_refused_even_when_signed_with_a_known_secret() -> None:
    now = int(time.time())
    signer = TokenSigner(rotated(now))
    forged = jwt.encode(claims(now), NEW.secret, algorithm="HS256", headers={"kid": "other"})
    with pytest.raises(TokenInvalid, match="unknown or retired"):
        signer.verify(forged)


def test_a_token_naming_one_key_but_signed_with_another_is_refused() -> None:
    now = int(time.time())
    signer = TokenSigner(rotated(now))
    mixed = jwt.encode(claims(now), OLD.secret, algorithm="HS256", headers={"kid": NEW.kid})
    with pytest.raises(TokenInvalid, match="Signature"):
        signer.verify(mixed)


@pytest.mark.parametrize("kid", [7, ["2026-12"], {"a": 1}, True])
def test_a_kid_that_is_not_a_string_is_refused(kid: object) -> None:
    now = int(time.time())
    token = hand_made({"alg": "HS256", "typ": "JWT", "kid": kid}, claims(now), NEW.secret)
    with pytest.raises(TokenInvalid, match=r"(?i)key id"):
        TokenSigner(rotated(now)).verify(token)


def test_tokens_without_a_kid_name_the_default_key() -> None:
    """Tokens issued before key ids existed verify with the single secret they were signed
    with, and after a rotation while ``default`` is a previous key."""
    now = int(time.time())
    secret = "x" * 40
    legacy = jwt.encode(claims(now), secret, algorithm="HS256")  # no kid
    assert TokenSigner(secret).verify(legacy).player == "alice"
    ring = TokenKeyRing.single(secret).rotated(NEW, now_s=now, overlap_s=ROTATION_OVERLAP_S)
    assert ring.previous[0].kid == DEFAULT_KID
    assert TokenSigner(ring).verify(legacy).player == "alice"
    with pytest.raises(TokenInvalid, match="unknown or retired"):
        TokenSigner(TokenKeyRing(NEW)).verify(legacy)


def test_a_plain_secret_signs_as_the_default_key() -> None:
    token, _ = TokenSigner("x" * 40).issue("alice", "player")
    assert jwt.get_unverified_header(token)["kid"] == DEFAULT_KID


def test_rotation_retires_the_current_key_and_drops_previous_keys_past_their_end() -> None:
    now = 1_800_000_000
    first = TokenKeyRing(OLD)
    second = first.rotated(NEW, now_s=now, overlap_s=100)
    assert second.current == NEW
    assert second.previous == (TokenKey(OLD.kid, OLD.secret, now + 100),)
    third_key = TokenKey("2027-01", "t" * 40)
    third = second.rotated(third_key, now_s=now + 50, overlap_s=100)
    assert [key.kid for key in third.previous] == [NEW.kid, OLD.kid]  # OLD still in its window
    fourth = third.rotated(TokenKey("2027-02", "f" * 40), now_s=now + 101, overlap_s=100)
    assert [key.kid for key in fourth.previous] == [third_key.kid, NEW.kid]  # OLD's end passed


def test_a_ring_survives_its_json_form() -> None:
    ring = rotated(1_800_000_000)
    assert parse_token_key_ring(ring.to_json()) == ring
    assert json.loads(ring.to_json())["previous"][0]["verify_until"] == "2027-01-16T09:00:30Z"
    assert all(OLD.secret not in line and NEW.secret not in line for line in ring.describe())
    assert OLD.secret not in repr(ring)


def test_a_ring_reads_from_a_toml_table_with_a_datetime() -> None:
    import tomllib

    ring = parse_token_key_ring(
        tomllib.loads(
            f"""
            [current]
            kid = "{NEW.kid}"
            secret = "{NEW.secret}"
            [[previous]]
            kid = "{OLD.kid}"
            secret = "{OLD.secret}"
            verify_until = 2027-01-16T09:00:30Z
            """
        )
    )
    assert ring == rotated(1_800_000_000)


def test_new_keys_are_random_and_named_after_the_time() -> None:
    first, second = new_token_key(now_s=1_800_000_000), new_token_key(now_s=1_800_000_000)
    assert first.kid == "20270115T080000Z"
    assert first.secret != second.secret and len(first.secret.encode()) >= 48


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "expected"),
        ('{"current": {"kid": "a", "secret": "short"}}', "at least 32 bytes"),
        ('{"current": {"kid": "a b", "secret": "' + "s" * 40 + '"}}', "key id 'a b'"),
        ('{"current": {"kid": "a", "secret": 5}}', "must be strings"),
        ('{"current": {"kid": "a", "secret": "' + "s" * 40 + '"}, "extra": 1}', "unknown field"),
        (
            '{"current": {"kid": "a", "secret": "' + "s" * 40 + '", "verify_until": "x"}}',
            "unknown field 'verify_until'",
        ),
        (
            '{"current": {"kid": "a", "secret": "' + "s" * 40 + '"},'
            ' "previous": [{"kid": "b", "secret": "' + "t" * 40 + '"}]}',
            "verify_until must be a time",
        ),
        (
            '{"current": {"kid": "a", "secret": "' + "s" * 40 + '"},'
            ' "previous": [{"kid": "b", "secret": "' + "t" * 40 + '",'
            ' "verify_until": "2027-01-01T00:00:00"}]}',
            "with its zone",
        ),
        (
            '{"current": {"kid": "a", "secret": "' + "s" * 40 + '"},'
            ' "previous": [{"kid": "a", "secret": "' + "t" * 40 + '",'
            ' "verify_until": "2027-01-01T00:00:00Z"}]}',
            "distinct",
        ),
        ('{"current": {"kid": "a", "secret": "' + "s" * 40 + '"}, "previous": {}}', "a list"),
    ],
)
def test_malformed_rings_are_refused_with_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(TokenKeyError, match=message):
        parse_token_key_ring(raw)


def test_a_ring_holds_a_bounded_number_of_previous_keys() -> None:
    previous = tuple(TokenKey(f"k{i}", "s" * 40, 1) for i in range(PREVIOUS_KEYS_MAX + 1))
    with pytest.raises(TokenKeyError, match=f"at most {PREVIOUS_KEYS_MAX}"):
        TokenKeyRing(NEW, previous)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["current", "previous", "kid", "secret", "verify_until"])
                      | st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(raw=json_values)
def test_any_json_is_a_ring_or_a_clear_refusal(raw: Any) -> None:
    try:
        ring = parse_token_key_ring(json.dumps(raw))
    except TokenKeyError as exc:
        assert str(exc)
    else:
        assert parse_token_key_ring(ring.to_json()) == ring


header_values = st.none() | st.booleans() | st.integers() | st.text(max_size=20)


@settings(max_examples=300, deadline=None)
@given(
    header=st.fixed_dictionaries(
        {},
        optional={
            "kid": st.sampled_from([NEW.kid, OLD.kid, DEFAULT_KID]) | header_values,
            "alg": st.sampled_from(["HS256", "HS512", "none"]) | header_values,
            "typ": header_values,
            "x": header_values,
        },
    )
)
def test_any_token_header_verifies_or_is_refused_as_invalid(header: dict[str, Any]) -> None:
    """Only a token naming the current key (whose secret signed it) with HS256 verifies;
    everything else is TokenInvalid, never another exception."""
    now = int(time.time())
    signer = TokenSigner(rotated(now))
    token = hand_made({"alg": "HS256", **header}, claims(now), NEW.secret)
    expected = header.get("kid") == NEW.kid and header.get("alg", "HS256") == "HS256"
    try:
        verified = signer.verify(token)
    except TokenInvalid:
        assert not expected
    else:
        assert expected and verified.player == "alice"


async def test_a_server_on_a_rotated_ring_takes_both_keys_tokens_at_both_doors(
    tmp_path: Path,
) -> None:
    """The websocket and the admin API verify with the configured ring: a token of the
    previous key logs in (and gets one of the current key back), an unknown key does not."""
    now = int(time.time())
    settings = Settings(
        ws_port=0, admin_port=0, api_port=0, data_dir=tmp_path, jwt_keys=rotated(now)
    )
    old_admin, _ = TokenSigner(TokenKeyRing(OLD)).issue("staff-1", "admin")
    old_player, _ = TokenSigner(TokenKeyRing(OLD)).issue("dev-player", "player")
    foreign = TokenKeyRing(TokenKey("elsewhere", "e" * 40))
    stranger, _ = TokenSigner(foreign).issue("staff-1", "admin")
    async with trio.open_nursery() as nursery:
        listening = await nursery.start(run_server, settings)
        async with httpx.AsyncClient(base_url=listening.admin_url) as http:
            ok = await http.get("/info", headers={"Authorization": f"Bearer {old_admin}"})
            refused = await http.get("/info", headers={"Authorization": f"Bearer {stranger}"})
        assert ok.status_code == 200
        assert (refused.status_code, refused.json()["error"]) == (401, "token_invalid")
        with trio.fail_after(10):
            async with open_websocket_url(listening.ws_url) as ws:
                await say_hello(ws)
                reply = await exchange(ws, encode(Authenticate(id=2, token=old_player)))
        assert isinstance(reply, LoggedIn), reply
        assert jwt.get_unverified_header(reply.token)["kid"] == NEW.kid
        nursery.cancel_scope.cancel()
