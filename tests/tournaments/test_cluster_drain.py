"""A draining node moves its tournament to another node between hands (docs/scaling.md,
"Draining a node").

Two `tablium serve` processes over one PostgreSQL and one Redis. Node A creates a ``hyper``
sit-and-go of six (it runs there, under A's lease); node B starts and waits for it. Six
players on A register and play (seeded choices, at once). In the middle of a hand A gets
SIGTERM: the hand is played to its end on A (its ``hand_ended`` seen), no other hand is
dealt there, the tournament stores its step (its play time with it) and stops with its
table, and B holds its lease well before a lease could lapse (told over the bus, not waiting
for one). A closes the players' connections (1001) and exits 0. The players resume the same
sessions on B: the next hand dealt is the one after (none voided or skipped), the clock goes
on from the play time A had (no level time lost, none gained beyond the move), and they play
it to one winner there, told of eliminations and prizes by B. The prizes sum to the pool and
the amount paid, the ledger audits clean, and B counts the tournament handed over, none
taken after a lapse. ``pytest -s`` prints the figures docs/scaling.md quotes.
"""

from __future__ import annotations

import random
import signal
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
import trio

from protocol import game
from protocol import tournaments as tw
from protocol.client import Client, ClientError, ServerError, open_client
from tests.e2e.test_tournament_kill9_ws import SERVER_ENV, staff_token
from tests.persistence.stores import store_url
from tests.server.test_cluster_drain import _sample
from tests.server.test_crash_mid_play import _fund
from tests.server_process import ServerProcess, running_server

PLAYERS = 6
BUY_IN, FEE = 100, 10
STARTING_STACK = 500  # the hyper preset's
HANDS_BEFORE_DRAIN = 2
DRAIN_TIMEOUT_S = 20  # TABLIUM_DRAIN_TIMEOUT_S: far above a hand of these players
LEASE_MOVED_S_MAX = 4.0  # well under the 6 s lease: handed over, not lapsed
PLAY_LIMIT_S = 60.0
ALL_IN_CHANCE_ON_B = 0.2
# The clock's store waits for the tournament to see the hand's report (and a 50 ms poll)
# after the players saw it end.
CLOCK_SLACK_MS = 300
SEED = 20261205
PASSWORD = "correct horse battery staple"
NAMES = tuple(f"tdrain_{n}" for n in ("ann", "bob", "cy", "dee", "eve", "fay"))


def _admin(server: ServerProcess) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {staff_token()}"}
    return httpx.AsyncClient(base_url=server.admin_url, headers=headers, timeout=30)


async def _create(server: ServerProcess) -> int:
    spec = {"name": "Drained", "kind": "sng", "preset": "hyper", "buy_in": BUY_IN, "fee": FEE,
            "seats_per_table": PLAYERS, "entries_max": PLAYERS, "action_timeout_ms": 5_000,
            "reason": "drain test"}  # fmt: skip
    async with _admin(server) as admin:
        created = await admin.post("/tournaments", json=spec)
    assert created.status_code == 200, created.text
    return int(created.json()["tournament_id"])


async def _details(server: ServerProcess, tournament_id: int) -> dict[str, Any]:
    async with _admin(server) as admin:
        response = await admin.get(f"/tournaments/{tournament_id}", params={"limit": 500})
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def _play_ms(details: dict[str, Any]) -> int:
    """The tournament's play time from its level and the time left in it (minute levels)."""
    level = details["level"]["level"]
    minutes = sum(lv["duration"] for lv in details["levels"][:level])
    assert details["unit"] == "minutes" and details["level_remaining_ms"] >= 0
    return int(minutes * 60_000 - details["level_remaining_ms"])


async def _cluster_node(server: ServerProcess) -> str:
    async with _admin(server) as admin:
        answer = await admin.get("/cluster")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["node"])


@dataclass
class Player:
    name: str
    rng: random.Random
    player_id: int = 0
    table_id: str | None = None
    seat: int | None = None
    out: bool = False
    all_in_chance: float = 0.0  # none on A: nobody is out before the drain, whatever the deal
    pushes: list[str] = field(default_factory=list)  # tournament pushes, by tag


class Seen:
    """What the players saw at the tournament's tables, by wall clock: each hand's first
    prompt, the hands that ended, the last action sent."""

    def __init__(self) -> None:
        self.dealt: dict[int, float] = {}
        self.ended: dict[int, float] = {}
        self.last_act = 0.0
        self._changed = trio.Event()

    def saw(self, dealt: int | None = None, ended: int | None = None) -> None:
        if dealt is not None:
            self.dealt.setdefault(dealt, time.monotonic())
        if ended is not None:
            self.ended.setdefault(ended, time.monotonic())
        self._changed.set()
        self._changed = trio.Event()

    async def until(self, condition: Any) -> None:
        with trio.fail_after(PLAY_LIMIT_S):
            while not condition():
                await self._changed.wait()


