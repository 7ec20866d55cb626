"""``tablium bench tournament --json`` plays a small MTT to a winner (a smoke test, not a
figure: the figures are in docs/tournaments.md)."""

from __future__ import annotations

import json

import pytest

from server.cli import main


@pytest.mark.parametrize("policy", ["random", "passive"])
def test_tournament_bench_plays_to_a_winner(
    policy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["bench", "tournament", "--json", "--entrants", "60", "--policy", policy]
    assert main(argv) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["entrants"] == 60 and 1 <= figures["winner"] <= 60
    assert figures["hands"] > 0 and figures["hands_per_s"] > 0
    assert figures["tables_broken"] == 6  # seven tables of nine down to the final one


def test_tournament_bench_refuses_an_out_of_bounds_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["bench", "tournament", "--entrants", "1"])
    assert "between 2 and 100000" in capsys.readouterr().err
