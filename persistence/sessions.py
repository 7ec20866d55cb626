"""Revoked sessions (logout, ban): units of work over ``revoked_sessions``.

A revoked session's tokens are refused until they would have expired anyway; the row is
kept until then (``expires_at_ms``) and deleted afterwards, at most
REVOCATIONS_PURGED_PER_WRITE per new revocation, so the table stays as small as the set of
tokens that could still be used.
"""

from __future__ import annotations

from typing import Final

from persistence.accounts import ACCOUNT_COLUMNS, Account, account_from_row, fold_name
from persistence.work import Query, Work

SESSION_ID_CHARS_MAX: Final = 128  # bound: ours are 16; longer ids are refused (ValueError)
REVOCATIONS_PURGED_PER_WRITE: Final = 100


def revoke_session(session_id: str, player: str, now_ms: int, expires_at_ms: int) -> Work[None]:
    if not session_id or len(session_id) > SESSION_ID_CHARS_MAX:
        raise ValueError(f"a session id is 1-{SESSION_ID_CHARS_MAX} characters")
    yield Query(
        "INSERT INTO revoked_sessions (session_id, player, revoked_at_ms, expires_at_ms)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (session_id) DO UPDATE"
        " SET expires_at_ms = excluded.expires_at_ms"
        " WHERE revoked_sessions.expires_at_ms < excluded.expires_at_ms",
        (session_id, player, now_ms, expires_at_ms),
    )
    yield Query(
        "DELETE FROM revoked_sessions WHERE session_id IN (SELECT session_id FROM"
        " revoked_sessions WHERE expires_at_ms < $1 ORDER BY expires_at_ms LIMIT $2)",
        (now_ms, REVOCATIONS_PURGED_PER_WRITE),
    )


def token_login(name: str, session_id: str, now_ms: int) -> Work[tuple[Account | None, bool]]:
    """What a token login needs, in one unit: the account (None if there is none) and
    whether the session was revoked."""
    rows = yield Query(
        f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name_folded = $1", (fold_name(name),)
    )
    revoked = yield Query(
        "SELECT 1 FROM revoked_sessions WHERE session_id = $1 AND expires_at_ms >= $2",
        (session_id, now_ms),
    )
    return (account_from_row(rows[0]) if rows else None), bool(revoked)
