"""The server runs the outbox relay under its persistence supervisor; with no broker
configured the events are relayed in process (and stamped)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import trio

from persistence import outbox
from persistence.events import decode_payload
from persistence.relay import OutboxRelay
from persistence.store import open_store
from server.app import run_server
from server.config import Settings


async def test_the_relay_runs_under_persistence_and_relays_in_process(tmp_path: Path) -> None:
    settings = Settings(ws_port=0, admin_port=0, api_port=0, data_dir=tmp_path, jwt_secret="s" * 40)
    async with trio.open_nursery() as nursery:
        listening = await nursery.start(run_server, settings)
        persistence = listening.runtime.root.child("persistence").supervisor
        assert persistence is not None
        assert [c.name for c in persistence.children()] == ["snapshot-writer", "outbox-relay"]
        relay = persistence.child("outbox-relay").started_value
        assert isinstance(relay, OutboxRelay)
        await relay.drained()  # the seed tables' table.opened events, among others
        nursery.cancel_scope.cancel()
    async with open_store(settings.effective_database_url()) as store:
        events = await store.run(lambda: outbox.between(1, None, 1000), read_only=True)
    assert "table.opened" in {e.type for e in events}
    assert all(e.relayed_at_ms is not None for e in events)
    # The seed tables' own events say the stakes each opened with.
    opened = [decode_payload(e.type, e.payload) for e in events if e.type == "table.opened"]
    assert all(o.big_blind is not None and o.variant is not None for o in opened)
    assert all(o.bankroll == "cash" and o.club_id is None for o in opened)


async def test_with_an_amqp_url_the_server_publishes_to_tablium_events(
    tmp_path: Path, amqp_url: str
) -> None:
    from persistence.amqp import AmqpBus, open_amqp_loop
    from persistence.event_bus import EXCHANGE
    from tests.persistence.amqp_tools import Broker

    settings = Settings(
        ws_port=0, admin_port=0, api_port=0, data_dir=tmp_path, jwt_secret="s" * 40,
        amqp_url=amqp_url,
    )  # fmt: skip
    async with open_amqp_loop() as loop:
        broker = Broker(amqp_url, loop)
        broker.exchange = EXCHANGE  # the production exchange; our own queue on it
        observer = await broker.bind_observer("table.opened")
        try:
            async with trio.open_nursery() as nursery:
                listening = await nursery.start(run_server, settings)
                persistence = listening.runtime.root.child("persistence").supervisor
                assert persistence is not None
                relay = persistence.child("outbox-relay").started_value
                assert isinstance(relay, OutboxRelay) and isinstance(relay.bus, AmqpBus)
                await relay.drained()
                nursery.cancel_scope.cancel()
            messages = await broker.drain(observer)
        finally:

            async def delete_queue() -> None:
                import aiormq

                connection = await aiormq.connect(amqp_url)
                try:
                    channel = await connection.channel()
                    await channel.queue_delete(observer)
                finally:
                    await connection.close()

            with trio.CancelScope(shield=True):
                await loop.run_aio_coroutine(delete_queue())
    async with open_store(settings.effective_database_url()) as store:
        events = await store.run(lambda: outbox.between(1, None, 1000), read_only=True)
    opened = {str(e.id) for e in events if e.type == "table.opened"}
    assert opened and all(e.relayed_at_ms is not None for e in events)
    published = {msgspec.json.decode(body)["id"] for key, body, _ in messages}
    assert opened <= published  # (another server on this broker may publish too)
