"""Composition root: build the process from its settings and run it until cancelled."""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass
from functools import partial

import hypercorn.config
import hypercorn.trio
import structlog
import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

from admin.app import AdminContext, create_admin_app, jwt_verifier
from server.auth import TokenSigner
from server.config import Settings

log = structlog.get_logger("tablium.server")

SHUTDOWN_GRACE_S = 4.0  # SIGTERM to exit stays under 5 s, the bound operators rely on


@dataclass(frozen=True, slots=True)
class Listening:
    """Where a started server listens (ports are the real ones when 0 was asked for)."""

    ws_url: str
    admin_url: str


async def _hold_connection(request: WebSocketRequest) -> None:
    ws = await request.accept()
    # Until the gateway takes over, a connection is accepted and held until the peer leaves.
    try:
        while True:
            await ws.get_message()
    except ConnectionClosed:
        pass


async def run_server(
    settings: Settings, *, task_status: trio.TaskStatus[Listening] = trio.TASK_STATUS_IGNORED
) -> None:
    """Run every part of the process in one nursery until cancelled."""
    admin_config = hypercorn.config.Config()
    admin_config.bind = [f"{settings.host}:{settings.admin_port}"]
    admin_config.graceful_timeout = 1.0
    admin_config.accesslog = None
    admin_config.errorlog = logging.getLogger("hypercorn.error")  # through structlog, once
    signer = TokenSigner(settings.jwt_secret)
    admin_context = AdminContext(settings=settings, verify_token=jwt_verifier(signer))
    async with trio.open_nursery() as nursery:
        ws_server = await nursery.start(
            partial(serve_websocket, _hold_connection, settings.host, settings.ws_port, None)
        )
        binds = await nursery.start(
            partial(hypercorn.trio.serve, create_admin_app(admin_context), admin_config)
        )
        listening = Listening(ws_url=f"ws://{settings.host}:{ws_server.port}", admin_url=binds[0])
        log.info("listening", ws=listening.ws_url, admin=listening.admin_url)
        task_status.started(listening)


async def serve_until_signalled(settings: Settings) -> None:
    """Run the server until the first SIGINT or SIGTERM, then cancel it.

    Cancellation reaches every task through the nursery; each part bounds its own cleanup, so
    the whole process exits well within SHUTDOWN_GRACE_S.
    """
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_server, settings)
            async for signum in signals:
                log.info("shutting down", signal=signal.Signals(signum).name)
                nursery.cancel_scope.deadline = trio.current_time() + SHUTDOWN_GRACE_S
                nursery.cancel_scope.cancel()
                break
