"""``tablium migrate``: apply pending database migrations and exit.

The server applies them at start-up too; this command lets an operator migrate before rolling
out new processes (two processes migrating at once are serialized by the database).
"""

from __future__ import annotations

import argparse
import sys

from server.commands.serve import add_config_argument
from server.config import ConfigError, load_settings


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(config_file=args.config)
    except ConfigError as exc:
        print(f"tablium: configuration error: {exc}", file=sys.stderr)
        return 2
    import trio

    from persistence.migrations import MigrationError
    from persistence.store import open_store

    url = settings.effective_database_url()

    async def migrate() -> list[int]:
        async with open_store(url, migrate=False) as store:
            return await store.migrate()

    try:
        applied = trio.run(migrate)
    except (MigrationError, OSError) as exc:
        print(f"tablium migrate: {exc}", file=sys.stderr)
        return 1
    where = url.split("@")[-1] if "@" in url else url  # never print a password
    if applied:
        print(f"applied migrations {', '.join(map(str, applied))} to {where}")
    else:
        print(f"{where} is up to date")
    return 0
