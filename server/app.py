"""Composition root: build the process's supervision tree from its settings and run it.

```
root (one_for_one)
├── persistence (one_for_one)   snapshot-writer: batching snapshot writer (service);
│                               outbox-relay: domain events to RabbitMQ or in process
├── services (one_for_one)      per [chain]: chain-watcher:<id>, chain-batcher:<id> (actors/)
├── lobby                       listings, subscriptions, quick-seat (worker)
├── table-leases                with Redis: this node's table leases, renewed (service)
├── tables (one_for_one)        table:<id> actors, each owning its hand:<table>:<n>
├── table-recovery              restores stored tables, opens the seed tables, exits (temporary)
├── health-checks               probes the database and Redis, audits the ledger (service)
├── lobby-analytics             samples the lobby each minute: gauges and stored history (service)
├── leaderboards-resync         the current leaderboards into Redis, once (temporary)
├── tournaments (one_for_one)   tournament:<id> actors arrive with tournaments
├── sessions (stop together)    session:<id>, one per websocket session (temporary)
├── gateway                     websocket listener (service)
├── api                         hypercorn + quart-trio: the public /v1 API (service)
└── admin                       hypercorn + quart-trio app, /metrics (service)
```

Children start in this order and stop in reverse: the gateway stops taking connections before
sessions end, tables stop before the lobby, and the snapshot writer flushes last. The store
(SQLite by default, PostgreSQL when configured) is opened around the tree, so it outlives
every actor that writes to it.

With a TLS certificate configured, every listener speaks TLS through one context
(server/tls.py); SIGHUP, or a change of the files, reloads the certificate into it without
dropping a connection.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import msgspec
import structlog
import trio

from actors.addresses import LOBBY, TableAddress
from actors.club_tables import ClubTableGate, ClubTables, watch_clubs
from actors.club_tournaments import ClubTournamentGate
from actors.errors import ChildNotFound, NameNotFound, NameTaken, TargetError
from actors.lobby import ListAllTables, LobbyActor
from actors.runtime import ChildSpec, Registry, Restart, Runtime, Strategy, SupervisionPolicy
from actors.seed_tables import open_stored_table, start_tables
from actors.table.admin import GetTableDetail, TableDetail, open_table
from actors.table.config import TableConfig, TableRules
from actors.table.deps import TableDeps
from actors.table.messages import Release
from actors.table.requests import TableGameRequests, TableSessionHooks
from actors.tournament import TournamentDeps
from actors.tournament_directory import TournamentDirectory, TournamentLobbyHooks
from actors.tournament_messages import DIRECTORY_NAME
from admin.app import create_admin_app
from admin.auth import jwt_verifier
from admin.context import AdminContext, ReadinessProbe
from api.app import create_api_app
from api.serve import API_GRACEFUL_S, api_context
from persistence import Store, open_store
from persistence.amqp import AmqpBus, AmqpConsumers, open_amqp_loop
from persistence.event_bus import EventBus, InProcessBus
from persistence.leaderboards_redis import RedisLeaderboards
from persistence.leases import NodeFences, RedisLeases
from persistence.players import HandApplied
from persistence.redis_link import open_redis
from persistence.relay import DAY_MS, OutboxRelay
from persistence.snapshot_writer import SnapshotWriter
from poker.integrity.table_rules import RATHOLE_WINDOW_MS_DEFAULT as RATHOLE_WINDOW_MS
from poker.integrity.table_rules import AddressRule, RatholeRule
from protocol.game import TableListing
from server.auth import TokenSigner
from server.cluster import ClusterLink
from server.cluster_drain import DrainSettings, NodeDrain
from server.cluster_lobby import RoomLobby
from server.cluster_placement import TablePlacement
from server.cluster_tables import TableOwnership
from server.cluster_tournaments import RoomTournaments
from server.config import ConfigError, Settings, ensure_data_dir
from server.connection import CLOSE_TIMEOUT_S
from server.gateway import Gateway, PlayerChannel, run_gateway
from server.house_bots import house_accounts, run_house_bots
from server.player_requests import player_pushes
from server.rakeback_settings import rakeback_policy_of
from server.tls import (
    ServerTls,
    http_listener,
    reload_tls,
    server_tls,
    watch_certificate_files,
)
from server.tournament_leases import run_tournaments_here, scan_tournaments, tournament_ownership
from server.tournament_requests import TournamentRequests
from server.wallet_requests import wallet_policy_of
from services.clubs import Clubs
from services.events import tablium_consumers
from services.health import HealthChecks
from services.leaderboards import Leaderboards
from services.lobby_analytics import ASK_TIMEOUT_S, LobbySampler
from services.rakeback import Rakeback
from services.rakeback_job import RakebackJob
from services.wallet import Wallet

if TYPE_CHECKING:  # the chain extra is installed only where a cashier runs
    from actors.chain import ChainService
    from services.chain.cashiers import Cashiers

log = structlog.get_logger("tablium.server")

SHUTDOWN_GRACE_S = 4.0  # SIGTERM to exit stays under 5 s, the bound operators rely on
GATEWAY_STOP_MARGIN_S = 0.5  # the gateway's stop beyond its close handshakes' own bound
TREE_SHUTDOWN_S = 3.0  # the supervision tree's ordered stop, inside the grace above
ADMIN_GRACEFUL_S = 1.0  # in-flight admin requests get this long after a stop request
# One table in a crash loop must not take every other table down with it: the tables
# supervisor tolerates many restarts (each table's own hand supervision is stricter).
TABLE_RESTARTS_MAX = 50
TABLE_RESTARTS_PERIOD_S = 10.0


@dataclass(slots=True)
class NodeParts:
    """What run_server connects to the gateway's router once it runs (with several nodes)."""

    drain: NodeDrain | None = None
    placement: TablePlacement | None = None
    create: Callable[[bytes], Awaitable[None]] | None = None  # RouteCreate's opener
    tournaments: RoomTournaments | None = None  # tournaments across nodes
    lobby: RoomLobby | None = None  # cash tables' lobby listings across nodes
    registry: Registry | None = None  # this node's actors (the router's ``runs_here``)


