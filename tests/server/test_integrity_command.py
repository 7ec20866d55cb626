"""``tablium integrity report``: the reports of a period from the database; exit 1 if any."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio

from persistence.store import open_store
from server.cli import main
from services.integrity import DAY_MS
from tests.poker.integrity.generated import COLLUDERS, DUMPEE, DUMPER, generate_room
from tests.services.integrity_store import BASE_MS, store_room

PERIOD = ["--from-ms", str(BASE_MS), "--to-ms", str(BASE_MS + 2 * DAY_MS)]


@pytest.fixture
async def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'integrity.sqlite3'}"
    monkeypatch.setenv("TABLIUM_DATABASE_URL", url)
    monkeypatch.setenv("TABLIUM_DATA_DIR", str(tmp_path))
    async with open_store(url) as store:
        await store_room(store, generate_room(3).hands)
    return url


async def test_the_dumping_report_names_the_flag_and_exits_1(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["integrity", "report", "dumping", *PERIOD, "--hands"]
    assert await trio.to_thread.run_sync(main, args) == 1
    out = capsys.readouterr().out
    assert f"dumping:chips:{DUMPER}:{DUMPEE}: {DUMPER} -> {DUMPEE} net" in out
    assert "big_loss_weak_hand" in out and out.strip().endswith("1 flagged")


async def test_the_collusion_report_as_json(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["integrity", "report", "collusion", *PERIOD, "--json"]
    assert await trio.to_thread.run_sync(main, args) == 1
    report = json.loads(capsys.readouterr().out)
    assert {tuple(s["players"]) for s in report["signals"]} == {COLLUDERS, (DUMPER, DUMPEE)}
    assert report["from_ms"] == BASE_MS


async def test_a_quiet_period_exits_0_and_a_bad_one_2(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet = ["integrity", "report", "dumping", "--to-ms", str(BASE_MS)]
    assert await trio.to_thread.run_sync(main, quiet) == 0
    assert capsys.readouterr().out.strip().endswith("0 flagged")
    bad = ["integrity", "report", "collusion", "--days", "93"]
    assert await trio.to_thread.run_sync(main, bad) == 2
    assert "period_too_large" in capsys.readouterr().err
