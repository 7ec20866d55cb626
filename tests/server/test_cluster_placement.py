"""Three `tablium serve` processes over one PostgreSQL and one Redis (docs/scaling.md,
"Placement"): node A holds every seed table, B and C none. New tables asked of A go to the
least-loaded node (fewest seated players, then fewest tables): an operator's (`POST /tables`
on A's admin API) to B or C, the next one to the other; once six players sit at one of A's
tables, a quick seat on A whose game has no free seat there opens its new table on B or C,
the next player's quick seat of that game on A sits at that same table, and both, connected
to A, play there through routing.
"""

from __future__ import annotations

import signal
from contextlib import ExitStack
from pathlib import Path

import httpx
import redis
import trio

from protocol import game
from protocol.client import open_client
from server.auth import TokenSigner
from tests.persistence.stores import store_url
from tests.server_process import TEST_JWT_SECRET, ServerProcess, running_server

PLAY_TIMEOUT_S = 30
PASSWORD = "correct horse battery staple"
FULL_TABLE = "play-nt-5-10"  # 6 seats, play money (every new player has 10,000 chips)
BUY_IN = 1_000


def _admin_headers() -> dict[str, str]:
    token, _ = TokenSigner(TEST_JWT_SECRET).issue("ops", "admin")
    return {"Authorization": f"Bearer {token}"}


async def _cluster(server: ServerProcess) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=server.admin_url) as admin:
        answer = await admin.get("/cluster", headers=_admin_headers())
    assert answer.status_code == 200, answer.text
    view: dict[str, object] = answer.json()
    return view


async def _sees_the_room(server: ServerProcess, nodes: int) -> dict[str, int]:
    """A's placement loads, once it has read the other nodes' records (its router reads
    them every 5 s)."""
    with trio.fail_after(PLAY_TIMEOUT_S):
        while True:
            placement = (await _cluster(server))["placement"]
            assert isinstance(placement, dict)
            if len(placement) == nodes:
                return placement
            await trio.sleep(0.2)  # another process decides: nothing to wait on here


async def _open_table(server: ServerProcess, table_id: str) -> None:
    body = {
        "table_id": table_id,
        "name": f"Placed {table_id}",
        "variant": "NT",
        "small_blind": 1,
        "big_blind": 2,
        "reason": "placement test",
    }
    async with httpx.AsyncClient(base_url=server.admin_url) as admin:
        answer = await admin.post("/tables", json=body, headers=_admin_headers())
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"table_id": table_id, "status": "open", "elsewhere": True}


def _holder(redis_url: str, prefix: str, table_id: str) -> str | None:
    with redis.Redis.from_url(redis_url) as shared:
        value = shared.get(f"{prefix}lease:{table_id}")
    return value.decode() if isinstance(value, bytes) else None


async def _quick_seats(a: ServerProcess, redis_url: str, prefix: str) -> tuple[str, str]:
    """Six players fill A's FULL_TABLE; two more quick-seat its game on A. Returns the
    quick seats' table and the node holding it, once a hand there asked one of them."""
    async with trio.open_nursery() as nursery:
        clients = []
        for i in range(8):
            client = await nursery.start(_connected, a.ws_url, f"place_{i}")
            clients.append(client)
        for client in clients[:6]:
            seated = await client.request(game.JoinTable(id=0, table_id=FULL_TABLE, buy_in=BUY_IN))
            assert isinstance(seated, game.Seated)
        quick = [
            await client.request(
                game.QuickSeat(id=0, variant="NT", big_blind=10, buy_in=BUY_IN, asset="play")
            )
            for client in clients[6:]
        ]
        assert all(isinstance(q, game.Seated) for q in quick)
        table_ids = {q.table_id for q in quick if isinstance(q, game.Seated)}
        assert len(table_ids) == 1, "the two quick seats sit together"
        (table_id,) = table_ids
        assert table_id != FULL_TABLE
        holder = _holder(redis_url, prefix, table_id)
        assert holder is not None
        # Both play there from A: the table's first hand asks one of them to act.
        with trio.fail_after(PLAY_TIMEOUT_S):
            while True:
                item = await clients[6].next_event(timeout_s=PLAY_TIMEOUT_S)
                body = getattr(item, "body", None)
                if isinstance(body, game.ActionRequired) and body.table_id == table_id:
                    break
        nursery.cancel_scope.cancel()
    return table_id, holder


async def _connected(ws_url: str, name: str, task_status: trio.TaskStatus[object]) -> None:
    async with open_client(ws_url, reconnect=False) as client:
        await client.register(name, PASSWORD)
        task_status.started(client)
        await trio.sleep_forever()


def test_new_tables_go_to_the_least_loaded_node(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    database_url = trio.run(store_url, "postgres", tmp_path, postgres_url)
    prefix = f"{redis_prefix}placement:"
    env = {
        "TABLIUM_DATABASE_URL": database_url,
        "TABLIUM_REDIS_URL": redis_url,
        "TABLIUM_REDIS_PREFIX": prefix,
    }
    with ExitStack() as stack:
        a = stack.enter_context(running_server(tmp_path / "a", **env))
        others = [stack.enter_context(running_server(tmp_path / n, **env)) for n in "bc"]
        a_node = str(trio.run(_cluster, a)["node"])
        names = sorted(str(trio.run(_cluster, n)["node"]) for n in others)
        loads = trio.run(_sees_the_room, a, 3)
        assert loads == {a_node: 0, names[0]: 0, names[1]: 0}, loads  # nobody seated yet
        # An operator's two new tables on A: nobody is seated anywhere, so the node with the
        # fewest tables: B and C tie (the first by name), then the other; never A (14 seeds).
        trio.run(_open_table, a, "placed-1")
        trio.run(_open_table, a, "placed-2")
        placed = [_holder(redis_url, prefix, t) for t in ("placed-1", "placed-2")]
        assert placed == names, placed
        # A quick seat on A that needs a new table: on B or C (one table each: a tie).
        table_id, holder = trio.run(_quick_seats, a, redis_url, prefix)
        assert holder in names, (table_id, holder)
        metrics = httpx.get(f"{a.admin_url}/metrics").text
        elsewhere = 'tablium_cluster_tables_placed_total{where="elsewhere"} '
        assert [line for line in metrics.splitlines() if line.startswith(elsewhere)] == [
            elsewhere + "3.0"  # two operator tables, one quick seat's (the second followed it)
        ]
        print("placement:", {"operator": placed, "quick_seat": (table_id, holder)})
        for node in (a, *others):
            node.proc.send_signal(signal.SIGTERM)  # a whole room stopping: no drain
        for node in (a, *others):
            assert node.proc.wait(timeout=15) == 0
