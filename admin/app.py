"""The admin HTTP app (quart-trio, served by hypercorn inside the server process).

JSON in and out, described by an OpenAPI spec (quart-schema) at ``/openapi.json`` with a docs
page at ``/docs`` (admin/docs_page.py). Every route but the probes, the docs and ``/metrics``
needs a bearer token whose role has the route's permission (admin/permissions.py); every state
change is audited, in the change's own transaction where the change is SQL.

Before anything else, the client's address is checked against the allowed networks
(admin/network.py). Before any route runs, the request's text is checked once
(admin/inputs.py): path, query string and JSON body. After it, every answer gets the security
headers below (and Strict-Transport-Security over HTTPS: server/tls.py).
"""

from __future__ import annotations

import hmac
import importlib.metadata
import platform
import secrets
import time
from typing import Any, Final

import msgspec
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
from quart_schema.conversion import MSGSPEC_REF_TEMPLATE
from quart_schema.openapi import OpenAPIProvider
from quart_schema.validation import DataSource
from quart_trio import QuartTrio
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BaseConverter, IntegerConverter

from actors.runtime import ActorNode
from admin.analytics import analytics_routes
from admin.api_keys import api_key_routes
from admin.audit import audit_routes
from admin.auth import error, requires
from admin.bodies import BODY_BYTES_MAX, InvalidBody
from admin.chain import chain_routes
from admin.clubs import club_routes
from admin.cluster import cluster_routes
from admin.context import AdminContext
from admin.docs_page import docs_routes
from admin.hands import hand_routes
from admin.inputs import (
    BODY_METHODS,
    InputRefused,
    check_content_type,
    check_url_text,
    parse_json_body,
)
from admin.integrity import integrity_routes
from admin.ledger import ledger_routes
from admin.network import AdminNetworks
from admin.permissions import Permission
from admin.player_profiles import profile_routes
from admin.players import player_routes
from admin.tables import table_routes
from admin.tournaments import tournament_routes
from clients.serving import web_client_blueprint
from server.handshake import client_address

log = structlog.get_logger("tablium.admin")

READINESS_TIMEOUT_S = 2.0  # a probe slower than this counts as down

# Every answer: the browser must not guess a type, nor frame us; nothing of an API answer is
# to be cached (they carry players' data). The docs page sets its own policy (docs_page.py).
SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
API_CSP: Final = "default-src 'none'; frame-ancestors 'none'"


class AsciiIntegerConverter(IntegerConverter):
    """werkzeug's ``int`` converter matches ``\\d``, which takes any Unicode digit (a
    full-width one, U+FF11, or an Arabic-Indic one), and int() reads them: ``/players/%EF%BC%91``
    would be player 1. Ids are ASCII digits."""

    regex = r"[0-9]+"


