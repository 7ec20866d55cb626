"""The swarm: start N bots over K processes, show live progress, write the final report.

With ``processes == 1`` the bots run in this trio run. With more, each worker is this module
run as ``python -m loadtest.swarm`` with its share as one JSON line on stdin; it answers with
one ``Interval`` JSON line per second on stdout, which this process merges (histograms add
up, so the percentiles are over every sample of every process).
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final, TextIO, final

import msgspec
import trio

from loadtest.bot import BotPlan
from loadtest.report import (
    build_report,
    scrape_server_metrics,
    summary_lines,
    write_chart,
    write_json,
)
from loadtest.runner import INTERVAL_S, ShareConfig, run_share
from loadtest.stats import Histogram, Interval, Point, Totals, merge_intervals, point
from protocol.fields import Asset

WORKER_LINE_BYTES_MAX: Final = 1 << 20  # one interval; a longer line is a broken worker
WORKER_EXIT_TIMEOUT_S: Final = 30.0  # after its final line, a worker has this long to exit
STEADY_MARGIN_S: Final = 2.0  # the last bots to start are still logging in just after the ramp


class SwarmError(Exception):
    """The swarm could not run as asked (a worker failed, bad options)."""


@final
@dataclass(frozen=True, slots=True)
class SwarmOptions:
    url: str
    bots: int
    ramp_s: float
    duration_s: float
    pace_s: float = 2.0
    strategy: str = "mix"
    scenario: str = "cash"
    processes: int = 1
    seed: int = 1
    admin_url: str | None = None
    staff_token: str | None = field(default=None, repr=False)
    metrics_token: str | None = field(default=None, repr=False)  # the server's, if it has one
    name_prefix: str = "bot"
    password: str = field(default="swarm-password", repr=False)
    variant: str = "NT"
    big_blind: int = 2
    buy_in: int = 200
    # None: play money without a staff token and admin URL (nothing but the server needed),
    # real money with them (the setup credits the bots through the admin API).
    asset: str | None = None
    run_tag: str = ""  # empty: a fresh random tag (funding keys are per run)
    flaky_disconnect_chance: float | None = None  # None: the Flaky strategy's own (5%)
    # The tournament scenario: the tournament to play, or None to create one from ``preset``
    # through the admin API (a director or admin staff token).
    tournament_id: str | None = None
    preset: str = "hyper"

    def public_settings(self) -> dict[str, Any]:
        settings = asdict(self)
        settings.pop("staff_token")
        settings.pop("metrics_token")
        settings.pop("password")
        return settings


@final
class _Merger:
    """Turns the workers' interval streams into totals and a one-point-per-tick timeline."""

    def __init__(
        self, workers: int, progress: TextIO | None, steady_s: tuple[float, float]
    ) -> None:
        self.totals = Totals()
        # Round trips of the steady part only (after the ramp, before the bots leave): the
        # ramp's registrations load the server in a way play alone never does.
        self.steady_act_rtt = Histogram()
        self._steady_s = steady_s
        self.timeline: list[Point] = []
        self._pending: list[Interval] = []
        self._gauges: dict[int, tuple[int, int]] = {w: (0, 0) for w in range(workers)}
        self._finished: set[int] = set()
        self._progress = progress
        self._started = trio.current_time()
        self._last_tick = self._started

    async def receive(self, worker: int, interval: Interval) -> None:
        self.totals.add(interval)
        if self._steady_s[0] <= trio.current_time() - self._started <= self._steady_s[1]:
            self.steady_act_rtt.merge(interval.act_rtt)
        self._pending.append(interval)
        self._gauges[worker] = (interval.bots_connected, interval.bots_seated)
        if interval.final:
            self._finished.add(worker)

    def tick(self) -> None:
        now = trio.current_time()
        merged = merge_intervals(self._pending)
        self._pending = []
        merged.bots_connected = sum(c for c, _ in self._gauges.values())
        merged.bots_seated = sum(s for _, s in self._gauges.values())
        self.totals.bots_connected_max = max(self.totals.bots_connected_max, merged.bots_connected)
        self.totals.bots_seated_max = max(self.totals.bots_seated_max, merged.bots_seated)
        p = point(now - self._started, merged, now - self._last_tick)
        self._last_tick = now
        self.timeline.append(p)
        if self._progress is not None:
            print(
                f"[{p.t_s:7.1f}s] bots {p.bots_connected:5d}  hands/s {p.hands_per_s:7.1f}"
                f"  actions/s {p.actions_per_s:8.1f}  p99 {p.act_p99_ms or 0:7.1f} ms"
                f"  errors {p.errors}",
                file=self._progress,
                flush=True,
            )

    def all_finished(self) -> bool:
        return len(self._finished) == len(self._gauges)


