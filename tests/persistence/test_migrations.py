"""Migration files: numbered without gaps, one per backend per number; applied at open."""

from __future__ import annotations

from pathlib import Path

import pytest

from persistence.migrations import DIALECTS, Migration, MigrationError, migrations_for, pending
from persistence.store import open_store


def test_every_backend_has_the_same_numbered_migrations() -> None:
    numbered = {d: [(m.version, m.name) for m in migrations_for(d)] for d in DIALECTS}
    assert numbered["sqlite"] == numbered["postgres"]
    assert [v for v, _ in numbered["sqlite"]] == list(range(1, len(numbered["sqlite"]) + 1))


def test_a_database_newer_than_the_code_is_refused() -> None:
    known = [Migration(1, "initial", "")]
    assert pending(known, set()) == known
    assert pending(known, {1}) == []
    with pytest.raises(MigrationError):
        pending(known, {1, 2})


async def test_opening_a_sqlite_file_creates_it_and_migrates_once(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "db.sqlite3"
    async with open_store(f"sqlite:///{path}", migrate=False) as store:
        assert await store.migrate() == [m.version for m in migrations_for("sqlite")]
    assert path.exists()
    async with open_store(f"sqlite:///{path}") as store:
        assert await store.migrate() == []
