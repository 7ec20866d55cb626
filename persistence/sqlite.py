"""The embedded backend: one SQLite file, one connection, one thread of its own.

Every unit of work runs start to finish on the store's thread (``StoreThread``: one
long-lived thread that takes units in the order they were submitted), inside ``BEGIN
IMMEDIATE ... COMMIT``: writes are serialized, so the ledger needs no row locks here. WAL
mode lets another process (``tablium migrate``, a backup) read meanwhile;
``synchronous=FULL`` makes every acknowledged commit survive a power cut, not only a killed
process -- chips are worth the fsync.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import lru_cache, partial
from pathlib import Path
from typing import TypeVar, final

import outcome
import trio

from persistence.metrics import db_timer
from persistence.migrations import (
    SCHEMA_MIGRATIONS_DDL,
    MigrationError,
    migrations_for,
    pending,
)
from persistence.store import Clock, Store
from persistence.work import Query, QueryMany, Row, WorkFactory

T = TypeVar("T")
BUSY_TIMEOUT_MS = 5000  # another process holding the write lock: wait this long, then fail
_PLACEHOLDER = re.compile(r"\$(\d+)")


@lru_cache(maxsize=512)
def _sqlite_sql(sql: str) -> str:
    # $1 -> ?1: SQLite's numbered parameters, so one SQL text serves both backends.
    return _PLACEHOLDER.sub(r"?\1", sql)


@final
class StoreThread:
    """One long-lived thread that runs calls one at a time, in the order they came.

    In place of ``trio.to_thread.run_sync`` with a CapacityLimiter of 1, which hands every
    call to a cached thread and names and renames that thread for it (two system calls, and
    about a tenth of the store's cost per unit in the table benchmark, docs/loadtest.md).
    A call once submitted always runs, and its caller waits for its end even when cancelled
    meanwhile (the cancel arrives at the caller's next checkpoint): a transaction is never
    left half-known. The queue holds at most one call per waiting caller.
    """

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[
            tuple[Callable[[], object], trio.lowlevel.Task, trio.lowlevel.TrioToken] | None
        ] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    async def call(self, fn: Callable[[], T]) -> T:
        await trio.lowlevel.checkpoint_if_cancelled()
        self._calls.put((fn, trio.lowlevel.current_task(), trio.lowlevel.current_trio_token()))
        return await trio.lowlevel.wait_task_rescheduled(_not_abandoned)  # type: ignore[no-any-return]

    def stop(self) -> None:
        """The thread ends after the calls queued before this one."""
        self._calls.put(None)

    def _serve(self) -> None:
        while (job := self._calls.get()) is not None:
            fn, task, token = job
            del job
            result = outcome.capture(fn)
            del fn
            # A trio run that is over has nobody waiting for the result.
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(trio.lowlevel.reschedule, task, result)


def _not_abandoned(_: object) -> trio.lowlevel.Abort:
    return trio.lowlevel.Abort.FAILED


@final
class SqliteStore(Store):
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, clock_ms: Clock) -> None:
        super().__init__(clock_ms)
        self._conn = conn
        # One unit of work at a time: the connection is not shared between threads at once.
        self._thread = StoreThread("tablium-sqlite")
        self._timers = {ro: db_timer("sqlite", ro) for ro in (False, True)}

    async def run(self, work: WorkFactory[T], *, read_only: bool = False) -> T:
        # Not abandoned on cancel: a started transaction finishes (commit or rollback) first.
        with self._timers[read_only].time():
            return await self._thread.call(partial(self._run_sync, work, read_only))

    def _run_sync(self, work: WorkFactory[T], read_only: bool) -> T:
        conn = self._conn
        # IMMEDIATE takes the write lock up front, so a unit never fails half-way to upgrade
        # its lock; a read needs no lock beyond its statement's own (autocommit).
        if read_only:
            return self._drive(work)
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = self._drive(work)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _drive(self, work: WorkFactory[T]) -> T:
        units = work()
        rows: list[Row] = []
        try:
            statement = next(units)
            while True:
                if isinstance(statement, Query) and statement.lock_only:
                    rows = []
                elif isinstance(statement, Query):
                    rows = self._conn.execute(_sqlite_sql(statement.sql), statement.args).fetchall()
                elif isinstance(statement, QueryMany):
                    self._conn.executemany(_sqlite_sql(statement.sql), statement.args_list)
                    rows = []
                statement = units.send(rows)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def migrate(self) -> list[int]:
        return await self._thread.call(self._migrate_sync)

    def _migrate_sync(self) -> list[int]:
        conn = self._conn
        # Foreign keys off while migrating (it cannot change inside a transaction): rebuilding
        # a table that others reference (SQLite's twelve-step ALTER: the ledger_assets
        # migration) needs it.
        # foreign_key_check before COMMIT puts back the guarantee: a migration that would
        # leave a dangling reference rolls back.
        conn.execute("PRAGMA foreign_keys=OFF")
        try:
            return self._migrate_in_transaction(conn)
        finally:
            conn.execute("PRAGMA foreign_keys=ON")

    def _migrate_in_transaction(self, conn: sqlite3.Connection) -> list[int]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(SCHEMA_MIGRATIONS_DDL)
            applied = {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")}
            todo = pending(migrations_for("sqlite"), applied)
            for migration in todo:
                # Statement by statement: executescript() would commit the transaction first.
                for statement in _split_statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)",
                    (migration.version, migration.name, self.clock_ms()),
                )
            dangling = conn.execute("PRAGMA foreign_key_check").fetchall()
            if dangling:
                raise MigrationError(f"migration left dangling references: {dangling[:5]}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return [m.version for m in todo]

    async def close(self) -> None:
        """Close the connection on its thread, after every call queued before, and end
        the thread."""
        try:
            await self._thread.call(self._conn.close)
        finally:
            self._thread.stop()


def _split_statements(script: str) -> list[str]:
    """Split a migration into statements (our migrations hold no ';' inside literals)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines():
        buffer += line.split("--", 1)[0] + "\n"
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"unterminated statement in migration: {buffer.strip()[:60]!r}")
    return statements


DIR_MODE = 0o700  # directories we create for the database: this user only
FILE_MODE = 0o600  # the database holds password hashes and the ledger: this user only
_SIDE_FILES = ("-wal", "-shm", "-journal")


def _private_files(path: Path) -> None:
    """Create the database file 0600 before SQLite does (SQLite gives its -wal and -shm
    files the database's mode), and take group and other permissions away from the files of
    a database made by an older version (0644)."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    for file in (path, *(path.with_name(path.name + side) for side in _SIDE_FILES)):
        try:
            if file.stat().st_mode & 0o077:
                file.chmod(FILE_MODE)
        except FileNotFoundError:
            pass


def _connect(path: Path) -> sqlite3.Connection:
    _private_files(path)
    # Autocommit mode (isolation_level=None): we issue BEGIN/COMMIT ourselves, one per unit.
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


@asynccontextmanager
async def open_sqlite_store(path: Path, clock_ms: Clock) -> AsyncIterator[SqliteStore]:
    conn = await trio.to_thread.run_sync(_connect, path)
    store = SqliteStore(conn, clock_ms)
    try:
        yield store
    finally:
        with trio.CancelScope(shield=True):
            await store.close()
