"""SIGKILL a server in the middle of play, restart it, and find every chip accounted for.

Three players are funded through the admin API, buy in at a seed table and play hands over
real websockets; once a few hands have ended and the next one is under way, the process is
killed outright. The restarted server recovers the table (the running hand is voided) and
is stopped with SIGTERM. Then, from the database alone: the ledger audits clean; the table's
escrow holds exactly its stacks plus what it still owes; and each player's wallet plus stack
(plus any cash-out owed to them) equals what they were given plus their net result over
every finished hand.
"""

from __future__ import annotations

import random
import signal
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from actors.table.durable import SNAPSHOT_KIND
from actors.table.state import decode_table_state
from persistence import open_store
from protocol import game
from protocol.client import Client, open_client
from server.auth import TokenSigner
from services.ledger import escrow
from services.wallet import Wallet
from tests.server_process import TEST_JWT_SECRET, ServerProcess, running_server

TABLE = "nt-1-2-a"
FUNDS = 1_000
BUY_IN = 200
HANDS_BEFORE_KILL = 3
PLAY_TIMEOUT_S = 60
SEED = 20261124


async def _fund(admin_url: str, name: str) -> int:
    token, _ = TokenSigner(TEST_JWT_SECRET).issue("ops", "support")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=admin_url, headers=headers) as admin:
        found = (await admin.get("/players", params={"q": name})).json()["players"]
        (player,) = [p for p in found if p["name"] == name]
        adjusted = await admin.post(
            f"/players/{player['id']}/wallet/adjustments",
            json={"amount": FUNDS, "reason": "crash test funds", "key": f"fund-{name}"},
        )
        assert adjusted.status_code == 200, adjusted.text
        return int(player["id"])


# Every family the operators' dashboards read; each must be on /metrics of a server in play.
METRIC_FAMILIES = {
    "tablium_http_request_duration_seconds",
    "tablium_gateway_connections",
    "tablium_gateway_frames",
    "tablium_gateway_errors",
    "tablium_actors",
    "tablium_actor_restarts",
    "tablium_actor_mailbox_depth",
    "tablium_hands",
    "tablium_action_to_broadcast_seconds",
    "tablium_db_operation_seconds",
    "tablium_ledger_transfers",
}


async def _check_metrics(admin_url: str) -> None:
    """Scrape /metrics as Prometheus would and parse it with prometheus-client's parser."""
    async with httpx.AsyncClient(base_url=admin_url) as admin:
        text = (await admin.get("/metrics")).text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert set(families) >= METRIC_FAMILIES, METRIC_FAMILIES - set(families)
    hands = sum(s.value for s in families["tablium_hands"].samples if s.name.endswith("_total"))
    assert hands >= HANDS_BEFORE_KILL - 1
    broadcasts = [
        s for s in families["tablium_action_to_broadcast_seconds"].samples
        if s.name.endswith("_count")
    ]  # fmt: skip
    assert broadcasts and broadcasts[0].value > 0
    buy_ins = [
        s for s in families["tablium_ledger_transfers"].samples
        if s.labels.get("kind") == "buy_in" and s.name.endswith("_total")
    ]  # fmt: skip
    assert buy_ins and buy_ins[0].value >= 3


def passive_action(legal: game.Legal, rng: random.Random) -> game.ActKind:
    """Show at showdown, fold now and then, else check or call (hands end quickly)."""
    if legal.show:
        return "show"
    if legal.fold and rng.random() < 0.15:
        return "fold"
    if legal.check or legal.call is not None:
        return "check_or_call"
    return "fold"


