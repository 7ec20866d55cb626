"""A fresh store per test on either backend (shared by tests/persistence and tests/services).

SQLite lives in the test's tmp_path; PostgreSQL gets a schema of its own inside this run's
database (the ``postgres_url`` fixture), so no test ever sees another test's rows.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from persistence.store import Store, open_store
from persistence.work import Query, Work

BACKENDS = ["sqlite", "postgres"]
DAY_MS = 86_400_000


@dataclass
class ManualClock:
    """The store's clock in tests: milliseconds that move only when the test says so."""

    now_ms: int = 1_750_000_000_000

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms


def _create_schema(name: str) -> Work[None]:
    yield Query(f'CREATE SCHEMA IF NOT EXISTS "{name}"')


async def store_url(backend: str, tmp_path: Path, postgres_url: str) -> str:
    """A URL naming an empty database of the given backend, private to this test.

    ``postgres_url`` is the session fixture, which tests must request as an argument: it is
    created with asyncio.run, which cannot run once trio (and trio-asyncio) are running.
    """
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'tablium.sqlite3'}"
    base_url = postgres_url
    schema = f"test_{secrets.token_hex(6)}"
    async with open_store(base_url, migrate=False, pool_size=1) as admin:
        await admin.run(lambda: _create_schema(schema))
    return f"{base_url}?search_path={schema}"


@asynccontextmanager
async def fresh_store(
    backend: str,
    tmp_path: Path,
    postgres_url: str,
    clock: ManualClock | None = None,
    pool_size: int = 10,
) -> AsyncIterator[Store]:
    url = await store_url(backend, tmp_path, postgres_url)
    async with open_store(url, clock_ms=clock or ManualClock(), pool_size=pool_size) as store:
        yield store