class MsgspecOpenAPIProvider(OpenAPIProvider):
    """quart-schema 0.22 keeps only a msgspec body model's own schema and drops those it
    refers to (POST /tables' ``Variant``), so its ``$ref`` resolved to nothing: Swagger UI
    showed no body and the schemathesis fuzz never sent one. Add the referred schemas."""

    def build_request_body(
        self, model: type[Any], source: DataSource
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        body, components = super().build_request_body(model, source)
        if issubclass(model, msgspec.Struct):
            _, referred = msgspec.json.schema_components([model], ref_template=MSGSPEC_REF_TEMPLATE)
            referred.pop(model.__name__, None)
            components = {**referred, **components}
        return body, components

    def build_path_parameter(self, name: str, converter: BaseConverter) -> dict[str, Any]:
        """quart-schema says ``number`` for every numeric converter: our ids are integers,
        with the bounds the converter enforces."""
        parameter = super().build_path_parameter(name, converter)
        if isinstance(converter, IntegerConverter):
            schema: dict[str, Any] = {"type": "integer", "minimum": converter.min or 0}
            if converter.max is not None:
                schema["maximum"] = converter.max
            parameter["schema"] = schema
        return parameter


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
    # Before any route is added: rules pick their converters when they are added.
    app.url_map.converters["int"] = AsciiIntegerConverter
    app.config["MAX_CONTENT_LENGTH"] = BODY_BYTES_MAX
    QuartSchema(
        app,
        info=Info(title="Tablium admin API", version="1"),
        security_schemes={"bearer": HttpSecurityScheme(scheme="bearer", bearer_format="JWT")},
        conversion_preference="msgspec",
        openapi_provider_class=MsgspecOpenAPIProvider,
        # Their pages load from public CDNs and run inline scripts: ours is docs_page.py.
        swagger_ui_path=None,
        redoc_ui_path=None,
        scalar_ui_path=None,
    )
    for blueprint in (
        profile_routes,  # before player_routes: /players/profiles is not a player id
        player_routes,
        table_routes,
        hand_routes,
        audit_routes,
        chain_routes,
        ledger_routes,
        docs_routes,
        api_key_routes,
        integrity_routes,
        club_routes,
        analytics_routes,
        cluster_routes,
        tournament_routes,
    ):
        app.register_blueprint(blueprint)
    # The browser client and director dashboard (clients/), here until the public API app.
    app.register_blueprint(web_client_blueprint(context.settings.ws_port))
    started_at = time.monotonic()
    networks = AdminNetworks(
        context.settings.admin_allowed_networks, context.settings.trusted_proxies
    )

    @app.before_request
    async def start_request() -> None:
        g.admin_context = context
        g.started_at = time.perf_counter()
        g.request_id = secrets.token_hex(8)
        g.body = b""
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.before_request
    async def check_client_network() -> Any:
        """Outside TABLIUM_ADMIN_ALLOWED_NETWORKS: 403 before the body or a token is read;
        the connection is closed (its unread body cannot carry another request)."""
        client = request.scope.get("client")
        peer = str(client[0]) if client else None
        forwarded_for = request.headers.getlist("X-Forwarded-For")
        if networks.allows(peer, forwarded_for):
            return None
        seen = client_address(peer, forwarded_for, networks.trusted_proxies) if peer else None
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        log.info("admin request refused: address not allowed", address=seen, route=route)
        refusal, status = error(403, "address_forbidden", "this address may not use this API")
        return refusal, status, {"Connection": "close"}

    @app.before_request
    async def check_inputs() -> None:
        """Every text input, once, before any route (admin/inputs.py); raises InputRefused."""
        # Every body is read first, whatever the answer (bounded: 413 past BODY_BYTES_MAX).
        # Answering before reading one sometimes stalled that keep-alive connection's next
        # request (hypercorn 0.18, HTTP/1.1): an unknown route, a refused path.
        g.body = await request.get_data(cache=False)
        raw_path = request.scope.get("raw_path") or request.path.encode("utf-8", "surrogatepass")
        check_url_text(raw_path, "path")
        check_url_text(request.query_string, "query string")
        if request.method not in BODY_METHODS or request.routing_exception is not None:
            return  # no body a route reads; an unknown route or method is answered as such
        check_content_type(request.mimetype, request.mimetype_params)
        parse_json_body(g.body)

    @app.after_request
    async def finish_request(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", API_CSP)
        response.headers.setdefault("Cache-Control", "no-store")
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

    @app.errorhandler(InputRefused)
    async def input_refused(exc: InputRefused) -> Any:
        return error(exc.status, exc.code, str(exc))

    @app.errorhandler(RequestEntityTooLarge)
    async def body_too_large(exc: RequestEntityTooLarge) -> Any:
        refusal, status = error(413, "body_too_large", f"bodies are at most {BODY_BYTES_MAX} bytes")
        # The rest of the body is not read: the connection cannot carry another request.
        return refusal, status, {"Connection": "close"}

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
    async def metrics() -> Any:
        """Prometheus text exposition of every metric this process registers; with
        TABLIUM_METRICS_TOKEN set, only for ``Authorization: Bearer <that token>``."""
        expected = context.settings.metrics_token
        if expected:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token:
                return error(401, "not_authenticated", "send Authorization: Bearer <token>")
            if not hmac.compare_digest(token.strip().encode(), expected.encode()):
                return error(401, "token_invalid", "not the metrics token")
        return Response(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)

    return app
