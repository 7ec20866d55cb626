"""The capacity sweep's table and chart (loadtest/sweep.py) from swarm reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loadtest.sweep import HEADER, main, sweep_rows


def _report(bots: int, seated: int, p99_ms: float) -> dict[str, Any]:
    return {
        "settings": {"bots": bots},
        "bots": {"connected_max": bots, "seated_max": seated, "finished": bots},
        "steady_state": {
            "actions_per_s": bots / 14.4,
            "action_round_trip": {"p50_ms": 2.5, "p95_ms": p99_ms / 2, "p99_ms": p99_ms},
        },
        "server_cpu": {"steady": {"ms_per_action": 2.4, "utilisation": bots / 5600}},
    }


def test_rows_come_sorted_by_bots_with_the_steady_figures() -> None:
    rows = sweep_rows([_report(3000, 3000, 107.4), _report(500, 500, 9.6)])
    assert [row.bots for row in rows] == [500, 3000]
    assert (
        rows[1].markdown() == "| 3,000 | 3,000 / 3,000 | 208.3 | 2.5 / 53.7 / 107.4 | 2.40 | 0.54 |"
    )


def test_the_command_prints_the_table_and_draws_the_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = []
    for bots, seated, p99 in ((1000, 1000, 14.3), (5000, 2672, 156.5)):
        path = tmp_path / f"s{bots}.json"
        path.write_text(json.dumps(_report(bots, seated, p99)))
        paths.append(str(path))
    chart = tmp_path / "sweep.png"
    assert main([*paths, "--chart", str(chart)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "\n".join(printed[:2]) == HEADER
    assert printed[2].startswith("| 1,000 |") and printed[3].startswith("| 5,000 | 5,000 / 2,672 |")
    assert chart.read_bytes().startswith(b"\x89PNG")
