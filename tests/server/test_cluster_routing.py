"""Three `tablium serve` processes over one PostgreSQL and one Redis (docs/scaling.md,
"Routing between nodes"): the first holds the table; three players, each connected to a
different node, sit down and play hands there, their requests and the table's pushes
crossing nodes over the node bus. One of them then resumes on a third node, and the
table's node sends him its state there. Then, on one node's stream: an entry that a killed
consumer read and never acknowledged is claimed and handled once, and the same entry
delivered again changes nothing. Afterwards the ledger audit finds every chip."""

from __future__ import annotations

import random
import re
import signal
from contextlib import ExitStack
from pathlib import Path

import httpx
import msgspec
import pytest
import redis
import trio

from persistence.node_bus import FIELD_ID, FIELD_ITEMS, FIELD_SENDER, GROUP
from protocol import game
from protocol.client import Client, ServerError, open_client
from protocol.codec import encode_body
from protocol.messages import Event, Notice
from server.cluster_items import RoutePush
from tests.persistence.stores import store_url
from tests.server.test_cluster_degraded_postgres import Progress
from tests.server.test_cluster_failover import _node_name
from tests.server.test_crash_mid_play import BUY_IN, TABLE, _accounted_for, _fund, passive_action
from tests.server_process import ServerProcess, running_server

HANDS = 3
SEED = 20261202
PASSWORD = "correct horse battery staple"
NAMES = ("route_ann", "route_bob", "route_cy")
CLAIM_WAIT_S = 20.0  # the claim takes an entry idle for 5 s; looked for every second
PLAY_TIMEOUT_S = 60


async def _play(
    client: Client,
    name: str,
    seat: int,
    rng: random.Random,
    progress: Progress,
    seqs: dict[str, list[int]],
) -> None:
    """Answer every action asked of ``seat``; every push's seq is recorded (they must come
    one after the other, whichever node the table is on)."""
    while True:
        item = await client.next_event(timeout_s=PLAY_TIMEOUT_S)
        assert isinstance(item, Event), item
        seqs[name].append(item.seq)
        body = item.body
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


def _entry(sender: str, entry_id: str, player_id: int, text: str) -> dict[bytes, bytes]:
    body = bytes(encode_body(Notice(code="routing_test", text=text)))
    item = msgspec.msgpack.encode(RoutePush(player_id, body))
    return {
        FIELD_ID: entry_id.encode(),
        FIELD_SENDER: sender.encode(),
        FIELD_ITEMS: msgspec.msgpack.encode([item]),
    }


async def _notices(client: Client, until: str) -> list[str]:
    """The routing_test notices the client gets, up to and including ``until``."""
    seen: list[str] = []
    with trio.fail_after(CLAIM_WAIT_S):
        while until not in seen:
            item = await client.next_event(timeout_s=CLAIM_WAIT_S)
            body = getattr(item, "body", None)
            if isinstance(body, Notice) and body.code == "routing_test":
                seen.append(body.text)
    return seen


async def _metric(server: ServerProcess, name: str) -> float:
    async with httpx.AsyncClient(base_url=server.admin_url) as admin:
        text = (await admin.get("/metrics")).text
    found = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
    assert found is not None, f"{name} not on /metrics"
    return float(found.group(1))


async def _stale_and_repeated(
    node: ServerProcess, client: Client, player_id: int, redis_url: str, prefix: str
) -> None:
    """An entry read by a consumer that then died is claimed and delivered once; the same
    entry added again is dropped as a repeat."""
    name = await _node_name(node)
    stream = f"{prefix}bus:{name}"
    stale = _entry("test-sender", "test-sender:1", player_id, "stale")
    with redis.Redis.from_url(redis_url) as shared:
        # Added and read by a consumer in one transaction: the node's own consumer, blocked
        # on its read, never sees it as new; only the claim can deliver it.
        pipe = shared.pipeline(transaction=True)
        pipe.xadd(stream, stale)  # type: ignore[arg-type]
        pipe.xreadgroup(GROUP, "killed-consumer", {stream: ">"}, count=100)
        _, read = pipe.execute()
        assert [fields[FIELD_ID] for _, fields in read[0][1]] == [b"test-sender:1"]
    assert await _notices(client, until="stale") == ["stale"]
    assert await _metric(node, "tablium_bus_entries_claimed_total") >= 1
    with redis.Redis.from_url(redis_url) as shared:
        shared.xadd(stream, stale)  # type: ignore[arg-type]
        shared.xadd(stream, _entry("test-sender", "test-sender:2", player_id, "after"))  # type: ignore[arg-type]
    # In stream order: the repeat was handled (dropped) before "after" arrived.
    assert await _notices(client, until="after") == ["after"]
    assert await _metric(node, "tablium_bus_duplicates_dropped_total") >= 1


