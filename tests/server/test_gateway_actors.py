"""Under the actor runtime: each session is a temporary actor session:<id> that tables tell."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
import trio
import trio.testing
from trio.testing import MockClock

from actors.runtime import ChildSpec, Registry, Runtime
from persistence.store import open_store
from protocol.client import open_client
from protocol.messages import Event, Notice
from server.gateway import Gateway, GatewayLimits, serve_gateway
from server.session_actor import Push, session_actor_name
from services.passwords import CHEAP_HASHING_FOR_TESTS
from tests.actors import assert_no_orphans
from tests.e2e.clock import gateway_test_clock
from tests.protocol.gateway_harness import PASSWORD, TEST_SECRET


@pytest.fixture
def clock() -> MockClock:
    return gateway_test_clock()


@asynccontextmanager
async def supervised_gateway(
    tmp_path: Path, limits: GatewayLimits | None = None
) -> AsyncIterator[tuple[Runtime, Gateway]]:
    registry = Registry()
    async with open_store(f"sqlite:///{tmp_path / 'g.sqlite3'}") as store:
        runtime = Runtime(
            [
                ChildSpec.supervisor("sessions"),
                ChildSpec.service(
                    "gateway",
                    partial(
                        serve_gateway,
                        store,
                        TEST_SECRET,
                        limits=limits,
                        hashing=CHEAP_HASHING_FOR_TESTS,
                        sessions_supervisor=lambda: registry.supervisor("sessions"),
                    ),
                ),
            ],
            registry=registry,
            metrics_registry=None,
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(runtime.run)
            gateway = runtime.root.child("gateway").started_value
            assert isinstance(gateway, Gateway)
            yield runtime, gateway
            runtime.stop()
        assert_no_orphans(runtime)


async def test_a_login_starts_a_session_actor_that_tables_tell(tmp_path: Path) -> None:
    async with (
        supervised_gateway(tmp_path) as (runtime, gateway),
        open_client(gateway.url) as client,
    ):
        logged_in = await client.register("alice", PASSWORD)
        ref = runtime.registry.get(session_actor_name(logged_in.session_id))
        sessions = runtime.tree().children[0]
        assert [node.kind for node in sessions.children] == ["session"]
        assert gateway.session_refs_of_player("alice") == [ref]
        ref.tell(Push(Notice(code="table", text="your turn")))
        assert await client.next_event() == Event(
            seq=1, body=Notice(code="table", text="your turn")
        )


async def test_logout_stops_the_session_actor(tmp_path: Path) -> None:
    async with supervised_gateway(tmp_path) as (runtime, gateway):
        async with open_client(gateway.url) as client:
            logged_in = await client.register("alice", PASSWORD)
            ref = runtime.registry.get(session_actor_name(logged_in.session_id))
            await client.logout()
        await trio.testing.wait_all_tasks_blocked()
        assert not ref.alive
        assert runtime.registry.names("session:") == []


async def test_the_session_actor_outlives_a_drop_until_the_grace_period_ends(
    tmp_path: Path, clock: MockClock
) -> None:
    limits = GatewayLimits(resume_grace_ms=20_000)
    async with supervised_gateway(tmp_path, limits) as (runtime, gateway):
        async with open_client(gateway.url, reconnect=False) as client:
            logged_in = await client.register("alice", PASSWORD)
        name = session_actor_name(logged_in.session_id)
        await trio.sleep(limits.resume_grace_ms / 1000 / 2)
        assert runtime.registry.names("session:") == [name]  # seats held meanwhile
        runtime.registry.get(name).tell(Push(Notice(code="n", text="while away")))
        await trio.sleep(limits.resume_grace_ms / 1000)
        assert runtime.registry.names("session:") == []
        assert len(gateway.sessions) == 0
