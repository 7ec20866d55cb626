"""Rate limits of the public API: token buckets per client address, per credential, and a
stricter one per address for register, login and refresh.

Every request takes one token from its address's bucket; an authenticated one also from its
credential's (an access token's session, or an API key at the key's own rate); register,
login and refresh also from the address's auth bucket. The buckets are
services/throttle.py's, in this process (their memory is bounded there: the least recently
used key is forgotten first). Over any of them: 429 ``rate_limited`` with ``Retry-After``.
Every response carries the tightest bucket it took from as ``RateLimit-Limit`` (the burst),
``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds until that bucket is full again).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, final

from services.throttle import KeyedRateLimit, TokenBucket

# Distinct per-key rates kept (one map each); beyond it the oldest rate's map is dropped
# (its keys start with full buckets again).
KEY_RATES_MAX: Final = 1_000


@final
@dataclass(frozen=True, slots=True)
class Quota:
    """What one bucket says about one request."""

    limit: int  # the bucket's burst
    remaining: int  # whole tokens left after this request
    reset_s: int  # seconds until the bucket is full again
    retry_after_s: int  # 0: allowed; else refused, and this long until one token is there

    @property
    def refused(self) -> bool:
        return self.retry_after_s > 0


def _taken(bucket: TokenBucket, now_s: float) -> Quota:
    wait_s = bucket.take(now_s)
    missing = bucket.burst - bucket.tokens
    return Quota(
        limit=bucket.burst,
        remaining=max(0, math.floor(bucket.tokens)),
        reset_s=max(0, math.ceil(missing / bucket.refill_per_s)),
        retry_after_s=math.ceil(wait_s) if wait_s > 0 else 0,
    )


def tightest(quotas: list[Quota]) -> Quota | None:
    """The quota to report: a refusal first, else the one with the fewest tokens left."""
    if not quotas:
        return None
    refused = [q for q in quotas if q.refused]
    if refused:
        return max(refused, key=lambda q: q.retry_after_s)
    return min(quotas, key=lambda q: (q.remaining, -q.reset_s))


@final
class RateLimits:
    def __init__(
        self,
        *,
        address_burst: int,
        address_refill_per_s: float,
        credential_burst: int,
        credential_refill_per_s: float,
        auth_per_min: int,
    ) -> None:
        self._by_address = KeyedRateLimit(address_burst, address_refill_per_s)
        self._by_credential = KeyedRateLimit(credential_burst, credential_refill_per_s)
        self._auth_by_address = KeyedRateLimit(auth_per_min, auth_per_min / 60)
        # requests_per_min -> the buckets of the keys with that rate.
        self._by_key_rate: dict[int, KeyedRateLimit] = {}

    def address(self, address: str, now_s: float) -> Quota:
        return _taken(self._by_address.bucket(address, now_s), now_s)

    def credential(self, key: str, now_s: float) -> Quota:
        return _taken(self._by_credential.bucket(key, now_s), now_s)

    def api_key(self, key_id: int, requests_per_min: int, now_s: float) -> Quota:
        limits = self._by_key_rate.get(requests_per_min)
        if limits is None:
            if len(self._by_key_rate) >= KEY_RATES_MAX:
                del self._by_key_rate[next(iter(self._by_key_rate))]
            limits = KeyedRateLimit(requests_per_min, requests_per_min / 60)
            self._by_key_rate[requests_per_min] = limits
        return _taken(limits.bucket(str(key_id), now_s), now_s)

    def auth(self, address: str, now_s: float) -> Quota:
        return _taken(self._auth_by_address.bucket(address, now_s), now_s)