def _runs_here(registry: Registry, actor_name: str) -> bool:
    """True while an actor of that name (a table, a tournament) runs on this node."""
    return registry.lookup(actor_name) is not None


async def _open_placed_table(registry: Registry, encoded: bytes) -> None:
    """A new table another node placed here (RouteCreate): opened by this node's lobby."""
    config = msgspec.msgpack.decode(encoded, type=TableConfig)
    await open_table(registry, config, LOBBY.actor_name, here=True)


@dataclass(frozen=True, slots=True)
class Listening:
    """Where a started server listens (ports are the real ones when 0 was asked for)."""

    ws_url: str
    admin_url: str
    api_url: str
    runtime: Runtime
    # With several nodes: SIGTERM's drain (server/cluster_drain.py); None: a node alone.
    drain: NodeDrain | None = None


async def _recover_tables(
    registry: Registry,
    deps: TableDeps,
    ownership: TableOwnership | None,
    *,
    task_status: trio.TaskStatus[list[str]],
) -> None:
    claim = ownership.claim if ownership is not None else None
    tables = await start_tables(registry.supervisor("tables"), deps, claim=claim)
    if ownership is not None:  # a drain that ran out of nodes left them held
        for table_id in tables:
            await release_drain_hold(registry, table_id)
    log.info("tables open", tables=len(tables))
    task_status.started(tables)


