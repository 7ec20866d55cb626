"""Tournaments placed on another node and played from the first (docs/scaling.md,
"Tournaments across nodes").

Two `tablium serve` processes over one PostgreSQL and one Redis. Node A starts first and
holds every seed table; B holds none. A director creates a ``hyper`` sit-and-go of six on
A's admin API: it opens on B, the less-loaded node (nobody seated anywhere, B holds fewer
tables), which holds its lease; A runs neither it nor its table, and A's admin API reads it
all the same. Six swarm bots (seeded), every one connected to A, register, get their seats
(``tournament_seated``, pushed from B), play every hand at the table on B (each ``act``
routed to B, each push of the table routed back) and are told their eliminations and prizes
(pushes from B) until one wins. The prize pool is paid exactly once, the ledger audits clean,
and A's and B's metrics show the requests and pushes crossed. Then, B's load back to none, a
club owner connected to A creates a club tournament over the websocket: it opens on B too,
and she registers for it and reads her entry from A. Last, ``pytest -s`` prints how long a
``get_tournament`` takes from A (routed) and from B (its node), in alternating rounds.
"""

from __future__ import annotations

import signal
import statistics
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import redis
import trio

from loadtest.swarm import SwarmOptions, run_swarm
from protocol import clubs
from protocol import tournaments as tw
from protocol.client import open_client
from tests.e2e.test_tournament_kill9_ws import SERVER_ENV, staff_token
from tests.persistence.stores import store_url
from tests.server_process import ServerProcess, running_server

PLAYERS = 6
BUY_IN, FEE = 100, 10
PLAY_LIMIT_S = 180.0
ROOM_SEEN_S = 30.0  # A's router reads the room's records every 5 s; B writes its own at start
READ_ROUNDS = 200  # get_tournament from each node, alternating


def _admin(server: ServerProcess) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {staff_token()}"}
    return httpx.AsyncClient(base_url=server.admin_url, headers=headers, timeout=30)


async def _get(server: ServerProcess, path: str) -> httpx.Response:
    async with _admin(server) as admin:
        return await admin.get(path)


async def _node_name(server: ServerProcess) -> str:
    answer = await _get(server, "/cluster")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["node"])


async def _sees_the_room(server: ServerProcess, nodes: int) -> None:
    with trio.fail_after(ROOM_SEEN_S):
        while True:
            if len((await _get(server, "/cluster")).json()["placement"]) >= nodes:
                return
            await trio.sleep(0.2)  # another process decides: nothing to wait on here


async def _runs(server: ServerProcess, actor: str) -> bool:
    answer = await _get(server, f"/actors/{actor}")
    assert answer.status_code in (200, 404), answer.text
    return answer.status_code == 200


async def _create(server: ServerProcess) -> int:
    spec = {"name": "Placed", "kind": "sng", "preset": "hyper", "buy_in": BUY_IN, "fee": FEE,
            "seats_per_table": PLAYERS, "entries_max": PLAYERS, "action_timeout_ms": 5_000,
            "reason": "placement test"}  # fmt: skip
    async with _admin(server) as admin:
        created = await admin.post("/tournaments", json=spec)
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["details"]["summary"]["state"] == "registering"  # read from B, through A
    return int(body["tournament_id"])


async def _listed(server: ServerProcess, tournament_id: int) -> dict[str, Any]:
    """The tournament's line in the node's own list (B shares its lines with A)."""
    with trio.fail_after(ROOM_SEEN_S):
        while True:
            listed = (await _get(server, "/tournaments")).json()["tournaments"]
            line = next((t for t in listed if t["tournament_id"] == tournament_id), None)
            if line is not None:
                return dict(line)
            await trio.sleep(0.2)  # another process decides: nothing to wait on here


