"""The public API's routes as data: each one an ``Operation``, run by one request pipeline.

A route module declares its operations with ``RouteTable.operation(...)``: method, path,
scope, the types of its path parameters, query and body, its success type and an example,
whether it needs an ``Idempotency-Key``, whether it is cacheable. The same declaration drives
the request (``run_operation``) and the OpenAPI document (api/openapi.py), so the spec cannot
say one thing while the route does another.

One request, in order (any step may refuse with a problem, and nothing after it runs):
1. the credential (api/auth.py), the route's scope, the credential's rate limit;
   a personal route needs a player behind the credential; register/login/refresh take from
   the stricter per-address bucket;
2. path parameters, query and body, each decoded strictly against its type;
3. the Idempotency-Key: a replay answers with the first response, another body with 422;
4. the handler, which only translates to and from the services;
5. the response: JSON, or for cacheable GETs an ETag with ``If-None-Match`` answered by 304;
   ``no-store`` on everything else. A state-changing request made with an API key writes an
   audit entry naming the key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, Literal, final

import msgspec
import structlog
import trio
from quart import Response, request

from admin.inputs import InputRefused, check_content_type, parse_json_body
from api.auth import Principal, authenticate, bearer_of
from api.context import ApiContext
from api.problems import ApiProblem, invalid
from api.ratelimit import Quota
from api.shortcut import etag_matches
from persistence import idempotency
from persistence.audit import AuditStamp

IDEMPOTENCY_LEASE_MS: Final = 60_000  # a first request holds its key this long at most
IDEMPOTENCY_KEEP_MS: Final = 24 * 3600 * 1000  # a first response is replayed for a day
IDEMPOTENCY_KEY_PATTERN: Final = re.compile(r"[!-~]{1,64}")  # printable ASCII, no spaces
JSON: Final = "application/json"
NO_STORE: Final = "no-store"

log = structlog.get_logger("tablium.api")
_encoder = msgspec.json.Encoder()


@final
@dataclass(slots=True)
class RequestState:
    """What the app's hooks and the pipeline share about one request (quart's ``g.api``)."""

    context: ApiContext
    request_id: str
    address: str
    started_s: float
    quotas: list[Quota] = field(default_factory=list)
    principal: Principal | None = None
    route: str = "unmatched"
    body: bytes = b""  # read before anything answers (see api/app.py start_request)


@final
@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    method: Literal["GET", "POST", "DELETE"]
    path: str  # OpenAPI style: /v1/players/{player_id}
    summary: str
    tag: str
    response: Any  # the success body's type; None: no body
    example: Any  # an example success body (None with no body)
    status: int = 200
    description: str = ""
    scope: str | None = None
    auth: Literal["required", "optional", "none"] = "required"
    personal: bool = False  # acts for a player: the credential must have one
    path_params: Mapping[str, Any] = field(default_factory=dict)
    query: Any = None  # a msgspec Struct type (forbid_unknown_fields)
    body: Any = None  # a msgspec Struct type (forbid_unknown_fields)
    body_example: Any = None
    idempotent: bool = False  # needs Idempotency-Key
    cache_control: str | None = None  # cacheable GET: ETag + this Cache-Control
    auth_limited: bool = False
    errors: tuple[str, ...] = ()  # problem codes of this route beyond the common ones
    links: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Other representations of the success body: content type -> example.
    alternatives: Mapping[str, str] = field(default_factory=dict)

    @property
    def rule(self) -> str:
        """The path as a werkzeug rule (every parameter a plain string segment)."""
        return re.sub(r"\{(\w+)\}", r"<\1>", self.path)


@final
@dataclass(slots=True)
class Call:
    """One request as a handler sees it: decoded, authenticated, limited."""

    context: ApiContext
    principal: Principal | None
    path: dict[str, Any]
    query: Any
    body: Any
    request_id: str
    address: str
    user_agent: str
    idempotency_key: str | None = None  # idempotent routes: the checked header

    @property
    def player_id(self) -> int:
        """The player the credential acts as (personal routes checked there is one)."""
        principal = self.principal
        assert principal is not None and principal.player_id is not None
        return principal.player_id

    @property
    def player(self) -> str:
        principal = self.principal
        assert principal is not None and principal.player is not None
        return principal.player


@final
@dataclass(slots=True)
class Reply:
    # A JSON value (Struct, list, dict), or str/bytes with content_type, or an async iterator
    # of bytes with content_type: streamed (a long CSV export), so a refusal must be raised
    # before the reply is returned (nothing can be refused once the status is sent).
    body: Any = None
    status: int | None = None  # None: the operation's
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    # Already encoded body and its ETag (the lobby's cached pages).
    encoded: tuple[bytes, str] | None = None


Handler = Callable[[Call], Awaitable[Reply]]


@final
class RouteTable:
    """The operations of one route module, in declaration order."""

    def __init__(self) -> None:
        self.entries: list[tuple[Operation, Handler]] = []

    def operation(self, **fields: Any) -> Callable[[Handler], Handler]:
        operation = Operation(**fields)

        def register(handler: Handler) -> Handler:
            self.entries.append((operation, handler))
            return handler

        return register


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _decode_path(operation: Operation, values: dict[str, str]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for name, value_type in operation.path_params.items():
        try:
            decoded[name] = msgspec.convert(values[name], value_type, strict=False)
        except msgspec.ValidationError as exc:
            raise invalid("path", f"{name}: {exc}") from None
    return decoded


def _decode_query(operation: Operation) -> Any:
    args = request.args
    for name in args:
        if len(args.getlist(name)) > 1:
            raise invalid("query", f"{name} is given more than once")
    if operation.query is None:
        if args:
            raise invalid("query", f"this route takes no query parameter ({next(iter(args))})")
        return None
    try:
        return msgspec.convert(args.to_dict(), operation.query, strict=False)
    except msgspec.ValidationError as exc:
        raise invalid("query", str(exc)) from None


def _read_body(state: RequestState, operation: Operation) -> tuple[Any, bytes]:
    """The body, checked as the admin API checks its bodies (admin/inputs.py: UTF-8, no NUL
    or lone surrogate, no key twice), then decoded strictly against the route's type."""
    data = state.body
    if operation.body is None:
        if data.strip():
            raise invalid("body", "this route takes no body")
        return None, b""
    try:
        check_content_type(request.mimetype, request.mimetype_params)
        document = parse_json_body(data)
    except InputRefused as exc:
        raise input_problem(exc) from None
    try:
        body = msgspec.convert(document, operation.body)
    except msgspec.ValidationError as exc:
        raise invalid("body", str(exc)) from None
    # What identifies the request for its Idempotency-Key: the decoded body, canonically.
    canonical = msgspec.json.encode(msgspec.to_builtins(body), order="sorted")
    return body, canonical


