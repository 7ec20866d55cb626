"""Password hashing (argon2id), off the event loop.

Hashing is slow and blocking on purpose, so it runs in worker threads, at most
HASHING_THREADS_MAX at a time; other logins wait their turn instead of each taking a thread
(and 64 MiB) of their own.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final, final

import argon2
import trio

HASHING_THREADS_MAX: Final = 2  # the machine's cores; more threads only queue in the kernel


@final
@dataclass(frozen=True, slots=True)
class HashingCost:
    """argon2id cost. The default is RFC 9106's second recommendation (64 MiB, 3 passes);
    tests use a cheap one so that a suite full of logins stays fast."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 1


CHEAP_HASHING_FOR_TESTS: Final = HashingCost(time_cost=1, memory_kib=1024, parallelism=1)


@final
class PasswordHasher:
    """argon2id hashing off the event loop, at most HASHING_THREADS_MAX hashes at once."""

    def __init__(self, cost: HashingCost = HashingCost()) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_kib,
            parallelism=cost.parallelism,
            type=argon2.Type.ID,
        )
        self._limiter = trio.CapacityLimiter(HASHING_THREADS_MAX)
        # Verifying against this when a name is unknown makes "no such player" take as long
        # as "wrong password", so response times do not reveal which names exist.
        self._decoy_hash = self._hasher.hash(secrets.token_hex(16))

    async def hash(self, password: str) -> str:
        return await trio.to_thread.run_sync(self._hasher.hash, password, limiter=self._limiter)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True if ``password`` matches; ``None`` (no such account) spends the same time."""

        def check() -> bool:
            try:
                return self._hasher.verify(password_hash or self._decoy_hash, password) and (
                    password_hash is not None
                )
            except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
                return False

        return await trio.to_thread.run_sync(check, limiter=self._limiter)
