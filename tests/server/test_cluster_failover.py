"""Three `tablium serve` processes over one PostgreSQL and one Redis (docs/scaling.md,
"Failover"): players connected to the node that owns a table play there; that node is
killed with SIGKILL (or paused with SIGSTOP, and woken once another node holds the lease:
it stops the table and writes nothing that lands); a surviving node takes the table's
lease within 10 s and opens the table from its snapshot (the running hand voided, its
chips back in the stacks); the players reconnect to the table's new owner, resume their
sessions from Redis, and play goes on there; afterwards the ledger audits clean and every
chip is where it should be.

No request crosses nodes yet (issue 22's routing is not built), so the players reconnect to
the new owner itself, as a load balancer that knows where tables live would send them.
"""

from __future__ import annotations

import contextlib
import random
import signal
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis
import trio

from protocol import game
from protocol.client import Client, ClientError, ServerError, open_client
from server.auth import TokenSigner
from tests.persistence.stores import store_url
from tests.server.test_cluster_degraded_postgres import Progress
from tests.server.test_crash_mid_play import BUY_IN, TABLE, _accounted_for, _fund, passive_action
from tests.server_process import TEST_JWT_SECRET, ServerProcess, running_server

PLAY_TIMEOUT_S = 60
TAKEOVER_S_MAX = 10.0  # issue 22: a dead owner's tables move within 10 s
# From the takeover to the next hand's prompt at every seat: the table's restore, its pause
# between hands and the seek's round trip (measured about 4 s).
PUSHES_AFTER_TAKEOVER_S = 20.0
HANDS_BEFORE_KILL = 3
SEED = 20261203
PASSWORD = "correct horse battery staple"
NAMES = ("fail_ann", "fail_bob", "fail_cy")


def _admin_headers() -> dict[str, str]:
    token, _ = TokenSigner(TEST_JWT_SECRET).issue("ops", "admin")
    return {"Authorization": f"Bearer {token}"}


async def _node_name(server: ServerProcess) -> str:
    async with httpx.AsyncClient(base_url=server.admin_url) as admin:
        answer = await admin.get("/cluster", headers=_admin_headers())
    assert answer.status_code == 200, answer.text
    return str(answer.json()["node"])


async def _runs_table(server: ServerProcess) -> bool:
    async with httpx.AsyncClient(base_url=server.admin_url) as admin:
        answer = await admin.get(f"/actors/table:{TABLE}", headers=_admin_headers())
    assert answer.status_code in (200, 404), answer.text
    return answer.status_code == 200


async def _play(client: Client, seat: int, rng: random.Random, progress: Progress) -> None:
    """Answer every action asked of ``seat``, telling ``progress`` what it sees. Returns
    when the connection is gone (its node was killed)."""
    try:
        while True:
            item = await client.next_event(timeout_s=PLAY_TIMEOUT_S)
            body = getattr(item, "body", None)
            if isinstance(body, game.HandEnded) and body.table_id == TABLE:
                progress.saw(ended=body.hand_number)
            if not isinstance(body, game.ActionRequired) or body.table_id != TABLE:
                continue
            progress.saw(dealt=body.hand_number)
            if body.seat != seat:
                continue
            action = passive_action(body.legal, rng)
            await client.request(
                game.Act(id=0, table_id=TABLE, hand_number=body.hand_number, action=action)
            )
    except (trio.EndOfChannel, ClientError):
        return


