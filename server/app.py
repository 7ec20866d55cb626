"""Composition root: build the process's supervision tree from its settings and run it.

```
root (one_for_one)
├── persistence (one_for_one)   snapshot-writer: batching snapshot writer (service);
│                               outbox-relay: domain events to RabbitMQ or in process
├── services (one_for_one)      with [chain]: chain-watcher:<id>, chain-batcher:<id> (actors/)
├── lobby                       listings, subscriptions, quick-seat (worker)
├── tables (one_for_one)        table:<id> actors, each owning its hand:<table>:<n>
├── table-recovery              restores stored tables, opens the seed tables, exits (temporary)
├── health-checks               probes the database and Redis, audits the ledger (service)
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

import dataclasses
import signal
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import structlog
import trio

from actors.lobby import LobbyActor
from actors.runtime import ChildSpec, Registry, Restart, Runtime, Strategy, SupervisionPolicy
from actors.seed_tables import start_tables
from actors.table_messages import TableDeps
from actors.table_requests import TableGameRequests, TableSessionHooks
from actors.tournament import TournamentDeps
from actors.tournament_directory import TournamentDirectory
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
from persistence.players import HandApplied
from persistence.redis_link import open_redis
from persistence.relay import DAY_MS, OutboxRelay
from persistence.snapshot_writer import SnapshotWriter
from server.auth import TokenSigner
from server.config import ConfigError, Settings, ensure_data_dir
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
from server.tournament_requests import TournamentRequests
from server.wallet_requests import wallet_policy_of
from services.events import tablium_consumers
from services.health import HealthChecks
from services.leaderboards import Leaderboards
from services.rakeback import Rakeback
from services.rakeback_job import RakebackJob
from services.wallet import Wallet

if TYPE_CHECKING:  # the chain extra is installed only where a cashier runs
    from actors.chain import ChainService

log = structlog.get_logger("tablium.server")

SHUTDOWN_GRACE_S = 4.0  # SIGTERM to exit stays under 5 s, the bound operators rely on
TREE_SHUTDOWN_S = 3.0  # the supervision tree's ordered stop, inside the grace above
ADMIN_GRACEFUL_S = 1.0  # in-flight admin requests get this long after a stop request
# One table in a crash loop must not take every other table down with it: the tables
# supervisor tolerates many restarts (each table's own hand supervision is stricter).
TABLE_RESTARTS_MAX = 50
TABLE_RESTARTS_PERIOD_S = 10.0


@dataclass(frozen=True, slots=True)
class Listening:
    """Where a started server listens (ports are the real ones when 0 was asked for)."""

    ws_url: str
    admin_url: str
    api_url: str
    runtime: Runtime


async def _recover_tables(
    registry: Registry, deps: TableDeps, *, task_status: trio.TaskStatus[list[str]]
) -> None:
    tables = await start_tables(registry.supervisor("tables"), deps)
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
) -> Runtime:
    """``events``: where the outbox relay publishes (None: the in-process consumers);
    ``event_consumers``: the consumers on RabbitMQ's queues, when it is the bus."""
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
    deps = TableDeps(store=store, wallet=wallet, channel=channel, snapshots=writer)
    runtime: Runtime
    chain = _chain_service(settings, store, wallet, registry)
    cashier = chain.cashier if chain is not None else None
    admin_context = AdminContext(
        settings=settings,
        verify_token=jwt_verifier(
            TokenSigner(
                settings.token_keys(), session_lifetime_max_s=settings.session_lifetime_max_s
            )
        ),
        store=store,
        wallet=wallet,
        readiness=readiness,
        # The admin app is one of the runtime's children, so it reads the tree late.
        actor_tree=lambda: runtime.tree(),
        registry=registry,
        on_banned=channel.end_sessions_of_banned,
        chains={} if cashier is None else {cashier.settings.chain_id: cashier},
    )
    gateway = partial(
        run_gateway,
        settings,
        store,
        hooks=TableSessionHooks(registry, deps.player_tables),
        game_requests=TableGameRequests(registry),
        tournament_requests=TournamentRequests(registry),
        channel=channel,
        sessions_supervisor=lambda: registry.supervisor("sessions"),
        ssl_context=tls.context if tls is not None else None,
        cashier=cashier,
        leaderboards=leaderboards,
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
            *([] if chain is None else [_services(chain.children)]),
            ChildSpec.worker("lobby", partial(LobbyActor, deps)),
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
                partial(_recover_tables, registry, deps),
                restart=Restart.TEMPORARY,
            ),
            ChildSpec.service("health-checks", health.run),
            *(
                [ChildSpec.service("event-consumers", event_consumers.run)]
                if event_consumers is not None and event_consumers.consumers
                else []
            ),
            *_rakeback_job(settings, store, wallet),
            ChildSpec.service(
                "leaderboards-resync", leaderboards.run_start_up_resync, restart=Restart.TEMPORARY
            ),
            ChildSpec.supervisor("tournaments", policy=groups),
            # After the tournaments supervisor: it re-opens the stored tournaments under it.
            ChildSpec.worker(
                DIRECTORY_NAME,
                partial(
                    TournamentDirectory,
                    TournamentDeps(store=store, wallet=wallet, channel=channel, table_deps=deps),
                ),
            ),
            ChildSpec.supervisor("sessions", policy=SupervisionPolicy(stop_together=True)),
            ChildSpec.service("gateway", gateway),
            ChildSpec.service("api", public_api),
            ChildSpec.service("admin", admin),
        ],
        registry=registry,
        policy=SupervisionPolicy(strategy=Strategy.ONE_FOR_ONE, shutdown_timeout_s=TREE_SHUTDOWN_S),
    )
    return runtime


