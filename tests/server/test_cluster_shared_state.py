"""Two nodes of one room over the real Redis (docs/scaling.md): an address's request budget,
login backoff and registration limit are one across nodes; presence and revocations seen
by one node hold on the other; a session resumes on another node with the events it
missed, and the node it left lets it go."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from trio_websocket import open_websocket_url

from persistence.shared_state import RedisPresence
from protocol.client import ServerError, open_client
from protocol.codec import encode
from protocol.errors import CloseCode, ErrorCode
from protocol.messages import Error, Event, LoggedIn, Login, Notice, Ping, Pong, SessionState
from server.cluster import ClusterSettings
from server.gateway import GatewayLimits, PlayerChannel
from services.accounts import LoginPolicy
from services.throttle import BackoffPolicy
from tests.protocol.gateway_harness import (
    PASSWORD,
    RecordingHooks,
    decode,
    exchange,
    say_hello,
    wait_closed,
)
from tests.server.cluster_harness import nodes

# Background refreshes and flushes far apart: the tests run them when they mean to.
MANUAL = ClusterSettings(presence_ttl_ms=3_600_000, replay_flush_ms=3_600_000, address_rate_chunk=1)


async def test_an_address_that_spent_its_budget_on_node_a_is_limited_on_node_b(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    # 8 requests per address, refilled at 1 every 20 s: the test's few ms refill nothing.
    limits = GatewayLimits(rate_ip_burst_requests=8, rate_ip_refill_per_s=1 / 20)
    async with nodes(tmp_path, [redis_url] * 2, redis_prefix, limits=limits, settings=MANUAL) as (
        (node_a, node_b),
        _store,
    ):
        async with open_websocket_url(node_a.url) as ws:
            await say_hello(ws)  # 1
            for n in range(7):  # 2..8
                assert isinstance(await exchange(ws, encode(Ping(id=n + 2))), Pong)
            refused_a = await exchange(ws, encode(Ping(id=99)))
        async with open_websocket_url(node_b.url) as ws:
            refused_b = await exchange(ws, encode(Ping(id=100)))
        for refused in (refused_a, refused_b):
            assert isinstance(refused, Error) and refused.code == ErrorCode.RATE_LIMITED
            assert refused.retry_after_ms is not None and refused.retry_after_ms > 1000


async def test_chunked_allowances_still_hold_an_address_near_its_budget_across_nodes(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    # Each node takes 4 tokens at a time: the two nodes together let through at most the
    # burst, and at least burst - (chunk - 1) per node that holds an unspent allowance.
    limits = GatewayLimits(rate_ip_burst_requests=16, rate_ip_refill_per_s=1 / 20)
    settings = ClusterSettings(
        presence_ttl_ms=3_600_000, replay_flush_ms=3_600_000, address_rate_chunk=4
    )
    async with nodes(tmp_path, [redis_url] * 2, redis_prefix, limits=limits, settings=settings) as (
        gateways,
        _store,
    ):
        async with (
            open_websocket_url(gateways[0].url) as ws_a,
            open_websocket_url(gateways[1].url) as ws_b,
        ):
            await say_hello(ws_a)
            await say_hello(ws_b)
            passed = 2
            for n in range(20):
                ws = (ws_a, ws_b)[n % 2]
                if isinstance(await exchange(ws, encode(Ping(id=n + 1))), Pong):
                    passed += 1
        assert 16 - 2 * 3 <= passed <= 16


async def test_failed_logins_on_node_a_throttle_the_name_on_node_b(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    policy = LoginPolicy(per_account=BackoffPolicy(2, 4, 60_000, 600))
    limits = GatewayLimits(login_policy=policy)
    async with nodes(tmp_path, [redis_url] * 2, redis_prefix, limits=limits, settings=MANUAL) as (
        (node_a, node_b),
        _store,
    ):
        async with open_client(node_a.url) as client:
            await client.register("alice", PASSWORD)
        async with open_websocket_url(node_a.url) as ws:
            await say_hello(ws)
            for n in range(2):
                wrong = await exchange(ws, encode(Login(id=n + 2, name="alice", password="x" * 9)))
                assert isinstance(wrong, Error) and wrong.code == ErrorCode.BAD_CREDENTIALS
        async with open_websocket_url(node_b.url) as ws:
            await say_hello(ws)
            right = await exchange(ws, encode(Login(id=2, name="alice", password=PASSWORD)))
        assert isinstance(right, Error) and right.code == ErrorCode.LOGIN_THROTTLED
        assert right.retry_after_ms is not None and 55_000 < right.retry_after_ms <= 60_000


async def test_registrations_per_address_are_counted_over_every_node(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    limits = GatewayLimits(login_policy=LoginPolicy(registrations_per_address_per_hour=1))
    async with nodes(tmp_path, [redis_url] * 2, redis_prefix, limits=limits, settings=MANUAL) as (
        (node_a, node_b),
        store,
    ):
        async with open_client(node_a.url) as client:
            await client.register("alice", PASSWORD)
        async with open_client(node_b.url) as client:
            with pytest.raises(ServerError) as refused:
                await client.register("bobby", PASSWORD)
        assert refused.value.error.code == ErrorCode.REGISTRATION_LIMITED
        assert await store.get_account_by_name("bobby") is None


async def test_a_player_online_on_node_a_is_seen_from_node_b_until_logout(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    async with nodes(tmp_path, [redis_url] * 2, redis_prefix, settings=MANUAL) as (
        (node_a, node_b),
        _store,
    ):
        assert node_a.cluster is not None and node_b.cluster is not None
        seen_from_b = node_b.cluster.link.presence
        async with open_client(node_a.url) as client:
            logged_in = await client.register("alice", PASSWORD)
            assert await seen_from_b.where("alice") == [("node-0", logged_in.session_id)]
            assert await seen_from_b.online_count() == 1
            await node_a.cluster.refresh_presence()  # the periodic refresh keeps it there
            assert await seen_from_b.where("alice") == [("node-0", logged_in.session_id)]
            await client.logout()
        assert await seen_from_b.where("alice") == []  # written before logout's reply
        assert await seen_from_b.online_count() == 0


async def test_a_session_whose_node_stops_refreshing_drops_out_after_its_ttl(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    async with nodes(tmp_path, [redis_url], redis_prefix, settings=MANUAL) as ((node,), _store):
        assert node.cluster is not None
        link = node.cluster.link
        presence = RedisPresence(link.link, link.prefix, link.node, ttl_ms=1)
        await presence.online([("alice", "s1")])
        await trio.sleep(0.005)  # Redis's clock must pass the 1 ms TTL (real time)
        assert await presence.where("alice") == []
        assert await presence.online_count() == 0


async def test_a_guest_logged_out_on_node_a_is_refused_on_node_b_at_once(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    # Guests have no account row: only the shared revocation refuses their token elsewhere.
    limits = GatewayLimits(guest_login=True)
    async with nodes(tmp_path, [redis_url] * 2, redis_prefix, limits=limits, settings=MANUAL) as (
        (node_a, node_b),
        _store,
    ):
        async with open_client(node_a.url) as client:
            guest = await client.guest_login()
            await client.logout()
        async with open_client(node_b.url, reconnect=False) as client:
            with pytest.raises(ServerError) as refused:
                await client.authenticate(guest.token)
        assert refused.value.error.code == ErrorCode.TOKEN_INVALID


async def test_a_player_logged_out_on_node_a_is_refused_on_node_b_at_once(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    async with nodes(tmp_path, [redis_url] * 2, redis_prefix, settings=MANUAL) as (
        (node_a, node_b),
        _store,
    ):
        async with open_client(node_a.url) as client:
            alice = await client.register("alice", PASSWORD)
            await client.logout()
        async with open_client(node_b.url, reconnect=False) as client:
            with pytest.raises(ServerError) as refused:
                await client.authenticate(alice.token)
        assert refused.value.error.code == ErrorCode.TOKEN_INVALID


def _notice(n: int) -> Notice:
    return Notice(code="n", text=str(n))


async def test_a_session_resumes_on_another_node_with_the_events_it_missed(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    hooks_a = RecordingHooks()
    async with nodes(tmp_path, [redis_url] * 2, redis_prefix, settings=MANUAL, hooks=[hooks_a]) as (
        (node_a, node_b),
        _store,
    ):
        assert node_a.cluster is not None and node_b.cluster is not None
        async with open_client(node_a.url, reconnect=False) as client:
            alice = await client.register("alice", PASSWORD)
            (session_a,) = node_a.sessions.of_player("alice")
            for n in range(1, 6):
                session_a.push(_notice(n))
            seen = [await client.next_event() for _ in range(2)]  # the client read 2 of 5
            await node_a.cluster.flush_replays()
        assert [e.seq for e in seen if isinstance(e, Event)] == [1, 2]
        async with open_client(node_b.url, reconnect=False) as client:
            resumed = await client.authenticate(alice.token, last_seq=2)
            assert resumed.resume == "complete" and resumed.last_seq == 5
            events = [await client.next_event() for _ in range(4)]
            assert all(isinstance(e, Event) for e in events)
            assert [e.seq for e in events if isinstance(e, Event)] == [3, 4, 5, 6]
            bodies = [e.body for e in events if isinstance(e, Event)]
            assert bodies[:3] == [_notice(3), _notice(4), _notice(5)]
            assert isinstance(bodies[3], SessionState)
            # Node B numbers on from where node A stopped.
            (session_b,) = node_b.sessions.of_player("alice")
            assert session_b.push(_notice(7)) == 7
            # Node A still held the session (grace period): its next write to Redis finds
            # the session taken over, and it lets the session go; its tables keep her seats
            # (the session goes on on node B, which reaches them by routing): no "ended".
            session_a.push(_notice(99))
            await node_a.cluster.flush_replays()
            assert node_a.sessions.get(alice.session_id) is None
            assert node_a.cluster.sessions_moved == 1
            assert await hooks_a.next_call() == ("detached", "alice", alice.session_id)
            with pytest.raises(trio.WouldBlock):
                hooks_a.calls.receive_nowait()
            await node_b.cluster.flush_replays()
        stored = await node_b.cluster.link.sessions.take_over(alice.session_id)
        assert stored is not None and stored.last_seq == 7


async def test_a_client_ahead_of_what_redis_holds_resumes_with_a_gap(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    async with nodes(tmp_path, [redis_url] * 2, redis_prefix, settings=MANUAL) as (
        (node_a, node_b),
        _store,
    ):
        assert node_a.cluster is not None
        async with open_client(node_a.url, reconnect=False) as client:
            alice = await client.register("alice", PASSWORD)
            (session_a,) = node_a.sessions.of_player("alice")
            session_a.push(_notice(1))
            await node_a.cluster.flush_replays()
            session_a.push(_notice(2))  # seen by the client, never flushed: node A "died"
            await client.next_event()
            await client.next_event()
        async with open_websocket_url(node_b.url) as ws:
            await say_hello(ws)
            from protocol.messages import Authenticate

            reply = await exchange(ws, encode(Authenticate(id=2, token=alice.token, last_seq=2)))
            assert isinstance(reply, LoggedIn) and reply.resume == "gap"
            assert reply.last_seq == 2
            gap = decode(await ws.get_message())
            assert isinstance(gap, Error) and gap.code == ErrorCode.REPLAY_GAP


async def test_a_resume_elsewhere_closes_the_connection_still_open_on_the_first_node(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    async with nodes(tmp_path, [redis_url] * 2, redis_prefix, settings=MANUAL) as (
        (node_a, node_b),
        _store,
    ):
        assert node_a.cluster is not None
        async with open_websocket_url(node_a.url) as ws_a:
            await say_hello(ws_a)
            from protocol.messages import Register

            alice = await exchange(ws_a, encode(Register(id=2, name="alice", password=PASSWORD)))
            assert isinstance(alice, LoggedIn)
            async with open_client(node_b.url, reconnect=False) as client:
                resumed = await client.authenticate(alice.token)
                assert resumed.session_id == alice.session_id
                (session_a,) = node_a.sessions.of_player("alice")
                session_a.push(_notice(1))
                await node_a.cluster.flush_replays()
                assert await wait_closed(ws_a) == CloseCode.SESSION_REPLACED


async def test_the_node_a_session_left_lets_it_go_without_telling_its_tables_it_ended(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    """The session goes on on the other node, which reaches this node's tables by routing:
    letting this copy go must not stand the player up at them (session_ended)."""
    hooks_a = RecordingHooks()
    async with nodes(tmp_path, [redis_url] * 2, redis_prefix, settings=MANUAL, hooks=[hooks_a]) as (
        (node_a, node_b),
        _store,
    ):
        assert node_a.cluster is not None
        async with open_client(node_a.url, reconnect=False) as on_a:
            alice = await on_a.register("alice", PASSWORD)
            async with open_client(node_b.url, reconnect=False) as on_b:
                assert (await on_b.authenticate(alice.token)).session_id == alice.session_id
                (session_a,) = node_a.sessions.of_player("alice")
                session_a.push(_notice(1))
                await node_a.cluster.flush_replays()  # the record names node B: let go
                assert node_a.sessions.of_player("alice") == []
                with pytest.raises(trio.WouldBlock):
                    hooks_a.calls.receive_nowait()  # neither ended nor detached


async def test_a_client_back_on_its_first_node_gets_the_events_of_the_node_it_visited(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    async with nodes(tmp_path, [redis_url] * 2, redis_prefix, settings=MANUAL) as (
        (node_a, node_b),
        _store,
    ):
        assert node_a.cluster is not None and node_b.cluster is not None
        async with open_client(node_a.url, reconnect=False) as client:
            alice = await client.register("alice", PASSWORD)
            (stale,) = node_a.sessions.of_player("alice")
            stale.push(_notice(1))
            await client.next_event()
            await node_a.cluster.flush_replays()
        async with open_client(node_b.url, reconnect=False) as client:
            assert (await client.authenticate(alice.token, last_seq=1)).resume == "complete"
            (on_b,) = node_b.sessions.of_player("alice")
            on_b.push(_notice(2))
            on_b.push(_notice(3))
            await node_b.cluster.flush_replays()
        # Back on node A, which still holds its own (stale) copy, numbered up to 1.
        assert node_a.sessions.get(alice.session_id) is stale
        async with open_client(node_a.url, reconnect=False) as client:
            resumed = await client.authenticate(alice.token, last_seq=1)
            # Node B's events: its resume's session_state (2), then the two notices.
            assert resumed.resume == "complete" and resumed.last_seq == 4
            events = [await client.next_event() for _ in range(3)]
            bodies = [getattr(e, "body", None) for e in events]
            assert isinstance(bodies[0], SessionState)
            assert bodies[1:] == [_notice(2), _notice(3)]
            assert node_a.sessions.get(alice.session_id) is not stale


async def test_a_ban_on_node_a_ends_the_players_session_on_node_b_at_its_next_look(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    channel_a = PlayerChannel()
    async with nodes(tmp_path, [redis_url] * 2, redis_prefix, settings=MANUAL) as (
        (node_a, node_b),
        _store,
    ):
        channel_a.gateway = node_a
        assert node_b.cluster is not None
        async with open_client(node_b.url, reconnect=False) as bob:
            await bob.register("bobby", PASSWORD)  # not banned: stays
            async with open_websocket_url(node_b.url) as ws:
                await say_hello(ws)
                from protocol.messages import Register

                alice = await exchange(ws, encode(Register(id=2, name="alice", password=PASSWORD)))
                assert isinstance(alice, LoggedIn) and alice.player_id is not None
                # The admin API's hook on node A, once the ban is committed.
                await channel_a.end_sessions_of_banned(alice.player_id)
                assert await node_b.cluster.end_banned() == 1
                assert await wait_closed(ws) == CloseCode.ACCOUNT_BANNED
            assert node_b.sessions.of_player("alice") == []
            assert node_b.bans_enforced == 1
            await bob.ping()
        # A session opened after the notice (the ban lifted meanwhile) is left alone.
        async with open_client(node_b.url, reconnect=False) as again:
            await again.login("alice", PASSWORD)
            assert await node_b.cluster.end_banned() == 0
            await again.ping()