async def _failover(
    owner: ServerProcess,
    survivors: dict[str, ServerProcess],
    redis_url: str,
    prefix: str,
    how: str,
) -> tuple[dict[str, int], dict[str, float]]:
    rng = random.Random(SEED)
    ids: dict[str, int] = {}
    tokens: dict[str, tuple[str, str]] = {}  # name -> (token, session id)
    last_seqs: dict[str, int] = {}
    seats: dict[str, int] = {}
    progress = Progress()
    measured: dict[str, float] = {}
    # 1. Three players at the owner's table, reconnect off: their node is about to die.
    async with (
        open_client(owner.ws_url, reconnect=False) as a,
        open_client(owner.ws_url, reconnect=False) as b,
        open_client(owner.ws_url, reconnect=False) as c,
        trio.open_nursery() as players,
    ):
        clients = dict(zip(NAMES, (a, b, c), strict=True))
        for name, client in clients.items():
            await client.register(name, PASSWORD)
            ids[name] = await _fund(owner.admin_url, name)
            seated = await client.request(game.JoinTable(id=0, table_id=TABLE, buy_in=BUY_IN))
            assert isinstance(seated, game.Seated)
            seats[name] = seated.seat
            players.start_soon(_play, client, seated.seat, random.Random(rng.random()), progress)
        await progress.until(lambda: any(n >= HANDS_BEFORE_KILL for n in progress.dealt))
        killed_in = max(progress.dealt)
        owner.proc.send_signal(signal.SIGKILL if how == "kill" else signal.SIGSTOP)
        killed_at = time.monotonic()
        if how == "kill":
            owner.proc.wait()
        players.cancel_scope.cancel()
        for name, client in clients.items():
            assert client.token is not None and client.session_id is not None
            tokens[name] = (client.token, client.session_id)
            last_seqs[name] = client.last_seq
    # 2. A survivor takes the lease (and opens the table) within TAKEOVER_S_MAX.
    lease_key = f"{prefix}lease:{TABLE}"
    with redis.Redis.from_url(redis_url) as shared:
        holder: str | None = None
        with trio.fail_after(TAKEOVER_S_MAX):
            while holder not in survivors:
                value = shared.get(lease_key)
                holder = value.decode() if isinstance(value, bytes) else None
                if holder not in survivors:
                    await trio.sleep(0.05)  # another process decides: nothing to wait on here
    measured["lease_taken_s"] = time.monotonic() - killed_at
    assert holder is not None
    new_owner = survivors[holder]
    if how == "pause":
        # The owner wakes past its lease, its table in the middle of a hand: whatever it
        # writes now (the hand's results, a cash-out, the rake) is fenced off, and its next
        # renewal finds the lease another node's and stops the table there.
        owner.proc.send_signal(signal.SIGCONT)
        woke_at = time.monotonic()
        with trio.fail_after(TAKEOVER_S_MAX):
            running = True
            while running:
                running = await _runs_table(owner)
                if running:
                    await trio.sleep(0.1)  # another process decides: nothing to wait on here
        measured["paused_owner_stopped_table_s"] = time.monotonic() - woke_at
    # 3. The players reconnect to the new owner and resume their sessions there.
    async with (
        open_client(new_owner.ws_url, reconnect=False) as a,
        open_client(new_owner.ws_url, reconnect=False) as b,
        open_client(new_owner.ws_url, reconnect=False) as c,
        trio.open_nursery() as players,
    ):
        clients = dict(zip(NAMES, (a, b, c), strict=True))
        for name, client in clients.items():
            token, session_id = tokens[name]
            client.last_seq = last_seqs[name]
            resumed = await client.authenticate(token, last_seqs[name])
            assert resumed.session_id == session_id, "the same session, resumed"
            assert resumed.resume in ("complete", "gap")
            measured.setdefault("resumed_s", time.monotonic() - killed_at)
            players.start_soon(_play, client, seats[name], random.Random(rng.random()), progress)
        # Play goes on at the table on its new owner: hands after the voided one end there.
        await progress.until(lambda: any(n > killed_in for n in progress.dealt))
        measured["first_hand_dealt_s"] = time.monotonic() - killed_at
        first = min(n for n in progress.dealt if n > killed_in)
        await progress.until(lambda: any(n >= first for n in progress.ended))
        players.cancel_scope.cancel()
    measured["killed_in_hand"] = killed_in
    measured["first_hand_after"] = first
    return ids, measured


