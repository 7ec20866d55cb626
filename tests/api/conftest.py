"""The public API app on a real store, a real lobby and a real accounts service."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
import trio

from actors.lobby import LobbyActor
from actors.runtime import ChildSpec, Registry, Runtime
from actors.seed_tables import start_tables
from actors.table.config import TableConfig
from actors.table.deps import TableDeps
from api.app import create_api_app
from api.context import ApiContext, build_context
from api.lobby import LobbyListings, lobby_actor_source
from persistence import Store
from poker import Variant
from server.config import Settings
from server.gateway import PlayerChannel
from server.wallet_requests import wallet_policy_of
from services.accounts import Accounts
from services.chain.cashier import ChainCashier
from services.chain.cashiers import Cashiers
from services.chain.ledger_port import WalletCashierLedger
from services.chain.settings import ChainSettings
from services.passwords import CHEAP_HASHING_FOR_TESTS, PasswordHasher
from services.personal_data import DataKey, DataKeyRing
from services.wallet import Wallet

SECRET = "api-test-secret-" + "y" * 40
# Seal the personal data the API keeps (a session's address and user agent).
DATA_KEYS = DataKeyRing(DataKey("test-1", bytes(range(32))))
# A cashier: the player's side of it (deposit references, withdrawal requests) needs no node.
TEST_CHAIN = ChainSettings(
    chain_id=31337, rpc_url="http://127.0.0.1:9", cashier="0x" + "c0" * 20, token="",
    rate="1/100", approval_threshold_chips=1_000,
)  # fmt: skip
PASSWORD = "correct horse battery"
TABLE_ID = "t-1"


def api_settings(**overrides: Any) -> Settings:
    # Transfers between players on (the operator's choice; the server's default is off) so
    # the transfer routes have something to do; tests of the off switch override it.
    base = Settings(
        jwt_secret=SECRET, player_transfers_enabled=True, data_keys=DATA_KEYS, chain=TEST_CHAIN
    )
    return dataclasses.replace(base, **overrides)


@pytest.fixture
async def store(store_on_backend: Store) -> Store:
    """The harness's store (tests/conftest.py: SQLite, or the ``backend`` a test names)."""
    return store_on_backend


@pytest.fixture
async def registry(store: Store) -> AsyncIterator[Registry]:
    """A lobby and one open table, ``t-1``, on a real runtime."""
    names = Registry()
    deps = TableDeps(
        store=store, wallet=Wallet(store), channel=PlayerChannel(), rng=random.Random(1)
    )
    runtime = Runtime(
        [ChildSpec.worker("lobby", partial(LobbyActor, deps)), ChildSpec.supervisor("tables")],
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


@dataclass
class ApiHarness:
    store: Store
    context: ApiContext
    client: Any
    ended_sessions: list[str]

    async def register(self, name: str, password: str = PASSWORD) -> dict[str, Any]:
        response = await self.client.post(
            "/v1/auth/register", json={"name": name, "password": password}
        )
        assert response.status_code == 201, await response.get_data(as_text=True)
        body: dict[str, Any] = await response.get_json()
        return body

    @staticmethod
    def bearer(tokens: dict[str, Any] | str) -> dict[str, str]:
        token = tokens if isinstance(tokens, str) else tokens["access_token"]
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make_api(store: Store, registry: Registry) -> Callable[..., ApiHarness]:
    hasher = PasswordHasher(CHEAP_HASHING_FOR_TESTS)

    def make(**overrides: Any) -> ApiHarness:
        settings = api_settings(**overrides)
        wallet = Wallet(store, wallet_policy_of(settings))
        # As the gateway builds it (server/gateway.py): a new account gets its play money.
        accounts = Accounts(
            store,
            hasher,
            on_registered=lambda account: wallet.grant_starting_play_chips(account.id),
        )
        ended: list[str] = []
        cashier = (
            Cashiers([ChainCashier(store, WalletCashierLedger(wallet), c) for c in settings.chains])
            if settings.chains
            else None
        )
        context = build_context(
            settings,
            store,
            wallet,
            lambda: accounts,
            LobbyListings(lobby_actor_source(registry)),
            session_ended=ended.append,
            cashier=cashier,
        )
        return ApiHarness(store, context, create_api_app(context).test_client(), ended)

    return make


@pytest.fixture
def api(make_api: Callable[..., ApiHarness]) -> ApiHarness:
    return make_api()
