"""A local development node: Anvil (Foundry), on loopback, offline, in a child process.

For the integration tests, ``tablium bench chain`` and trying the cashier by hand; never for
production. ``make chain-node`` (part of ``make test``) installs it from the npm registry
(@foundry-rs/anvil, whose package carries the binary) into .venv/chain-node;
TABLIUM_ANVIL names another binary.
"""

from __future__ import annotations

import glob
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
LINES_MAX = 200  # bound: its banner is ~60 lines; past this it is not starting


def anvil_binary() -> str:
    """The Anvil binary to run; RuntimeError saying how to install it when there is none."""
    named = os.environ.get("TABLIUM_ANVIL")
    if named:
        return named
    pattern = ROOT / ".venv/chain-node/node_modules/@foundry-rs/anvil-*/bin/anvil"
    found = sorted(glob.glob(str(pattern)))
    if not found:
        raise RuntimeError(
            "Anvil is not installed: run 'make chain-node' (or 'make test'), which installs"
            " @foundry-rs/anvil from the npm registry into .venv/chain-node"
        )
    return found[0]


@contextmanager
def anvil(chain_id: int = 31337) -> Iterator[str]:
    """A fresh Anvil (chain id ``chain_id``, ten unlocked development accounts) on 127.0.0.1,
    on a port of its choosing; yields its URL once it listens, kills it on exit."""
    args = [anvil_binary(), "--host", "127.0.0.1", "--port", "0", "--chain-id", str(chain_id)]
    process = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        seen: list[str] = []
        for line in process.stdout:  # its banner, then "Listening on 127.0.0.1:PORT"
            seen.append(line)
            if line.startswith("Listening on "):
                url = "http://" + line.split()[-1]
                break
            if len(seen) > LINES_MAX:
                break
        else:
            url = ""
        if not url:
            raise RuntimeError(f"anvil did not start: {''.join(seen[-5:])!r}")
        threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
        yield url
    finally:
        process.kill()
        process.wait()


def _drain(stream: IO[str]) -> None:
    """Read what the node prints (each request, a line) so that its pipe never fills."""
    for _ in stream:
        pass
