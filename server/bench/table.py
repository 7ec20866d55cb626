"""``tablium bench table``: what one server process costs per poker action, against the floor
its websocket transport sets, measured in the same run.

The server under test is a real ``tablium serve`` process (``python -m server.cli serve``) on
a fresh data directory (SQLite; ``--database-url postgresql://...`` runs it on a scratch
schema of that database, dropped afterwards). Before it starts, the bench writes its players
into the store: one account per seat (no password: they log in with tokens signed with the
server's secret, so no argon2 hash is ever computed) and, through ``Wallet.adjust``, chips to
buy in with (an audited double-entry credit from the house, as the admin API would make).
It then opens the tables through the admin API (six-seat No-Limit Hold'em 1/2, the
defaults of an operator's table: 2 s between hands, 15 s to act), and ``--idle-tables`` more
that nobody joins.

Players run in ``--client-processes`` other processes (server/bench/table_clients.py): raw
websocket frames, msgpack decoded into the few fields they need, a fixed policy, no SDK. They
connect and log in, then take their seats, then play; only then, after ``--warmup-s``, is the
window measured: ``--seconds`` of steady play with no login, no seating, no funding inside.

Figures, per run:
- server CPU per action: the server process's own CPU time (utime + stime of every thread,
  from /proc/<pid>/stat) over the window, divided by the actions taken in it (the
  ``action_taken`` events of the players' own seats, each action counted once);
- actions/s and hands/s; round trip p50/p99 (from sending ``act`` to reading its
  ``action_taken``); frames and bytes the clients received per action (all recipients);
- garbage collection: the wall time of the server's collections in the window
  (``tablium_gc_pause_seconds`` on /metrics, scraped just outside the window);
- memory, from the server's resident set (VmRSS) between phases: per idle table (opened,
  nobody seated), per idle connection (logged in, not seated), per seated player, and per
  connection after the window (seated, with the session's replay buffer filled by play).

The baseline (server/bench/table_baseline.py) runs right after each server run with the same
players, the same client code and the frames per action just measured: the gateway's own
websocket (server/websocket.py), each recipient's frames of an action in one burst, the floor
of our transport as the gateway uses it (``--baseline-transport trio-websocket``: the baseline
before issue 25's cut 3, trio-websocket with one ``send_message`` per frame). With
``--batched-floor`` a third server follows: the same on wsproto, writing each recipient's
frames of an action in one socket write. The runs alternate (server, baseline, server, ...)
so the machine's other load falls on all. The report gives the median of each figure over
``--repeats`` runs and the ratios server / baseline. docs/loadtest.md ("Server cost per
action") has the method in full and the figures measured with it.

``--profile-dir DIR`` also samples the server during each window, with perf (on-CPU, native,
when installed) and py-spy (``pip install py-spy``; Python stacks), and prints the CPU shares
by component (server/bench/profiling.py); sampling costs the machine CPU, so profiled runs are
for shares, not for the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Final

SEATS: Final = 6
SMALL_BLIND: Final = 1
BIG_BLIND: Final = 2
BUY_IN: Final = 200 * BIG_BLIND  # the table's maximum
FUNDS: Final = 20 * BUY_IN  # each player's wallet before the server starts
BETWEEN_HANDS_MS: Final = 2_000  # actors.table.messages.TableConfig's default
# Goals of issue 25 (for the report; the benchmark does not fail on them).
GOAL_CPU_MS_PER_ACTION: Final = 0.5
GOAL_RATIO_MAX: Final = 2.0
GOAL_IDLE_CONNECTION_KB: Final = 30.0
GOAL_IDLE_TABLE_KB: Final = 50.0
STARTUP_TIMEOUT_S: Final = 60.0
STOP_TIMEOUT_S: Final = 10.0
ADMIN_TIMEOUT_S: Final = 30.0
READY_PATTERN: Final = re.compile(r"listening\s+admin=(\S+)\s+(?:api=\S+\s+)?ws=ws://[^:]+:(\d+)")
GC_SUM_PATTERN: Final = re.compile(r"^tablium_gc_pause_seconds_sum\{[^}]*\}\s+(\S+)$", re.M)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tables", type=int, default=20, metavar="N", help="six-seat tables played (20)"
    )
    parser.add_argument(
        "--seconds", type=float, default=20.0, metavar="S", help="measured window (20)"
    )
    parser.add_argument(
        "--warmup-s", type=float, default=5.0, metavar="S", help="play before the window (5)"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, metavar="N", help="runs of each, alternating (3)"
    )
    parser.add_argument(
        "--think-ms", type=int, default=0, metavar="MS", help="wait before each act (0)"
    )
    parser.add_argument(
        "--idle-tables", type=int, default=50, metavar="N", help="tables nobody joins (50)"
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=2,
        metavar="N",
        help="processes the players run in (2)",
    )
    parser.add_argument(
        "--baseline-transport",
        choices=("ours", "trio-websocket"),
        default="ours",
        help="the baseline's websocket: the gateway's own, one burst per recipient (ours), or"
        " trio-websocket with one write per frame (the baseline before cut 3)",
    )
    parser.add_argument(
        "--batched-floor",
        action="store_true",
        help="also run a raw server that writes each recipient's frames of an action at once",
    )
    parser.add_argument(
        "--database-url",
        default="",
        metavar="URL",
        help="postgresql://... to run the server on a scratch schema there (default: SQLite)",
    )
    parser.add_argument(
        "--profile-dir",
        default=None,
        metavar="DIR",
        help="profile the server during each window (py-spy, and perf when installed) into"
        " DIR/server-<run>.*; prints the CPU shares by component",
    )


@dataclass
class Memory:
    """Resident set deltas of the server process, in KB per item."""

    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    idle_table_kb: float | None = None
    idle_connection_kb: float = 0.0
    seated_player_kb: float | None = None
    connection_after_play_kb: float = 0.0


@dataclass
class RunFigures:
    kind: str  # "server" or "baseline"
    seconds: float
    actions: int
    actions_per_s: float
    hands: int
    hands_per_s: float
    cpu_s: float
    cpu_ms_per_action: float
    cpu_system_ms_per_action: float  # of which in the kernel (system calls: sockets, files)
    cpu_worker_threads_ms_per_action: float  # of which outside the event loop's thread
    cpu_cores: float  # the server's CPU time / the window's wall time
    rtt_p50_ms: float
    rtt_p99_ms: float
    rtt_samples: int
    frames_per_action: float
    bytes_per_action: float
    frames_per_action_by_type: dict[str, float]  # all recipients, by reply or push type
    gc_ms_per_action: float | None
    load_average: float
    memory: Memory
    # Whole run, every client: acts answered ok (server) or sent (baseline), own actions seen.
    acts_sent: int = 0
    acts_ok: int = 0
    actions_seen: int = 0
    timed_out: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    profile: str | None = None


def run(args: argparse.Namespace) -> int:
    if min(args.tables, args.repeats, args.client_processes) < 1 or args.seconds <= 0:
        print(
            "tablium bench table: --tables, --repeats and --client-processes must be at least 1,"
            " --seconds more than 0",
            file=sys.stderr,
        )
        return 2
    if min(args.idle_tables, args.think_ms, args.warmup_s) < 0:
        print(
            "tablium bench table: --idle-tables, --think-ms and --warmup-s cannot be negative",
            file=sys.stderr,
        )
        return 2
    if args.database_url and not args.database_url.startswith(("postgresql://", "postgres://")):
        print("tablium bench table: --database-url must be postgresql://...", file=sys.stderr)
        return 2
    if args.profile_dir:
        from server.bench.profiling import tool

        if tool("py-spy") is None:
            print("tablium bench table: --profile-dir needs py-spy (pip install py-spy)",
                  file=sys.stderr)  # fmt: skip
            return 2
        os.makedirs(args.profile_dir, exist_ok=True)
    runs: dict[str, list[RunFigures]] = {"server": [], "baseline": []}
    if args.batched_floor:
        runs["batched"] = []
    for repeat in range(args.repeats):
        server = _run_server(args, repeat)
        runs["server"].append(server)
        plan = {**_baseline_plan(server), "transport": args.baseline_transport}
        runs["baseline"].append(_run_baseline(args, plan))
        if args.batched_floor:
            runs["batched"].append(_run_baseline(args, {**plan, "writes": "per_recipient"}))
        if not args.json:
            for figures in runs.values():
                print(_run_line(repeat, figures[-1]), file=sys.stderr, flush=True)
    report = _report(args, runs)
    if args.profile_dir:
        cpu_ms_per_action = report["server"]["cpu_ms_per_action"]
        report["profile"] = _profile_lines(runs["server"], cpu_ms_per_action)
    if args.json:
        print(json.dumps(report))
    else:
        print("\n".join(_human(report) + report.get("profile", [])))
    return 0


# --- one run of the real server ----------------------------------------------------------


def _run_server(args: argparse.Namespace, repeat: int) -> RunFigures:
    from server.auth import TokenSigner

    names = _player_names(args.tables)
    secret = secrets.token_urlsafe(48)
    signer = TokenSigner(secret)
    profile = os.path.join(args.profile_dir, f"server-{repeat}") if args.profile_dir else None
    with (
        tempfile.TemporaryDirectory(prefix="tablium-bench-") as data_dir,
        _database(args.database_url, data_dir) as url,
    ):
        _prepare_store(url, names)
        log_path = os.path.join(data_dir, "serve.log")
        with (
            open(log_path, "w") as log,
            _process(
                [sys.executable, "-m", "server.cli", "serve"],
                env=_server_env(data_dir, url, secret, len(names)),
                stderr=log,
            ) as server,
        ):
            admin_url, port = _wait_ready(server, log_path)
            admin = _Admin(admin_url, signer.issue("bench-director", "director")[0])
            rss_start = _rss_kb(server.pid)
            opened = [f"bench-{i}" for i in range(args.tables)]
            opened += [f"bench-idle-{i}" for i in range(args.idle_tables)]
            for table_id in opened:
                admin.open_table(table_id)
            rss_tables = _rss_kb(server.pid)
            seats = _seats(names, lambda name: signer.issue(name, "player")[0])
            window = _play(args, "table", port, server.pid, seats, admin, profile)
    memory = Memory(
        rss_start_mb=round(rss_start / 1024, 1),
        rss_end_mb=round(window.rss_after_kb / 1024, 1),
        idle_table_kb=_per(rss_tables - rss_start, len(opened)),
        idle_connection_kb=_per(window.rss_logged_in_kb - rss_tables, len(names)),
        seated_player_kb=_per(window.rss_seated_kb - window.rss_logged_in_kb, len(names)),
        connection_after_play_kb=_per(window.rss_after_kb - rss_tables, len(names)),
    )
    return window.figures("server", memory, profile)


def _player_names(tables: int) -> list[str]:
    """Six players a table, table by table: bench0000s0 .. bench0000s5, bench0001s0, ..."""
    return [f"bench{t:04d}s{s}" for t in range(tables) for s in range(SEATS)]


def _seats(names: list[str], token_of: Callable[[str], str]) -> list[dict[str, Any]]:
    """The clients' seat specs (server/bench/table_clients.SeatSpec): player i sits at table
    i // SEATS in seat i % SEATS; the player in seat 0 counts its table's hands."""
    return [
        {
            "table_id": f"bench-{i // SEATS}",
            "seat": i % SEATS,
            "player": name,
            "token": token_of(name),
            "counts_hands": i % SEATS == 0,
        }
        for i, name in enumerate(names)
    ]


