"""Composition root: build the process's supervision tree from its settings and run it.

```
root (one_for_one)
├── tables (one_for_one)        table:<id> actors arrive with cash games
├── tournaments (one_for_one)   tournament:<id> actors arrive with tournaments
├── gateway                     websocket listener and player sessions (service)
└── admin                       hypercorn + quart-trio app, /metrics (service)
```

The store (SQLite by default, PostgreSQL when configured) is opened around the tree, so it
outlives every actor that writes to it and closes after the last one stopped.
"""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass
from functools import partial

import hypercorn.config
import hypercorn.trio
import structlog
import trio

from actors.runtime import ChildSpec, Runtime, Strategy, SupervisionPolicy
from admin.app import create_admin_app
from admin.auth import jwt_verifier
from admin.context import AdminContext, ReadinessProbe
from persistence import Store, open_store
from server.auth import TokenSigner
from server.config import Settings
from server.gateway import Gateway, run_gateway
from services.wallet import Wallet

log = structlog.get_logger("tablium.server")

SHUTDOWN_GRACE_S = 4.0  # SIGTERM to exit stays under 5 s, the bound operators rely on
TREE_SHUTDOWN_S = 3.0  # the supervision tree's ordered stop, inside the grace above
ADMIN_GRACEFUL_S = 1.0  # in-flight admin requests get this long after a stop request


@dataclass(frozen=True, slots=True)
class Listening:
    """Where a started server listens (ports are the real ones when 0 was asked for)."""

    ws_url: str
    admin_url: str
    runtime: Runtime


def _admin_config(settings: Settings) -> hypercorn.config.Config:
    config = hypercorn.config.Config()
    config.bind = [f"{settings.host}:{settings.admin_port}"]
    config.graceful_timeout = ADMIN_GRACEFUL_S
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")  # through structlog, once
    return config


def build_runtime(settings: Settings, admin_context: AdminContext, store: Store) -> Runtime:
    groups = SupervisionPolicy(strategy=Strategy.ONE_FOR_ONE)
    return Runtime(
        [
            ChildSpec.supervisor("tables", policy=groups),
            ChildSpec.supervisor("tournaments", policy=groups),
            ChildSpec.service("gateway", partial(run_gateway, settings, store)),
            ChildSpec.service(
                "admin",
                partial(
                    hypercorn.trio.serve, create_admin_app(admin_context), _admin_config(settings)
                ),
            ),
        ],
        policy=SupervisionPolicy(strategy=Strategy.ONE_FOR_ONE, shutdown_timeout_s=TREE_SHUTDOWN_S),
    )


async def run_server(
    settings: Settings, *, task_status: trio.TaskStatus[Listening] = trio.TASK_STATUS_IGNORED
) -> None:
    """Open the store, run the supervision tree until cancelled, then close the store."""
    async with open_store(settings.effective_database_url()) as store:
        admin_context = AdminContext(
            settings=settings,
            verify_token=jwt_verifier(TokenSigner(settings.jwt_secret)),
            store=store,
            wallet=Wallet(store),
            readiness=(ReadinessProbe("database", store.ping),),
            # The admin app is one of the runtime's children, so it reads the tree late.
            actor_tree=lambda: runtime.tree(),
        )
        runtime = build_runtime(settings, admin_context, store)
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
            gateway = runtime.root.child("gateway").started_value
            assert isinstance(gateway, Gateway)
            binds = runtime.root.child("admin").started_value
            assert isinstance(binds, list)
            listening = Listening(
                ws_url=f"ws://{settings.host}:{gateway.port}",
                admin_url=binds[0],
                runtime=runtime,
            )
            log.info("listening", ws=listening.ws_url, admin=listening.admin_url)
            task_status.started(listening)


async def serve_until_signalled(settings: Settings) -> None:
    """Run the server until the first SIGINT or SIGTERM, then cancel it.

    Cancellation reaches the supervision tree, which stops its children in reverse order
    within TREE_SHUTDOWN_S; the nursery's deadline is the hard bound behind it.
    """
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_server, settings)
            async for signum in signals:
                log.info("shutting down", signal=signal.Signals(signum).name)
                nursery.cancel_scope.deadline = trio.current_time() + SHUTDOWN_GRACE_S
                nursery.cancel_scope.cancel()
                break
