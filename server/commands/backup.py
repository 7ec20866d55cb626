"""``tablium backup --out FILE``: a consistent backup of the configured database.

Safe while the server runs (persistence/backup.py says how, for each backend). The file is a
SQLite database (embedded backend) or a pg_dump custom-format archive (PostgreSQL); restore
it with ``tablium restore FILE`` (server/commands/restore.py).
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
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="where to write the backup (must not exist; written as FILE.partial, then renamed)",
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, with_jwt_secret=False)
    if settings is None:
        return CONFIG_ERROR_EXIT
    from persistence.backup import BackupError, backup_database

    try:
        info = backup_database(settings.effective_database_url(), args.out)
    except BackupError as exc:
        print(f"tablium backup: {exc}", file=sys.stderr)
        return 1
    print(f"backed up the {info.kind} database to {info.path} ({info.size_bytes} bytes)")
    return 0
