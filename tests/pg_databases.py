"""Whole PostgreSQL databases for tests that need one of their own (backups, restores).

Most tests share this run's database (tests/conftest.py, a schema each); a restore needs an
empty database. Created and dropped with asyncio.run, so only from sync fixtures (before
trio runs), like the ``postgres_url`` fixture.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import PG_ADMIN_URL, RUN_ID, _admin_execute, _with_database


@pytest.fixture
def new_pg_database() -> Iterator[Callable[[], str]]:
    """Call it to create an empty database; returns its URL. All are dropped afterwards."""
    created: list[str] = []

    def create() -> str:
        name = f"tablium_test_{RUN_ID}_{secrets.token_hex(3)}"
        asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return _with_database(PG_ADMIN_URL, name)

    yield create
    for name in created:
        asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
