"""The production backend: PostgreSQL through asyncpg, on a trio-asyncio loop.

A whole unit of work runs in one crossing into asyncio (``aio_as_trio``): acquire a pooled
connection, BEGIN, every statement, COMMIT. Crossings cost more than statements (see the
measured facts in ARCHITECTURE.md), so we never cross per statement.

Concurrency: READ COMMITTED plus explicit row locks (``lock`` -> ``FOR UPDATE OF``) taken in
id order. A deadlock or serialization failure PostgreSQL reports anyway is retried from the
start of the unit, a bounded number of times.

PostgreSQL unreachable (restarting, failing over, a cut route: refused or broken connections,
``57P0x`` shutdown errors) is retried from the start of the unit with a backoff, for at most
UNAVAILABLE_RETRY_S, then StoreUnavailable is raised. A unit whose connection broke while
its COMMIT was under way is not retried (it may have landed): StoreUnavailable at once. A
unit that failed before COMMIT was rolled back by the server with its connection.

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
import structlog
import trio
import trio_asyncio

from persistence.ledger import AccountRef, TransferOutcome
from persistence.ledger_batch import TransferItem
from persistence.ledger_single import AccountCache, transfer_if_unchanged
from persistence.metrics import db_timer
from persistence.migrations import SCHEMA_MIGRATIONS_DDL, migrations_for, pending
from persistence.replica import (
    REPLICA_FAILURES,
    REPLICA_MAX_LAG_MS_DEFAULT,
    REPLICA_TIMEOUT_S,
    ReplicaHealth,
    ReplicaLag,
    failure_reason,
    parse_lsn,
)
from persistence.store import Clock, Store, StoreUnavailable
from persistence.work import Query, QueryMany, Row, Work, WorkFactory

log = structlog.get_logger("tablium.store")

T = TypeVar("T")
RETRIES_MAX = 5  # deadlock / serialization failure: rerun the unit this often, then raise
STATEMENT_TIMEOUT_S = 30.0  # bound: a statement running longer fails (and its unit rolls back)
MIGRATION_LOCK_ID = 0x7AB1_1000  # advisory lock: two processes never migrate at once
_RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
# The database is away: the unit did not run, or ran and rolled back with its connection.
_UNAVAILABLE = (
    OSError,  # refused, reset, unreachable
    asyncpg.PostgresConnectionError,  # class 08, and a connection closed mid-operation
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.AdminShutdownError,  # 57P01: terminated by a fast or smart shutdown
    asyncpg.CrashShutdownError,  # 57P02: another backend crashed
)
UNAVAILABLE_RETRY_S = 10.0  # bound: retry an unreachable database this long, then raise
UNAVAILABLE_BACKOFF_FIRST_S = 0.05  # doubling ...
UNAVAILABLE_BACKOFF_MAX_S = 1.0  # ... up to this between two tries


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
        replica_max_lag_ms: int = REPLICA_MAX_LAG_MS_DEFAULT,
    ) -> None:
        super().__init__(clock_ms)
        self._pool = pool
        self._replica_pool = replica_pool
        # None without a replica; its served/fallbacks counts are per store (tests read them),
        # beside the process-wide metrics of persistence/replica.py.
        self.replica = ReplicaHealth(time.monotonic) if replica_pool is not None else None
        self.replica_lag = (
            ReplicaLag(time.monotonic, replica_max_lag_ms / 1000)
            if replica_pool is not None
            else None
        )
        # Kept, not looked up per call: a task spawned before the loop opened (a gateway
        # session, say) does not see trio-asyncio's context variable, yet may use the store.
        self._loop = loop
        self.retries = 0  # units rerun after a deadlock or serialization failure (a metric)
        self.unavailable_retries = 0  # units rerun because the database did not answer
        self.unavailable_retry_s = UNAVAILABLE_RETRY_S  # per unit (tests shorten it)
        self.unavailable_since: float | None = None  # trio clock; None: it answers
        # Accounts as last seen, for transfers in one round trip (a hint: see ledger_single.py).
        self.account_cache = AccountCache()

    async def run(self, work: WorkFactory[T], *, read_only: bool = False) -> T:
        return await self._run(work, read_only, transaction=not read_only)

    async def run_may_lag(self, work: WorkFactory[T]) -> T:
        replica, lag, pool = self.replica, self.replica_lag, self._replica_pool
        if replica is None or lag is None or pool is None:
            return await self.run(work, read_only=True)
        if not replica.usable():
            replica.resting()
            return await self.run(work, read_only=True)
        probing = lag.probe_due()
        if probing:  # the primary's position first, then what the replica has replayed
            lag.noted(parse_lsn(await self.run(_primary_position, read_only=True)))
        try:
            if probing:
                lag.replayed(await self._loop.run_aio_coroutine(_on_replica(pool, _replayed)))
            if lag.too_far():
                replica.skipped("lagging")
                return await self.run(work, read_only=True)
            with db_timer("postgres_replica", True).time():
                result: T = await self._loop.run_aio_coroutine(_on_replica(pool, work))
        except REPLICA_FAILURES as exc:
            replica.failed(failure_reason(exc))
            return await self.run(work, read_only=True)
        replica.succeeded()
        return result

    async def _run(self, work: WorkFactory[T], read_only: bool, *, transaction: bool) -> T:
        attempt = 0
        deadline: float | None = None
        backoff_s = UNAVAILABLE_BACKOFF_FIRST_S
        while True:
            committing: list[bool] = []
            try:
                with db_timer("postgres", read_only).time():
                    result: T = await self._loop.run_aio_coroutine(
                        self._run_aio(work, transaction, committing)
                    )
            except _RETRYABLE:
                attempt += 1
                self.retries += 1
                if attempt > RETRIES_MAX:
                    raise
                continue
            except _UNAVAILABLE as exc:
                if committing:
                    raise StoreUnavailable(f"connection lost during COMMIT: {exc!r}") from exc
                now = trio.current_time()
                if self.unavailable_since is None:
                    self.unavailable_since = now
                    log.warning("database unreachable: retrying", error=repr(exc))
                deadline = now + self.unavailable_retry_s if deadline is None else deadline
                if now + backoff_s > deadline:
                    raise StoreUnavailable(
                        f"no answer within {self.unavailable_retry_s} s: {exc!r}"
                    ) from exc
                self.unavailable_retries += 1
                await trio.sleep(backoff_s)
                backoff_s = min(UNAVAILABLE_BACKOFF_MAX_S, backoff_s * 2)
                continue
            if self.unavailable_since is not None:
                log.warning(
                    "database answers again",
                    down_s=round(trio.current_time() - self.unavailable_since, 3),
                )
                self.unavailable_since = None
            return result

    async def _run_aio(self, work: WorkFactory[T], transaction: bool, committing: list[bool]) -> T:
        """``committing`` gets an entry once the unit's work is done and its COMMIT starts
        (or, without a transaction, once its one write was sent: the one-statement transfer,
        whose idempotency key makes a retry safe, is the only such write, so it gets none)."""
        async with self._pool.acquire() as conn:
            if not transaction:  # autocommit: BEGIN and COMMIT would triple a lookup's trips
                return await _drive(conn, work)
            async with conn.transaction():
                result: T = await _drive(conn, work)
                committing.append(True)  # leaving the block commits
            return result

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


def _primary_position() -> Work[str]:
    rows = yield Query("SELECT pg_current_wal_lsn()::text")
    return str(rows[0][0])


def _replayed() -> Work[int | None]:
    """The WAL position the replica has replayed; None when it is not a standby."""
    rows = yield Query("SELECT pg_last_wal_replay_lsn()::text")
    return None if rows[0][0] is None else parse_lsn(rows[0][0])


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
    url: str,
    clock_ms: Clock,
    pool_size: int,
    replica_url: str = "",
    replica_max_lag_ms: int = REPLICA_MAX_LAG_MS_DEFAULT,
) -> AsyncIterator[PostgresStore]:
    """``replica_url``: a streaming replica for ``run_may_lag`` (empty: none). Its pool opens
    no connection up front, so a replica that is down at start-up delays nothing."""
    loop = trio_asyncio.current_loop.get()
    if loop is None:
        async with (
            trio_asyncio.open_loop() as own_loop,
            _pooled(url, own_loop, clock_ms, pool_size, replica_url, replica_max_lag_ms) as store,
        ):
            yield store
    else:
        pooled = _pooled(url, loop, clock_ms, pool_size, replica_url, replica_max_lag_ms)
        async with pooled as store:
            yield store


@asynccontextmanager
async def _pooled(
    url: str,
    loop: trio_asyncio.TrioEventLoop,
    clock_ms: Clock,
    pool_size: int,
    replica_url: str,
    replica_max_lag_ms: int,
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
        yield PostgresStore(pool, loop, clock_ms, replica_pool, replica_max_lag_ms)
    finally:
        with trio.CancelScope(shield=True):
            if replica_pool is not None:
                await loop.run_aio_coroutine(replica_pool.close())
            await loop.run_aio_coroutine(pool.close())