def _action(
    legal: game.Legal, rng: random.Random, all_in_chance: float
) -> tuple[game.ActKind, int]:
    """Show at showdown; all in now and then (on B: the hyper then ends in a few dozen
    hands), else check or call, fold rarely."""
    if legal.show:
        return "show", 0
    if legal.max_raise_to is not None and rng.random() < all_in_chance:
        return "bet_or_raise_to", legal.max_raise_to
    if legal.fold and rng.random() < 0.1:
        return "fold", 0
    if legal.check or legal.call is not None:
        return "check_or_call", 0
    return "fold", 0


async def _play(client: Client, player: Player, seen: Seen) -> None:
    """Follow the tournament and act for ``player``; returns when the connection closes."""
    try:
        while True:
            item = await client.next_event(timeout_s=PLAY_LIMIT_S)
            body = getattr(item, "body", None)
            if isinstance(body, tw.TournamentSeated | tw.TournamentMoved):
                player.table_id, player.seat = body.table_id, body.seat
            elif isinstance(body, tw.TournamentEliminated):
                player.out = True
            elif isinstance(body, game.TableSnapshot) and body.table_id == player.table_id:
                mine = [s.seat for s in body.seats if s.player_id == player.player_id]
                player.seat = mine[0] if mine else player.seat
            elif isinstance(body, game.HandEnded):
                seen.saw(ended=body.hand_number)
            if getattr(body, "tournament_id", None) is not None:
                player.pushes.append(type(body).__name__)
            if not isinstance(body, game.ActionRequired):
                continue
            seen.saw(dealt=body.hand_number)
            if body.table_id != player.table_id or body.seat != player.seat or player.out:
                continue
            kind, amount = _action(body.legal, player.rng, player.all_in_chance)
            act = game.Act(id=0, table_id=body.table_id, hand_number=body.hand_number,
                           action=kind, amount=amount, decision_id=body.decision_id)  # fmt: skip
            try:
                await client.request(act)
            except ServerError:
                continue  # a decision the table took meanwhile (stale): the next prompt
            seen.last_act = time.monotonic()
    except (trio.EndOfChannel, ClientError):
        return


async def _lease_on(redis_url: str, key: str, wanted: str) -> float:
    """Seconds until ``wanted`` holds the lease at ``key``."""
    started = time.monotonic()
    with redis.Redis.from_url(redis_url) as shared, trio.fail_after(PLAY_LIMIT_S):
        while True:
            value = shared.get(key)
            if isinstance(value, bytes) and value.decode() == wanted:
                return time.monotonic() - started
            await trio.sleep(0.01)  # another process decides: nothing to wait on here


async def _finished(server: ServerProcess, tournament_id: int) -> dict[str, Any]:
    with trio.fail_after(PLAY_LIMIT_S):
        while True:
            async with _admin(server) as admin:
                results: dict[str, Any] = (
                    await admin.get(f"/tournaments/{tournament_id}/results")
                ).json()
            if results["state"] == "finished":
                return results
            await trio.sleep(0.2)  # another process plays: nothing to wait on here


