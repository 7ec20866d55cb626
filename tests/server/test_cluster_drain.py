"""Two `tablium serve` processes over one PostgreSQL and one Redis (docs/scaling.md, "Draining
a node"): players at a table owned by node A; A gets SIGTERM in the middle of a hand. The
hand is played to its end on A (not voided), A stops the table between hands and hands it
over to B, B opens it at once (no lease expiry waited for), A closes the players'
connections with 1001 (going_away) and exits 0; the players resume their sessions on B and
play the next hand there; afterwards the ledger audits clean and every chip is where it
should be. The test prints the pause the players saw: from the last action on A to the
first prompt on B.
"""

from __future__ import annotations

import contextlib
import random
import signal
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import redis
import trio

from protocol import game
from protocol.client import Client, ClientError, open_client
from server.auth import TokenSigner
from server.cluster_drain import FORCED_PHASE_S
from tests.persistence.stores import store_url
from tests.server.test_crash_mid_play import BUY_IN, TABLE, _accounted_for, _fund, passive_action
from tests.server_process import TEST_JWT_SECRET, ServerProcess, running_server

PLAY_TIMEOUT_S = 60
DRAIN_TIMEOUT_S = 20  # TABLIUM_DRAIN_TIMEOUT_S: far above a hand of passive bots
HANDS_BEFORE_DRAIN = 2
SEED = 20261204
PASSWORD = "correct horse battery staple"
NAMES = ("drain_ann", "drain_bob", "drain_cy")


def _admin_headers() -> dict[str, str]:
    token, _ = TokenSigner(TEST_JWT_SECRET).issue("ops", "admin")
    return {"Authorization": f"Bearer {token}"}


async def _cluster(server: ServerProcess) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=server.admin_url) as admin:
        answer = await admin.get("/cluster", headers=_admin_headers())
    assert answer.status_code == 200, answer.text
    view: dict[str, object] = answer.json()
    return view


def _sample(metrics: str, name: str) -> float:
    (value,) = [line.split()[-1] for line in metrics.splitlines() if line.startswith(name + " ")]
    return float(value)


class Seen:
    """What the players saw, by trio clock: each hand's first prompt, the hands that ended,
    the last action sent; ``until`` waits for a condition, woken by each change."""

    def __init__(self) -> None:
        self.dealt: dict[int, float] = {}
        self.ended: set[int] = set()
        self.last_act = 0.0
        self._changed = trio.Event()

    def saw(self, dealt: int | None = None, ended: int | None = None) -> None:
        if dealt is not None:
            self.dealt.setdefault(dealt, time.monotonic())
        if ended is not None:
            self.ended.add(ended)
        self._changed.set()
        self._changed = trio.Event()

    async def until(self, condition: object) -> None:
        assert callable(condition)
        with trio.fail_after(PLAY_TIMEOUT_S):
            while not condition():
                await self._changed.wait()


async def _play(client: Client, seat: int, rng: random.Random, seen: Seen) -> None:
    """Answer every action asked of ``seat``; returns when the connection is closed."""
    try:
        while True:
            item = await client.next_event(timeout_s=PLAY_TIMEOUT_S)
            body = getattr(item, "body", None)
            if isinstance(body, game.HandEnded) and body.table_id == TABLE:
                seen.saw(ended=body.hand_number)
            if not isinstance(body, game.ActionRequired) or body.table_id != TABLE:
                continue
            seen.saw(dealt=body.hand_number)
            if body.seat != seat:
                continue
            action = passive_action(body.legal, rng)
            await client.request(
                game.Act(id=0, table_id=TABLE, hand_number=body.hand_number, action=action)
            )
            seen.last_act = time.monotonic()
    except (trio.EndOfChannel, ClientError):
        return


