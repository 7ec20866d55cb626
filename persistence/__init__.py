"""Storage: one store interface over PostgreSQL and embedded SQLite (see docs/storage.md)."""

from persistence.accounts import Account, AccountExists
from persistence.audit import AuditEntry
from persistence.hands import HandPlayer, HandRecord, HandSummary
from persistence.ledger import AccountRef, LedgerAccount, LedgerAudit, PlayerLimits, TransferRecord
from persistence.migrations import MigrationError
from persistence.snapshots import Snapshot, SnapshotConflict
from persistence.store import Store, open_store

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
