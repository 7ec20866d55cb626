"""The tournament routes against the live tournament actors (actors/tournament.py, the
directory, real tables and the ledger; tests/tournaments/harness.py's room): a director
creates a tournament, players register, the director starts it, pauses and resumes the
clock, and cancels it with every entry refunded through the ledger, all audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from actors.tournament_messages import RegisterPlayer
from admin.app import create_admin_app
from admin.auth import jwt_verifier
from admin.context import AdminContext
from persistence import outbox
from server.auth import TokenSigner
from server.config import Settings
from tests.actors.test_table_fakes import sqlite_url
from tests.admin.conftest import SECRET, bearer
from tests.e2e.clock import autojump_between_threads
from tests.tournaments.harness import FUNDS, tournament_room

DIRECTOR = bearer("director", subject="td")
PLAYERS = list(range(1, 13))  # two tables of nine
SPEC = {
    "name": "Live MTT",
    "preset": "hyper",
    "buy_in": 100,
    "fee": 10,
    "bounty": 20,
    "bounty_kind": "progressive",
    "action_timeout_ms": 60_000,  # nobody acts here: the hands wait, the clock runs
    "reason": "live routes",
}


async def test_a_director_runs_a_live_tournament_and_cancels_it_with_refunds(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=3) as room:
        context = AdminContext(
            settings=Settings(), verify_token=jwt_verifier(TokenSigner(SECRET)),
            store=room.store, wallet=room.wallet, registry=room.runtime.registry,
        )  # fmt: skip
        client = create_admin_app(context).test_client()

        async def post(path: str, body: dict[str, Any]) -> Any:
            response = await client.post(path, headers=DIRECTOR, json=body)
            assert response.status_code == 200, await response.get_data()
            return await response.get_json()

        created = await post("/tournaments", SPEC)
        tid = created["tournament_id"]
        assert created["details"]["summary"]["state"] == "registering"
        assert created["details"]["structure_name"] == "hyper"
        listed = await (await client.get("/tournaments", headers=DIRECTOR)).get_json()
        assert [t["tournament_id"] for t in listed["tournaments"]] == [tid]

        await room.fund(PLAYERS)
        for player in PLAYERS:
            await room.tournament(tid).ask(RegisterPlayer(player_id=player))
        assert await room.balance(1) == FUNDS - 130

        started = await post(f"/tournaments/{tid}/start", {"reason": "on time"})
        assert started["summary"]["state"] == "running"
        assert len(started["tables"]) == 2
        assert sorted(t["players"] for t in started["tables"]) == [6, 6]
        assert (await post(f"/tournaments/{tid}/pause", {"reason": "pause"}))["clock_paused"]
        remaining = await post(f"/tournaments/{tid}/pause", {"reason": "again"})
        await trio.sleep(120)  # a paused clock stands still
        view = await (await client.get(f"/tournaments/{tid}", headers=DIRECTOR)).get_json()
        assert view["details"]["level_remaining_ms"] == remaining["level_remaining_ms"]
        assert view["entrants"]["total"] == len(PLAYERS)
        assert not (await post(f"/tournaments/{tid}/resume", {"reason": "go"}))["clock_paused"]

        csv_answer = await client.get(f"/tournaments/{tid}/results.csv", headers=DIRECTOR)
        rows = (await csv_answer.get_data()).decode().splitlines()
        assert rows[0].startswith("place,tied,entry") and len(rows) == 1 + len(PLAYERS)

        cancelled = await post(f"/tournaments/{tid}/cancel", {"reason": "storm"})
        assert cancelled["summary"]["state"] == "cancelled"
        refused = await client.post(f"/tournaments/{tid}/cancel", headers=DIRECTOR,
                                    json={"reason": "twice"})  # fmt: skip
        assert refused.status_code == 409
        with trio.fail_after(30):  # refunds are paid after the step that decided them
            while await room.pool(tid) != 0:  # noqa: ASYNC110 (the ledger has no event)
                await trio.sleep(0.1)
        for player in PLAYERS:
            assert await room.balance(player) == FUNDS
        audit = await room.wallet.audit()
        assert audit.consistent, audit
        actions = [(e.action, e.after["outcome"]) for e in await room.store.list_audit(limit=100)]
        for action in ("create", "start", "pause", "resume", "cancel"):
            assert (f"tournaments.{action}", "done") in actions, action
        assert ("tournaments.cancel", "refused") in actions


async def test_a_director_reschedules_the_start_and_it_starts_at_the_new_time(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=4) as room:
        context = AdminContext(
            settings=Settings(), verify_token=jwt_verifier(TokenSigner(SECRET)),
            store=room.store, wallet=room.wallet, registry=room.runtime.registry,
        )  # fmt: skip
        client = create_admin_app(context).test_client()

        async def post(path: str, body: dict[str, Any], status: int = 200) -> Any:
            response = await client.post(path, headers=DIRECTOR, json=body)
            assert response.status_code == status, await response.get_data()
            return await response.get_json()

        far = room.deps.clock_ms() + 10 * 3600_000
        created = await post("/tournaments", {**SPEC, "starts_at_ms": far})
        tid = created["tournament_id"]
        await room.fund(PLAYERS[:4])
        for player in PLAYERS[:4]:
            await room.tournament(tid).ask(RegisterPlayer(player_id=player))
        soon = room.deps.clock_ms() + 60_000
        moved = await post(f"/tournaments/{tid}/schedule", {"starts_at_ms": soon, "reason": "x"})
        assert moved["summary"]["starts_at_ms"] == soon
        assert moved["summary"]["state"] == "registering"
        await trio.sleep(61)  # the new time, not the old one
        view = await (await client.get(f"/tournaments/{tid}", headers=DIRECTOR)).get_json()
        assert view["details"]["summary"]["state"] == "running"
        # Once started it cannot move: refused, audited as refused.
        await post(f"/tournaments/{tid}/schedule", {"starts_at_ms": far, "reason": "y"}, 409)
        actions = [(e.action, e.after["outcome"]) for e in await room.store.list_audit(limit=100)]
        assert ("tournaments.schedule", "done") in actions
        assert ("tournaments.schedule", "refused") in actions
        events = await room.store.run(lambda: outbox.pending(1_000))
        moves = [json.loads(e.payload) for e in events if e.type == "tournament.rescheduled"]
        assert moves == [{"tournament_id": tid, "starts_at_ms": soon}]
