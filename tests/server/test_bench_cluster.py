"""``tablium bench cluster`` on a tiny load: the report's shape, not speed (this machine's
load makes the figures anything)."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

from server.cli import main


def _report(argv: list[str]) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    # One JSON line; the gateways' own log lines may come before it.
    (line,) = [x for x in out.getvalue().splitlines() if x.startswith("{")]
    report: dict[str, Any] = json.loads(line)
    return report


def test_the_report_has_every_mode_with_positive_figures(redis_url: str) -> None:
    argv = ["bench", "cluster", "--json", "--redis-url", redis_url]
    report = _report([*argv, "--requests", "30", "--rounds", "1", "--chunks", "4,1"])
    assert report["benchmark"] == "cluster" and report["requests"] == 30
    assert list(report["modes"]) == ["local", "chunk-4", "chunk-1"]
    for figures in report["modes"].values():
        assert figures["round_trips_per_s"] > 0 and figures["cpu_us_per_request"] > 0
        assert len(figures["runs"]) == 1
    assert report["redis_ping_us"] > 0 and report["redis_take_us"] > 0


def test_the_routing_mode_reports_both_sides_and_their_ratio(redis_url: str) -> None:
    argv = ["bench", "cluster", "--mode", "routing", "--json", "--redis-url", redis_url]
    report = _report([*argv, "--players", "2", "--actions", "3"])
    assert report["benchmark"] == "cluster-routing" and report["players"] == 2
    for side in ("same_node", "other_node"):
        figures = report[side]
        assert figures["actions"] >= 3
        assert 0 < figures["rtt_ms_p50"] <= figures["rtt_ms_p90"]
        assert 0 < figures["push_ms_p50"] <= figures["push_ms_p90"]
    assert report["rtt_ratio"] > 0 and report["push_ratio"] > 0


def test_the_capacity_mode_reports_each_node_count_against_one_node(redis_url: str) -> None:
    argv = ["bench", "cluster", "--mode", "capacity", "--json", "--redis-url", redis_url]
    window = ["--seconds", "2", "--warmup-s", "1", "--rounds", "1"]
    report = _report([*argv, "--nodes", "1,2", "--tables", "2", *window])
    assert report["benchmark"] == "cluster-capacity" and report["players"] == 12
    assert list(report["nodes"]) == ["1", "2"]
    one, two = report["nodes"]["1"], report["nodes"]["2"]
    assert one["routed_share"] == 0 and two["routed_share"] == 0.5  # spread: every other player
    for figures in (one, two):
        assert figures["actions_per_s"] > 0 and figures["cpu_ms_per_action"] > 0
        assert figures["projected_actions_per_s"] > 0
    assert one["projected_vs_one_node"] == 1.0 and two["projected_vs_one_node"] > 0
