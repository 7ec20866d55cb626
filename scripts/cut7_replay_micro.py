"""Cut 7 of issue 25 (docs/loadtest.md, "Cut 7"): the replay buffer's memory and the push's
CPU, the way before against the way after, in one process. One-off; the way before is
written out here.

    PYTHONPATH=. .venv/bin/python scripts/cut7_replay_micro.py      # prints one JSON object

Six sessions (one table's players) each get the same 1,024 broadcasts of a 176-byte frame
(the table benchmark's mean frame is 158 bytes), the replay buffer's bound:

- ``full_buffer_kb``: Python allocations kept per session once its buffer is full
  (tracemalloc), the bodies counted once for the six: each session's own numbered frame
  with its seq in a tuple (before) against ``PlayerSession`` keeping the shared body
  (after).
- ``push_us``: wall time per push into a full buffer, best of 15 rounds.
"""

from __future__ import annotations

import collections
import json
import time
import tracemalloc
from collections.abc import Callable

import msgspec

from protocol.codec import encode_body, encode_event
from protocol.messages import Notice
from server.session import PlayerSession

EVENTS = 1024  # the gateway's replay_events_max
SEATS = 6
ROUNDS = 15


def _bodies() -> list[msgspec.Raw]:
    return [encode_body(Notice(code="a", text=f"{'x' * 125}{i:05d}")) for i in range(EVENTS)]


def before() -> object:
    """Each session numbers the body into its own frame and keeps (seq, frame)."""
    replays: list[collections.deque[tuple[int, bytes]]] = [
        collections.deque() for _ in range(SEATS)
    ]
    seqs = [1000] * SEATS
    for body in _bodies():
        for i, replay in enumerate(replays):
            seqs[i] += 1
            replay.append((seqs[i], encode_event(seqs[i], body)))
            if len(replay) > EVENTS:
                replay.popleft()
    return replays


def after() -> object:
    sessions = [
        PlayerSession(f"s{i}", f"p{i}", "player", replay_events_max=EVENTS, last_seq=1000)
        for i in range(SEATS)
    ]
    for body in _bodies():
        for session in sessions:
            session.push_encoded(body)
    return sessions


def _measure(fill: Callable[[], object]) -> dict[str, float]:
    tracemalloc.start()
    kept = fill()
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        fill()
        best = min(best, time.perf_counter() - started)
    return {
        "full_buffer_kb": round(size / SEATS / 1024, 1),
        "push_us": round(best / (EVENTS * SEATS) * 1e6, 2),
    }


if __name__ == "__main__":
    print(json.dumps({"before": _measure(before), "after": _measure(after)}))
