"""Who may do what through the admin API: roles, permissions, and the table that joins them.

The table is the whole policy (STYLE.md point 2): a route names one permission, and a role
has it or not. docs/admin.md prints the same table for people.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Role(StrEnum):
    PLAYER = "player"
    SUPPORT = "support"
    DIRECTOR = "director"
    ADMIN = "admin"


class Permission(StrEnum):
    SERVER_READ = "server:read"  # server info, readiness detail
    ACTORS_READ = "actors:read"  # the live actor tree
    TABLES_READ = "tables:read"
    TABLES_WRITE = "tables:write"  # create, pause, resume, close
    TOURNAMENTS_READ = "tournaments:read"  # list, detail, standings, results and their export
    TOURNAMENTS_WRITE = "tournaments:write"  # create, start, cancel, clock, entries, tables
    PLAYERS_READ = "players:read"
    PLAYERS_BAN = "players:ban"
    PLAYERS_RENAME = "players:rename"  # replace an offensive display name; audited
    WALLET_READ = "wallet:read"
    WALLET_ADJUST = "wallet:adjust"  # always with a reason, always audited
    LEDGER_READ = "ledger:read"  # the ledger audit: sums, escrows, prize pools
    HANDS_READ = "hands:read"
    AUDIT_READ = "audit:read"
    API_KEYS_READ = "api_keys:read"  # partners' keys for the public API
    API_KEYS_WRITE = "api_keys:write"  # create (shown once) and revoke; audited
    INTEGRITY_READ = "integrity:read"  # chip-dumping flags, collusion signals, their hands
    INTEGRITY_REVIEW = "integrity:review"  # dismiss, confirm, ban from a flag; audited
    CLUBS_READ = "clubs:read"  # a club, its members, benefits, tables and statistics
    CLUBS_WRITE = "clubs:write"  # a club's deal, bans, tables; audited
    RAKEBACK_READ = "rakeback:read"  # previews, verification, statements
    RAKEBACK_RUN = "rakeback:run"  # distribute a period: moves money; audited


_STAFF_COMMON: Final = frozenset(
    {
        Permission.SERVER_READ,
        Permission.TABLES_READ,
        Permission.TOURNAMENTS_READ,
        Permission.PLAYERS_READ,
        Permission.HANDS_READ,
    }
)

ROLE_PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    # Players use the websocket protocol; the admin API grants them nothing.
    Role.PLAYER: frozenset(),
    # Support staff look after players and their money.
    Role.SUPPORT: _STAFF_COMMON
    | {
        Permission.PLAYERS_BAN,
        Permission.PLAYERS_RENAME,
        Permission.WALLET_READ,
        Permission.WALLET_ADJUST,
        Permission.LEDGER_READ,
        Permission.INTEGRITY_READ,
        Permission.INTEGRITY_REVIEW,
        Permission.CLUBS_READ,
        Permission.RAKEBACK_READ,
    },
    # Directors run the room: tables, tournaments and the live system.
    Role.DIRECTOR: _STAFF_COMMON
    | {
        Permission.ACTORS_READ,
        Permission.TABLES_WRITE,
        Permission.TOURNAMENTS_WRITE,
        Permission.INTEGRITY_READ,
        Permission.CLUBS_READ,
        Permission.CLUBS_WRITE,
    },
    Role.ADMIN: frozenset(Permission),
}


def allows(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
