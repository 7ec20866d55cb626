"""The link to Redis, on the process's trio-asyncio loop (redis-py's asyncio client).

Readiness, the leaderboards' mirror and the state that nodes share (persistence/
shared_state.py: throttles, presence, revocations, resume buffers; persistence/leases.py:
table owners) use it. ``shared`` turns every way Redis can fail to answer into one
exception, RedisDown, which callers handle as the degraded mode of docs/scaling.md.

``shared`` is also a circuit breaker: once a call has failed, the calls of the next
PROBE_INTERVAL_S fail at once, without waiting for Redis, and the first one after that
tries again. So a Redis that does not answer at all (a lost route: every call would wait
out COMMAND_TIMEOUT_S) costs one timeout per second, not one per request. ``down`` says
whether the last shared call failed: hot paths skip Redis while it is true (their own
fallback), and a background ``probe`` finds out when it answers again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Final, TypeVar, final

import redis.asyncio
import trio
import trio_asyncio

T = TypeVar("T")
CONNECT_TIMEOUT_S: Final = 2.0  # a Redis that does not answer is down, not slow
COMMAND_TIMEOUT_S: Final = 2.0
CONNECTIONS_MAX: Final = 32  # bound of the client's pool; callers beyond it wait
PROBE_INTERVAL_S: Final = 1.0  # after a failure, shared calls fail at once for this long


class RedisDown(Exception):
    """Redis did not answer (refused, reset, timed out): the shared state is unreachable
    for now. The client reconnects by itself at the next command."""


@final
class RedisLink:
    def __init__(
        self, client: redis.asyncio.Redis, loop: trio_asyncio.TrioEventLoop, url: str = ""
    ) -> None:
        self._client = client
        self._loop = loop
        self.url = url  # for connections of their own (the node bus: persistence/resp.py)
        # The breaker (trio time): shared calls fail at once until _next_try_s.
        self._next_try_s = float("-inf")
        self.attempts_failed = 0  # shared calls that reached for Redis and failed
        self.down = False  # the last shared call failed
        self.calls_refused = 0  # shared calls failed at once by the open breaker

    def sibling(self) -> RedisLink:
        """Another link over the same client and loop with its own breaker and counts: for
        a background loop (the node bus's reads) whose failures must not open the players'
        breaker, nor theirs its."""
        return RedisLink(self._client, self._loop, self.url)

    async def call(self, command: Callable[[redis.asyncio.Redis], Awaitable[T]]) -> T:
        """Run ``command(client)`` on the asyncio loop: one crossing for a whole unit (a
        pipeline), as ARCHITECTURE.md asks."""
        result: T = await self._loop.run_aio_coroutine(command(self._client))
        return result

    async def shared(self, command: Callable[[redis.asyncio.Redis], Awaitable[T]]) -> T:
        """call(), with Redis being unreachable reported as RedisDown (at once while the
        breaker is open)."""
        if trio.current_time() < self._next_try_s:
            self.calls_refused += 1
            raise RedisDown("redis: unreachable a moment ago; not tried again yet")
        try:
            result = await self.call(command)
        except (OSError, TimeoutError, redis.ConnectionError, redis.TimeoutError) as exc:
            self.attempts_failed += 1
            self.down = True
            self._next_try_s = trio.current_time() + PROBE_INTERVAL_S
            raise RedisDown(f"redis: {exc!r}"[:300]) from exc
        self._next_try_s = float("-inf")
        self.down = False
        return result

    async def probe(self) -> None:
        """One PING through the breaker (RedisDown if Redis does not answer)."""

        async def ping(client: Any) -> None:
            await client.ping()

        await self.shared(ping)

    async def ping(self) -> None:
        """One round trip; raises redis.ConnectionError or TimeoutError when Redis is down."""
        await self._loop.run_aio_coroutine(self._client.ping())


@asynccontextmanager
async def open_redis(url: str) -> AsyncIterator[RedisLink]:
    """A link on the current trio-asyncio loop, or on one opened here for its lifetime."""
    loop = trio_asyncio.current_loop.get()
    if loop is None:
        async with trio_asyncio.open_loop() as own_loop, _linked(url, own_loop) as link:
            yield link
    else:
        async with _linked(url, loop) as link:
            yield link


@asynccontextmanager
async def _linked(url: str, loop: trio_asyncio.TrioEventLoop) -> AsyncIterator[RedisLink]:
    # Blocking: a caller beyond CONNECTIONS_MAX waits for a free connection (at most a
    # command's timeout, then RedisDown), where the default pool refused it at once
    # (MaxConnectionsError: a burst of logins on a node read as Redis being down).
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=COMMAND_TIMEOUT_S,
        max_connections=CONNECTIONS_MAX,
        timeout=COMMAND_TIMEOUT_S,
    )
    client = redis.asyncio.Redis.from_pool(pool)  # its aclose() closes the pool too
    try:
        yield RedisLink(client, loop, url)
    finally:
        with trio.CancelScope(shield=True):
            await loop.run_aio_coroutine(client.aclose())
