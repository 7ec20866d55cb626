"""A trio instrument that finds what holds the event loop: every task step that ran at least a
threshold without giving the loop back is reported with its task's name (``tablium serve``
with TABLIUM_SLOW_STEP_LOG_MS: server/commands/serve.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import final

import trio


@final
class SlowSteps(trio.abc.Instrument):
    """``report(task name, seconds)`` for every task step of at least ``threshold_s``."""

    def __init__(
        self,
        threshold_s: float,
        report: Callable[[str, float], None],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.threshold_s = threshold_s
        self._report = report
        self._clock = clock
        self._started = 0.0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self._started = self._clock()

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        took_s = self._clock() - self._started
        if took_s >= self.threshold_s:
            self._report(task.name, took_s)
