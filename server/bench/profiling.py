"""Where a server spends its CPU: two samplers attached to it during a benchmark's window, and
the shares ``tablium bench table --profile-dir`` prints (docs/loadtest.md cites them).

Two views, because neither sampler sees everything:

- **native** (``perf record -e cpu-clock``, when ``perf`` is installed): on-CPU samples only
  (the clock ticks only while a thread of the server runs), of every thread, kernel included.
  Each sample is charged by its innermost frame: the kernel by the system call on its stack
  (socket sends, which on loopback also deliver to the receiver, receives, epoll, futex, the
  SQLite file's writes and syncs), garbage collection by the collector's C functions, then
  the libraries (SQLite, msgspec, the compiled engine), libc, and the Python interpreter.
  Python frames are invisible to it (Python 3.11 has no perf support).
- **python** (``py-spy record --gil``): samples only the thread holding the GIL, so time a
  thread spends waiting for a CPU on a busy machine, or inside a system call, is not counted
  (without ``--gil`` such samples inflate whatever was on the stack when the thread stopped).
  Each sample is a Python stack, outermost first, charged to ONE component: the first of
  COMPONENTS, in that order, that any frame of the stack belongs to. The order puts the most
  specific paths first, so time spent inside a path is charged to the path that called it:
  trio's socket send under our websocket's ``send_burst`` is "websocket send", msgspec under
  ``protocol/codec.py`` is "wire encoding", the engine under the hand actor is "engine", the
  trio machinery under an ask is "actor runtime", and only what no component claims (the
  scheduler loop, waking tasks, epoll) is "trio scheduling". Garbage collection runs inside
  whatever frame allocated; this view sees it only because ``tablium serve`` times each
  collection with a ``gc.callbacks`` entry, whose frame py-spy finds on the stack.

``python -m server.bench.profiling FILE...`` prints the shares of saved profiles: py-spy's raw
output (``*.pyspy.txt``) and ``perf script`` output (``*.perf.txt``).
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, final

SAMPLES_PER_S: Final = 499  # both samplers (a prime, so as not to beat with periodic work)
SAMPLER_GRACE_S: Final = 60.0  # a sampler writing its file after the window gets this long

# (component, pattern matched against one frame as py-spy writes it, "Class.function
# (package/module.py:line)"), most specific first.
COMPONENTS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        # The collector's pause timer (gc.callbacks, server/commands/serve.py) is on the
        # stack of every sample taken during a collection.
        # So is the paced collections' task (its gc.collect is C: no frame of its own).
        ("garbage collection", r"^GcPauseTimer\.|\(gc/|\bgc\.collect|^pace_collections \("),
        # The gateway's own websocket (server/websocket.py, issue 25's cut 3), and
        # trio-websocket's, which the gateway used before and the baseline can still use.
        (
            "websocket send",
            r"\b(send_message|send_burst|write_burst|send_ping|_send_locked|_flush"
            r"|_flush_locked|aclose)"
            r" \(server/websocket\.py|\(server/wsburst\.py"
            r"|\b(send_message|_send|ping|pong|aclose) \(trio_websocket/",
        ),
        (
            "websocket receive",
            r"\b(get_message|read_ahead|_receive|_message|_fail|_read_handshake)"
            r" \(server/websocket\.py|\(websockets/|\(trio_websocket/|\(wsproto/|\(h11/",
        ),
        ("storage (SQLite/PostgreSQL)", r"\((persistence|sqlite3|asyncpg|trio_asyncio)/"),
        # An actor's state as bytes: after every message of a kind that keeps a snapshot
        # (tables, hands) and for the snapshot writer.
        ("actor state snapshots", r"\b(snapshot|checkpoint|encode_table_state) \("),
        ("engine (poker/)", r"\(poker/"),
        ("wire encoding and decoding", r"\((protocol/codec|msgspec/)"),
        ("hand actor", r"\(actors/(hand|table_view)\.py"),
        ("timers", r"\(actors/timers\.py"),
        # actors/table/ is a package since the table's split (profile G still missed it).
        ("table actor", r"\(actors/(table\w*|lobby|game_metrics)\.py|\(actors/table/"),
        ("actor runtime (mailboxes, asks)", r"\(actors/"),
        # Not server/cli.py nor server/commands/: ``tablium serve`` is the root of every stack.
        ("gateway (connections, sessions)", r"\(server/(?!commands/|cli\.py)"),
        ("logging and metrics", r"\((structlog|prometheus_client|logging)/"),
        ("admin HTTP", r"\((hypercorn|quart|quart_trio|quart_schema|werkzeug)/"),
        ("trio scheduling", r"\(trio/|\(outcome/|\(sniffio/"),
    )
)  # fmt: skip
OTHER: Final = "other"
TOP_FUNCTIONS: Final = 15

# Native view: system calls by kind, and the C functions of CPython's collector.
SYSCALLS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("kernel: socket send (incl. loopback delivery)", r"^(sendto|sendmsg|sendmmsg)$"),
        ("kernel: socket receive", r"^(recvfrom|recvmsg|recvmmsg)$"),
        ("kernel: epoll", r"^epoll_"),
        ("kernel: futex (threads waking each other)", r"^futex"),
        ("kernel: file I/O (SQLite)", r"^(pwrite64|pread64|fdatasync|fsync|lseek|write|read"
         r"|openat|close|newfstatat|fstat|fcntl|unlink)$"),
    )
)  # fmt: skip
GC_FUNCTION: Final = re.compile(
    r"traverse|^visit_|^gc_collect|^collect(_with_callback|_generations)?$|^update_refs$"
    r"|^subtract_refs$|^move_unreachable$|^deduce_unreachable$|^move_legacy_finalizer"
    r"|^handle_weakrefs$|^delete_garbage$|^finalize_garbage$|^gc_list_"
)
KERNEL_DSO: Final = "[kernel.kallsyms]"


@dataclass(frozen=True)
class Shares:
    samples: int
    by_component: dict[str, int]  # largest first
    top_functions: list[tuple[str, int]]  # the innermost frame's function, most samples first

    def percent(self, component: str) -> float:
        return 100.0 * self.by_component.get(component, 0) / max(self.samples, 1)


def _ordered(counts: collections.Counter[str]) -> dict[str, int]:
    return dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: -kv[1]))


# --- python view (py-spy) ------------------------------------------------------------------


def component_of(frames: list[str]) -> str:
    for name, pattern in COMPONENTS:
        for frame in frames:
            if pattern.search(frame):
                return name
    return OTHER


def _parse_collapsed(lines: Iterable[str]) -> Iterable[tuple[list[str], int]]:
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        yield frames, int(count)


def shares_of(lines: Iterable[str]) -> Shares:
    """Python-view shares of py-spy's raw (collapsed) output."""
    by_component: collections.Counter[str] = collections.Counter()
    top: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, count in _parse_collapsed(lines):
        total += count
        by_component[component_of(frames)] += count
        if frames:
            top[re.sub(r":\d+\)$", ")", frames[-1])] += count
    return Shares(total, _ordered(by_component), top.most_common(TOP_FUNCTIONS))


