"""Per-address and per-session limits, trusted proxies and allowed origins, over real
websockets (and the handshake's pure rules, server/handshake.py)."""

from __future__ import annotations

import contextlib
import ipaddress
from pathlib import Path

import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st
from trio_websocket import ConnectionRejected, WebSocketConnection, open_websocket_url

from protocol.client import open_client
from protocol.codec import encode
from protocol.errors import ErrorCode
from protocol.messages import Authenticate, Error, Event, LoggedIn, Ping, Pong
from server.gateway import GatewayLimits
from server.handshake import client_address, normalize_origin, origin_allowed, parse_networks
from tests.protocol.gateway_harness import PASSWORD, decode, exchange, running_gateway, say_hello


async def _pings(ws: WebSocketConnection, count: int, first_id: int = 10) -> tuple[int, int]:
    """Send ``count`` pings at once; (pongs, rate_limited) among the replies."""
    for n in range(count):
        await ws.send_message(encode(Ping(id=first_id + n)))
    pongs = limited = 0
    for _ in range(count):
        reply = decode(await ws.get_message())
        while isinstance(reply, Event):  # pushes (a resumed session's state) may come first
            reply = decode(await ws.get_message())
        if isinstance(reply, Pong):
            pongs += 1
        else:
            assert isinstance(reply, Error) and reply.code == ErrorCode.RATE_LIMITED
            limited += 1
    return pongs, limited


async def test_ten_connections_from_one_address_share_its_rate_limit(tmp_path: Path) -> None:
    limits = GatewayLimits(
        rate_burst_requests=100,
        rate_refill_per_s=1,
        rate_ip_burst_requests=150,
        rate_ip_refill_per_s=1,
    )
    async with running_gateway(tmp_path, limits=limits) as gateway:
        async with contextlib.AsyncExitStack() as stack:
            sockets = [
                await stack.enter_async_context(open_websocket_url(gateway.url)) for _ in range(10)
            ]
            for ws in sockets:
                await say_hello(ws)  # 10 requests of the address's 150
            results: list[tuple[int, int]] = []

            async def flood(ws: WebSocketConnection) -> None:
                results.append(await _pings(ws, 100))

            async with trio.open_nursery() as nursery:
                for ws in sockets:
                    nursery.start_soon(flood, ws)
        pongs = sum(p for p, _ in results)
        # Each connection alone would allow 100 (1,000 in all); the address allows ~140.
        assert 140 <= pongs <= 150, results
        assert sum(limited for _, limited in results) == 1000 - pongs


async def test_a_reconnect_does_not_refill_the_sessions_bucket(tmp_path: Path) -> None:
    limits = GatewayLimits(rate_burst_requests=20, rate_refill_per_s=1)
    async with running_gateway(tmp_path, limits=limits) as gateway:
        async with open_client(gateway.url) as client:
            logged_in = await client.register("alice", PASSWORD)
        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            resumed = await exchange(ws, encode(Authenticate(id=2, token=logged_in.token)))
            assert isinstance(resumed, LoggedIn)
            pongs, _ = await _pings(ws, 30)
            # The session's bucket is the one its first connection had: 20 less hello and
            # register. This connection's own hello and authenticate came before the switch.
            assert 18 <= pongs <= 19  # (one more if a second of refill passed)
        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            resumed = await exchange(ws, encode(Authenticate(id=2, token=logged_in.token)))
            assert isinstance(resumed, LoggedIn)
            await ws.send_message(encode(Ping(id=3)))
            reply = decode(await ws.get_message())
            while isinstance(reply, Event):  # the resumed session's state comes first
                reply = decode(await ws.get_message())
            assert isinstance(reply, Error) and reply.code == ErrorCode.RATE_LIMITED


async def test_x_forwarded_for_counts_clients_behind_a_trusted_proxy_apart(
    tmp_path: Path,
) -> None:
    limits = GatewayLimits(connections_per_ip_max=2, trusted_proxies=parse_networks(["127.0.0.1"]))
    async with running_gateway(tmp_path, limits=limits) as gateway:

        def via_proxy(client: str) -> contextlib.AbstractAsyncContextManager[WebSocketConnection]:
            return open_websocket_url(
                gateway.url, extra_headers=[(b"X-Forwarded-For", client.encode())]
            )

        async with contextlib.AsyncExitStack() as stack:
            for client in ("198.51.100.1", "198.51.100.1", "198.51.100.2", "198.51.100.3"):
                await stack.enter_async_context(via_proxy(client))
            with pytest.raises(ConnectionRejected) as info:
                await stack.enter_async_context(via_proxy("198.51.100.1"))  # its third
            assert info.value.status_code == 429