def build_runtime(
    settings: Settings,
    store: Store,
    readiness: tuple[ReadinessProbe, ...],
    tls: ServerTls | None = None,
    *,
    events: EventBus | None = None,
    event_consumers: AmqpConsumers | None = None,
    leaderboards: Leaderboards | None = None,
    cluster: ClusterLink | None = None,
    parts: NodeParts | None = None,
) -> Runtime:
    """``events``: where the outbox relay publishes (None: the in-process consumers);
    ``event_consumers``: the consumers on RabbitMQ's queues, when it is the bus;
    ``cluster``: the state shared with other nodes in Redis (docs/scaling.md);
    ``parts``: gets the node's drain and placement, when it has them (with ``cluster``)."""
    registry = Registry()
    channel = PlayerChannel()
    leaderboards = leaderboards or Leaderboards(store)
    _tell_players_of_hands(store, leaderboards, channel)
    wallet = Wallet(store, wallet_policy_of(settings))
    writer = SnapshotWriter(store)
    relay = OutboxRelay(
        store,
        events if events is not None else InProcessBus(store, tablium_consumers()),
        retention_ms=settings.outbox_retention_days * DAY_MS,
    )
    ownership = _table_ownership(cluster, store, settings.table_lease_ttl_ms)
    deps = TableDeps(
        store=store,
        wallet=wallet,
        channel=channel,
        snapshots=writer,
        rules=table_rules_of(settings),
        lease=ownership.ensure if ownership is not None else None,
    )
    if ownership is not None:
        _stop_and_open_tables(ownership, registry, deps)
    admin_readiness = readiness
    drain: NodeDrain | None = None
    if ownership is not None and cluster is not None and settings.drain_timeout_s > 0:
        drain = NodeDrain(
            cluster,
            ownership,
            registry,
            writer,
            deps.player_tables,
            DrainSettings(timeout_s=float(settings.drain_timeout_s)),
        )
        # A draining node answers /readyz 503: the load balancer sends no one here.
        admin_readiness = (*readiness, ReadinessProbe("drain", drain.check))
        if parts is not None:
            parts.drain = drain
    placement: TablePlacement | None = None
    if ownership is not None and cluster is not None and settings.placement == "least_loaded":
        placement = TablePlacement(cluster.node, lambda: ownership.held)
        placement.draining = lambda: cluster.draining
        cluster.placement_loads = placement.loads
        cluster.seated_here = placement.seated_here
        if parts is not None:
            parts.placement = placement
            parts.create = partial(_open_placed_table, registry)
    tournament_deps, tournament_leases, room = _tournament_deps(
        cluster, store, wallet, channel, deps, settings.table_lease_ttl_ms, registry, placement
    )
    if parts is not None:
        parts.tournaments = room
        parts.registry = registry
    # With several nodes, the lobby lists every node's tables (server/cluster_lobby.py).
    lobby_room = RoomLobby(registry) if cluster is not None else None
    if parts is not None:
        parts.lobby = lobby_room
    if drain is not None and room is not None:  # its tournaments move too
        drain.tournaments = room.ownership
        drain.tournament_tables_supervisor = tournament_deps.tables_supervisor
    runtime: Runtime
    watch_clubs(store, registry)
    club_tables = ClubTables(registry, Clubs(store))
    chains = _chain_services(settings, store, wallet, registry)
    cashier = _cashiers(chains)
    admin_context = AdminContext(
        settings=settings,
        verify_token=jwt_verifier(
            TokenSigner(
                settings.token_keys(), session_lifetime_max_s=settings.session_lifetime_max_s
            )
        ),
        store=store,
        wallet=wallet,
        readiness=admin_readiness,
        # The admin app is one of the runtime's children, so it reads the tree late.
        actor_tree=lambda: runtime.tree(),
        registry=registry,
        on_banned=channel.end_sessions_of_banned,
        on_renamed=channel.profile_renamed,
        on_ban_changed=leaderboards.on_ban_changed,
        chains={c.cashier.settings.chain_id: c.cashier for c in chains},
        cluster=cluster.view if cluster is not None else None,
        ask_tournament=room.ask if room is not None else None,
    )
    gateway = partial(
        run_gateway,
        settings,
        store,
        hooks=TournamentLobbyHooks(TableSessionHooks(registry, deps.player_tables), registry),
        # Club tables for members only (docs/clubs.md): the gate asks the club service
        # before the lobby or a table; membership changes reach the lobby by its watcher.
        game_requests=ClubTableGate(
            TableGameRequests(registry, store), registry, Clubs(store), store
        ),
        club_tables=club_tables,
        tournament_requests=ClubTournamentGate(
            TournamentRequests(registry, room),
            registry,
            Clubs(store),
            tell=room.tell if room is not None else None,
        ),
        channel=channel,
        sessions_supervisor=lambda: registry.supervisor("sessions"),
        ssl_context=tls.context if tls is not None else None,
        cashier=cashier,
        leaderboards=leaderboards,
        cluster=cluster,
    )
    health = HealthChecks([(probe.name, probe.check) for probe in readiness], wallet.audit)
    admin = http_listener(
        create_admin_app(admin_context),
        settings,
        settings.admin_port,
        tls,
        graceful_timeout_s=ADMIN_GRACEFUL_S,
    )
    # After the gateway: the API uses its accounts service and ends its sessions.
    public_api = http_listener(
        create_api_app(
            dataclasses.replace(
                api_context(settings, store, wallet, registry, channel, cashier),
                leaderboards=leaderboards,
                club_tables=club_tables,
            )
        ),
        settings,
        settings.api_port,
        tls,
        graceful_timeout_s=API_GRACEFUL_S,
    )
    groups = SupervisionPolicy(strategy=Strategy.ONE_FOR_ONE)
    runtime = Runtime(
        [
            ChildSpec.supervisor(
                "persistence",
                [
                    ChildSpec.service("snapshot-writer", writer.run),
                    ChildSpec.service("outbox-relay", relay.run),
                ],
                policy=groups,
            ),
            *([] if not chains else [_services([x for c in chains for x in c.children])]),
            ChildSpec.worker("lobby", partial(LobbyActor, deps, placement, lobby_room)),
            *(
                []
                if ownership is None
                else [ChildSpec.service("table-leases", ownership.run)]  # stops after tables
            ),
            ChildSpec.supervisor(
                "tables",
                policy=SupervisionPolicy(
                    strategy=Strategy.ONE_FOR_ONE,
                    intensity=TABLE_RESTARTS_MAX,
                    period_s=TABLE_RESTARTS_PERIOD_S,
                ),
            ),
            ChildSpec.service(
                "table-recovery",
                partial(_recover_tables, registry, deps, ownership),
                restart=Restart.TEMPORARY,
            ),
            ChildSpec.service("health-checks", health.run),
            ChildSpec.service("lobby-analytics", _lobby_sampler(settings, store, registry).run),
            *(
                [ChildSpec.service("event-consumers", event_consumers.run)]
                if event_consumers is not None and event_consumers.consumers
                else []
            ),
            *_rakeback_job(settings, store, wallet),
            ChildSpec.service(
                "leaderboards-resync", leaderboards.run_start_up_resync, restart=Restart.TEMPORARY
            ),
            *tournament_leases,  # (several nodes) they stop after the tournaments
            ChildSpec.supervisor("tournaments", policy=groups),
            # After the tournaments supervisor: it re-opens the stored tournaments under it.
            ChildSpec.worker(DIRECTORY_NAME, partial(TournamentDirectory, tournament_deps)),
            ChildSpec.supervisor("sessions", policy=SupervisionPolicy(stop_together=True)),
            # Its open connections each get a close handshake (CLOSE_TIMEOUT_S) as it stops.
            ChildSpec.service(
                "gateway", gateway, shutdown_timeout_s=CLOSE_TIMEOUT_S + GATEWAY_STOP_MARGIN_S
            ),
            ChildSpec.service("api", public_api),
            ChildSpec.service("admin", admin),
        ],
        registry=registry,
        policy=SupervisionPolicy(strategy=Strategy.ONE_FOR_ONE, shutdown_timeout_s=TREE_SHUTDOWN_S),
    )
    return runtime