async def _idle(server: ServerProcess, node: str) -> None:
    """Until ``server`` counts ``node`` unloaded again: its tournament over, and its record
    (every 10 s) read since the tournament was placed there (every 5 s)."""
    with trio.fail_after(ROOM_SEEN_S):
        while True:
            if (await _get(server, "/cluster")).json()["placement"].get(node) == 0:
                return
            await trio.sleep(0.2)  # another process decides: nothing to wait on here


async def _club_tournament(server: ServerProcess) -> tuple[int, tw.TournamentView]:
    """A club owner on ``server`` creates a free club sit-and-go and registers for it."""
    async with open_client(server.ws_url, reconnect=False) as owner:
        await owner.register("placed_owner", "correct horse battery staple")
        club = await owner.request(clubs.ClubCreate(id=0, name="Placers", join_policy="open"))
        assert isinstance(club, clubs.ClubInfo)
        create = clubs.ClubCreateTournament(
            id=0, club_id=club.club.club_id, name="Placed club", preset="hyper", kind="sng",
            seats_per_table=PLAYERS, entries_max=PLAYERS,
        )  # fmt: skip
        made = await owner.request(create)
        assert isinstance(made, clubs.ClubTournamentCreated)
        tid = made.tournament_id
        registered = await owner.request(tw.RegisterTournament(id=0, tournament_id=tid))
        assert isinstance(registered, tw.TournamentRegistered)
        details = await owner.request(tw.GetTournament(id=0, tournament_id=tid))
        assert isinstance(details, tw.TournamentDetails)
        return tid, details.tournament


async def _read_times(a: ServerProcess, b: ServerProcess, tournament_id: int) -> str:
    """Median and 90th percentile of get_tournament from A (routed to B) and from B."""
    times: dict[str, list[float]] = {"from A (routed)": [], "from B (its node)": []}
    async with (
        open_client(a.ws_url, reconnect=False) as on_a,
        open_client(b.ws_url, reconnect=False) as on_b,
    ):
        await on_a.register("reader_a", "correct horse battery staple")
        await on_b.register("reader_b", "correct horse battery staple")
        clients = {"from A (routed)": on_a, "from B (its node)": on_b}
        for round_number in range(READ_ROUNDS + 20):  # the first 20: warming up
            for label, client in clients.items():
                started = time.perf_counter()
                read = await client.request(tw.GetTournament(id=0, tournament_id=tournament_id))
                assert isinstance(read, tw.TournamentDetails)
                if round_number >= 20:
                    times[label].append((time.perf_counter() - started) * 1000)
    shown = []
    for label, values in times.items():
        p90 = statistics.quantiles(values, n=10)[8]
        shown.append(f"{label} p50 {statistics.median(values):.1f} ms p90 {p90:.1f} ms")
    ratio = statistics.median(times["from A (routed)"]) / statistics.median(
        times["from B (its node)"]
    )
    return f"get_tournament: {'; '.join(shown)}; ratio of medians {ratio:.2f}x"


