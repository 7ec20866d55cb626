"""Numbered SQL migrations: ``migrations/NNNN_name.<dialect>.sql``, one file per backend.

Each number exists for every dialect (checked by the test suite); a migration is applied once,
in order, inside a transaction, and recorded in ``schema_migrations``. The backends apply them
(``Store.migrate``), at start-up and from ``tablium migrate``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal, final

Dialect = Literal["sqlite", "postgres"]
DIALECTS: tuple[Dialect, ...] = ("sqlite", "postgres")
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(sqlite|postgres)\.sql$")

SCHEMA_MIGRATIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)"
)


class MigrationError(Exception):
    """The migration files or the database's migration record are inconsistent (operator)."""


@final
@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations_for(dialect: Dialect) -> list[Migration]:
    """Every migration for one backend, in order; numbers must run 1, 2, 3... without gaps."""
    found: list[Migration] = []
    for entry in resources.files("persistence").joinpath("migrations").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None or match.group(3) != dialect:
            continue
        found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    expected = list(range(1, len(found) + 1))
    if [m.version for m in found] != expected:
        raise MigrationError(f"{dialect} migrations must be numbered 1..N without gaps")
    return found


def pending(all_migrations: list[Migration], applied: set[int]) -> list[Migration]:
    unknown = applied - {m.version for m in all_migrations}
    if unknown:
        # The database was migrated by a newer Tablium: running old code on it is unsafe.
        raise MigrationError(
            f"database has migration {max(unknown)} that this version does not know; upgrade"
        )
    return [m for m in all_migrations if m.version not in applied]
