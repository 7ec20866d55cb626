"""The Redis link answers a real Redis and reports one that is not there."""

from __future__ import annotations

import pytest
import redis

from persistence.redis_link import open_redis


async def test_ping_answers_on_the_test_redis(redis_url: str) -> None:
    async with open_redis(redis_url) as link:
        await link.ping()


async def test_ping_to_a_port_with_no_redis_raises() -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    async with open_redis("redis://127.0.0.1:1/0") as link:
        with pytest.raises((redis.ConnectionError, OSError)):
            await link.ping()