def table_rules_of(settings: Settings) -> TableRules:
    """The tables' rules against abuse from the settings (docs/integrity.md)."""
    window_ms = settings.table_rathole_window_ms
    return TableRules(
        rathole=RatholeRule(enabled=window_ms > 0, window_ms=window_ms or RATHOLE_WINDOW_MS),
        address=AddressRule(
            enabled=settings.table_one_address,
            allowed_groups=tuple(frozenset(g) for g in settings.table_address_allowed_groups),
            allowed_networks=settings.table_address_allowed_networks,
        ),
    )


def _chain_services(
    settings: Settings, store: Store, wallet: Wallet, registry: Registry
) -> list[ChainService]:
    """The blockchain cashier of every configured chain (``[chain]`` or ``[[chain]]``;
    imported only then: it needs the chain extra)."""
    if not settings.chains:
        return []
    from actors.chain import configured_chain

    built = []
    for i, chain in enumerate(settings.chains):
        try:
            built.append(configured_chain(store, wallet, chain, registry))
        except ValueError as exc:
            raise ConfigError(f"{_chain_setting(settings, i)}: {exc}") from None
    return built


def _cashiers(chains: list[ChainService]) -> Cashiers | None:
    """One door to every chain's cashier, for the websocket and the public API."""
    if not chains:
        return None
    from services.chain.cashiers import Cashiers

    return Cashiers([c.cashier for c in chains])


