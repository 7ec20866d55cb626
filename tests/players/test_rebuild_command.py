"""``tablium players rebuild-stats`` recounts the stored hands of the configured database."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from persistence import players as stored
from persistence.store import open_store
from players.stats import rebuild
from server.cli import main
from tests.players.hands import hand_record, simulated_hand


def test_rebuild_stats_recounts_every_stored_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TABLIUM_DATABASE_URL", raising=False)
    monkeypatch.delenv("TABLIUM_REDIS_URL", raising=False)
    monkeypatch.setenv("TABLIUM_DATA_DIR", str(tmp_path / "var"))
    url = f"sqlite:///{tmp_path / 'var' / 'tablium.sqlite3'}"
    hands = [simulated_hand(i, [1, 2, 3], hand_id=f"h{i}") for i in range(6)]

    async def fill_then_damage() -> None:
        async with open_store(url) as store:
            for i in range(3):
                await store.create_account(f"p{i + 1}", "x", "player")
            for hand in hands:
                await store.save_hand(hand_record(hand))
            await store.run(stored.clear_derived)  # as if the counts were lost

    async def counted() -> object:
        async with open_store(url) as store:
            return await store.run(stored.all_stats)

    trio.run(fill_then_damage)
    assert main(["players", "rebuild-stats"]) == 0
    assert "counted 6 of 6 stored hands" in capsys.readouterr().out
    assert trio.run(counted) == rebuild(hands)
