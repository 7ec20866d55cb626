"""`tablium serve` as a real subprocess: it answers, accepts websockets, and stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from pathlib import Path

import trio
from trio_websocket import open_websocket_url

from tests.server_process import running_server

SHUTDOWN_BOUND_S = 5.0


def test_serve_answers_healthz_accepts_websocket_and_stops_on_sigterm(tmp_path: Path) -> None:
    with running_server(tmp_path / "var") as server:
        with urllib.request.urlopen(f"{server.admin_url}/healthz", timeout=5) as response:
            assert response.status == 200
            assert json.loads(response.read())["status"] == "ok"
        with urllib.request.urlopen(f"{server.admin_url}/readyz", timeout=5) as response:
            assert json.loads(response.read()) == {
                "status": "ready",
                "checks": {"database": "ok"},
            }

        async def connect() -> None:
            with trio.fail_after(5):
                async with open_websocket_url(server.ws_url) as ws:
                    await ws.ping()  # returns once the server's pong arrives
                    assert ws.closed is None

        trio.run(connect)

        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=SHUTDOWN_BOUND_S)
        assert time.monotonic() - started < SHUTDOWN_BOUND_S
        assert server.proc.returncode == 0
    assert (tmp_path / "var" / "tablium.sqlite3").exists()
