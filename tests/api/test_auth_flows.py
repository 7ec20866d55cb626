"""Register, login, refresh (rotation and reuse detection), logout, sessions, expiry."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from persistence import Store
from server.auth import TokenSigner
from tests.api.conftest import PASSWORD, SECRET, ApiHarness


async def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, await response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = await response.get_json()
    assert body["code"] == code and body["status"] == status
    assert body["type"] == f"urn:tablium:problem:{code}"
    assert body["request_id"] == response.headers["X-Request-Id"]
    return body


async def test_register_returns_tokens_that_the_api_accepts(api: ApiHarness) -> None:
    tokens = await api.register("alice")
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    assert tokens["refresh_token"].startswith("tbr_")
    claims = TokenSigner(SECRET).verify(tokens["access_token"])
    assert claims.session_id == tokens["session_id"] and claims.player == "alice"
    assert claims.expires_at_s - claims.issued_at_s == 900
    me = await api.client.get("/v1/me", headers=api.bearer(tokens))
    body = await me.get_json()
    assert (body["name"], body["id"], body["session_id"]) == ("alice", 1, tokens["session_id"])
    assert me.headers["Cache-Control"] == "no-store"


async def test_refresh_tokens_are_stored_hashed(api: ApiHarness) -> None:
    tokens = await api.register("alice")

    def rows() -> Any:
        from persistence.work import Query

        found = yield Query("SELECT token_hash FROM api_refresh_tokens")
        return found

    stored = [row[0] for row in await api.store.run(rows)]
    assert tokens["refresh_token"] not in stored and len(stored) == 1
    assert len(stored[0]) == 64


async def test_login_checks_the_password_with_the_same_accounts(api: ApiHarness) -> None:
    await api.register("alice")
    ok = await api.client.post("/v1/auth/login", json={"name": "ALICE", "password": PASSWORD})
    assert ok.status_code == 200
    wrong = await api.client.post("/v1/auth/login", json={"name": "alice", "password": "nope1234"})
    await problem(wrong, 401, "bad_credentials")
    nobody = await api.client.post("/v1/auth/login", json={"name": "zed", "password": PASSWORD})
    await problem(nobody, 401, "bad_credentials")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "al", "password": PASSWORD}, 422, "invalid_name"),
        ({"name": "admin1", "password": PASSWORD}, 422, "invalid_name"),
        ({"name": "alice", "password": "short"}, 422, "weak_password"),
        ({"name": "alice", "password": "password1"}, 422, "weak_password"),
        ({"name": "alice"}, 400, "invalid_request"),
        ({"name": "alice", "password": PASSWORD, "role": "admin"}, 400, "invalid_request"),
        ({"name": "a\u0000b", "password": PASSWORD}, 400, "invalid_text"),
        ({"name": 7, "password": PASSWORD}, 400, "invalid_request"),
    ],
)
async def test_registration_refusals_create_nothing(
    api: ApiHarness, body: dict[str, Any], status: int, code: str
) -> None:
    response = await api.client.post("/v1/auth/register", json=body)
    await problem(response, status, code)
    assert await api.store.search_accounts("") == []


async def test_a_taken_name_is_refused_ignoring_case(api: ApiHarness) -> None:
    await api.register("alice")
    again = await api.client.post("/v1/auth/register", json={"name": "Alice", "password": PASSWORD})
    await problem(again, 409, "name_taken")


async def test_repeated_failed_logins_are_throttled_with_retry_after(
    make_api: Callable[..., ApiHarness],
) -> None:
    api = make_api(api_auth_requests_per_min=100)
    await api.register("alice")
    for _ in range(5):  # the accounts' default: a delay from the 5th failure on
        await api.client.post("/v1/auth/login", json={"name": "alice", "password": "wrong-pw1"})
    throttled = await api.client.post(
        "/v1/auth/login", json={"name": "alice", "password": PASSWORD}
    )
    body = await problem(throttled, 429, "login_throttled")
    assert int(throttled.headers["Retry-After"]) >= 1 and body["retry_after_s"] >= 1


async def test_refresh_rotates_and_the_new_tokens_work(api: ApiHarness) -> None:
    tokens = await api.register("alice")
    response = await api.client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    fresh = await response.get_json()
    assert response.status_code == 200
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert fresh["session_id"] == tokens["session_id"]
    old_claims = TokenSigner(SECRET).verify(tokens["access_token"])
    new_claims = TokenSigner(SECRET).verify(fresh["access_token"])
    assert new_claims.authenticated_at_s == old_claims.authenticated_at_s  # the same login
    me = await api.client.get("/v1/me", headers=api.bearer(fresh))
    assert me.status_code == 200


async def test_a_reused_refresh_token_ends_the_whole_family(api: ApiHarness) -> None:
    tokens = await api.register("alice")
    first = await api.client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    rotated = await first.get_json()
    stolen = await api.client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    await problem(stolen, 401, "refresh_token_reused")
    assert api.ended_sessions == [tokens["session_id"]]  # its websocket sessions end too
    # Every token of the family is dead: the rotated refresh token and both access tokens.
    after = await api.client.post(
        "/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    await problem(after, 401, "refresh_token_invalid")
    for access in (tokens, rotated):
        me = await api.client.get("/v1/me", headers=api.bearer(access))
        await problem(me, 401, "token_revoked")


async def test_unknown_refresh_tokens_are_refused(api: ApiHarness) -> None:
    for token in ("tbr_nothing", "eyJhbGciOi", "x" * 128):
        response = await api.client.post("/v1/auth/refresh", json={"refresh_token": token})
        await problem(response, 401, "refresh_token_invalid")


async def test_logout_revokes_the_session_for_the_api_and_the_websocket(
    api: ApiHarness, store: Store
) -> None:
    tokens = await api.register("alice")
    out = await api.client.post("/v1/auth/logout", headers=api.bearer(tokens))
    assert out.status_code == 204 and await out.get_data() == b""
    assert api.ended_sessions == [tokens["session_id"]]
    assert (await store.token_login("alice", tokens["session_id"]))[1] is True
    me = await api.client.get("/v1/me", headers=api.bearer(tokens))
    await problem(me, 401, "token_revoked")
    refresh = await api.client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    await problem(refresh, 401, "refresh_token_invalid")


async def test_sessions_are_listed_paged_and_revoked_one_by_one(api: ApiHarness) -> None:
    first = await api.register("alice")
    logins = []
    for _ in range(3):
        response = await api.client.post(
            "/v1/auth/login",
            json={"name": "alice", "password": PASSWORD},
            headers={"User-Agent": "phone/1.0"},
        )
        logins.append(await response.get_json())
    me = api.bearer(logins[-1])
    page = await (await api.client.get("/v1/me/sessions?limit=2", headers=me)).get_json()
    assert len(page["data"]) == 2 and page["next_cursor"]
    rest = await (
        await api.client.get(f"/v1/me/sessions?limit=2&cursor={page['next_cursor']}", headers=me)
    ).get_json()
    ids = [s["session_id"] for s in page["data"] + rest["data"]]
    assert sorted(ids) == sorted([first["session_id"], *(t["session_id"] for t in logins)])
    assert [s["current"] for s in page["data"] + rest["data"]].count(True) == 1
    gone = await api.client.delete(f"/v1/me/sessions/{first['session_id']}", headers=me)
    assert gone.status_code == 204
    dead = await api.client.get("/v1/me", headers=api.bearer(first))
    await problem(dead, 401, "token_revoked")
    again = await api.client.delete(f"/v1/me/sessions/{first['session_id']}", headers=me)
    assert again.status_code == 204  # already ended: revoking again is harmless


async def test_a_player_cannot_revoke_anothers_session(api: ApiHarness) -> None:
    alice = await api.register("alice")
    bob = await api.register("bobby")
    response = await api.client.delete(
        f"/v1/me/sessions/{alice['session_id']}", headers=api.bearer(bob)
    )
    await problem(response, 404, "not_found")
    still = await api.client.get("/v1/me", headers=api.bearer(alice))
    assert still.status_code == 200


async def test_an_expired_access_token_is_refused_as_expired(api: ApiHarness) -> None:
    await api.register("alice")
    token, _ = TokenSigner(SECRET).issue("alice", "player", ttl_s=-60)
    await problem(await api.client.get("/v1/me", headers=api.bearer(token)), 401, "token_expired")


async def test_a_session_past_its_maximum_lifetime_cannot_be_refreshed(
    make_api: Callable[..., ApiHarness], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = make_api(session_lifetime_max_s=1)
    tokens = await api.register("alice")
    assert tokens["refresh_expires_at_s"] - tokens["expires_at_s"] <= 1
    assert tokens["expires_in"] <= 1  # the access token ends with the session
    wall = time.time
    monkeypatch.setattr(time, "time", lambda: wall() + 2)  # tokens live in wall-clock time
    response = await api.client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    await problem(response, 401, "refresh_token_invalid")


@pytest.mark.parametrize("algorithm", ["none", "HS512", "HS384"])
async def test_tokens_of_another_algorithm_are_refused(api: ApiHarness, algorithm: str) -> None:
    await api.register("alice")
    now = int(time.time())
    claims = {
        "iss": "tablium", "aud": "tablium-client", "sub": "alice", "role": "player",
        "sid": "forged", "iat": now, "exp": now + 60, "auth_time": now,
    }  # fmt: skip
    key = None if algorithm == "none" else SECRET
    token = jwt.encode(claims, key, algorithm=algorithm)
    await problem(await api.client.get("/v1/me", headers=api.bearer(token)), 401, "token_invalid")


async def test_a_banned_players_tokens_and_refresh_are_refused(
    api: ApiHarness, store: Store
) -> None:
    tokens = await api.register("alice")
    await store.set_account_banned(1, True)
    await problem(await api.client.get("/v1/me", headers=api.bearer(tokens)), 403, "account_banned")
    refresh = await api.client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    await problem(refresh, 403, "account_banned")
    login = await api.client.post("/v1/auth/login", json={"name": "alice", "password": PASSWORD})
    await problem(login, 403, "account_banned")


async def test_a_websocket_token_works_on_the_api(api: ApiHarness) -> None:
    await api.register("alice")
    token, _ = TokenSigner(SECRET).issue("alice", "player")  # what a websocket login gives
    me = await api.client.get("/v1/me", headers=api.bearer(token))
    assert (await me.get_json())["name"] == "alice"


async def test_a_dev_token_without_an_account_cannot_use_personal_routes(
    api: ApiHarness,
) -> None:
    token, _ = TokenSigner(SECRET).issue("ghost", "player")
    await problem(
        await api.client.get("/v1/wallet", headers=api.bearer(token)), 403, "account_required"
    )


@pytest.mark.parametrize(
    "header", ["Basic YWxpY2U6eA==", "Bearer", "Bearer ", "token abc", "Bearer " + "x" * 5000]
)
async def test_malformed_authorization_headers_are_refused(api: ApiHarness, header: str) -> None:
    response = await api.client.get("/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert (await response.get_json())["code"] in {"not_authenticated", "token_invalid"}


async def test_personal_routes_need_credentials(api: ApiHarness) -> None:
    for path in ("/v1/me", "/v1/wallet", "/v1/wallet/entries", "/v1/me/hands", "/v1/me/sessions"):
        await problem(await api.client.get(path), 401, "not_authenticated")
