"""`tablium serve` as a real subprocess: it answers, accepts websockets, and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
from trio_websocket import open_websocket_url

READY_PATTERN = re.compile(r"listening\s+admin=(\S+)\s+ws=(\S+)")
STARTUP_TIMEOUT_S = 20.0
SHUTDOWN_BOUND_S = 5.0


class ServerProcess:
    def __init__(self, proc: subprocess.Popen[str], admin_url: str, ws_url: str) -> None:
        self.proc = proc
        self.admin_url = admin_url
        self.ws_url = ws_url


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    env = {
        **os.environ,
        "TABLIUM_WS_PORT": "0",
        "TABLIUM_ADMIN_PORT": "0",
        "TABLIUM_DATA_DIR": str(tmp_path / "var"),
        "TABLIUM_LOG_FORMAT": "console",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    seen: list[str] = []
    match = None
    while match is None and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        match = READY_PATTERN.search(line)
    if match is None:
        proc.kill()
        pytest.fail("server did not report its ports:\n" + "".join(seen))
    yield ServerProcess(proc, admin_url=match.group(1), ws_url=match.group(2))
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_serve_answers_healthz_accepts_websocket_and_stops_on_sigterm(
    server: ServerProcess,
) -> None:
    with urllib.request.urlopen(f"{server.admin_url}/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read())["status"] == "ok"

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