async def _drain(
    a: ServerProcess, b: ServerProcess, b_node: str, redis_url: str, prefix: str
) -> tuple[dict[str, int], dict[str, float]]:
    rng = random.Random(SEED)
    ids: dict[str, int] = {}
    tokens: dict[str, tuple[str, str]] = {}
    last_seqs: dict[str, int] = {}
    seats: dict[str, int] = {}
    seen = Seen()
    measured: dict[str, float] = {}
    # 1. Three players at A's table play until a hand is under way, then A gets SIGTERM.
    async with (
        open_client(a.ws_url, reconnect=False) as c1,
        open_client(a.ws_url, reconnect=False) as c2,
        open_client(a.ws_url, reconnect=False) as c3,
        trio.open_nursery() as players,
    ):
        clients = dict(zip(NAMES, (c1, c2, c3), strict=True))
        for name, client in clients.items():
            await client.register(name, PASSWORD)
            ids[name] = await _fund(a.admin_url, name)
            seated = await client.request(game.JoinTable(id=0, table_id=TABLE, buy_in=BUY_IN))
            assert isinstance(seated, game.Seated)
            seats[name] = seated.seat
            players.start_soon(_play, client, seated.seat, random.Random(rng.random()), seen)
        await seen.until(lambda: any(n >= HANDS_BEFORE_DRAIN for n in seen.dealt))
        drained_in = max(seen.dealt)
        assert drained_in not in seen.ended, "SIGTERM in the middle of a hand"
        a.proc.send_signal(signal.SIGTERM)
        signalled_at = time.monotonic()
        # The players keep playing on A until A closes their connections (1001).
    measured["connections_closed_s"] = time.monotonic() - signalled_at
    for name, client in clients.items():
        assert client.token is not None and client.session_id is not None
        tokens[name] = (client.token, client.session_id)
        last_seqs[name] = client.last_seq
    last_act_on_a = seen.last_act
    # 2. The hand under way was played to its end on A, and B holds the table's lease.
    assert drained_in in seen.ended, "the hand under way at SIGTERM ended on A (not voided)"
    with redis.Redis.from_url(redis_url) as shared:
        holder = shared.get(f"{prefix}lease:{TABLE}")
    assert holder is not None and holder.decode() == b_node
    # 3. The players resume on B and play the next hand there.
    async with (
        open_client(b.ws_url, reconnect=False) as c1,
        open_client(b.ws_url, reconnect=False) as c2,
        open_client(b.ws_url, reconnect=False) as c3,
        trio.open_nursery() as players,
    ):
        clients = dict(zip(NAMES, (c1, c2, c3), strict=True))
        for name, client in clients.items():
            token, session_id = tokens[name]
            client.last_seq = last_seqs[name]
            resumed = await client.authenticate(token, last_seqs[name])
            assert resumed.session_id == session_id, "the same session, resumed on B"
            assert resumed.resume in ("complete", "gap")
            players.start_soon(_play, client, seats[name], random.Random(rng.random()), seen)
        await seen.until(lambda: any(n > drained_in for n in seen.dealt))
        first = min(n for n in seen.dealt if n > drained_in)
        measured["pause_s"] = seen.dealt[first] - last_act_on_a
        await seen.until(lambda: first in seen.ended)
        players.cancel_scope.cancel()
    assert first == drained_in + 1, "no hand voided or skipped"
    measured["drained_in_hand"] = drained_in
    return ids, measured


