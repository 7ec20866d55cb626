"""SIGKILL a process in the middle of a stream of ledger transfers, restart it, kill it again:
the ledger still sums to zero and every acknowledged transfer is there, exactly once.

(The table side of recovery -- a running hand voided and refunded -- waits for tables.)
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
import trio

from persistence.store import open_store
from services.wallet import Wallet
from tests.persistence.stores import BACKENDS, store_url

REPO = Path(__file__).resolve().parents[2]
STREAM_TIMEOUT_S = 60.0
POLL_S = 0.02  # polling another process's output: there is no event to wait on


def acked(ack_file: Path) -> list[tuple[int, int]]:
    text = ack_file.read_text() if ack_file.exists() else ""
    complete = text[: text.rfind("\n") + 1]  # a line cut by the kill is not an acknowledgement
    return [(int(n), int(t)) for n, t in (line.split() for line in complete.splitlines())]


async def run_and_kill(url: str, ack_file: Path, acks_before_kill: int) -> None:
    proc = await trio.lowlevel.open_process(
        [sys.executable, "-m", "tests.persistence.ledger_stream", url, str(ack_file)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        with trio.fail_after(STREAM_TIMEOUT_S):
            while len(acked(ack_file)) < acks_before_kill:
                assert proc.poll() is None, f"stream exited early with {proc.returncode}"
                await trio.sleep(POLL_S)
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("backend", BACKENDS)
async def test_killed_ledger_stream_loses_and_duplicates_nothing(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    url = await store_url(backend, tmp_path, postgres_url)
    ack_file = tmp_path / "acks.txt"
    await run_and_kill(url, ack_file, acks_before_kill=60)
    first_run = len(acked(ack_file))
    # The restart replays the first run's operations (same keys), then goes further.
    await run_and_kill(url, ack_file, acks_before_kill=first_run + 120)

    acks = acked(ack_file)
    by_operation: dict[int, set[int]] = {}
    for n, transfer_id in acks:
        by_operation.setdefault(n, set()).add(transfer_id)
    assert all(len(ids) == 1 for ids in by_operation.values()), "an operation applied twice"
    replayed = [n for n, _ in acks].count(0)
    assert replayed == 2, "the restarted stream did not replay from the start"
    async with open_store(url) as store:
        w = Wallet(store)
        audit = await w.audit()
        assert audit.consistent, audit
        for n, (transfer_id,) in by_operation.items():
            record = await w.transfer_by_id(transfer_id)
            assert record.key.endswith(f":{'w' if n % 5 == 0 else 's'}{n}")
            if n % 5 == 0:
                assert record.state == ("posted" if n % 10 == 0 else "voided")
        # Nothing exists that was not asked for: funding, at most one transfer per operation
        # up to the last acknowledged one, and the one the final kill may have caught between
        # its commit and its acknowledgement.
        assert audit.transfers <= 10 + (max(by_operation) + 1) + 1
