"""A staff token for a test server started by tests/server_process.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.server_process import TEST_JWT_SECRET


def staff_token(data_dir: Path, role: str = "admin", player: str = "client-tests") -> str:
    """``tablium token`` signed with the test server's secret (admin: funds wallets and opens
    and pauses tables; director: what the dashboard needs)."""
    env = {**os.environ, "TABLIUM_DATA_DIR": str(data_dir), "TABLIUM_JWT_SECRET": TEST_JWT_SECRET}
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "token", "--player", player, "--role", role],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()