def swarm_asset(options: SwarmOptions) -> Asset:
    """The chips the bots play for: as asked, else real money only when they can be funded."""
    if options.asset is not None:
        if options.asset not in ("chips", "play"):
            raise SwarmError(f"asset must be chips or play, not {options.asset!r}")
        return "chips" if options.asset == "chips" else "play"
    return "chips" if options.admin_url and options.staff_token else "play"


def _shares(options: SwarmOptions, run_tag: str) -> list[ShareConfig]:
    plan = BotPlan(
        url=options.url,
        name_prefix=options.name_prefix,
        password=options.password,
        variant=options.variant,  # type: ignore[arg-type]  # checked by the command's choices
        big_blind=options.big_blind,
        buy_in=options.buy_in,
        pace_s=options.pace_s,
        asset=swarm_asset(options),
    )
    processes = max(1, min(options.processes, options.bots))
    return [
        ShareConfig(
            plan=plan,
            # Interleaved, so every process ramps up at the same rate.
            bot_indexes=list(range(worker, options.bots, processes)),
            bots_total=options.bots,
            ramp_s=options.ramp_s,
            duration_s=options.duration_s,
            strategy=options.strategy,
            seed=options.seed,
            admin_url=options.admin_url,
            staff_token=options.staff_token,
            run_tag=run_tag,
            flaky_disconnect_chance=options.flaky_disconnect_chance,
        )
        for worker in range(processes)
    ]


async def run_swarm(options: SwarmOptions, progress: TextIO | None = sys.stderr) -> dict[str, Any]:
    """Run the swarm to the end and return the report (plain JSON values)."""
    if options.scenario != "cash":
        raise SwarmError(f"unknown scenario {options.scenario!r} (only 'cash' exists)")
    run_tag = options.run_tag or secrets.token_hex(8)  # 64 bits: no two runs share one
    shares = _shares(options, run_tag)
    steady_s = (options.ramp_s + STEADY_MARGIN_S, options.ramp_s + options.duration_s)
    merger = _Merger(len(shares), progress, steady_s)
    scrape = partial(scrape_server_metrics, token=options.metrics_token)
    metrics_before = await scrape(options.admin_url) if options.admin_url else None
    started = trio.current_time()
    # The server's CPU clock at the start and the end of the steady part (after the ramp,
    # before the bots leave): registration (argon2) and funding cost nothing to play.
    steady_cpu: list[tuple[float, float]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_tick_until_done, merger)
        if options.admin_url:
            for offset_s in (options.ramp_s + STEADY_MARGIN_S, options.ramp_s + options.duration_s):
                nursery.start_soon(_read_cpu_at, scrape, options.admin_url, started + offset_s,
                                   steady_cpu)  # fmt: skip
        if len(shares) == 1:
            nursery.start_soon(run_share, shares[0], lambda i: merger.receive(0, i))
        else:
            for worker, share in enumerate(shares):
                nursery.start_soon(_run_worker, worker, share, merger)
    elapsed_s = trio.current_time() - started
    server_metrics = await scrape(options.admin_url) if options.admin_url else None
    settings = options.public_settings() | {"run_tag": run_tag}
    report = build_report(
        settings=settings,
        totals=merger.totals,
        timeline=merger.timeline,
        elapsed_s=elapsed_s,
        measured_s=options.duration_s,
        server_metrics=server_metrics,
    )
    report["steady_state"]["action_round_trip"] = merger.steady_act_rtt.summary_ms()
    cpu_s = _server_cpu_s(server_metrics) - _server_cpu_s(metrics_before)
    # The server's CPU time over the run, and per completed action: what bounds capacity.
    report["server_cpu"] = {
        "seconds": round(cpu_s, 3),
        "ms_per_action": round(1000 * cpu_s / report["actions"], 3) if report["actions"] else None,
        "utilisation": round(cpu_s / elapsed_s, 3) if elapsed_s > 0 else None,
    }
    if len(steady_cpu) == 2:
        (t0, cpu0), (t1, cpu1) = sorted(steady_cpu)
        steady_actions = sum(
            p.actions_per_s for p in merger.timeline if t0 - started < p.t_s <= t1 - started
        )
        report["server_cpu"]["steady"] = {
            "seconds": round(t1 - t0, 3),
            "cpu_seconds": round(cpu1 - cpu0, 3),
            "utilisation": round((cpu1 - cpu0) / (t1 - t0), 3),
            "ms_per_action": round(1000 * (cpu1 - cpu0) / steady_actions, 3)
            if steady_actions
            else None,
        }
    return report