def _chain_setting(settings: Settings, index: int) -> str:
    """How an error names a chain's settings: TABLIUM_CHAIN, or TABLIUM_CHAIN[i] of several."""
    return "TABLIUM_CHAIN" if not isinstance(settings.chain, tuple) else f"TABLIUM_CHAIN[{index}]"


def check_chain_settings(settings: Settings) -> None:
    """What the cashier needs before start-up, checked before anything runs (``tablium
    serve`` prints the one-line ConfigError): the chain extra, a readable operator key."""
    for i, chain in enumerate(settings.chains):
        if not chain.operator_key_file:
            continue
        from services.chain.settings import read_operator_key

        try:
            read_operator_key(chain.operator_key_file)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{_chain_setting(settings, i)}: operator_key_file: {exc}") from None


def _lobby_sampler(settings: Settings, store: Store, registry: Registry) -> LobbySampler:
    async def list_tables() -> tuple[TableListing, ...] | None:
        lobby = registry.resolve(LOBBY)
        if lobby is None:
            return None
        try:
            listings: tuple[TableListing, ...] = await lobby.ask(
                ListAllTables(),
                timeout_s=ASK_TIMEOUT_S,  # staff's analytics: club tables too
            )
        except TargetError:
            return None
        return listings

    return LobbySampler(
        store,
        list_tables,
        interval_s=settings.lobby_sample_s,
        retention_days=settings.lobby_analytics_retention_days,
    )


def _table_ownership(
    cluster: ClusterLink | None, store: Store, lease_ttl_ms: int
) -> TableOwnership | None:
    """With several nodes: the leases and fences of this node's tables (docs/scaling.md)."""
    if cluster is None:
        return None
    fences = NodeFences()
    leases = RedisLeases(cluster.link, cluster.prefix, cluster.node, lease_ttl_ms)
    ownership = TableOwnership(leases, store, fences)
    cluster.tables_held = lambda: ownership.held
    cluster.ownership = ownership
    store.fences = fences
    store.on_fenced = ownership.fenced
    return ownership


def _tournament_deps(
    cluster: ClusterLink | None,
    store: Store,
    wallet: Wallet,
    channel: PlayerChannel,
    table_deps: TableDeps,
    lease_ttl_ms: int,
    registry: Registry,
    placement: TablePlacement | None,
) -> tuple[TournamentDeps, list[ChildSpec], RoomTournaments | None]:
    """The tournaments' deps and, with several nodes, the services that keep their leases
    (server/tournament_leases.py; docs/scaling.md, "Tournaments") and their reach across
    the room (server/cluster_tournaments.py; also ``deps.room``)."""
    if cluster is None or store.fences is None:
        deps = TournamentDeps(store=store, wallet=wallet, channel=channel, table_deps=table_deps)
        return deps, [], None
    ownership = tournament_ownership(
        cluster.link, cluster.prefix, cluster.node, lease_ttl_ms, store, store.fences
    )
    room = RoomTournaments(registry, ownership=ownership, placement=placement)
    if placement is not None:
        placement.tournament_players = room.players
    deps = TournamentDeps(
        store=store,
        wallet=wallet,
        channel=channel,
        table_deps=table_deps,
        lease=ownership,
        room=room,
    )
    run_tournaments_here(ownership, registry, deps)
    services = [
        ChildSpec.service("tournament-leases", ownership.run),
        ChildSpec.service("tournament-scan", partial(scan_tournaments, ownership, store)),
    ]
    return deps, services, room


def _stop_and_open_tables(ownership: TableOwnership, registry: Registry, deps: TableDeps) -> None:
    """A table lost to another node is stopped here; one taken over is opened here."""

    async def stop_table(table_id: str) -> None:
        with contextlib.suppress(ChildNotFound, NameNotFound):
            await registry.supervisor("tables").stop_child(TableAddress(table_id).actor_name)

    async def open_table(table_id: str) -> bool:
        with contextlib.suppress(NameNotFound, NameTaken):
            opened = await open_stored_table(registry.supervisor("tables"), deps, table_id)
            if opened:
                await release_drain_hold(registry, table_id)
            return opened
        return False

    ownership.on_lost = stop_table
    ownership.opener = open_table


