"""Register, log in, refresh, log out; list and revoke my sessions."""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
from msgspec import Meta

from api.cursors import decode_cursor, encode_cursor
from api.problems import ApiProblem
from api.routes.common import EXAMPLE_CURSOR, EXAMPLE_TIME_MS, NO_NUL, Cursor
from api.routing import Call, Reply, RouteTable
from api.sessions import ApiSessions, PlayerRef, SessionView, TokenPair
from persistence.api_sessions import SESSIONS_PAGE_MAX
from protocol.messages import PLAYER_NAME_CHARS_MAX
from services.api_keys import Scope

routes = RouteTable()

PASSWORD_CHARS_MAX: Final = 128  # as the websocket's


class Credentials(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=PLAYER_NAME_CHARS_MAX, pattern=NO_NUL)]
    password: Annotated[str, Meta(min_length=1, max_length=PASSWORD_CHARS_MAX, pattern=NO_NUL)]


class RefreshRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    refresh_token: Annotated[str, Meta(min_length=1, max_length=128, pattern=NO_NUL)]


class SessionsQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    cursor: Cursor | None = None
    limit: Annotated[int, Meta(ge=1, le=SESSIONS_PAGE_MAX)] = 50


class SessionsPage(msgspec.Struct, frozen=True):
    data: list[SessionView]
    next_cursor: str | None  # pass as cursor for the next page; null on the last one


SESSION_ID = Annotated[str, Meta(min_length=1, max_length=128, pattern="^[A-Za-z0-9_-]+$")]

TOKENS_EXAMPLE: Final = msgspec.to_builtins(
    TokenPair(
        token_type="Bearer",
        access_token="eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl",
        expires_in=900,
        expires_at_s=EXAMPLE_TIME_MS // 1000 + 900,
        refresh_token="tbr_Xk2V0mJ4c3pQd1h6ZkFzS2J3bE5nUmVQeW9HaUR0",
        refresh_expires_at_s=EXAMPLE_TIME_MS // 1000 + 604_800,
        session_id="IllyrZc1PEhoknLk",
        player=PlayerRef(42, "alice"),
    )
)
CREDENTIALS_EXAMPLE: Final = {"name": "alice", "password": "correct horse battery"}
SESSION_EXAMPLE: Final = SessionView(
    session_id="IllyrZc1PEhoknLk",
    created_at_ms=EXAMPLE_TIME_MS,
    last_used_at_ms=EXAMPLE_TIME_MS + 900_000,
    expires_at_ms=EXAMPLE_TIME_MS + 604_800_000,
    user_agent="curl/8.5.0",
    address="203.0.113.7",
    current=True,
)
LOGIN_ERRORS: Final = ("bad_credentials", "account_banned", "login_throttled", "server_busy")


@routes.operation(
    operation_id="register",
    method="POST",
    path="/v1/auth/register",
    summary="Create a player account and log in",
    description="The websocket's naming and password rules; the password is stored as an"
    " argon2id hash. Stricter rate limit per address. Not idempotent by key (its answer"
    " holds secrets): a repeat is refused with `name_taken`.",
    tag="auth",
    response=TokenPair,
    example=TOKENS_EXAMPLE,
    status=201,
    auth="none",
    body=Credentials,
    body_example=CREDENTIALS_EXAMPLE,
    auth_limited=True,
    errors=(
        "invalid_name", "weak_password", "name_taken", "registration_limited", "server_busy",
        "unavailable",
    ),
)  # fmt: skip
async def register(call: Call) -> Reply:
    pair = await ApiSessions(call.context).register(
        call.body.name, call.body.password, call.address, call.user_agent
    )
    return Reply(pair, headers={"Location": "/v1/me"})


