"""The node-local side of shared throttles (services/throttle.py): SharedRateLimit's
allowances in front of a shared bucket, and BackoffPolicy.wait_after, on explicit time.
The shared bucket here is an in-memory model of persistence/shared_state.py's Lua script
(tests/persistence/test_shared_state.py runs the real one)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from services.throttle import (
    ALLOWANCE_TTL_S,
    BackoffPolicy,
    FailureCount,
    KeyedRateLimit,
    SharedRateLimit,
)


class ModelBucket:
    """SharedThrottles.take over KeyedRateLimit buckets at the caller's time (no refill
    within a test step)."""

    def __init__(self) -> None:
        self.limits: dict[str, KeyedRateLimit] = {}
        self.now_s = 0.0
        self.calls = 0

    async def take(
        self, scope: str, key: str, burst: int, refill_per_s: float, want: int
    ) -> tuple[int, float]:
        self.calls += 1
        limit = self.limits.setdefault(scope, KeyedRateLimit(burst, refill_per_s))
        bucket = limit.bucket(key, self.now_s)
        granted = 0
        while granted < want and bucket.take(self.now_s) == 0.0:
            granted += 1
        if granted:
            return granted, 0.0
        return 0, (1.0 - bucket.tokens) / refill_per_s

    async def failures(self, scope: str, keys: Sequence[str]) -> Sequence[FailureCount]:
        raise NotImplementedError

    async def failed(self, scope: str, keys: Sequence[str], lock_s: int) -> Sequence[FailureCount]:
        raise NotImplementedError

    async def succeeded(self, scope: str, key: str) -> None:
        raise NotImplementedError


def test_a_chunk_larger_than_the_burst_is_refused() -> None:
    with pytest.raises(ValueError):
        SharedRateLimit("s", burst=4, refill_per_s=1.0, chunk=5)


async def test_the_shared_bucket_is_asked_once_per_chunk() -> None:
    shared = ModelBucket()
    limit = SharedRateLimit("s", burst=32, refill_per_s=1.0, chunk=8)
    waits = [await limit.take(shared, "1.2.3.4", 0.0) for _ in range(16)]
    assert waits == [0.0] * 16
    assert shared.calls == 2


async def test_an_allowance_not_spent_in_time_is_let_go() -> None:
    shared = ModelBucket()
    limit = SharedRateLimit("s", burst=32, refill_per_s=1.0, chunk=8)
    await limit.take(shared, "a", 0.0)
    assert limit.take_local("a", 0.5)
    assert not limit.take_local("a", ALLOWANCE_TTL_S)


@settings(max_examples=200, deadline=None)
@given(
    burst=st.integers(1, 40),
    chunk_share=st.floats(0.01, 1.0),
    nodes=st.integers(1, 4),
    requests=st.lists(st.integers(0, 3), max_size=120),
)
def test_nodes_together_never_pass_more_than_the_burst(
    burst: int, chunk_share: float, nodes: int, requests: list[int]
) -> None:
    chunk = max(1, min(burst, round(burst * chunk_share)))

    async def main() -> int:
        shared = ModelBucket()
        limits = [SharedRateLimit("s", burst, 1e-9, chunk) for _ in range(nodes)]
        passed = 0
        for node in requests:
            if await limits[node % nodes].take(shared, "k", 0.0) == 0.0:
                passed += 1
        return passed

    passed = trio.run(main)
    assert passed <= burst
    # Each node may hold back at most chunk - 1 tokens it took and has not spent.
    assert passed >= min(len(requests), burst - nodes * (chunk - 1))


def test_wait_after_counts_from_the_last_failure_and_forgives_after_the_lock() -> None:
    policy = BackoffPolicy(
        failures_before_delay=2, failures_to_lock=4, delay_first_ms=1000, lock_s=60
    )
    assert policy.wait_after(0, 0.0) == 0.0
    assert policy.wait_after(1, 0.0) == 0.0
    assert policy.wait_after(2, 0.25) == 0.75
    assert policy.wait_after(3, 0.0) == 2.0
    assert policy.wait_after(4, 10.0) == 50.0
    assert policy.wait_after(4, 60.0) == 0.0
