from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from persistence.store import Store
from services.clubs import Clubs
from services.rakeback import Rakeback, RakebackPolicy
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
def clubs(store: Store) -> Clubs:
    return Clubs(store)


@pytest.fixture
def wallet(store: Store) -> Wallet:
    return Wallet(store)


@pytest.fixture
def rakeback(store: Store, wallet: Wallet) -> Rakeback:
    return Rakeback(store, wallet, RakebackPolicy(period_kind="day"))


async def player(store: Store, name: str) -> int:
    return (await store.create_account(name, "hash", "player")).id
