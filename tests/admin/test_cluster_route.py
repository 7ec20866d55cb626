"""/cluster lists the room's live nodes, their load and table leases, from Redis."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from persistence.redis_link import RedisDown, open_redis
from server.cluster import ClusterLink, ClusterView
from tests.admin.conftest import bearer


async def test_a_node_alone_says_it_is_not_clustered(make_client: Callable[..., Any]) -> None:
    client = make_client()
    answer = await client.get("/cluster", headers=bearer("director"))
    assert answer.status_code == 200
    assert await answer.get_json() == {
        "clustered": False,
        "node": None,
        "nodes": [],
        "placement": {},
    }


async def test_support_staff_may_not_read_the_cluster(make_client: Callable[..., Any]) -> None:
    answer = await make_client().get("/cluster", headers=bearer("support"))
    assert answer.status_code == 403


async def test_redis_not_answering_is_a_503(make_client: Callable[..., Any]) -> None:
    async def down() -> ClusterView:
        raise RedisDown("connection refused")

    answer = await make_client(cluster=down).get("/cluster", headers=bearer("admin"))
    assert answer.status_code == 503
    assert (await answer.get_json())["error"] == "cluster_unreachable"


async def test_every_live_node_is_listed_with_its_load_and_leases(
    make_client: Callable[..., Any], redis_url: str, redis_prefix: str
) -> None:
    prefix = f"{redis_prefix}{secrets.token_hex(4)}:"
    async with open_redis(redis_url) as link:
        node_a = ClusterLink(link, node="node-a", prefix=prefix)
        node_b = ClusterLink(link, node="node-b", prefix=prefix)
        node_a.tables_held = lambda: {"t2", "t1"}
        await node_a.beat(sessions=3, connections=2)
        await node_b.beat(sessions=0, connections=0)
        answer = await make_client(cluster=node_b.view).get("/cluster", headers=bearer("admin"))
    assert answer.status_code == 200
    body = await answer.get_json()
    assert body["clustered"] is True and body["node"] == "node-b"
    nodes = {n["node"]: n for n in body["nodes"]}
    assert list(nodes) == ["node-a", "node-b"]
    assert (nodes["node-a"]["sessions"], nodes["node-a"]["connections"]) == (3, 2)
    assert (nodes["node-a"]["tables"], nodes["node-a"]["leases"]) == (2, ["t1", "t2"])
    assert (nodes["node-b"]["tables"], nodes["node-b"]["leases"]) == (0, [])
    assert nodes["node-a"]["started_at_ms"] <= nodes["node-a"]["seen_at_ms"]