def _chain_service(
    settings: Settings, store: Store, wallet: Wallet, registry: Registry
) -> ChainService | None:
    """The blockchain cashier when ``[chain]`` is configured (imported only then: it needs
    the chain extra)."""
    if settings.chain is None:
        return None
    from actors.chain import configured_chain

    try:
        return configured_chain(store, wallet, settings.chain, registry)
    except ValueError as exc:
        raise ConfigError(f"TABLIUM_CHAIN: {exc}") from None


def check_chain_settings(settings: Settings) -> None:
    """What the cashier needs before start-up, checked before anything runs (``tablium
    serve`` prints the one-line ConfigError): the chain extra, a readable operator key."""
    if settings.chain is None or not settings.chain.operator_key_file:
        return
    from services.chain.settings import read_operator_key

    try:
        read_operator_key(settings.chain.operator_key_file)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"TABLIUM_CHAIN: operator_key_file: {exc}") from None


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
        store = await resources.enter_async_context(open_store(settings.effective_database_url()))
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
        runtime = build_runtime(
            settings,
            store,
            tuple(readiness),
            tls,
            events=events,
            event_consumers=event_consumers,
            leaderboards=boards,
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
            gateway = runtime.root.child("gateway").started_value
            assert isinstance(gateway, Gateway)
            binds = runtime.root.child("admin").started_value
            assert isinstance(binds, list)
            api_binds = runtime.root.child("api").started_value
            assert isinstance(api_binds, list)
            listening = Listening(
                ws_url=f"{gateway.scheme}://{settings.host}:{gateway.port}",
                admin_url=binds[0],
                api_url=api_binds[0],
                runtime=runtime,
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

    Cancellation reaches the supervision tree, which stops its children in reverse order
    within TREE_SHUTDOWN_S; the nursery's deadline is the hard bound behind it.
    """
    if tls is None:
        tls = server_tls(settings)
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(partial(run_server, settings, tls=tls))
            if tls is not None:
                nursery.start_soon(watch_certificate_files, tls)
            async for signum in signals:
                if signum == signal.SIGHUP:
                    reload_tls(tls)
                    continue
                log.info("shutting down", signal=signal.Signals(signum).name)
                nursery.cancel_scope.deadline = trio.current_time() + SHUTDOWN_GRACE_S
                nursery.cancel_scope.cancel()
                break
