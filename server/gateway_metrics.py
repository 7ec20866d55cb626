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
- ``tablium_password_hashes_over_share_total``: hashes refused because their address had its
  share of the queue (login_hashes_per_ip_max).
- ``tablium_login_failures_total{reason}``: failed logins: ``bad_credentials``, ``throttled``
  (refused without hashing while the name or address must wait), ``banned``.
- ``tablium_registrations_limited_total``: registrations refused by the per-address limit.
- ``tablium_gateway_handshakes_refused_total{reason}``: websocket handshakes refused:
  ``origin`` (403), ``subprotocol`` (400: none offered that we speak),
  ``connections_per_ip`` (429).
- ``tablium_gateway_bans_enforced_total``: live sessions ended by a ban.
- With a ClusterLink (Redis shared by the nodes, docs/scaling.md):
  ``tablium_cluster_redis_down`` (1 during a degraded spell), ``tablium_cluster_redis_
  failures_total`` (shared calls failed or skipped), ``tablium_cluster_sessions_moved_total``
  (sessions let go after a resume on another node), ``tablium_cluster_replay_frames_dropped_
  total`` (frames not mirrored: the mirror's bound).
- With a ClusterLink, tables moving between nodes (docs/scaling.md, "Placement", "Draining
  a node"): ``tablium_cluster_tables_taken_over_total{how}`` (opened here after their owner
  let them go: ``handed_over`` by a draining node, or ``lease_lapsed``: their owner died or
  stalled, their hands voided), ``tablium_cluster_tables_handed_over_total`` (this node's,
  moved away by its drain), ``tablium_cluster_draining`` (1 while this node drains),
  ``tablium_cluster_tables_placed_total{where}`` (new tables, ``here`` or ``elsewhere``).
- With a ClusterLink, tournaments across nodes (docs/scaling.md, "Tournaments across
  nodes", "Draining a node"): ``tablium_cluster_tournaments_placed_total{where}``,
  ``tablium_cluster_tournaments_taken_over_total{how}`` (``handed_over``, ``lease_lapsed``),
  ``tablium_cluster_tournaments_handed_over_total`` (this node's drain),
  ``tablium_cluster_tournament_asks_routed_total`` (asks sent to the tournament's node),
  ``tablium_cluster_tournament_asks_answered_total`` (other nodes' asks answered here),
  ``tablium_cluster_tournament_messages_refused_total`` (routed messages that did not
  decode), ``tablium_bus_items_malformed_total`` (bus items that did not decode: dropped).
- With a ClusterLink, lobby listings across nodes (docs/scaling.md, "Lobby listings across
  nodes"): ``tablium_cluster_lobby_listings_shared_total``, ``..._received_total``,
  ``..._malformed_total``, ``..._refused_total``.
- With a ClusterLink, the node bus and routing (docs/scaling.md, "Routing between nodes"):
  ``tablium_bus_backlog_entries``, ``tablium_bus_outbox_items`` and the ``tablium_bus_*_total``
  counters listed there.
"""

from __future__ import annotations

import collections
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, final

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

if TYPE_CHECKING:
    from server.cluster import NodeSessions
    from server.cluster_routing import NodeRouter
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
        yield CounterMetricFamily(
            "tablium_password_hashes_over_share",
            "Password hashes refused because their address had its share of the queue.",
            value=sum(h.refused_over_share for h in hashers),
        )
        yield _by_label(
            "tablium_login_failures",
            "Failed logins, by reason.",
            "reason",
            [g.accounts.login_failures for g in gateways],
        )
        yield CounterMetricFamily(
            "tablium_registrations_limited",
            "Registrations refused by the per-address limit.",
            value=sum(g.accounts.registrations_limited for g in gateways),
        )
        yield _by_label(
            "tablium_gateway_handshakes_refused",
            "Websocket handshakes refused, by reason.",
            "reason",
            [g.handshakes_refused for g in gateways],
        )
        yield CounterMetricFamily(
            "tablium_gateway_bans_enforced",
            "Live sessions ended by a ban.",
            value=sum(g.bans_enforced for g in gateways),
        )
        clustered = [g.cluster for g in gateways if g.cluster is not None]
        if not clustered:
            return
        yield GaugeMetricFamily(
            "tablium_cluster_redis_down",
            "1 while the Redis the nodes share does not answer (degraded mode).",
            value=sum(c.link.down_since is not None for c in clustered),
        )
        yield CounterMetricFamily(
            "tablium_cluster_redis_failures",
            "Shared-state calls that failed or were skipped because Redis did not answer.",
            value=sum(c.link.redis_failures for c in clustered),
        )
        yield CounterMetricFamily(
            "tablium_cluster_sessions_moved",
            "Sessions let go here after they resumed on another node.",
            value=sum(c.sessions_moved for c in clustered),
        )
        yield CounterMetricFamily(
            "tablium_cluster_replay_frames_dropped",
            "Frames not mirrored to Redis (the mirror's bound was reached).",
            value=sum(c.link.mirror.frames_dropped for c in clustered),
        )
        yield from _ownership_metrics(clustered, [g.router for g in gateways])
        yield from _bus_metrics([g.router for g in gateways if g.router is not None])


def _ownership_metrics(
    clustered: list[NodeSessions], routers: list[NodeRouter | None]
) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    owners = [c.link.ownership for c in clustered if c.link.ownership is not None]
    taken = CounterMetricFamily(
        "tablium_cluster_tables_taken_over",
        "Tables opened here after their owner let them go: handed over by a draining node,"
        " or after its lease lapsed (the owner died or stalled; the running hand voided).",
        labels=["how"],
    )
    taken.add_metric(["handed_over"], sum(o.handed_in for o in owners))
    taken.add_metric(["lease_lapsed"], sum(o.adopted for o in owners))
    yield taken
    yield CounterMetricFamily(
        "tablium_cluster_tables_handed_over",
        "Tables this node's drain moved to other nodes.",
        value=sum(o.handed_over for o in owners),
    )
    yield GaugeMetricFamily(
        "tablium_cluster_draining",
        "1 while this node drains its tables to other nodes (SIGTERM).",
        value=sum(c.link.draining for c in clustered),
    )
    placements = [r.placement for r in routers if r is not None and r.placement is not None]
    placed = CounterMetricFamily(
        "tablium_cluster_tables_placed",
        "New tables placed: opened on this node, or on a less-loaded one.",
        labels=["where"],
    )
    placed.add_metric(["here"], sum(p.placed_here for p in placements))
    placed.add_metric(["elsewhere"], sum(p.placed_elsewhere for p in placements))
    yield placed
    rooms = [r.tournaments for r in routers if r is not None and r.tournaments is not None]
    tournaments = CounterMetricFamily(
        "tablium_cluster_tournaments_placed",
        "New tournaments placed: opened on this node, or on a less-loaded one.",
        labels=["where"],
    )
    tournaments.add_metric(["here"], sum(t.placed_here for t in rooms))
    tournaments.add_metric(["elsewhere"], sum(t.placed_elsewhere for t in rooms))
    yield tournaments
    tournament_owners = [t.ownership for t in rooms if t.ownership is not None]
    moved = CounterMetricFamily(
        "tablium_cluster_tournaments_taken_over",
        "Tournaments opened here after their node let them go: handed over by a draining"
        " node (no hand voided unless its drain timed out), or after its lease lapsed (the"
        " node died or stalled; running hands voided).",
        labels=["how"],
    )
    moved.add_metric(["handed_over"], sum(o.handed_in for o in tournament_owners))
    moved.add_metric(["lease_lapsed"], sum(o.adopted for o in tournament_owners))
    yield moved
    yield CounterMetricFamily(
        "tablium_cluster_tournaments_handed_over",
        "Tournaments this node's drain moved to other nodes.",
        value=sum(o.handed_over for o in tournament_owners),
    )
    counted = (
        ("asks_routed", "Tournament asks sent to the node that runs the tournament."),
        ("asks_answered", "Tournament asks of other nodes answered here."),
        ("messages_refused", "Routed tournament messages refused: they did not decode."),
    )
    for attribute, documentation in counted:
        yield CounterMetricFamily(
            f"tablium_cluster_tournament_{attribute}",
            documentation,
            value=sum(getattr(t, attribute) for t in rooms),
        )
    lobbies = [r.lobby for r in routers if r is not None and r.lobby is not None]
    listed = (
        ("shared", "Lobby listing items (changes, removals, resends) sent to other nodes."),
        ("received", "Listings and removals of other nodes' tables received."),
        ("malformed", "Listings of other nodes' tables that did not decode (dropped)."),
    )
    for attribute, documentation in listed:
        yield CounterMetricFamily(
            f"tablium_cluster_lobby_listings_{attribute}",
            documentation,
            value=sum(getattr(x, f"listings_{attribute}") for x in lobbies),
        )
    yield CounterMetricFamily(
        "tablium_cluster_lobby_listings_refused",
        "Listings of other nodes' tables not kept: a bound was reached (refuse-newest).",
        value=sum(x.remote.refused for x in lobbies if x.remote is not None),
    )


def _bus_metrics(routers: list[NodeRouter]) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    """The node bus and the routing over it (persistence/node_bus.py,
    server/cluster_routing.py)."""
    buses = [r.bus for r in routers]
    yield GaugeMetricFamily(
        "tablium_bus_backlog_entries",
        "Entries in this node's stream not yet read or not yet acknowledged (as of the last"
        " claim pass, every second).",
        value=sum(b.backlog_entries for b in buses),
    )
    yield GaugeMetricFamily(
        "tablium_bus_outbox_items",
        "Items waiting to be sent to other nodes.",
        value=sum(b.outbox_items for b in buses),
    )
    counters = (
        ("entries_sent", "Stream entries (batches) sent to other nodes."),
        ("entries_received", "Stream entries handled (repeats not counted)."),
        ("entries_claimed", "Entries claimed from a consumer that left them unacknowledged."),
        ("duplicates_dropped", "Entries dropped as repeats of ones handled already."),
        ("items_refused", "Items refused because a node's outbox was full (refuse-newest)."),
        ("entries_dropped", "Entries dropped after their sends failed (Redis down)."),
    )
    for attribute, documentation in counters:
        yield CounterMetricFamily(
            f"tablium_bus_{attribute}",
            documentation,
            value=sum(getattr(b, attribute) for b in buses),
        )
    routed = (
        ("requests_forwarded", "Table and tournament requests sent to their node."),
        ("requests_handled", "Requests of other nodes' sessions answered here."),
        ("requests_timed_out", "Forwarded requests the table's node did not answer in time."),
        ("pushes_forwarded", "Pushes of this node's tables sent to players on other nodes."),
        ("pushes_delivered", "Pushes from other nodes' tables delivered to sessions here."),
        ("replies_dropped", "Replies or request ids seen before, or replies too late."),
        ("items_malformed", "Items that did not decode (dropped, answered when they could be)."),
        ("seeks_sent", "Players of a table or tournament taken over here looked for elsewhere."),
        ("seeks_refused", "Players not looked for: too many seeks waiting (refuse-newest)."),
        ("seeks_ignored", "Seeks about a table or tournament still running here (stale)."),
        ("seeks_answered", "Players found here for another node's table or tournament."),
        ("hooks_stale", "Drops and ends of sessions another node holds now (ignored)."),
        ("hooks_unchecked", "Drops and ends applied unchecked: too many waiting (overflow)."),
    )
    for attribute, documentation in routed:
        source = "duplicates_dropped" if attribute == "replies_dropped" else attribute
        yield CounterMetricFamily(
            f"tablium_bus_{attribute}",
            documentation,
            value=sum(getattr(r, source) for r in routers),
        )


def _by_label(
    name: str, documentation: str, label: str, counters: list[collections.Counter[str]]
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=[label])
    total: collections.Counter[str] = collections.Counter()
    for counter in counters:
        total.update(counter)
    for key, n in sorted(total.items()):
        family.add_metric([key], n)
    return family


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
