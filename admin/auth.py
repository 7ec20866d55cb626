"""Bearer-token authentication and role checks for admin routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import structlog
from quart import g, request
from quart_schema import security_scheme

from admin.permissions import Permission, allows
from server.auth import TokenExpired, TokenInvalid, TokenSigner


class AdminAuthError(Exception):
    """A bearer token was refused; ``code`` is the stable error code sent to the caller."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Identity:
    subject: str
    role: str


TokenVerifier = Callable[[str], Identity]  # raises AdminAuthError


def jwt_verifier(signer: TokenSigner) -> TokenVerifier:
    """Staff use the same signed tokens as players; the role claim decides what they may do."""

    def verify(token: str) -> Identity:
        try:
            claims = signer.verify(token)
        except TokenExpired as exc:
            raise AdminAuthError("token_expired", str(exc)) from None
        except TokenInvalid as exc:
            raise AdminAuthError("token_invalid", str(exc)) from None
        return Identity(subject=claims.player, role=claims.role)

    return verify


def error(status: int, code: str, message: str) -> tuple[dict[str, str], int]:
    """The body of every refusal: a stable code and a sentence for people."""
    return {"error": code, "message": message}, status


P = ParamSpec("P")
R = TypeVar("R")


def requires(
    permission: Permission,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[Any]]]:
    """Guard a route: a valid bearer token whose role has ``permission``."""

    def decorate(route: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[Any]]:
        @wraps(route)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                return error(401, "not_authenticated", "send Authorization: Bearer <token>")
            try:
                identity = g.admin_context.verify_token(token.strip())
            except AdminAuthError as exc:
                return error(401, exc.code, str(exc))
            if not allows(identity.role, permission):
                return error(403, "forbidden", f"role {identity.role!r} lacks {permission}")
            g.identity = identity
            structlog.contextvars.bind_contextvars(subject=identity.subject)
            return await route(*args, **kwargs)

        return security_scheme([{"bearer": []}])(guarded)

    return decorate
