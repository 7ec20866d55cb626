"""``tablium bench events --json`` runs end to end on a tiny load (a smoke test, not a figure)."""

from __future__ import annotations

import json

import pytest

from server.cli import main


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_events_bench_reports_both_rates(
    backend: str,
    postgres_url: str,
    amqp_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TABLIUM_DATABASE_URL", raising=False)
    argv = ["bench", "events", "--json", "--amqp-url", amqp_url, "--events", "60"]
    argv += ["--batch", "25", "--rounds", "2"]
    if backend == "postgres":
        argv += ["--database-url", postgres_url]
    assert main(argv) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["backend"] == backend
    assert figures["direct_events_per_s"] > 0 and figures["relayed_events_per_s"] > 0
    assert len(figures["relayed_rounds"]) == 2
    assert all(rate > 0 for rate in figures["direct_rounds"] + figures["relayed_rounds"])
