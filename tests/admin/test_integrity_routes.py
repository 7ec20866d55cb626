"""The integrity routes (admin/integrity.py): flags and signals of stored hands, one flag with
its hands, and staff's decisions with their audit entries; every refusal's code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from persistence import Store, audit
from persistence.work import Query, Work
from poker.integrity import BIG_LOSS_WEAK_HAND
from services.integrity import DAY_MS
from tests.admin.conftest import bearer
from tests.poker.integrity.generated import COLLUDERS, DUMPEE, DUMPER, generate_room
from tests.services.integrity_store import BASE_MS, store_room

SUPPORT = bearer("support", subject="sam")
DIRECTOR = bearer("director", subject="dee")
PERIOD = {"from_ms": BASE_MS, "to_ms": BASE_MS + 2 * DAY_MS}
QUERY = f"from_ms={PERIOD['from_ms']}&to_ms={PERIOD['to_ms']}"


@pytest.fixture
async def ids(store: Store) -> dict[int, int]:
    """The room's planted players as accounts (honest players are ids 1001..1048)."""
    names = {DUMPER: "giver", DUMPEE: "receiver", COLLUDERS[0]: "c1", COLLUDERS[1]: "c2"}
    accounts = {
        old: (await store.create_account(name, "h", "player")).id for old, name in names.items()
    }
    await store_room(store, generate_room(3).hands, lambda p: accounts.get(p, p + 1000))
    return accounts


def dumping_flag(ids: dict[int, int]) -> str:
    return f"dumping:chips:{ids[DUMPER]}:{ids[DUMPEE]}"


async def test_the_dumping_list_shows_the_flag_and_its_figures(
    make_client: Callable[..., Any], ids: dict[int, int]
) -> None:
    response = await make_client().get(f"/integrity/dumping?{QUERY}", headers=SUPPORT)
    assert response.status_code == 200
    body = await response.get_json()
    (flag,) = body["report"]["flags"]
    assert flag["flag_id"] == dumping_flag(ids) and flag["hands"] == []
    assert flag["net_bb"] > 100 and flag["p_value"] <= body["report"]["p_value_max"]
    assert body["reviews"] == {} and body["from_ms"] == BASE_MS


async def test_the_collusion_list_shows_both_planted_pairs(
    make_client: Callable[..., Any], ids: dict[int, int]
) -> None:
    body = await (
        await make_client().get(f"/integrity/collusion?{QUERY}", headers=DIRECTOR)
    ).get_json()
    pairs = {tuple(s["players"]) for s in body["report"]["signals"]}
    expected = {tuple(sorted((ids[a], ids[b]))) for a, b in (COLLUDERS, (DUMPER, DUMPEE))}
    assert pairs == expected


async def test_one_flag_lists_its_hands_with_their_patterns(
    make_client: Callable[..., Any], ids: dict[int, int]
) -> None:
    flag_id = dumping_flag(ids)
    response = await make_client().get(f"/integrity/flags/{flag_id}?{QUERY}", headers=SUPPORT)
    body = await response.get_json()
    assert response.status_code == 200 and body["kind"] == "dumping" and body["review"] is None
    hands = body["dumping"]["hands"]
    assert hands and all(h["hand_id"] for h in hands)
    assert body["dumping"]["pattern_counts"][BIG_LOSS_WEAK_HAND] >= 10
    low, high = sorted((ids[COLLUDERS[0]], ids[COLLUDERS[1]]))
    signal = await (
        await make_client().get(
            f"/integrity/flags/collusion:chips:{low}:{high}?{QUERY}", headers=SUPPORT
        )
    ).get_json()
    assert signal["collusion"]["hand_ids"] and signal["dumping"] is None


async def test_dismissing_a_flag_is_audited_and_shown_in_the_list(
    make_client: Callable[..., Any], store: Store, ids: dict[int, int]
) -> None:
    client = make_client()
    flag_id = dumping_flag(ids)
    body = {"reason": "friends swapping a stake", **PERIOD}
    response = await client.post(f"/integrity/flags/{flag_id}/dismiss", headers=SUPPORT, json=body)
    assert response.status_code == 200
    assert (await response.get_json())["review"]["status"] == "dismissed"
    (entry,) = await store.list_audit(target=f"flag:{flag_id}")
    assert (entry.action, entry.subject, entry.role) == ("integrity.dismiss", "sam", "support")
    assert entry.reason == "friends swapping a stake" and entry.before == {"review": None}
    assert entry.after["review"]["status"] == "dismissed"
    again = await client.post(f"/integrity/flags/{flag_id}/dismiss", headers=SUPPORT, json=body)
    assert again.status_code == 409 and (await again.get_json())["error"] == "review_unchanged"
    listed = await (await client.get(f"/integrity/dumping?{QUERY}", headers=SUPPORT)).get_json()
    assert listed["reviews"][flag_id]["status"] == "dismissed"
    confirmed = await client.post(
        f"/integrity/flags/{flag_id}/confirm", headers=SUPPORT, json={**body, "reason": "no"}
    )
    assert confirmed.status_code == 200
    assert len(await store.list_audit(target=f"flag:{flag_id}")) == 2


