"""The SQLite store's own thread: calls in order, errors back to their caller, and a call
once submitted always runs, its caller waiting for it even when cancelled
(persistence/sqlite.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import trio
import trio.testing

from persistence.sqlite import StoreThread


async def _cancelled_caller(
    thread: StoreThread, fn: Callable[[], str], seen: list[str], scopes: list[trio.CancelScope]
) -> None:
    """Calls ``fn`` inside a scope the test cancels; records the result, then the cancel."""
    with trio.CancelScope() as scope:
        scopes.append(scope)
        seen.append(await thread.call(fn))
        await trio.lowlevel.checkpoint()  # the cancel arrives here
        seen.append("not reached")
    seen.append(f"cancelled {scope.cancelled_caught}")


async def test_calls_run_in_the_order_they_came_and_return_their_results() -> None:
    thread = StoreThread("test-store")
    ran: list[int] = []
    results: list[int] = []

    async def call(i: int) -> None:
        def work() -> int:
            ran.append(i)
            return i * 10

        results.append(await thread.call(work))

    try:
        async with trio.open_nursery() as nursery:
            for i in range(20):
                nursery.start_soon(call, i)
                await trio.testing.wait_all_tasks_blocked()  # queued before the next one
    finally:
        thread.stop()
    assert ran == list(range(20))
    assert sorted(results) == [i * 10 for i in range(20)]


async def test_an_error_reaches_its_caller_and_the_thread_serves_on() -> None:
    thread = StoreThread("test-store")

    def boom() -> None:
        raise ValueError("refused")

    try:
        with pytest.raises(ValueError, match="refused"):
            await thread.call(boom)
        assert await thread.call(lambda: 7) == 7
    finally:
        thread.stop()


async def test_a_call_cancelled_while_queued_still_runs_and_its_caller_waits_for_it() -> None:
    """Once submitted, a unit of work always runs: its caller never learns "cancelled"
    about a transaction that then commits behind its back."""
    thread = StoreThread("test-store")
    release = threading.Event()
    ran: list[str] = []
    seen: list[str] = []
    scopes: list[trio.CancelScope] = []

    def first() -> str:
        release.wait()
        ran.append("first")
        return "first"

    def second() -> str:
        ran.append("second")
        return "second"

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(thread.call, first)
            await trio.testing.wait_all_tasks_blocked()
            nursery.start_soon(_cancelled_caller, thread, second, seen, scopes)
            await trio.testing.wait_all_tasks_blocked()  # behind `first`, which waits
            scopes[0].cancel()
            await trio.testing.wait_all_tasks_blocked()
            assert seen == []  # still waiting for its call
            release.set()
    finally:
        release.set()
        thread.stop()
    assert ran == ["first", "second"]
    assert seen == ["second", "cancelled True"]


async def test_a_started_call_finishes_before_its_caller_sees_the_cancel() -> None:
    thread = StoreThread("test-store")
    started, release = threading.Event(), threading.Event()
    seen: list[str] = []
    scopes: list[trio.CancelScope] = []

    def slow() -> str:
        started.set()
        release.wait()
        return "committed"

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_cancelled_caller, thread, slow, seen, scopes)
            await trio.to_thread.run_sync(started.wait)
            scopes[0].cancel()
            await trio.testing.wait_all_tasks_blocked()
            assert seen == []  # still waiting for the call the thread has started
            release.set()
    finally:
        release.set()
        thread.stop()
    assert seen == ["committed", "cancelled True"]
