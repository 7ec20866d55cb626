"""``tablium migrate``: apply pending database migrations and exit.

The server applies them at start-up too; this command lets an operator migrate before rolling
out new processes (two processes migrating at once are serialized by the database).
"""

from __future__ import annotations

import argparse
import sys

from server.commands.settings_args import (
    CONFIG_ERROR_EXIT,
    add_config_argument,
    settings_from_args,
)


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, with_jwt_secret=False)
    if settings is None:
        return CONFIG_ERROR_EXIT
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
