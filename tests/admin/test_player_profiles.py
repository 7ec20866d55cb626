"""Staff and players' profiles: search by display name, everything visible (private fields
and private statistics), an offensive display name renamed with an audit entry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.runtime import Registry
from admin.app import create_admin_app
from admin.auth import jwt_verifier
from admin.context import AdminContext
from persistence import Store, open_store
from players.profiles import ProfileChange
from server.auth import TokenSigner
from server.config import Settings
from services import profiles
from services.wallet import Wallet
from tests.admin.conftest import SECRET, bearer
from tests.players.hands import hand_record, simulated_hand

SUPPORT = bearer("support", subject="sam")
DIRECTOR = bearer("director", subject="dee")


async def test_staff_find_players_by_display_name_and_see_private_stats(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    bob = await store.create_account("bob", "hash", "player")
    await profiles.update_profile(store, alice.id, ProfileChange(display_name="Queen Alice"))
    await profiles.change_preferences(store, alice.id, {"stats_privacy": "private"})
    await store.save_hand(hand_record(simulated_hand(4, [alice.id, bob.id], hand_id="h1")))
    client = make_client()
    page = await (await client.get("/players/profiles?q=queen", headers=SUPPORT)).get_json()
    assert [(p["player_id"], p["account_name"]) for p in page["profiles"]] == [(alice.id, "alice")]
    profile = await (await client.get(f"/players/{alice.id}/profile", headers=SUPPORT)).get_json()
    assert profile["account_name"] == "alice"
    assert profile["public"]["display_name"] == "Queen Alice"
    stats = await (await client.get(f"/players/{alice.id}/stats", headers=SUPPORT)).get_json()
    assert stats["private"] is False and stats["stakes"][0]["figures"]["hands"] == 1
    missing = await client.get("/players/999/stats", headers=SUPPORT)
    assert missing.status_code == 404


async def test_an_offensive_name_is_renamed_with_an_audit_entry(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    await store.create_account("bob", "hash", "player")
    client = make_client()
    path = f"/players/{alice.id}/display-name"
    denied = await client.post(path, headers=DIRECTOR, json={"display_name": "X1 Y", "reason": "r"})
    assert denied.status_code == 403
    for body, status, code in [
        ({"display_name": "BOB", "reason": "r"}, 409, "display_name_taken"),
        ({"display_name": "shitlord", "reason": "r"}, 422, "display_name_offensive"),
        ({"display_name": "ok", "reason": "r"}, 422, "display_name_invalid"),
    ]:
        refused = await client.post(path, headers=SUPPORT, json=body)
        assert (refused.status_code, (await refused.get_json())["error"]) == (status, code)
    assert await store.list_audit(target=f"player:{alice.id}") == []
    renamed = await client.post(
        path, headers=SUPPORT, json={"display_name": "Player 1", "reason": "offensive name"}
    )
    assert renamed.status_code == 200
    assert (await renamed.get_json())["public"]["display_name"] == "Player 1"
    (entry,) = await store.list_audit(target=f"player:{alice.id}")
    assert (entry.action, entry.subject, entry.reason) == (
        "players.rename",
        "sam",
        "offensive name",
    )
    assert entry.before == {"player_id": alice.id, "display_name": "alice"}
    assert entry.after == {"player_id": alice.id, "display_name": "Player 1"}


@settings(max_examples=40, deadline=None, database=None)
@given(name=st.text(max_size=90), reason=st.text(max_size=30))
def test_any_rename_body_gets_an_answer_never_a_crash(name: str, reason: str) -> None:
    async def run(tmp: Path) -> None:
        async with open_store(f"sqlite:///{tmp / 'a.sqlite3'}") as store:
            alice = await store.create_account("alice", "hash", "player")
            context = AdminContext(
                settings=Settings(), verify_token=jwt_verifier(TokenSigner(SECRET)), store=store,
                wallet=Wallet(store), readiness=(), actor_tree=None, registry=Registry(),
            )  # fmt: skip
            client = create_admin_app(context).test_client()
            response = await client.post(
                f"/players/{alice.id}/display-name",
                headers=SUPPORT,
                json={"display_name": name, "reason": reason},
            )
            assert response.status_code in (200, 400, 409, 422)
            own = await profiles.own_profile(store, alice.id)
            assert own is not None
            if response.status_code != 200:
                assert own.public.display_name == "alice"
                assert await store.list_audit() == []

    with TemporaryDirectory() as tmp:
        trio.run(run, Path(tmp))