def input_problem(exc: InputRefused) -> ApiProblem:
    """A refusal of admin/inputs.py as our problem (its codes and statuses, unchanged)."""
    return ApiProblem(exc.code, str(exc))


def _quota(state: RequestState, quota: Quota) -> None:
    state.quotas.append(quota)
    if quota.refused:
        raise ApiProblem(
            "rate_limited",
            f"too many requests; retry after {quota.retry_after_s} s",
            retry_after_s=quota.retry_after_s,
        )


async def _principal(state: RequestState, operation: Operation) -> Principal | None:
    context = state.context
    credential = None
    if operation.auth != "none":
        credential = bearer_of(request.headers.get("Authorization", ""))
    if credential is None:
        if operation.auth == "required":
            raise ApiProblem("not_authenticated", "send Authorization: Bearer <token or API key>")
        return None
    principal = await authenticate(context, credential)
    state.principal = principal
    structlog.contextvars.bind_contextvars(principal=principal.subject)
    if operation.scope is not None and operation.scope not in principal.scopes:
        raise ApiProblem("insufficient_scope", f"this route needs the scope {operation.scope}")
    now_s = trio.current_time()
    if principal.api_key_id is not None and principal.requests_per_min is not None:
        _quota(
            state,
            context.rate_limits.api_key(principal.api_key_id, principal.requests_per_min, now_s),
        )
    else:
        _quota(state, context.rate_limits.credential(principal.session_id or "", now_s))
    return principal


def _response(operation: Operation, reply: Reply) -> Response:
    status = reply.status or operation.status
    etag = None
    if reply.encoded is not None:
        data, etag = reply.encoded
    elif reply.body is None:
        data = b""
    elif isinstance(reply.body, bytes):
        data = reply.body
    elif isinstance(reply.body, str):
        data = reply.body.encode()
    elif isinstance(reply.body, AsyncIterator):
        if operation.cache_control is not None or operation.idempotent:
            raise TypeError("a streamed reply is neither cached nor kept for a replay")
        headers = {**reply.headers, "Cache-Control": NO_STORE}
        return Response(reply.body, status, headers, content_type=reply.content_type)
    else:
        data = _encoder.encode(reply.body)
    headers = dict(reply.headers)
    if operation.cache_control is not None and status == 200:
        etag = etag or etag_of(data)
        headers["ETag"] = etag
        headers["Cache-Control"] = operation.cache_control
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match is not None and etag_matches(if_none_match, etag):
            return _empty(304, headers)
    else:
        headers["Cache-Control"] = NO_STORE
    if status == 204 or (reply.body is None and reply.encoded is None):
        return _empty(status, headers)
    return Response(data, status, headers, content_type=reply.content_type)


