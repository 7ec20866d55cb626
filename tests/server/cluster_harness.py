"""Two gateways (two nodes of one room) over one store and the real Redis, for the tests of
the state nodes share (server/cluster.py). Each test gets its own key prefix under the
run's, so tests cannot see each other's buckets or sessions."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path

import trio
from prometheus_client.registry import CollectorRegistry

from persistence.redis_link import open_redis
from persistence.store import Store, open_store
from server.cluster import ClusterLink, ClusterSettings
from server.gateway import Gateway, GatewayLimits, SessionHooks, serve_gateway
from services.passwords import CHEAP_HASHING_FOR_TESTS
from tests.protocol.gateway_harness import TEST_SECRET


@asynccontextmanager
async def nodes(
    tmp_path: Path,
    redis_urls: Sequence[str],
    redis_prefix: str,
    *,
    limits: GatewayLimits | None = None,
    settings: ClusterSettings | None = None,
    hooks: Sequence[SessionHooks | None] = (),
    metrics_registry: CollectorRegistry | None = None,
) -> AsyncIterator[tuple[list[Gateway], Store]]:
    """One gateway per URL in ``redis_urls`` (a node each, named node-0, node-1...), all
    on one SQLite store and one key prefix; ``hooks[n]``: node n's SessionHooks."""
    prefix = f"{redis_prefix}{secrets.token_hex(4)}:"
    url = f"sqlite:///{tmp_path / 'cluster.sqlite3'}"
    limits = limits or GatewayLimits()
    async with AsyncExitStack() as stack:
        store = await stack.enter_async_context(open_store(url))
        links = [await stack.enter_async_context(open_redis(u)) for u in redis_urls]
        nursery = await stack.enter_async_context(trio.open_nursery())
        gateways: list[Gateway] = []
        for n, link in enumerate(links):
            cluster = ClusterLink(
                link,
                node=f"node-{n}",
                prefix=prefix,
                session_ttl_ms=limits.resume_grace_ms,
                replay_events_max=limits.replay_events_max,
                settings=settings,
            )
            gateway: Gateway = await nursery.start(
                partial(
                    serve_gateway,
                    store,
                    TEST_SECRET,
                    limits=limits,
                    hooks=hooks[n] if n < len(hooks) else None,
                    hashing=CHEAP_HASHING_FOR_TESTS,
                    metrics_registry=metrics_registry,
                    cluster=cluster,
                )
            )
            gateways.append(gateway)
        try:
            yield gateways, store
        finally:
            nursery.cancel_scope.cancel()
