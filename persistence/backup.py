"""Whole-database backups and restores, consistent while the server runs.

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies every page in one
  step, inside one read transaction: the copy is the database as of one commit, while the
  server goes on writing (WAL mode: readers never block the writer). The backup is itself a
  SQLite file, checked with ``PRAGMA integrity_check`` before it is kept.
- PostgreSQL: ``pg_dump --format=custom`` (one REPEATABLE READ snapshot of the whole
  database, or of the schema a ``search_path`` URL parameter names); restored with
  ``pg_restore --single-transaction --exit-on-error``, so a restore lands whole or not at all.
  pg_dump must be of the server's major version or newer.

A consistent backup is the database as a crash at that instant would have left it, and the
server recovers from any crash (voided hands refunded, owed pay-outs paid again under their
keys): a restored backup is a crash the server already knows how to recover from.

Restores go into an empty database only, never over data: move the old database aside
first (see docs/operations.md). Backups are written to FILE.partial with mode 0600 (they
hold password hashes) and renamed to FILE once complete, so a FILE is always whole.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from persistence.store import sqlite_path

BackupKind = Literal["sqlite", "postgres"]
SQLITE_MAGIC: Final = b"SQLite format 3\x00"
PG_DUMP_MAGIC: Final = b"PGDMP"  # pg_dump's custom format
# Bound on one pg_dump / pg_restore / psql run; past it the tool is killed and we fail.
TOOL_TIMEOUT_S: Final = 6 * 3600.0
_LIBPQ_PARAMS: Final = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT"}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class BackupInfo:
    kind: BackupKind
    path: Path
    size_bytes: int


def backend_of(url: str) -> BackupKind:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgresql", "postgres"):
        return "postgres"
    raise BackupError(f"unsupported database URL scheme {scheme!r}")


def backup_kind(path: Path) -> BackupKind:
    """What a backup file holds, from its first bytes."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgres"
    raise BackupError(f"{path} is neither a SQLite backup nor a pg_dump custom-format archive")


def backup_database(url: str, out: Path) -> BackupInfo:
    """Write a consistent backup of the database ``url`` names to ``out``."""
    kind = backend_of(url)
    if out.exists():
        raise BackupError(f"{out} exists: choose a new file name (backups never overwrite)")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if kind == "sqlite":
            _sqlite_backup(sqlite_path(url), partial)
        else:
            _pg_dump(url, partial)
        _fsync(partial)
        partial.rename(out)
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(kind, out, out.stat().st_size)


def restore_database(url: str, backup: Path) -> BackupKind:
    """Restore ``backup`` into the (empty) database ``url`` names."""
    kind = backend_of(url)
    found = backup_kind(backup)
    if found != kind:
        raise BackupError(
            f"{backup} is a {found} backup but the configured database is {kind}"
            " (restore into the backend the backup came from)"
        )
    if kind == "sqlite":
        _sqlite_restore(backup, sqlite_path(url))
    else:
        _pg_restore(url, backup)
    return kind


# -- SQLite ---------------------------------------------------------------------------------


def _sqlite_backup(source: Path, partial: Path) -> None:
    if not source.exists():
        raise BackupError(f"no database at {source}")
    _create_private(partial)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # pages=-1: one step, one read transaction, one consistent copy
            # One self-contained file: no -wal/-shm beside the backup when it is opened.
            dst.execute("PRAGMA journal_mode=DELETE")
            _check_integrity(dst, partial)
        finally:
            dst.close()
    finally:
        src.close()


def _sqlite_restore(backup: Path, target: Path) -> None:
    wal = target.with_name(target.name + "-wal")
    if (target.exists() and target.stat().st_size > 0) or wal.exists():
        raise BackupError(
            f"{target} already holds a database: move it (and its -wal/-shm files) aside first"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    _create_private(partial)
    try:
        src = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
        try:
            _check_integrity(src, backup)
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=WAL")  # as the server opens it
            finally:
                dst.close()
        finally:
            src.close()
        _fsync(partial)
        partial.replace(target)  # an empty target file, if any, is replaced
    finally:
        partial.unlink(missing_ok=True)


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from exc
    if rows != [("ok",)]:
        raise BackupError(f"{path} fails SQLite's integrity check: {rows[:3]}")


def _create_private(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- PostgreSQL -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PgTarget:
    env: dict[str, str]  # libpq's variables: no password on a command line
    schema: str | None  # the URL's search_path, when it names one schema


def _pg_target(url: str) -> _PgTarget:
    parts = urlsplit(url)
    env = dict(os.environ)
    for key in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGOPTIONS"):
        env.pop(key, None)
    if parts.hostname:
        env["PGHOST"] = parts.hostname
    if parts.port:
        env["PGPORT"] = str(parts.port)
    if parts.username:
        env["PGUSER"] = unquote(parts.username)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise BackupError("the PostgreSQL URL names no database (postgresql://USER@HOST/DB)")
    env["PGDATABASE"] = database
    schema: str | None = None
    options: list[str] = []
    for key, value in parse_qsl(parts.query):
        if key in _LIBPQ_PARAMS:
            env[_LIBPQ_PARAMS[key]] = value
        elif key == "search_path":
            schema = value if "," not in value else None
            options.append(f"-c search_path={value}")
        else:  # asyncpg passes other parameters as server settings; so does PGOPTIONS
            options.append(f"-c {key}={value}")
    if options:
        env["PGOPTIONS"] = " ".join(options)
    return _PgTarget(env, schema)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed: install PostgreSQL's client tools"
            " (Debian: apt-get install postgresql-client) of the server's major version"
        )
    return path


def _run(args: list[str], env: dict[str, str]) -> str:
    try:
        done = subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BackupError(f"{Path(args[0]).name} ran longer than {TOOL_TIMEOUT_S:.0f} s") from exc
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise BackupError(f"{Path(args[0]).name} failed: {' / '.join(detail[-3:])}")
    return done.stdout


def _pg_dump(url: str, partial: Path) -> None:
    target = _pg_target(url)
    _create_private(partial)
    args = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
    if target.schema:
        args.append(f"--schema={target.schema}")
    _run([*args, f"--file={partial}"], target.env)


def _pg_restore(url: str, backup: Path) -> None:
    target = _pg_target(url)
    if target.schema:
        query = f"SELECT count(*) FROM pg_namespace WHERE nspname = '{_literal(target.schema)}'"
        if int(_psql(query, target.env)):
            raise BackupError(
                f"schema {target.schema} exists: the restore creates it; drop or rename it first"
            )
    else:
        query = (
            "SELECT count(*) FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        if int(_psql(query, target.env)):
            raise BackupError(
                "the target database has tables: restore into a new, empty database"
                " (createdb NAME) and point TABLIUM_DATABASE_URL at it"
            )
    _run(
        [
            _tool("pg_restore"),
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            f"--dbname={target.env['PGDATABASE']}",
            str(backup),
        ],
        target.env,
    )


def _psql(query: str, env: dict[str, str]) -> str:
    return _run([_tool("psql"), "-X", "-w", "-qtA", "-v", "ON_ERROR_STOP=1", "-c", query], env)


def _literal(text: str) -> str:
    return text.replace("'", "''")
