"""Throttles keyed by who is asking: token buckets and failure backoff, with bounded memory.

Pure: no I/O and no clock of its own (every call takes ``now_s``, trio's clock in the
server), so the rules are tested without waiting. The keys are account names (folded) and
client addresses; each map holds at most ``keys_max`` keys, and its overflow policy is to
forget the key used least recently (an attacker who floods the map with new keys only
frees the oldest ones early; he cannot make it grow).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Final, Generic, TypeVar, final

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
