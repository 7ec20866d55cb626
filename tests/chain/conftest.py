"""Fixtures of the chain tests: a py-evm chain with the contracts, a store, the wallet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from persistence.store import Store, open_store
from services.chain.ledger_port import WalletCashierLedger
from services.wallet import Wallet
from tests.chain.evm import Evm, in_process
from tests.persistence.stores import ManualClock


@pytest.fixture
def evm() -> Evm:
    return in_process()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def store(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Store]:
    async with open_store(f"sqlite:///{tmp_path / 'chain.sqlite3'}", clock_ms=clock) as opened:
        yield opened


@pytest.fixture
def wallet(store: Store) -> Wallet:
    return Wallet(store)


@pytest.fixture
def ledger(wallet: Wallet) -> WalletCashierLedger:
    return WalletCashierLedger(wallet)


async def assert_ledger_consistent(wallet: Wallet) -> None:
    audit = await wallet.audit()
    assert audit.consistent, audit
