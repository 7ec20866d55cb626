"""The audit log: who changed what through the admin API, when, and the record before and
after. Append-only (the schema refuses UPDATE and DELETE); read newest first, paged by id.

A change and its entry are one unit of work (:func:`audited`): the change's statements and the
entry's insert run in one transaction, so both land or neither does. A change that finds
nothing to change (no such player) says so with ``Change(logged=False)`` and is not logged; a
change that refuses (a ledger rule) raises, which rolls back everything, entry included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, final

import msgspec

from persistence.work import Query, Row, Work, one

T = TypeVar("T")

AUDIT_PAGE_MAX = 200  # bound: a larger page is clamped to this
AUDIT_TEXT_CHARS_MAX = 1_000  # bound on action, target and reason; longer is refused
AUDIT_RECORD_BYTES_MAX = 64_000  # bound on each before/after document; larger is refused

_json_encoder = msgspec.json.Encoder()


@final
class AuditEntry(msgspec.Struct, frozen=True):
    id: int
    at_ms: int
    subject: str  # who: the token's subject
    role: str
    action: str  # e.g. "players.ban", "wallet.adjust"
    target: str  # e.g. "player:42"
    reason: str
    request_id: str
    before: Any = None  # the changed record as JSON values, or None
    after: Any = None


@final
class AuditStamp(msgspec.Struct, frozen=True):
    """Who asks for a change, what it is and why: the parts of an entry known before it."""

    subject: str
    role: str
    action: str
    target: str
    reason: str
    request_id: str


@final
@dataclass(frozen=True, slots=True)
class Change(Generic[T]):
    """What a change did: its result for the caller, and the record before and after for the
    log. ``logged=False``: nothing was changed (say, no such row), so no entry is written."""

    result: T
    before: Any = None
    after: Any = None
    logged: bool = True


_COLUMNS = "id, at_ms, subject, role, action, target, reason, request_id, before_json, after_json"


def _document(value: Any) -> str | None:
    if value is None:
        return None
    text = _json_encoder.encode(value).decode()
    if len(text) > AUDIT_RECORD_BYTES_MAX:
        raise ValueError(f"audit record over {AUDIT_RECORD_BYTES_MAX} bytes")
    return text


def _entry(row: Row) -> AuditEntry:
    return AuditEntry(
        id=int(row[0]),
        at_ms=int(row[1]),
        subject=row[2],
        role=row[3],
        action=row[4],
        target=row[5],
        reason=row[6],
        request_id=row[7],
        before=msgspec.json.decode(row[8]) if row[8] is not None else None,
        after=msgspec.json.decode(row[9]) if row[9] is not None else None,
    )


def append_audit(
    *,
    at_ms: int,
    subject: str,
    role: str,
    action: str,
    target: str,
    reason: str,
    request_id: str,
    before: Any,
    after: Any,
) -> Work[AuditEntry]:
    for name, text in (("action", action), ("target", target), ("reason", reason)):
        if len(text) > AUDIT_TEXT_CHARS_MAX:
            raise ValueError(f"audit {name} over {AUDIT_TEXT_CHARS_MAX} characters")
    rows = yield Query(
        "INSERT INTO audit_log (at_ms, subject, role, action, target, reason, request_id,"
        " before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        f" RETURNING {_COLUMNS}",
        (
            at_ms,
            subject,
            role,
            action,
            target,
            reason,
            request_id,
            _document(before),
            _document(after),
        ),
    )
    return _entry(one(rows))


def append_stamped(stamp: AuditStamp, at_ms: int, before: Any, after: Any) -> Work[AuditEntry]:
    return append_audit(
        at_ms=at_ms,
        subject=stamp.subject,
        role=stamp.role,
        action=stamp.action,
        target=stamp.target,
        reason=stamp.reason,
        request_id=stamp.request_id,
        before=before,
        after=after,
    )


def audited(
    change: Callable[[], Work[Change[T]]], stamp: AuditStamp, at_ms: int
) -> Work[tuple[T, AuditEntry | None]]:
    """Run ``change`` and write its entry in the same unit of work: both or neither."""
    done = yield from change()
    if not done.logged:
        return done.result, None
    entry = yield from append_stamped(stamp, at_ms, done.before, done.after)
    return done.result, entry


def list_audit(target: str | None, before_id: int | None, limit: int) -> Work[list[AuditEntry]]:
    limit = max(1, min(limit, AUDIT_PAGE_MAX))
    conditions: list[str] = []
    args: list[str | int] = []
    if target is not None:
        args.append(target)
        conditions.append(f"target = ${len(args)}")
    if before_id is not None:
        args.append(before_id)
        conditions.append(f"id < ${len(args)}")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    args.append(limit)
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM audit_log{where} ORDER BY id DESC LIMIT ${len(args)}",
        tuple(args),
    )
    return [_entry(row) for row in rows]
