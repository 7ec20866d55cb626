"""Access tokens (JWT). Password hashing lives in services/passwords.py.

Tokens: HS256 only (pinned on verify, so ``alg: none`` and algorithm-confusion tokens fail),
with iss, aud, sub, role, sid (the session id that resume uses), iat and exp, all required.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Final, final

import jwt

from protocol.messages import ROLES, Role

TOKEN_ISSUER: Final = "tablium"
TOKEN_AUDIENCE: Final = "tablium-client"
TOKEN_ALGORITHM: Final = "HS256"
TOKEN_TTL_S: Final = 24 * 3600
CLOCK_SKEW_LEEWAY_S: Final = 30  # clocks of client-facing nodes may differ this much
_REQUIRED_CLAIMS: Final = ["iss", "aud", "sub", "role", "sid", "iat", "exp"]


class TokenError(Exception):
    """A token the server will not accept (client's fault)."""


@final
class TokenExpired(TokenError):
    pass


@final
class TokenInvalid(TokenError):
    """Bad signature, wrong algorithm, issuer or audience, missing or malformed claims."""


@final
@dataclass(frozen=True, slots=True)
class Claims:
    player: str  # sub: player names are unique and never change
    role: Role
    session_id: str  # sid: resume finds the session by it
    issued_at_s: int
    expires_at_s: int


def new_session_id() -> str:
    return secrets.token_urlsafe(12)


@final
class TokenSigner:
    """Issues and verifies tokens with one secret."""

    def __init__(self, secret: str, *, ttl_s: int = TOKEN_TTL_S) -> None:
        if not secret:
            raise ValueError("a token secret is required")
        self._secret = secret
        self.ttl_s = ttl_s

    def issue(
        self,
        player: str,
        role: Role,
        *,
        session_id: str | None = None,
        now_s: int | None = None,
        ttl_s: int | None = None,
    ) -> tuple[str, Claims]:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        issued = int(time.time()) if now_s is None else now_s
        claims = Claims(
            player=player,
            role=role,
            session_id=session_id or new_session_id(),
            issued_at_s=issued,
            expires_at_s=issued + (self.ttl_s if ttl_s is None else ttl_s),
        )
        payload = {
            "iss": TOKEN_ISSUER,
            "aud": TOKEN_AUDIENCE,
            "sub": claims.player,
            "role": claims.role,
            "sid": claims.session_id,
            "iat": claims.issued_at_s,
            "exp": claims.expires_at_s,
        }
        return jwt.encode(payload, self._secret, algorithm=TOKEN_ALGORITHM), claims

    def verify(self, token: str) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[TOKEN_ALGORITHM],
                audience=TOKEN_AUDIENCE,
                issuer=TOKEN_ISSUER,
                leeway=CLOCK_SKEW_LEEWAY_S,
                options={"require": _REQUIRED_CLAIMS, "verify_iat": True},
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired("the token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid(f"the token is not valid: {exc}") from None
        sub, role, sid = payload["sub"], payload["role"], payload["sid"]
        iat, exp = payload["iat"], payload["exp"]
        if not (isinstance(sub, str) and sub and isinstance(sid, str) and sid):
            raise TokenInvalid("the token's sub or sid is malformed")
        if role not in ROLES:
            raise TokenInvalid(f"the token's role {role!r} is unknown")
        if not (isinstance(iat, int) and isinstance(exp, int)):
            raise TokenInvalid("the token's iat or exp is not an integer")
        return Claims(player=sub, role=role, session_id=sid, issued_at_s=iat, expires_at_s=exp)
