"""The swarm's final report: JSON for machines, a PNG chart for people, a summary for the
terminal. The server's own figures are scraped from its ``/metrics`` and kept beside ours, so
a reader can check one against the other (e.g. our action count against the server's frames).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final, TextIO

import httpx

from loadtest.stats import Point, Totals

SERVER_METRIC_PREFIXES: Final = ("tablium_", "process_")
METRIC_SAMPLES_MAX: Final = 2000  # a server with thousands of actors: keep the report small
METRICS_TIMEOUT_S: Final = 10.0


async def scrape_server_metrics(admin_url: str, token: str | None = None) -> dict[str, Any]:
    """The server's tablium_* and process_* samples (histogram buckets left out: their sums
    and counts stay), or {"error": ...} when it cannot be read: a report without them is
    still a report. ``token``: the server's metrics token, when it requires one."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        async with httpx.AsyncClient(timeout=METRICS_TIMEOUT_S) as http:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = await http.get(admin_url.rstrip("/") + "/metrics", headers=headers)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        return {"error": f"could not read {admin_url}/metrics: {exc}"}
    samples: dict[str, list[dict[str, Any]]] = {}
    kept = 0
    for family in text_string_to_metric_families(response.text):
        if not family.name.startswith(SERVER_METRIC_PREFIXES):
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket") or kept >= METRIC_SAMPLES_MAX:
                continue
            samples.setdefault(sample.name, []).append(
                {"labels": dict(sample.labels), "value": sample.value}
            )
            kept += 1
    return samples


def build_report(
    *,
    settings: dict[str, Any],
    totals: Totals,
    timeline: list[Point],
    elapsed_s: float,
    measured_s: float,
    server_metrics: dict[str, Any] | None,
) -> dict[str, Any]:
    """Everything as plain JSON values. ``measured_s`` is the play time after the ramp, the
    base of the steady-state rates."""
    steady = [p for p in timeline if p.t_s > settings["ramp_s"]]
    return {
        "settings": settings,
        "elapsed_s": round(elapsed_s, 3),
        "bots": {
            "connected_max": totals.bots_connected_max,
            "seated_max": totals.bots_seated_max,
            "finished": totals.bots_finished,
        },
        "connect": totals.connect.summary_ms(),
        "login": totals.login.summary_ms(),
        "action_round_trip": totals.act_rtt.summary_ms(),
        "actions": totals.actions,
        "hands": totals.hands,
        "steady_state": {
            "seconds": round(measured_s, 3),
            "actions_per_s": round(sum(p.actions_per_s for p in steady) / len(steady), 2)
            if steady
            else 0.0,
            "hands_per_s": round(sum(p.hands_per_s for p in steady) / len(steady), 2)
            if steady
            else 0.0,
            "actions_per_s_peak": max((p.actions_per_s for p in steady), default=0.0),
        },
        "errors": dict(sorted(totals.errors.items())),
        "disconnects": {
            "dropped_on_purpose": totals.drops,
            "reconnected": totals.reconnects,
            "lost": totals.lost,
        },
        "timeline": [asdict(p) for p in timeline],
        "server_metrics": server_metrics,
    }


def write_json(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")


def write_chart(report: dict[str, Any], path: Path, out: TextIO = sys.stderr) -> bool:
    """A PNG of latency and throughput over time; False (and a message) without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            "swarm: no chart: matplotlib is not installed (pip install 'tablium[loadtest]');"
            " the JSON report is complete without it",
            file=out,
        )
        return False
    timeline = report["timeline"]
    t = [p["t_s"] for p in timeline]
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 7))
    # A second without a completed action has no latency: a gap in the line, not a zero.
    nan = float("nan")
    top.plot(t, [nan if p["act_p50_ms"] is None else p["act_p50_ms"] for p in timeline], "o-",
             markersize=2, label="p50")  # fmt: skip
    top.plot(t, [nan if p["act_p99_ms"] is None else p["act_p99_ms"] for p in timeline], "o-",
             markersize=2, label="p99")  # fmt: skip
    top.set_ylabel("action round trip (ms)")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    bottom.plot(t, [p["actions_per_s"] for p in timeline], label="actions/s")
    bottom.plot(t, [p["hands_per_s"] for p in timeline], label="hands/s")
    bottom.set_ylabel("per second")
    bottom.set_xlabel("seconds since start")
    bottom.grid(alpha=0.3)
    bots_axis = bottom.twinx()
    bots_axis.plot(t, [p["bots_connected"] for p in timeline], color="grey", linestyle=":")
    bots_axis.set_ylabel("bots connected (dotted)")
    bottom.legend(loc="upper left")
    settings = report["settings"]
    figure.suptitle(
        f"tablium swarm: {settings['bots']} bots, pace {settings['pace_s']} s,"
        f" {settings['processes']} process(es)"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def summary_lines(report: dict[str, Any]) -> list[str]:
    rtt = report["action_round_trip"]
    steady = report["steady_state"]
    return [
        f"bots: {report['bots']['connected_max']} connected at most,"
        f" {report['bots']['seated_max']} seated",
        f"connect: p50 {report['connect']['p50_ms']} ms, p99 {report['connect']['p99_ms']} ms;"
        f" login p99 {report['login']['p99_ms']} ms",
        f"action round trip ({rtt['count']}): p50 {rtt['p50_ms']} ms, p95 {rtt['p95_ms']} ms,"
        f" p99 {rtt['p99_ms']} ms, max {rtt['max_ms']} ms",
        f"hands: {report['hands']}; actions: {report['actions']};"
        f" steady {steady['actions_per_s']} actions/s (peak {steady['actions_per_s_peak']}),"
        f" {steady['hands_per_s']} hands/s",
        f"steady-state action round trip: {steady.get('action_round_trip')}",
        f"errors: {report['errors'] or 'none'}",
        f"disconnects: {report['disconnects']}",
        f"server CPU: {report.get('server_cpu')}",
    ]
