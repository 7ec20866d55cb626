"""``tablium ledger audit``: the database's money checked; a violation exits 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio

from persistence.store import open_store
from persistence.work import Query, Work
from server.cli import main
from services.wallet import Wallet


async def _ledger(url: str) -> None:
    async with open_store(url) as store:
        w = Wallet(store)
        alice = (await store.create_account("alice", "hash", "player")).id
        deposit = await w.request_deposit("d", alice, 500)
        await w.post(deposit.id)
        await w.buy_in("b", alice, "table:1", 200)
        await w.tournament_buy_in("t", alice, "tournament:1", 100)
        await w.grant_starting_play_chips(alice)


def _tamper() -> Work[None]:
    yield Query("UPDATE ledger_accounts SET balance = balance - 7 WHERE kind = 'escrow'", ())


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    monkeypatch.setenv("TABLIUM_DATABASE_URL", url)
    monkeypatch.setenv("TABLIUM_DATA_DIR", str(tmp_path))
    return url


async def test_a_consistent_ledger_exits_0_and_says_what_it_checked(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _ledger(database)
    assert await trio.to_thread.run_sync(main, ["ledger", "audit"]) == 0
    out = capsys.readouterr().out
    assert "sum per asset: chips 0, play 0" in out
    assert "1 escrows hold 200 chips; not checked against seats" in out
    assert "prize pools: 1 checked" in out
    assert out.strip().endswith("consistent")


async def test_a_violation_exits_1_and_is_named(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _ledger(database)
    async with open_store(database) as store:
        await store.run(_tamper)
    assert await trio.to_thread.run_sync(main, ["ledger", "audit", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["consistent"] is False
    assert {(v["code"], v["subject"]) for v in report["violations"]} == {
        ("asset_sum", "chips"),
        ("mismatched", "escrow:table:1@chips"),
    }


def test_asking_a_server_needs_a_token_and_a_reachable_server(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TABLIUM_STAFF_TOKEN", raising=False)
    assert main(["ledger", "audit", "--admin-url", "http://127.0.0.1:9"]) == 2
    assert "needs --staff-token" in capsys.readouterr().err
    code = main(["ledger", "audit", "--admin-url", "http://127.0.0.1:9", "--staff-token", "t"])
    assert code == 2
    assert "could not be asked" in capsys.readouterr().err
