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
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
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
from loadtest.stats import (
    Histogram,
    Interval,
    Point,
    Totals,
    TournamentTally,
    merge_intervals,
    point,
)
from loadtest.tournament import (
    TournamentSetupError,
    TournamentWatch,
    create_tournament,
    start_tournament,
    tournament_section,
)
from protocol.client import Client, ServerError, open_client
from protocol.errors import ErrorCode
from protocol.fields import Asset

WORKER_LINE_BYTES_MAX: Final = 1 << 20  # one interval; a longer line is a broken worker
WORKER_EXIT_TIMEOUT_S: Final = 30.0  # after its final line, a worker has this long to exit
STEADY_MARGIN_S: Final = 2.0  # the last bots to start are still logging in just after the ramp
SCENARIOS: Final = ("cash", "tournament")
# A tournament the swarm created starts once every bot is in, or this long after the ramp
# with the bots that are (registrations hash passwords: a slow server lags the ramp).
REGISTRATION_GRACE_S: Final = 30.0


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
    reentry_chance: float = 0.5  # a busted bot re-enters while late registration is open
    rebuy_chance: float = 0.5  # a bot offered a rebuy takes it (else declines)

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


def _shares(
    options: SwarmOptions, run_tag: str, tournament: _TournamentRun | None = None
) -> list[ShareConfig]:
    plan = BotPlan(
        url=options.url,
        name_prefix=options.name_prefix,
        password=options.password,
        variant=options.variant,  # type: ignore[arg-type]  # checked by the command's choices
        big_blind=options.big_blind,
        # A tournament bot needs its entry's whole price (buy-in, fee and bounty).
        buy_in=tournament.price if tournament is not None else options.buy_in,
        pace_s=options.pace_s,
        asset=tournament.asset if tournament is not None else swarm_asset(options),
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
            tournament_id=tournament.watch.tournament_id if tournament is not None else None,
            reentry_chance=options.reentry_chance,
            rebuy_chance=options.rebuy_chance,
        )
        for worker in range(processes)
    ]


@final
class _TournamentRun:
    """The tournament scenario's side of a run: the tournament (created through the admin
    API when no id was given), a watcher client on its own websocket, and the start."""

    def __init__(self, options: SwarmOptions, client: Client, watch: TournamentWatch,
                 *, created: bool, price: int, asset: Asset) -> None:  # fmt: skip
        self.options = options
        self.client = client
        self.watch = watch
        self.created = created
        self.price = price
        self.asset = asset
        self._start_asked = False  # once: the state may read registering a moment after

    @classmethod
    @asynccontextmanager
    async def open(cls, options: SwarmOptions, run_tag: str) -> AsyncIterator[_TournamentRun]:
        created = options.tournament_id is None
        if created:
            if not (options.admin_url and options.staff_token):
                raise SwarmError(
                    "the tournament scenario without --tournament-id creates one: it needs"
                    " --admin-url and a director or admin --staff-token"
                )
            try:
                tournament_id = await create_tournament(
                    options.admin_url,
                    options.staff_token,
                    name=f"swarm {run_tag}"[:64],
                    preset=options.preset,
                    asset=swarm_asset(options),
                    buy_in=options.buy_in,
                    bots=options.bots,
                )
            except TournamentSetupError as exc:
                raise SwarmError(str(exc)) from exc
        else:
            try:
                tournament_id = int(options.tournament_id or "")
            except ValueError:
                shown = options.tournament_id
                raise SwarmError(f"--tournament-id must be a number: {shown!r}") from None
        async with open_client(options.url, client_name="tablium-swarm-watch") as client:
            name = f"{options.name_prefix}watch"
            try:
                try:
                    await client.register(name, options.password)
                except ServerError as exc:
                    if exc.code != ErrorCode.NAME_TAKEN:
                        raise
                    await client.login(name, options.password)
                watch = TournamentWatch(tournament_id)
                view = await watch.poll(client)
            except ServerError as exc:
                raise SwarmError(f"tournament {tournament_id}: {exc.code}: {exc}") from exc
            line = view.line
            if line.state != "registering" and not view.may_register:
                raise SwarmError(f"tournament {tournament_id} is {line.state}: no registration")
            yield cls(options, client, watch, created=created,
                      price=line.buy_in + line.fee + line.bounty, asset=line.asset)  # fmt: skip

    async def follow(self, bots_done: trio.Event, registration_until: float) -> None:
        """Poll once a second until the event is over or the bots are gone; start the
        tournament we created once every bot is in (or at ``registration_until``)."""
        options = self.options
        while not bots_done.is_set():
            view = await self.watch.poll(self.client)
            line = view.line
            if line.state in ("finished", "cancelled"):
                return
            if (
                self.created
                and not self._start_asked
                and line.state == "registering"
                and (line.entries >= options.bots or trio.current_time() >= registration_until)
            ):
                assert options.admin_url and options.staff_token
                self._start_asked = True
                try:
                    await start_tournament(options.admin_url, options.staff_token,
                                           self.watch.tournament_id)  # fmt: skip
                except TournamentSetupError as exc:
                    raise SwarmError(str(exc)) from exc
            with trio.move_on_after(INTERVAL_S):
                await bots_done.wait()

    async def section(self, hands: int, tally: TournamentTally) -> dict[str, object]:
        await self.watch.poll(self.client)
        standings = await self.watch.standings(self.client)
        return tournament_section(self.watch, standings, tally, hands, created=self.created)


async def run_swarm(options: SwarmOptions, progress: TextIO | None = sys.stderr) -> dict[str, Any]:
    """Run the swarm to the end and return the report (plain JSON values)."""
    if options.scenario not in SCENARIOS:
        raise SwarmError(f"unknown scenario {options.scenario!r} (one of {', '.join(SCENARIOS)})")
    run_tag = options.run_tag or secrets.token_hex(8)  # 64 bits: no two runs share one
    if options.scenario == "cash":
        return await _run(options, progress, run_tag, None)
    async with _TournamentRun.open(options, run_tag) as tournament:
        return await _run(options, progress, run_tag, tournament)


async def _run(
    options: SwarmOptions,
    progress: TextIO | None,
    run_tag: str,
    tournament: _TournamentRun | None,
) -> dict[str, Any]:
    shares = _shares(options, run_tag, tournament)
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
        # A tournament ends when it ends, not at --duration: no steady window to read.
        if options.admin_url and tournament is None:
            for offset_s in (options.ramp_s + STEADY_MARGIN_S, options.ramp_s + options.duration_s):
                nursery.start_soon(_read_cpu_at, scrape, options.admin_url, started + offset_s,
                                   steady_cpu)  # fmt: skip
        bots_done = trio.Event()
        if tournament is not None:
            registration_until = started + options.ramp_s + REGISTRATION_GRACE_S
            nursery.start_soon(tournament.follow, bots_done, registration_until)
        async with trio.open_nursery() as bots:
            if len(shares) == 1:
                bots.start_soon(run_share, shares[0], lambda i: merger.receive(0, i))
            else:
                for worker, share in enumerate(shares):
                    bots.start_soon(_run_worker, worker, share, merger)
        bots_done.set()
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
    if tournament is not None:
        totals = merger.totals
        report["tournament"] = await tournament.section(totals.hands, totals.tournament)
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