# --- native view (perf) --------------------------------------------------------------------


@dataclass(frozen=True)
class NativeFrame:
    symbol: str
    dso: str


_PERF_FRAME: Final = re.compile(r"^\s*[0-9a-f]+\s+(\S+?)(?:\+0x[0-9a-f]+)?\s+\((.*)\)\s*$")


def _parse_perf_script(lines: Iterable[str]) -> Iterable[tuple[bool, list[NativeFrame]]]:
    """(main thread?, frames innermost first) per sample of ``perf script -F tid,pid,ip,sym,dso``
    output: a header line "PID/TID" then one frame a line, samples separated by a blank."""
    main = False
    frames: list[NativeFrame] = []
    for line in lines:
        if not line.strip():
            if frames:
                yield main, frames
            frames = []
            continue
        match = _PERF_FRAME.match(line)
        if match is not None:
            frames.append(NativeFrame(match.group(1), match.group(2)))
            continue
        ids = re.search(r"(\d+)/(\d+)", line)
        main = ids is not None and ids.group(1) == ids.group(2)
    if frames:
        yield main, frames


def native_component_of(frames: list[NativeFrame]) -> str:
    """The component of one perf sample, from its innermost frame (and, in the kernel, the
    system call on its stack)."""
    leaf = frames[0]
    if leaf.dso == KERNEL_DSO:
        for frame in frames:
            syscall = re.match(r"__(?:x64|ia32)_sys_(\w+)", frame.symbol)
            if syscall is not None:
                name = syscall.group(1)
                for component, pattern in SYSCALLS:
                    if pattern.search(name):
                        return component
                return f"kernel: other system calls ({name})"
        return "kernel: interrupts, faults, scheduler"
    if GC_FUNCTION.search(leaf.symbol):
        return "garbage collection"
    for component, marker in (
        ("SQLite library", "sqlite3"),
        ("msgspec", "/msgspec/"),
        ("engine (compiled poker/)", "/poker/"),
        ("argon2", "argon2"),
        ("libc (malloc, memcpy, ...)", "/libc.so"),
        ("Python interpreter", "/libpython"),
    ):
        if marker in leaf.dso:
            return component
    if leaf.dso.endswith(".so") or ".so." in leaf.dso:
        return "other C extensions"
    return "unknown"


