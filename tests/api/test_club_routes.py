"""Clubs over the public API (api/routes/clubs.py): the club's life over HTTP, the permission
table enforced (a member cannot act as a manager), bans, statements; and a fuzz test: any
body on any club route is answered (never a 5xx), and a refusal changes nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from api.app import create_api_app
from api.context import build_context
from api.lobby import LobbyListings
from persistence import open_store
from services.accounts import Accounts
from services.passwords import CHEAP_HASHING_FOR_TESTS, PasswordHasher
from services.wallet import Wallet
from tests.api.conftest import ApiHarness, api_settings
from tests.api.test_auth_flows import problem
from tests.persistence.stores import BACKENDS


def _post(api: ApiHarness, tokens: dict[str, Any], key: str = "k") -> dict[str, str]:
    return {**api.bearer(tokens), "Idempotency-Key": key}


@pytest.mark.parametrize("backend", BACKENDS)  # the store fixture's (tests/api/conftest.py)
async def test_a_clubs_life_over_http(api: ApiHarness) -> None:
    olga = await api.register("olga")
    bea = await api.register("beatrice")
    cid = await api.register("cidney")
    client = api.client
    created = await client.post(
        "/v1/clubs", json={"name": "Night Owls", "join_policy": "approval"},
        headers=_post(api, olga, "club-1"),
    )  # fmt: skip
    assert created.status_code == 201
    club = await created.get_json()
    replay = await client.post(
        "/v1/clubs", json={"name": "Night Owls", "join_policy": "approval"},
        headers=_post(api, olga, "club-1"),
    )  # fmt: skip
    assert replay.headers["Idempotent-Replayed"] == "true"
    cid_id = cid["player"]["id"]
    found = await client.get(f"/v1/clubs/by-code/{club['code'].lower()}", headers=api.bearer(bea))
    assert (await found.get_json())["club_id"] == club["club_id"]
    joined = await client.post(
        "/v1/clubs/join", json={"code": club["code"]}, headers=api.bearer(bea)
    )
    assert (await joined.get_json())["state"] == "requested"
    base = f"/v1/clubs/{club['club_id']}"
    approved = await client.post(
        f"{base}/requests/{bea['player']['id']}/approve", headers=api.bearer(olga)
    )
    assert (await approved.get_json())["member"]["role"] == "member"
    # A member cannot act as a manager.
    await problem(
        await client.post(f"{base}/invitations", json={"player_id": cid_id},
                          headers=api.bearer(bea)), 403, "club_permission_denied",
    )  # fmt: skip
    await problem(await client.get(f"{base}/members", headers=api.bearer(bea)), 403,
                  "club_permission_denied")  # fmt: skip
    await problem(await client.get(base, headers=api.bearer(cid)), 403, "not_club_member")
    await client.post(f"{base}/invitations", json={"player_id": cid_id}, headers=api.bearer(olga))
    invitations = await (
        await client.get("/v1/clubs/invitations", headers=api.bearer(cid))
    ).get_json()
    assert [i["club_id"] for i in invitations["data"]] == [club["club_id"]]
    await client.post(f"{base}/invitations/accept", headers=api.bearer(cid))
    banned = await client.post(f"{base}/members/{cid_id}/ban", headers=api.bearer(olga))
    assert banned.status_code == 204
    await problem(
        await client.post("/v1/clubs/join", json={"code": club["code"]}, headers=api.bearer(cid)),
        403, "banned_from_club",
    )  # fmt: skip
    members = await (await client.get(f"{base}/members", headers=api.bearer(olga))).get_json()
    assert [m["role"] for m in members["data"]] == ["owner", "member"]
    statement = await client.get("/v1/rakeback/statement", headers=api.bearer(bea))
    assert (await statement.get_json()) == {"data": []}
    tiers = await (await client.get("/v1/rakeback/tiers", headers=api.bearer(bea))).get_json()
    assert tiers["tiers"][0]["threshold_points"] == 0
    stats = await client.get(f"{base}/stats?period=week:2026-11-30", headers=api.bearer(olga))
    assert (await stats.get_json())["members"] == 2
    await problem(await client.get(f"{base}/stats?period=week:2026-12-01",
                                   headers=api.bearer(olga)), 422, "invalid_period")  # fmt: skip


HASHER = PasswordHasher(CHEAP_HASHING_FOR_TESTS)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=10,
)  # fmt: skip
ROUTES = [
    "/v1/clubs", "/v1/clubs/join", "/v1/clubs/1/invitations", "/v1/clubs/1/members/2/role",
    "/v1/clubs/1/members/2/agent", "/v1/clubs/1/owner", "/v1/clubs/1/settings",
    "/v1/clubs/1/tiers", "/v1/clubs/1/tables", "/v1/clubs/1/members/2/ban",
]  # fmt: skip


async def _fuzz(tmp: Path, route: str, body: Any) -> None:
    async with open_store(f"sqlite:///{tmp / 'fuzz.sqlite3'}") as store:
        accounts = Accounts(store, HASHER)

        async def no_tables(_variant: object, _big_blind: object) -> tuple[()]:
            return ()

        context = build_context(
            api_settings(), store, Wallet(store), lambda: accounts, LobbyListings(no_tables)
        )
        client = create_api_app(context).test_client()
        tokens = []
        for name in ("olgaowner", "bertmember"):
            response = await client.post(
                "/v1/auth/register", json={"name": name, "password": "correct horse battery"}
            )
            tokens.append(await response.get_json())
        owner = {"Authorization": f"Bearer {tokens[0]['access_token']}", "Idempotency-Key": "a"}
        created = await client.post(
            "/v1/clubs", json={"name": "Fuzz", "join_policy": "open"}, headers=owner
        )
        code = (await created.get_json())["code"]
        member = {"Authorization": f"Bearer {tokens[1]['access_token']}", "Idempotency-Key": "b"}
        await client.post("/v1/clubs/join", json={"code": code}, headers=member)

        async def state() -> Any:
            detail = await (await client.get("/v1/clubs/1", headers=owner)).get_json()
            members = await (await client.get("/v1/clubs/1/members", headers=owner)).get_json()
            return detail, members

        before = await state()
        response = await client.post(route, json=body, headers=member)
        assert response.status_code < 500, await response.get_data(as_text=True)
        if response.status_code >= 400:
            assert await state() == before


@settings(max_examples=40, deadline=None, database=None)
@given(route=st.sampled_from(ROUTES), body=JSON_VALUES)
def test_any_body_on_a_club_route_is_answered_and_a_refusal_changes_nothing(
    route: str, body: Any
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        trio.run(_fuzz, Path(tmp), route, body)
