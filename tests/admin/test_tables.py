"""Directors run tables through the admin API: open, pause, resume, close, all audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from actors.table.messages import GameRefused
from admin import tables
from persistence import Store
from tests.admin.conftest import TABLE_ID, bearer

DIRECTOR = bearer("director", subject="dana")
NEW_TABLE = {
    "table_id": "po-3-6",
    "name": "Omaha 3/6",
    "variant": "PO",
    "small_blind": 3,
    "big_blind": 6,
    "seats": 9,
    "reason": "friday rush",
}


async def test_opened_table_is_listed_with_its_stakes_and_audited(
    make_client: Callable[..., Any], store: Store
) -> None:
    client = make_client()
    opened = await client.post("/tables", headers=DIRECTOR, json=NEW_TABLE)
    assert opened.status_code == 200, await opened.get_data()
    detail = await opened.get_json()
    assert detail["status"] == "open" and detail["config"]["big_blind"] == 6
    listed = await (await client.get("/tables", headers=DIRECTOR)).get_json()
    by_id = {t["table_id"]: t for t in listed["tables"]}
    assert by_id["po-3-6"]["variant"] == "PO" and by_id["po-3-6"]["seats_total"] == 9
    assert TABLE_ID in by_id
    outcome, intent = await store.list_audit(target="table:po-3-6")
    for entry in (outcome, intent):
        assert (entry.action, entry.subject, entry.reason) == ("tables.open", "dana", "friday rush")
    assert intent.after["outcome"] == "requested" and intent.after["config"]["big_blind"] == 6
    assert outcome.after == {"outcome": "done", "status": "open"}
    assert outcome.request_id == intent.request_id


async def test_an_existing_table_id_is_refused(make_client: Callable[..., Any]) -> None:
    response = await make_client().post(
        "/tables", headers=DIRECTOR, json={**NEW_TABLE, "table_id": TABLE_ID}
    )
    assert response.status_code == 409
    assert (await response.get_json())["error"] == "table_exists"


@pytest.mark.parametrize(
    "change",
    [{"small_blind": 7}, {"variant": "XX"}, {"table_id": "Bad Id"}, {"seats": 11}, {"extra": 1}],
)
async def test_a_bad_table_configuration_changes_nothing(
    make_client: Callable[..., Any], store: Store, change: dict[str, Any]
) -> None:
    client = make_client()
    response = await client.post("/tables", headers=DIRECTOR, json={**NEW_TABLE, **change})
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_request"
    listed = await (await client.get("/tables", headers=DIRECTOR)).get_json()
    assert [t["table_id"] for t in listed["tables"]] == [TABLE_ID]
    assert await store.list_audit() == []


async def test_pause_resume_and_close_change_the_status_and_are_audited(
    make_client: Callable[..., Any], store: Store
) -> None:
    client = make_client()
    reason = {"reason": "dealer change"}
    paused = await client.post(f"/tables/{TABLE_ID}/pause", headers=DIRECTOR, json=reason)
    assert (await paused.get_json())["status"] == "paused"
    resumed = await client.post(f"/tables/{TABLE_ID}/resume", headers=DIRECTOR, json=reason)
    assert (await resumed.get_json())["status"] == "open"
    closed = await client.post(f"/tables/{TABLE_ID}/close", headers=DIRECTOR, json=reason)
    assert (await closed.get_json())["status"] in {"closing", "closed"}
    entries = await store.list_audit(target=f"table:{TABLE_ID}")
    assert [(e.action, e.after["outcome"]) for e in reversed(entries)] == [
        ("tables.pause", "requested"),
        ("tables.pause", "done"),
        ("tables.resume", "requested"),
        ("tables.resume", "done"),
        ("tables.close", "requested"),
        ("tables.close", "done"),
    ]
    intent, outcome = entries[-1], entries[-2]
    assert intent.before == {"status": "open"} and intent.after == {"outcome": "requested"}
    assert outcome.before == {"status": "open"}
    assert outcome.after == {"outcome": "done", "status": "paused"}


async def test_a_refused_table_change_logs_its_intent_and_the_refusal(
    make_client: Callable[..., Any], store: Store
) -> None:
    refused = await make_client().post(
        "/tables", headers=DIRECTOR, json={**NEW_TABLE, "table_id": TABLE_ID}
    )
    assert refused.status_code == 409
    outcome, intent = await store.list_audit(target=f"table:{TABLE_ID}")
    assert (intent.action, intent.after["outcome"]) == ("tables.open", "requested")
    assert (outcome.action, outcome.after) == (
        "tables.open",
        {"outcome": "refused", "error": "table_exists"},
    )
    assert outcome.request_id == intent.request_id


async def test_unknown_table_is_not_found(make_client: Callable[..., Any]) -> None:
    client = make_client()
    assert (await client.get("/tables/nope", headers=DIRECTOR)).status_code == 404
    response = await client.post("/tables/nope/pause", headers=DIRECTOR, json={"reason": "x"})
    assert response.status_code == 404
    assert (await response.get_json())["error"] == "no_such_table"


async def test_the_intent_is_logged_before_the_table_is_asked(
    make_client: Callable[..., Any], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen_during_the_ask: list[Any] = []
    real_pause = tables.pause_table

    async def pause_and_look(registry: Any, table_id: str) -> Any:
        seen_during_the_ask.extend(await store.list_audit())
        return await real_pause(registry, table_id)

    monkeypatch.setattr(tables, "pause_table", pause_and_look)
    reason = {"reason": "dealer change"}
    response = await make_client().post(f"/tables/{TABLE_ID}/pause", headers=DIRECTOR, json=reason)
    assert response.status_code == 200
    assert [(e.action, e.after) for e in seen_during_the_ask] == [
        ("tables.pause", {"outcome": "requested"})
    ]


async def test_a_table_that_does_not_answer_leaves_its_outcome_unknown(
    make_client: Callable[..., Any], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_answer(registry: Any, table_id: str) -> Any:
        raise GameRefused("unavailable", f"table {table_id!r} did not answer")

    monkeypatch.setattr(tables, "close_table", no_answer)
    reason = {"reason": "end of night"}
    response = await make_client().post(f"/tables/{TABLE_ID}/close", headers=DIRECTOR, json=reason)
    assert response.status_code == 503
    outcome, intent = await store.list_audit(target=f"table:{TABLE_ID}")
    assert intent.after == {"outcome": "requested"}
    assert outcome.after == {"outcome": "unknown", "error": "unavailable"}
