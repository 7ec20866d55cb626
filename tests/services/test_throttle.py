"""The throttles' rules (services/throttle.py), on explicit time: no waiting."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.throttle import BackoffPolicy, FailureBackoff, KeyedRateLimit

POLICY = BackoffPolicy(failures_before_delay=3, failures_to_lock=6, delay_first_ms=1000, lock_s=600)


def test_the_first_failures_cost_nothing_then_the_waits_double() -> None:
    backoff = FailureBackoff(POLICY)
    waits = []
    now = 0.0
    for _ in range(5):
        backoff.failed("alice", now)
        waits.append(backoff.wait_s("alice", now))
    assert waits == [0.0, 0.0, 1.0, 2.0, 4.0]


def test_enough_failures_lock_the_key_for_the_lock_time() -> None:
    backoff = FailureBackoff(POLICY)
    for _ in range(6):
        backoff.failed("alice", 0.0)
    assert backoff.locked("alice", 0.0)
    assert backoff.wait_s("alice", 0.0) == 600.0
    assert backoff.wait_s("alice", 599.0) == 1.0
    assert backoff.wait_s("alice", 600.0) == 0.0  # forgiven after a quiet lock_s
    assert not backoff.locked("alice", 600.0)


def test_a_success_forgives_the_key_and_keys_are_independent() -> None:
    backoff = FailureBackoff(POLICY)
    for _ in range(4):
        backoff.failed("alice", 0.0)
    assert backoff.wait_s("bob", 0.0) == 0.0
    backoff.succeeded("alice")
    assert backoff.wait_s("alice", 0.0) == 0.0


def test_delays_never_exceed_the_lock_time() -> None:
    policy = BackoffPolicy(1, 1000, 1000, 60)
    assert max(policy.wait_s(n) for n in range(2000)) == 60.0


def test_a_bad_policy_is_refused() -> None:
    with pytest.raises(ValueError):
        BackoffPolicy(5, 4, 1000, 60)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10_000), max_size=300), st.integers(1, 50))
def test_the_maps_never_hold_more_keys_than_their_bound(keys: list[int], keys_max: int) -> None:
    backoff = FailureBackoff(POLICY, keys_max=keys_max)
    rates = KeyedRateLimit(5, 1.0, keys_max=keys_max)
    for key in keys:
        backoff.failed(str(key), 0.0)
        rates.take(str(key), 0.0)
        assert len(backoff) <= keys_max and len(rates) <= keys_max


def test_a_keyed_rate_limit_gives_each_key_its_own_bucket() -> None:
    rates = KeyedRateLimit(burst=2, refill_per_s=1.0)
    assert [rates.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 1.0]
    assert rates.take("b", 0.0) == 0.0
    assert rates.take("a", 1.0) == 0.0
