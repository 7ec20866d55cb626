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
from actors.table.player_tables import AtTable
from persistence.store import open_store
from protocol.client import open_client
from protocol.codec import encode_body
from protocol.errors import CloseCode
from protocol.messages import Event, Notice
from server.connection import Connection
from server.gateway import Gateway, GatewayLimits, PlayerChannel, serve_gateway
from server.session_actor import SESSION_MAILBOX_MESSAGES_MAX, Deliver, session_actor_name
from services.passwords import CHEAP_HASHING_FOR_TESTS
from tests.actors import assert_no_orphans
from tests.e2e.clock import gateway_test_clock
from tests.protocol.gateway_harness import PASSWORD, TEST_SECRET


@pytest.fixture
def clock() -> MockClock:
    return gateway_test_clock()


@asynccontextmanager
async def supervised_gateway(
    tmp_path: Path, limits: GatewayLimits | None = None, channel: PlayerChannel | None = None
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
                        channel=channel,
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
        ref.tell(Deliver(encode_body(Notice(code="table", text="your turn"))))
        assert await client.next_event() == Event(
            seq=1, body=Notice(code="table", text="your turn")
        )


async def test_a_table_push_is_in_the_session_at_once_unless_its_mailbox_holds_some(
    tmp_path: Path,
) -> None:
    async with (
        supervised_gateway(tmp_path) as (runtime, gateway),
        open_client(gateway.url) as client,
    ):
        logged_in = await client.register("alice", PASSWORD)
        player_id = logged_in.player_id
        assert player_id is not None
        ref = runtime.registry.get(session_actor_name(logged_in.session_id))
        session = gateway.sessions.get(logged_in.session_id)
        assert session is not None and session.last_seq == 0
        gateway.deliver(player_id, Notice(code="table", text="your turn"))
        # An empty mailbox: numbered and offered in the table's call, no actor turn.
        assert (ref.depth, session.last_seq) == (0, 1)
        # Something queued: the push waits behind it, so the events keep their order.
        ref.tell(Deliver(encode_body(Notice(code="queued", text="first"))))
        gateway.deliver(player_id, Notice(code="table", text="second"))
        assert (ref.depth, session.last_seq) == (2, 1)
        assert [await client.next_event() for _ in range(3)] == [
            Event(seq=1, body=Notice(code="table", text="your turn")),
            Event(seq=2, body=Notice(code="queued", text="first")),
            Event(seq=3, body=Notice(code="table", text="second")),
        ]


async def test_pushes_to_parked_writers_go_out_in_one_flusher_step_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table's pushes to connections whose writers are parked are written by the gateway's
    flusher, every connection's frames in one write, and the writers stay parked."""
    async with (
        supervised_gateway(tmp_path) as (_, gateway),
        open_client(gateway.url) as alice,
        open_client(gateway.url) as bob,
    ):
        players = [await alice.register("alice", PASSWORD), await bob.register("bob", PASSWORD)]
        await trio.testing.wait_all_tasks_blocked()
        outlets = []
        for logged_in in players:
            session = gateway.sessions.get(logged_in.session_id)
            assert session is not None and isinstance(session.outlet, Connection)
            outlets.append(session.outlet)
        assert None not in [outlet._parked for outlet in outlets]
        woken: list[Connection] = []
        wake = Connection._wake_writer

        def counted(connection: Connection) -> None:
            woken.append(connection)
            wake(connection)

        monkeypatch.setattr(Connection, "_wake_writer", counted)
        texts = ["one", "two", "three"]
        for text in texts:  # one table turn: three pushes to each player
            for logged_in in players:
                assert logged_in.player_id is not None
                gateway.deliver(logged_in.player_id, Notice(code="table", text=text))
        for client in (alice, bob):
            assert [await client.next_event() for _ in texts] == [
                Event(seq=n, body=Notice(code="table", text=text))
                for n, text in enumerate(texts, 1)
            ]
        assert woken == []  # the flusher wrote them: no writer was woken


async def test_a_reply_waits_for_the_pushes_told_before_it(tmp_path: Path) -> None:
    async with (
        supervised_gateway(tmp_path) as (runtime, gateway),
        open_client(gateway.url) as client,
    ):
        logged_in = await client.register("alice", PASSWORD)
        assert logged_in.player_id is not None
        ref = runtime.registry.get(session_actor_name(logged_in.session_id))
        session = gateway.sessions.get(logged_in.session_id)
        assert session is not None
        for n in range(3):
            ref.tell(Deliver(encode_body(Notice(code="n", text=str(n)))))
        assert session.last_seq == 0  # queued in the session actor's mailbox
        # What a connection awaits before a game request's reply: the pushes its request
        # caused are in the session (numbered, on their way to the client) first.
        await gateway.pushes_done(session)
        assert session.last_seq == 3


async def test_a_session_that_table_pushes_overflow_ends_as_a_slow_consumer(
    tmp_path: Path,
) -> None:
    async with (
        supervised_gateway(tmp_path) as (runtime, gateway),
        open_client(gateway.url, reconnect=False) as client,
    ):
        logged_in = await client.register("alice", PASSWORD)
        assert logged_in.player_id is not None
        ref = runtime.registry.get(session_actor_name(logged_in.session_id))
        # More pushes than the mailbox holds, before the session actor gets a turn (the
        # first told queues the rest behind it).
        ref.tell(Deliver(encode_body(Notice(code="n", text="first"))))
        for n in range(SESSION_MAILBOX_MESSAGES_MAX):
            gateway.deliver(logged_in.player_id, Notice(code="n", text=str(n)))
        assert ref.overflowed
        with trio.fail_after(5):
            async for _ in client.events():
                pass  # until the connection closes
        assert client.close_code == CloseCode.SLOW_CONSUMER
        await trio.testing.wait_all_tasks_blocked()
        assert len(gateway.sessions) == 0 and runtime.registry.names("session:") == []


async def test_the_session_keeps_the_tables_its_player_is_at(tmp_path: Path) -> None:
    channel = PlayerChannel()
    async with supervised_gateway(tmp_path, channel=channel) as (runtime, gateway):
        async with open_client(gateway.url, reconnect=False) as client:
            logged_in = await client.register("alice", PASSWORD)
            player_id = logged_in.player_id
            assert player_id is not None
            ref = runtime.registry.get(session_actor_name(logged_in.session_id))
            channel.at_table(player_id, AtTable("t1", "seated", on=True))
            channel.at_table(player_id, AtTable("t2", "watching", on=True))
            # Noted at once, not queued behind pushes: a seat left just before a logout is
            # gone from the record before the logout reads it.
            assert ref.depth == 0
            seen = (channel.seats_of(player_id), channel.watched_by(player_id))
            assert seen == (["t1"], ["t2"])
            channel.at_table(player_id, AtTable("t2", "watching", on=False))
            assert channel.watched_by(player_id) == [] and channel.away == {}
            # A seat left just before the logout is not in what her next session finds.
            channel.at_table(player_id, AtTable("t3", "seated", on=True))
            channel.at_table(player_id, AtTable("t3", "seated", on=False))
            await client.logout()
        await trio.testing.wait_all_tasks_blocked()
        # No session left: the seat nobody stood her up from (a tournament's) waits for
        # her next session, which adopts it; the table's word that she left empties it.
        assert channel.away[player_id].seated == {"t1"}
        async with open_client(gateway.url, reconnect=False) as again:
            await again.login("alice", PASSWORD)
            assert channel.away == {} and channel.seats_of(player_id) == ["t1"]
            channel.at_table(player_id, AtTable("t1", "seated", on=False))
            assert channel.seats_of(player_id) == []


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
        runtime.registry.get(name).tell(Deliver(encode_body(Notice(code="n", text="while away"))))
        await trio.sleep(limits.resume_grace_ms / 1000)
        assert runtime.registry.names("session:") == []
        assert len(gateway.sessions) == 0