async def release_drain_hold(registry: Registry, table_id: str) -> None:
    """A cash table opened here from another node's snapshot may have been held by that
    node's drain (server/cluster_drain.py): deal again. Only drains hold cash tables (a
    tournament holds its own tables, left alone here), and a release leaves an operator's
    pause or close as it is (actors/table/lifecycle.py)."""
    ref = registry.resolve(TableAddress(table_id))
    if ref is None:
        return
    try:
        detail = await ref.ask(GetTableDetail(), timeout_s=ASK_TIMEOUT_S)
    except TargetError:
        return  # stopped meanwhile (another node owns it): nothing to release
    if isinstance(detail, TableDetail) and detail.config.bankroll == "cash":
        ref.tell(Release())


def _services(children: list[ChildSpec]) -> ChildSpec:
    from actors.chain import services_supervisor

    return services_supervisor(children)


def _rakeback_job(settings: Settings, store: Store, wallet: Wallet) -> list[ChildSpec]:
    """The rakeback job, when the operator lets it pay periods (TABLIUM_RAKEBACK_AUTO_...)."""
    if not settings.rakeback_auto_distribute:
        return []
    job = RakebackJob(Rakeback(store, wallet, rakeback_policy_of(settings)))
    return [ChildSpec.service("rakeback", job.run)]


def _tell_players_of_hands(
    store: Store, leaderboards: Leaderboards, channel: PlayerChannel
) -> None:
    """After a stored hand is counted (persistence/players.py): its scores to the Redis
    leaderboards, its level-ups and achievements to the players' sessions (never waits on
    a session: PlayerChannel.deliver only queues)."""

    async def tell(applied: HandApplied) -> None:
        await leaderboards.on_hand_applied(applied)
        for player_id, body in player_pushes(applied):
            channel.deliver(player_id, body)

    store.hand_hooks.append(tell)


