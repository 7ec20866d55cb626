"""Redis unreachable in the middle of play (docs/scaling.md, degraded mode): a TCP proxy in
front of the real Redis is cut, never the shared server itself. Players who are in play on
with this node's own limits; new logins, registrations and guests get ``server_busy``;
once the proxy carries traffic again everything works without a restart."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trio
from prometheus_client.registry import CollectorRegistry

from persistence.redis_link import PROBE_INTERVAL_S
from protocol.client import ServerError, open_client
from protocol.errors import ErrorCode
from protocol.messages import Notice, SessionState
from server.cluster import ClusterSettings
from server.gateway import GatewayLimits
from tests.persistence.amqp_tools import BrokerProxy
from tests.protocol.gateway_harness import PASSWORD
from tests.server.cluster_harness import nodes

MANUAL = ClusterSettings(presence_ttl_ms=3_600_000, replay_flush_ms=3_600_000, address_rate_chunk=1)


class BlackholeProxy(BrokerProxy):
    """``blackhole()`` resets the open connections, then accepts new ones and never
    answers: a Redis behind a lost route, where every command waits out its timeout."""

    def __init__(self, target_host: str, target_port: int) -> None:
        super().__init__(target_host, target_port)
        self.holes = False

    def blackhole(self) -> None:
        self.holes = True
        self.cut()
        self.up = True

    def restore(self) -> None:
        self.holes = False
        self.cut()  # the hung connections go; new ones reach Redis
        super().restore()

    async def _handle(self, client: trio.SocketStream) -> None:
        if not self.holes:
            await super()._handle(client)
            return
        with trio.CancelScope() as scope:
            self._scopes.add(scope)
            try:
                await trio.sleep_forever()
            finally:
                self._scopes.discard(scope)
        with trio.CancelScope(shield=True):
            await client.aclose()


def _sample(registry: CollectorRegistry, name: str) -> float | None:
    return registry.get_sample_value(name)


def redis_proxy(redis_url: str) -> BrokerProxy:
    parts = urlsplit(redis_url)
    return BrokerProxy(parts.hostname or "127.0.0.1", parts.port or 6379)


async def _refused_busy(url: str, login: str) -> ServerError:
    async with open_client(url, reconnect=False) as client:
        with pytest.raises(ServerError) as refused:
            if login == "login":
                await client.login("bobby", PASSWORD)
            elif login == "register":
                await client.register("carol", PASSWORD)
            else:
                await client.guest_login()
    return refused.value


async def test_redis_unreachable_refuses_new_logins_keeps_play_and_recovers_by_itself(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    proxy = redis_proxy(redis_url)
    limits = GatewayLimits(guest_login=True)
    registry = CollectorRegistry()
    async with trio.open_nursery() as nursery:
        await nursery.start(proxy.serve)
        async with nodes(
            tmp_path,
            [proxy.url(redis_url)],
            redis_prefix,
            limits=limits,
            settings=MANUAL,
            metrics_registry=registry,
        ) as ((node,), store):
            assert node.cluster is not None
            async with open_client(node.url, reconnect=False) as bob:
                await bob.register("bobby", PASSWORD)
            async with open_client(node.url) as alice:
                await alice.register("alice", PASSWORD)
                proxy.cut()
                # In play: requests go on (the address bucket is this node's own now),
                # pushes reach her, and her session's writes to Redis are skipped.
                for _ in range(10):
                    await alice.ping()
                (session,) = node.sessions.of_player("alice")
                session.push(Notice(code="n", text="during the outage"))
                event = await alice.next_event()
                assert getattr(event, "body", None) == Notice(code="n", text="during the outage")
                await node.cluster.flush_replays()
                await node.cluster.refresh_presence()
                # New logins: refused at once, nothing created.
                for login in ("login", "register", "guest"):
                    refused = await _refused_busy(node.url, login)
                    assert refused.error.code == ErrorCode.SERVER_BUSY, login
                    assert refused.error.retry_after_ms == 1000
                assert await store.get_account_by_name("carol") is None
                # A dropped connection resumes on the node that holds its session.
                await alice.simulate_network_drop()
                resumed = await alice.next_event()  # after the resume: the session's state
                assert isinstance(getattr(resumed, "body", None), SessionState)
                await alice.ping()
                assert alice.reconnects == 1
                assert node.cluster.link.down_since is not None
                assert node.cluster.link.redis_failures >= 5
                assert _sample(registry, "tablium_cluster_redis_down") == 1
                assert _sample(registry, "tablium_cluster_redis_failures_total") >= 5
                proxy.restore()
                await trio.sleep(PROBE_INTERVAL_S)  # the breaker tries Redis again after it
                # Recovered by itself: the next call that reaches Redis ends the spell.
                async with open_client(node.url, reconnect=False) as bob:
                    again = await bob.login("bobby", PASSWORD)
                assert node.cluster.link.down_since is None
                assert _sample(registry, "tablium_cluster_redis_down") == 0
                where = await node.cluster.link.presence.where("bobby")
                assert ("node-0", again.session_id) in where
                await alice.ping()
        nursery.cancel_scope.cancel()


async def test_a_token_login_of_a_session_held_elsewhere_waits_for_redis(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    # Node B reaches Redis through the proxy; node A directly.
    proxy = redis_proxy(redis_url)
    async with trio.open_nursery() as nursery:
        await nursery.start(proxy.serve)
        async with nodes(
            tmp_path, [redis_url, proxy.url(redis_url)], redis_prefix, settings=MANUAL
        ) as ((node_a, node_b), _store):
            async with open_client(node_a.url, reconnect=False) as client:
                alice = await client.register("alice", PASSWORD)
            proxy.cut()
            async with open_client(node_b.url, reconnect=False) as client:
                with pytest.raises(ServerError) as refused:
                    await client.authenticate(alice.token)
            assert refused.value.error.code == ErrorCode.SERVER_BUSY
            proxy.restore()
            await trio.sleep(PROBE_INTERVAL_S)  # the breaker tries Redis again after it
            async with open_client(node_b.url, reconnect=False) as client:
                resumed = await client.authenticate(alice.token)
            assert resumed.session_id == alice.session_id
        nursery.cancel_scope.cancel()


async def test_a_redis_that_never_answers_costs_players_one_timeout_not_one_per_request(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    parts = urlsplit(redis_url)
    proxy = BlackholeProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    # Each address request takes Redis's bucket (chunk 1) while Redis answers.
    async with trio.open_nursery() as nursery:
        await nursery.start(proxy.serve)
        async with nodes(tmp_path, [proxy.url(redis_url)], redis_prefix, settings=MANUAL) as (
            (node,),
            _store,
        ):
            assert node.cluster is not None
            link = node.cluster.link.link
            async with open_client(node.url) as alice:
                await alice.register("alice", PASSWORD)
                proxy.blackhole()
                await alice.ping()  # the first request finds Redis gone (a reset: at once)
                assert link.down
                started = trio.current_time()
                for _ in range(50):
                    await alice.ping()
                assert trio.current_time() - started < 1.0  # none waited for Redis
                assert link.attempts_failed == 1
                # A probe keeps trying, once a second, off the players' path; once the route
                # is back, sharing resumes by itself.
                proxy.restore()
                with trio.fail_after(10):
                    await node.cluster.link.answering()
                assert not link.down
                await alice.ping()
        nursery.cancel_scope.cancel()


async def test_a_logout_while_redis_is_down_reaches_the_other_nodes_once_it_answers(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    # Node A reaches Redis through the proxy, node B directly. A guest's token is checked by
    # Redis alone (no database row): the revocation must not be lost.
    proxy = redis_proxy(redis_url)
    limits = GatewayLimits(guest_login=True)
    async with trio.open_nursery() as nursery:
        await nursery.start(proxy.serve)
        async with nodes(
            tmp_path,
            [proxy.url(redis_url), redis_url],
            redis_prefix,
            limits=limits,
            settings=MANUAL,
        ) as ((node_a, node_b), _store):
            assert node_a.cluster is not None
            async with open_client(node_a.url, reconnect=False) as client:
                guest = await client.guest_login()
                proxy.cut()
                await client.logout()  # answered: Redis misses it for now
            proxy.restore()
            await trio.sleep(PROBE_INTERVAL_S)  # the breaker tries Redis again after it
            with trio.fail_after(10):
                await node_a.cluster.link.answering()  # the probe sends what was missed
            async with open_client(node_b.url, reconnect=False) as client:
                with pytest.raises(ServerError) as refused:
                    await client.authenticate(guest.token)
            assert refused.value.error.code == ErrorCode.TOKEN_INVALID
        nursery.cancel_scope.cancel()
