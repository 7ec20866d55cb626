"""Reconnect and resume: every missed event by seq, then current state; seats held meanwhile."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import trio
import trio.lowlevel
from trio.testing import MockClock
from trio_websocket import open_websocket_url

from protocol.client import open_client
from protocol.codec import encode
from protocol.errors import CloseCode, ErrorCode
from protocol.messages import Authenticate, Error, Event, LoggedIn, Notice, Register, SessionState
from server.gateway import GatewayLimits
from server.player_requests import DEFAULT_PREFERENCES
from tests.e2e.clock import gateway_test_clock
from tests.protocol.gateway_harness import (
    PASSWORD,
    RecordingHooks,
    decode,
    exchange,
    push_to_player,
    running_gateway,
    say_hello,
)


@pytest.fixture
def clock() -> MockClock:
    return gateway_test_clock()


def notice(n: int) -> Notice:
    return Notice(code="n", text=str(n))


async def test_resume_after_a_dropped_connection_loses_no_event(tmp_path: Path) -> None:
    hooks = RecordingHooks(state=[Notice(code="table", text="state of table 1")])
    async with (
        running_gateway(tmp_path, hooks=hooks) as gateway,
        open_client(gateway.url) as client,
    ):
        logged_in = await client.register("alice", PASSWORD)
        for n in range(1, 51):
            push_to_player(gateway, "alice", notice(n))
        received = [await client.next_event() for _ in range(50)]
        await client.simulate_network_drop()
        for n in range(51, 101):  # the server may not have noticed the drop yet
            push_to_player(gateway, "alice", notice(n))
        received += [await client.next_event() for _ in range(52)]
        assert all(isinstance(e, Event) for e in received)
        events = [e for e in received if isinstance(e, Event)]
        assert [e.seq for e in events] == list(range(1, 103))
        assert [e.body for e in events[:100]] == [notice(n) for n in range(1, 101)]
        # After the replay: which tables the session sits at, then their state.
        assert events[100].body == SessionState(table_ids=[], preferences=DEFAULT_PREFERENCES)
        assert events[101].body == hooks.state[0]
        assert client.reconnects == 1
        assert client.session_id == logged_in.session_id
        assert await hooks.next_call() == ("detached", "alice", logged_in.session_id)


async def test_events_pushed_during_repeated_drops_arrive_once_in_order(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    total = 400
    ahead_max = 100  # the pusher stays this far ahead of the reader: a client that keeps up
    # Drops more than ahead_max apart: by the time the reader reaches the next one, every
    # event it has read since the last came over the new connection, so each drop cuts a
    # live connection and costs one reconnect (closer drops could cut the dead one again).
    drops = [rng.randrange(20, 80)]
    for _ in range(2):
        drops.append(drops[-1] + ahead_max + 10 + rng.randrange(40))
    async with running_gateway(tmp_path) as gateway, open_client(gateway.url) as client:
        await client.register("alice", PASSWORD)
        texts: list[str] = []
        progress = trio.Event()

        async def push_all() -> None:
            nonlocal progress
            for n in range(1, total + 1):
                while n - len(texts) > ahead_max:
                    await progress.wait()
                    progress = trio.Event()
                push_to_player(gateway, "alice", notice(n))
                if rng.random() < 0.3:
                    await trio.lowlevel.checkpoint()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(push_all)
            while len(texts) < total:
                event = await client.next_event()
                assert isinstance(event, Event), (seed, event)
                if isinstance(event.body, Notice) and event.body.code == "n":
                    texts.append(event.body.text)
                    progress.set()
                    if drops and len(texts) == drops[0]:
                        drops.pop(0)
                        await client.simulate_network_drop()
        assert texts == [str(n) for n in range(1, total + 1)], f"replay with seed {seed}"
        assert client.reconnects == 3, f"replay with seed {seed}"


async def test_a_resume_after_the_grace_period_reports_the_gap_and_sends_state(
    tmp_path: Path, clock: MockClock
) -> None:
    limits = GatewayLimits(resume_grace_ms=30_000)
    hooks = RecordingHooks()
    async with running_gateway(tmp_path, limits=limits, hooks=hooks) as gateway:
        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            reply = await exchange(ws, encode(Register(id=2, name="alice", password=PASSWORD)))
            assert isinstance(reply, LoggedIn)
            push_to_player(gateway, "alice", notice(1))
            assert decode(await ws.get_message()) == Event(seq=1, body=notice(1))
        assert await hooks.next_call() == ("detached", "alice", reply.session_id)
        push_to_player(gateway, "alice", notice(2))  # buffered while the seat is held
        assert len(gateway.sessions) == 1
        detached_at = trio.current_time()
        assert await hooks.next_call(timeout_s=60) == ("ended", "alice", reply.session_id)
        assert trio.current_time() - detached_at >= limits.resume_grace_ms / 1000
        assert len(gateway.sessions) == 0

        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            resumed = await exchange(ws, encode(Authenticate(id=3, token=reply.token, last_seq=1)))
            assert isinstance(resumed, LoggedIn)
            assert (resumed.resume, resumed.session_id) == ("gap", reply.session_id)
            gap = decode(await ws.get_message())
            assert isinstance(gap, Error)
            assert (gap.id, gap.code) == (None, ErrorCode.REPLAY_GAP)
            state = decode(await ws.get_message())
            assert state == Event(
                seq=1, body=SessionState(table_ids=[], preferences=DEFAULT_PREFERENCES)
            )


async def test_a_resume_from_before_the_replay_buffer_reports_the_gap(tmp_path: Path) -> None:
    limits = GatewayLimits(replay_events_max=10)
    hooks = RecordingHooks()
    async with running_gateway(tmp_path, limits=limits, hooks=hooks) as gateway:
        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            reply = await exchange(ws, encode(Register(id=2, name="alice", password=PASSWORD)))
            assert isinstance(reply, LoggedIn)
        assert (await hooks.next_call())[0] == "detached"
        for n in range(1, 21):
            push_to_player(gateway, "alice", notice(n))
        async with open_client(gateway.url) as client:
            resumed = await client.authenticate(reply.token, last_seq=0)
            assert (resumed.resume, resumed.last_seq) == ("gap", 20)
            gap = await client.next_event()
            assert isinstance(gap, Error) and gap.code == ErrorCode.REPLAY_GAP
            assert await client.next_event() == Event(
                seq=21, body=SessionState(table_ids=[], preferences=DEFAULT_PREFERENCES)
            )


async def test_a_session_resumed_elsewhere_closes_the_old_connection(tmp_path: Path) -> None:
    async with (
        running_gateway(tmp_path) as gateway,
        open_client(gateway.url) as first,
        open_client(gateway.url) as second,
    ):
        logged_in = await first.register("alice", PASSWORD)
        resumed = await second.authenticate(logged_in.token)
        assert (resumed.resume, resumed.session_id) == ("complete", logged_in.session_id)
        # The old connection is told why and does not fight back by reconnecting.
        with trio.fail_after(10):
            async for _ in first.events():
                pass
        assert first.close_code == CloseCode.SESSION_REPLACED
        assert first.reconnects == 0
        assert await second.next_event() == Event(
            seq=1, body=SessionState(table_ids=[], preferences=DEFAULT_PREFERENCES)
        )
        push_to_player(gateway, "alice", notice(1))
        assert await second.next_event() == Event(seq=2, body=notice(1))