@routes.operation(
    operation_id="login",
    method="POST",
    path="/v1/auth/login",
    summary="Log in with a name and password",
    description="Returns an access token and a refresh token. Unknown names and wrong"
    " passwords get the same answer in the same time; repeated failures are throttled.",
    tag="auth",
    response=TokenPair,
    example=TOKENS_EXAMPLE,
    auth="none",
    body=Credentials,
    body_example=CREDENTIALS_EXAMPLE,
    auth_limited=True,
    errors=(*LOGIN_ERRORS, "unavailable"),
)
async def login(call: Call) -> Reply:
    pair = await ApiSessions(call.context).login(
        call.body.name, call.body.password, call.address, call.user_agent
    )
    return Reply(pair)


@routes.operation(
    operation_id="refresh",
    method="POST",
    path="/v1/auth/refresh",
    summary="Exchange a refresh token for new tokens",
    description="Each refresh token works once and is replaced by the one returned. A refresh"
    " token presented a second time ends its whole session (`refresh_token_reused`).",
    tag="auth",
    response=TokenPair,
    example=TOKENS_EXAMPLE,
    auth="none",
    body=RefreshRequest,
    body_example={"refresh_token": TOKENS_EXAMPLE["refresh_token"]},
    auth_limited=True,
    errors=("refresh_token_invalid", "refresh_token_reused", "account_banned", "unavailable"),
)
async def refresh(call: Call) -> Reply:
    return Reply(await ApiSessions(call.context).refresh(call.body.refresh_token))


@routes.operation(
    operation_id="logout",
    method="POST",
    path="/v1/auth/logout",
    summary="End this session",
    description="The session's refresh and access tokens are refused from now on, and its"
    " websocket connections are closed (4005).",
    tag="auth",
    response=None,
    example=None,
    status=204,
    scope=Scope.SESSIONS_MANAGE,
    personal=True,
)
async def logout(call: Call) -> Reply:
    principal = call.principal
    assert principal is not None and principal.session_id is not None
    await ApiSessions(call.context).logout(principal.session_id, call.player)
    return Reply()


@routes.operation(
    operation_id="listSessions",
    method="GET",
    path="/v1/me/sessions",
    summary="My live API sessions",
    description="Sessions begun by a login over the API that are neither ended nor expired,"
    " newest first.",
    tag="auth",
    response=SessionsPage,
    example=msgspec.to_builtins(SessionsPage([SESSION_EXAMPLE], EXAMPLE_CURSOR)),
    scope=Scope.SESSIONS_MANAGE,
    personal=True,
    query=SessionsQuery,
    links={
        "RevokeFirstSession": {
            "operationId": "revokeSession",
            "parameters": {"session_id": "$response.body#/data/0/session_id"},
        }
    },
)
async def list_sessions(call: Call) -> Reply:
    query: SessionsQuery = call.query
    before = None
    if query.cursor is not None:
        before = decode_cursor("sessions", query.cursor, tuple[int, str])
    found = await ApiSessions(call.context).live(call.player_id, before, query.limit)
    principal = call.principal
    assert principal is not None
    views = [
        SessionView(
            session_id=s.session_id,
            created_at_ms=s.created_at_ms,
            last_used_at_ms=s.last_used_at_ms,
            expires_at_ms=s.expires_at_ms,
            user_agent=s.user_agent,
            address=s.address,
            current=s.session_id == principal.session_id,
        )
        for s in found
    ]
    last = found[-1] if len(found) == query.limit else None
    cursor = encode_cursor("sessions", [last.created_at_ms, last.session_id]) if last else None
    return Reply(SessionsPage(views, cursor))


@routes.operation(
    operation_id="revokeSession",
    method="DELETE",
    path="/v1/me/sessions/{session_id}",
    summary="End one of my sessions",
    tag="auth",
    response=None,
    example=None,
    status=204,
    scope=Scope.SESSIONS_MANAGE,
    personal=True,
    path_params={"session_id": SESSION_ID},
)
async def revoke_session(call: Call) -> Reply:
    session_id: Any = call.path["session_id"]
    if not await ApiSessions(call.context).revoke(call.player_id, call.player, session_id):
        raise ApiProblem("not_found", "you have no session of that id")
    return Reply()
