"""kill -9 of the process between a change's commit and its publication (and between the
broker's confirmation and the relayed stamp): the event is published after the restart. Real
processes, real RabbitMQ, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from persistence import outbox
from persistence.amqp import AmqpBus
from persistence.relay import OutboxRelay
from persistence.store import open_store
from tests.persistence.amqp_tools import private_broker
from tests.persistence.stores import BACKENDS, store_url

CHILD = """
import sys, trio
from persistence.amqp import AmqpBus, open_amqp_loop
from persistence.relay import OutboxRelay
from persistence.store import open_store

async def main(url, mode, amqp_url, exchange):
    async with open_store(url) as store:
        await store.create_account("victim", "hash", "player")
        if mode == "committed":
            print("committed", flush=True)
            await trio.sleep_forever()
        async with open_amqp_loop() as loop:
            bus = AmqpBus(amqp_url, loop, exchange=exchange)

            class ConfirmedThenHang:
                async def publish(self, events):
                    await bus.publish(events)
                    print("confirmed", flush=True)
                    await trio.sleep_forever()

            await OutboxRelay(store, ConfirmedThenHang()).run()

trio.run(main, *sys.argv[1:])
"""
ROOT = Path(__file__).resolve().parents[2]
CHILD_WAIT_S = 60  # bound: the child's start-up (imports, migrations) and its one change


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("killed_after", ["committed", "confirmed"])
async def test_an_event_committed_before_kill_9_is_published_after_the_restart(
    backend: str, killed_after: str, tmp_path: Path, postgres_url: str, amqp_url: str
) -> None:
    url = await store_url(backend, tmp_path, postgres_url)
    async with private_broker(amqp_url) as broker:
        observer = await broker.bind_observer()
        child = await trio.lowlevel.open_process(
            [sys.executable, "-c", CHILD, url, killed_after, amqp_url, broker.exchange],
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        assert child.stdout is not None
        with trio.fail_after(CHILD_WAIT_S):
            line = await child.stdout.receive_some(100)
        assert line.decode().strip() == killed_after
        child.kill()  # SIGKILL: no cleanup, no stamp
        await child.wait()
        assert child.returncode == -9
        before = await broker.drain(observer)
        async with open_store(url) as store:
            (row,) = await store.run(lambda: outbox.between(1, None, 10), read_only=True)
            assert row.relayed_at_ms is None  # the stamp never happened
            bus = AmqpBus(amqp_url, broker.loop, exchange=broker.exchange)
            relay = OutboxRelay(store, bus)
            async with trio.open_nursery() as nursery:
                await nursery.start(relay.run)
                await relay.drained()
                nursery.cancel_scope.cancel()
            await bus.aclose()
            (after_restart,) = await store.run(lambda: outbox.between(1, None, 10), read_only=True)
        after = await broker.drain(observer)
    assert after_restart.relayed_at_ms is not None
    published = [json.loads(body)["id"] for _, body, _ in before + after]
    # Published after the restart; published before it too when the broker had confirmed it
    # (at-least-once: a consumer's processed record absorbs the copy).
    expected = [str(row.id)] * (2 if killed_after == "confirmed" else 1)
    assert published == expected
