"""Directors run tournaments through the admin API: create, start, cancel, the clock, entries
and tables, each audited write-ahead; list, detail and results (JSON and CSV).

The tournament actors here are stand-ins (tests/admin/fake_tournaments.py) answering with the
contract's shapes; the live runtime behind the same routes is driven in tests/e2e/."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors.tournament_messages import ResultLine, Results
from admin.tournaments import CSV_COLUMNS, results_csv
from persistence import Store
from poker.tournament import preset
from tests.admin.conftest import bearer
from tests.admin.fake_tournaments import TOURNAMENT_ID, last_spec

DIRECTOR = bearer("director", subject="dana")
T = f"/tournaments/{TOURNAMENT_ID}"
TARGET = f"tournament:{TOURNAMENT_ID}"
NEW = {"name": "Sunday hyper", "preset": "hyper", "buy_in": 100, "fee": 10, "reason": "weekly"}


async def test_a_tournament_from_a_preset_is_created_and_audited(
    make_client: Callable[..., Any], store: Store
) -> None:
    created = await make_client().post("/tournaments", headers=DIRECTOR, json=NEW)
    assert created.status_code == 200, await created.get_data()
    body = await created.get_json()
    assert body["tournament_id"] == TOURNAMENT_ID
    assert body["details"]["summary"]["state"] == "registering"
    spec = last_spec()
    assert (spec["preset"], spec["buy_in"], spec["fee"]) == ("hyper", 100, 10)
    assert spec["structure"] is None
    (intent,) = await store.list_audit(target="tournaments")
    (outcome,) = await store.list_audit(target=TARGET)
    assert (intent.action, intent.subject) == ("tournaments.create", "dana")
    assert intent.reason == "weekly"
    assert intent.after["outcome"] == "requested" and intent.after["spec"]["preset"] == "hyper"
    assert outcome.after == {"outcome": "done", "tournament_id": TOURNAMENT_ID}
    assert outcome.request_id == intent.request_id


async def test_a_tournament_from_a_full_structure_is_created(
    make_client: Callable[..., Any],
) -> None:
    import msgspec

    structure = msgspec.to_builtins(preset("mtt-turbo"))
    body = {"name": "Custom", "structure": structure, "kind": "mtt", "reason": "custom",
            "bounty": 50, "bounty_kind": "progressive",
            "starts_at_ms": 1_900_000_000_000}  # fmt: skip
    created = await make_client().post("/tournaments", headers=DIRECTOR, json=body)
    assert created.status_code == 200, await created.get_data()
    spec = last_spec()
    assert spec["structure"]["name"] == "mtt-turbo" and spec["preset"] is None
    assert (spec["bounty_kind"], spec["starts_at_ms"]) == ("progressive", 1_900_000_000_000)


@pytest.mark.parametrize(
    "change",
    [
        {"preset": None},  # neither a preset nor a structure
        {"structure": {"name": "x", "levels": [], "starting_stack": 100}},  # both
        {"preset": "no-such-preset"},
        {"buy_in": -1},
        {"buy_in": 1.5},
        {"seats_per_table": 11},
        {"entries_min": 50, "entries_max": 10},
        {"reason": ""},
        {"extra": 1},
    ],
)
async def test_a_bad_tournament_changes_nothing(
    make_client: Callable[..., Any], store: Store, change: dict[str, Any]
) -> None:
    response = await make_client().post("/tournaments", headers=DIRECTOR, json={**NEW, **change})
    assert response.status_code == 400, await response.get_data()
    assert (await response.get_json())["error"] == "invalid_request"
    assert await store.list_audit() == []


async def test_an_invalid_structure_is_refused_with_the_cores_message(
    make_client: Callable[..., Any], store: Store
) -> None:
    levels = [{"small_blind": 10, "big_blind": 20, "duration": 5},
              {"small_blind": 10, "big_blind": 20, "duration": 5}]  # fmt: skip
    body = {**NEW, "preset": None, "structure": {"name": "flat", "levels": levels,
                                                  "starting_stack": 1000}}  # fmt: skip
    response = await make_client().post("/tournaments", headers=DIRECTOR, json=body)
    assert response.status_code == 400
    assert "level" in (await response.get_json())["message"]
    assert await store.list_audit() == []


async def test_a_refused_creation_logs_its_intent_and_the_refusal(
    make_client: Callable[..., Any], store: Store
) -> None:
    unlucky = {**NEW, "buy_in": 13}  # the stand-in directory refuses it
    response = await make_client().post("/tournaments", headers=DIRECTOR, json=unlucky)
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "payout_invalid"
    outcome, intent = await store.list_audit(target="tournaments")
    assert intent.after["outcome"] == "requested"
    assert outcome.after == {"outcome": "refused", "error": "payout_invalid"}


async def test_list_and_detail_show_entrants_tables_level_and_money(
    make_client: Callable[..., Any],
) -> None:
    client = make_client()
    support = bearer("support")  # reading needs tournaments:read only
    listed = await (await client.get("/tournaments?state=registering", headers=support)).get_json()
    assert [t["tournament_id"] for t in listed["tournaments"]] == [TOURNAMENT_ID]
    none = await (await client.get("/tournaments?state=finished", headers=support)).get_json()
    assert none["tournaments"] == []
    assert (await client.get("/tournaments?state=bogus", headers=support)).status_code == 400
    view = await (await client.get(f"{T}?limit=2", headers=support)).get_json()
    assert view["details"]["summary"]["prize_pool"] == 300
    assert [t["table_id"] for t in view["details"]["tables"]] == ["t7-1", "t7-2"]
    assert view["details"]["payouts"] == [300]
    assert view["entrants"]["total"] == 3 and len(view["entrants"]["lines"]) == 2
    assert view["results"]["entries"] == 3


async def test_unknown_tournament_is_not_found_and_changes_nothing(
    make_client: Callable[..., Any], store: Store
) -> None:
    client = make_client()
    response = await client.get("/tournaments/99", headers=DIRECTOR)
    assert response.status_code == 404
    assert (await response.get_json())["error"] == "tournament_not_found"
    refused = await client.post("/tournaments/99/cancel", headers=DIRECTOR, json={"reason": "x"})
    assert refused.status_code == 404
    assert await store.list_audit() == []


async def test_start_pause_resume_and_cancel_change_the_state_and_are_audited(
    make_client: Callable[..., Any], store: Store
) -> None:
    client = make_client()

    async def post(path: str, **body: Any) -> Any:
        response = await client.post(f"{T}/{path}", headers=DIRECTOR, json={"reason": "r", **body})
        assert response.status_code == 200, await response.get_data()
        return await response.get_json()

    assert (await post("start"))["summary"]["state"] == "running"
    assert (await post("pause"))["clock_paused"] is True
    assert (await post("resume"))["clock_paused"] is False
    assert (await post("cancel"))["summary"]["state"] == "cancelled"
    entries = list(reversed(await store.list_audit(target=TARGET)))
    actions = [(e.action, e.after["outcome"]) for e in entries]
    assert actions == [
        (f"tournaments.{a}", o) for a in ("start", "pause", "resume", "cancel")
        for o in ("requested", "done")
    ]  # fmt: skip
    cancel_done = entries[-1]
    assert cancel_done.before["state"] == "running"
    assert cancel_done.after["state"] == "cancelled"


async def test_entries_and_tables_are_changed_between_hands_and_audited(
    make_client: Callable[..., Any], store: Store
) -> None:
    client = make_client()
    await client.post(f"{T}/start", headers=DIRECTOR, json={"reason": "go"})

    async def post(path: str, body: dict[str, Any]) -> Any:
        return await client.post(f"{T}/{path}", headers=DIRECTOR, json={"reason": "floor", **body})

    assert (await post("entries/1/stack", {"chips": 250})).status_code == 200
    assert (await post("entries/3/move", {"table": 2})).status_code == 200
    assert (await post("tables/2/break", {})).status_code == 200
    assert (await post("entries/2/remove", {"refund": True})).status_code == 200
    view = await (await client.get(T, headers=DIRECTOR)).get_json()
    stacks = {line["entry"]: line["stack"] for line in view["entrants"]["lines"]}
    assert stacks[1] == 750
    assert [t["table_id"] for t in view["details"]["tables"]] == ["t7-1"]
    requested = [e.after for e in await store.list_audit(target=TARGET)
                 if e.after["outcome"] == "requested"]  # fmt: skip
    assert requested[::-1][1:] == [
        {"outcome": "requested", "entry": 1, "chips": 250},
        {"outcome": "requested", "entry": 3, "table": 2},
        {"outcome": "requested", "table": 2},
        {"outcome": "requested", "entry": 2, "refund": True},
    ]


async def test_a_change_the_tournament_refuses_is_a_conflict_with_its_code(
    make_client: Callable[..., Any], store: Store
) -> None:
    # Not running yet: the clock cannot be paused.
    response = await make_client().post(f"{T}/pause", headers=DIRECTOR, json={"reason": "r"})
    assert response.status_code == 409
    assert (await response.get_json())["error"] == "tournament_not_running"
    outcome, intent = await store.list_audit(target=TARGET)
    assert intent.after == {"outcome": "requested"}
    assert outcome.after == {"outcome": "refused", "error": "tournament_not_running"}


async def test_results_export_as_json_and_csv(make_client: Callable[..., Any]) -> None:
    client = make_client()
    as_json = await (await client.get(f"{T}/results", headers=DIRECTOR)).get_json()
    assert as_json["prize_pool"] == 300 and len(as_json["lines"]) == 3
    response = await client.get(f"{T}/results.csv", headers=DIRECTOR)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "tournament-7-results.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO((await response.get_data()).decode())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert sorted(int(row[2]) for row in rows[1:]) == [1, 2, 3]


_lines = st.lists(
    st.builds(
        ResultLine,
        entry=st.integers(1, 10_000),
        player_id=st.integers(1, 10**9),
        place=st.integers(0, 500),
        tied=st.integers(0, 5),
        prize=st.integers(0, 10**12),
        bounties=st.integers(0, 10**9),
        rebuys=st.integers(0, 100),
        addon=st.booleans(),
    ),
    max_size=30,
)


@given(lines=_lines)
@settings(max_examples=50, suppress_health_check=list(HealthCheck), deadline=None)
def test_the_csv_export_holds_every_line_placed_first_in_place_order(
    lines: list[ResultLine],
) -> None:
    results = Results(tournament_id=1, state="running", entries=len(lines), prize_pool=0,
                      paid=0, fees=0, lines=tuple(lines))  # fmt: skip
    rows = list(csv.reader(io.StringIO(results_csv(results))))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == len(lines) + 1
    places = [int(row[0]) if row[0] else None for row in rows[1:]]
    placed = [p for p in places if p is not None]
    assert placed == sorted(placed)
    assert places == placed + [None] * (len(places) - len(placed))  # the unplaced last
    assert sum(int(row[4]) for row in rows[1:]) == sum(line.prize for line in lines)