async def _scenario(
    a: ServerProcess, b: ServerProcess, tournament_id: int, redis_url: str, prefix: str
) -> dict[str, float]:
    rng = random.Random(SEED)
    b_node = await _cluster_node(b)
    lease_key = f"{prefix}lease:tournament:{tournament_id}"
    players = {name: Player(name, random.Random(rng.random())) for name in NAMES}
    seen = Seen()
    measured: dict[str, float] = {}
    resume: dict[str, tuple[str, str, int]] = {}
    # 1. Six players on A register; the sit-and-go starts; they play until a hand is under
    #    way, then A gets SIGTERM (its clock read just before).
    async with trio.open_nursery() as nursery:
        clients: dict[str, Client] = {}
        for name in NAMES:
            clients[name] = await nursery.start(_connected, a.ws_url)
        for name, client in clients.items():
            logged_in = await client.register(name, PASSWORD)
            assert logged_in.player_id is not None
            players[name].player_id = logged_in.player_id
            await _fund(a.admin_url, name)
            registered = await client.request(
                tw.RegisterTournament(id=0, tournament_id=tournament_id)
            )
            assert isinstance(registered, tw.TournamentRegistered)
        async with trio.open_nursery() as playing:
            for name, client in clients.items():
                playing.start_soon(_play, client, players[name], seen)
            await seen.until(lambda: any(n >= HANDS_BEFORE_DRAIN for n in seen.dealt))
            before = (await _details(a, tournament_id))["details"]
            read_at = time.monotonic()
            under_way = max(seen.dealt)
            a.proc.send_signal(signal.SIGTERM)
            signalled_at = time.monotonic()
            measured["lease_moved_s"] = await _lease_on(redis_url, lease_key, b_node)
            lease_seen_at = time.monotonic()
            # The players keep playing on A until A closes their connections (1001).
        measured["connections_closed_s"] = time.monotonic() - signalled_at
        for name, client in clients.items():
            assert client.token is not None and client.session_id is not None
            resume[name] = (client.token, client.session_id, client.last_seq)
        nursery.cancel_scope.cancel()
    assert before["summary"]["state"] == "running"
    last_act_on_a = seen.last_act
    # 2. The hand under way at SIGTERM was played to its end on A (one more may have been
    #    dealt if it ended before the drain's hold reached the tournament, no other), as
    #    was every hand dealt there; B holds the lease and runs the tournament from the
    #    step A stored: every entry and chip, the clock where A left it.
    drained_in = max(seen.dealt)
    assert under_way <= drained_in <= under_way + 1
    assert set(seen.dealt) <= set(seen.ended), "every hand dealt on A ended there (none voided)"
    after = (await _details(b, tournament_id))["details"]
    read_on_b_at = time.monotonic()
    assert after["summary"]["entries"] == PLAYERS
    assert after["players_left"] <= before["players_left"]
    # Play time ran on A until its last hand ended and runs on B since it opened there
    # (before the lease was seen): between the two it stood still.
    play_a, play_b = _play_ms(before), _play_ms(after)
    measured["clock_gained_ms"] = play_b - play_a
    ran_s = (seen.ended[drained_in] - read_at) + (read_on_b_at - lease_seen_at)
    measured["clock_stood_ms"] = (read_on_b_at - read_at) * 1000 - (play_b - play_a)
    assert play_a <= play_b <= play_a + ran_s * 1000 + CLOCK_SLACK_MS, (play_a, play_b, ran_s)
    async with _admin(b) as admin:
        standings = (await admin.get(f"/tournaments/{tournament_id}", params={"limit": 500})).json()
    stacks = [line["stack"] for line in standings["entrants"]["lines"] if not line["place"]]
    assert sum(stacks) == PLAYERS * STARTING_STACK  # every chip in play
    # 3. The players resume their sessions on B and play it to one winner there.
    async with trio.open_nursery() as nursery:
        clients = {}
        for name in NAMES:
            clients[name] = await nursery.start(_connected, b.ws_url)
        for name, client in clients.items():
            token, session_id, last_seq = resume[name]
            client.last_seq = last_seq
            players[name].pushes.clear()
            players[name].all_in_chance = ALL_IN_CHANCE_ON_B
            resumed = await client.authenticate(token, last_seq)
            assert resumed.session_id == session_id, "the same session, resumed on B"
            nursery.start_soon(_play, client, players[name], seen)
        await seen.until(lambda: any(n > drained_in for n in seen.dealt))
        first = min(n for n in seen.dealt if n > drained_in)
        measured["pause_s"] = seen.dealt[first] - last_act_on_a
        results = await _finished(b, tournament_id)
        nursery.cancel_scope.cancel()
    assert first == drained_in + 1, "no hand voided or skipped"
    measured["drained_in_hand"] = drained_in
    # 4. Every chip of the pool paid once; the winner was told on B.
    assert results["entries"] == PLAYERS
    places = sorted(line["place"] for line in results["lines"])
    assert places.count(1) == 1 and 0 not in places
    prizes = sum(line["prize"] for line in results["lines"])
    assert prizes == results["prize_pool"] == results["paid"] == PLAYERS * BUY_IN
    (winner,) = [line for line in results["lines"] if line["place"] == 1]
    told = [p for p in players.values() if "TournamentPaid" in p.pushes]
    assert told, "prizes pushed to the players on B"
    assert winner["prize"] > 0
    async with _admin(b) as admin:
        ledger = (await admin.get("/ledger/audit")).json()
    assert ledger["consistent"] is True, ledger["violations"]
    return measured


async def _connected(url: str, *, task_status: trio.TaskStatus[Client]) -> None:
    async with open_client(url, reconnect=False) as client:
        task_status.started(client)
        await trio.sleep_forever()


def test_sigterm_moves_a_running_tournament_to_another_node_between_hands(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    database_url = trio.run(store_url, "postgres", tmp_path, postgres_url)
    prefix = f"{redis_prefix}tourney-drain:"
    env = {
        **SERVER_ENV,
        "TABLIUM_DATABASE_URL": database_url,
        "TABLIUM_REDIS_URL": redis_url,
        "TABLIUM_REDIS_PREFIX": prefix,
        "TABLIUM_DRAIN_TIMEOUT_S": str(DRAIN_TIMEOUT_S),
    }
    started = time.monotonic()
    with ExitStack() as stack:
        # A alone when the tournament is created: it opens there (placement has no other
        # node); B starts then and waits for it.
        a = stack.enter_context(running_server(tmp_path / "a", **env))
        tournament_id = trio.run(_create, a)
        b = stack.enter_context(running_server(tmp_path / "b", **env))
        measured = trio.run(_scenario, a, b, tournament_id, redis_url, prefix)
        assert a.proc.wait(timeout=DRAIN_TIMEOUT_S) == 0
        assert measured["lease_moved_s"] < LEASE_MOVED_S_MAX, measured
        metrics = httpx.get(f"{b.admin_url}/metrics").text
        taken = "tablium_cluster_tournaments_taken_over_total"
        assert _sample(metrics, f'{taken}{{how="handed_over"}}') == 1
        assert _sample(metrics, f'{taken}{{how="lease_lapsed"}}') == 0
        b.proc.send_signal(signal.SIGTERM)  # the last node: no drain, stops at once
        assert b.proc.wait(timeout=10) == 0
    measured["test_s"] = time.monotonic() - started
    print("tournament drain measured:", measured)  # the figures docs/scaling.md quotes