@dataclass(frozen=True)
class NativeShares(Shares):
    main_thread: int  # samples of the event loop's thread (the rest: worker threads)


def native_shares_of(lines: Iterable[str]) -> NativeShares:
    by_component: collections.Counter[str] = collections.Counter()
    top: collections.Counter[str] = collections.Counter()
    total = main = 0
    for on_main, frames in _parse_perf_script(lines):
        total += 1
        main += on_main
        by_component[native_component_of(frames)] += 1
        top[f"{frames[0].symbol} ({os.path.basename(frames[0].dso)})"] += 1
    return NativeShares(total, _ordered(by_component), top.most_common(TOP_FUNCTIONS), main)


# --- running the samplers --------------------------------------------------------------------


def tool(name: str) -> str | None:
    """``name`` on the PATH or beside this Python (a virtualenv's bin/)."""
    beside = os.path.join(os.path.dirname(sys.executable), name)
    return shutil.which(name) or (beside if os.access(beside, os.X_OK) else None)


@final
class Samplers:
    """py-spy (required) and perf (when installed) attached to ``pid`` for ``seconds``;
    files ``PREFIX.pyspy.txt`` and ``PREFIX.perf.txt``."""

    def __init__(self, pid: int, seconds: float, prefix: str) -> None:
        py_spy, perf = tool("py-spy"), tool("perf")
        if py_spy is None:
            raise RuntimeError("profiling needs py-spy: pip install py-spy")
        self.prefix = prefix
        self.python_path = prefix + ".pyspy.txt"
        self.native_path = prefix + ".perf.txt" if perf is not None else None
        self._perf = perf
        self._procs = [
            subprocess.Popen(
                [py_spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
                 "--rate", str(SAMPLES_PER_S), "--format", "raw", "--gil", "--nonblocking",
                 "--output", self.python_path],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        ]  # fmt: skip
        if perf is not None:
            self._procs.append(
                subprocess.Popen(
                    [perf, "record", "-e", "cpu-clock", "-F", str(SAMPLES_PER_S), "-g",
                     "-p", str(pid), "-o", prefix + ".perf.data", "--", "sleep", str(seconds)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip

    def finish(self) -> None:
        """Wait for the samplers' files; turn perf's data into text (perf script)."""
        for proc in self._procs:
            proc.wait(timeout=SAMPLER_GRACE_S)
        if self._perf is not None and self.native_path is not None:
            with open(self.native_path, "w") as out:
                subprocess.run(
                    [self._perf, "script", "-i", self.prefix + ".perf.data",
                     "-F", "pid,tid,ip,sym,dso"],
                    stdout=out,
                    stderr=subprocess.DEVNULL,
                    timeout=SAMPLER_GRACE_S,
                    check=False,
                )  # fmt: skip


# --- both views in one ----------------------------------------------------------------------

# Where each native component's time goes in the combined view: a Python component, or
# None for "split like the Python view" (the interpreter runs whatever Python code runs).
NATIVE_TO_COMPONENT: Final[dict[str, str | None]] = {
    "kernel: socket send (incl. loopback delivery)": "websocket send",
    "kernel: socket receive": "websocket receive",
    "kernel: epoll": "trio scheduling",
    # Worker threads are the store's (trio.to_thread): waking them and being woken by them.
    "kernel: futex (threads waking each other)": "storage (SQLite/PostgreSQL)",
    "kernel: file I/O (SQLite)": "storage (SQLite/PostgreSQL)",
    "SQLite library": "storage (SQLite/PostgreSQL)",
    "garbage collection": "garbage collection",
    "engine (compiled poker/)": "engine (poker/)",
    "kernel: interrupts, faults, scheduler": "kernel: interrupts, faults, context switches",
}
MSGSPEC_COMPONENTS: Final = ("actor state snapshots", "wire encoding and decoding")


def combined_shares(native: NativeShares, python: Shares) -> dict[str, float]:
    """Percent of the server's CPU per component, largest first: the native view's exact
    kernel, collector and library time charged to the components that cause it, and the
    rest (the interpreter running Python code) split as the Python view splits its samples
    (without its "garbage collection", which the native view measures)."""
    spread = {k: v for k, v in python.by_component.items() if k != "garbage collection"}
    spread_total = sum(spread.values()) or 1
    msgspec_split = {k: spread.get(k, 0) for k in MSGSPEC_COMPONENTS}
    msgspec_total = sum(msgspec_split.values())
    out: collections.defaultdict[str, float] = collections.defaultdict(float)
    for name, count in native.by_component.items():
        percent = 100.0 * count / max(native.samples, 1)
        target = NATIVE_TO_COMPONENT.get(name)
        if name == "msgspec" and msgspec_total:
            for component, weight in msgspec_split.items():
                out[component] += percent * weight / msgspec_total
        elif name == "msgspec":
            out["wire encoding and decoding"] += percent
        elif target is not None:
            out[target] += percent
        elif name.startswith("kernel: other"):
            out["kernel: interrupts, faults, context switches"] += percent
        else:
            for component, weight in spread.items():
                out[component] += percent * weight / spread_total
    return {k: round(v, 2) for k, v in sorted(out.items(), key=lambda kv: -kv[1]) if v > 0}


def format_combined(shares: dict[str, float], cpu_ms_per_action: float | None) -> list[str]:
    out = ["where the server's CPU goes (both profiles combined):"]
    for name, percent in shares.items():
        per_action = (
            f"  {cpu_ms_per_action * percent / 100:6.3f} ms/action"
            if cpu_ms_per_action is not None
            else ""
        )
        out.append(f"  {percent:5.1f}%  {name}{per_action}")
    return out


# --- reading and printing ------------------------------------------------------------------


def _lines(paths: Iterable[str]) -> list[str]:
    lines: list[str] = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines.extend(f)
    return lines


def read_shares(paths: Iterable[str]) -> Shares:
    return shares_of(_lines(paths))


def read_native_shares(paths: Iterable[str]) -> NativeShares:
    return native_shares_of(_lines(paths))


def format_shares(title: str, shares: Shares, cpu_ms_per_action: float | None = None) -> list[str]:
    """One line per component, largest first: its share and (given the CPU per action that
    the shares divide) its milliseconds per action; then the innermost functions."""
    out = [f"{title}: {shares.samples} samples"]
    if isinstance(shares, NativeShares) and shares.samples:
        main = 100.0 * shares.main_thread / shares.samples
        out[0] += f" ({main:.0f}% on the event loop's thread, the rest on worker threads)"
    for name, count in shares.by_component.items():
        share = 100.0 * count / max(shares.samples, 1)
        per_action = (
            f"  {cpu_ms_per_action * share / 100:6.3f} ms/action"
            if cpu_ms_per_action is not None
            else ""
        )
        out.append(f"  {share:5.1f}%  {name}{per_action}")
    out.append("  innermost functions:")
    for function, count in shares.top_functions:
        out.append(f"  {100.0 * count / max(shares.samples, 1):5.1f}%  {function}")
    return out


def main(argv: list[str]) -> int:
    python = [p for p in argv if p.endswith(".pyspy.txt")]
    native = [p for p in argv if p.endswith(".perf.txt")]
    if not python and not native:
        print("usage: python -m server.bench.profiling X.pyspy.txt|X.perf.txt...", file=sys.stderr)
        return 2
    native_shares = read_native_shares(native) if native else None
    python_shares = read_shares(python) if python else None
    if native_shares is not None:
        print("\n".join(format_shares("native (perf)", native_shares)))
    if python_shares is not None:
        print("\n".join(format_shares("python (py-spy --gil)", python_shares)))
    if native_shares is not None and python_shares is not None:
        print("\n".join(format_combined(combined_shares(native_shares, python_shares), None)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
