"""`tablium serve` as a real subprocess, for end-to-end tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

READY_PATTERN = re.compile(r"listening\s+admin=(\S+)\s+api=(\S+)\s+ws=(\S+)")
STARTUP_TIMEOUT_S = 60.0  # a loaded 2-core machine once took over 20 s
TEST_JWT_SECRET = "e2e-secret-" + "z" * 40
LOG_TAIL_LINES = 60  # of a server's log, printed when a test fails with it running


class ServerProcess:
    def __init__(
        self, proc: subprocess.Popen[str], admin_url: str, ws_url: str, api_url: str = ""
    ) -> None:
        self.proc = proc
        self.admin_url = admin_url
        self.ws_url = ws_url
        self.api_url = api_url


@contextmanager
def running_server(data_dir: Path, **env_overrides: str) -> Iterator[ServerProcess]:
    """Start `tablium serve` on free ports with its data in ``data_dir``; kill it afterwards."""
    env = {
        **os.environ,
        "TABLIUM_WS_PORT": "0",
        "TABLIUM_ADMIN_PORT": "0",
        "TABLIUM_API_PORT": "0",
        "TABLIUM_DATA_DIR": str(data_dir),
        "TABLIUM_JWT_SECRET": TEST_JWT_SECRET,
        "TABLIUM_LOG_FORMAT": "console",
        **env_overrides,
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
    # Keep reading stderr so a chatty server never blocks on a full pipe; into a file that a
    # failing test prints the end of (pytest shows a failed test's captured output).
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    with log_path.open("w") as log_file:
        log_file.writelines(seen)
        log_file.flush()
        drain = subprocess.Popen(["cat"], stdin=proc.stderr, stdout=log_file)
    try:
        yield ServerProcess(
            proc, admin_url=match.group(1), api_url=match.group(2), ws_url=match.group(3)
        )
    except BaseException:
        _print_log_tail(log_path)
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        drain.wait()


def _print_log_tail(path: Path) -> None:
    lines = path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
    print(f"--- the last {len(lines)} lines of {path} ---", *lines, sep="\n")
