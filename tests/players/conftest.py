from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from persistence.store import Store
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
