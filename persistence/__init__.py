"""Storage: one store interface over PostgreSQL and embedded SQLite (see docs/storage.md).

The names below are loaded when first used (PEP 562), not when the package is: a pure
module that needs one record type (``persistence.hands.HandRecord`` for the table's core)
must not pull the store, its drivers and trio in with the package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from persistence.accounts import Account, AccountExists
    from persistence.audit import AuditEntry
    from persistence.hands import HandPlayer, HandRecord, HandSummary
    from persistence.ledger import (
        AccountRef,
        LedgerAccount,
        LedgerAudit,
        PlayerLimits,
        TransferRecord,
    )
    from persistence.migrations import MigrationError
    from persistence.snapshots import Snapshot, SnapshotConflict
    from persistence.store import Store, open_store

# Name -> the module that defines it.
_HOMES: Final = {
    "Account": "persistence.accounts",
    "AccountExists": "persistence.accounts",
    "AuditEntry": "persistence.audit",
    "HandPlayer": "persistence.hands",
    "HandRecord": "persistence.hands",
    "HandSummary": "persistence.hands",
    "AccountRef": "persistence.ledger",
    "LedgerAccount": "persistence.ledger",
    "LedgerAudit": "persistence.ledger",
    "PlayerLimits": "persistence.ledger",
    "TransferRecord": "persistence.ledger",
    "MigrationError": "persistence.migrations",
    "Snapshot": "persistence.snapshots",
    "SnapshotConflict": "persistence.snapshots",
    "Store": "persistence.store",
    "open_store": "persistence.store",
}

__all__ = [
    "Account",
    "AccountExists",
    "AccountRef",
    "AuditEntry",
    "HandPlayer",
    "HandRecord",
    "HandSummary",
    "LedgerAccount",
    "LedgerAudit",
    "MigrationError",
    "PlayerLimits",
    "Snapshot",
    "SnapshotConflict",
    "Store",
    "TransferRecord",
    "open_store",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'persistence' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next lookup is a plain one
    return value
