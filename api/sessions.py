"""Logging in over the API: short-lived access tokens and rotating refresh tokens.

Register and login are the websocket's (services/accounts.py ``Accounts``, the same instance:
the same argon2id hashing queue and login throttles for both doors). A login opens a session
(persistence/api_sessions.py) and returns:

- an access token: the websocket's kind of token (server/auth.py ``TokenSigner``), with the
  session as its ``sid`` and the login as its ``auth_time``, living
  ``TABLIUM_API_ACCESS_TOKEN_TTL_S`` (15 minutes); the websocket's ``authenticate`` takes it;
- a refresh token (``tbr_`` + 256 random bits), stored as its SHA-256, used once: a refresh
  returns a new access token and the next refresh token. Presenting a refresh token that was
  used already means a copy exists: the whole session ends (its refresh tokens, its access
  tokens, its websocket sessions). No session outlives ``TABLIUM_SESSION_LIFETIME_MAX_S``
  after its login, however often it is refreshed.

Logout and revoking a session end it the same way. The rules are the websocket's: a revoked
session's tokens are refused from then on, across restarts and nodes (``revoked_sessions``).

A session keeps the client's address and user agent so that its player can tell her sessions
apart (``GET /v1/me/sessions``). They are personal data: sealed at rest with the server's data
keys (services/personal_data.py, ``TABLIUM_DATA_KEYS``), under a context naming the field and
the session, and opened only to show them to that player. Without data keys they are not
kept at all (the list shows them empty); a value whose key left the ring shows empty too.
After a data key rotation ``reseal_sessions`` (``tablium keys reseal``) moves every stored
value to the current key; a refresh moves its own session's.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from functools import partial
from typing import Final, Literal, final

import msgspec
import structlog

from api.context import ApiContext
from api.problems import ApiProblem
from persistence.accounts import Account
from persistence.api_sessions import (
    USER_AGENT_CHARS_MAX,
    ApiSession,
    Refused,
    Reused,
    RevokeReason,
    Rotated,
    SealedClient,
    live_sessions,
    open_session,
    replace_sealed_client,
    revoke_session,
    rotate_refresh,
    sealed_not_under,
)
from persistence.store import Store
from protocol.messages import ROLES, Role
from server.auth import CLOCK_SKEW_LEEWAY_S, new_session_id
from services.accounts import AccountBanned, AccountRefused, Accounts, SessionRevoked
from services.passwords import HashingBusy
from services.personal_data import PersonalDataCipher, SealedDataError

log = structlog.get_logger("tablium.api.sessions")

REFRESH_TOKEN_PREFIX: Final = "tbr_"
REFRESH_TOKEN_CHARS_MAX: Final = 128


@final
class PlayerRef(msgspec.Struct, frozen=True):
    id: int
    name: str


@final
class TokenPair(msgspec.Struct, frozen=True):
    """What register, login and refresh return."""

    token_type: Literal["Bearer"]
    access_token: str  # send as Authorization: Bearer ...; the websocket's authenticate takes it
    expires_in: int  # seconds the access token lives
    expires_at_s: int  # Unix time it expires
    refresh_token: str  # keep it secret; POST /v1/auth/refresh exchanges it once
    refresh_expires_at_s: int  # no refresh after this (the session's maximum lifetime)
    session_id: str
    player: PlayerRef


@final
class SessionView(msgspec.Struct, frozen=True):
    session_id: str
    created_at_ms: int
    last_used_at_ms: int
    expires_at_ms: int
    user_agent: str
    address: str
    current: bool  # the session of the credential making this request


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _role(raw: str) -> Role:
    if raw not in ROLES:
        raise ValueError(f"account has unknown role {raw!r}")
    return raw


def _context_of(field: str, session_id: str) -> str:
    return f"api_sessions.{field}:{session_id}"


def seal_client(
    cipher: PersonalDataCipher | None, session_id: str, address: str, user_agent: str
) -> tuple[str, str]:
    """The session's (address, user agent) as stored: sealed, or empty without data keys."""
    if cipher is None:
        return "", ""
    return (
        cipher.seal(address, context=_context_of("address", session_id)),
        cipher.seal(
            user_agent[:USER_AGENT_CHARS_MAX], context=_context_of("user_agent", session_id)
        ),
    )