async def _resume_on_a_third_node(
    node: ServerProcess, token: str | None, session_id: str | None, last_seq: int
) -> None:
    """Bob's connection to his node dropped; he resumes on another node, which is not the
    table's either: the table's node hears of the resume and sends him its state there."""
    assert token is not None
    async with open_client(node.ws_url, reconnect=False) as client:
        client.last_seq = last_seq
        resumed = await client.authenticate(token, last_seq)
        assert resumed.session_id == session_id
        with trio.fail_after(PLAY_TIMEOUT_S):
            while True:
                item = await client.next_event(timeout_s=PLAY_TIMEOUT_S)
                body = getattr(item, "body", None)
                if isinstance(body, game.TableSnapshot) and body.table_id == TABLE:
                    break


async def _play_across_nodes(
    nodes: list[ServerProcess], redis_url: str, prefix: str
) -> dict[str, int]:
    rng = random.Random(SEED)
    ids: dict[str, int] = {}
    progress = Progress()
    seqs: dict[str, list[int]] = {name: [] for name in NAMES}
    async with (
        open_client(nodes[0].ws_url, reconnect=False) as a,
        open_client(nodes[1].ws_url, reconnect=False) as b,
        open_client(nodes[2].ws_url, reconnect=False) as c,
        trio.open_nursery() as players,
    ):
        clients = dict(zip(NAMES, (a, b, c), strict=True))
        for name, client in clients.items():
            await client.register(name, PASSWORD)
            ids[name] = await _fund(nodes[0].admin_url, name)
            seated = await client.request(game.JoinTable(id=0, table_id=TABLE, buy_in=BUY_IN))
            assert isinstance(seated, game.Seated) and seated.table_id == TABLE
            players.start_soon(
                _play, client, name, seated.seat, random.Random(rng.random()), progress, seqs
            )
        await progress.until(lambda: len(progress.ended) >= HANDS)
        players.cancel_scope.cancel()
        resume = (b.token, b.session_id, b.last_seq)
    for name, numbers in seqs.items():
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), name
    # The table stays on the first node; the others' players reached it through the bus.
    assert await _metric(nodes[1], "tablium_bus_requests_forwarded_total") > 0
    assert await _metric(nodes[0], "tablium_bus_pushes_forwarded_total") > 0
    await _resume_on_a_third_node(nodes[2], *resume)
    async with open_client(nodes[1].ws_url, reconnect=False) as bob:
        await bob.login(NAMES[1], PASSWORD)
        await _stale_and_repeated(nodes[1], bob, ids[NAMES[1]], redis_url, prefix)
    await _refused_alike(nodes[0], nodes[1])
    return ids


async def _refused_alike(owner: ServerProcess, other: ServerProcess) -> None:
    """A refusal keeps its code across nodes; a table nobody holds is unknown on any node."""
    codes: list[str] = []
    for node in (owner, other):
        async with open_client(node.ws_url, reconnect=False) as client:
            await client.login(NAMES[2], PASSWORD)
            # An action in hand 1, long over: the table refuses it, whichever node asks.
            act = game.Act(id=0, table_id=TABLE, hand_number=1, action="fold")
            with pytest.raises(ServerError) as refused:
                await client.request(act)
            codes.append(refused.value.error.code)
            with pytest.raises(ServerError) as unknown:
                await client.request(game.Watch(id=0, table_id="no-such-table"))
            assert unknown.value.error.code == "no_such_table"
    assert codes[0] == codes[1] and codes[0] != "unavailable", codes


def test_players_on_three_nodes_play_at_one_table_and_every_chip_is_accounted_for(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    database_url = trio.run(store_url, "postgres", tmp_path, postgres_url)
    prefix = f"{redis_prefix}routing:"
    env = {
        "TABLIUM_DATABASE_URL": database_url,
        "TABLIUM_REDIS_URL": redis_url,
        "TABLIUM_REDIS_PREFIX": prefix,
    }
    with ExitStack() as stack:
        # The first node to start takes every seed table's lease.
        nodes = [stack.enter_context(running_server(tmp_path / n, **env)) for n in "abc"]
        ids = trio.run(_play_across_nodes, nodes, redis_url, prefix)
        for node in nodes:
            node.proc.send_signal(signal.SIGTERM)
        for node in nodes:
            assert node.proc.wait(timeout=10) == 0
    # A last node recovers the table (voiding a hand the clean stop left running), and stops.
    with running_server(tmp_path / "d", **env) as last:
        last.proc.send_signal(signal.SIGTERM)
        assert last.proc.wait(timeout=10) == 0
    trio.run(_accounted_for, database_url, ids)
