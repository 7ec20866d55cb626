"""``tablium events replay``: stored events published again, for a rebuilt consumer."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
import trio

from persistence import open_store
from persistence.amqp import open_amqp_loop
from persistence.event_bus import Consumer, Event
from persistence.work import Query, Work
from server.cli import main
from server.config import load_settings
from tests.persistence.amqp_tools import Broker


def _seed(count: int) -> None:
    async def create() -> None:
        async with open_store(load_settings().effective_database_url()) as store:
            for i in range(count):
                await store.create_account(f"p{i}", "hash", "player")

    trio.run(create)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("TABLIUM_DATABASE_URL", "TABLIUM_AMQP_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TABLIUM_DATA_DIR", str(tmp_path))
    return tmp_path


def test_replay_sends_a_range_to_one_queue(
    data_dir: Path,
    amqp_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _seed(4)
    monkeypatch.setenv("TABLIUM_AMQP_URL", amqp_url)

    async def with_broker(
        step: str, queue: str = "", exchange: str = ""
    ) -> tuple[str, str, list[str]]:
        async with open_amqp_loop() as loop:
            broker = Broker(amqp_url, loop)
            if step == "declare":
                return broker.exchange, await broker.bind_observer("nothing.binds.this"), []
            broker.exchange = exchange
            messages = await broker.drain(queue)
            await broker.cleanup([queue])
            return exchange, queue, [json.loads(body)["id"] for _, body, _ in messages]

    exchange, queue, _ = trio.run(with_broker, "declare")
    assert main(["events", "replay", "--from", "2", "--to", "3", "--queue", queue]) == 0
    assert "replayed 2 events to queue" in capsys.readouterr().out
    _, _, ids = trio.run(partial(with_broker, "drain", queue, exchange))
    assert ids == ["2", "3"]


def _record(event: Event) -> Work[None]:
    yield Query("UPDATE accounts SET role = 'seen' WHERE id = $1", (event.payload.player_id,))


def test_replay_without_a_broker_applies_to_in_process_consumers_once(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(3)
    consumer = Consumer("marker", frozenset({"player.registered"}), _record)
    monkeypatch.setattr("services.events.tablium_consumers", lambda: (consumer,))
    assert main(["events", "replay", "--from", "1"]) == 0
    assert main(["events", "replay", "--from", "1"]) == 0  # skipped: processed before
    out = capsys.readouterr().out
    assert out.count("replayed 3 events to the in-process consumers, ids 1..3") == 2

    async def roles() -> list[str]:
        async with open_store(load_settings().effective_database_url()) as store:
            rows = await store.run(lambda: _roles(), read_only=True)
            return rows

    assert trio.run(roles) == ["seen", "seen", "seen"]


def _roles() -> Work[list[str]]:
    rows = yield Query("SELECT role FROM accounts ORDER BY id")
    return [r[0] for r in rows]


def test_replay_refuses_a_range_that_ends_before_it_starts(data_dir: Path) -> None:
    assert main(["events", "replay", "--from", "5", "--to", "2"]) == 2