def _metric(text: str, name: str) -> float:
    """The sum of a metric's series (every label)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _options(server: ServerProcess, tournament_id: int) -> SwarmOptions:
    return SwarmOptions(
        url=server.ws_url, bots=PLAYERS, ramp_s=1.0, duration_s=PLAY_LIMIT_S, pace_s=0.0,
        strategy="random", scenario="tournament", tournament_id=str(tournament_id),
        admin_url=server.admin_url, staff_token=staff_token(), name_prefix="plbot",
        run_tag="placed", seed=2222,
    )  # fmt: skip


async def _scenario(a: ServerProcess, b: ServerProcess, redis_url: str, prefix: str) -> None:
    b_node = await _node_name(b)
    await _sees_the_room(a, 2)
    tournament_id = await _create(a)
    name = f"tournament:{tournament_id}"
    with redis.Redis.from_url(redis_url) as shared:
        holder = shared.get(f"{prefix}lease:{name}")
    assert holder == b_node.encode(), (holder, b_node)
    assert await _runs(b, name) and not await _runs(a, name)
    line = await _listed(a, tournament_id)
    assert line["state"] == "registering"

    report = await run_swarm(_options(a, tournament_id), progress=None)
    section = report["tournament"]
    assert section["finished"] is True, section
    assert section["registered_by_bots"] == PLAYERS
    assert section["winner"] is not None
    # Pushes from B reached the players on A: every elimination, and the winner's prize (a
    # bot stops at its elimination, before its own prize's push may come).
    assert section["eliminated"] == PLAYERS - 1, section
    assert section["hands"] > 0
    # The table lived on B only.
    assert await _runs(b, f"table:t{tournament_id}-1") is False  # closed once it finished
    assert await _runs(a, f"table:t{tournament_id}-1") is False

    for node in (a, b):  # the results read from either node are B's
        results = (await _get(node, f"/tournaments/{tournament_id}/results")).json()
        assert results["state"] == "finished" and results["entries"] == PLAYERS
        places = sorted(line["place"] for line in results["lines"])
        assert places == list(range(1, PLAYERS + 1))
        prizes = sum(line["prize"] for line in results["lines"])
        assert prizes == results["prize_pool"] == results["paid"] == PLAYERS * BUY_IN
        first = next(line for line in results["lines"] if line["place"] == 1)
        assert section["paid_to_bots"] >= first["prize"] > 0, section
    ledger = (await _get(a, "/ledger/audit")).json()
    assert ledger["consistent"] is True, ledger["violations"]

    a_metrics = (await _get(a, "/metrics")).text
    b_metrics = (await _get(b, "/metrics")).text
    assert _metric(a_metrics, "tablium_cluster_tournaments_placed_total") == 1
    assert _metric(a_metrics, "tablium_cluster_tournament_asks_routed_total") > PLAYERS
    assert _metric(b_metrics, "tablium_cluster_tournament_asks_answered_total") > PLAYERS
    assert _metric(a_metrics, "tablium_bus_requests_forwarded_total") > PLAYERS  # acts too
    assert _metric(b_metrics, "tablium_bus_pushes_forwarded_total") > PLAYERS

    await _idle(a, b_node)
    club_tid, view = await _club_tournament(a)
    with redis.Redis.from_url(redis_url) as shared:
        holder = shared.get(f"{prefix}lease:tournament:{club_tid}")
    assert holder == b_node.encode(), (holder, b_node)
    assert view.line.club_id is not None and view.line.entries == 1
    assert [e.status for e in view.my_entries] == ["registered"]
    print(await _read_times(a, b, tournament_id))  # the public one, over: still read
    print(
        "placed tournament:",
        {"hands": section["hands"], "duration_s": section["duration_s"]},
        {"a_routed": _metric(a_metrics, "tablium_bus_requests_forwarded_total")},
        {"b_pushes": _metric(b_metrics, "tablium_bus_pushes_forwarded_total")},
    )


def test_a_tournament_created_on_one_node_runs_on_the_less_loaded_one_and_is_played_from_the_first(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    database_url = trio.run(store_url, "postgres", tmp_path, postgres_url)
    prefix = f"{redis_prefix}tourney-placed:"
    env = {
        **SERVER_ENV,
        "TABLIUM_DATABASE_URL": database_url,
        "TABLIUM_REDIS_URL": redis_url,
        "TABLIUM_REDIS_PREFIX": prefix,
        # The reads timed at the end go as fast as they are answered.
        "TABLIUM_RATE_BURST_REQUESTS": "100000",
        "TABLIUM_RATE_REFILL_PER_S": "100000",
    }
    with ExitStack() as stack:
        a = stack.enter_context(running_server(tmp_path / "a", **env))
        b = stack.enter_context(running_server(tmp_path / "b", **env))
        trio.run(_scenario, a, b, redis_url, prefix)
        for node in (a, b):
            node.proc.send_signal(signal.SIGTERM)  # a whole room stopping: no drain
        for node in (a, b):
            assert node.proc.wait(timeout=15) == 0
