"""Player accounts (login identities): records, errors and their units of work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, final

import msgspec

from persistence.audit import Change
from persistence.work import Query, Row, Work, one

ACCOUNT_NAME_CHARS_MAX = 64  # bound: longer names are refused (ValueError), not truncated
ROLE_CHARS_MAX = 32  # roles are named by the gateway ("player", "admin", ...); bounded here


@final
class Account(msgspec.Struct, frozen=True):
    id: int
    name: str
    password_hash: str
    role: str
    banned: bool
    created_at: datetime


class AccountExists(Exception):
    """The name (compared case-insensitively) already belongs to an account."""

    code = "account_exists"

    def __init__(self, name: str) -> None:
        super().__init__(f"an account named {name!r} already exists")
        self.name = name


def fold_name(name: str) -> str:
    # Names are unique ignoring case, so "Alice" cannot impersonate "alice" at a table.
    return name.casefold()


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


_COLUMNS = "id, name, password_hash, role, banned, created_at_ms"


def _account(row: Row) -> Account:
    return Account(
        id=int(row[0]),
        name=row[1],
        password_hash=row[2],
        role=row[3],
        banned=bool(row[4]),
        created_at=ms_to_datetime(int(row[5])),
    )


# For units of work in other modules that read accounts (persistence/sessions.py).
ACCOUNT_COLUMNS = _COLUMNS
account_from_row = _account


def create_account(name: str, password_hash: str, role: str, now_ms: int) -> Work[Account]:
    if not name or len(name) > ACCOUNT_NAME_CHARS_MAX:
        raise ValueError(f"account name must be 1-{ACCOUNT_NAME_CHARS_MAX} characters")
    if not role or len(role) > ROLE_CHARS_MAX:
        raise ValueError(f"role must be 1-{ROLE_CHARS_MAX} characters")
    rows = yield Query(
        "INSERT INTO accounts (name, name_folded, password_hash, role, banned, created_at_ms)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        f" ON CONFLICT (name_folded) DO NOTHING RETURNING {_COLUMNS}",
        (name, fold_name(name), password_hash, role, False, now_ms),
    )
    if not rows:
        raise AccountExists(name)
    account = _account(one(rows))
    # Every account has a profile, its display name at first its name (persistence/profiles.py):
    # a name another player shows as her display name is taken too.
    shown = yield Query(
        "INSERT INTO player_profiles (player_id, display_name, display_name_key, updated_at_ms)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (display_name_key) DO NOTHING RETURNING player_id",
        (account.id, name, fold_name(name), now_ms),
    )
    if not shown:
        raise AccountExists(name)
    return account


def get_account_by_name(name: str) -> Work[Account | None]:
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM accounts WHERE name_folded = $1", (fold_name(name),)
    )
    return _account(rows[0]) if rows else None


def get_account(account_id: int) -> Work[Account | None]:
    rows = yield Query(f"SELECT {_COLUMNS} FROM accounts WHERE id = $1", (account_id,))
    return _account(rows[0]) if rows else None


def set_banned(account_id: int, banned: bool) -> Work[Account | None]:
    rows = yield Query(
        f"UPDATE accounts SET banned = $2 WHERE id = $1 RETURNING {_COLUMNS}",
        (account_id, banned),
    )
    return _account(rows[0]) if rows else None


def account_record(account: Account) -> dict[str, Any]:
    """An account as the audit log records it: never the password hash."""
    return {
        "id": account.id,
        "name": account.name,
        "role": account.role,
        "banned": account.banned,
        "created_at": msgspec.to_builtins(account.created_at),
    }


def set_banned_change(account_id: int, banned: bool) -> Work[Change[Account | None]]:
    """Ban or lift a ban, as an audited change (audit.audited): the account before and after.

    The row is locked first (PostgreSQL), so "before" is what the update replaces."""
    rows = yield Query(f"SELECT {_COLUMNS} FROM accounts a WHERE id = $1", (account_id,), lock="a")
    if not rows:
        return Change(None, logged=False)
    before = _account(rows[0])
    after = yield from set_banned(account_id, banned)
    assert after is not None, "a locked account vanished"
    return Change(after, before=account_record(before), after=account_record(after))


def set_password_hash(account_id: int, password_hash: str) -> Work[Account | None]:
    rows = yield Query(
        f"UPDATE accounts SET password_hash = $2 WHERE id = $1 RETURNING {_COLUMNS}",
        (account_id, password_hash),
    )
    return _account(rows[0]) if rows else None


ACCOUNTS_PAGE_MAX = 100  # bound: a larger page is clamped to this


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def search_accounts(prefix: str, after_id: int | None, limit: int) -> Work[list[Account]]:
    """Accounts whose name starts with ``prefix`` (ignoring case), in id order, paged."""
    limit = max(1, min(limit, ACCOUNTS_PAGE_MAX))
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM accounts WHERE name_folded LIKE $1 ESCAPE '\\' AND id > $2"
        " ORDER BY id LIMIT $3",
        (_like_prefix(fold_name(prefix)), after_id or 0, limit),
    )
    return [_account(row) for row in rows]
