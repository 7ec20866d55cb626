"""Sessions begun over the public API and their refresh tokens: units of work.

A session row is the "family" of its refresh tokens. Each token is stored as its SHA-256 (the
token itself is a random secret the client keeps) and used once: a refresh marks it used and
issues the next. What a refresh finds is returned as an outcome value (the flows in
api/sessions.py decide what it means); revoking a session also refuses its access tokens, in
the same transaction, through ``revoked_sessions`` (persistence/sessions.py), which the
websocket reads too.

Bounds, each with its overflow policy:
- SESSIONS_PER_PLAYER_MAX live sessions per player: a new one revokes the oldest.
- REFRESH_TOKENS_KEPT_PER_SESSION tokens remembered per session: older used ones are deleted,
  and presenting one of those is then an unknown token rather than a detected reuse.
- expired sessions (and their tokens) are deleted EXPIRED_PURGED_PER_WRITE at a time, at each
  login.
"""

from __future__ import annotations

from typing import Final, Literal, final

import msgspec

from persistence import sessions
from persistence.work import Query, Row, Work

SESSIONS_PER_PLAYER_MAX: Final = 50
REFRESH_TOKENS_KEPT_PER_SESSION: Final = 100
EXPIRED_PURGED_PER_WRITE: Final = 20
SESSIONS_PAGE_MAX: Final = 100
USER_AGENT_CHARS_MAX: Final = 256  # api/sessions.py cuts longer user agents (labels)
# bound: the address and user agent are stored sealed (api/sessions.py); a sealed 256-char
# user agent is ~400 characters. A longer value is our bug: ValueError, nothing stored.
CLIENT_FIELD_CHARS_MAX: Final = 1024
TOKEN_HASH_CHARS: Final = 64  # hex SHA-256

RevokeReason = Literal["logout", "revoked", "refresh_token_reused", "replaced", "banned"]


@final
class ApiSession(msgspec.Struct, frozen=True):
    session_id: str  # the access tokens' sid
    player_id: int
    player: str
    role: str
    created_at_ms: int  # the password login (the tokens' auth_time)
    last_used_at_ms: int  # the last refresh
    expires_at_ms: int  # no refresh after this: log in again
    user_agent: str
    address: str
    revoked_at_ms: int | None = None
    revoked_reason: str | None = None


@final
class Rotated(msgspec.Struct, frozen=True):
    """The token was fresh: it is used now and ``new_hash`` is the session's next token."""

    session: ApiSession


@final
class Reused(msgspec.Struct, frozen=True):
    """The token was used before: someone holds a copy. Nothing was rotated."""

    session: ApiSession


@final
class Refused(msgspec.Struct, frozen=True):
    """No rotation: no such token, or its session is revoked or expired."""

    reason: Literal["unknown", "revoked", "expired"]
    session: ApiSession | None = None


RefreshOutcome = Rotated | Reused | Refused

_COLUMNS = (
    "session_id, player_id, player, role, created_at_ms, last_used_at_ms, expires_at_ms,"
    " user_agent, address, revoked_at_ms, revoked_reason"
)


def _session(row: Row) -> ApiSession:
    return ApiSession(
        session_id=row[0], player_id=int(row[1]), player=row[2], role=row[3],
        created_at_ms=int(row[4]), last_used_at_ms=int(row[5]), expires_at_ms=int(row[6]),
        user_agent=row[7], address=row[8],
        revoked_at_ms=None if row[9] is None else int(row[9]), revoked_reason=row[10],
    )  # fmt: skip


def _check_hash(token_hash: str) -> None:
    if len(token_hash) != TOKEN_HASH_CHARS:
        raise ValueError("a refresh token hash is a hex SHA-256")