async def run_server(
    settings: Settings,
    *,
    tls: ServerTls | None = None,
    task_status: trio.TaskStatus[Listening] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Open the store (and Redis when configured), run the supervision tree until
    cancelled, then close them. ``tls``: the listeners' TLS (server_tls(settings), which
    the caller keeps to reload it); None and the settings name a certificate: made here."""
    if tls is None:
        tls = server_tls(settings)
    async with AsyncExitStack() as resources:
        readiness: list[ReadinessProbe] = []
        redis_link = None
        if settings.redis_url:
            # First, so that a PostgreSQL store shares the trio-asyncio loop it opens.
            redis_link = await resources.enter_async_context(open_redis(settings.redis_url))
            readiness.append(ReadinessProbe("redis", redis_link.ping))
        if not settings.database_url:  # the embedded database lives in the data dir
            await trio.to_thread.run_sync(ensure_data_dir, settings.data_dir)
        store = await resources.enter_async_context(
            open_store(
                settings.effective_database_url(),
                replica_url=settings.database_replica_url,
                replica_max_lag_ms=settings.database_replica_max_lag_ms,
            )
        )
        readiness.insert(0, ReadinessProbe("database", store.ping))
        events: EventBus | None = None
        event_consumers: AmqpConsumers | None = None
        if settings.amqp_url:
            loop = await resources.enter_async_context(open_amqp_loop())
            bus = AmqpBus(settings.amqp_url, loop)
            resources.push_async_callback(bus.aclose)
            events = bus
            event_consumers = AmqpConsumers(settings.amqp_url, loop, store, tablium_consumers())
        # Leaderboards from Redis sorted sets when Redis is configured (docs/players.md).
        boards = Leaderboards(store, RedisLeaderboards(redis_link) if redis_link else None)
        parts = NodeParts()
        runtime = build_runtime(
            settings,
            store,
            tuple(readiness),
            tls,
            events=events,
            event_consumers=event_consumers,
            leaderboards=boards,
            parts=parts,
            cluster=(
                ClusterLink(
                    redis_link,
                    prefix=settings.redis_prefix,
                    session_ttl_ms=settings.session_grace_s * 1000,
                )
                if redis_link is not None
                else None
            ),
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
            gateway = runtime.root.child("gateway").started_value
            assert isinstance(gateway, Gateway)
            binds = runtime.root.child("admin").started_value
            assert isinstance(binds, list)
            api_binds = runtime.root.child("api").started_value
            assert isinstance(api_binds, list)
            drain = parts.drain
            router = gateway.router
            if drain is not None:
                drain.gateway = gateway
                if router is not None:
                    router.on_open = drain.ownership.take
            if router is not None and parts.placement is not None:
                router.placement = parts.placement
                router.on_create = parts.create
                parts.placement.remote_open = router.create_table
            if router is not None and parts.tournaments is not None:
                router.tournaments = parts.tournaments
                parts.tournaments.router = router
            if router is not None and parts.lobby is not None:
                router.lobby = parts.lobby
                parts.lobby.router = router
            if router is not None and parts.registry is not None:
                router.runs_here = partial(_runs_here, parts.registry)
            listening = Listening(
                ws_url=f"{gateway.scheme}://{settings.host}:{gateway.port}",
                admin_url=binds[0],
                api_url=api_binds[0],
                runtime=runtime,
                drain=drain,
            )
            log.info(
                "listening", ws=listening.ws_url, admin=listening.admin_url, api=listening.api_url
            )
            log.info("play in a browser", url=f"{listening.api_url}/client/")
            if settings.house_bots:
                nursery.start_soon(_house_bots, settings, store, gateway.port, tls is not None)
            task_status.started(listening)


async def _house_bots(settings: Settings, store: Store, port: int, tls_on: bool) -> None:
    """The server's own players at its play-money tables (server/house_bots.py)."""
    if tls_on:  # the SDK the bots play through speaks ws:// only
        log.warning("house bots need a plain ws:// listener: none run under TLS")
        return
    host = "127.0.0.1" if settings.host in ("", "0.0.0.0", "::") else settings.host
    names = await house_accounts(
        store, Wallet(store, wallet_policy_of(settings)), settings.house_bots
    )
    signer = TokenSigner(
        settings.token_keys(), session_lifetime_max_s=settings.session_lifetime_max_s
    )
    await run_house_bots(f"ws://{host}:{port}", names, signer)


async def serve_until_signalled(settings: Settings, tls: ServerTls | None = None) -> None:
    """Run the server until the first SIGINT or SIGTERM, then cancel it; on SIGHUP, or when
    its files change, reload the TLS certificate (``tls``, server_tls(settings)).

    With several nodes, SIGTERM first drains the node (server/cluster_drain.py: its tables
    move to the other live nodes between hands, within TABLIUM_DRAIN_TIMEOUT_S); a second
    SIGTERM, or SIGINT, stops at once. Cancellation reaches the supervision tree, which
    stops its children in reverse order within TREE_SHUTDOWN_S; the nursery's deadline is
    the hard bound behind it.
    """
    if tls is None:
        tls = server_tls(settings)
    started: list[Listening] = []

    async def serve() -> None:
        async with trio.open_nursery() as inner:
            started.append(await inner.start(partial(run_server, settings, tls=tls)))

    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as signals:
        async with trio.open_nursery() as nursery:

            def stop() -> None:
                nursery.cancel_scope.deadline = trio.current_time() + SHUTDOWN_GRACE_S
                nursery.cancel_scope.cancel()

            async def drain_then_stop(drain: NodeDrain, scope: trio.CancelScope) -> None:
                with scope:
                    await drain.drain()
                stop()

            nursery.start_soon(serve)
            if tls is not None:
                nursery.start_soon(watch_certificate_files, tls)
            draining: trio.CancelScope | None = None
            async for signum in signals:
                if signum == signal.SIGHUP:
                    reload_tls(tls)
                    continue
                name = signal.Signals(signum).name
                drain = started[0].drain if started else None
                if signum == signal.SIGTERM and draining is None and drain is not None:
                    log.info("draining before shutting down", signal=name)
                    draining = trio.CancelScope()
                    nursery.start_soon(drain_then_stop, drain, draining)
                    continue
                log.info("shutting down", signal=name)
                if draining is not None:
                    draining.cancel()
                stop()
                break