class RemotePlayer:
    """A player connected to a node that is not her table's: answers the actions asked of
    her seat while ``acting``, and notes what reaches her."""

    def __init__(self, client: Client, seat: int, rng: random.Random, progress: Progress) -> None:
        self.client = client
        self.seat = seat
        self.rng = rng
        self.progress = progress
        self.acting = True
        self.prompt: game.ActionRequired | None = None  # the last action_required seen
        self.snapshots = 0

    async def run(self) -> None:
        while True:
            item = await self.client.next_event(timeout_s=PLAY_TIMEOUT_S)
            body = getattr(item, "body", None)
            if isinstance(body, game.TableSnapshot) and body.table_id == TABLE:
                self.snapshots += 1
                self.progress.saw()  # (wakes whoever waits on what they saw)
            if isinstance(body, game.HandEnded) and body.table_id == TABLE:
                self.progress.saw(ended=body.hand_number)
            if isinstance(body, game.ActionRequired) and body.table_id == TABLE:
                self.prompt = body
                self.progress.saw(dealt=body.hand_number)
                if self.acting:
                    await self.answer(body)

    async def answer(self, body: game.ActionRequired) -> None:
        if body.seat != self.seat:
            return
        action = passive_action(body.legal, self.rng)
        act = game.Act(id=0, table_id=TABLE, hand_number=body.hand_number, action=action)
        # Refused: the owner died with the act in flight (unavailable), or a stale prompt.
        with contextlib.suppress(ServerError):
            await self.client.request(act)


async def _failover_without_a_request(
    owner: ServerProcess,
    survivors: dict[str, ServerProcess],
    redis_url: str,
    prefix: str,
    how: str,
) -> tuple[dict[str, int], dict[str, float]]:
    """The players sit at the owner's table from the two other nodes (two on one, one on
    the other) and play; at the signal they stop sending anything. Whichever survivor takes
    the table over, it finds their sessions (RouteSeek) and its pushes reach them: the
    table's state and the next hand's prompts, with no request of theirs."""
    rng = random.Random(SEED)
    ids: dict[str, int] = {}
    progress = Progress()
    measured: dict[str, float] = {}
    nodes = list(survivors.items())
    homes = dict(zip(NAMES, (nodes[0], nodes[0], nodes[1]), strict=True))
    async with (
        open_client(homes[NAMES[0]][1].ws_url, reconnect=False) as a,
        open_client(homes[NAMES[1]][1].ws_url, reconnect=False) as b,
        open_client(homes[NAMES[2]][1].ws_url, reconnect=False) as c,
        trio.open_nursery() as nursery,
    ):
        players: dict[str, RemotePlayer] = {}
        for name, client in zip(NAMES, (a, b, c), strict=True):
            await client.register(name, PASSWORD)
            ids[name] = await _fund(homes[name][1].admin_url, name)
            seated = await client.request(game.JoinTable(id=0, table_id=TABLE, buy_in=BUY_IN))
            assert isinstance(seated, game.Seated)
            players[name] = RemotePlayer(client, seated.seat, random.Random(rng.random()), progress)
            nursery.start_soon(players[name].run)
        await progress.until(lambda: any(n >= HANDS_BEFORE_KILL for n in progress.dealt))
        for player in players.values():
            player.acting = False  # from here on, no request until the new owner's pushes
            player.snapshots = 0
        killed_in = max(progress.dealt)
        owner.proc.send_signal(signal.SIGKILL if how == "kill" else signal.SIGSTOP)
        killed_at = time.monotonic()
        if how == "kill":
            owner.proc.wait()
        lease_key = f"{prefix}lease:{TABLE}"
        with redis.Redis.from_url(redis_url) as shared:
            holder: str | None = None
            with trio.fail_after(TAKEOVER_S_MAX):
                while holder not in survivors:
                    value = shared.get(lease_key)
                    holder = value.decode() if isinstance(value, bytes) else None
                    if holder not in survivors:
                        await trio.sleep(0.05)  # another process decides: nothing to wait on
        measured["lease_taken_s"] = time.monotonic() - killed_at
        remote = [name for name in NAMES if homes[name][0] != holder]
        assert remote, "a player is connected to a node that does not own the table"
        # The old owner pushes nothing from here on (dead, or still paused), and it sent no
        # table_snapshot since the signal: a prompt from now on, and any table_snapshot
        # (sent as the new owner finds their sessions, perhaps before this line), are the
        # new owner's. It deals its first hand after its pause between hands (2 s).
        for player in players.values():
            player.prompt = None

        def reached() -> bool:
            prompted = all(players[name].prompt is not None for name in NAMES)
            return prompted and all(players[name].snapshots > 0 for name in remote)

        with trio.fail_after(PUSHES_AFTER_TAKEOVER_S):
            await progress.until(reached)
        measured["prompted_s"] = time.monotonic() - killed_at
        if how == "pause":
            # It wakes with its table, its routes to the players' nodes and its hand in the
            # middle: play goes on at the new owner regardless.
            owner.proc.send_signal(signal.SIGCONT)
        # They play on: the prompt of whoever's turn it is is answered now.
        prompt = players[NAMES[0]].prompt
        assert prompt is not None
        first = prompt.hand_number
        for player in players.values():
            player.acting = True
            if player.prompt is not None:
                nursery.start_soon(player.answer, player.prompt)
        # A hand after it ends: only the new owner deals past the one it restored.
        await progress.until(lambda: any(n > first for n in progress.ended))
        nursery.cancel_scope.cancel()
    measured["killed_in_hand"] = killed_in
    measured["remote_players"] = len(remote)
    return ids, measured


