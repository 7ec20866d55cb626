"""Who is calling: an access token (the websocket's kind of JWT) or a partner's API key.

Access tokens are checked exactly as the websocket's ``authenticate`` checks them
(server/auth.py ``TokenSigner.verify``: HS256 pinned, issuer, audience, lifetime, auth_time;
then the session's revocation and the account's ban in one read, services/accounts.py
``check_token_login``). A token's scopes are those of its role: a player may do on the API
whatever the API lets players do. API keys (``tbk_...``) are checked by services/api_keys.py
and carry their own scopes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, final

from api.context import ApiContext
from api.problems import ApiProblem
from server.auth import TokenExpired, TokenInvalid
from services.accounts import AccountBanned, SessionRevoked
from services.api_keys import PLAYER_TOKEN_SCOPES, looks_like_key

BEARER_CHARS_MAX: Final = 4096  # longer Authorization values are refused unread


@final
@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["token", "api_key"]
    subject: str  # "player:42" or "api_key:7": rate limits, idempotency keys, audit
    scopes: frozenset[str]
    # The player the credential acts as (None: a key without one, a dev token without an
    # account).
    player_id: int | None
    player: str | None
    role: str
    session_id: str | None = None  # tokens: the sid (logout and sessions use it)
    token_expires_at_s: int | None = None
    api_key_id: int | None = None
    requests_per_min: int | None = None  # keys: their own rate


def bearer_of(header: str) -> str | None:
    """The credential of an ``Authorization: Bearer ...`` header (None: no header). Raises
    ApiProblem for a header that is there but not a bearer credential."""
    if not header:
        return None
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise ApiProblem("not_authenticated", "send Authorization: Bearer <token or API key>")
    if len(credential) > BEARER_CHARS_MAX:
        raise ApiProblem("token_invalid", "the credential is too long")
    return credential


async def authenticate(context: ApiContext, credential: str) -> Principal:
    """The principal behind a bearer credential; raises ApiProblem (401, 403)."""
    if looks_like_key(credential):
        return await _api_key(context, credential)
    try:
        claims = context.signer.verify(credential)
    except TokenExpired as exc:
        raise ApiProblem("token_expired", str(exc)) from None
    except TokenInvalid as exc:
        raise ApiProblem("token_invalid", str(exc)) from None
    if context.logged_out(claims.session_id):
        raise ApiProblem("token_revoked", "this session was logged out; log in again")
    accounts = context.accounts()
    if accounts is None:
        raise ApiProblem("unavailable", "the accounts service is not running")
    try:
        account = await accounts.check_token_login(claims.player, claims.session_id)
    except SessionRevoked:
        raise ApiProblem("token_revoked", "this session was ended; log in again") from None
    except AccountBanned:
        raise ApiProblem("account_banned", "this account is banned") from None
    return Principal(
        kind="token",
        subject=f"player:{account.id}" if account is not None else f"name:{claims.player}",
        scopes=PLAYER_TOKEN_SCOPES,
        player_id=account.id if account is not None else None,
        player=claims.player,
        role=claims.role,
        session_id=claims.session_id,
        token_expires_at_s=claims.expires_at_s,
    )


async def _api_key(context: ApiContext, credential: str) -> Principal:
    key = await context.api_keys.check(credential)
    if key is None:
        raise ApiProblem("api_key_invalid", "the API key is unknown or revoked")
    player = None
    if key.player_id is not None:
        account = await context.store.get_account(key.player_id)
        if account is None or account.banned:
            raise ApiProblem("account_banned", "the key's player account is banned")
        player = account.name
    return Principal(
        kind="api_key",
        subject=f"api_key:{key.id}",
        scopes=frozenset(key.scopes),
        player_id=key.player_id,
        player=player,
        role="api_key",
        api_key_id=key.id,
        requests_per_min=key.requests_per_min,
    )
