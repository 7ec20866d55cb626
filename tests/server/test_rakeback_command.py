"""``tablium rakeback``: distribute a period, verify it against the hand histories (exit 0),
and a tampered hand record is found (exit 1)."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest
import trio

from persistence.store import open_store
from persistence.work import Query, Work
from rakeback.periods import Period, period_containing
from server.cli import main
from services.wallet import Wallet
from tests.clubs.club_play import play_hand
from tests.persistence.stores import BACKENDS, store_url

DAY_MS = 86_400_000


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'rakeback.sqlite3'}"
    monkeypatch.setenv("TABLIUM_DATABASE_URL", url)
    monkeypatch.setenv("TABLIUM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TABLIUM_RAKEBACK_PERIOD", "day")
    return url


@pytest.fixture(params=BACKENDS)
async def any_database(
    request: pytest.FixtureRequest, database: str, tmp_path: Path, postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> str:  # fmt: skip
    """``database`` on either backend (the command reads TABLIUM_DATABASE_URL)."""
    url = await store_url(request.param, tmp_path, postgres_url)
    monkeypatch.setenv("TABLIUM_DATABASE_URL", url)
    return url


async def _hands(url: str) -> Period:
    period = period_containing("day", time.time_ns() // 1_000_000 - 2 * DAY_MS)
    async with open_store(url) as store:
        wallet = Wallet(store)
        players = []
        for name in ("ann", "ben", "cat"):
            pid = (await store.create_account(name, "hash", "player")).id
            deposit = await wallet.request_deposit(f"fund-{name}", pid, 50_000)
            await wallet.post(deposit.id)
            players.append(pid)
        rng = random.Random(3)
        for i in range(40):
            at = period.start_ms + 1_000 * (i + 1)
            await play_hand(store, wallet, rng, "pub-1", f"h{i}", players, at)
    return period


def _tamper() -> Work[None]:
    yield Query(
        "UPDATE hand_players SET rake_paid = rake_paid + 1"
        " WHERE hand_seq = (SELECT MIN(hand_seq) FROM hand_players WHERE rake_paid > 0)"
        " AND rake_paid > 0"
    )


async def test_distribute_then_verify_agrees_and_a_tampered_hand_is_named(
    any_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    database = any_database
    period = await _hands(database)
    # The made-up hands' PHH is no game the statistics can read: their errors are logged.
    capsys.readouterr()
    args = ["rakeback", "preview", "--period", period.id, "--scope", "house", "--json"]
    assert await trio.to_thread.run_sync(main, args) == 0
    preview = json.loads(capsys.readouterr().out)
    assert preview["paid"] > 0 and preview["state"] == "open"
    args = ["rakeback", "distribute", "--period", period.id, "--scope", "house",
            "--reason", "daily run"]  # fmt: skip
    assert await trio.to_thread.run_sync(main, args) == 0
    assert "closed" in capsys.readouterr().out
    assert await trio.to_thread.run_sync(main, ["rakeback", "verify", "--period", period.id]) == 0
    out = capsys.readouterr().out
    assert f"accrued {preview['paid']}, paid {preview['paid']}: ok" in out
    async with open_store(database) as store:
        await store.run(_tamper)
    assert await trio.to_thread.run_sync(main, ["rakeback", "verify", "--period", period.id]) == 1
    assert "hand_players shares disagree" in capsys.readouterr().out


async def test_a_bad_period_is_a_usage_error(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["rakeback", "verify", "--period", "week:2026-12-01"]  # a Tuesday
    assert await trio.to_thread.run_sync(main, args) == 2
    assert "Monday" in capsys.readouterr().err
