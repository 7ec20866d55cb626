"""Throttles keyed by who is asking: token buckets and failure backoff, with bounded memory.

Pure: no I/O and no clock of its own (every call takes ``now_s``, trio's clock in the
server), so the rules are tested without waiting. The keys are account names (folded) and
client addresses; each map holds at most ``keys_max`` keys, and its overflow policy is to
forget the key used least recently (an attacker who floods the map with new keys only
frees the oldest ones early; he cannot make it grow).

Across nodes (docs/scaling.md): ``SharedThrottles`` is the same pair of rules kept in
Redis (persistence/shared_state.py). ``SharedRateLimit`` puts a node-local allowance in
front of a shared bucket, so that the hot path asks Redis once per ``chunk`` requests of a
key, not once per request.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Generic, Protocol, TypeVar, final

KEYS_MAX: Final = 100_000  # per map: a few MB at most

V = TypeVar("V")


@final
class TokenBucket:
    """Rate limit: ``burst`` requests at once, refilled at ``refill_per_s``.

    Invariant: 0 <= tokens <= burst.
    """

    __slots__ = ("_stamp_s", "burst", "refill_per_s", "tokens")

    def __init__(self, burst: int, refill_per_s: float, now_s: float) -> None:
        self.burst = burst
        self.refill_per_s = refill_per_s
        self.tokens = float(burst)
        self._stamp_s = now_s

    def _refill(self, now_s: float) -> None:
        elapsed_s = max(0.0, now_s - self._stamp_s)
        self.tokens = min(self.burst, self.tokens + elapsed_s * self.refill_per_s)
        self._stamp_s = now_s

    def take(self, now_s: float) -> float:
        """Spend one token; 0.0 if there was one, else the seconds until there is."""
        self._refill(now_s)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.refill_per_s

    def full(self, now_s: float) -> bool:
        """True when the bucket has refilled completely (its key may then be forgotten)."""
        self._refill(now_s)
        return self.tokens >= self.burst


class _Keyed(Generic[V]):
    """An LRU map bounded by ``keys_max``: the shared part of the throttles below."""

    def __init__(self, keys_max: int) -> None:
        if keys_max < 1:
            raise ValueError(f"keys_max must be >= 1, got {keys_max}")
        self.keys_max: Final = keys_max
        self._entries: collections.OrderedDict[str, V] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def _put(self, key: str, entry: V) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.keys_max:
            self._entries.popitem(last=False)  # overflow: forget the least recent key

    def _forget(self, key: str) -> None:
        self._entries.pop(key, None)


@final
class KeyedRateLimit(_Keyed[TokenBucket]):
    """One token bucket per key (a client address, say)."""

    def __init__(self, burst: int, refill_per_s: float, keys_max: int = KEYS_MAX) -> None:
        super().__init__(keys_max)
        self.burst = burst
        self.refill_per_s = refill_per_s

    def take(self, key: str, now_s: float) -> float:
        """Spend one of ``key``'s tokens: 0.0, or the seconds until one is there."""
        return self.bucket(key, now_s).take(now_s)

    def bucket(self, key: str, now_s: float) -> TokenBucket:
        """``key``'s bucket (a full one if it had none), for callers that report what is
        left in it (the public API's RateLimit headers)."""
        bucket = self._get(key)
        if bucket is None:
            bucket = TokenBucket(self.burst, self.refill_per_s, now_s)
            self._put(key, bucket)
        return bucket


@final
@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """How failed attempts of one key (an account, an address) slow the next ones.

    The first ``failures_before_delay - 1`` failures cost nothing. From the
    ``failures_before_delay``-th on, the next attempt must wait ``delay_first_ms``, doubling
    with each further failure (at most ``lock_s``); at ``failures_to_lock`` failures the key
    is locked for ``lock_s``. Failures are forgotten ``lock_s`` after the last one, or at
    the key's next success.
    """

    failures_before_delay: int
    failures_to_lock: int
    delay_first_ms: int
    lock_s: int

    def __post_init__(self) -> None:
        if not 1 <= self.failures_before_delay <= self.failures_to_lock:
            raise ValueError("need 1 <= failures_before_delay <= failures_to_lock")
        if self.delay_first_ms < 1 or self.lock_s < 1:
            raise ValueError("delay_first_ms and lock_s must be >= 1")

    def wait_s(self, failures: int) -> float:
        """How long after the last of ``failures`` failures the next attempt must wait."""
        if failures >= self.failures_to_lock:
            return float(self.lock_s)
        if failures < self.failures_before_delay:
            return 0.0
        doublings = min(failures - self.failures_before_delay, 32)
        delay_s: float = self.delay_first_ms * (1 << doublings) / 1000
        return min(float(self.lock_s), delay_s)

    def wait_after(self, failures: int, since_last_s: float) -> float:
        """The wait left ``since_last_s`` after the last of ``failures`` failures (0 once
        lock_s has passed: forgiven)."""
        if failures <= 0 or since_last_s >= self.lock_s:
            return 0.0
        return max(0.0, self.wait_s(failures) - since_last_s)