async def _play(
    client: Client, seat: int, rng: random.Random, kill_at: str, progress: trio.Event
) -> None:
    """Answer every action asked of ``seat``; set ``progress`` at the moment to kill: when
    hand HANDS_BEFORE_KILL ends (its pay-outs in flight), or once the next hand is played."""
    while True:
        item = await client.next_event(timeout_s=PLAY_TIMEOUT_S)
        body = getattr(item, "body", None)
        if (
            kill_at == "hand_end"
            and isinstance(body, game.HandEnded)
            and body.hand_number >= HANDS_BEFORE_KILL
        ):
            progress.set()
        if not isinstance(body, game.ActionRequired) or body.table_id != TABLE:
            continue
        if kill_at == "mid_hand" and body.hand_number > HANDS_BEFORE_KILL:
            progress.set()
        if body.seat != seat:
            continue
        action = passive_action(body.legal, rng)
        await client.request(
            game.Act(id=0, table_id=TABLE, hand_number=body.hand_number, action=action)
        )


async def _play_then_kill(server: ServerProcess, names: list[str], kill_at: str) -> dict[str, int]:
    rng = random.Random(SEED)
    ids: dict[str, int] = {}
    mid_hand = trio.Event()
    async with (
        open_client(server.ws_url) as a,
        open_client(server.ws_url) as b,
        open_client(server.ws_url) as c,
        trio.open_nursery() as nursery,
    ):
        for client, name in zip((a, b, c), names, strict=True):
            await client.register(name, "correct horse battery staple")
            ids[name] = await _fund(server.admin_url, name)
            seated = await client.request(game.JoinTable(id=0, table_id=TABLE, buy_in=BUY_IN))
            assert isinstance(seated, game.Seated)
            nursery.start_soon(
                _play, client, seated.seat, random.Random(rng.random()), kill_at, mid_hand
            )
        with trio.fail_after(PLAY_TIMEOUT_S):
            await mid_hand.wait()
        await _check_metrics(server.admin_url)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        nursery.cancel_scope.cancel()
    return ids


async def _accounted_for(database_url: str, ids: dict[str, int]) -> None:
    async with open_store(database_url) as store:
        audit = await store.ledger_audit()
        assert audit.consistent, audit
        snapshot = await store.load_snapshot(TABLE)
        assert snapshot is not None and snapshot.kind == SNAPSHOT_KIND
        state = decode_table_state(snapshot.data)
        assert state.running is None, "a running hand was voided at recovery"
        assert state.hands_played >= HANDS_BEFORE_KILL - 1  # the last may be voided

        stacks = {r.player_id: r.stack + r.pending_top_up for r in state.seats.values()}
        owed_to: dict[int, int] = defaultdict(int)
        for debit in state.owed:
            owed_to[debit.player_id] += debit.amount
        escrow_account = await store.ledger_account(escrow(state.config.escrow_owner))
        assert escrow_account is not None
        assert escrow_account.balance == sum(stacks.values()) + sum(d.amount for d in state.owed)

        net: dict[int, int] = defaultdict(int)
        stored = {h.hand_id: h for pid in ids.values() for h in await store.hands_by_player(pid)}
        unwritten = {h.hand_id: h for h in state.histories}
        for hand in {**stored, **unwritten}.values():
            for player in hand.players:
                net[player.player_id] += player.net
        for name, player_id in ids.items():
            balance = await Wallet(store).balance(player_id)
            held = balance.balance + stacks.get(player_id, 0) + owed_to[player_id]
            assert held == FUNDS + net[player_id], (name, balance, stacks, net)


@pytest.mark.parametrize("kill_at", ["mid_hand", "hand_end"])
def test_sigkill_during_play_then_restart_accounts_for_every_chip(
    tmp_path: Path, kill_at: str
) -> None:
    data_dir = tmp_path / "var"
    names = ["crash_ann", "crash_bob", "crash_cy"]
    with running_server(data_dir) as server:
        ids = trio.run(_play_then_kill, server, names, kill_at)
    with running_server(data_dir) as restarted:  # recovery runs before it reports ready
        restarted.proc.send_signal(signal.SIGTERM)
        assert restarted.proc.wait(timeout=5) == 0
    trio.run(_accounted_for, f"sqlite:///{data_dir / 'tablium.sqlite3'}", ids)
