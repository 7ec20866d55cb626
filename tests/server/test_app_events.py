"""The server runs the outbox relay under its persistence supervisor; with no broker
configured the events are relayed in process (and stamped)."""

from __future__ import annotations

from pathlib import Path

import trio

from persistence import outbox
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
