"""API keys: created by an admin with scopes (shown once, stored hashed), checked per route,
rate-limited at their own rate, revocable, every state-changing use in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from admin.app import create_admin_app
from admin.auth import jwt_verifier
from admin.context import AdminContext
from persistence import Store
from persistence.work import Query, Work
from server.auth import TokenSigner
from services.api_keys import key_hash
from services.ledger import wallet
from services.wallet import Wallet
from tests.api.conftest import SECRET, ApiHarness, api_settings
from tests.api.test_auth_flows import problem


def staff(role: str) -> dict[str, str]:
    token, _ = TokenSigner(SECRET).issue("root", role)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(store: Store) -> Any:
    context = AdminContext(
        settings=api_settings(),
        verify_token=jwt_verifier(TokenSigner(SECRET)),
        store=store,
        wallet=Wallet(store),
    )
    return create_admin_app(context).test_client()


async def create_key(admin: Any, **fields: Any) -> dict[str, Any]:
    body = {"name": "Partner", "scopes": ["lobby:read"], "reason": "onboarding", **fields}
    response = await admin.post("/api-keys", json=body, headers=staff("admin"))
    assert response.status_code == 201, await response.get_data(as_text=True)
    created: dict[str, Any] = await response.get_json()
    return created


def _hashes() -> Work[list[str]]:
    rows = yield Query("SELECT key_hash FROM api_keys")
    return [row[0] for row in rows]


async def test_a_key_is_shown_once_and_stored_hashed(admin: Any, store: Store) -> None:
    created = await create_key(admin)
    key = created["key"]
    assert key.startswith("tbk_") and created["api_key"]["prefix"] == key[:12]
    assert await store.run(_hashes) == [key_hash(key)]
    listed = await (await admin.get("/api-keys", headers=staff("admin"))).get_json()
    assert key not in str(listed) and listed["api_keys"][0]["scopes"] == ["lobby:read"]
    entries = await store.list_audit(target=f"api_key:{created['api_key']['id']}")
    assert [(e.action, e.subject, e.reason) for e in entries] == [
        ("api_keys.create", "root", "onboarding")
    ]


@pytest.mark.parametrize("role", ["support", "director", "player"])
async def test_only_admins_manage_keys(admin: Any, role: str) -> None:
    body = {"name": "P", "scopes": ["lobby:read"], "reason": "r"}
    assert (await admin.post("/api-keys", json=body, headers=staff(role))).status_code == 403
    assert (await admin.get("/api-keys", headers=staff(role))).status_code == 403
    key_id = (await create_key(admin))["api_key"]["id"]
    revoke = await admin.post(
        f"/api-keys/{key_id}/revoke", json={"reason": "r"}, headers=staff(role)
    )
    assert revoke.status_code == 403


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"scopes": ["sessions:manage"]}, "invalid_scopes"),
        ({"scopes": ["root:all"]}, "invalid_scopes"),
        ({"scopes": ["wallet:write"]}, "player_required"),
        ({"scopes": ["lobby:read"], "player_id": 99}, "not_found"),
    ],
)
async def test_keys_with_bad_scopes_or_players_are_refused(
    admin: Any, store: Store, fields: dict[str, Any], code: str
) -> None:
    body = {"name": "P", "reason": "r", **fields}
    response = await admin.post("/api-keys", json=body, headers=staff("admin"))
    assert (await response.get_json())["error"] == code
    assert await store.list_audit() == [] and await store.run(_hashes) == []


async def test_a_key_reaches_its_scopes_only(admin: Any, api: ApiHarness) -> None:
    key = (await create_key(admin, scopes=["lobby:read"]))["key"]
    lobby = await api.client.get("/v1/lobby/tables", headers=api.bearer(key))
    assert lobby.status_code == 200
    profile = await api.client.get("/v1/players/1", headers=api.bearer(key))
    await problem(profile, 403, "insufficient_scope")
    await problem(
        await api.client.get("/v1/me", headers=api.bearer(key)), 403, "insufficient_scope"
    )


async def test_a_key_acting_as_a_player_moves_money_and_is_audited(
    admin: Any, api: ApiHarness, store: Store
) -> None:
    await api.register("cashier-bot")
    await api.register("bobby")
    await api.context.wallet.adjust("fund", wallet(1), 100, memo="test")
    key = (await create_key(admin, scopes=["wallet:read", "wallet:write", "me:read"], player_id=1))[
        "key"
    ]
    me = await (await api.client.get("/v1/me", headers=api.bearer(key))).get_json()
    assert (me["name"], me["credential"], me["session_id"]) == ("cashier-bot", "api_key", None)
    sent = await api.client.post(
        "/v1/wallet/transfers",
        json={"to_player": "bobby", "amount": 30},
        headers={**api.bearer(key), "Idempotency-Key": "payout-1"},
    )
    assert sent.status_code == 201
    refused = await api.client.post(
        "/v1/wallet/transfers",
        json={"to_player": "bobby", "amount": 300},
        headers={**api.bearer(key), "Idempotency-Key": "payout-2"},
    )
    assert refused.status_code == 409
    uses = await store.list_audit(target="player:1")
    assert [(e.action, e.role, e.after["status"]) for e in uses] == [
        ("api.createTransfer", "api_key", 409),
        ("api.createTransfer", "api_key", 201),
    ]
    assert (
        uses[1].subject.startswith("api_key:")
        and uses[1].request_id == sent.headers["X-Request-Id"]
    )
    logout = await api.client.post("/v1/auth/logout", headers=api.bearer(key))
    await problem(logout, 403, "insufficient_scope")  # sessions belong to people


async def test_a_revoked_key_is_refused_at_once(admin: Any, api: ApiHarness, store: Store) -> None:
    created = await create_key(admin)
    key, key_id = created["key"], created["api_key"]["id"]
    revoked = await admin.post(
        f"/api-keys/{key_id}/revoke", json={"reason": "leaked"}, headers=staff("admin")
    )
    assert (await revoked.get_json())["revoked_at_ms"] is not None
    await problem(
        await api.client.get("/v1/lobby/tables", headers=api.bearer(key)), 401, "api_key_invalid"
    )
    unknown = await api.client.get("/v1/lobby/tables", headers=api.bearer("tbk_" + "a" * 43))
    await problem(unknown, 401, "api_key_invalid")
    missing = await admin.post("/api-keys/999/revoke", json={"reason": "x"}, headers=staff("admin"))
    assert missing.status_code == 404


async def test_a_key_is_limited_at_its_own_rate(
    admin: Any, make_api: Callable[..., ApiHarness]
) -> None:
    api = make_api()
    key = (await create_key(admin, requests_per_min=2))["key"]
    for remaining in ("1", "0"):
        ok = await api.client.get("/v1/lobby/tables", headers=api.bearer(key))
        assert ok.headers["RateLimit-Limit"] == "2"
        assert ok.headers["RateLimit-Remaining"] == remaining
    refused = await api.client.get("/v1/lobby/tables", headers=api.bearer(key))
    await problem(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) == 30  # 2 a minute: one every 30 s
