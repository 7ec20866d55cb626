"""Running the JavaScript side (clients/js) from the test suite.

``make test`` installs clients/js/node_modules (npm ci, from the lock file) and Debian's
Chromium before pytest runs (scripts/ensure-client-deps.sh). A test that needs them fails,
never skips, when they are missing, and says which command installs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parents[2]
JS_DIR: Final = ROOT / "clients" / "js"
NODE_MODULES: Final = JS_DIR / "node_modules"
CHROMIUM: Final = Path(os.environ.get("TABLIUM_CHROMIUM", "/usr/bin/chromium"))
INSTALL_HINT: Final = "run `make client-deps` (npm ci in clients/js, and Debian's chromium)"


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail(f"Node.js (20 or newer) is not on PATH; {INSTALL_HINT}")
    return found


def require_node_modules(*packages: str) -> None:
    for package in packages:
        if not (NODE_MODULES / package / "package.json").exists():
            pytest.fail(f"clients/js/node_modules/{package} is missing: {INSTALL_HINT}")


def run_node(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout_s: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Run node in clients/js; the output is kept for the assertion message."""
    return subprocess.run(
        [node(), *args],
        cwd=JS_DIR,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
