"""Profiles, preferences, statistics and leaderboards over the public API (api/routes/
profiles.py): the same rules as the websocket, refusals with their codes, fuzzed bodies."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from api.app import create_api_app
from api.context import build_context
from api.lobby import LobbyListings
from persistence import open_store
from persistence.store import Store
from services.accounts import Accounts
from services.passwords import CHEAP_HASHING_FOR_TESTS, PasswordHasher
from services.wallet import Wallet
from tests.api.conftest import ApiHarness, api_settings
from tests.players.hands import hand_record, simulated_hand


async def test_my_profile_and_preferences_change_through_the_api(api: ApiHarness) -> None:
    tokens = await api.register("alice")
    auth = api.bearer(tokens)
    mine = await (await api.client.get("/v1/me/profile", headers=auth)).get_json()
    assert mine["account_name"] == "alice" and mine["public"]["display_name"] == "alice"
    changed = await api.client.post(
        "/v1/me/profile", headers=auth, json={"display_name": "Queen Alice", "country": "FR"}
    )
    assert changed.status_code == 200, await changed.get_data(as_text=True)
    public = await (await api.client.get("/v1/players/1")).get_json()
    assert public["display_name"] == "Queen Alice" and "account_name" not in public

    again = await api.client.post("/v1/me/profile", headers=auth, json={"display_name": "Other"})
    problem = await again.get_json()
    assert (again.status_code, problem["code"]) == (429, "display_name_change_too_soon")
    assert "Retry-After" in again.headers
    bad = await api.client.post("/v1/me/profile", headers=auth, json={"avatar": "http://a.b/c"})
    assert (await bad.get_json())["code"] == "avatar_invalid"

    prefs = await api.client.post(
        "/v1/me/preferences", headers=auth, json={"changes": {"auto_muck": False}}
    )
    assert (await prefs.get_json())["auto_muck"] is False
    refused = await api.client.post(
        "/v1/me/preferences", headers=auth, json={"changes": {"auto_muck": True, "x": 1}}
    )
    assert (await refused.get_json())["code"] == "unknown_preference"
    now = await (await api.client.get("/v1/me/preferences", headers=auth)).get_json()
    assert now["auto_muck"] is False


async def test_stats_privacy_and_leaderboards(api: ApiHarness, store: Store) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    hand = simulated_hand(3, [1, 2], hand_id="h1", ended_at_ms=store.clock_ms())
    await store.save_hand(hand_record(hand))
    await api.client.post(
        "/v1/me/preferences",
        headers=api.bearer(alice),
        json={"changes": {"stats_privacy": "private"}},
    )
    hers = await (await api.client.get("/v1/players/1/stats", headers=api.bearer(bob))).get_json()
    assert hers["private"] is True and hers["stakes"] == []
    own = await (await api.client.get("/v1/players/1/stats", headers=api.bearer(alice))).get_json()
    assert own["private"] is False and own["stakes"][0]["figures"]["hands"] == 1
    board = await (
        await api.client.get("/v1/leaderboards", query_string={"board": "xp", "period": "monthly"})
    ).get_json()
    assert [e["display_name"] for e in board["entries"]] == ["bob", "alice"]
    rank = await (
        await api.client.get("/v1/me/rank", headers=api.bearer(alice), query_string={"board": "xp"})
    ).get_json()
    assert rank["entry"]["rank"] == 2
    unknown = await api.client.get("/v1/leaderboards", query_string={"board": "karma"})
    assert (unknown.status_code, (await unknown.get_json())["code"]) == (
        404, "unknown_leaderboard",
    )  # fmt: skip


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=10,
)


async def _answers(tmp_path: Path, body: Any, query: dict[str, str]) -> None:
    async with open_store(f"sqlite:///{tmp_path / 'fuzz.sqlite3'}") as store:
        accounts = Accounts(store, PasswordHasher(CHEAP_HASHING_FOR_TESTS))

        async def no_tables(_variant: object, _big_blind: object) -> tuple[()]:
            return ()

        context = build_context(
            api_settings(), store, Wallet(store), lambda: accounts, LobbyListings(no_tables)
        )
        client = create_api_app(context).test_client()
        registered = await client.post(
            "/v1/auth/register", json={"name": "alice", "password": "correct horse battery"}
        )
        token = (await registered.get_json())["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        before = await (await client.get("/v1/me/profile", headers=auth)).get_json()
        prefs_before = await (await client.get("/v1/me/preferences", headers=auth)).get_json()
        for path in ("/v1/me/profile", "/v1/me/preferences"):
            response = await client.post(path, json=body, headers=auth)
            assert response.status_code < 500
            if response.status_code >= 400:  # refused: nothing changed
                assert await (await client.get("/v1/me/profile", headers=auth)).get_json() == (
                    before
                )
                assert (
                    await (await client.get("/v1/me/preferences", headers=auth)).get_json()
                    == prefs_before
                )
        for path in ("/v1/leaderboards", "/v1/me/rank"):
            listed = await client.get(path, query_string=query, headers=auth)
            assert listed.status_code in (200, 400, 404, 422)


@settings(max_examples=30, deadline=None, database=None)
@given(
    body=JSON_VALUES | st.fixed_dictionaries({"changes": JSON_VALUES}),
    query=st.dictionaries(
        st.sampled_from(["board", "period", "limit", "x"]), st.text(max_size=12), max_size=3
    ),
)
def test_player_routes_answer_any_body_or_query_without_a_crash(
    body: Any, query: dict[str, str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        trio.run(_answers, Path(tmp), body, query)
