"""Prometheus metrics of the gateway, computed at scrape time.

The hot path only bumps plain ints and Counters on the Gateway; this collector reads them
when ``/metrics`` is scraped. Label sets are bounded: error codes and close codes are enums.

Names (labels):
- ``tablium_gateway_connections``: open websocket connections.
- ``tablium_gateway_sessions{state}``: sessions ``attached`` to a connection or ``detached``
  (held for resume).
- ``tablium_gateway_frames_total``: frames received from clients.
- ``tablium_gateway_errors_total{code}``: error frames sent, by protocol error code.
- ``tablium_gateway_closes_total{code}``: connections closed, by websocket close code.
- ``tablium_gateway_session_crashes_total``: connection actors that died of a server bug.
- ``tablium_password_hashes_waiting``: password hashes queued for a hashing thread.
- ``tablium_password_hashes_refused_total``: logins answered server_busy (hashing queue full).
- ``tablium_password_hashes_abandoned_total``: queued hashes dropped (their connection closed).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, final

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

if TYPE_CHECKING:
    from server.gateway import Gateway


@final
class GatewayMetricsCollector(Collector):
    """Collects every live gateway of this process; one instance per prometheus registry."""

    def __init__(self) -> None:
        self._gateways: weakref.WeakSet[Gateway] = weakref.WeakSet()

    def add(self, gateway: Gateway) -> None:
        self._gateways.add(gateway)

    def discard(self, gateway: Gateway) -> None:
        self._gateways.discard(gateway)

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        gateways = list(self._gateways)
        yield GaugeMetricFamily(
            "tablium_gateway_connections",
            "Open websocket connections.",
            value=sum(g.connections_open for g in gateways),
        )
        sessions = GaugeMetricFamily(
            "tablium_gateway_sessions", "Player sessions by state.", labels=["state"]
        )
        attached = sum(g.sessions.attached_count() for g in gateways)
        total = sum(len(g.sessions) for g in gateways)
        sessions.add_metric(["attached"], attached)
        sessions.add_metric(["detached"], total - attached)
        yield sessions
        yield CounterMetricFamily(
            "tablium_gateway_frames",
            "Frames received from clients.",
            value=sum(g.frames_received for g in gateways),
        )
        errors = CounterMetricFamily(
            "tablium_gateway_errors", "Error frames sent, by code.", labels=["code"]
        )
        closes = CounterMetricFamily(
            "tablium_gateway_closes", "Connections closed, by close code.", labels=["code"]
        )
        error_counts: dict[str, int] = {}
        close_counts: dict[str, int] = {}
        for g in gateways:
            for code, n in g.errors_by_code.items():
                error_counts[code] = error_counts.get(code, 0) + n
            for close_code, n in g.closes_by_code.items():
                close_counts[str(close_code)] = close_counts.get(str(close_code), 0) + n
        for code, n in sorted(error_counts.items()):
            errors.add_metric([code], n)
        for code, n in sorted(close_counts.items()):
            closes.add_metric([code], n)
        yield errors
        yield closes
        yield CounterMetricFamily(
            "tablium_gateway_session_crashes",
            "Connection actors that died of a server bug.",
            value=sum(g.session_crashes for g in gateways),
        )
        hashers = [g.accounts.hasher for g in gateways]
        yield GaugeMetricFamily(
            "tablium_password_hashes_waiting",
            "Password hashes queued for a hashing thread.",
            value=sum(h.waiting for h in hashers),
        )
        yield CounterMetricFamily(
            "tablium_password_hashes_refused",
            "Logins answered server_busy because the hashing queue was full.",
            value=sum(h.refused for h in hashers),
        )
        yield CounterMetricFamily(
            "tablium_password_hashes_abandoned",
            "Queued password hashes dropped because their connection closed.",
            value=sum(h.abandoned for h in hashers),
        )


_collectors: weakref.WeakKeyDictionary[CollectorRegistry, GatewayMetricsCollector] = (
    weakref.WeakKeyDictionary()
)


def collector_for(registry: CollectorRegistry) -> GatewayMetricsCollector:
    """The registry's gateway collector, registered on first use (once per registry)."""
    collector = _collectors.get(registry)
    if collector is None:
        collector = _collectors[registry] = GatewayMetricsCollector()
        registry.register(collector)
    return collector
