"""Property: whatever is told to a busy actor, it then handles exactly what a plain model queue
with the kind's capacity and overflow policy predicts (hypothesis prints the failing case)."""

from __future__ import annotations

from collections import deque
from typing import Any

import msgspec
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.runtime import Actor, ChildSpec, MailboxFull, Overflow, Restart, Runtime


class Hold(msgspec.Struct, frozen=True, tag=True):
    """Keeps the actor busy until the test opens the gate, so told messages pile up."""


class Item(msgspec.Struct, frozen=True, tag=True):
    n: int


def model(policy: Overflow, capacity: int, count: int) -> tuple[list[int], int, bool]:
    """(handled items, dropped count, crashed?) for `count` tells into a full-speed queue."""
    queue: deque[int] = deque()
    dropped = 0
    for n in range(count):
        if len(queue) < capacity:
            queue.append(n)
        elif policy is Overflow.DROP_OLDEST:
            queue.popleft()
            queue.append(n)
            dropped += 1
        elif policy is Overflow.STOP:
            return [], dropped + len(queue) + 1, True
        # BLOCK: tell raises MailboxFull and the item is not queued
    return list(queue), dropped, False


@settings(max_examples=60, deadline=None)
@given(
    policy=st.sampled_from(list(Overflow)),
    capacity=st.integers(min_value=1, max_value=8),
    count=st.integers(min_value=0, max_value=20),
)
async def test_a_busy_mailbox_behaves_like_the_model_queue(
    policy: Overflow, capacity: int, count: int
) -> None:
    gate = trio.Event()
    handled: list[int] = []

    class Busy(Actor[Any]):
        kind = "busy"
        mailbox_capacity = capacity
        mailbox_overflow = policy

        async def handle(self, message: Any) -> object:
            if isinstance(message, Hold):
                await gate.wait()
            else:
                handled.append(message.n)
            return None

    runtime = Runtime(
        [ChildSpec.worker("busy", Busy, restart=Restart.TEMPORARY)], metrics_registry=None
    )
    expected, expected_dropped, expected_crash = model(policy, capacity, count)
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        ref = runtime.registry.get("busy")
        ref.tell(Hold())
        await trio.testing.wait_all_tasks_blocked()  # the actor now waits at the gate
        refused = 0
        for n in range(count):
            try:
                ref.tell(Item(n))
            except MailboxFull:
                refused += 1
        gate.set()
        await trio.testing.wait_all_tasks_blocked()
        assert handled == expected
        assert ref.dropped == expected_dropped
        assert ref.alive is not expected_crash  # a temporary actor is gone after its overflow
        assert refused == (max(0, count - capacity) if policy is Overflow.BLOCK else 0)
        runtime.stop()
