"""Access tokens (JWT). Password hashing lives in services/passwords.py.

Tokens: HS256 only (pinned on verify, so ``alg: none`` and algorithm-confusion tokens fail),
with iss, aud, sub, role, sid (the session id that resume uses), iat, exp and auth_time (when
the session's password login happened), all required.

Lifetimes: a token lives at most ``ttl_s`` (24 h); one whose exp - iat is longer was not
made by us and is refused, however valid its signature. Every token login (authenticate)
gets a fresh token, but a session's tokens all carry its auth_time, and none lives past
auth_time + ``session_lifetime_max_s``: a stolen token cannot be kept alive forever by using
it; after that the player logs in with the password again.

Keys: a TokenSigner holds a key ring (server/token_keys.py). Tokens are signed by the ring's
current key and carry its id in the header (``kid``); verify takes the key that ``kid``
names (none: ``default``), and refuses a token whose key is unknown or past its end.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Final, final

import jwt

from protocol.messages import ROLES, Role
from server.token_keys import TokenKeyRing

TOKEN_ISSUER: Final = "tablium"
TOKEN_AUDIENCE: Final = "tablium-client"
TOKEN_ALGORITHM: Final = "HS256"
TOKEN_TTL_S: Final = 24 * 3600
SESSION_LIFETIME_MAX_S: Final = 7 * 24 * 3600  # the session_lifetime_max_s setting's default
CLOCK_SKEW_LEEWAY_S: Final = 30  # clocks of client-facing nodes may differ this much
# How long a rotated-out key keeps verifying: every token it signed lives at most
# TOKEN_TTL_S (plus clock skew); the hour on top is for deploying the ring after
# `tablium keys rotate` computed it.
ROTATION_DEPLOY_MARGIN_S: Final = 3600
ROTATION_OVERLAP_S: Final = TOKEN_TTL_S + CLOCK_SKEW_LEEWAY_S + ROTATION_DEPLOY_MARGIN_S
_REQUIRED_CLAIMS: Final = ["iss", "aud", "sub", "role", "sid", "iat", "exp", "auth_time"]


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
    # auth_time: when the session began with a password login (kept by refreshed tokens).
    authenticated_at_s: int


def new_session_id() -> str:
    return secrets.token_urlsafe(12)


@final
class TokenSigner:
    """Issues and verifies tokens with a key ring; a plain secret is the ring of one key,
    ``default`` (what ``TABLIUM_JWT_SECRET`` makes)."""

    def __init__(
        self,
        keys: str | TokenKeyRing,
        *,
        ttl_s: int = TOKEN_TTL_S,
        session_lifetime_max_s: int = SESSION_LIFETIME_MAX_S,
    ) -> None:
        if not keys:
            raise ValueError("a token secret is required")
        if ttl_s <= 0 or session_lifetime_max_s <= 0:
            raise ValueError("ttl_s and session_lifetime_max_s must be positive")
        self.keys = TokenKeyRing.single(keys) if isinstance(keys, str) else keys
        self.ttl_s = ttl_s
        self.session_lifetime_max_s = session_lifetime_max_s

    def issue(
        self,
        player: str,
        role: Role,
        *,
        session_id: str | None = None,
        now_s: int | None = None,
        ttl_s: int | None = None,
        authenticated_at_s: int | None = None,
    ) -> tuple[str, Claims]:
        """A token for ``player``. ``authenticated_at_s``: the session's password login
        (None: now, a new session); the token expires ``ttl_s`` from now (at most the
        signer's ttl_s) or at the session's end, whichever comes first."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        ttl_s = self.ttl_s if ttl_s is None else ttl_s
        if ttl_s > self.ttl_s:  # (0 or less makes an expired token: tests use one)
            raise ValueError(f"a token lives at most {self.ttl_s} s")
        issued = int(time.time()) if now_s is None else now_s
        authenticated = issued if authenticated_at_s is None else authenticated_at_s
        claims = Claims(
            player=player,
            role=role,
            session_id=session_id or new_session_id(),
            issued_at_s=issued,
            expires_at_s=min(issued + ttl_s, authenticated + self.session_lifetime_max_s),
            authenticated_at_s=authenticated,
        )
        payload = {
            "iss": TOKEN_ISSUER,
            "aud": TOKEN_AUDIENCE,
            "sub": claims.player,
            "role": claims.role,
            "sid": claims.session_id,
            "iat": claims.issued_at_s,
            "exp": claims.expires_at_s,
            "auth_time": claims.authenticated_at_s,
        }
        key = self.keys.current
        token = jwt.encode(payload, key.secret, algorithm=TOKEN_ALGORITHM, headers={"kid": key.kid})
        return token, claims

    def verify(self, token: str) -> Claims:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid(f"the token is not valid: {exc}") from None
        if kid is not None and not isinstance(kid, str):
            raise TokenInvalid("the token's key id is malformed")
        key = self.keys.verifying_key(kid, time.time())
        if key is None:
            raise TokenInvalid("the token's key is unknown or retired")
        try:
            payload = jwt.decode(
                token,
                key.secret,
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
        iat, exp, auth_time = payload["iat"], payload["exp"], payload["auth_time"]
        if not (isinstance(sub, str) and sub and isinstance(sid, str) and sid):
            raise TokenInvalid("the token's sub or sid is malformed")
        if role not in ROLES:
            raise TokenInvalid(f"the token's role {role!r} is unknown")
        if not all(type(value) is int for value in (iat, exp, auth_time)):
            raise TokenInvalid("the token's iat, exp or auth_time is not an integer")
        if exp - iat > self.ttl_s:
            raise TokenInvalid("the token's lifetime is longer than any token we issue")
        if auth_time > iat:
            raise TokenInvalid("the token's auth_time is after its iat")
        if time.time() > auth_time + self.session_lifetime_max_s + CLOCK_SKEW_LEEWAY_S:
            raise TokenExpired("the session has reached its maximum lifetime; log in again")
        return Claims(
            player=sub,
            role=role,
            session_id=sid,
            issued_at_s=iat,
            expires_at_s=exp,
            authenticated_at_s=auth_time,
        )
