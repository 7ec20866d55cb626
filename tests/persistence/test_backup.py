"""Backups taken while the store is written to restore a consistent database, on both backends.

The online test moves chips between a wallet and a table escrow, one transfer after another,
for as long as the backup runs: a copy torn between two commits would show a wallet plus
escrow that no longer add up to what was deposited, or a ledger that does not audit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from persistence import open_store
from persistence.backup import (
    BackupError,
    backup_database,
    backup_kind,
    restore_database,
)
from persistence.store import Store
from server.cli import main
from services.ledger import escrow, wallet
from services.wallet import Wallet
from tests.persistence.stores import store_url
from tests.pg_databases import new_pg_database

__all__ = ["new_pg_database"]  # the fixture, used by name

DEPOSIT = 10_000
TABLE = "backup-table"
MOVES_BEFORE = 5  # buy-in/cash-out pairs made before the backup starts
MOVES_MIN = 20  # pairs made in all: the mover goes on until the copy ends, and past this


async def _funded_player(store: Store, name: str) -> int:
    player_id = (await store.create_account(name, "hash", "player")).id
    w = Wallet(store)
    deposit = await w.request_deposit(f"fund-{name}", player_id, DEPOSIT)
    await w.post(deposit.id)
    return player_id


async def _back_up_while_moving_chips(url: str, out: Path) -> int:
    """Fund a player, then take the backup in a thread while chips move; returns the id."""
    async with open_store(url) as store:
        player_id = await _funded_player(store, "backup_ann")
        w = Wallet(store)
        moves = 0
        moving = trio.Event()
        copied = trio.Event()

        async def move_chips() -> None:
            nonlocal moves
            while not copied.is_set() or moves < MOVES_MIN:
                await w.buy_in(f"in-{moves}", player_id, TABLE, 7)
                await w.cash_out(f"out-{moves}", TABLE, player_id, 3)
                moves += 1
                if moves == MOVES_BEFORE:
                    moving.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(move_chips)
            await moving.wait()
            await trio.to_thread.run_sync(backup_database, url, out)
            copied.set()
        return player_id


async def _assert_restored(url: str, player_id: int) -> None:
    async with open_store(url, migrate=False) as store:
        audit = await store.ledger_audit()
        assert audit.consistent, audit
        assert audit.transfers >= 1 + 2 * MOVES_BEFORE  # the deposit, then the moves
        account = await store.get_account(player_id)
        assert account is not None and account.name == "backup_ann"
        held = await store.ledger_account(wallet(player_id))
        in_play = await store.ledger_account(escrow(TABLE))
        assert held is not None
        assert held.balance + (in_play.balance if in_play else 0) == DEPOSIT


def _urls(
    backend: str, tmp_path: Path, postgres_url: str, new_database: Callable[[], str]
) -> tuple[str, str]:
    """(source, empty restore target) for a backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'live.sqlite3'}", f"sqlite:///{tmp_path / 'new.sqlite3'}"
    if backend == "postgres":  # whole databases
        return new_database(), new_database()
    # postgres_schema: the source is one schema of a shared database (search_path), as the
    # suite itself runs; the restore recreates that schema in an empty database.
    source = trio.run(store_url, "postgres", tmp_path, postgres_url)
    return source, f"{new_database()}?{source.split('?', 1)[1]}"


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "postgres_schema"])
def test_backup_taken_during_writes_restores_a_ledger_that_audits_and_adds_up(
    backend: str, tmp_path: Path, postgres_url: str, new_pg_database: Callable[[], str]
) -> None:
    source, target = _urls(backend, tmp_path, postgres_url, new_pg_database)
    out = tmp_path / "tablium.backup"
    player_id = trio.run(_back_up_while_moving_chips, source, out)
    assert backup_kind(out) == ("sqlite" if backend == "sqlite" else "postgres")
    assert out.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob("*.partial"))
    assert restore_database(target, out) == backup_kind(out)
    trio.run(_assert_restored, target, player_id)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_restore_refuses_a_database_that_holds_data(
    backend: str, tmp_path: Path, postgres_url: str, new_pg_database: Callable[[], str]
) -> None:
    source, _ = _urls(backend, tmp_path, postgres_url, new_pg_database)
    player_id = trio.run(_back_up_while_moving_chips, source, tmp_path / "b")
    with pytest.raises(BackupError, match=r"already holds a database|has tables"):
        restore_database(source, tmp_path / "b")
    trio.run(_assert_restored, source, player_id)  # untouched


def test_restore_refuses_a_backup_of_the_other_backend_or_no_backup_at_all(
    tmp_path: Path,
) -> None:
    dump = tmp_path / "x.pgdump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00")
    with pytest.raises(BackupError, match="is a postgres backup but the configured database is"):
        restore_database(f"sqlite:///{tmp_path / 'new.sqlite3'}", dump)
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello")
    with pytest.raises(BackupError, match="neither a SQLite backup nor a pg_dump"):
        restore_database(f"sqlite:///{tmp_path / 'new.sqlite3'}", junk)
    assert not (tmp_path / "new.sqlite3").exists()


def test_backup_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    trio.run(_back_up_while_moving_chips, url, tmp_path / "b1")
    before = (tmp_path / "b1").read_bytes()
    with pytest.raises(BackupError, match="exists"):
        backup_database(url, tmp_path / "b1")
    assert (tmp_path / "b1").read_bytes() == before


def test_backup_and_restore_commands_end_with_the_ledger_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TABLIUM_DATABASE_URL", raising=False)
    monkeypatch.setenv("TABLIUM_DATA_DIR", str(tmp_path / "live"))
    trio.run(
        _back_up_while_moving_chips,
        f"sqlite:///{tmp_path / 'live' / 'tablium.sqlite3'}",
        tmp_path / "unused",
    )
    assert main(["backup", "--out", str(tmp_path / "cli.backup")]) == 0
    assert "backed up the sqlite database" in capsys.readouterr().out
    assert main(["backup", "--out", str(tmp_path / "cli.backup")]) == 1
    assert "never overwrite" in capsys.readouterr().err

    monkeypatch.setenv("TABLIUM_DATA_DIR", str(tmp_path / "restored"))
    assert main(["restore", str(tmp_path / "cli.backup")]) == 0
    out = capsys.readouterr().out
    assert "restored the sqlite backup" in out
    assert "ledger audit: consistent" in out
    assert main(["restore", str(tmp_path / "cli.backup")]) == 1
    assert "move it" in capsys.readouterr().err
