"""``tablium serve``: start the process and run until SIGINT or SIGTERM.

Garbage collection: Python's full (generation 2) collection walks every tracked object, so
its pause grows with the heap (players, sessions, tables), and it comes more often the more
objects survive into the old generation. Under the bot swarm that showed as a one-second
stall every 13-25 s (p99 over 500 ms at 2,000 players). With the ``gc_tuning`` setting (on by
default) the serve command therefore:

- freezes everything allocated while importing and configuring (gc.freeze()), so full
  collections never walk the modules, classes and functions of the process again;
- keeps the young threshold small (GC_THRESHOLDS) on purpose: the server makes a lot of
  short-lived cyclic garbage (connections, cancel scopes, exceptions), and with a young
  threshold of 50,000 each young collection freed ~35,000 objects and paused for 150-700 ms
  under the swarm, worse than the stall it was meant to cure;
- never makes a full collection after start-up (GcFreezer): every FREEZE_EVERY_MIDDLE
  middle-generation collections, what survived them is frozen instead, so no collection
  walks more than the objects of the last few seconds, whatever the number of players. A
  full collection at 3,000 idle connections walked 440,000 objects for 470 ms of CPU
  (docs/loadtest.md). The price would be cyclic garbage that lives long enough to be frozen
  (nothing frees it): measured, none (60 s of play at 50 tables, and 1,000 connections
  closed, left no cyclic garbage among the frozen objects). Nothing counts the frozen set on
  /metrics: ``gc.get_freeze_count()`` walks every frozen object with the event loop held
  (50 ms at 370,000 objects under the swarm, on every scrape), and counting each freeze's
  objects walks them too (about 6 ms a second at 2,000 players; docs/loadtest.md). A leak
  shows in the resident memory per player.

- starts the young and middle collections itself, on a clock (pace_collections): Python
  starts a young collection when allocations *minus deallocations* pass the young threshold,
  and every object that dies counts, an old or frozen one too. A server's recent objects
  (each connection's waiting chain of coroutines, re-made per message) mostly die after they
  were promoted or frozen, so the count hardly rises, collections come seldom, and each
  finds tens of thousands of young objects: the mean middle collection grew with the
  players (12 ms at 500 bots, 39 ms at 3,000, 54 ms at 5,000; docs/loadtest.md). Collected
  every few milliseconds, the young generation holds what that time allocated, whatever the
  number of players (TABLIUM_GC_YOUNG_EVERY_MS, 10 ms by default).

Every collection is timed (gc.callbacks): ``tablium_gc_pause_seconds{generation}`` on
/metrics, and a warning in the log for a pause over GC_PAUSE_LOG_MS.

Slow steps: with ``slow_step_log_ms`` (TABLIUM_SLOW_STEP_LOG_MS, off by default) a trio
instrument (SlowSteps) times every task step and logs each that held the event loop that
long or longer, with the task's name: what stalled every other player. Off by default
because it costs about a microsecond a step, a few percent of the CPU per action.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, final

from server.commands.settings_args import (
    CONFIG_ERROR_EXIT,
    add_config_argument,
    settings_from_args,
)

if TYPE_CHECKING:
    from server.config import Settings
    from server.loop_watch import SlowSteps
    from server.tls import ServerTls

# (young, middle, old) collection thresholds; Python's defaults are (700, 10, 10). The old one
# applies until freeze_old_generation() replaces it with OLD_THRESHOLD_NEVER.
GC_THRESHOLDS: Final = (700, 10, 100)
GC_PAUSE_LOG_MS: Final = 50.0
_PAUSE_BUCKETS_S: Final = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def slow_steps(threshold_ms: int) -> list[SlowSteps]:
    """The instruments for trio.run: none when ``threshold_ms`` is 0."""
    if threshold_ms <= 0:
        return []
    import structlog
    from prometheus_client import REGISTRY, Counter

    from server.loop_watch import SlowSteps

    slow = Counter(
        "tablium_slow_task_steps",
        "Task steps that held the event loop at least TABLIUM_SLOW_STEP_LOG_MS.",
        registry=REGISTRY,
    )
    log = structlog.get_logger("tablium.loop")

    def report(task: str, took_s: float) -> None:
        slow.inc()
        log.warning("slow task step", task=task, ms=round(took_s * 1000, 1))

    return [SlowSteps(threshold_ms / 1000, report)]


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)


@final
class GcPauseTimer:
    """A gc.callbacks entry that times each collection: a histogram by generation, and a
    log warning for the long ones."""

    def __init__(
        self,
        observe: Callable[[int, float], None],
        warn: Callable[[int, float, float, int], None],
        clock: Callable[[], float] = time.perf_counter,
        cpu_clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._observe = observe  # (generation, seconds)
        self._warn = warn  # (generation, wall ms, CPU ms, objects collected)
        self._started = 0.0
        self._started_cpu = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = self._clock()
            self._started_cpu = self._cpu_clock()
            return
        took_s = self._clock() - self._started
        generation = info.get("generation", -1)
        self._observe(generation, took_s)
        if took_s * 1000 >= GC_PAUSE_LOG_MS:
            # The CPU time tells the collector's own work from time the thread lost to
            # other processes on a busy machine.
            cpu_ms = (self._cpu_clock() - self._started_cpu) * 1000
            self._warn(generation, took_s * 1000, cpu_ms, info.get("collected", 0))


def install_gc_timer() -> GcPauseTimer:
    """Time every collection from now on (metrics and log); returns the installed callback."""
    import structlog
    from prometheus_client import REGISTRY, Histogram

    pauses = Histogram(
        "tablium_gc_pause_seconds",
        "Garbage collection pauses, by generation.",
        ["generation"],
        buckets=_PAUSE_BUCKETS_S,
        registry=REGISTRY,
    )
    log = structlog.get_logger("tablium.gc")
    timer = GcPauseTimer(
        lambda generation, s: pauses.labels(str(generation)).observe(s),
        lambda generation, ms, cpu_ms, collected: log.warning(
            "gc pause",
            generation=generation,
            ms=round(ms, 1),
            cpu_ms=round(cpu_ms, 1),
            collected=collected,
        ),
    )
    gc.callbacks.append(timer)
    return timer


FREEZE_EVERY_MIDDLE: Final = 10  # middle-generation collections between two freezes
OLD_THRESHOLD_NEVER: Final = 1_000_000_000  # no automatic full collection


@final
class GcFreezer:
    """A gc.callbacks entry: after every ``every``-th middle-generation collection, freeze
    what survived it (it has just moved to the old generation, so the young ones are empty
    then), instead of ever collecting the old generation."""

    def __init__(self, every: int = FREEZE_EVERY_MIDDLE) -> None:
        self.every = every
        self.middle_collections = 0
        self.freezes = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase != "stop" or info.get("generation") != 1:
            return
        self.middle_collections += 1
        if self.middle_collections % self.every == 0:
            gc.freeze()
            self.freezes += 1


def freeze_old_generation() -> GcFreezer:
    """From now on, freeze the survivors instead of collecting the old generation."""
    freezer = GcFreezer()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, OLD_THRESHOLD_NEVER)
    gc.callbacks.append(freezer)
    return freezer


def tune_gc() -> GcFreezer:
    """Freeze what start-up allocated, raise the collection thresholds, and freeze the
    survivors from now on instead of collecting the old generation (see above)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return freeze_old_generation()