def _empty(status: int, headers: dict[str, str]) -> Response:
    response = Response(b"", status, headers)
    response.headers.remove("Content-Type")  # no body, no type
    return response


async def run_operation(
    state: RequestState, operation: Operation, handler: Handler, values: dict[str, str]
) -> Response:
    principal = await _principal(state, operation)
    audited = principal is not None and principal.kind == "api_key" and operation.method != "GET"
    try:
        response = await _authorized(state, operation, handler, values, principal)
    except ApiProblem as refused:
        if audited:
            assert principal is not None
            await _audit_key_use(state, operation, principal, refused.status)
        raise
    if audited:
        assert principal is not None
        await _audit_key_use(state, operation, principal, response.status_code)
    return response


async def _authorized(
    state: RequestState,
    operation: Operation,
    handler: Handler,
    values: dict[str, str],
    principal: Principal | None,
) -> Response:
    context = state.context
    if operation.personal and (principal is None or principal.player_id is None):
        raise ApiProblem("account_required", "this route needs a credential with a player")
    if operation.auth_limited:
        _quota(state, context.rate_limits.auth(state.address, trio.current_time()))
    path = _decode_path(operation, values)
    query = _decode_query(operation)
    body, canonical = _read_body(state, operation)
    call = Call(
        context=context,
        principal=principal,
        path=path,
        query=query,
        body=body,
        request_id=state.request_id,
        address=state.address,
        user_agent=request.headers.get("User-Agent", ""),
    )
    if operation.idempotent:
        assert principal is not None, "idempotent routes need a credential"
        call.idempotency_key = _idempotency_key()
        return await _idempotent(state, operation, handler, call, canonical)
    return _response(operation, await handler(call))


def _idempotency_key() -> str:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        raise ApiProblem("idempotency_key_required", "send an Idempotency-Key header")
    if IDEMPOTENCY_KEY_PATTERN.fullmatch(key) is None:
        raise invalid("header", "Idempotency-Key is 1-64 printable ASCII characters")
    return key


async def _idempotent(
    state: RequestState, operation: Operation, handler: Handler, call: Call, canonical: bytes
) -> Response:
    key = call.idempotency_key
    principal = call.principal
    assert principal is not None and key is not None
    store = state.context.store
    request_hash = hashlib.sha256(
        f"{operation.method} {request.path}\n".encode() + canonical
    ).hexdigest()
    outcome = await store.run(
        partial(
            idempotency.claim,
            principal.subject,
            key,
            request_hash,
            store.clock_ms(),
            IDEMPOTENCY_LEASE_MS,
        )
    )
    match outcome:
        case idempotency.Replay(response=stored):
            headers = {"Cache-Control": NO_STORE, "Idempotent-Replayed": "true"}
            if stored.location:
                headers["Location"] = stored.location
            return Response(stored.body, stored.status, headers, content_type=stored.content_type)
        case idempotency.Conflict():
            raise ApiProblem(
                "idempotency_conflict", "this Idempotency-Key was used for a different request"
            )
        case idempotency.InProgress():
            raise ApiProblem(
                "idempotency_in_progress",
                "the first request with this Idempotency-Key is still running",
                retry_after_s=1,
            )
    completed = False
    try:
        response = _response(operation, await handler(call))
        if 200 <= response.status_code < 300:
            stored = idempotency.StoredResponse(
                response.status_code,
                response.content_type or JSON,
                response.headers.get("Location", ""),
                await response.get_data(as_text=False),
            )
            with trio.CancelScope(shield=True):
                await store.run(
                    partial(
                        idempotency.complete,
                        principal.subject,
                        key,
                        stored,
                        store.clock_ms(),
                        IDEMPOTENCY_KEEP_MS,
                    )
                )
            completed = True
        return response
    finally:
        if not completed:  # refused or failed: a retry runs again
            with trio.CancelScope(shield=True):
                await store.run(partial(idempotency.release, principal.subject, key))


async def _audit_key_use(
    state: RequestState, operation: Operation, principal: Principal, status: int
) -> None:
    """A state-changing request made with an API key, whatever its outcome."""
    stamp = AuditStamp(
        subject=principal.subject,
        role="api_key",
        action=f"api.{operation.operation_id}",
        target=f"player:{principal.player_id}" if principal.player_id else principal.subject,
        reason="",
        request_id=state.request_id,
    )
    with trio.CancelScope(shield=True):
        await state.context.store.append_audit(
            stamp,
            before=None,
            after={"method": operation.method, "path": request.path, "status": status},
        )