async def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    limits = GatewayLimits(connections_per_ip_max=2)  # no trusted proxies
    async with (
        running_gateway(tmp_path, limits=limits) as gateway,
        contextlib.AsyncExitStack() as stack,
    ):
        for client in ("198.51.100.1", "198.51.100.2"):
            await stack.enter_async_context(
                open_websocket_url(
                    gateway.url, extra_headers=[(b"X-Forwarded-For", client.encode())]
                )
            )
        with pytest.raises(ConnectionRejected) as info:
            await stack.enter_async_context(
                open_websocket_url(
                    gateway.url, extra_headers=[(b"X-Forwarded-For", b"198.51.100.3")]
                )
            )
        assert info.value.status_code == 429


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),
        ("https://play.example.com", True),
        ("HTTPS://Play.Example.com/", True),
        ("https://evil.example", False),
        ("null", False),
        ("http://play.example.com", False),
    ],
)
async def test_only_listed_origins_may_open_a_session(
    tmp_path: Path, origin: str | None, allowed: bool
) -> None:
    limits = GatewayLimits(allowed_origins=frozenset({"https://play.example.com"}))
    headers = [] if origin is None else [(b"Origin", origin.encode())]
    async with running_gateway(tmp_path, limits=limits) as gateway:
        if allowed:
            async with open_websocket_url(gateway.url, extra_headers=headers) as ws:
                await say_hello(ws)
        else:
            with pytest.raises(ConnectionRejected) as info:
                async with open_websocket_url(gateway.url, extra_headers=headers):
                    pass
            assert info.value.status_code == 403
            assert gateway.handshakes_refused["origin"] == 1


async def test_without_allowed_origins_every_browser_page_of_another_host_is_refused(
    tmp_path: Path,
) -> None:
    async with running_gateway(tmp_path) as gateway:
        with pytest.raises(ConnectionRejected) as info:
            async with open_websocket_url(
                gateway.url, extra_headers=[(b"Origin", b"https://anywhere.example")]
            ):
                pass
        assert info.value.status_code == 403
        async with open_websocket_url(gateway.url) as ws:  # a bot sends no Origin
            await say_hello(ws)


# --- the pure rules ----------------------------------------------------------------------------

PROXIES = parse_networks(["10.0.0.0/8", "127.0.0.1"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # untrusted peer: header ignored
        ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["198.51.100.1, 10.1.2.3"], "198.51.100.1"),  # two proxies
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # spoofed left part
        ("127.0.0.1", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),  # two headers
        ("127.0.0.1", ["not-an-address"], "127.0.0.1"),
        ("127.0.0.1", [], "127.0.0.1"),
        ("::ffff:127.0.0.1", ["2001:db8::1"], "2001:db8::1"),
    ],
)
def test_the_client_address_is_the_first_untrusted_hop_from_the_right(
    peer: str, forwarded: list[str], expected: str
) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected


async def test_the_servers_own_host_may_connect_unless_same_host_origins_is_off(
    tmp_path: Path,
) -> None:
    # The browser client is served by the admin listener: same host, another port.
    own_page = [(b"Origin", b"http://127.0.0.1:8080")]
    async with (
        running_gateway(tmp_path) as gateway,
        open_websocket_url(gateway.url, extra_headers=own_page) as ws,
    ):
        await say_hello(ws)
    limits = GatewayLimits(same_host_origins=False)
    async with running_gateway(tmp_path, limits=limits) as gateway:
        with pytest.raises(ConnectionRejected) as info:
            async with open_websocket_url(gateway.url, extra_headers=own_page):
                pass
        assert info.value.status_code == 403


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://127.0.0.1:8080", "127.0.0.1:8765", True),
        ("https://Play.Example.com", "play.example.com", True),
        ("https://play.example.com.evil.example", "play.example.com", False),
        ("https://evil.example", "play.example.com:8765", False),
        ("null", "null", False),
        ("http://[::1]:8080", "[::1]:8765", True),
        ("http://x:99999999", "y", False),
    ],
)
def test_same_host_origins_compare_hosts_not_ports(origin: str, host: str, allowed: bool) -> None:
    assert origin_allowed(origin, frozenset(), host) is allowed
    assert not origin_allowed(origin, frozenset(), None)


def test_origins_compare_ignoring_case_and_a_trailing_slash() -> None:
    allowed = frozenset({normalize_origin("https://Play.example.com/")})
    assert origin_allowed("https://play.example.com", allowed)
    assert not origin_allowed("https://play.example.com:8443", allowed)
    assert origin_allowed(None, allowed)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["127.0.0.1", "10.9.8.7", "203.0.113.9", "::1", "not-an-ip"]),
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.lists(st.ip_addresses().map(str), max_size=4).map(", ".join),
        ),
        max_size=4,
    ),
)
def test_any_forwarded_header_yields_the_peer_or_an_address_it_names(
    peer: str, forwarded: list[str]
) -> None:
    found = client_address(peer, forwarded, PROXIES)
    named = {hop.strip() for value in forwarded for hop in value.split(",")}
    assert found == peer or found in named or ipaddress.ip_address(found)
    if peer == "203.0.113.9":  # an untrusted peer is never second-guessed
        assert found == peer