GC_MIDDLE_EVERY: Final = 10  # young collections between two middle ones (Python's own ratio)


async def pace_collections(
    every_s: float,
    middle_every: int = GC_MIDDLE_EVERY,
    collect: Callable[[int], object] = gc.collect,
) -> None:
    """Until cancelled: a young collection every ``every_s`` and a middle one every
    ``middle_every``-th time, so that neither waits for the allocation count (see above).
    Python's own collections still run when the count passes the threshold first."""
    import trio

    ticks = 0
    while True:
        await trio.sleep(every_s)
        ticks += 1
        collect(1 if ticks % middle_every == 0 else 0)


async def _serve_paced(settings: Settings, tls: ServerTls | None) -> None:
    import trio

    from server.app import serve_until_signalled

    async with trio.open_nursery() as nursery:
        nursery.start_soon(pace_collections, settings.gc_young_every_ms / 1000)
        await serve_until_signalled(settings, tls)
        nursery.cancel_scope.cancel()


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, with_jwt_secret=True)
    if settings is None:
        return CONFIG_ERROR_EXIT
    import sys

    import trio

    from server.app import check_chain_settings, serve_until_signalled
    from server.config import ConfigError
    from server.logs import configure_logging
    from server.tls import server_tls

    try:
        tls = server_tls(settings)  # a certificate that does not load stops start-up here
        check_chain_settings(settings)  # so does an operator key that cannot be used
    except ConfigError as exc:
        print(f"tablium: configuration error: {exc}", file=sys.stderr)
        return CONFIG_ERROR_EXIT
    configure_logging(settings.log_format, settings.log_level, address_key=settings.log_address_key)
    if settings.jwt_keys is not None and settings.jwt_secret:
        import structlog

        structlog.get_logger("tablium.server").warning(
            "TABLIUM_JWT_SECRET is not used: TABLIUM_JWT_KEYS is set and holds the token keys"
        )
    install_gc_timer()
    if settings.gc_tuning:
        tune_gc()  # after the imports above: the whole server's code is frozen
    instruments = slow_steps(settings.slow_step_log_ms)
    if settings.gc_tuning and settings.gc_young_every_ms > 0:
        trio.run(_serve_paced, settings, tls, instruments=instruments)
    else:
        trio.run(serve_until_signalled, settings, tls, instruments=instruments)
    return 0
