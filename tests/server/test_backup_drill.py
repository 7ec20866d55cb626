"""The disaster-recovery drill: back up in the middle of play, restore, and count every chip.

Three players (the client SDK over real websockets) play at a seed table of a real `tablium
serve`. While a hand is under way, `tablium backup` runs as its own process against the live
database. The server is then stopped, the backup is restored into a fresh database with
`tablium restore` (which audits the ledger), and a new server starts on it: its recovery
voids the hand the backup caught half-played. From the restored database alone, the same
accounting as the crash test (tests/server/test_crash_mid_play.py): the ledger audits clean,
the table's escrow equals its stacks plus what it owes, and every player holds exactly what
they were given plus their net result over every finished hand.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from protocol import game
from protocol.client import open_client
from tests.pg_databases import new_pg_database
from tests.server.test_crash_mid_play import (
    BUY_IN,
    PLAY_TIMEOUT_S,
    SEED,
    TABLE,
    _accounted_for,
    _fund,
    _play,
)
from tests.server_process import ServerProcess, running_server

__all__ = ["new_pg_database"]  # the fixture, used by name

COMMAND_TIMEOUT_S = 60


def _tablium_env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "TABLIUM_DATABASE_URL": database_url, "TABLIUM_DATA_DIR": str(data_dir)}


async def _play_and_back_up(
    server: ServerProcess, names: list[str], env: dict[str, str], out: Path
) -> dict[str, int]:
    rng = random.Random(SEED)
    ids: dict[str, int] = {}
    mid_hand = trio.Event()
    async with (
        open_client(server.ws_url) as a,
        open_client(server.ws_url) as b,
        open_client(server.ws_url) as c,
        trio.open_nursery() as nursery,
    ):
        for client, name in zip((a, b, c), names, strict=True):
            await client.register(name, "correct horse battery staple")
            ids[name] = await _fund(server.admin_url, name)
            seated = await client.request(game.JoinTable(id=0, table_id=TABLE, buy_in=BUY_IN))
            assert isinstance(seated, game.Seated)
            nursery.start_soon(
                _play, client, seated.seat, random.Random(rng.random()), "mid_hand", mid_hand
            )
        with trio.fail_after(PLAY_TIMEOUT_S):
            await mid_hand.wait()
        # The players go on acting while the backup runs in its own process.
        with trio.fail_after(COMMAND_TIMEOUT_S):
            backup = await trio.run_process(
                [sys.executable, "-m", "server.cli", "backup", "--out", str(out)],
                env=env,
                capture_stdout=True,
                capture_stderr=True,
                check=False,
            )
        assert backup.returncode == 0, backup.stderr.decode()
        nursery.cancel_scope.cancel()
    return ids


def _stop(server: ServerProcess) -> None:
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=5) == 0


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_backup_mid_play_restored_into_a_fresh_database_accounts_for_every_chip(
    backend: str, tmp_path: Path, new_pg_database: Callable[[], str]
) -> None:
    if backend == "sqlite":
        live_url = f"sqlite:///{tmp_path / 'live' / 'tablium.sqlite3'}"
        fresh_url = f"sqlite:///{tmp_path / 'fresh' / 'tablium.sqlite3'}"
    else:
        live_url, fresh_url = new_pg_database(), new_pg_database()
    out = tmp_path / f"drill.{backend}.backup"
    names = [f"drill_ann_{backend}", f"drill_bob_{backend}", f"drill_cy_{backend}"]

    live_env = _tablium_env(live_url, tmp_path / "live")
    with running_server(tmp_path / "live", TABLIUM_DATABASE_URL=live_url) as server:
        ids = trio.run(_play_and_back_up, server, names, live_env, out)
        _stop(server)

    restore = subprocess.run(
        [sys.executable, "-m", "server.cli", "restore", str(out)],
        env=_tablium_env(fresh_url, tmp_path / "fresh"),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
    assert restore.returncode == 0, restore.stderr
    assert "ledger audit: consistent" in restore.stdout

    # Recovery (voiding the hand the backup caught half-played) runs before it reports ready.
    with running_server(tmp_path / "fresh", TABLIUM_DATABASE_URL=fresh_url) as restored:
        _stop(restored)
    trio.run(_accounted_for, fresh_url, ids)
