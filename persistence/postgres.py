"""The production backend: PostgreSQL through asyncpg, on a trio-asyncio loop.

A whole unit of work runs in one crossing into asyncio (``aio_as_trio``): acquire a pooled
connection, BEGIN, every statement, COMMIT. Crossings cost more than statements (see the
measured facts in ARCHITECTURE.md), so we never cross per statement.

Concurrency: READ COMMITTED plus explicit row locks (``lock`` -> ``FOR UPDATE OF``) taken in
id order. A deadlock or serialization failure PostgreSQL reports anyway is retried from the
start of the unit, a bounded number of times.

With a replica URL, units marked as tolerant of lag (``run_may_lag``) go to a second pool on a
streaming replica while it answers within REPLICA_TIMEOUT_S, else to the primary
(persistence/replica.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeVar, final

import asyncpg
import trio
import trio_asyncio

from persistence.ledger import AccountRef, TransferOutcome
from persistence.ledger_batch import TransferItem
from persistence.ledger_single import AccountCache, transfer_if_unchanged
from persistence.metrics import db_timer
from persistence.migrations import SCHEMA_MIGRATIONS_DDL, migrations_for, pending
from persistence.replica import REPLICA_FAILURES, REPLICA_TIMEOUT_S, ReplicaHealth, failure_reason
from persistence.store import Clock, Store
from persistence.work import Query, QueryMany, Row, WorkFactory

T = TypeVar("T")
RETRIES_MAX = 5  # deadlock / serialization failure: rerun the unit this often, then raise
STATEMENT_TIMEOUT_S = 30.0  # bound: a statement running longer fails (and its unit rolls back)
MIGRATION_LOCK_ID = 0x7AB1_1000  # advisory lock: two processes never migrate at once
_RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


@final
class _Connection(asyncpg.Connection):  # type: ignore[misc]
    """No reset query when a connection goes back to the pool.

    asyncpg's default (``RESET ALL; UNLISTEN *; CLOSE ALL; ...``) is one more round trip per
    operation. Our units leave no session state behind: no SET, LISTEN, cursors or session
    advisory locks (migrations take a transaction-scoped one). asyncpg still rolls back a
    transaction left open.
    """

    def get_reset_query(self) -> str:
        return ""


@final
class PostgresStore(Store):
    dialect = "postgres"

    def __init__(
        self,
        pool: asyncpg.Pool,
        loop: trio_asyncio.TrioEventLoop,
        clock_ms: Clock,
        replica_pool: asyncpg.Pool | None = None,
    ) -> None:
        super().__init__(clock_ms)
        self._pool = pool
        self._replica_pool = replica_pool
        # None without a replica; its served/fallbacks counts are per store (tests read them),
        # beside the process-wide metrics of persistence/replica.py.
        self.replica = ReplicaHealth(time.monotonic) if replica_pool is not None else None
        # Kept, not looked up per call: a task spawned before the loop opened (a gateway
        # session, say) does not see trio-asyncio's context variable, yet may use the store.
        self._loop = loop
        self.retries = 0  # units rerun after a deadlock or serialization failure (a metric)
        # Accounts as last seen, for transfers in one round trip (a hint: see ledger_single.py).
        self.account_cache = AccountCache()

    async def run(self, work: WorkFactory[T], *, read_only: bool = False) -> T:
        return await self._run(work, read_only, transaction=not read_only)

    async def run_may_lag(self, work: WorkFactory[T]) -> T:
        replica, pool = self.replica, self._replica_pool
        if replica is None or pool is None:
            return await self.run(work, read_only=True)
        if not replica.usable():
            replica.resting()
            return await self.run(work, read_only=True)
        try:
            with db_timer("postgres_replica", True).time():
                result: T = await self._loop.run_aio_coroutine(_on_replica(pool, work))
        except REPLICA_FAILURES as exc:
            replica.failed(failure_reason(exc))
            return await self.run(work, read_only=True)
        replica.succeeded()
        return result

    async def _run(self, work: WorkFactory[T], read_only: bool, *, transaction: bool) -> T:
        attempt = 0
        while True:
            try:
                with db_timer("postgres", read_only).time():
                    result: T = await self._loop.run_aio_coroutine(self._run_aio(work, transaction))
                return result
            except _RETRYABLE:
                attempt += 1
                self.retries += 1
                if attempt > RETRIES_MAX:
                    raise

    async def _run_aio(self, work: WorkFactory[T], transaction: bool) -> T:
        async with self._pool.acquire() as conn:
            if not transaction:  # autocommit: BEGIN and COMMIT would triple a lookup's trips
                return await _drive(conn, work)
            async with conn.transaction():
                return await _drive(conn, work)

    async def _transfer_in_one_statement(
        self, item: TransferItem, now_ms: int
    ) -> TransferOutcome | None:
        # No transaction around it: its one write is a single statement (ledger_single.py).
        request, _, check = item
        return await self._run(
            partial(transfer_if_unchanged, request, now_ms, check, self.account_cache),
            read_only=False,
            transaction=False,
        )

    def _ledger_moved(self, refs: Iterable[AccountRef]) -> None:
        self.account_cache.forget(refs)

    async def migrate(self) -> list[int]:
        result: list[int] = await self._loop.run_aio_coroutine(self._migrate_aio())
        return result

    async def _migrate_aio(self) -> list[int]:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_ID)
            await conn.execute(SCHEMA_MIGRATIONS_DDL)
            applied = {int(r[0]) for r in await conn.fetch("SELECT version FROM schema_migrations")}
            todo = pending(migrations_for("postgres"), applied)
            for migration in todo:
                await conn.execute(migration.sql)  # no arguments: a multi-statement script
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at_ms)"
                    " VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    self.clock_ms(),
                )
            return [m.version for m in todo]

    async def raw_connection_run(self, fn: Any, *args: Any) -> Any:
        """Run ``await fn(conn, *args)`` on a pooled connection (benchmarks' raw baseline)."""

        async def call() -> Any:
            async with self._pool.acquire() as conn:
                return await fn(conn, *args)

        return await self._loop.run_aio_coroutine(call())


async def _on_replica(pool: asyncpg.Pool, work: WorkFactory[T]) -> T:
    """One read-only unit on the replica, autocommit, all of it (connect too) within the bound."""

    async def unit() -> T:
        async with pool.acquire() as conn:
            return await _drive(conn, work)

    return await asyncio.wait_for(unit(), REPLICA_TIMEOUT_S)


async def _drive(conn: asyncpg.Connection, work: WorkFactory[T]) -> T:
    units = work()
    rows: list[Row] = []
    try:
        statement = next(units)
        while True:
            if isinstance(statement, Query):
                sql = statement.sql
                if statement.lock:
                    sql = f"{sql} FOR UPDATE OF {statement.lock}"
                rows = [tuple(r) for r in await conn.fetch(sql, *statement.args)]
            elif isinstance(statement, QueryMany):
                await conn.executemany(statement.sql, statement.args_list)
                rows = []
            statement = units.send(rows)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


@asynccontextmanager
async def open_postgres_store(
    url: str, clock_ms: Clock, pool_size: int, replica_url: str = ""
) -> AsyncIterator[PostgresStore]:
    """``replica_url``: a streaming replica for ``run_may_lag`` (empty: none). Its pool opens
    no connection up front, so a replica that is down at start-up delays nothing."""
    loop = trio_asyncio.current_loop.get()
    if loop is None:
        async with (
            trio_asyncio.open_loop() as own_loop,
            _pooled(url, own_loop, clock_ms, pool_size, replica_url) as store,
        ):
            yield store
    else:
        async with _pooled(url, loop, clock_ms, pool_size, replica_url) as store:
            yield store


@asynccontextmanager
async def _pooled(
    url: str,
    loop: trio_asyncio.TrioEventLoop,
    clock_ms: Clock,
    pool_size: int,
    replica_url: str,
) -> AsyncIterator[PostgresStore]:
    async def create(dsn: str, min_size: int, connect_timeout_s: float) -> asyncpg.Pool:
        return await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=pool_size,
            connection_class=_Connection,
            command_timeout=STATEMENT_TIMEOUT_S,
            timeout=connect_timeout_s,
        )

    pool = await loop.run_aio_coroutine(create(url, 1, 60.0))  # 60 s: asyncpg's default
    replica_pool: asyncpg.Pool | None = None
    try:
        if replica_url:
            replica_pool = await loop.run_aio_coroutine(create(replica_url, 0, REPLICA_TIMEOUT_S))
        yield PostgresStore(pool, loop, clock_ms, replica_pool)
    finally:
        with trio.CancelScope(shield=True):
            if replica_pool is not None:
                await loop.run_aio_coroutine(replica_pool.close())
            await loop.run_aio_coroutine(pool.close())
