"""Password hashing (argon2id), off the event loop, with admission control.

Hashing is slow and blocking on purpose, so it runs in worker threads, at most
HASHING_THREADS_MAX at a time (one core is left to the event loop); other logins wait their
turn instead of each taking a thread (and 19 MiB) of their own.

The wait is bounded twice: at most ``waiting_max`` hashes may wait for a thread
(HASHES_WAITING_MAX by default; the ``login_hashes_waiting_max`` setting), and a hash is not
queued when the queue ahead of it should take longer than ``wait_ms_max`` to drain (the
gateway passes half its login deadline; hash times are a running mean, and they grow when the
cores are busy with play). Overflow policy: refuse at once with
HashingBusy, which carries how long the queue should take to drain (``retry_after_ms``), so a
login storm gets fast ``server_busy`` answers instead of a queue that grows past the gateway's
login deadline and times every login out. A waiting hash whose requester has gone (its
connection closed) is dropped when its turn comes, not computed.

Fair share: a hash may name its ``owner`` (the client's address); one owner may have at most
``per_owner_max`` hashes waiting or running, so one address with many connections cannot fill
the queue and lock everyone else out of password logins (overflow policy: that owner's next
hash is refused with HashingBusy, the others are untouched).

Common passwords: ``is_common_password`` checks the 30,000 most common passwords of the
zxcvbn package (its ``passwords`` frequency list, from Xato's corpus of 10 million leaked
passwords; MIT licence), loaded once on first use.
"""

from __future__ import annotations

import collections
import functools
import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar, final

import argon2
import trio

# Hashing threads: the machine's cores less one, which the event loop needs: with as many
# hashing threads as cores, a login storm starved play (the swarm measured websocket handshakes
# of 3 s and action round trips of 5-8 s on 2 cores while both threads hashed non-stop).
HASHING_THREADS_MAX: Final = max(1, (os.cpu_count() or 1) - 1)
# About two seconds of queue at ~10 hashes a second: well inside the 5 s login deadline.
HASHES_WAITING_MAX: Final = 32
# Hashes one owner (client address) may have waiting or running at once: its fair share.
HASHES_PER_OWNER_MAX: Final = 4
RETRY_AFTER_MS_MIN: Final = 100
RETRY_AFTER_MS_MAX: Final = 10_000
# Weight of the newest hash in the running mean of hash times (retry_after_ms estimates).
_HASH_TIME_WEIGHT: Final = 0.2

T = TypeVar("T")


@final
@dataclass(frozen=True, slots=True)
class HashingCost:
    """argon2id cost. The default is OWASP's recommended argon2id configuration (Password
    Storage Cheat Sheet: 19 MiB, 2 passes, 1 lane), not RFC 9106's 64 MiB and 3 passes: at
    about 0.6 s a hash on one of our cores, the latter admits under 2 logins a second per
    process, so a reconnect storm of thousands of players would take the better part of an
    hour. Hashes made with other costs still verify (argon2 stores the cost in the hash).
    Tests use a cheap one so that a suite full of logins stays fast."""

    time_cost: int = 2
    memory_kib: int = 19 * 1024
    parallelism: int = 1


CHEAP_HASHING_FOR_TESTS: Final = HashingCost(time_cost=1, memory_kib=1024, parallelism=1)


@functools.cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # ~0.1 s, once

    return frozenset(p.casefold() for p in FREQUENCY_LISTS["passwords"])


def is_common_password(password: str) -> bool:
    """True if ``password`` (ignoring case) is among the 30,000 most common passwords."""
    return password.casefold() in _common_passwords()


def load_common_passwords() -> int:
    """Load the list now (start-up) rather than in the first registration; returns its size."""
    return len(_common_passwords())


class HashingBusy(Exception):
    """``waiting_max`` hashes wait already: nothing was queued. Our limit, not the client's
    fault: the gateway answers ``server_busy`` with ``retry_after_ms``."""

    def __init__(self, retry_after_ms: int) -> None:
        super().__init__(f"password hashing is saturated; retry after {retry_after_ms} ms")
        self.retry_after_ms = retry_after_ms


class HashingAbandoned(Exception):
    """The requester went away while its hash waited; the hash was not computed."""


