"""A capacity sweep's table and chart from the swarm's JSON reports, one run per bot count.

    python -m loadtest.sweep REPORT.json [REPORT.json ...] [--chart FILE.png]

prints one Markdown row per run (sorted by bots): bots connected and seated at most, steady
actions/s, the steady action round trip p50 / p95 / p99, and the server's CPU in the steady
part (ms per action, and cores). ``--chart`` draws the steady p50 and p99 against the bots
(with the 100 ms goal of docs/loadtest.md) and the server's CPU beside it (needs matplotlib).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

P99_GOAL_MS = 100.0


@dataclass(frozen=True, slots=True)
class SweepRow:
    bots: int
    connected: int
    seated: int
    actions_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_ms_per_action: float
    cpu_cores: float

    def markdown(self) -> str:
        return (
            f"| {self.bots:,} | {self.connected:,} / {self.seated:,} | {self.actions_per_s:.1f}"
            f" | {self.p50_ms:.1f} / {self.p95_ms:.1f} / {self.p99_ms:.1f}"
            f" | {self.cpu_ms_per_action:.2f} | {self.cpu_cores:.2f} |"
        )


HEADER = (
    "| bots | connected / seated (at most) | steady actions/s | steady round trip p50 / p95 /"
    " p99 ms | server CPU ms per action | server CPU, cores |\n|---|---|---|---|---|---|"
)


def sweep_row(report: dict[str, Any]) -> SweepRow:
    steady = report["steady_state"]
    trip = steady["action_round_trip"]
    cpu = report["server_cpu"]["steady"]
    return SweepRow(
        bots=int(report["settings"]["bots"]),
        connected=int(report["bots"]["connected_max"]),
        seated=int(report["bots"]["seated_max"]),
        actions_per_s=float(steady["actions_per_s"]),
        p50_ms=float(trip["p50_ms"]),
        p95_ms=float(trip["p95_ms"]),
        p99_ms=float(trip["p99_ms"]),
        cpu_ms_per_action=float(cpu["ms_per_action"]),
        cpu_cores=float(cpu["utilisation"]),
    )


def sweep_rows(reports: Sequence[dict[str, Any]]) -> list[SweepRow]:
    return sorted((sweep_row(report) for report in reports), key=lambda row: row.bots)


def write_sweep_chart(rows: Sequence[SweepRow], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bots = [row.bots for row in rows]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(bots, [row.p99_ms for row in rows], "o-", label="p99")
    left.plot(bots, [row.p50_ms for row in rows], "o-", label="p50")
    left.axhline(P99_GOAL_MS, color="grey", linestyle="--", label="goal: p99 100 ms")
    left.set_xlabel("bots")
    left.set_ylabel("steady action round trip (ms)")
    left.set_yscale("log")
    left.legend()
    left.grid(alpha=0.3)
    right.plot(bots, [row.cpu_cores for row in rows], "o-", color="tab:red", label="cores")
    right.set_xlabel("bots")
    right.set_ylabel("server CPU in the steady part (cores)")
    right.grid(alpha=0.3)
    per_action = right.twinx()
    per_action.plot(bots, [row.cpu_ms_per_action for row in rows], "s--", color="tab:purple",
                    label="ms per action")  # fmt: skip
    per_action.set_ylabel("server CPU per action (ms)")
    right.legend(loc="upper left")
    per_action.legend(loc="lower right")
    figure.suptitle("tablium swarm: one server, steady state by number of bots")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.sweep", description="a capacity sweep's table and chart"
    )
    parser.add_argument("reports", nargs="+", type=Path, help="the swarm's --report files")
    parser.add_argument("--chart", type=Path, help="draw the sweep to this PNG")
    args = parser.parse_args(argv)
    rows = sweep_rows([json.loads(path.read_text()) for path in args.reports])
    print(HEADER)
    for row in rows:
        print(row.markdown())
    if args.chart is not None:
        write_sweep_chart(rows, args.chart)
    return 0


if __name__ == "__main__":
    sys.exit(main())