def open_session(
    session: ApiSession, token_hash: str, tokens_valid_until_ms: int
) -> Work[list[str]]:
    """Store a new session and its first refresh token. Revokes the player's oldest live
    sessions beyond SESSIONS_PER_PLAYER_MAX (their access tokens until
    ``tokens_valid_until_ms``) and returns their ids; deletes a few expired sessions."""
    _check_hash(token_hash)
    if max(len(session.user_agent), len(session.address)) > CLIENT_FIELD_CHARS_MAX:
        raise ValueError(f"a session's client fields are at most {CLIENT_FIELD_CHARS_MAX} chars")
    now_ms = session.created_at_ms
    expired = yield Query(
        "SELECT session_id FROM api_sessions WHERE expires_at_ms < $1"
        f" ORDER BY expires_at_ms LIMIT {EXPIRED_PURGED_PER_WRITE}",
        (now_ms,),
    )
    for (expired_id,) in expired:
        yield Query("DELETE FROM api_refresh_tokens WHERE session_id = $1", (expired_id,))
        yield Query("DELETE FROM api_sessions WHERE session_id = $1", (expired_id,))
    yield Query(
        f"INSERT INTO api_sessions ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
        " NULL, NULL)",
        (
            session.session_id, session.player_id, session.player, session.role,
            session.created_at_ms, session.last_used_at_ms, session.expires_at_ms,
            session.user_agent, session.address,
        ),
    )  # fmt: skip
    yield Query(
        "INSERT INTO api_refresh_tokens (token_hash, session_id, issued_at_ms, used_at_ms)"
        " VALUES ($1, $2, $3, NULL)",
        (token_hash, session.session_id, now_ms),
    )
    live = yield Query(
        "SELECT session_id FROM api_sessions WHERE player_id = $1 AND revoked_at_ms IS NULL"
        " AND expires_at_ms >= $2 ORDER BY created_at_ms DESC, session_id DESC",
        (session.player_id, now_ms),
    )
    replaced = [row[0] for row in live[SESSIONS_PER_PLAYER_MAX:]]
    for session_id in replaced:
        yield from _revoke(session_id, session.player, "replaced", now_ms, tokens_valid_until_ms)
    return replaced


def rotate_refresh(token_hash: str, new_hash: str, now_ms: int) -> Work[RefreshOutcome]:
    """Use the token ``token_hash`` once: if it is fresh and its session live, mark it used
    and store ``new_hash`` as the session's next token."""
    _check_hash(token_hash)
    _check_hash(new_hash)
    rows = yield Query(
        "SELECT t.used_at_ms, "
        + ", ".join(f"s.{c.strip()}" for c in _COLUMNS.split(","))
        + " FROM api_refresh_tokens t JOIN api_sessions s ON s.session_id = t.session_id"
        " WHERE t.token_hash = $1",
        (token_hash,),
        lock="t",
    )
    if not rows:
        return Refused("unknown")
    used_at_ms, session = rows[0][0], _session(rows[0][1:])
    if session.revoked_at_ms is not None:
        return Refused("revoked", session)
    if session.expires_at_ms < now_ms:
        return Refused("expired", session)
    if used_at_ms is not None:
        return Reused(session)
    marked = yield Query(
        "UPDATE api_refresh_tokens SET used_at_ms = $2 WHERE token_hash = $1"
        " AND used_at_ms IS NULL RETURNING session_id",
        (token_hash, now_ms),
    )
    if not marked:  # a concurrent refresh used it first
        return Reused(session)
    yield Query(
        "INSERT INTO api_refresh_tokens (token_hash, session_id, issued_at_ms, used_at_ms)"
        " VALUES ($1, $2, $3, NULL)",
        (new_hash, session.session_id, now_ms),
    )
    yield Query(
        "UPDATE api_sessions SET last_used_at_ms = $2 WHERE session_id = $1",
        (session.session_id, now_ms),
    )
    yield Query(
        "DELETE FROM api_refresh_tokens WHERE token_hash IN (SELECT token_hash FROM"
        " api_refresh_tokens WHERE session_id = $1 ORDER BY issued_at_ms DESC, token_hash"
        f" LIMIT 1000 OFFSET {REFRESH_TOKENS_KEPT_PER_SESSION})",
        (session.session_id,),
    )
    return Rotated(msgspec.structs.replace(session, last_used_at_ms=now_ms))


def _revoke(
    session_id: str, player: str, reason: RevokeReason, now_ms: int, tokens_valid_until_ms: int
) -> Work[None]:
    yield Query(
        "UPDATE api_sessions SET revoked_at_ms = $2, revoked_reason = $3"
        " WHERE session_id = $1 AND revoked_at_ms IS NULL",
        (session_id, now_ms, reason),
    )
    yield from sessions.revoke_session(session_id, player, now_ms, tokens_valid_until_ms)