async def test_a_ban_from_a_flag_bans_confirms_audits_and_ends_sessions(
    make_client: Callable[..., Any], store: Store, ids: dict[int, int]
) -> None:
    ended: list[int] = []

    async def end_sessions(player_id: int) -> None:
        ended.append(player_id)

    client = make_client(on_banned=end_sessions)
    flag_id, giver = dumping_flag(ids), ids[DUMPER]
    body = {"player_id": giver, "reason": "dumped to his partner", **PERIOD}
    response = await client.post(f"/integrity/flags/{flag_id}/ban", headers=SUPPORT, json=body)
    assert response.status_code == 200, await response.get_data()
    assert (await response.get_json())["banned_player_id"] == giver
    account = await store.get_account(giver)
    assert account is not None and account.banned and ended == [giver]
    (entry,) = await store.list_audit(target=f"player:{giver}")
    assert entry.action == "integrity.ban" and entry.after["review"]["flag_id"] == flag_id
    assert entry.before["account"]["banned"] is False and entry.after["account"]["banned"]
    again = await client.post(f"/integrity/flags/{flag_id}/ban", headers=SUPPORT, json=body)
    assert (await again.get_json())["error"] == "player_already_banned"
    other = {**body, "player_id": ids[COLLUDERS[0]]}
    outside = await client.post(f"/integrity/flags/{flag_id}/ban", headers=SUPPORT, json=other)
    assert outside.status_code == 409
    assert (await outside.get_json())["error"] == "player_not_in_flag"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/integrity/flags/dumping:chips:1?" + QUERY, 400, "invalid_flag_id"),
        ("/integrity/flags/collusion:chips:9:3?" + QUERY, 400, "invalid_flag_id"),
        ("/integrity/flags/dumping:chips:1001:1002?" + QUERY, 404, "flag_not_raised"),
        ("/integrity/dumping?from_ms=10&to_ms=5", 400, "invalid_period"),
        (f"/integrity/collusion?from_ms=0&to_ms={93 * DAY_MS}", 400, "period_too_large"),
        ("/integrity/dumping?from_ms=x", 400, "invalid_request"),
    ],
)
async def test_refusals_have_their_own_codes(
    make_client: Callable[..., Any], ids: dict[int, int], path: str, status: int, code: str
) -> None:
    response = await make_client().get(path, headers=SUPPORT)
    assert response.status_code == status
    assert (await response.get_json())["error"] == code


async def test_a_decision_on_a_flag_not_raised_is_refused_and_not_logged(
    make_client: Callable[..., Any], store: Store, ids: dict[int, int]
) -> None:
    response = await make_client().post(
        "/integrity/flags/dumping:chips:1001:1002/confirm",
        headers=SUPPORT,
        json={"reason": "r", **PERIOD},
    )
    assert response.status_code == 404
    assert (await response.get_json())["error"] == "flag_not_raised"
    assert await store.list_audit() == []


async def test_directors_read_flags_but_do_not_decide(
    make_client: Callable[..., Any], store: Store, ids: dict[int, int]
) -> None:
    flag_id = dumping_flag(ids)
    for action, body in (
        ("dismiss", {"reason": "r"}),
        ("ban", {"reason": "r", "player_id": ids[DUMPER]}),
    ):
        response = await make_client().post(
            f"/integrity/flags/{flag_id}/{action}", headers=DIRECTOR, json={**body, **PERIOD}
        )
        assert response.status_code == 403
    assert await store.list_audit() == []


async def test_a_decision_whose_audit_entry_fails_changes_nothing(
    make_client: Callable[..., Any],
    store: Store,
    ids: dict[int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(**fields: Any) -> Work[Any]:
        yield Query("INSERT INTO audit_log (subject) VALUES (NULL)")  # NOT NULL columns
        raise AssertionError("the database accepted an entry it must refuse")

    monkeypatch.setattr(audit, "append_audit", refused)
    flag_id, giver = dumping_flag(ids), ids[DUMPER]
    response = await make_client().post(
        f"/integrity/flags/{flag_id}/ban",
        headers=SUPPORT,
        json={"player_id": giver, "reason": "r", **PERIOD},
    )
    assert response.status_code == 500
    account = await store.get_account(giver)
    assert account is not None and not account.banned
    listed = await (
        await make_client().get(f"/integrity/dumping?{QUERY}", headers=SUPPORT)
    ).get_json()
    assert listed["reviews"] == {}