def _baseline_plan(server: RunFigures) -> dict[str, Any]:
    """What the baseline must send per action to match the run it follows."""
    frame_bytes = server.bytes_per_action / max(server.frames_per_action, 1.0)
    return {
        "seats": SEATS,
        "frames_per_action": server.frames_per_action,
        # A filler frame's own fields take ~60 bytes; the pad makes up the rest.
        "filler_bytes": max(0, round(frame_bytes) - 60),
        "between_hands_ms": BETWEEN_HANDS_MS,
        "actions_per_hand": server.actions / server.hands if server.hands else 10.0,
    }


def _run_baseline(args: argparse.Namespace, plan: dict[str, Any]) -> RunFigures:
    names = _player_names(args.tables)
    seats = _seats(names, lambda name: "")
    with _process(
        [sys.executable, "-m", "server.bench.table_baseline"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as server:
        assert server.stdin is not None and server.stdout is not None
        server.stdin.write(json.dumps(plan) + "\n")
        server.stdin.flush()
        port = int(server.stdout.readline())
        rss_start = _rss_kb(server.pid)
        window = _play(args, "raw", port, server.pid, seats, None, None)
        memory = Memory(
            rss_start_mb=round(rss_start / 1024, 1),
            rss_end_mb=round(window.rss_after_kb / 1024, 1),
            idle_connection_kb=_per(window.rss_logged_in_kb - rss_start, len(names)),
            connection_after_play_kb=_per(window.rss_after_kb - rss_start, len(names)),
        )
        kind = "batched" if plan.get("writes") == "per_recipient" else "baseline"
        figures = window.figures(kind, memory, None)
        # Hands are the baseline's pauses, not counted by its clients.
        hands = figures.actions / max(plan["actions_per_hand"], 1.0)
        figures.hands = round(hands)
        figures.hands_per_s = round(hands / figures.seconds, 2)
        return figures


# --- the measured window, the same for both ------------------------------------------------


@dataclass
class Window:
    seconds: float
    cpu: CpuTimes
    start: dict[str, Any]
    end: dict[str, Any]
    done: dict[str, Any]
    rtt_ms: list[float]
    gc_s: float | None
    load_average: float
    rss_logged_in_kb: int
    rss_seated_kb: int
    rss_after_kb: int

    def figures(self, kind: str, memory: Memory, profile: str | None) -> RunFigures:
        delta = {k: self.end[k] - self.start[k] for k in ("frames", "frame_bytes", "hands")}
        actions = (self.end["actions"] + self.end["timed_out"]) - (
            self.start["actions"] + self.start["timed_out"]
        )
        per = max(actions, 1)
        rtts = sorted(self.rtt_ms)
        p50, p99 = _percentile(rtts, 50), _percentile(rtts, 99)
        return RunFigures(
            kind=kind,
            seconds=round(self.seconds, 3),
            actions=actions,
            actions_per_s=round(actions / self.seconds, 1),
            hands=delta["hands"],
            hands_per_s=round(delta["hands"] / self.seconds, 2),
            cpu_s=round(self.cpu.total_s, 3),
            cpu_ms_per_action=round(self.cpu.total_s * 1000 / per, 4),
            cpu_system_ms_per_action=round(self.cpu.system_s * 1000 / per, 4),
            # Two reads a moment apart, in 10 ms ticks: a tiny negative difference is zero.
            cpu_worker_threads_ms_per_action=round(
                max(0.0, self.cpu.total_s - self.cpu.main_thread_s) * 1000 / per, 4
            ),
            cpu_cores=round(self.cpu.total_s / self.seconds, 3),
            rtt_p50_ms=round(p50, 3),
            rtt_p99_ms=round(p99, 3),
            rtt_samples=len(rtts),
            frames_per_action=round(delta["frames"] / per, 3),
            bytes_per_action=round(delta["frame_bytes"] / per, 1),
            frames_per_action_by_type=_by_type(self.start, self.end, per),
            gc_ms_per_action=None if self.gc_s is None else round(self.gc_s * 1000 / per, 4),
            load_average=self.load_average,
            memory=memory,
            acts_sent=self.done["acts_sent"],
            acts_ok=self.done["acts_ok"],
            actions_seen=self.done["actions"],
            timed_out=self.done["timed_out"],
            errors=self.done["errors"],
            profile=profile,
        )


def _play(
    args: argparse.Namespace,
    mode: str,
    port: int,
    pid: int,
    seats: list[dict[str, Any]],
    admin: _Admin | None,
    profile: str | None,
) -> Window:
    """Log every player in, seat them, let them play ``warmup_s``, then measure ``seconds``."""
    from server.bench.profiling import Samplers

    groups: list[list[dict[str, Any]]] = [[] for _ in range(args.client_processes)]
    for index, seat in enumerate(seats):
        groups[(index // SEATS) % args.client_processes].append(seat)  # whole tables together
    with contextlib.ExitStack() as stack:
        clients = [
            stack.enter_context(
                _process(
                    [sys.executable, "-m", "server.bench.table_clients"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
            )
            for group in groups
            if group
        ]
        config = {"mode": mode, "host": "127.0.0.1", "port": port, "buy_in": BUY_IN,
                  "think_ms": args.think_ms}  # fmt: skip
        for client, group in zip(clients, [g for g in groups if g], strict=True):
            _tell(client, json.dumps({**config, "seats": group}))
        _hear_all(clients, "logged_in")
        rss_logged_in = _rss_kb(pid)
        _tell_all(clients, "seat")
        _hear_all(clients, "seated")
        rss_seated = _rss_kb(pid)
        time.sleep(args.warmup_s)
        load_average = os.getloadavg()[0]
        gc_before = admin.gc_seconds() if admin is not None else None
        samplers = Samplers(pid, args.seconds, profile) if profile else None
        cpu_before, started = _cpu_s(pid), time.monotonic()
        _tell_all(clients, "mark")
        start = _sum_counters(_hear_all(clients, "mark"))
        time.sleep(args.seconds)
        _tell_all(clients, "mark")
        end = _sum_counters(_hear_all(clients, "mark"))
        cpu_after, ended = _cpu_s(pid), time.monotonic()
        gc_after = admin.gc_seconds() if admin is not None else None
        if samplers is not None:
            samplers.finish()
        rss_after = _rss_kb(pid)
        _tell_all(clients, "stop")
        finals = _hear_all(clients, "done")
    gc_s = None if gc_before is None or gc_after is None else gc_after - gc_before
    return Window(
        seconds=ended - started,
        cpu=cpu_after - cpu_before,
        start=start,
        end=end,
        done=_sum_counters(finals),
        rtt_ms=[sample for final in finals for sample in final["rtt_ms"]],
        gc_s=gc_s,
        load_average=round(load_average, 2),
        rss_logged_in_kb=rss_logged_in,
        rss_seated_kb=rss_seated,
        rss_after_kb=rss_after,
    )


def _by_type(start: dict[str, Any], end: dict[str, Any], actions: int) -> dict[str, float]:
    """Frames per action of each type in the window, most first."""
    before, after = start["frames_by_type"], end["frames_by_type"]
    per = {kind: (count - before.get(kind, 0)) / actions for kind, count in after.items()}
    return {k: round(v, 3) for k, v in sorted(per.items(), key=lambda kv: -kv[1]) if v > 0}


def _sum_counters(messages: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {"errors": {}, "frames_by_type": {}}
    for message in messages:
        for key, value in message["counters"].items():
            if isinstance(value, dict):
                for name, count in value.items():
                    total[key][name] = total[key].get(name, 0) + count
            else:
                total[key] = total.get(key, 0) + value
    return total


# --- processes -----------------------------------------------------------------------------


@contextlib.contextmanager
def _process(argv: list[str], **kwargs: Any) -> Iterator[subprocess.Popen[str]]:
    """A child process, stopped (SIGTERM, then SIGKILL) and reaped on the way out."""
    proc = subprocess.Popen(argv, text=True, **kwargs)
    try:
        yield proc
    finally:
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _tell(proc: subprocess.Popen[str], line: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()


def _tell_all(procs: list[subprocess.Popen[str]], line: str) -> None:
    for proc in procs:
        _tell(proc, line)


def _hear_all(procs: list[subprocess.Popen[str]], event: str) -> list[dict[str, Any]]:
    answers = []
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"a client process exited (code {proc.wait()}) before {event!r}")
        answer = json.loads(line)
        if answer.get("event") != event:
            raise RuntimeError(f"a client process said {answer!r}, expected {event!r}")
        answers.append(answer)
    return answers


def _server_env(data_dir: str, url: str, secret: str, players: int) -> dict[str, str]:
    # Settings come from us alone, not from whatever TABLIUM_* the shell has.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TABLIUM_")}
    env.update(
        TABLIUM_HOST="127.0.0.1",
        TABLIUM_WS_PORT="0",
        TABLIUM_ADMIN_PORT="0",
        TABLIUM_API_PORT="0",
        TABLIUM_DATA_DIR=data_dir,
        TABLIUM_DATABASE_URL=url,
        TABLIUM_JWT_SECRET=secret,
        TABLIUM_LOG_FORMAT="console",
        TABLIUM_WS_CONNECTIONS_PER_IP_MAX=str(players + 64),
        TABLIUM_WS_SESSIONS_MAX=str(players + 64),
        # Every player comes from one address: per-address request limits (on servers that
        # have them; others ignore these) must not throttle the load.
        TABLIUM_RATE_IP_BURST_REQUESTS="1000000",
        TABLIUM_RATE_IP_REFILL_PER_S="1000000",
    )
    return env


def _wait_ready(server: subprocess.Popen[str], log_path: str) -> tuple[str, int]:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            match = READY_PATTERN.search(f.read())
        if match is not None:
            return match.group(1), int(match.group(2))
        if server.poll() is not None:
            break
        time.sleep(0.1)
    with open(log_path, encoding="utf-8", errors="replace") as f:
        raise RuntimeError(f"the server did not start:\n{f.read()[-2000:]}")


@dataclass(frozen=True)
class CpuTimes:
    """CPU seconds of a process so far: user + system over every thread, system alone, and
    the main (event loop) thread's own."""

    total_s: float
    system_s: float
    main_thread_s: float

    def __sub__(self, other: CpuTimes) -> CpuTimes:
        return CpuTimes(
            self.total_s - other.total_s,
            self.system_s - other.system_s,
            self.main_thread_s - other.main_thread_s,
        )


def _cpu_s(pid: int) -> CpuTimes:
    user, system = _stat_times(f"/proc/{pid}/stat")
    main_user, main_system = _stat_times(f"/proc/{pid}/task/{pid}/stat")
    return CpuTimes(user + system, system, main_user + main_system)


def _stat_times(path: str) -> tuple[float, float]:
    """(utime, stime) in seconds of a /proc stat file (a process's covers all its threads)."""
    with open(path, encoding="ascii") as f:
        fields = f.read().rpartition(")")[2].split()
    # After the command name: state is field 3, utime 14 and stime 15 (1-based).
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def _per(kb: int, items: int) -> float:
    return round(kb / max(items, 1), 2)


def _percentile(sorted_values: list[float], percent: int) -> float:
    if not sorted_values:
        return 0.0
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[percent - 1]


# --- the store and the admin API -------------------------------------------------------------


@contextlib.contextmanager
def _database(database_url: str, data_dir: str) -> Iterator[str]:
    """The store's URL: a SQLite file in ``data_dir``, or a scratch schema of the given
    PostgreSQL database (dropped afterwards)."""
    if not database_url:
        yield f"sqlite:///{data_dir}/tablium.sqlite3"
        return
    import trio

    schema = f"bench_table_{secrets.token_hex(4)}"
    trio.run(_ddl, database_url, f'CREATE SCHEMA "{schema}"')
    try:
        sep = "&" if "?" in database_url else "?"
        yield f"{database_url}{sep}search_path={schema}"
    finally:
        trio.run(_ddl, database_url, f'DROP SCHEMA "{schema}" CASCADE')


async def _ddl(database_url: str, sql: str) -> None:
    from persistence.store import open_store
    from persistence.work import Query, Work

    def statement() -> Work[None]:
        yield Query(sql)

    async with open_store(database_url, migrate=False, pool_size=1) as store:
        await store.run(statement)


def _prepare_store(url: str, names: list[str]) -> None:
    """Accounts and funded wallets, written before the server starts."""
    import trio

    async def prepare() -> None:
        from persistence.store import open_store
        from services.ledger import wallet
        from services.wallet import Wallet

        async with open_store(url) as store:
            funds = Wallet(store)
            for name in names:
                # Not an argon2 hash: these accounts cannot log in by password, only by token.
                account = await store.create_account(name, "bench:token-login-only", "player")
                await funds.adjust(
                    f"bench:{name}", wallet(account.id), FUNDS, "bench: chips to buy in with"
                )

    trio.run(prepare)


class _Admin:
    """The few admin API calls the bench makes (stdlib HTTP: nothing measured goes here)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def open_table(self, table_id: str) -> None:
        body = {
            "table_id": table_id,
            "name": table_id,
            "variant": "NT",
            "small_blind": SMALL_BLIND,
            "big_blind": BIG_BLIND,
            "seats": SEATS,
            "reason": "tablium bench table",
        }
        self._call("POST", "/tables", json.dumps(body).encode())

    def gc_seconds(self) -> float:
        text = self._call("GET", "/metrics", None).decode()
        return sum(float(value) for value in GC_SUM_PATTERN.findall(text))

    def _call(self, method: str, path: str, data: bytes | None) -> bytes:
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers=self.headers
        )
        with urllib.request.urlopen(request, timeout=ADMIN_TIMEOUT_S) as response:
            body: bytes = response.read()
            return body


# --- the report ------------------------------------------------------------------------------

_RATIO_FIGURES: Final = (
    "cpu_ms_per_action",
    "cpu_system_ms_per_action",
    "actions_per_s",
    "rtt_p50_ms",
    "rtt_p99_ms",
)


def _median_figures(runs: list[RunFigures]) -> dict[str, Any]:
    """Each figure's median over the runs (numbers only; memory per field)."""
    rows = [asdict(r) for r in runs]
    out: dict[str, Any] = {}
    for key, value in rows[0].items():
        if isinstance(value, bool) or key in ("kind", "profile", "errors"):
            continue
        if isinstance(value, int | float):
            out[key] = _median([row[key] for row in rows])
        elif key == "memory":
            out[key] = {
                k: _median([row[key][k] for row in rows]) for k in value if value[k] is not None
            }
        elif key == "frames_per_action_by_type":
            kinds = dict.fromkeys(kind for row in rows for kind in row[key])
            medians = {k: _median([row[key].get(k, 0.0) for row in rows]) or 0.0 for k in kinds}
            out[key] = dict(sorted(medians.items(), key=lambda kv: -kv[1]))
    errors: dict[str, int] = {}
    for row in rows:
        for code, count in row["errors"].items():
            errors[code] = errors.get(code, 0) + count
    out["errors"] = errors
    return out


def _median(values: list[Any]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 4) if present else None


def _report(args: argparse.Namespace, runs: dict[str, list[RunFigures]]) -> dict[str, Any]:
    server, baseline = _median_figures(runs["server"]), _median_figures(runs["baseline"])
    ratio = {
        key: round(server[key] / baseline[key], 3) if baseline.get(key) else None
        for key in _RATIO_FIGURES
    }
    ratio["idle_connection_kb"] = (
        round(server["memory"]["idle_connection_kb"] / baseline["memory"]["idle_connection_kb"], 3)
        if baseline["memory"].get("idle_connection_kb")
        else None
    )
    return {
        "benchmark": "table",
        "tables": args.tables,
        "seats_per_table": SEATS,
        "players": args.tables * SEATS,
        "idle_tables": args.idle_tables,
        "seconds": args.seconds,
        "warmup_s": args.warmup_s,
        "repeats": args.repeats,
        "think_ms": args.think_ms,
        "client_processes": args.client_processes,
        "database": "postgresql" if args.database_url else "sqlite",
        "server": server,
        "baseline": baseline,
        "baseline_transport": args.baseline_transport,
        "ratio": ratio,
        "goals": {
            "cpu_ms_per_action_max": GOAL_CPU_MS_PER_ACTION,
            "ratio_max": GOAL_RATIO_MAX,
            "idle_connection_kb_max": GOAL_IDLE_CONNECTION_KB,
            "idle_table_kb_max": GOAL_IDLE_TABLE_KB,
        },
        **(
            {
                "batched": (batched := _median_figures(runs["batched"])),
                "ratio_to_batched": {
                    key: round(server[key] / batched[key], 3) if batched.get(key) else None
                    for key in _RATIO_FIGURES
                },
            }
            if "batched" in runs
            else {}
        ),
        "runs": {kind: [asdict(r) for r in figures] for kind, figures in runs.items()},
    }


def _profile_lines(runs: list[RunFigures], cpu_ms_per_action: float) -> list[str]:
    from server.bench.profiling import (
        combined_shares,
        format_combined,
        format_shares,
        read_native_shares,
        read_shares,
    )

    prefixes = [r.profile for r in runs if r.profile]
    python = read_shares(p + ".pyspy.txt" for p in prefixes)
    lines = format_shares("python profile (py-spy --gil, shares of the GIL's time)", python)
    native_paths = [p + ".perf.txt" for p in prefixes if os.path.exists(p + ".perf.txt")]
    if not native_paths:
        return [*lines, "native profile: perf is not installed (Debian: linux-perf)"]
    native = read_native_shares(native_paths)
    lines += format_shares("native profile (perf, on-CPU)", native, cpu_ms_per_action)
    lines += format_combined(combined_shares(native, python), cpu_ms_per_action)
    return lines


def _run_line(repeat: int, f: RunFigures) -> str:
    return (
        f"run {repeat + 1} {f.kind:8}: {f.cpu_ms_per_action:.3f} ms CPU/action,"
        f" {f.actions_per_s:.0f} actions/s, p50 {f.rtt_p50_ms:.2f} ms, p99 {f.rtt_p99_ms:.2f} ms,"
        f" {f.cpu_cores:.2f} cores, load average {f.load_average}"
    )


def _human(report: dict[str, Any]) -> list[str]:
    s, b, r = report["server"], report["baseline"], report["ratio"]
    sm, bm = s["memory"], b["memory"]
    loads = [run["load_average"] for runs in report["runs"].values() for run in runs]

    def line(name: str, key: str, unit: str, fmt: str = ".3f") -> str:
        ratio = f"{r[key]:.2f}x" if r.get(key) is not None else ""
        return f"  {name:24} {s[key]:>10{fmt}} {unit:5} {b[key]:>10{fmt}} {unit:5} {ratio:>8}"

    return [
        f"tablium bench table: {report['tables']} six-seat tables ({report['players']} players,"
        f" {report['database']}), {report['repeats']} run(s) of {report['seconds']:g} s each,"
        f" alternating with the baseline ({report['baseline_transport']} websocket);"
        f" load average {min(loads):.1f}-{max(loads):.1f}",
        f"  {'(medians)':24} {'server':>16} {'baseline':>16} {'ratio':>8}",
        line("server CPU per action", "cpu_ms_per_action", "ms"),
        line("  of which in the kernel", "cpu_system_ms_per_action", "ms"),
        line("  of which worker threads", "cpu_worker_threads_ms_per_action", "ms"),
        line("actions/s", "actions_per_s", "", ".1f"),
        line("round trip p50", "rtt_p50_ms", "ms", ".2f"),
        line("round trip p99", "rtt_p99_ms", "ms", ".2f"),
        f"  {'server CPU':24} {s['cpu_cores']:>10.3f} cores {b['cpu_cores']:>10.3f} cores",
        f"  {'hands/s':24} {s['hands_per_s']:>10.2f} {'':5} {b['hands_per_s']:>10.2f}",
        f"  {'frames per action':24} {s['frames_per_action']:>10.2f} {'':5}"
        f" {b['frames_per_action']:>10.2f}   ({s['frames_per_action'] / SEATS:.2f} per seat)",
        f"  {'bytes per action':24} {s['bytes_per_action']:>10.0f} {'':5}"
        f" {b['bytes_per_action']:>10.0f}",
        "  frames per action by type: "
        + ", ".join(f"{k} {v:.2f}" for k, v in s["frames_per_action_by_type"].items()),
        f"  {'GC pauses per action':24} {s['gc_ms_per_action']:>10.3f} ms    (wall time)"
        if s.get("gc_ms_per_action") is not None
        else "  GC pauses per action: not read",
        f"  memory: idle table {sm.get('idle_table_kb', 0):.1f} KB"
        f" (goal <= {GOAL_IDLE_TABLE_KB:g}), idle connection {sm['idle_connection_kb']:.1f} KB"
        f" (baseline {bm['idle_connection_kb']:.1f} KB, goal <= {GOAL_IDLE_CONNECTION_KB:g}),"
        f" seated player +{sm.get('seated_player_kb', 0):.1f} KB, connection after play"
        f" {sm['connection_after_play_kb']:.1f} KB (baseline {bm['connection_after_play_kb']:.1f})",
        f"  goal: server CPU per action <= {GOAL_CPU_MS_PER_ACTION} ms and <="
        f" {GOAL_RATIO_MAX:g}x the baseline",
        f"  clients: {s['acts_ok']:.0f} acts answered ok, {s['actions_seen']:.0f} own actions"
        f" seen, {s['timed_out']:.0f} timed out (medians per run); errors over all runs:"
        f" {s['errors'] or 'none'}",
        *_batched_lines(report),
    ]


def _batched_lines(report: dict[str, Any]) -> list[str]:
    batched = report.get("batched")
    if batched is None:
        return []
    cpu_ratio = report["ratio_to_batched"]["cpu_ms_per_action"]
    # A tiny run may not reach one 10 ms tick of CPU: no ratio then.
    versus = f"server {cpu_ratio:.2f}x" if cpu_ratio is not None else "too short to compare"
    return [
        f"  batched floor (one socket write per recipient per action, wsproto):"
        f" {batched['cpu_ms_per_action']:.3f} ms CPU per action ({versus}), kernel"
        f" {batched['cpu_system_ms_per_action']:.3f} ms, {batched['actions_per_s']:.1f} actions/s,"
        f" round trip p50 {batched['rtt_p50_ms']:.2f} ms, p99 {batched['rtt_p99_ms']:.2f} ms"
    ]