def revoke_session(
    session_id: str,
    player: str,
    reason: RevokeReason,
    now_ms: int,
    tokens_valid_until_ms: int,
    player_id: int | None = None,
) -> Work[ApiSession | None]:
    """End a session: no refresh from now on, and its access tokens (sid) are refused until
    ``tokens_valid_until_ms``. With ``player_id``, only a session of that player (else
    None). A session that is not an API session (a websocket login) is still revoked in
    ``revoked_sessions``; None is returned for it."""
    rows = yield Query(f"SELECT {_COLUMNS} FROM api_sessions WHERE session_id = $1", (session_id,))
    found = _session(rows[0]) if rows else None
    if found is not None and player_id is not None and found.player_id != player_id:
        return None
    if found is None and player_id is not None:
        return None
    yield from _revoke(session_id, player, reason, now_ms, tokens_valid_until_ms)
    return found


def get_session(session_id: str) -> Work[ApiSession | None]:
    rows = yield Query(f"SELECT {_COLUMNS} FROM api_sessions WHERE session_id = $1", (session_id,))
    return _session(rows[0]) if rows else None


def live_sessions(
    player_id: int, now_ms: int, before: tuple[int, str] | None, limit: int
) -> Work[list[ApiSession]]:
    """The player's live sessions (not revoked, not expired), newest first, paged by
    (created_at_ms, session_id) of the last one seen."""
    limit = max(1, min(limit, SESSIONS_PAGE_MAX))
    after = ""
    args: tuple[object, ...] = (player_id, now_ms, limit)
    if before is not None:
        after = " AND (created_at_ms < $4 OR (created_at_ms = $4 AND session_id < $5))"
        args = (*args, before[0], before[1])
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM api_sessions WHERE player_id = $1 AND revoked_at_ms IS NULL"
        f" AND expires_at_ms >= $2{after} ORDER BY created_at_ms DESC, session_id DESC"
        " LIMIT $3",
        args,
    )
    return [_session(row) for row in rows]


# -- re-sealing after a data key rotation (api/sessions.py reseal_sessions) --------------------

RESEAL_PAGE_MAX: Final = 500  # bound: sessions read per page; the caller pages on


@final
class SealedClient(msgspec.Struct, frozen=True):
    """A session's client fields as stored (sealed text, or empty)."""

    session_id: str
    address: str
    user_agent: str


def sealed_not_under(
    kid: str, after_session_id: str | None, limit: int
) -> Work[list[SealedClient]]:
    """Sessions with a client field stored and not sealed under the key ``kid``, in session
    id order, after ``after_session_id``: what a rotation leaves to reseal."""
    limit = max(1, min(limit, RESEAL_PAGE_MAX))
    # A prefix compared exactly (LIKE would take "_" in a key id for a wildcard, and SQLite's
    # LIKE ignores case).
    prefix = f"pd1.{kid}."
    n = len(prefix)
    rows = yield Query(
        "SELECT session_id, address, user_agent FROM api_sessions WHERE session_id > $1"
        f" AND ((address <> '' AND substr(address, 1, {n}) <> $2)"
        f" OR (user_agent <> '' AND substr(user_agent, 1, {n}) <> $2))"
        " ORDER BY session_id LIMIT $3",
        (after_session_id or "", prefix, limit),
    )
    return [SealedClient(row[0], row[1], row[2]) for row in rows]


def replace_sealed_client(was: SealedClient, now: SealedClient) -> Work[bool]:
    """Store ``now`` if the row still holds ``was`` (a concurrent change wins); whether it
    did."""
    if was.session_id != now.session_id:
        raise ValueError("one session's fields at a time")
    if max(len(now.user_agent), len(now.address)) > CLIENT_FIELD_CHARS_MAX:
        raise ValueError(f"a session's client fields are at most {CLIENT_FIELD_CHARS_MAX} chars")
    rows = yield Query(
        "UPDATE api_sessions SET address = $4, user_agent = $5 WHERE session_id = $1"
        " AND address = $2 AND user_agent = $3 RETURNING session_id",
        (was.session_id, was.address, was.user_agent, now.address, now.user_agent),
    )
    return bool(rows)
