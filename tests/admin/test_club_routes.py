"""Clubs and rakeback for staff (admin/clubs.py): a period distributed over HTTP and its
statement, and each refusal with its status and code, changing nothing."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from persistence import Store
from rakeback.periods import period_containing
from server.config import Settings
from services.clubs import Clubs
from services.wallet import Wallet
from tests.admin.conftest import bearer
from tests.clubs.club_play import play_hand
from tests.persistence.stores import BACKENDS

ADMIN = bearer("admin", subject="ann")
REASON = {"reason": "weekly run"}


async def _hands(store: Store) -> tuple[list[int], str]:
    wallet = Wallet(store)
    players = []
    for name in ("ann", "ben", "cat"):
        pid = (await store.create_account(name, "hash", "player")).id
        deposit = await wallet.request_deposit(f"fund-{name}", pid, 50_000)
        await wallet.post(deposit.id)
        players.append(pid)
    period = period_containing("day", 86_400_000 * 10)
    rng = random.Random(5)
    for i in range(30):
        at = period.start_ms + 1_000 * (i + 1)
        await play_hand(store, wallet, rng, "pub-9", f"a{i}", players, at)
    return players, period.id


@pytest.mark.parametrize("backend", BACKENDS)  # the store fixture's (tests/admin/conftest.py)
async def test_a_period_previewed_distributed_verified_and_stated_over_http(
    make_client: Callable[..., Any], store: Store
) -> None:
    players, period = await _hands(store)
    client = make_client(settings=Settings(rakeback_period="day"))
    preview = await (
        await client.get(f"/rakeback/house/{period}/preview", headers=ADMIN)
    ).get_json()
    assert preview["state"] == "open" and preview["paid"] > 0
    response = await client.post(f"/rakeback/house/{period}/distribute", headers=ADMIN, json=REASON)
    assert response.status_code == 200
    done = await response.get_json()
    assert done["rakeback_paid"] == preview["paid"]
    check = await (await client.get(f"/rakeback/house/{period}/verify", headers=ADMIN)).get_json()
    assert check["ok"] is True and check["paid"] == preview["paid"]
    lines = (await (await client.get(f"/players/{players[0]}/rakeback", headers=ADMIN)).get_json())[
        "lines"
    ]
    assert [(ln["scope"], ln["period"], ln["kind"]) for ln in lines] == [
        ("house", period, "rakeback")
    ]
    trace = await (
        await client.get(f"/rakeback/house/{period}/players/{players[0]}/trace", headers=ADMIN)
    ).get_json()
    assert trace["total"] == lines[0]["rake_cash"] and trace["count"] == len(trace["items"]) > 0
    assert all(item["origin"].startswith("hand:a") for item in trace["items"])
    entries = await store.list_audit(target=f"rakeback:house:{period}")
    assert [e.after["step"] for e in entries] == ["closed", "frozen"]
    assert {e.subject for e in entries} == {"ann"}


@pytest.mark.parametrize("backend", BACKENDS)  # the store fixture's (tests/admin/conftest.py)
async def test_refusals_have_their_codes_and_change_nothing(
    make_client: Callable[..., Any], store: Store
) -> None:
    owner = (await store.create_account("olga", "hash", "player")).id
    club = await Clubs(store).create(owner, "Owls", "")
    client = make_client(settings=Settings(rakeback_period="week"))
    cases = [
        ("GET", "/rakeback/casino/week:2025-01-06/preview", None, 404, "rakeback_unknown_scope"),
        ("GET", "/rakeback/club:99/week:2025-01-06/preview", None, 404, "rakeback_unknown_scope"),
        ("GET", "/rakeback/house/week:2025-01-07/preview", None, 400, "invalid_period"),
        ("GET", "/rakeback/house/day:2025-01-07/preview", None, 400, "rakeback_wrong_period_kind"),
        ("GET", "/rakeback/house/week:2999-02-30/preview", None, 400, "invalid_period"),
        (
            "POST",
            "/rakeback/house/week:2998-12-24/distribute",
            REASON,
            409,
            "rakeback_period_not_over",
        ),
        ("GET", "/clubs/99", None, 404, "club_not_found"),
        (
            "POST",
            f"/clubs/{club.club_id}/deal",
            {"deal_bp": 10_001, "reason": "x"},
            400,
            "invalid_request",
        ),
        ("POST", f"/clubs/{club.club_id}/bans/{owner}", REASON, 400, "club_permission_denied"),
        ("POST", f"/clubs/{club.club_id}/bans/999", REASON, 404, "not_found"),
        ("GET", f"/clubs/{club.club_id}/stats?period=month:1", None, 400, "invalid_period"),
    ]
    for method, path, body, status, code in cases:
        response = await client.open(path, method=method, headers=ADMIN, json=body)
        assert response.status_code == status, (path, await response.get_data())
        assert (await response.get_json())["error"] == code, path
    assert await store.list_audit() == []
    detail = await (await client.get(f"/clubs/{club.club_id}", headers=ADMIN)).get_json()
    assert detail["club"]["members"] == 1 and detail["benefits"]["rakeback_deal_bp"] == 0