async def _read_cpu_at(
    scrape: Callable[[str], Awaitable[dict[str, Any]]],
    admin_url: str,
    at: float,
    out: list[tuple[float, float]],
) -> None:
    await trio.sleep_until(at)
    metrics = await scrape(admin_url)
    out.append((trio.current_time(), _server_cpu_s(metrics)))


def _server_cpu_s(metrics: dict[str, Any] | None) -> float:
    samples = (metrics or {}).get("process_cpu_seconds_total") or [{"value": 0.0}]
    return float(samples[0]["value"])


async def _tick_until_done(merger: _Merger) -> None:
    next_at = trio.current_time()
    while not merger.all_finished():
        next_at += INTERVAL_S
        await trio.sleep_until(next_at)
        merger.tick()
    merger.tick()  # the final intervals


async def _read_intervals(worker: int, stdout: trio.abc.ReceiveStream, merger: _Merger) -> bool:
    """Feed the worker's lines to the merger; True once its final interval came."""
    decoder = msgspec.json.Decoder(Interval)
    buffer = b""
    finished = False
    while chunk := await stdout.receive_some(65536):
        buffer += chunk
        if len(buffer) > WORKER_LINE_BYTES_MAX:
            raise SwarmError(f"worker {worker} wrote a line over {WORKER_LINE_BYTES_MAX} bytes")
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            interval = decoder.decode(line)
            finished = finished or interval.final
            await merger.receive(worker, interval)
    return finished


async def _run_worker(worker: int, share: ShareConfig, merger: _Merger) -> None:
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "loadtest.swarm"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        await process.stdin.send_all(msgspec.json.encode(share) + b"\n")
        await process.stdin.aclose()
        finished = await _read_intervals(worker, process.stdout, merger)
        with trio.fail_after(WORKER_EXIT_TIMEOUT_S):
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            with trio.CancelScope(shield=True):
                await process.wait()
    if code != 0 or not finished:
        raise SwarmError(f"worker {worker} exited with {code} before its final report")


def write_outputs(
    report: dict[str, Any], report_path: Path | None, chart_path: Path | None
) -> None:
    if report_path is not None:
        write_json(report, report_path)
    if chart_path is not None:
        write_chart(report, chart_path)


def print_summary(report: dict[str, Any], out: TextIO = sys.stdout) -> None:
    for line in summary_lines(report):
        print(line, file=out)


async def _worker_main() -> None:
    line = await trio.wrap_file(sys.stdin.buffer).readline()
    share = msgspec.json.decode(line, type=ShareConfig)
    stdout = trio.lowlevel.FdStream(sys.stdout.fileno())
    encoder = msgspec.json.Encoder()

    async def emit(interval: Interval) -> None:
        await stdout.send_all(encoder.encode(interval) + b"\n")

    await run_share(share, emit)


if __name__ == "__main__":
    trio.run(_worker_main)
