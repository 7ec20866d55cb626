"""``tablium bench table`` end to end on a tiny load: the report's shape and sanity, not speed.

One short run (6 tables, a few seconds, a real ``tablium serve`` process and the raw
baseline) feeds every test below; the timing figures are only checked to be there and
positive, since this machine's load makes them anything.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.bench.profiling import (
    NativeFrame,
    NativeShares,
    Shares,
    combined_shares,
    component_of,
    native_component_of,
    shares_of,
)
from server.bench.table import _human
from server.bench.table_clients import Legal, decide
from server.cli import main

# The baseline's CPU is read in clock ticks (10 ms): with 2 tables it spent about 9 ms and
# read as 0 or 10 (a CI run failed on 0); with 6 it spends several ticks.
TABLES = 6
SEATS = 6


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    import contextlib
    import io

    argv = ["bench", "table", "--json", "--tables", str(TABLES), "--seconds", "4"]
    argv += ["--warmup-s", "3", "--repeats", "1", "--idle-tables", "10"]
    argv += ["--client-processes", "1", "--batched-floor"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, "--json prints one line"
    parsed: dict[str, Any] = json.loads(lines[0])
    return parsed


def test_report_names_the_load_it_measured(report: dict[str, Any]) -> None:
    assert report["benchmark"] == "table"
    assert report["tables"] == TABLES and report["players"] == TABLES * SEATS
    assert report["database"] == "sqlite"
    assert len(report["runs"]["server"]) == len(report["runs"]["baseline"]) == 1


def test_server_figures_are_positive(report: dict[str, Any]) -> None:
    server = report["server"]
    assert server["actions"] > 0 and server["actions_per_s"] > 0 and server["hands"] > 0
    assert server["cpu_ms_per_action"] > 0 and server["cpu_cores"] > 0
    assert 0 < server["rtt_p50_ms"] <= server["rtt_p99_ms"]
    # Each action is broadcast to the whole table, besides the prompts and the hands' events.
    assert server["frames_per_action"] > SEATS
    assert server["bytes_per_action"] > 0
    assert server["gc_ms_per_action"] is not None and server["gc_ms_per_action"] >= 0
    memory = server["memory"]
    assert memory["idle_connection_kb"] > 0
    assert memory["connection_after_play_kb"] > 0
    assert memory["idle_table_kb"] >= 0 and memory["rss_end_mb"] >= memory["rss_start_mb"] > 0


def test_baseline_ran_and_sent_what_the_table_sent(report: dict[str, Any]) -> None:
    server, baseline = report["server"], report["baseline"]
    assert baseline["actions"] > 0 and baseline["cpu_ms_per_action"] > 0
    assert baseline["memory"]["idle_connection_kb"] > 0
    # The baseline is told the frames per action the server run measured.
    assert baseline["frames_per_action"] == pytest.approx(server["frames_per_action"], rel=0.15)
    for key in ("cpu_ms_per_action", "actions_per_s", "rtt_p50_ms", "rtt_p99_ms"):
        assert report["ratio"][key] > 0


def test_batched_floor_ran_when_asked(report: dict[str, Any]) -> None:
    batched = report["batched"]
    # CPU time comes in 10 ms ticks (/proc): a tiny run of this floor may not reach one.
    assert batched["actions"] > 0 and batched["cpu_ms_per_action"] >= 0
    assert batched["frames_per_action"] == pytest.approx(
        report["server"]["frames_per_action"], rel=0.15
    )
    cpu_ratio = report["ratio_to_batched"]["cpu_ms_per_action"]
    assert cpu_ratio is None or cpu_ratio > 0  # None: the floor used no whole tick


def test_actions_counted_are_the_actions_the_clients_saw(report: dict[str, Any]) -> None:
    (run,) = report["runs"]["server"]
    assert run["acts_ok"] > 0
    assert run["acts_ok"] == run["actions_seen"], "every act answered ok was applied once"
    assert run["acts_sent"] == run["acts_ok"]
    assert run["timed_out"] == 0 and run["errors"] == {}
    assert run["actions"] <= run["actions_seen"]  # the window is part of the run


def test_human_output_prints_each_figure_with_its_ratio(report: dict[str, Any]) -> None:
    text = "\n".join(_human(report))
    for label in ("server CPU per action", "actions/s", "round trip p50", "round trip p99"):
        line = next(line for line in text.splitlines() if label in line)
        assert line.rstrip().endswith("x"), f"{label}: no ratio to the baseline in {line!r}"
    assert "idle table" in text and "idle connection" in text


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "table", "--tables", "0"]) == 2
    assert "--tables" in capsys.readouterr().err
    assert main(["bench", "table", "--database-url", "sqlite:///x"]) == 2
    assert "postgresql" in capsys.readouterr().err


def test_policy_checks_calls_folds_every_third_bet_and_shows() -> None:
    facing_bet = Legal(fold=True, call=2)
    assert [decide(facing_bet, n)[0] for n in range(6)] == [
        "check_or_call", "check_or_call", "fold", "check_or_call", "check_or_call", "fold",
    ]  # fmt: skip
    assert decide(Legal(fold=True, check=True), 2) == ("check_or_call", False)
    assert decide(Legal(show=True, muck=True), 0) == ("show", False)
    assert decide(Legal(run_it_twice=True), 0) == ("run_it_twice", False)


def test_profile_charges_time_to_the_path_that_spent_it() -> None:
    send = [
        "unrolled_run (trio/_core/_run.py:2500)",
        "Connection._send_queued (server/connection.py:180)",
        "WebSocketConnection.send_message (trio_websocket/_impl.py:1271)",
        "SocketStream.send_all (trio/_highlevel_socket.py:120)",
    ]
    engine = [
        "serve (actors/actor.py:140)",
        "HandActor.handle (actors/hand.py:155)",
        "Hand.apply (poker/hand.py:300)",
    ]
    scheduler = ["unrolled_run (trio/_core/_run.py:2500)"]
    assert component_of(send) == "websocket send"
    assert component_of(engine) == "engine (poker/)"
    assert component_of(scheduler) == "trio scheduling"
    table = ["serve (actors/actor.py:155)", "TableActor.handle (actors/table/actor.py:203)"]
    assert component_of(table) == "table actor"
    paced = [
        "_serve_paced (server/commands/serve.py:202)",
        "pace_collections (server/commands/serve.py:193)",
    ]
    assert component_of(paced) == "garbage collection"
    shares = shares_of([";".join(send) + " 3\n", ";".join(engine) + " 1\n", "garbage\n"])
    assert shares.samples == 4
    assert shares.percent("websocket send") == 75.0


def test_native_profile_names_system_calls_and_the_collector() -> None:
    kernel = "[kernel.kallsyms]"
    libpython = "/usr/lib/libpython3.11.so.1.0"
    send = [
        NativeFrame("tcp_sendmsg", kernel),
        NativeFrame("__x64_sys_sendto", kernel),
        NativeFrame("__send", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
    ]
    assert native_component_of(send).startswith("kernel: socket send")
    assert native_component_of([NativeFrame("gc_collect_main", libpython)]) == (
        "garbage collection"
    )
    assert native_component_of([NativeFrame("dict_traverse", libpython)]) == "garbage collection"
    assert native_component_of([NativeFrame("_PyEval_EvalFrameDefault", libpython)]) == (
        "Python interpreter"
    )
    assert native_component_of([NativeFrame("finish_task_switch", kernel)]).startswith(
        "kernel: interrupts"
    )


def test_combined_view_charges_native_time_to_its_cause() -> None:
    native = NativeShares(
        samples=4,
        by_component={"kernel: socket send (incl. loopback delivery)": 2, "Python interpreter": 2},
        top_functions=[],
        main_thread=4,
    )
    python = Shares(
        samples=10, by_component={"gateway (connections, sessions)": 10}, top_functions=[]
    )
    assert combined_shares(native, python) == {
        "websocket send": 50.0,
        "gateway (connections, sessions)": 50.0,
    }