@final
class PasswordHasher:
    """argon2id hashing off the event loop: at most HASHING_THREADS_MAX hashes at once and at
    most ``waiting_max`` waiting (beyond that: HashingBusy)."""

    def __init__(
        self,
        cost: HashingCost = HashingCost(),
        waiting_max: int = HASHES_WAITING_MAX,
        hash_s_estimate: float | None = None,
        wait_ms_max: int | None = None,
        per_owner_max: int = HASHES_PER_OWNER_MAX,
    ) -> None:
        """``hash_s_estimate`` seeds the running mean of hash times behind retry_after_ms
        (None: the time of the first hash, made here); ``wait_ms_max`` (None: no bound by
        time) refuses a hash whose expected wait is longer; ``per_owner_max`` bounds the
        hashes of one owner waiting or running."""
        if waiting_max < 0:
            raise ValueError(f"waiting_max must be >= 0, got {waiting_max}")
        if per_owner_max < 1:
            raise ValueError(f"per_owner_max must be >= 1, got {per_owner_max}")
        self._hasher = argon2.PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_kib,
            parallelism=cost.parallelism,
            type=argon2.Type.ID,
        )
        self.waiting_max: Final = waiting_max
        self.wait_ms_max: Final = wait_ms_max
        self.per_owner_max: Final = per_owner_max
        # Invariant: each count is the owner's hashes waiting or running, > 0 (else no key).
        self._by_owner: collections.Counter[str] = collections.Counter()
        self.refused_over_share = 0  # HashingBusy for an owner over per_owner_max (metrics)
        self._limiter = trio.CapacityLimiter(HASHING_THREADS_MAX)
        # Invariant: 0 <= waiting <= waiting_max (hashes queued for a thread, not running).
        self.waiting = 0
        self.refused = 0  # HashingBusy raised (metrics)
        self.abandoned = 0  # waiting hashes dropped because their requester left (metrics)
        # Verifying against this when a name is unknown makes "no such player" take as long
        # as "wrong password", so response times do not reveal which names exist.
        started = time.perf_counter()
        self._decoy_hash = self._hasher.hash(secrets.token_hex(16))
        self._hash_s_mean = (
            time.perf_counter() - started if hash_s_estimate is None else hash_s_estimate
        )

    @property
    def running(self) -> int:
        """Hashes holding a thread now (at most HASHING_THREADS_MAX)."""
        return int(self._limiter.borrowed_tokens)

    def drain_ms(self) -> float:
        """How long the hashes running and waiting now should take to finish."""
        return 1000 * self._hash_s_mean * (self.waiting + self.running) / HASHING_THREADS_MAX

    def retry_after_ms(self) -> int:
        """drain_ms(), clamped to [RETRY_AFTER_MS_MIN, RETRY_AFTER_MS_MAX]."""
        return max(RETRY_AFTER_MS_MIN, min(RETRY_AFTER_MS_MAX, math.ceil(self.drain_ms())))

    async def hash(
        self,
        password: str,
        still_wanted: Callable[[], bool] | None = None,
        owner: str | None = None,
    ) -> str:
        """The argon2id hash of ``password``. Raises HashingBusy when the queue is full or
        ``owner`` has its share in it already, and HashingAbandoned when ``still_wanted()``
        is false by the time a thread is free."""
        return await self._run(self._hasher.hash, password, still_wanted, owner)

    async def verify(
        self,
        password_hash: str | None,
        password: str,
        still_wanted: Callable[[], bool] | None = None,
        owner: str | None = None,
    ) -> bool:
        """True if ``password`` matches; ``None`` (no such account) spends the same time.
        Raises HashingBusy and HashingAbandoned as hash() does."""

        def check(password: str) -> bool:
            try:
                return self._hasher.verify(password_hash or self._decoy_hash, password) and (
                    password_hash is not None
                )
            except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
                return False

        return await self._run(check, password, still_wanted, owner)

    async def _run(
        self,
        work: Callable[[str], T],
        password: str,
        still_wanted: Callable[[], bool] | None,
        owner: str | None,
    ) -> T:
        if owner is None:
            return await self._run_admitted(work, password, still_wanted)
        if self._by_owner[owner] >= self.per_owner_max:
            self.refused += 1
            self.refused_over_share += 1
            raise HashingBusy(self.retry_after_ms())
        self._by_owner[owner] += 1
        try:
            return await self._run_admitted(work, password, still_wanted)
        finally:
            self._by_owner[owner] -= 1
            if self._by_owner[owner] <= 0:
                del self._by_owner[owner]

    async def _run_admitted(
        self,
        work: Callable[[str], T],
        password: str,
        still_wanted: Callable[[], bool] | None,
    ) -> T:
        try:
            # A free thread (a released token goes straight to the first waiter, so this
            # never jumps the queue).
            self._limiter.acquire_nowait()
        except trio.WouldBlock:
            if self.waiting >= self.waiting_max or (
                self.wait_ms_max is not None and self.drain_ms() >= self.wait_ms_max
            ):
                self.refused += 1
                raise HashingBusy(self.retry_after_ms()) from None
            self.waiting += 1
            try:
                await self._limiter.acquire()  # cancellable: a cancelled waiter leaves
            finally:
                self.waiting -= 1
        try:
            if still_wanted is not None and not still_wanted():
                self.abandoned += 1
                raise HashingAbandoned("the requester left before its turn")

            def timed() -> tuple[T, float]:
                started = time.perf_counter()
                result = work(password)
                return result, time.perf_counter() - started

            result, took_s = await trio.to_thread.run_sync(timed)
            self._hash_s_mean += _HASH_TIME_WEIGHT * (took_s - self._hash_s_mean)
            return result
        finally:
            self._limiter.release()
