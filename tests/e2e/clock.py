"""trio's autojump clock for whole-server tests, held still while a worker thread runs.

The autojump clock jumps to the next deadline as soon as every task is blocked. A task
waiting for a worker thread (the SQLite store's, argon2 hashing) is blocked too, so a plain
autojump clock would jump while the database works and time the server's own requests out.
``autojump_between_threads`` counts the threads in flight and turns autojump off while any
runs: time then stands still (the clock's rate is 0) until the thread is done. Socket I/O
on loopback needs nothing: data a task sent is readable before the next scheduling pass.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
import trio
import trio.testing

from persistence.sqlite import StoreThread

T = TypeVar("T")


def autojump_between_threads(
    clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Install the counting wrapper around ``trio.to_thread.run_sync`` and the SQLite
    store's own thread (``StoreThread.call``) for this test."""
    in_flight = 0

    def counting(call: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        async def counted(*args: Any, **kwargs: Any) -> T:
            nonlocal in_flight
            in_flight += 1
            clock.autojump_threshold = math.inf
            try:
                return await call(*args, **kwargs)
            finally:
                in_flight -= 1
                if in_flight == 0:
                    clock.autojump_threshold = 0

        return counted

    monkeypatch.setattr(trio.to_thread, "run_sync", counting(trio.to_thread.run_sync))
    monkeypatch.setattr(StoreThread, "call", counting(StoreThread.call))


# Real seconds every task must have been idle before an in-process gateway test's clock
# jumps: long enough that loopback I/O, argon2 and SQLite in a thread, and a process kept
# off the CPU by a loaded machine finish first (at 0.05 s, a load average of 7 made the
# clock jump past a request's timeout while a registration was still hashing).
REAL_IDLE_BEFORE_JUMP_S = 0.25


def gateway_test_clock() -> trio.testing.MockClock:
    """Virtual time for tests of a gateway in this process: only the timers under test jump."""
    return trio.testing.MockClock(autojump_threshold=REAL_IDLE_BEFORE_JUMP_S)
