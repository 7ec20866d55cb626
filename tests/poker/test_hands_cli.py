"""``tablium hands simulate | replay | text`` and ``tablium bench engine``, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pokerkit
import pytest

from poker import phh
from server.cli import build_parser, main


def _json_lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_simulate_writes_hands_that_replay_to_their_finishing_stacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "hands.phhs"
    argv = ["hands", "simulate", "--variant", "NT", "--players", "6", "--hands", "25"]
    assert main([*argv, "--seed", "3", "--edge-cases", "--out", str(out)]) == 0
    hands = phh.loads_all(out.read_text())
    assert len(hands) == 25

    assert main(["hands", "replay", str(out)]) == 0
    lines = _json_lines(capsys.readouterr().out)
    assert [line["hand"] for line in lines] == list(range(1, 26))
    assert [line["finishing_stacks"] for line in lines] == [
        list(h.finishing_stacks or ()) for h in hands
    ]


def test_simulated_file_reads_in_pokerkit(tmp_path: Path) -> None:
    out = tmp_path / "fl.phhs"
    argv = ["hands", "simulate", "--variant", "FT", "--players", "3", "--hands", "5"]
    assert main([*argv, "--seed", "8", "--out", str(out)]) == 0
    with out.open("rb") as file:
        loaded = list(pokerkit.HandHistory.load_all(file))
    assert [h.small_bet for h in loaded] == [2] * 5


def test_same_seed_writes_the_same_file(tmp_path: Path) -> None:
    for name in ("a", "b"):
        argv = ["hands", "simulate", "--variant", "PO", "--hands", "5", "--seed", "1"]
        assert main([*argv, "--out", str(tmp_path / f"{name}.phhs")]) == 0
    assert (tmp_path / "a.phhs").read_text() == (tmp_path / "b.phhs").read_text()


ILLEGAL = """\
variant = 'NT'
antes = [0, 0, 0]
blinds_or_straddles = [1, 2, 0]
min_bet = 2
starting_stacks = [100, 100, 100]
actions = ['d dh p1 AsAd', 'd dh p2 KsKd', 'd dh p3 QsQd', 'p3 cbr 3', 'p1 f', 'p2 f']
hand = 'bad-raise'
"""


def test_replay_prints_the_illegal_action_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.phh"
    good.write_text(ILLEGAL.replace("p3 cbr 3", "p3 cbr 4").replace("'bad-raise'", "'ok'"))
    bad = tmp_path / "bad.phh"
    bad.write_text(ILLEGAL)
    assert main(["hands", "replay", str(good), str(bad)]) == 1
    first, second = _json_lines(capsys.readouterr().out)
    assert first == {"hand": "ok", "file": str(good), "finishing_stacks": [99, 98, 103]}
    assert second["hand"] == "bad-raise"
    assert "action 3 'p3 cbr 3'" in str(second["error"])
    assert "amount_too_small" in str(second["error"])


def test_replay_flags_recorded_stacks_that_differ_from_ours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wrong.phh"
    text = ILLEGAL.replace("p3 cbr 3", "p3 cbr 4") + "finishing_stacks = [100, 100, 100]\n"
    path.write_text(text)
    assert main(["hands", "replay", str(path)]) == 1
    (line,) = _json_lines(capsys.readouterr().out)
    assert line["finishing_stacks"] == [99, 98, 103]
    assert line["recorded_finishing_stacks"] == [100, 100, 100]


def test_replay_reports_an_unreadable_file_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.phh"
    broken.write_text("variant = 'NT\n")
    good = tmp_path / "good.phh"
    good.write_text(ILLEGAL.replace("p3 cbr 3", "p3 cbr 4"))
    assert main(["hands", "replay", str(broken), str(tmp_path / "missing.phh"), str(good)]) == 1
    lines = _json_lines(capsys.readouterr().out)
    assert "TOML" in str(lines[0]["error"])
    assert str(lines[1]["file"]).endswith("missing.phh") and "error" in lines[1]
    assert lines[2]["finishing_stacks"] == [99, 98, 103]


def test_text_prints_a_pokerstars_style_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "one.phh"
    path.write_text(ILLEGAL.replace("p3 cbr 3", "p3 cbr 4"))
    assert main(["hands", "text", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Tablium Hand #bad-raise: Hold'em No Limit (1/2)\n")
    assert "p3: raises 2 to 4\n" in out


@pytest.mark.parametrize("argv", [["hands", "simulate"], ["hands", "replay"], ["bench", "engine"]])
def test_help_text_describes_the_command(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*argv, "--help"])
    assert exited.value.code == 0
    assert len(capsys.readouterr().out.splitlines()) > 5


def test_simulate_refuses_a_table_of_eleven(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["hands", "simulate", "--players", "11", "--out", "-"])
    assert "between 2 and 10" in capsys.readouterr().err


def test_bench_engine_prints_one_json_line_with_every_figure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "engine", "--json", "--hands", "5", "--repeats", "1"]) == 0
    (line,) = _json_lines(capsys.readouterr().out)
    assert line["bench"] == "engine" and line["hands"] == 5
    for key in ("ours_hands_per_s", "pokerkit_hands_per_s", "ratio", "eval_overhead"):
        assert isinstance(line[key], float) and line[key] > 0
    assert isinstance(line["eval_ours_per_s"], int) and isinstance(line["eval_raw_per_s"], int)
