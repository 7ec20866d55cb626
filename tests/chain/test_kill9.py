"""``kill -9`` in the middle of a batch: the batcher runs in its own process, which kills
itself (SIGKILL, no clean-up of any kind) at a named point; a new process finishes the job.
Nobody is paid twice, and the ledger audit holds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
import trio
from web3 import Web3
from web3.providers import HTTPProvider

from persistence.ledger import AccountRef
from persistence.store import open_store
from services.chain.cashier import ChainCashier
from services.chain.devnode import ROOT, anvil
from services.chain.ledger_port import WalletCashierLedger
from services.wallet import Wallet
from tests.chain.conftest import assert_ledger_consistent
from tests.chain.evm import deploy
from tests.persistence.stores import store_url

pytestmark = pytest.mark.slow
CHILD_TIMEOUT_S = 120  # bound on one batcher process


@pytest.fixture
def node() -> Iterator[str]:
    with anvil() as url:
        yield url


async def _child(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    return await trio.run_process(
        [sys.executable, "-m", "tests.chain.batch_child", *args],
        cwd=ROOT, capture_stdout=True, capture_stderr=True, check=False,
    )  # fmt: skip


async def test_kill_9_in_the_middle_of_batches_pays_nobody_twice(
    node: str, tmp_path: Path, postgres_url: str
) -> None:
    evm = deploy(Web3(HTTPProvider(node, request_kwargs={"timeout": 10})))
    evm.fund_cashier(10**12)
    settings = evm.settings(rpc_url=node, confirmations=1, batch_size_max=3)
    key_file = tmp_path / "operator.key"
    key_file.write_text(evm.operator_key + "\n")
    os.chmod(key_file, 0o600)
    url = await store_url("postgres", tmp_path, postgres_url)
    addresses = [Web3.to_checksum_address(f"0x{0xB000 + p:040x}") for p in range(1, 7)]
    async with open_store(url) as store:
        wallet = Wallet(store)
        cashier = ChainCashier(store, WalletCashierLedger(wallet), settings)
        for player, address in enumerate(addresses, start=1):
            await wallet.adjust(f"fund:{player}", AccountRef("wallet", str(player)), 1_000, "t")
            await cashier.request_withdrawal(player, "out", 100, address)
        common = [msgspec.json.encode(settings).decode(), url, str(key_file)]
        # Two batches of three. The first process dies right after sending the first batch
        # (before it recorded that it did); the second after the ledger posted one withdrawal
        # of a confirmed batch; the third finishes.
        first = await _child([*common, "batch_sent"])
        assert first.returncode == -signal.SIGKILL, first.stderr.decode()[-2000:]
        assert first.stdout.decode().splitlines()[-1] == "killed at batch_sent"
        second = await _child([*common, "ledger_followed"])
        assert second.returncode == -signal.SIGKILL, second.stderr.decode()[-2000:]
        assert second.stdout.decode().splitlines()[-1] == "killed at ledger_followed"
        third = await _child(common)
        assert third.returncode == 0, third.stderr.decode()[-2000:]
        assert [evm.balance(a) for a in addresses] == [10_000] * 6  # each paid exactly once
        for player in range(1, 7):
            balance = await wallet.balance(player)
            assert (balance.balance, balance.reserved) == (900, 0)
        rows = await cashier.list_withdrawals()
        assert {(r.state, r.ledger_done) for r in rows} == {("paid", True)}
        await assert_ledger_consistent(wallet)
