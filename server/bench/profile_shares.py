"""Where a sampled server spends its CPU, by component: py-spy's raw (collapsed) stacks
summed into the shares ``tablium bench table --profile-dir`` prints and docs/loadtest.md cites.

Each sample is a stack, outermost frame first. It is given to ONE component: the first of
COMPONENTS, in that order, that any frame of the stack belongs to. The order puts the most
specific paths first, so that time spent inside a path is charged to the path that called it:
trio's socket send under trio-websocket's ``send_message`` is "websocket send", msgspec under
``protocol/codec.py`` is "wire encoding", the engine under the hand actor is "engine", the trio
machinery under an ask is "actor runtime", and only what no component claims (the scheduler
loop itself, waking tasks, epoll) is "trio scheduling".

Garbage collection runs inside whatever frame allocated, so a sampling profile cannot see it
as such; the benchmark reads it from the server's own ``tablium_gc_pause_seconds`` instead.

``python -m server.bench.profile_shares FILE...`` prints the shares of one or more profiles
(``py-spy record --format raw``), and the functions most often on top of the stack.
"""

from __future__ import annotations

import collections
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

# (component, pattern matched against one frame as py-spy writes it, "Class.function
# (package/module.py:line)"), most specific first.
COMPONENTS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("websocket send", r"\b(send_message|_send|ping|pong|aclose) \(trio_websocket/"),
        ("websocket receive", r"\(trio_websocket/|\(wsproto/|\(h11/"),
        ("storage (SQLite/PostgreSQL)", r"\((persistence|sqlite3|asyncpg|trio_asyncio)/"),
        # An actor's state as bytes: after every message of a kind that keeps a snapshot
        # (tables, hands) and for the snapshot writer.
        ("actor state snapshots", r"\b(snapshot|checkpoint|encode_table_state) \("),
        ("engine (poker/)", r"\(poker/"),
        ("wire encoding and decoding", r"\((protocol/codec|msgspec/)"),
        ("hand actor", r"\(actors/(hand|table_view)\.py"),
        ("timers", r"\(actors/timers\.py"),
        ("table actor", r"\(actors/(table\w*|lobby|game_metrics)\.py"),
        ("actor runtime (mailboxes, asks)", r"\(actors/"),
        ("gateway (requests, sessions)", r"\(server/"),
        ("logging and metrics", r"\((structlog|prometheus_client|logging)/"),
        ("admin HTTP", r"\((hypercorn|quart|quart_trio|quart_schema|werkzeug)/"),
        ("trio scheduling", r"\(trio/|\(outcome/|\(sniffio/"),
    )
)  # fmt: skip
OTHER: Final = "other"
TOP_FUNCTIONS: Final = 15


@dataclass(frozen=True)
class Shares:
    samples: int
    by_component: dict[str, int]  # in COMPONENTS order, then OTHER
    top_functions: list[tuple[str, int]]  # the innermost frame's function, most samples first

    def percent(self, component: str) -> float:
        return 100.0 * self.by_component.get(component, 0) / max(self.samples, 1)


def component_of(frames: list[str]) -> str:
    for name, pattern in COMPONENTS:
        for frame in frames:
            if pattern.search(frame):
                return name
    return OTHER


def _parse(lines: Iterable[str]) -> Iterable[tuple[list[str], int]]:
    for line in lines:
        line = line.rstrip("\n")
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        yield frames, int(count)


def shares_of(lines: Iterable[str]) -> Shares:
    by_component: collections.Counter[str] = collections.Counter()
    top: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, count in _parse(lines):
        total += count
        by_component[component_of(frames)] += count
        if frames:
            top[re.sub(r":\d+\)$", ")", frames[-1])] += count
    ordered = {name: by_component[name] for name, _ in COMPONENTS if by_component[name]}
    if by_component[OTHER]:
        ordered[OTHER] = by_component[OTHER]
    return Shares(total, ordered, top.most_common(TOP_FUNCTIONS))


def read_shares(paths: Iterable[str]) -> Shares:
    lines: list[str] = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            lines.extend(f)
    return shares_of(lines)


def format_shares(shares: Shares, cpu_ms_per_action: float | None = None) -> list[str]:
    """One line per component, largest first: its share and (given the CPU per action) its
    milliseconds per action."""
    out = [f"profile: {shares.samples} samples"]
    for name, count in sorted(shares.by_component.items(), key=lambda item: -item[1]):
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
    if not argv:
        print("usage: python -m server.bench.profile_shares PROFILE.txt...", file=sys.stderr)
        return 2
    print("\n".join(format_shares(read_shares(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
