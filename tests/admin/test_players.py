"""Support work through the admin API: find a player, ban, correct a balance, read hands."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from persistence import HandPlayer, HandRecord, Store
from poker import Variant, phh
from poker.simulate import random_setup, simulate_hand
from tests.admin.conftest import bearer

SUPPORT = bearer("support", subject="sam")


async def test_search_pages_through_players_by_name_prefix(
    make_client: Callable[..., Any], store: Store
) -> None:
    for name in ("alice", "albert", "bob", "alfred"):
        await store.create_account(name, "hash", "player")
    client = make_client()
    first = await (await client.get("/players?q=AL&limit=2", headers=SUPPORT)).get_json()
    assert [p["name"] for p in first["players"]] == ["alice", "albert"]
    assert "password_hash" not in first["players"][0]
    after = first["next_after_id"]
    second = await (
        await client.get(f"/players?q=al&limit=2&after_id={after}", headers=SUPPORT)
    ).get_json()
    assert [p["name"] for p in second["players"]] == ["alfred"]
    assert second["next_after_id"] is None


async def test_ban_and_unban_are_audited_with_before_and_after(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    client = make_client()
    banned = await client.post(
        f"/players/{alice.id}/ban", headers=SUPPORT, json={"reason": "chip dumping"}
    )
    assert (await banned.get_json())["banned"] is True
    account = await store.get_account(alice.id)
    assert account is not None and account.banned
    await client.post(f"/players/{alice.id}/unban", headers=SUPPORT, json={"reason": "appeal"})
    entries = await store.list_audit(target=f"player:{alice.id}")
    assert [(e.action, e.reason, e.subject) for e in entries] == [
        ("players.unban", "appeal", "sam"),
        ("players.ban", "chip dumping", "sam"),
    ]
    assert entries[1].before["banned"] is False and entries[1].after["banned"] is True


async def test_ban_of_an_unknown_player_is_not_found_and_not_audited(
    make_client: Callable[..., Any], store: Store
) -> None:
    response = await make_client().post("/players/999/ban", headers=SUPPORT, json={"reason": "x"})
    assert response.status_code == 404
    assert await store.list_audit() == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason": ""},
        {"reason": "x", "extra": 1},
        {"reason": "x" * 501},
    ],
)
async def test_ban_needs_a_reason_and_nothing_else(
    make_client: Callable[..., Any], store: Store, body: dict[str, Any]
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    response = await make_client().post(f"/players/{alice.id}/ban", headers=SUPPORT, json=body)
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_request"
    account = await store.get_account(alice.id)
    assert account is not None and not account.banned
    assert await store.list_audit() == []


async def test_adjustment_moves_money_once_per_key_and_is_audited(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    client = make_client()
    path = f"/players/{alice.id}/wallet/adjustments"
    body = {"amount": 500, "reason": "goodwill", "key": "ticket-17"}
    first = await (await client.post(path, headers=SUPPORT, json=body)).get_json()
    again = await (await client.post(path, headers=SUPPORT, json=body)).get_json()
    assert first["id"] == again["id"]
    balance = await (await client.get(f"/players/{alice.id}/wallet", headers=SUPPORT)).get_json()
    assert balance["balance"] == 500
    entries = await (
        await client.get(f"/players/{alice.id}/wallet/entries", headers=SUPPORT)
    ).get_json()
    assert [e["amount"] for e in entries["entries"]] == [500]
    audit = await store.list_audit(target=f"player:{alice.id}")
    assert audit[-1].action == "wallet.adjust"
    assert audit[-1].before["balance"] == 0 and audit[-1].after["balance"] == 500
    ledger = await store.ledger_audit()
    assert ledger.consistent, ledger


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 1.5, "reason": "r", "key": "k"},
        {"amount": "5", "reason": "r", "key": "k"},
        {"amount": 0, "reason": "r", "key": "k"},
        {"amount": 5, "reason": "", "key": "k"},
        {"amount": 5, "reason": "r"},
    ],
)
async def test_malformed_adjustment_changes_nothing(
    make_client: Callable[..., Any], store: Store, body: dict[str, Any]
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    response = await make_client().post(
        f"/players/{alice.id}/wallet/adjustments", headers=SUPPORT, json=body
    )
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_request"
    assert await store.list_audit() == []


async def test_debit_beyond_the_balance_is_refused_with_its_code(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    response = await make_client().post(
        f"/players/{alice.id}/wallet/adjustments",
        headers=SUPPORT,
        json={"amount": -10, "reason": "clawback", "key": "k1"},
    )
    assert response.status_code == 409
    assert (await response.get_json())["error"] == "insufficient_funds"
    assert await store.list_audit() == []


async def test_hand_history_as_record_phh_and_text(
    make_client: Callable[..., Any], store: Store
) -> None:
    history = simulate_hand(
        random_setup(Variant.NO_LIMIT_HOLDEM, 3, random.Random(7)), random.Random(7)
    )
    text = phh.dumps(history)
    await store.save_hand(
        HandRecord(
            hand_id="t1-7",
            table_id="table:1",
            game="NT 1/2",
            started_at_ms=1,
            ended_at_ms=2,
            pot_total=6,
            rake=0,
            players=(HandPlayer(1, 0, 0),),
            phh=text,
        )
    )
    client = make_client()
    record = await (await client.get("/hands/t1-7", headers=SUPPORT)).get_json()
    assert record["hand_id"] == "t1-7" and record["phh"] == text
    raw = await client.get("/hands/t1-7?format=phh", headers=SUPPORT)
    assert (await raw.get_data()).decode() == text
    human = (
        await (await client.get("/hands/t1-7?format=text", headers=SUPPORT)).get_data()
    ).decode()
    assert "Hold'em" in human
    listed = await (await client.get("/players/1/hands", headers=SUPPORT)).get_json()
    assert [h["hand_id"] for h in listed] == ["t1-7"]
    missing = await client.get("/hands/nope", headers=SUPPORT)
    assert missing.status_code == 404
    bad = await client.get("/hands/t1-7?format=xml", headers=SUPPORT)
    assert bad.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/players?after_id=99999999999999999999999",
        "/audit?before_id=99999999999999999999999",
        "/players/1/hands?before_seq=99999999999999999999999",
        "/players/1/wallet/entries?before_id=-1",
    ],
)
async def test_ids_beyond_the_database_range_are_refused(
    make_client: Callable[..., Any], store: Store, path: str
) -> None:
    await store.create_account("alice", "hash", "player")
    response = await make_client().get(path, headers=bearer("admin"))
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_request"


async def test_player_id_beyond_the_database_range_is_not_found(
    make_client: Callable[..., Any],
) -> None:
    response = await make_client().get("/players/99999999999999999999999", headers=SUPPORT)
    assert response.status_code == 404