def open_client(cipher: PersonalDataCipher | None, session: ApiSession) -> ApiSession:
    """The session with its address and user agent opened (empty when they cannot be)."""
    opened = {}
    for field in ("address", "user_agent"):
        sealed = getattr(session, field)
        value = ""
        if cipher is not None and sealed:
            try:
                value = cipher.open(sealed, context=_context_of(field, session.session_id))
            except SealedDataError:
                value = ""  # its key left the ring, or a row from before sealing
        opened[field] = value
    return msgspec.structs.replace(session, **opened)


def _sealed_under(cipher: PersonalDataCipher, sealed: str) -> bool:
    """Whether ``sealed`` names the current key (a malformed value counts as current: there
    is nothing to move)."""
    try:
        return cipher.is_current(sealed)
    except SealedDataError:
        return True


def _resealed(cipher: PersonalDataCipher, stored: SealedClient) -> SealedClient | None:
    """``stored`` with every field sealed under the current key; None when a field does not
    open (its key is not on the ring): left as it is, for the operator to look at."""
    fields = {}
    for field in ("address", "user_agent"):
        sealed = getattr(stored, field)
        try:
            fields[field] = (
                cipher.reseal(sealed, context=_context_of(field, stored.session_id))
                if sealed
                else ""
            )
        except SealedDataError:
            return None
    return SealedClient(stored.session_id, **fields)


@final
class ResealReport(msgspec.Struct, frozen=True):
    resealed: int  # sessions whose fields moved to the current key
    unopenable: int  # sessions with a field whose key is not on the ring: left unchanged
    current_kid: str


RESEAL_PAGE_ROWS: Final = 200  # sessions per unit of work


async def reseal_sessions(
    store: Store, cipher: PersonalDataCipher, *, page_rows: int = RESEAL_PAGE_ROWS
) -> ResealReport:
    """Move every stored session's client fields to the current data key, a page at a time
    (each row changed only if it still holds what was read). After a rotation, run this,
    then remove the previous key once ``unopenable`` is 0 (``tablium keys reseal``)."""
    kid = cipher.keys.current.kid
    resealed = unopenable = 0
    after: str | None = None
    while True:
        page = await store.run(partial(sealed_not_under, kid, after, page_rows), read_only=True)
        if not page:
            return ResealReport(resealed, unopenable, kid)
        for stored in page:
            now = _resealed(cipher, stored)
            if now is None:
                unopenable += 1
            elif await store.run(partial(replace_sealed_client, stored, now)):
                resealed += 1
        after = page[-1].session_id


def account_problem(exc: AccountRefused) -> ApiProblem:
    """An accounts refusal as the API's problem (the websocket's codes, unchanged)."""
    code = "token_revoked" if isinstance(exc, SessionRevoked) else str(exc.code)
    retry = None if exc.retry_after_ms is None else math.ceil(exc.retry_after_ms / 1000)
    return ApiProblem(code, exc.message, retry_after_s=retry)


def busy_problem(exc: HashingBusy) -> ApiProblem:
    return ApiProblem(
        "server_busy",
        "too many logins at once; retry later",
        retry_after_s=max(1, math.ceil(exc.retry_after_ms / 1000)),
    )


