"""API keys for partners and server-to-server use: units of work.

A key is stored as the SHA-256 of its secret (never the secret), with a short ``prefix`` that
names it in lists and logs. Keys are revoked, never deleted, so every audit entry that names
one keeps naming something. Creation and revocation write their audit entry in the same
transaction (persistence/audit.py ``append_audit``): both land or neither does.
"""

from __future__ import annotations

from typing import Any, Final, final

import msgspec

from persistence import audit
from persistence.work import Query, Row, Work, one

API_KEYS_PAGE_MAX: Final = 100
API_KEY_NAME_CHARS_MAX: Final = 100
SCOPES_PER_KEY_MAX: Final = 32
KEY_HASH_CHARS: Final = 64  # hex SHA-256


@final
class ApiKeyRecord(msgspec.Struct, frozen=True):
    id: int
    prefix: str  # the first characters of the key: how people tell keys apart
    name: str
    scopes: tuple[str, ...]
    player_id: int | None  # the account the key acts as (personal routes), or None
    requests_per_min: int
    created_at_ms: int
    created_by: str
    revoked_at_ms: int | None = None
    last_used_at_ms: int | None = None


@final
class AuditAs(msgspec.Struct, frozen=True):
    """Who asks for a change and why: the audit entry's fields known before the change."""

    subject: str
    role: str
    reason: str
    request_id: str


_COLUMNS = (
    "id, prefix, name, scopes, player_id, requests_per_min, created_at_ms, created_by,"
    " revoked_at_ms, last_used_at_ms"
)


def _key(row: Row) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=int(row[0]), prefix=row[1], name=row[2], scopes=tuple(row[3].split()),
        player_id=None if row[4] is None else int(row[4]), requests_per_min=int(row[5]),
        created_at_ms=int(row[6]), created_by=row[7],
        revoked_at_ms=None if row[8] is None else int(row[8]),
        last_used_at_ms=None if row[9] is None else int(row[9]),
    )  # fmt: skip


def _entry(key: ApiKeyRecord) -> Any:
    return msgspec.to_builtins(key)


def create_key(
    key_hash: str,
    prefix: str,
    name: str,
    scopes: tuple[str, ...],
    player_id: int | None,
    requests_per_min: int,
    now_ms: int,
    audit_as: AuditAs,
) -> Work[ApiKeyRecord]:
    if len(key_hash) != KEY_HASH_CHARS:
        raise ValueError("a key hash is a hex SHA-256")
    if not name or len(name) > API_KEY_NAME_CHARS_MAX:
        raise ValueError(f"a key name is 1-{API_KEY_NAME_CHARS_MAX} characters")
    if not scopes or len(scopes) > SCOPES_PER_KEY_MAX or any(" " in s or not s for s in scopes):
        raise ValueError(f"a key has 1-{SCOPES_PER_KEY_MAX} scopes without spaces")
    rows = yield Query(
        "INSERT INTO api_keys (key_hash, prefix, name, scopes, player_id, requests_per_min,"
        " created_at_ms, created_by, revoked_at_ms, last_used_at_ms)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL) RETURNING {_COLUMNS}",
        (
            key_hash, prefix, name, " ".join(scopes), player_id, requests_per_min, now_ms,
            audit_as.subject,
        ),
    )  # fmt: skip
    created = _key(one(rows))
    yield from _audit(audit_as, "api_keys.create", created, now_ms, None, _entry(created))
    return created


def revoke_key(key_id: int, now_ms: int, audit_as: AuditAs) -> Work[ApiKeyRecord | None]:
    """Revoke a key (None: no such key). Revoking a revoked key changes nothing and is not
    audited again."""
    rows = yield Query(f"SELECT {_COLUMNS} FROM api_keys WHERE id = $1", (key_id,), lock="api_keys")
    if not rows:
        return None
    before = _key(rows[0])
    if before.revoked_at_ms is not None:
        return before
    rows = yield Query(
        f"UPDATE api_keys SET revoked_at_ms = $2 WHERE id = $1 RETURNING {_COLUMNS}",
        (key_id, now_ms),
    )
    after = _key(one(rows))
    yield from _audit(audit_as, "api_keys.revoke", after, now_ms, _entry(before), _entry(after))
    return after


def _audit(
    audit_as: AuditAs, action: str, key: ApiKeyRecord, now_ms: int, before: Any, after: Any
) -> Work[None]:
    yield from audit.append_audit(
        at_ms=now_ms,
        subject=audit_as.subject,
        role=audit_as.role,
        action=action,
        target=f"api_key:{key.id}",
        reason=audit_as.reason,
        request_id=audit_as.request_id,
        before=before,
        after=after,
    )


def key_by_hash(key_hash: str) -> Work[ApiKeyRecord | None]:
    rows = yield Query(f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = $1", (key_hash,))
    return _key(rows[0]) if rows else None


def get_key(key_id: int) -> Work[ApiKeyRecord | None]:
    rows = yield Query(f"SELECT {_COLUMNS} FROM api_keys WHERE id = $1", (key_id,))
    return _key(rows[0]) if rows else None


def list_keys(after_id: int | None, limit: int) -> Work[list[ApiKeyRecord]]:
    limit = max(1, min(limit, API_KEYS_PAGE_MAX))
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM api_keys WHERE id > $1 ORDER BY id LIMIT $2",
        (after_id or 0, limit),
    )
    return [_key(row) for row in rows]


def mark_used(key_id: int, now_ms: int) -> Work[None]:
    yield Query("UPDATE api_keys SET last_used_at_ms = $2 WHERE id = $1", (key_id, now_ms))
