"""Responses kept for the public API's ``Idempotency-Key``: units of work.

A POST with a key first *claims* it (a row with status 0, held for a lease); the first
response, when it succeeds, is stored in that row and replayed to every retry with the same
key and the same request until the record expires. A refused or failed first request releases
its claim, so a retry runs again (as the wallet does: a refused transfer stores nothing).

Keys are per principal (``player:42``, ``api_key:7``): one client's keys never meet
another's. Expired rows are deleted EXPIRED_PURGED_PER_WRITE at a time, at each claim.
"""

from __future__ import annotations

from typing import Final, final

import msgspec

from persistence.work import Query, Work

IDEMPOTENCY_KEY_CHARS_MAX: Final = 64  # as the websocket's wallet keys
RESPONSE_BYTES_MAX: Final = 65_536  # a larger response is not kept (ValueError)
EXPIRED_PURGED_PER_WRITE: Final = 20
IN_PROGRESS: Final = 0  # status of a claimed key whose first request still runs


@final
class StoredResponse(msgspec.Struct, frozen=True):
    status: int
    content_type: str
    location: str  # "" when the response had no Location header
    body: bytes


@final
class Claimed(msgspec.Struct, frozen=True):
    """The key is new (or its record expired): this request runs, and owns the claim."""


@final
class Replay(msgspec.Struct, frozen=True):
    response: StoredResponse


@final
class Conflict(msgspec.Struct, frozen=True):
    """The key was used for a different request."""


@final
class InProgress(msgspec.Struct, frozen=True):
    """The first request with this key has not finished yet."""


ClaimOutcome = Claimed | Replay | Conflict | InProgress


def claim(
    principal: str, key: str, request_hash: str, now_ms: int, lease_ms: int
) -> Work[ClaimOutcome]:
    if not key or len(key) > IDEMPOTENCY_KEY_CHARS_MAX:
        raise ValueError(f"an idempotency key is 1-{IDEMPOTENCY_KEY_CHARS_MAX} characters")
    yield Query(
        "DELETE FROM api_idempotency WHERE (principal, idempotency_key) IN (SELECT principal,"
        " idempotency_key FROM api_idempotency WHERE expires_at_ms < $1 ORDER BY"
        f" expires_at_ms LIMIT {EXPIRED_PURGED_PER_WRITE})",
        (now_ms,),
    )
    inserted = yield Query(
        "INSERT INTO api_idempotency (principal, idempotency_key, request_hash, status,"
        " content_type, location, body, created_at_ms, expires_at_ms)"
        " VALUES ($1, $2, $3, $4, '', '', $5, $6, $7)"
        " ON CONFLICT (principal, idempotency_key) DO NOTHING RETURNING status",
        (principal, key, request_hash, IN_PROGRESS, b"", now_ms, now_ms + lease_ms),
    )
    if inserted:
        return Claimed()
    rows = yield Query(
        "SELECT request_hash, status, content_type, location, body, expires_at_ms"
        " FROM api_idempotency WHERE principal = $1 AND idempotency_key = $2",
        (principal, key),
        lock="api_idempotency",
    )
    if not rows:  # deleted between the two statements (SQLite cannot: one writer)
        return InProgress()
    stored_hash, status, content_type, location, body, expires_at_ms = rows[0]
    if int(expires_at_ms) < now_ms:  # an abandoned claim or an old record: start over
        yield Query(
            "UPDATE api_idempotency SET request_hash = $3, status = $4, content_type = '',"
            " location = '', body = $5, created_at_ms = $6, expires_at_ms = $7"
            " WHERE principal = $1 AND idempotency_key = $2",
            (principal, key, request_hash, IN_PROGRESS, b"", now_ms, now_ms + lease_ms),
        )
        return Claimed()
    if stored_hash != request_hash:
        return Conflict()
    if int(status) == IN_PROGRESS:
        return InProgress()
    return Replay(StoredResponse(int(status), content_type, location, bytes(body)))


def complete(
    principal: str, key: str, response: StoredResponse, now_ms: int, keep_ms: int
) -> Work[None]:
    if len(response.body) > RESPONSE_BYTES_MAX:
        raise ValueError(f"a kept response is at most {RESPONSE_BYTES_MAX} bytes")
    yield Query(
        "UPDATE api_idempotency SET status = $3, content_type = $4, location = $5, body = $6,"
        " expires_at_ms = $7 WHERE principal = $1 AND idempotency_key = $2 AND status = $8",
        (
            principal, key, response.status, response.content_type, response.location,
            response.body, now_ms + keep_ms, IN_PROGRESS,
        ),
    )  # fmt: skip


def release(principal: str, key: str) -> Work[None]:
    yield Query(
        "DELETE FROM api_idempotency WHERE principal = $1 AND idempotency_key = $2 AND status = $3",
        (principal, key, IN_PROGRESS),
    )