def test_sigterm_drains_a_node_its_table_moves_between_hands_and_players_resume_on_another(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    database_url = trio.run(store_url, "postgres", tmp_path, postgres_url)
    prefix = f"{redis_prefix}drain:"
    env = {
        "TABLIUM_DATABASE_URL": database_url,
        "TABLIUM_REDIS_URL": redis_url,
        "TABLIUM_REDIS_PREFIX": prefix,
        "TABLIUM_DRAIN_TIMEOUT_S": str(DRAIN_TIMEOUT_S),
    }
    with ExitStack() as stack:
        # The first node to start takes every seed table's lease; the second waits for them.
        a = stack.enter_context(running_server(tmp_path / "a", **env))
        b = stack.enter_context(running_server(tmp_path / "b", **env))
        b_node = str(trio.run(_cluster, b)["node"])
        ids, measured = trio.run(_drain, a, b, b_node, redis_url, prefix)
        assert a.proc.wait(timeout=DRAIN_TIMEOUT_S) == 0
        # B holds every table A held (told over the bus: A's leases were released, not
        # left to lapse), and A left the room as it stopped.
        with redis.Redis.from_url(redis_url) as shared:
            leases = list(shared.scan_iter(f"{prefix}lease:*"))
            assert len(leases) > 1
            assert {shared.get(key) for key in leases} == {b_node.encode()}
        view = trio.run(_cluster, b)
        nodes = view["nodes"]
        assert isinstance(nodes, list) and [n["node"] for n in nodes] == [b_node]
        # B counts them handed over, none taken after a lease lapsed (no hand voided).
        metrics = httpx.get(f"{b.admin_url}/metrics").text
        assert _sample(metrics, 'tablium_cluster_tables_taken_over_total{how="handed_over"}') == (
            len(leases)
        )
        assert _sample(metrics, 'tablium_cluster_tables_taken_over_total{how="lease_lapsed"}') == 0
        print("drain measured:", measured)  # the figures docs/scaling.md quotes
        b.proc.send_signal(signal.SIGTERM)  # the last node: no drain, stops at once
        assert b.proc.wait(timeout=10) == 0
    _recover_then_audit(tmp_path, env, database_url, ids)


def _recover_then_audit(
    tmp_path: Path, env: dict[str, str], database_url: str, ids: dict[str, int]
) -> None:
    """A last node recovers the table (voiding a hand the clean stop left running) and
    stops; then, from the database alone, every chip is where it should be."""
    with running_server(tmp_path / "last", **env) as last:
        last.proc.send_signal(signal.SIGTERM)
        assert last.proc.wait(timeout=10) == 0
    trio.run(_accounted_for, database_url, ids)


async def _stalled_hand(
    a: ServerProcess, b: ServerProcess, b_node: str, redis_url: str, prefix: str
) -> tuple[dict[str, int], dict[str, float]]:
    """Two players at A's table; neither answers hand 1's prompt; SIGTERM to A. The hand
    outlasts the drain's bound: the table moves mid-hand, B voids the hand, and the players,
    resumed on B, play the next one there."""
    rng = random.Random(SEED + 1)
    ids: dict[str, int] = {}
    seats: dict[str, int] = {}
    resume: dict[str, tuple[str, str, int]] = {}
    seen = Seen()
    measured: dict[str, float] = {}
    names = NAMES[:2]
    async with (
        open_client(a.ws_url, reconnect=False) as c1,
        open_client(a.ws_url, reconnect=False) as c2,
    ):
        clients = dict(zip(names, (c1, c2), strict=True))
        for name, client in clients.items():
            await client.register(f"{name}_stall", PASSWORD)
            ids[name] = await _fund(a.admin_url, f"{name}_stall")
            seated = await client.request(game.JoinTable(id=0, table_id=TABLE, buy_in=BUY_IN))
            assert isinstance(seated, game.Seated)
            seats[name] = seated.seat
        with trio.fail_after(PLAY_TIMEOUT_S):  # hand 1 asks someone; nobody answers
            while True:
                body = getattr(await c1.next_event(timeout_s=PLAY_TIMEOUT_S), "body", None)
                if isinstance(body, game.ActionRequired) and body.table_id == TABLE:
                    stalled = body.hand_number
                    break
        a.proc.send_signal(signal.SIGTERM)
        signalled_at = time.monotonic()
        for client in clients.values():  # closed (1001) once the table moved mid-hand
            with (
                contextlib.suppress(ClientError, trio.EndOfChannel),
                trio.fail_after(PLAY_TIMEOUT_S),
            ):
                while True:
                    await client.next_event(timeout_s=PLAY_TIMEOUT_S)
        measured["connections_closed_s"] = time.monotonic() - signalled_at
        for name, client in clients.items():
            assert client.token is not None and client.session_id is not None
            resume[name] = (client.token, client.session_id, client.last_seq)
    with redis.Redis.from_url(redis_url) as shared:
        assert shared.get(f"{prefix}lease:{TABLE}") == b_node.encode()
    async with (
        open_client(b.ws_url, reconnect=False) as c1,
        open_client(b.ws_url, reconnect=False) as c2,
        trio.open_nursery() as players,
    ):
        for name, client in zip(names, (c1, c2), strict=True):
            token, session_id, last_seq = resume[name]
            client.last_seq = last_seq
            resumed = await client.authenticate(token, last_seq)
            assert resumed.session_id == session_id
            players.start_soon(_play, client, seats[name], random.Random(rng.random()), seen)
        await seen.until(lambda: any(n > stalled for n in seen.dealt))
        first = min(n for n in seen.dealt if n > stalled)
        await seen.until(lambda: first in seen.ended and first + 1 in seen.ended)
        players.cancel_scope.cancel()
    assert stalled not in seen.ended, "the stalled hand was voided on B, never ended"
    measured["stalled_hand"] = stalled
    return ids, measured


def test_a_hand_that_outlasts_the_drain_moves_mid_hand_and_is_voided_on_the_new_node(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    database_url = trio.run(store_url, "postgres", tmp_path, postgres_url)
    prefix = f"{redis_prefix}drain-stalled:"
    env = {
        "TABLIUM_DATABASE_URL": database_url,
        "TABLIUM_REDIS_URL": redis_url,
        "TABLIUM_REDIS_PREFIX": prefix,
        "TABLIUM_DRAIN_TIMEOUT_S": "1",  # far below the 15 s a player has to act
    }
    with ExitStack() as stack:
        a = stack.enter_context(running_server(tmp_path / "a", **env))
        b = stack.enter_context(running_server(tmp_path / "b", **env))
        b_node = str(trio.run(_cluster, b)["node"])
        ids, measured = trio.run(_stalled_hand, a, b, b_node, redis_url, prefix)
        assert a.proc.wait(timeout=15) == 0
        assert measured["connections_closed_s"] < 1 + FORCED_PHASE_S + 2
        print("drain of a stalled hand measured:", measured)
        b.proc.send_signal(signal.SIGTERM)
        assert b.proc.wait(timeout=10) == 0
    _recover_then_audit(tmp_path, env, database_url, {f"{n}_stall": i for n, i in ids.items()})