@dataclass(slots=True)
class _Failures:
    count: int
    last_s: float


@final
class FailureBackoff(_Keyed[_Failures]):
    """Failed attempts per key and the wait they impose (BackoffPolicy)."""

    def __init__(self, policy: BackoffPolicy, keys_max: int = KEYS_MAX) -> None:
        super().__init__(keys_max)
        self.policy = policy

    def _current(self, key: str, now_s: float) -> _Failures | None:
        entry = self._get(key)
        if entry is not None and now_s - entry.last_s >= self.policy.lock_s:
            self._forget(key)  # quiet for lock_s: forgiven
            return None
        return entry

    def wait_s(self, key: str, now_s: float) -> float:
        """0.0 if ``key`` may try now, else the seconds until it may."""
        entry = self._current(key, now_s)
        if entry is None:
            return 0.0
        return max(0.0, entry.last_s + self.policy.wait_s(entry.count) - now_s)

    def failed(self, key: str, now_s: float) -> int:
        """Count a failure of ``key``; returns its failures so far."""
        entry = self._current(key, now_s)
        if entry is None:
            entry = _Failures(0, now_s)
        entry.count += 1
        entry.last_s = now_s
        self._put(key, entry)
        return entry.count

    def succeeded(self, key: str) -> None:
        self._forget(key)

    def locked(self, key: str, now_s: float) -> bool:
        entry = self._current(key, now_s)
        return entry is not None and entry.count >= self.policy.failures_to_lock


class FailureCount(Protocol):
    @property
    def count(self) -> int: ...
    @property
    def since_last_s(self) -> float: ...


class SharedThrottles(Protocol):
    """Token buckets and failure counters that every node sees (Redis). Each call raises
    persistence.redis_link.RedisDown when the shared store does not answer."""

    async def take(
        self, scope: str, key: str, burst: int, refill_per_s: float, want: int
    ) -> tuple[int, float]:
        """Up to ``want`` tokens: (granted, wait_s); wait_s > 0 only if none was granted."""
        ...

    async def failures(self, scope: str, keys: Sequence[str]) -> Sequence[FailureCount]: ...

    async def failed(
        self, scope: str, keys: Sequence[str], lock_s: int
    ) -> Sequence[FailureCount]: ...

    async def succeeded(self, scope: str, key: str) -> None: ...


@dataclass(slots=True)
class _Allowance:
    tokens: int
    until_s: float


ALLOWANCE_TTL_S: Final = 1.0  # tokens taken ahead and not spent within this are let go


@final
class SharedRateLimit(_Keyed[_Allowance]):
    """A rate limit per key whose bucket is shared by every node.

    A node takes up to ``chunk`` tokens at once from the shared bucket and spends them
    locally for at most ALLOWANCE_TTL_S; so a key's requests spread over nodes are held to
    ``burst`` and ``refill_per_s`` give or take ``chunk - 1`` tokens per node, and the
    shared store is asked once per ``chunk`` requests. ``chunk=1`` is exact.

    Only the decision is here; the caller awaits ``shared.take`` when ``needs_shared``
    says so (the hot path has no await when the allowance covers the request).
    """

    def __init__(
        self, scope: str, burst: int, refill_per_s: float, chunk: int, keys_max: int = KEYS_MAX
    ) -> None:
        super().__init__(keys_max)
        if not 1 <= chunk <= burst:
            raise ValueError(f"need 1 <= chunk <= burst, got chunk={chunk} burst={burst}")
        self.scope = scope
        self.burst = burst
        self.refill_per_s = refill_per_s
        self.chunk = chunk

    def take_local(self, key: str, now_s: float) -> bool:
        """Spend one token taken ahead; False if there is none (ask the shared bucket)."""
        allowance = self._get(key)
        if allowance is None or allowance.tokens <= 0 or now_s >= allowance.until_s:
            return False
        allowance.tokens -= 1
        return True

    def granted(self, key: str, granted: int, now_s: float) -> None:
        """The shared bucket gave ``granted`` tokens: one is spent now, the rest kept."""
        if granted > 1:
            self._put(key, _Allowance(granted - 1, now_s + ALLOWANCE_TTL_S))
        else:
            self._forget(key)

    async def take(self, shared: SharedThrottles, key: str, now_s: float) -> float:
        """0.0 if ``key`` may go on, else the seconds until it may. Raises RedisDown."""
        if self.take_local(key, now_s):
            return 0.0
        granted, wait_s = await shared.take(
            self.scope, key, self.burst, self.refill_per_s, self.chunk
        )
        if granted == 0:
            return wait_s
        self.granted(key, granted, now_s)
        return 0.0
