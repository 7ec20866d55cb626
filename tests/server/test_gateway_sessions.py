"""The gateway's session bookkeeping, without sockets: seqs, replay, rate bucket, logouts."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from trio_websocket import open_websocket_url

import server.gateway
from protocol.client import open_client
from protocol.codec import encode, encode_body
from protocol.messages import Authenticate, Error, Event, LoggedIn, Logout, Notice, Register
from server.session import (
    LoggedOutSessions,
    PlayerSession,
    SessionRegistry,
    SessionsFull,
    TokenBucket,
)
from tests.protocol.gateway_harness import PASSWORD, exchange, running_gateway, say_hello


class Collect:
    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def offer(self, frame: bytes) -> None:
        self.frames.append(frame)


def test_pushes_are_numbered_from_one_and_sent_only_while_attached() -> None:
    session = PlayerSession("s", "alice", "player", replay_events_max=10)
    outlet = Collect()
    assert session.push(Notice(code="a", text="1")) == 1  # detached: buffered only
    session.attach(outlet)
    assert session.push(Notice(code="a", text="2")) == 2
    assert len(outlet.frames) == 1
    first = encode(Event(seq=1, body=Notice(code="a", text="1")))
    assert list(session.frames_after(0)) == [first, outlet.frames[0]]


def test_the_replay_buffer_keeps_the_newest_events_and_knows_its_gap() -> None:
    session = PlayerSession("s", "alice", "player", replay_events_max=3)
    sent = Collect()
    session.attach(sent)
    for n in range(5):
        session.push(Notice(code="a", text=str(n)))
    assert len(session.replay) == 3 and session.oldest_buffered_seq == 3
    assert session.can_replay_after(2) and session.can_replay_after(5)
    assert not session.can_replay_after(1)
    # A resume gets the very frames that were sent, made again from the buffered bodies.
    assert list(session.frames_after(3)) == sent.frames[3:]
    assert list(session.frames_after(0)) == sent.frames[2:]
    assert list(session.frames_after(5)) == []


def test_a_broadcast_body_is_buffered_once_for_all_its_sessions() -> None:
    """The replay keeps the body a table encoded once, not each session's own frame."""
    body = encode_body(Notice(code="a", text="x" * 200))
    sessions = [PlayerSession(f"s{i}", f"p{i}", "player", replay_events_max=8) for i in range(6)]
    outlets = [Collect() for _ in sessions]
    for session, outlet in zip(sessions, outlets, strict=True):
        session.push(Notice(code="a", text=session.player))  # seqs differ from here on
        session.attach(outlet)
        session.push_encoded(body)
    assert all(list(session.replay)[-1] is body for session in sessions)
    assert [list(s.frames_after(1)) for s in sessions] == [o.frames for o in outlets]


def test_a_restored_replay_resumes_with_its_frames_and_numbers_on() -> None:
    """A session another node held: its frames as they were, then this node's own pushes."""
    frames = [encode(Event(seq=seq, body=Notice(code="a", text=str(seq)))) for seq in (7, 8, 9)]
    session = PlayerSession("s", "alice", "player", replay_events_max=2)
    with pytest.raises(ValueError):
        session.restore(10, list(zip((7, 8, 9), frames, strict=True)))
    session.restore(9, list(zip((7, 8, 9), frames, strict=True)))
    assert session.oldest_buffered_seq == 8 and not session.can_replay_after(6)
    assert session.push(Notice(code="a", text="10")) == 10
    assert list(session.frames_after(7)) == [
        frames[2],
        encode(Event(seq=10, body=Notice(code="a", text="10"))),
    ]


def test_the_registry_refuses_sessions_beyond_its_bound() -> None:
    registry = SessionRegistry(sessions_max=2, replay_events_max=1)
    registry.create("a", "alice", "player")
    registry.create("b", "alice", "player")
    with pytest.raises(SessionsFull):
        registry.create("c", "bob", "player")
    assert len(registry.of_player("alice")) == 2


def test_the_bucket_allows_a_burst_then_the_refill_rate() -> None:
    bucket = TokenBucket(burst=3, refill_per_s=2, now_s=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.5) == 0.0
    assert bucket.take(100.0) == 0.0
    assert bucket.tokens == pytest.approx(2.0)  # refilled to the burst, not beyond


def test_logged_out_sessions_are_remembered_for_a_token_lifetime_within_a_bound() -> None:
    logged_out = LoggedOutSessions(token_ttl_s=100, leeway_s=10, entries_max=2)
    logged_out.add("a", now_s=0)
    assert "a" in logged_out
    logged_out.add("b", now_s=50)
    logged_out.add("c", now_s=60)  # over the bound: the oldest is forgotten early
    assert "a" not in logged_out and "b" in logged_out
    logged_out.add("d", now_s=161)  # b's tokens have all expired by now
    assert "b" not in logged_out and len(logged_out) == 2


async def test_a_token_cannot_reopen_a_logged_out_session(tmp_path: Path) -> None:
    async with running_gateway(tmp_path) as gateway:
        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            reply = await exchange(ws, encode(Register(id=2, name="alice", password=PASSWORD)))
            assert isinstance(reply, LoggedIn)
            await exchange(ws, encode(Logout(id=3)))
        async with open_websocket_url(gateway.url) as ws:
            await say_hello(ws)
            refused = await exchange(ws, encode(Authenticate(id=4, token=reply.token)))
            assert isinstance(refused, Error) and refused.code == "token_invalid"
            assert len(gateway.sessions) == 0


async def test_a_broadcast_body_is_encoded_once_for_all_its_recipients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded: list[object] = []

    def counting_encode_body(body: msgspec.Struct) -> msgspec.Raw:
        encoded.append(body)
        return encode_body(body)

    monkeypatch.setattr(server.gateway, "encode_body", counting_encode_body)
    async with (
        running_gateway(tmp_path) as gateway,
        open_client(gateway.url) as alice,
        open_client(gateway.url) as bob,
    ):
        await alice.register("alice", PASSWORD)
        await bob.register("bob", PASSWORD)
        await alice.ping()  # bob's and alice's sessions exist
        ids = [gateway.sessions.of_player(name)[0].player_id for name in ("alice", "bob")]
        assert None not in ids
        first = Notice(code="table", text="a broadcast")
        second = Notice(code="table", text="the next one")
        for body in (first, second):
            for player_id in ids:
                assert player_id is not None
                gateway.deliver(player_id, body)
        for client in (alice, bob):
            events = [await client.next_event(), await client.next_event()]
            assert [e.body for e in events if isinstance(e, Event)] == [first, second]
    assert encoded == [first, second]