Scenario = Callable[
    [ServerProcess, dict[str, ServerProcess], str, str, str],
    Awaitable[tuple[dict[str, int], dict[str, float]]],
]


def _on_three_nodes(
    tmp_path: Path, postgres_url: str, redis_url: str, prefix: str, how: str, play: Scenario
) -> dict[str, float]:
    """Three nodes on one PostgreSQL and Redis; ``play(owner, survivors, redis_url, prefix,
    how)`` kills or pauses the owner in its course. The nodes left then stop cleanly, a last
    node recovers the table (voiding a hand the clean stop left running) and stops, and the
    ledger accounts for every chip of the players ``play`` named. Its figures come back."""
    database_url = trio.run(store_url, "postgres", tmp_path, postgres_url)
    env = {
        "TABLIUM_DATABASE_URL": database_url,
        "TABLIUM_REDIS_URL": redis_url,
        "TABLIUM_REDIS_PREFIX": prefix,
    }
    with ExitStack() as stack:
        # The first node to start takes every seed table's lease; the others wait for them.
        owner = stack.enter_context(running_server(tmp_path / "a", **env))
        others = [stack.enter_context(running_server(tmp_path / n, **env)) for n in "bc"]
        survivors = {trio.run(_node_name, node): node for node in others}
        ids, measured = trio.run(play, owner, survivors, redis_url, prefix, how)
        alive = others if how == "kill" else [owner, *others]
        for node in alive:
            node.proc.send_signal(signal.SIGTERM)
        for node in alive:
            assert node.proc.wait(timeout=10) == 0
    with running_server(tmp_path / "d", **env) as last:
        last.proc.send_signal(signal.SIGTERM)
        assert last.proc.wait(timeout=10) == 0
    trio.run(_accounted_for, database_url, ids)
    return measured


@pytest.mark.parametrize("how", ["kill", "pause"])
def test_players_on_other_nodes_get_the_new_owners_pushes_without_a_request(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str, how: str
) -> None:
    """Issue 22's last gap: after a takeover, a player whose session is on a surviving node
    (not the new owner) and who sends nothing gets the table's state and her turn's prompt
    from the new owner; then play goes on and every chip is accounted for. ``pause``: the
    old owner wakes after the takeover with its routes and its table (it answers no seek
    about a table it still runs, and its stale news never stands anyone up)."""
    prefix = f"{redis_prefix}seek-{how}:"
    measured = _on_three_nodes(
        tmp_path, postgres_url, redis_url, prefix, how, _failover_without_a_request
    )
    print("pushes after a takeover:", measured)


@pytest.mark.parametrize("how", ["kill", "pause"])
def test_a_table_owner_killed_or_paused_loses_its_table_and_players_resume_on_the_new_owner(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str, how: str
) -> None:
    """``kill``: SIGKILL. ``pause``: SIGSTOP until a survivor holds the lease, then SIGCONT
    (issue 22's paused owner, which must not write a snapshot or a transfer after the
    takeover: the audit at the end would find the chips it moved)."""
    prefix = f"{redis_prefix}failover-{how}:"
    measured = _on_three_nodes(tmp_path, postgres_url, redis_url, prefix, how, _failover)
    assert measured["lease_taken_s"] <= TAKEOVER_S_MAX
    print("failover measured:", measured)  # the figures docs/scaling.md quotes
