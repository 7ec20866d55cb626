"""The admin HTTP app (quart-trio, served by hypercorn inside the server process).

JSON in and out, described by an OpenAPI spec (quart-schema) at ``/openapi.json`` with a docs
page at ``/docs``. Every route but the probes and ``/metrics`` needs a bearer token whose role
has the route's permission (admin/permissions.py); every state change is audited.
"""

from __future__ import annotations

import importlib.metadata
import platform
import secrets
import time
from typing import Any

import structlog
import trio
from msgspec import Struct
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Histogram, generate_latest
from quart import Response, g, request
from quart_schema import (
    HttpSecurityScheme,
    Info,
    QuartSchema,
    RequestSchemaValidationError,
    hide,
)
from quart_trio import QuartTrio

from actors.runtime import ActorNode
from admin.api_keys import api_key_routes
from admin.audit import audit_routes
from admin.auth import error, requires
from admin.bodies import InvalidBody
from admin.context import AdminContext
from admin.hands import hand_routes
from admin.permissions import Permission
from admin.players import player_routes
from admin.tables import table_routes
from clients.serving import web_client_blueprint

log = structlog.get_logger("tablium.admin")

READINESS_TIMEOUT_S = 2.0  # a probe slower than this counts as down

HTTP_REQUEST_SECONDS = Histogram(
    "tablium_http_request_duration_seconds",
    "Admin HTTP request latency, by method, route and status.",
    ["method", "route", "status"],
)


class Health(Struct, frozen=True):
    status: str
    uptime_s: float


class Readiness(Struct, frozen=True):
    status: str
    checks: dict[str, str]


class ServerInfo(Struct, frozen=True):
    version: str
    python: str
    uptime_s: float
    database: str  # the backend's kind, never its credentials
    redis: bool
    ws_port: int
    admin_port: int


def find_actor(node: ActorNode, name: str) -> ActorNode | None:
    if node.name == name:
        return node
    for child in node.children:
        found = find_actor(child, name)
        if found is not None:
            return found
    return None


def create_admin_app(context: AdminContext) -> QuartTrio:
    # Routes returning msgspec Structs are annotated Any: quart's route types do not know
    # that quart-schema turns a Struct into JSON.
    app = QuartTrio("tablium.admin")
    QuartSchema(
        app,
        info=Info(title="Tablium admin API", version="1"),
        security_schemes={"bearer": HttpSecurityScheme(scheme="bearer", bearer_format="JWT")},
        conversion_preference="msgspec",
    )
    for blueprint in (player_routes, table_routes, hand_routes, audit_routes, api_key_routes):
        app.register_blueprint(blueprint)
    # The browser client and director dashboard (clients/), here until the public API app.
    app.register_blueprint(web_client_blueprint(context.settings.ws_port))
    started_at = time.monotonic()

    @app.before_request
    async def start_request() -> None:
        g.admin_context = context
        g.started_at = time.perf_counter()
        g.request_id = secrets.token_hex(8)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    async def finish_request(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        elapsed_s = time.perf_counter() - g.started_at
        HTTP_REQUEST_SECONDS.labels(request.method, route, str(response.status_code)).observe(
            elapsed_s
        )
        if response.status_code >= 500:
            log.warning("request failed", method=request.method, route=route)
        return response

    @app.errorhandler(RequestSchemaValidationError)
    async def invalid_request(exc: RequestSchemaValidationError) -> Any:
        return error(400, "invalid_request", str(exc.validation_error))

    @app.errorhandler(InvalidBody)
    async def invalid_body(exc: InvalidBody) -> Any:
        return error(400, "invalid_request", str(exc))

    @app.errorhandler(404)
    async def not_found(exc: Exception) -> Any:
        return error(404, "not_found", "no such route")

    @app.errorhandler(500)
    async def internal_error(exc: Exception) -> Any:
        log.exception("unhandled error in an admin route", method=request.method)
        return error(500, "internal_error", f"the server failed; request id {g.request_id}")

    @app.errorhandler(405)
    async def method_not_allowed(exc: Exception) -> Any:
        return error(405, "method_not_allowed", "this route does not take that method")

    @app.get("/healthz")
    async def healthz() -> Any:
        """The process is alive and its event loop answers."""
        return Health(status="ok", uptime_s=round(time.monotonic() - started_at, 3))

    @app.get("/readyz")
    async def readyz() -> Any:
        """Every dependency (the database, and Redis when configured) is reachable."""
        checks: dict[str, str] = {}
        for probe in context.readiness:
            try:
                with trio.fail_after(READINESS_TIMEOUT_S):
                    await probe.check()
                checks[probe.name] = "ok"
            except Exception as exc:  # any failure of a probe means "not ready"
                checks[probe.name] = f"down: {type(exc).__name__}: {exc}"
        ready = all(value == "ok" for value in checks.values())
        return Readiness(status="ready" if ready else "not_ready", checks=checks), (
            200 if ready else 503
        )

    @app.get("/info")
    @requires(Permission.SERVER_READ)
    async def info() -> Any:
        """What this process runs: version, uptime and which backends it uses."""
        settings = context.settings
        return ServerInfo(
            version=importlib.metadata.version("tablium"),
            python=platform.python_version(),
            uptime_s=round(time.monotonic() - started_at, 3),
            database=settings.effective_database_url().split(":", 1)[0],
            redis=bool(settings.redis_url),
            ws_port=settings.ws_port,
            admin_port=settings.admin_port,
        )

    def current_tree() -> ActorNode:
        if context.actor_tree is None:
            return ActorNode(
                name="root", kind="supervisor", state="stopped", restart="permanent",
                restarts=0, uptime_s=0.0,
            )  # fmt: skip
        return context.actor_tree()

    @app.get("/actors")
    @requires(Permission.ACTORS_READ)
    async def actors() -> Any:
        """The live supervision tree: every actor's kind, state, mailbox and restarts."""
        return current_tree()

    @app.get("/actors/<path:name>")
    @requires(Permission.ACTORS_READ)
    async def actor(name: str) -> Any:
        """One actor (by registered name, e.g. ``table:42``) and its subtree."""
        node = find_actor(current_tree(), name)
        if node is None:
            return error(404, "not_found", f"no live actor named {name!r}")
        return node

    @app.get("/metrics")
    @hide
    async def metrics() -> Response:
        """Prometheus text exposition of every metric this process registers."""
        return Response(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)

    return app
