"""The gateway's Prometheus metrics reflect connections, sessions, errors and closes."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.registry import CollectorRegistry
from trio_websocket import open_websocket_url

from protocol.codec import encode
from protocol.errors import CloseCode
from protocol.messages import Logout, Register
from tests.protocol.gateway_harness import (
    PASSWORD,
    exchange,
    gateway_and_store,
    say_hello,
    wait_closed,
)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


async def test_metrics_follow_the_gateway(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    async with gateway_and_store(tmp_path, metrics_registry=registry) as (gateway, _store):
        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            await exchange(ws, b"garbage")
            await exchange(ws, encode(Register(id=2, name="alice", password=PASSWORD)))
            assert sample(registry, "tablium_gateway_connections") == 1
            assert sample(registry, "tablium_gateway_sessions", state="attached") == 1
            assert sample(registry, "tablium_gateway_frames_total") == 3
            assert sample(registry, "tablium_gateway_errors_total", code="malformed_frame") == 1
            await exchange(ws, encode(Logout(id=3)))
            assert await wait_closed(ws) == CloseCode.LOGGED_OUT
        assert sample(registry, "tablium_gateway_closes_total", code="4005") == 1
        assert sample(registry, "tablium_gateway_session_crashes_total") == 0
    # A stopped gateway is no longer collected.
    assert sample(registry, "tablium_gateway_connections") == 0
