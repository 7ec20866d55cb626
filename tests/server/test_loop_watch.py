"""TABLIUM_SLOW_STEP_LOG_MS: the task step that held the event loop is named, and none other
(server/loop_watch.py)."""

from __future__ import annotations

import trio
import trio.testing

from server.commands.serve import slow_steps
from server.config import load_settings
from server.loop_watch import SlowSteps


def test_the_step_that_held_the_loop_is_reported_with_its_task_name() -> None:
    reported: list[tuple[str, float]] = []
    now = [0.0]  # the instrument's clock: the hog's step takes 80 ms of it
    watch = SlowSteps(0.05, lambda task, took_s: reported.append((task, took_s)), lambda: now[0])

    async def hog() -> None:
        await trio.lowlevel.checkpoint()
        now[0] += 0.08  # as if it computed for 80 ms without a checkpoint

    async def polite() -> None:
        for _ in range(100):
            await trio.lowlevel.checkpoint()

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(polite, name="polite")
            nursery.start_soon(hog, name="hog")

    trio.run(main, instruments=[watch])
    assert [task for task, _ in reported] == ["hog"]
    assert reported[0][1] == 0.08


def test_the_watch_is_off_unless_asked_for() -> None:
    assert slow_steps(0) == []
    assert load_settings(environ={}).slow_step_log_ms == 0
    assert load_settings(environ={"TABLIUM_SLOW_STEP_LOG_MS": "100"}).slow_step_log_ms == 100
