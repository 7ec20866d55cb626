"""``tablium restore FILE``: restore a backup into the configured (empty) database.

Then applies any migrations newer than the backup and audits the ledger, so the command
ends with the answer that matters: every chip accounted for, or not (exit status 1).
Stop every server on the target database first; start them once this succeeds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.commands.settings_args import (
    CONFIG_ERROR_EXIT,
    add_config_argument,
    settings_from_args,
)


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument(
        "backup", type=Path, metavar="FILE", help="a file written by tablium backup"
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, with_jwt_secret=False)
    if settings is None:
        return CONFIG_ERROR_EXIT
    import trio

    from persistence import open_store
    from persistence.backup import BackupError, restore_database
    from persistence.ledger import LedgerAudit
    from persistence.migrations import MigrationError

    url = settings.effective_database_url()
    where = url.split("@")[-1] if "@" in url else url  # never print a password
    try:
        kind = restore_database(url, args.backup)
    except BackupError as exc:
        print(f"tablium restore: {exc}", file=sys.stderr)
        return 1

    async def migrate_and_audit() -> tuple[list[int], LedgerAudit]:
        async with open_store(url, migrate=False) as store:
            applied = await store.migrate()
            return applied, await store.ledger_audit()

    try:
        applied, audit = trio.run(migrate_and_audit)
    except (MigrationError, OSError) as exc:
        print(f"tablium restore: restored, but migrating failed: {exc}", file=sys.stderr)
        return 1
    print(f"restored the {kind} backup {args.backup} into {where}")
    if applied:
        print(f"applied migrations {', '.join(map(str, applied))}")
    verdict = "consistent" if audit.consistent else "INCONSISTENT"
    print(
        f"ledger audit: {verdict} (accounts {audit.accounts}, transfers {audit.transfers},"
        f" total balance {audit.total_balance}, overdrawn {audit.overdrawn_accounts},"
        f" mismatched {audit.mismatched_accounts})"
    )
    return 0 if audit.consistent else 1
