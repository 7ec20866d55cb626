from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import pytest
import trio

from actors.lobby import LobbyActor
from actors.runtime import ChildSpec, Registry, Runtime
from actors.seed_tables import start_tables
from actors.table.config import TableConfig
from actors.table.deps import TableDeps
from actors.tournament_messages import DIRECTORY_NAME, TournamentAddress
from admin.app import create_admin_app
from admin.auth import jwt_verifier
from admin.context import AdminContext, ReadinessProbe
from persistence import Store
from poker import Variant
from server.auth import TokenSigner
from server.config import Settings
from server.gateway import PlayerChannel
from services.wallet import Wallet
from tests.admin.fake_tournaments import TOURNAMENT_ID, FakeDirectory, FakeTournament

SECRET = "test-secret-" + "x" * 40


def bearer(role: str, *, subject: str = "staff-1", ttl_s: int | None = None) -> dict[str, str]:
    token, _ = TokenSigner(SECRET).issue(subject, role, ttl_s=ttl_s)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def store(store_on_backend: Store) -> Store:
    """The harness's store (tests/conftest.py: SQLite, or the ``backend`` a test names)."""
    return store_on_backend


TABLE_ID = "t-1"


@pytest.fixture
async def registry(store: Store) -> AsyncIterator[Registry]:
    """A lobby and one open table, ``t-1``, running on a real runtime, with a stand-in
    tournament directory and tournament ``7``."""
    names = Registry()
    deps = TableDeps(
        store=store, wallet=Wallet(store), channel=PlayerChannel(), rng=random.Random(1)
    )
    runtime = Runtime(
        [
            ChildSpec.worker("lobby", partial(LobbyActor, deps)),
            ChildSpec.supervisor("tables"),
            # Stand-ins for the tournament runtime (tests/admin/fake_tournaments.py).
            ChildSpec.worker(DIRECTORY_NAME, FakeDirectory),
            ChildSpec.worker(TournamentAddress(TOURNAMENT_ID).actor_name, FakeTournament),
        ],
        registry=names,
        metrics_registry=None,
    )
    table = TableConfig(
        table_id=TABLE_ID, name="T1", variant=Variant.NO_LIMIT_HOLDEM, small_blind=1, big_blind=2
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        await start_tables(names.supervisor("tables"), deps, seeds=(table,))
        yield names
        runtime.stop()


@pytest.fixture
def make_client(store: Store, registry: Registry) -> Callable[..., Any]:
    def make(
        *probes: ReadinessProbe,
        actor_tree: Any = None,
        settings: Settings | None = None,
        **context_fields: Any,
    ) -> Any:
        context = AdminContext(
            settings=settings or Settings(),
            verify_token=jwt_verifier(TokenSigner(SECRET)),
            store=store,
            wallet=Wallet(store),
            readiness=probes,
            actor_tree=actor_tree,
            registry=registry,
            **context_fields,
        )
        return create_admin_app(context).test_client()

    return make
