"""``tablium bench chain --json`` runs end to end on a small chain (a smoke test, not a figure)."""

from __future__ import annotations

import json

import pytest

from server.cli import main


@pytest.mark.slow
def test_chain_bench_reports_gas_and_the_watcher(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "chain", "--json", "--node", "anvil", "--blocks", "60", "--deposits", "4"]
    assert main(argv) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["node"] == "anvil"
    for kind in ("fresh", "returning"):
        single = figures[f"gas_single_{kind}"]
        # (Random addresses: their zero bytes make calldata cost a few gas more or less.)
        assert figures[f"gas_per_withdrawal_batch1_{kind}"] == pytest.approx(single, rel=0.01)
        # Batching pays the transaction's fixed cost once: each size cheaper per withdrawal.
        assert (
            single
            > figures[f"gas_per_withdrawal_batch10_{kind}"]
            > figures[f"gas_per_withdrawal_batch50_{kind}"]
        )
    # Anvil's call trace splits a fresh withdrawal's gas; the parts add up.
    parts = sum(
        figures[f"gas_per_withdrawal_fresh_{part}"]
        for part in ("token_transfer", "calldata", "cashier")
    )
    assert abs(parts - figures["gas_per_withdrawal_fresh"]) <= 2
    assert 0 < figures["gas_per_withdrawal_fresh_goal_max"] < figures["fixed_gas_per_transaction"]
    assert figures["watcher_deposits"] == 4
    assert figures["watcher_blocks"] >= 60
    assert figures["watcher_blocks_per_s"] > 0
