"""``tablium bench ledger --json`` runs end to end on a tiny load (a smoke test, not a figure)."""

from __future__ import annotations

import json

import pytest

from server.cli import main


def test_ledger_bench_reports_every_figure(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["bench", "ledger", "--json", "--database-url", postgres_url, "--transfers", "60"]
    argv += ["--snapshot-rate", "400", "--snapshot-seconds", "0.25"]
    assert main(argv) == 0
    figures = json.loads(capsys.readouterr().out)
    for clients in (1, 50):
        assert figures[f"ledger_transfers_per_s_{clients}"] > 0
        assert figures[f"raw_inserts_per_s_{clients}"] > 0
        assert figures[f"ledger_no_outbox_per_s_{clients}"] > 0
        assert f"outbox_cost_us_per_transfer_{clients}" in figures
    assert figures["snapshot_submitted"] == 100
    assert 0 < figures["snapshot_written"] <= 100  # the writer coalesces per actor
    assert figures["snapshot_lag_p99_ms"] >= figures["snapshot_lag_p50_ms"] > 0


def test_ledger_bench_needs_postgresql(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "ledger", "--database-url", "sqlite:///x.db"]) == 2
    assert "postgresql" in capsys.readouterr().err
