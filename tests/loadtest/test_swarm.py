"""A small swarm against an in-process server: it plays, and its figures are the ones it saw.

The server runs in this trio run (the tests may import server/; the swarm may not). Each test
is a few seconds of real websockets at full speed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trio

from loadtest.report import scrape_server_metrics
from loadtest.swarm import SwarmOptions, run_swarm
from server.app import Listening, run_server
from server.auth import TokenSigner
from server.cli import main
from server.config import Settings

JWT_SECRET = "swarm-test-secret-" + "x" * 32


@asynccontextmanager
async def server(
    tmp_path: Path, login_hashes_waiting_max: int = 32, metrics_token: str = ""
) -> AsyncIterator[Listening]:
    settings = Settings(
        metrics_token=metrics_token,
        ws_port=0,
        admin_port=0,
        api_port=0,
        data_dir=tmp_path,
        jwt_secret=JWT_SECRET,
        login_hashes_waiting_max=login_hashes_waiting_max,
    )
    async with trio.open_nursery() as nursery:
        listening: Listening = await nursery.start(run_server, settings)
        yield listening
        nursery.cancel_scope.cancel()


def staff_token() -> str:
    token, _claims = TokenSigner(JWT_SECRET).issue("swarm", "support")
    return token


async def test_a_funded_swarm_seats_every_bot_plays_hands_and_times_its_actions(
    tmp_path: Path,
) -> None:
    async with server(tmp_path) as listening:
        options = SwarmOptions(
            url=listening.ws_url,
            bots=8,
            ramp_s=3.0,  # registrations hash on one thread: ~0.25-0.5 s each
            duration_s=4.0,
            pace_s=0.0,
            strategy="mix",
            admin_url=listening.admin_url,
            staff_token=staff_token(),
        )
        report = await run_swarm(options, progress=None)
    assert report["bots"] == {"connected_max": 8, "seated_max": 8, "finished": 8}
    # Registrations may still outrun the hashing thread on a busy machine: those bots are
    # told server_busy and come back. The mix's flaky bots cut their own connection now and
    # then: a request of theirs in flight at that moment fails connection_lost (CI saw one):
    # a bot has at most two in flight (an act, a top-up or missed blinds), and every bot
    # resumes. Nothing else may go wrong.
    errors = dict(report["errors"])
    lost_in_cuts = errors.pop("connection_lost", 0)
    assert set(errors) <= {"server_busy"}
    assert lost_in_cuts <= 2 * report["disconnects"]["dropped_on_purpose"]
    assert report["disconnects"]["lost"] == 0
    assert report["hands"] >= 1
    rtt = report["action_round_trip"]
    # Every action counted is one whose broadcast came back and was timed.
    assert rtt["count"] == report["actions"] > 0
    assert 0 < rtt["p50_ms"] <= rtt["p95_ms"] <= rtt["p99_ms"] <= rtt["max_ms"]
    assert report["login"]["count"] == 8
    assert report["connect"]["count"] == 8 + report["errors"].get("server_busy", 0)
    # The server's own figures are in the report, and its frame count covers our actions.
    frames = report["server_metrics"]["tablium_gateway_frames_total"]
    assert sum(sample["value"] for sample in frames) >= report["actions"]
    assert report["timeline"] and report["timeline"][-1]["bots_connected"] == 0


async def test_flaky_bots_drop_their_connection_and_resume_without_losing_a_bot(
    tmp_path: Path,
) -> None:
    async with server(tmp_path) as listening:
        options = SwarmOptions(
            url=listening.ws_url,
            bots=6,
            ramp_s=0.2,
            # Long enough for a few drops on a busy machine too (four seconds at load 7 gave
            # none: the bots had barely sat down).
            duration_s=8.0,
            pace_s=0.0,
            strategy="flaky",
            flaky_disconnect_chance=0.3,
            admin_url=listening.admin_url,
            staff_token=staff_token(),
        )
        report = await run_swarm(options, progress=None)
    disconnects = report["disconnects"]
    assert disconnects["dropped_on_purpose"] >= 3
    assert disconnects["lost"] == 0
    # A drop right at the end of the run may still be resuming when the bot stops.
    assert disconnects["reconnected"] >= disconnects["dropped_on_purpose"] - 6
    assert report["actions"] > 0


BUSY_BOTS = 6  # more than the hashing threads (cores less one) and the one login waiting


async def test_bots_refused_as_busy_at_login_come_back_after_the_hint(
    tmp_path: Path,
) -> None:
    # One login may wait for the hashing thread(s): the rest of a ramp that starts every bot
    # at once is refused with server_busy and retry_after_ms, and comes back later on a new
    # connection. (With a 0.1 s ramp, a quiet machine hashed each login before the next came.)
    async with server(tmp_path, login_hashes_waiting_max=1) as listening:
        options = SwarmOptions(
            url=listening.ws_url,
            bots=BUSY_BOTS,
            ramp_s=0.0,
            duration_s=3.0,
            pace_s=0.0,
            admin_url=listening.admin_url,
            staff_token=staff_token(),
        )
        report = await run_swarm(options, progress=None)
    errors = report["errors"]
    # No login timed out (4001): each was answered, busy or not. (Play may lose a request to
    # a bot's own on-purpose drop, connection_lost, as in any run: not a login's doing.)
    assert set(errors) - {"connection_lost"} <= {"server_busy", "login_gave_up"}
    assert errors["server_busy"] > 0
    # Every bot either logged in or said why not; refused ones came back on new connections
    # (how many make it before the run ends depends on how fast this machine hashes).
    assert report["login"]["count"] + errors.get("login_gave_up", 0) == BUSY_BOTS  # each says
    assert report["login"]["count"] >= 1
    gave_up = errors.get("login_gave_up", 0)
    assert report["connect"]["count"] == BUSY_BOTS + errors["server_busy"] - gave_up
    refused = report["server_metrics"]["tablium_password_hashes_refused_total"]
    assert sum(sample["value"] for sample in refused) == report["errors"]["server_busy"]


async def test_real_money_bots_without_a_way_to_get_chips_give_up_and_say_why(
    tmp_path: Path,
) -> None:
    async with server(tmp_path) as listening:
        options = SwarmOptions(
            url=listening.ws_url, bots=3, ramp_s=0.1, duration_s=1.0, asset="chips"
        )
        report = await run_swarm(options, progress=None)
    assert report["errors"] == {"unfunded": 3}
    assert report["bots"]["seated_max"] == 0
    assert report["server_metrics"] is None


async def test_a_swarm_without_staff_plays_play_money_tables(tmp_path: Path) -> None:
    async with server(tmp_path) as listening:
        options = SwarmOptions(url=listening.ws_url, bots=6, ramp_s=1.5, duration_s=4.0, pace_s=0.0)
        report = await run_swarm(options, progress=None)
    assert report["settings"]["asset"] is None  # chosen: play, for want of staff funding
    assert report["bots"]["seated_max"] == 6
    assert report["hands"] > 0
    assert "unfunded" not in report["errors"]


async def test_the_command_spreads_bots_over_processes_and_writes_json_and_png(
    tmp_path: Path,
) -> None:
    report_path = tmp_path / "swarm.json"
    async with server(tmp_path / "server") as listening:
        argv = [
            "swarm", "--url", listening.ws_url, "--bots", "6", "--ramp", "1.5",
            "--duration", "4", "--pace", "0", "--processes", "2", "--quiet",
            "--admin-url", listening.admin_url, "--staff-token", staff_token(),
            "--report", str(report_path),
        ]  # fmt: skip
        exit_code = await trio.to_thread.run_sync(main, argv)
    assert exit_code == 0
    report = json.loads(report_path.read_text())
    assert report["settings"]["processes"] == 2
    assert report["bots"]["connected_max"] == 6
    assert report["action_round_trip"]["count"] == report["actions"] > 0
    assert "staff_token" not in report["settings"] and "password" not in report["settings"]
    png = report_path.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_the_report_reads_a_token_protected_metrics_page_with_the_token(
    tmp_path: Path,
) -> None:
    token = "metrics-token-" + "m" * 16
    async with server(tmp_path, metrics_token=token) as listening:
        with_token = await scrape_server_metrics(listening.admin_url, token)
        without = await scrape_server_metrics(listening.admin_url)
    assert "tablium_gateway_connections" in with_token
    assert "401" in without["error"]
