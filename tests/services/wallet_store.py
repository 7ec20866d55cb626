"""A wallet on a fresh store of each backend, audited after each test (shared by the wallet
tests). Import the fixtures into a test module to use them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from persistence.store import Store
from services.wallet import Wallet
from tests.persistence.stores import BACKENDS, ManualClock, fresh_store


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock, postgres_url: str
) -> AsyncIterator[Store]:
    async with fresh_store(request.param, tmp_path, postgres_url, clock) as opened:
        yield opened
        audit = await opened.ledger_audit()
        assert audit.consistent, audit


@pytest.fixture
def w(store: Store) -> Wallet:
    return Wallet(store)


async def player(store: Store, name: str) -> int:
    return (await store.create_account(name, "hash", "player")).id


async def funded(store: Store, w: Wallet, name: str, amount: int) -> int:
    """A player with ``amount`` real-money chips (a posted deposit)."""
    player_id = await player(store, name)
    deposit = await w.request_deposit(f"fund-{name}", player_id, amount)
    await w.post(deposit.id)
    return player_id
