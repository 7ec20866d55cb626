"""The account behind the credential."""

from __future__ import annotations

from typing import Final

import msgspec

from api.problems import ApiProblem
from api.routes.common import EXAMPLE_TIME_MS
from api.routing import Call, Reply, RouteTable
from services.api_keys import Scope

routes = RouteTable()


class Me(msgspec.Struct, frozen=True):
    id: int
    name: str
    role: str
    created_at_ms: int
    # How this request authenticated: "token" (with its session) or "api_key".
    credential: str
    session_id: str | None
    scopes: list[str]


ME_EXAMPLE: Final = Me(
    id=42,
    name="alice",
    role="player",
    created_at_ms=EXAMPLE_TIME_MS,
    credential="token",
    session_id="IllyrZc1PEhoknLk",
    scopes=["hands:read", "lobby:read", "me:read", "me:write", "wallet:read", "wallet:write"],
)


@routes.operation(
    operation_id="getMe",
    method="GET",
    path="/v1/me",
    summary="My account: id, name, role, and what this credential may do",
    tag="me",
    response=Me,
    example=msgspec.to_builtins(ME_EXAMPLE),
    scope=Scope.ME_READ,
    personal=True,
)
async def me(call: Call) -> Reply:
    account = await call.context.store.get_account(call.player_id)
    if account is None:  # accounts are never deleted; a key's player always exists
        raise ApiProblem("account_required", "no account behind this credential")
    principal = call.principal
    assert principal is not None
    return Reply(
        Me(
            id=account.id,
            name=account.name,
            role=account.role,
            created_at_ms=int(account.created_at.timestamp() * 1000),
            credential=principal.kind,
            session_id=principal.session_id,
            scopes=sorted(principal.scopes),
        )
    )
