"""The pure parts of server/cluster.py: the mirror's bounds, and which replayed events a
resume on another node may trust."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from server.cluster import ReplayMirror, consecutive_tail
from server.session import PlayerSession


def _session(session_id: str = "s") -> PlayerSession:
    return PlayerSession(session_id, "alice", "player", replay_events_max=4)


def test_the_mirror_keeps_a_sessions_newest_events_and_drains_once() -> None:
    mirror = ReplayMirror(events_max=3, frames_max=100)
    session = _session()
    session.mirror = mirror
    for _ in range(5):
        session.push_encoded(msgspec.Raw(b"\xc0"))
    assert len(mirror) == 3
    ((drained, last_seq, events),) = mirror.drain()
    assert drained is session and last_seq == 5 and [seq for seq, _ in events] == [3, 4, 5]
    assert mirror.drain() == [] and len(mirror) == 0


def test_a_full_mirror_drops_new_frames_and_counts_them() -> None:
    mirror = ReplayMirror(events_max=10, frames_max=2)
    for n in range(3):
        mirror.append(_session(f"s{n}"), 1, b"f")
    assert len(mirror) == 2 and mirror.frames_dropped == 1


def test_a_hole_cuts_the_replay_a_resume_may_trust() -> None:
    replay = ((1, b"a"), (2, b"b"), (4, b"d"), (5, b"e"))
    assert consecutive_tail(replay, 5) == [(4, b"d"), (5, b"e")]
    assert consecutive_tail(replay, 6) == []
    assert consecutive_tail((), 3) == []


@given(st.lists(st.integers(1, 40), unique=True), st.integers(0, 45))
def test_the_trusted_tail_is_consecutive_and_ends_at_the_last_seq(
    seqs: list[int], last_seq: int
) -> None:
    # As Redis holds it: the newest entry is at most the recorded last seq.
    replay = tuple((seq, str(seq).encode()) for seq in sorted(seqs) if seq <= last_seq)
    tail = consecutive_tail(replay, last_seq)
    if tail:
        assert tail[-1][0] == last_seq
        assert [seq for seq, _ in tail] == list(range(tail[0][0], last_seq + 1))
        assert (tail[0][0] - 1, str(tail[0][0] - 1).encode()) not in replay
    else:
        assert all(seq != last_seq for seq, _ in replay)
