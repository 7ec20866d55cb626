"""Fixtures shared by the whole suite.

Tests that need PostgreSQL or Redis talk to real servers (``make test`` starts them). Each
pytest run creates its own database, and its own Redis key prefix, so runs cannot collide.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis
from hypothesis import HealthCheck, settings

from persistence.store import Store, open_store
from tests.persistence.stores import store_url

PG_ADMIN_URL = os.environ.get(
    "TABLIUM_TEST_PG_ADMIN_URL", "postgresql://tablium:tablium@127.0.0.1:5432/postgres"
)
# A streaming replica of that server (scripts/ensure-services.sh makes it): read-only, it
# holds whatever the primary holds, this run's database included, by replication.
PG_REPLICA_ADMIN_URL = os.environ.get(
    "TABLIUM_TEST_PG_REPLICA_ADMIN_URL", "postgresql://tablium:tablium@127.0.0.1:5433/postgres"
)
REPLICA_DATABASE_WAIT_S = 30.0  # bound: the run's CREATE DATABASE reaches the replica by then
REDIS_URL = os.environ.get("TABLIUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("TABLIUM_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
RUN_ID = f"{os.getpid()}_{secrets.token_hex(4)}"

# Hypothesis's timing checks off for the whole suite: how fast inputs are made or a test
# runs is the machine's load, not the code's correctness (a loaded CI run failed on "input
# generation is slow", 2 inputs in 1.1 s). Performance is measured by the benchmarks. A
# test's own @settings still sets what it names; failures print their reproduction.
settings.register_profile("tablium", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tablium")


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to test a stale mypyc build of poker/ (setup.py): the compiled modules sit next
    to their sources and shadow them, and they inline Final constants of the other modules,
    so any poker/*.py edited after the build means the tests would not run the edited code."""
    poker_dir = Path(__file__).parent.parent / "poker"
    built = [path.stat().st_mtime for path in poker_dir.glob("*.so")]
    if not built:
        return  # pure Python
    edited = [p.name for p in poker_dir.glob("*.py") if p.stat().st_mtime > min(built)]
    if edited:
        raise pytest.UsageError(
            f"poker/ changed after its mypyc build ({', '.join(sorted(edited))}): run make "
            "test, or .venv/bin/pip install -e . (TABLIUM_PURE=1 for pure Python)"
        )


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def _admin_execute(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database created for this pytest run and dropped after it."""
    name = f"tablium_test_{RUN_ID}"
    try:
        asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        raise RuntimeError(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc}); run the suite with"
            " 'make test', which starts it"
        ) from exc
    yield _with_database(PG_ADMIN_URL, name)
    asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def backend() -> str:
    """The store's backend for a harness's ``store`` (the admin and API harnesses): SQLite,
    unless a test parametrizes ``backend`` over BACKENDS (tests/persistence/stores.py), as the
    club tests do, to run on PostgreSQL too."""
    return "sqlite"


@pytest.fixture
def postgres_base_url(backend: str, request: pytest.FixtureRequest) -> str:
    """This run's PostgreSQL database for a test on it, else "" (and none is created). A
    sync fixture: the session's ``postgres_url`` is made with asyncio.run, outside trio."""
    return str(request.getfixturevalue("postgres_url")) if backend == "postgres" else ""


@pytest.fixture
async def store_on_backend(
    backend: str, tmp_path: Path, postgres_base_url: str
) -> AsyncIterator[Store]:
    """A fresh store on ``backend``, private to the test."""
    async with open_store(await store_url(backend, tmp_path, postgres_base_url)) as opened:
        yield opened


async def _replica_has(database: str) -> bool:
    conn = await asyncpg.connect(PG_REPLICA_ADMIN_URL)
    try:
        found = await conn.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", database)
        return bool(found)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def replica_url(postgres_url: str) -> str:
    """This run's database (``postgres_url``) as the streaming replica serves it. Creates
    nothing: the database arrives by replication, which this waits for (bounded)."""
    name = urlsplit(postgres_url).path.lstrip("/")
    deadline = time.monotonic() + REPLICA_DATABASE_WAIT_S
    try:
        while not asyncio.run(_replica_has(name)):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"database {name} did not reach the replica at {PG_REPLICA_ADMIN_URL}"
                    f" within {REPLICA_DATABASE_WAIT_S} s: is it streaming?"
                )
            time.sleep(0.05)  # polling for replication, bounded above
    except OSError as exc:
        raise RuntimeError(
            f"the PostgreSQL replica is not reachable at {PG_REPLICA_ADMIN_URL} ({exc}); run the"
            " suite with 'make test', which makes and starts it"
        ) from exc
    return _with_database(PG_REPLICA_ADMIN_URL, name)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """RabbitMQ on loopback (``make test`` starts it). Tests isolate themselves by naming
    their own exchange and queues (tests/persistence/amqp_tools.py)."""
    parts = urlsplit(AMQP_URL)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), 2).close()
    except OSError as exc:
        raise RuntimeError(
            f"RabbitMQ is not reachable at {parts.hostname}:{parts.port} ({exc}); run the suite"
            " with 'make test', which starts it"
        ) from exc
    return AMQP_URL


@pytest.fixture(scope="session")
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix owned by this pytest run; every key under it is deleted afterwards."""
    prefix = f"tablium-test:{RUN_ID}:"
    client = redis.Redis.from_url(redis_url)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        raise RuntimeError(
            f"Redis is not reachable at {redis_url} ({exc}); run the suite with 'make test',"
            " which starts it"
        ) from exc
    yield prefix
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)
    client.close()
