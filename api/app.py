"""The public HTTP API: a quart-trio app under ``/v1``, served by hypercorn on its own port.

Separate from the admin app (admin/app.py), so that the admin API can stay on an internal
network while this one faces players, partners and browsers. Every route is an Operation
(api/routing.py); this module adds what every request gets:

- a request id (the client's ``X-Request-Id`` when it is a short token, else a new one), in
  the response, every log line of the request and its audit entries;
- the per-address rate limit, before anything else runs, and the RateLimit headers;
- CORS for the origins of ``TABLIUM_API_CORS_ORIGINS`` (preflights answered here);
- a bound on request bodies (``TABLIUM_API_BODY_BYTES_MAX``: 413);
- every refusal as ``application/problem+json`` (api/problems.py), also 404, 405 and our own
  failures (500, logged with the request id);
- one structured access-log line per request (``tablium.api.access``) and a latency histogram;
- the OpenAPI 3.1 document at ``/v1/openapi.json`` and its Swagger UI at ``/v1/docs``.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any, Final

import msgspec
import structlog
import trio
from prometheus_client import Histogram
from quart import Response, g, request
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from admin.inputs import BODY_METHODS, InputRefused, check_url_text
from api.context import ApiContext
from api.docs_page import docs_routes
from api.openapi import build_openapi
from api.problems import PROBLEM_CONTENT_TYPE, ApiProblem
from api.ratelimit import tightest
from api.routes import all_routes, current_tags
from api.routing import (
    NO_STORE,
    Handler,
    Operation,
    RequestState,
    input_problem,
    run_operation,
)
from api.shortcut import NotModifiedShortcut
from clients.serving import web_client_blueprint
from server.handshake import client_address, normalize_origin

log = structlog.get_logger("tablium.api")
access_log = structlog.get_logger("tablium.api.access")

API_REQUEST_SECONDS: Final = Histogram(
    "tablium_api_request_duration_seconds",
    "Public API request latency, by method, route and status.",
    ["method", "route", "status"],
)
REQUEST_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
CORS_MAX_AGE_S: Final = 600
CORS_ALLOW_HEADERS: Final = (
    "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Request-Id"
)
CORS_EXPOSE_HEADERS: Final = (
    "ETag, Location, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset,"
    " X-Request-Id, Idempotent-Replayed"
)
SERVER_ERROR_CODES: Final = {
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def problem_response(problem: ApiProblem, request_id: str) -> Response:
    response = Response(
        msgspec.json.encode(problem.body(request_id)),
        problem.status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    response.headers["Cache-Control"] = NO_STORE
    if problem.retry_after_s is not None:
        response.headers["Retry-After"] = str(problem.retry_after_s)
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def _view(operation: Operation, handler: Handler) -> Any:
    async def view(**values: str) -> Response:
        state: RequestState = g.api
        state.route = operation.path
        return await run_operation(state, operation, handler, values)

    view.__name__ = operation.operation_id
    return view


def _no_file() -> Any:
    raise ApiProblem("not_found", "no such file")


def create_api_app(context: ApiContext) -> QuartTrio:
    app = QuartTrio("tablium.api")
    app.config["MAX_CONTENT_LENGTH"] = context.settings.api_body_bytes_max
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False  # preflights are ours (CORS)
    operations: list[Operation] = []
    for table in all_routes():
        for operation, handler in table.entries:
            operations.append(operation)
            app.add_url_rule(
                operation.rule,
                endpoint=operation.operation_id,
                view_func=_view(operation, handler),
                methods=[operation.method],
            )
    openapi = build_openapi(operations)
    # Access-log lines at INFO; when that level is off, skip building them (decided once).
    logging_requests = logging.getLogger("tablium.api.access").isEnabledFor(logging.INFO)
    app.register_blueprint(docs_routes)
    # The players' browser client (clients/web), on the port players are given.
    app.register_blueprint(
        web_client_blueprint(context.settings.ws_port, director=False, not_found=_no_file)
    )

    @app.get("/v1/openapi.json")
    async def openapi_document() -> Response:
        response = Response(openapi, content_type="application/json")
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    @app.before_request
    async def start_request() -> Response | None:
        supplied = request.headers.get("X-Request-Id", "")
        request_id = supplied if REQUEST_ID_PATTERN.fullmatch(supplied) else secrets.token_hex(8)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        peer = request.remote_addr or ""
        address = client_address(
            peer, request.headers.getlist("X-Forwarded-For"), context.trusted_proxies
        )
        state = RequestState(
            context=context,
            request_id=request_id,
            address=address,
            started_s=time.perf_counter(),
        )
        g.api = state
        if request.method == "OPTIONS":
            return _preflight(context)
        # A body is read before anything answers (bounded by MAX_CONTENT_LENGTH: 413): an
        # answer sent with the body unread can stall the connection's next request
        # (hypercorn 0.18, HTTP/1.1; admin/app.py found it first).
        sent = request.content_length or "Transfer-Encoding" in request.headers
        if sent or request.method in BODY_METHODS:
            data = await request.get_data(cache=False)
            assert isinstance(data, bytes)
            state.body = data
        # The address's quota first: a refused request counts too, and every answer, a
        # refusal of bad text included, carries the RateLimit headers the spec promises.
        quota = context.rate_limits.address(address, trio.current_time())
        state.quotas.append(quota)
        if quota.refused:
            raise ApiProblem(
                "rate_limited",
                f"too many requests from this address; retry after {quota.retry_after_s} s",
                retry_after_s=quota.retry_after_s,
            )
        # Path and query as sent: UTF-8 text without NUL (admin/inputs.py's checks).
        raw_path = request.scope.get("raw_path") or request.path.encode("utf-8", "surrogatepass")
        try:
            check_url_text(raw_path, "path")
            check_url_text(request.query_string, "query string")
        except InputRefused as exc:
            raise input_problem(exc) from None
        return None

    @app.after_request
    async def finish_request(response: Response) -> Response:
        state: RequestState | None = g.get("api")
        if state is None:  # the request failed before our first hook
            return response
        headers = response.headers
        headers["X-Request-Id"] = state.request_id
        headers["X-Content-Type-Options"] = "nosniff"
        if "Cache-Control" not in headers:
            headers["Cache-Control"] = NO_STORE
        quota = tightest(state.quotas)
        if quota is not None:
            headers["RateLimit-Limit"] = str(quota.limit)
            headers["RateLimit-Remaining"] = str(quota.remaining)
            headers["RateLimit-Reset"] = str(quota.reset_s)
        _cors(context, response)
        elapsed_s = time.perf_counter() - state.started_s
        status = response.status_code
        API_REQUEST_SECONDS.labels(request.method, state.route, str(status)).observe(elapsed_s)
        principal = state.principal
        if not logging_requests:
            return response
        access_log.info(
            "request",
            method=request.method,
            path=request.path,
            route=state.route,
            status=status,
            duration_ms=round(elapsed_s * 1000, 3),
            bytes=response.content_length,
            address=state.address,
            principal=principal.subject if principal is not None else None,
        )
        return response

    @app.errorhandler(ApiProblem)
    async def refused(problem: ApiProblem) -> Response:
        return problem_response(problem, _request_id())

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        code = SERVER_ERROR_CODES.get(exc.code or 500)
        if code is None:
            return problem_response(
                ApiProblem("invalid_request", exc.description or "bad request"), _request_id()
            )
        response = problem_response(ApiProblem(code, exc.description or code), _request_id())
        if exc.code == 405:
            valid = getattr(exc, "valid_methods", None)
            if valid:
                response.headers["Allow"] = ", ".join(sorted(valid))
        return response

    @app.errorhandler(Exception)
    async def failed(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):  # quart routes these here when registered above
            return await http_error(exc)
        log.exception("unhandled error in a public API route", method=request.method)
        return problem_response(
            ApiProblem("internal_error", f"the server failed; request id {_request_id()}"),
            _request_id(),
        )

    # The shortcut's few routes: their 304 histograms, looked up once (labels() per request
    # is a good part of a 304's own cost).
    not_modified_seconds: dict[str, Any] = {}

    def observe(route: str, elapsed_s: float) -> None:
        histogram = not_modified_seconds.get(route)
        if histogram is None:
            histogram = not_modified_seconds[route] = API_REQUEST_SECONDS.labels(
                "GET", route, "304"
            )
        histogram.observe(elapsed_s)

    shortcut: Any = NotModifiedShortcut(app.asgi_app, context, current_tags(), observe)
    app.asgi_app = shortcut  # type: ignore[method-assign]
    return app


def _request_id() -> str:
    state: RequestState | None = g.get("api")
    return state.request_id if state is not None else "-"


def _allowed_origin(context: ApiContext) -> str | None:
    origin = request.headers.get("Origin")
    if origin is None or normalize_origin(origin) not in context.cors_origins:
        return None
    return origin


def _preflight(context: ApiContext) -> Response:
    """A CORS preflight: 204, with the allowing headers only for an allowed origin (a
    browser then refuses the real request of any other)."""
    response = Response(b"", 204)
    if _allowed_origin(context) is not None:
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE"
        response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = str(CORS_MAX_AGE_S)
    return response


def _cors(context: ApiContext, response: Response) -> None:
    vary = response.headers.get("Vary")
    response.headers["Vary"] = "Origin" if not vary else f"{vary}, Origin"
    origin = _allowed_origin(context)
    if origin is None:
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