@final
class ApiSessions:
    def __init__(self, context: ApiContext) -> None:
        self._context = context

    def _accounts(self) -> Accounts:
        accounts = self._context.accounts()
        if accounts is None:
            raise ApiProblem("unavailable", "the accounts service is not running")
        return accounts

    def _tokens_valid_until_ms(self, now_s: int) -> int:
        # A websocket login with one of our tokens gets tokens of the same sid that live the
        # signer's full ttl_s: a revocation must outlast those.
        return (now_s + self._context.signer.ttl_s + CLOCK_SKEW_LEEWAY_S) * 1000

    async def register(self, name: str, password: str, address: str, user_agent: str) -> TokenPair:
        try:
            account = await self._accounts().register(name, password, address=address)
        except AccountRefused as exc:
            raise account_problem(exc) from None
        except HashingBusy as exc:
            raise busy_problem(exc) from None
        return await self._open(account, address, user_agent)

    async def login(self, name: str, password: str, address: str, user_agent: str) -> TokenPair:
        try:
            account = await self._accounts().login(name, password, address=address)
        except AccountRefused as exc:
            raise account_problem(exc) from None
        except HashingBusy as exc:
            raise busy_problem(exc) from None
        return await self._open(account, address, user_agent)

    async def _open(self, account: Account, address: str, user_agent: str) -> TokenPair:
        context = self._context
        now_s = int(time.time())
        session_id = new_session_id()
        sealed_address, sealed_agent = seal_client(
            context.personal_data, session_id, address, user_agent
        )
        session = ApiSession(
            session_id=session_id,
            player_id=account.id,
            player=account.name,
            role=_role(account.role),
            created_at_ms=now_s * 1000,
            last_used_at_ms=now_s * 1000,
            expires_at_ms=(now_s + context.signer.session_lifetime_max_s) * 1000,
            user_agent=sealed_agent,
            address=sealed_address,
        )
        refresh = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)
        replaced = await context.store.run(
            partial(open_session, session, _hash(refresh), self._tokens_valid_until_ms(now_s))
        )
        for session_id in replaced:  # over SESSIONS_PER_PLAYER_MAX: the oldest ended
            context.session_ended(session_id)
        return self._pair(session, refresh, now_s)

    def _pair(self, session: ApiSession, refresh: str, now_s: int) -> TokenPair:
        ttl_s = self._context.settings.api_access_token_ttl_s
        access, claims = self._context.signer.issue(
            session.player,
            _role(session.role),
            session_id=session.session_id,
            now_s=now_s,
            ttl_s=ttl_s,
            authenticated_at_s=session.created_at_ms // 1000,
        )
        return TokenPair(
            token_type="Bearer",
            access_token=access,
            expires_in=claims.expires_at_s - now_s,
            expires_at_s=claims.expires_at_s,
            refresh_token=refresh,
            refresh_expires_at_s=session.expires_at_ms // 1000,
            session_id=session.session_id,
            player=PlayerRef(session.player_id, session.player),
        )

    async def refresh(self, token: str) -> TokenPair:
        if not token.startswith(REFRESH_TOKEN_PREFIX) or len(token) > REFRESH_TOKEN_CHARS_MAX:
            raise ApiProblem("refresh_token_invalid", "not a refresh token of this server")
        context = self._context
        now_s = int(time.time())
        following = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)
        outcome = await context.store.run(
            partial(rotate_refresh, _hash(token), _hash(following), now_s * 1000)
        )
        match outcome:
            case Refused(reason=reason):
                raise ApiProblem("refresh_token_invalid", f"the refresh token is {reason}")
            case Reused(session=session):
                log.warning(
                    "refresh token reused: session ended",
                    session_id=session.session_id,
                    player_id=session.player_id,
                )
                await self._end(session.session_id, session.player, "refresh_token_reused")
                raise ApiProblem(
                    "refresh_token_reused",
                    "this refresh token was used before; the session has ended: log in again",
                )
            case Rotated(session=session):
                await self._reseal_if_stale(session)
        try:
            await self._accounts().check_token_login(session.player, session.session_id)
        except SessionRevoked:
            raise ApiProblem("refresh_token_invalid", "the session was ended") from None
        except AccountBanned:
            raise ApiProblem("account_banned", "this account is banned") from None
        return self._pair(session, following, now_s)

    async def _reseal_if_stale(self, session: ApiSession) -> None:
        """A session refreshed after a data key rotation moves its client fields to the
        current key (``tablium keys reseal`` does the sessions nobody refreshes)."""
        cipher = self._context.personal_data
        stored = SealedClient(session.session_id, session.address, session.user_agent)
        if cipher is None or all(
            not sealed or _sealed_under(cipher, sealed)
            for sealed in (stored.address, stored.user_agent)
        ):
            return
        now = _resealed(cipher, stored)
        if now is not None:
            await self._context.store.run(partial(replace_sealed_client, stored, now))

    async def _end(
        self, session_id: str, player: str, reason: RevokeReason, player_id: int | None = None
    ) -> ApiSession | None:
        context = self._context
        now_s = int(time.time())
        found = await context.store.run(
            partial(
                revoke_session,
                session_id,
                player,
                reason,
                now_s * 1000,
                self._tokens_valid_until_ms(now_s),
                player_id,
            )
        )
        if found is not None or player_id is None:
            context.session_ended(session_id)
        return found

    async def logout(self, session_id: str, player: str) -> None:
        """End the caller's own session (an API session or a websocket login's)."""
        await self._end(session_id, player, "logout")

    async def revoke(self, player_id: int, player: str, session_id: str) -> bool:
        """End one of the player's API sessions; False if she has none of that id."""
        return await self._end(session_id, player, "revoked", player_id) is not None

    async def live(
        self, player_id: int, before: tuple[int, str] | None, limit: int
    ) -> list[ApiSession]:
        found = await self._context.store.run(
            partial(live_sessions, player_id, self._context.store.clock_ms(), before, limit),
            read_only=True,
        )
        return [open_client(self._context.personal_data, session) for session in found]
