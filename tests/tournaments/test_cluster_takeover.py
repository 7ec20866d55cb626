"""A tournament's owner node dies (SIGKILL) or is paused past its lease (SIGSTOP, then
SIGCONT): another node takes the tournament over (docs/scaling.md, "Tournaments").

Two `tablium serve` processes over one PostgreSQL and one Redis. Node A creates a ``hyper``
sit-and-go of six and takes its lease; node B starts: it finds the tournament leased by A.
Six swarm bots on A register and play; once the tournament runs, its table is stored and B
opens neither (a tournament's table opens only with its tournament, on its node). Once
players are out A is killed (or paused). B takes the lease within 10 s and opens the
tournament from its stored step, as a restart does (a hand running at the kill is voided:
stacks as it started): every entry, every place and prize decided, every chip in play. The
bots come back on B (the same accounts) and play it to one winner; every chip of the prize
pool is paid exactly once and the ledger audits clean. A paused A, woken once B holds the
lease, stops the tournament and its table and writes nothing that lands: a step, a table
snapshot or a prize it wrote would show in the pool's balance or the audit.

Players reconnect to the new owner themselves here; from any other node they would reach it
through routing (tests/tournaments/test_cluster_routing.py)."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import trio

from loadtest.swarm import SwarmOptions, run_swarm
from tests.e2e.test_tournament_kill9_ws import SERVER_ENV, staff_token
from tests.persistence.stores import store_url
from tests.server_process import ServerProcess, running_server

PLAYERS = 6
BUY_IN, FEE = 100, 10
STARTING_STACK = 500  # the hyper preset's
STOP_WHEN_LEFT = 4  # some places decided first
PHASE_LIMIT_S = 120.0
TAKEOVER_S_MAX = 10.0  # issue 22: a dead owner's tables (and tournaments) move within 10 s


def _options(server: ServerProcess, tournament_id: int) -> SwarmOptions:
    return SwarmOptions(
        url=server.ws_url, bots=PLAYERS, ramp_s=1.0, duration_s=PHASE_LIMIT_S, pace_s=0.0,
        strategy="random", scenario="tournament", tournament_id=str(tournament_id),
        admin_url=server.admin_url, staff_token=staff_token(), name_prefix="tkbot",
        run_tag="takeover", seed=22,
    )  # fmt: skip


def _admin(server: ServerProcess) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {staff_token()}"}
    return httpx.AsyncClient(base_url=server.admin_url, headers=headers, timeout=30)


async def _view(server: ServerProcess, tournament_id: int) -> dict[str, Any] | None:
    async with _admin(server) as admin:
        response = await admin.get(f"/tournaments/{tournament_id}", params={"limit": 500})
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def _placed(view: dict[str, Any]) -> dict[int, tuple[int, int, int]]:
    lines = view["results"]["lines"]
    return {r["entry"]: (r["place"], r["tied"], r["prize"]) for r in lines if r["place"]}


async def _create(server: ServerProcess) -> int:
    spec = {"name": "Takeover", "kind": "sng", "preset": "hyper", "buy_in": BUY_IN, "fee": FEE,
            "seats_per_table": PLAYERS, "entries_max": PLAYERS, "action_timeout_ms": 5_000,
            "reason": "failover test"}  # fmt: skip
    async with _admin(server) as admin:
        created = await admin.post("/tournaments", json=spec)
    assert created.status_code == 200, created.text
    return int(created.json()["tournament_id"])


async def _play_until_busts(
    owner: ServerProcess, tournament_id: int, how: str, start_b: Callable[[], ServerProcess]
) -> tuple[dict[str, Any], ServerProcess]:
    """Node B starts first (it finds the tournament registering, leased by A, and waits for
    it); then the swarm plays on the owner until STOP_WHEN_LEFT are left, and the owner is
    killed or paused. Returns the view just before, and B.

    B starts before play, not once the tournament runs: a start takes seconds on a loaded
    machine, and a hyper sit-and-go played at full speed can finish in that time (CI saw it:
    the lease then never moved, or moved to B only to be given back at once)."""
    seen: dict[str, Any] = {}
    b = await trio.to_thread.run_sync(start_b)
    checked = False
    name = f"tournament:{tournament_id}"
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_swarm, _options(owner, tournament_id), None)
        with trio.fail_after(PHASE_LIMIT_S):
            while True:
                view = await _view(owner, tournament_id)
                assert view is not None
                summary = view["details"]["summary"]
                assert summary["state"] != "finished", "played out before the owner stopped"
                if summary["state"] == "running" and not checked:
                    # B found the tournament leased by A, and its table stored: it runs
                    # neither (a tournament's table opens only with its tournament).
                    assert await _runs(owner, name) and not await _runs(b, name)
                    assert not await _runs(b, f"table:t{tournament_id}-1")
                    checked = True
                    continue
                if checked and summary["players_left"] <= STOP_WHEN_LEFT:
                    seen = view
                    break
                await trio.sleep(0.2)  # another process plays: nothing to wait on here
        owner.proc.send_signal(signal.SIGKILL if how == "kill" else signal.SIGSTOP)
        if how == "kill":
            owner.proc.wait()
        nursery.cancel_scope.cancel()
    return seen, b


async def _lease_holder(redis_url: str, key: str, wanted: str) -> float:
    """Seconds until ``wanted`` holds the lease at ``key``."""
    started = time.monotonic()
    with redis.Redis.from_url(redis_url) as shared, trio.fail_after(TAKEOVER_S_MAX):
        while True:
            value = shared.get(key)
            if isinstance(value, bytes) and value.decode() == wanted:
                return time.monotonic() - started
            await trio.sleep(0.05)  # another process decides: nothing to wait on here


async def _node_name(server: ServerProcess) -> str:
    async with _admin(server) as admin:
        answer = await admin.get("/cluster")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["node"])


async def _runs(server: ServerProcess, actor: str) -> bool:
    async with _admin(server) as admin:
        answer = await admin.get(f"/actors/{actor}")
    assert answer.status_code in (200, 404), answer.text
    return answer.status_code == 200


async def _scenario(
    a: ServerProcess,
    start_b: Callable[[], ServerProcess],
    tournament_id: int,
    redis_url: str,
    prefix: str,
    how: str,
) -> ServerProcess:
    name = f"tournament:{tournament_id}"
    before, b = await _play_until_busts(a, tournament_id, how, start_b)
    took_s = await _lease_holder(redis_url, f"{prefix}lease:{name}", await _node_name(b))
    print(f"tournament lease taken over in {took_s:.2f} s ({how})")
    if how == "pause":
        # A wakes past its lease: its renewal finds the lease B's and stops the tournament
        # and its table there; whatever it still tried to write was fenced off.
        a.proc.send_signal(signal.SIGCONT)
        with trio.fail_after(TAKEOVER_S_MAX):
            running = True
            while running:
                running = await _runs(a, name) or await _runs(a, f"table:t{tournament_id}-1")
                if running:
                    await trio.sleep(0.1)  # another process decides: nothing to wait on here
    with trio.fail_after(TAKEOVER_S_MAX):
        after = None
        while after is None:
            after = await _view(b, tournament_id)
            if after is None:
                await trio.sleep(0.1)  # B opens it from the store: nothing to wait on here
    old, new = before["details"], after["details"]
    assert new["summary"]["state"] == "running"
    assert new["summary"]["entries"] == old["summary"]["entries"] == PLAYERS
    assert new["summary"]["level"] >= old["summary"]["level"]
    assert _placed(before).items() <= _placed(after).items()
    stacks = [line["stack"] for line in after["entrants"]["lines"] if not line["place"]]
    assert len(stacks) == new["players_left"] <= old["players_left"]
    assert sum(stacks) == PLAYERS * STARTING_STACK  # every chip in play, a running hand voided

    report = await run_swarm(_options(b, tournament_id), progress=None)
    if report["tournament"]["finished"] is not True:
        print(json.dumps({k: report.get(k) for k in ("tournament", "errors", "bots")})[:6000])
    assert report["tournament"]["finished"] is True, report["tournament"]
    async with _admin(b) as admin:
        results = (await admin.get(f"/tournaments/{tournament_id}/results")).json()
        ledger = (await admin.get("/ledger/audit")).json()
    assert results["state"] == "finished" and results["entries"] == PLAYERS
    places = sorted(line["place"] for line in results["lines"])
    assert places.count(1) == 1 and 0 not in places
    prizes = sum(line["prize"] for line in results["lines"])
    assert prizes == results["prize_pool"] == results["paid"] == PLAYERS * BUY_IN
    assert ledger["consistent"] is True, ledger["violations"]
    return b


@pytest.mark.parametrize("how", ["kill", "pause"])
def test_a_tournament_moves_to_a_surviving_node_when_its_owner_dies_or_is_paused(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str, how: str
) -> None:
    database_url = trio.run(store_url, "postgres", tmp_path, postgres_url)
    prefix = f"{redis_prefix}tourney-{how}:"
    env = {
        **SERVER_ENV,
        "TABLIUM_DATABASE_URL": database_url,
        "TABLIUM_REDIS_URL": redis_url,
        "TABLIUM_REDIS_PREFIX": prefix,
    }
    with ExitStack() as stack:
        a = stack.enter_context(running_server(tmp_path / "a", **env))
        tournament_id = trio.run(_create, a)
        # B starts once it runs: its start-up finds the tournament A holds and its table
        # stored, and waits for them.
        start_b = partial(stack.enter_context, running_server(tmp_path / "b", **env))
        b = trio.run(_scenario, a, start_b, tournament_id, redis_url, prefix, how)
        alive = [b] if how == "kill" else [a, b]
        for node in alive:
            node.proc.send_signal(signal.SIGTERM)
        for node in alive:
            assert node.proc.wait(timeout=15) == 0
