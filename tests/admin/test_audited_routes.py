"""Every state-changing admin route lands its change and its audit entry together, or neither.
On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from persistence import Store, audit
from persistence.work import Query, Work
from tests.admin.conftest import bearer
from tests.persistence.stores import BACKENDS, fresh_store

SUPPORT = bearer("support", subject="sam")


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str
) -> AsyncIterator[Store]:
    async with fresh_store(request.param, tmp_path, postgres_url) as opened:
        yield opened


@pytest.fixture
def audit_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The database refuses every audit entry (as PostgreSQL refused a NUL in a reason)."""

    def refused(**fields: Any) -> Work[Any]:
        yield Query("INSERT INTO audit_log (subject) VALUES (NULL)")  # NOT NULL columns
        raise AssertionError("the database accepted an entry it must refuse")

    monkeypatch.setattr(audit, "append_audit", refused)


async def test_a_ban_whose_audit_entry_fails_bans_nobody(
    make_client: Callable[..., Any], store: Store, audit_refused: None
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    response = await make_client().post(
        f"/players/{alice.id}/ban", headers=SUPPORT, json={"reason": "chip dumping"}
    )
    assert response.status_code == 500
    account = await store.get_account(alice.id)
    assert account is not None and not account.banned


async def test_an_adjustment_whose_audit_entry_fails_moves_no_money(
    make_client: Callable[..., Any], store: Store, audit_refused: None
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    response = await make_client().post(
        f"/players/{alice.id}/wallet/adjustments",
        headers=SUPPORT,
        json={"amount": 500, "reason": "goodwill", "key": "t-1"},
    )
    assert response.status_code == 500
    assert await store.ledger_transfer_by_id(1) is None
    ledger = await store.ledger_audit()
    assert ledger.consistent and ledger.transfers == 0


async def test_a_committed_ban_ends_the_players_live_sessions(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    ended: list[tuple[int, bool]] = []

    async def end_sessions(player_id: int) -> None:
        account = await store.get_account(player_id)
        assert account is not None
        ended.append((player_id, account.banned))  # seen from outside the transaction

    client = make_client(on_banned=end_sessions)
    reason = {"reason": "chip dumping"}
    assert (
        await client.post(f"/players/{alice.id}/ban", headers=SUPPORT, json=reason)
    ).status_code == 200
    assert ended == [(alice.id, True)]
    await client.post(f"/players/{alice.id}/unban", headers=SUPPORT, json=reason)
    await client.post("/players/999/ban", headers=SUPPORT, json=reason)
    assert ended == [(alice.id, True)], "only a ban that committed ends sessions"


async def test_bans_and_unbans_that_committed_reach_the_leaderboards(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    told: list[tuple[int, bool]] = []

    async def ban_changed(player_id: int, banned: bool) -> None:
        told.append((player_id, banned))

    client = make_client(on_ban_changed=ban_changed)
    reason = {"reason": "chip dumping"}
    await client.post(f"/players/{alice.id}/ban", headers=SUPPORT, json=reason)
    await client.post(f"/players/{alice.id}/unban", headers=SUPPORT, json=reason)
    await client.post("/players/999/ban", headers=SUPPORT, json=reason)
    assert told == [(alice.id, True), (alice.id, False)]


async def test_a_rolled_back_ban_ends_no_sessions(
    make_client: Callable[..., Any], store: Store, audit_refused: None
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    ended: list[int] = []

    async def end_sessions(player_id: int) -> None:
        ended.append(player_id)

    client = make_client(on_banned=end_sessions)
    await client.post(f"/players/{alice.id}/ban", headers=SUPPORT, json={"reason": "x"})
    assert ended == []


async def test_an_adjustment_reason_past_the_ledger_memo_bound_is_refused(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    response = await make_client().post(
        f"/players/{alice.id}/wallet/adjustments",
        headers=SUPPORT,
        json={"amount": 5, "reason": "r" * 201, "key": "k"},
    )
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_request"
    assert await store.list_audit() == []


async def test_an_adjustment_key_at_its_bound_fits_the_ledger(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await store.create_account("alice", "hash", "player")
    path = f"/players/{alice.id}/wallet/adjustments"
    longest = {"amount": 5, "reason": "r" * 200, "key": "k" * 122}
    assert (await make_client().post(path, headers=SUPPORT, json=longest)).status_code == 200
    too_long = {**longest, "key": "k" * 123}
    response = await make_client().post(path, headers=SUPPORT, json=too_long)
    assert response.status_code == 400
    assert len(await store.list_audit()) == 1
