"""The wallet routes that take player input, fuzzed with a real player's token (hypothesis,
seeded: a failure prints the example that replays it): every answer is a success or a
documented problem of the route, never a 5xx, and a refusal changes nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import msgspec
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from api.app import create_api_app
from api.context import build_context
from api.cursors import encode_cursor
from api.lobby import LobbyListings
from api.problems import PROBLEMS
from persistence import open_store
from persistence.ledger import LIMIT_NAMES
from services.accounts import Accounts
from services.chain.cashier import ChainCashier
from services.chain.ledger_port import WalletCashierLedger
from services.ledger import wallet
from services.wallet import Wallet
from tests.api.conftest import PASSWORD, api_settings
from tests.api.test_inputs_fuzz import HASHER, JSON_VALUES

LIMIT_VALUES = st.none() | st.integers(min_value=-5, max_value=10**16) | JSON_VALUES
LIMIT_BODIES = st.dictionaries(
    st.sampled_from([*LIMIT_NAMES, "other_max"]), LIMIT_VALUES, max_size=4
)
EXCLUSION_BODIES = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["cool_off", "self_exclusion", "holiday"]),
        "days": st.integers(min_value=-2, max_value=4000),
    }
)
STATEMENT_QUERIES = st.fixed_dictionaries(
    {
        "from_ms": st.integers(min_value=-1, max_value=2**54).map(str),
        "to_ms": st.integers(min_value=-1, max_value=2**54).map(str),
    },
    optional={
        "asset": st.sampled_from(["chips", "play", "gold"]),
        "format": st.sampled_from(["json", "csv", "xml"]),
        "limit": st.integers(min_value=-1, max_value=600).map(str),
    },
)


async def _fuzz(tmp: Path, limits: Any, exclusion: Any, statement: dict[str, str]) -> None:
    async with open_store(f"sqlite:///{tmp / 'fuzz.sqlite3'}") as store:
        w = Wallet(store)
        accounts = Accounts(store, HASHER)

        async def no_tables(_variant: object, _big_blind: object) -> tuple[()]:
            return ()

        context = build_context(
            api_settings(), store, w, lambda: accounts, LobbyListings(no_tables)
        )
        client = create_api_app(context).test_client()
        tokens = await (
            await client.post("/v1/auth/register", json={"name": "alice", "password": PASSWORD})
        ).get_json()
        await w.adjust("fund", wallet(1), 100, memo="fuzz")
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

        before = msgspec.to_builtins(await w.limits_view(1))
        response = await client.post("/v1/wallet/limits", json=limits, headers=bearer)
        assert response.status_code in (200, 400, 409, 422), await response.get_data()
        if response.status_code != 200:
            assert (await response.get_json())["code"] in PROBLEMS
            assert msgspec.to_builtins(await w.limits_view(1)) == before

        before = msgspec.to_builtins(await w.limits_view(1))
        response = await client.post(
            "/v1/wallet/exclusions", json=exclusion, headers={**bearer, "Idempotency-Key": "x"}
        )
        assert response.status_code in (201, 400, 409, 422), await response.get_data()
        if response.status_code != 201:
            assert msgspec.to_builtins(await w.limits_view(1)) == before

        response = await client.get("/v1/wallet/statement", query_string=statement, headers=bearer)
        assert response.status_code in (200, 400, 422), await response.get_data()
        assert (await w.balance(1)).balance == 100


WITHDRAWAL_BODIES = st.fixed_dictionaries(
    {
        "amount": st.integers(min_value=-2, max_value=10**16) | JSON_VALUES,
        "address": st.sampled_from(
            ["0x" + "ab" * 20, "0x" + "0" * 40, "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"]
        )
        | st.text(max_size=50),
    },
    optional={"chain_id": st.sampled_from([31337, 1, 0, -1, "31337", None])},
)


async def _fuzz_withdrawal(tmp: Path, body: Any) -> None:
    async with open_store(f"sqlite:///{tmp / 'fuzz.sqlite3'}") as store:
        w = Wallet(store)
        accounts = Accounts(store, HASHER)

        async def no_tables(_variant: object, _big_blind: object) -> tuple[()]:
            return ()

        settings = api_settings()
        assert settings.chain is not None
        cashier = ChainCashier(store, WalletCashierLedger(w), settings.chain)
        context = build_context(
            settings, store, w, lambda: accounts, LobbyListings(no_tables), cashier=cashier
        )
        client = create_api_app(context).test_client()
        tokens = await (
            await client.post("/v1/auth/register", json={"name": "alice", "password": PASSWORD})
        ).get_json()
        await w.adjust("fund", wallet(1), 100, memo="fuzz")
        headers = {"Authorization": f"Bearer {tokens['access_token']}", "Idempotency-Key": "w"}
        response = await client.post("/v1/wallet/withdrawals", json=body, headers=headers)
        assert response.status_code in (201, 400, 404, 409, 422), await response.get_data()
        balance = await w.balance(1)
        if response.status_code == 201:
            assert balance.reserved == (await response.get_json())["amount"]
        else:
            assert (await response.get_json())["code"] in PROBLEMS
            assert (balance.balance, balance.reserved) == (100, 0)


@settings(max_examples=60, deadline=None, database=None)
@given(body=WITHDRAWAL_BODIES | JSON_VALUES)
def test_a_withdrawal_answers_and_reserves_exactly_what_it_accepts(body: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        trio.run(_fuzz_withdrawal, Path(tmp), body)


WITHDRAWAL_QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "state": st.sampled_from(["queued", "refused", "paid", "requested", "lost", ""]),
        "limit": st.integers(min_value=-1, max_value=120).map(str) | st.text(max_size=5),
        "cursor": st.integers(min_value=-1, max_value=2**64).map(
            lambda n: encode_cursor("withdrawals", n)
        )
        | st.text(max_size=30),
        "chain_id": st.sampled_from(["31337", "1", "0", "-1", "x", str(2**64)]),
        "other": st.text(max_size=5),
    },
)


async def _fuzz_withdrawal_list(tmp: Path, queries: list[dict[str, str]]) -> None:
    async with open_store(f"sqlite:///{tmp / 'fuzz.sqlite3'}") as store:
        w = Wallet(store)
        accounts = Accounts(store, HASHER)

        async def no_tables(_variant: object, _big_blind: object) -> tuple[()]:
            return ()

        settings = api_settings()
        assert settings.chain is not None
        cashier = ChainCashier(store, WalletCashierLedger(w), settings.chain)
        context = build_context(
            settings, store, w, lambda: accounts, LobbyListings(no_tables), cashier=cashier
        )
        client = create_api_app(context).test_client()
        mine = []
        for name in ("alice", "bobby"):
            tokens = await (
                await client.post("/v1/auth/register", json={"name": name, "password": PASSWORD})
            ).get_json()
            mine.append({"Authorization": f"Bearer {tokens['access_token']}"})
        await w.adjust("fund", wallet(1), 100, memo="fuzz")
        for n, amount in enumerate((10, 20, 500)):  # the last is refused: insufficient funds
            await client.post(
                "/v1/wallet/withdrawals",
                json={"amount": amount, "address": "0x" + "ab" * 20},
                headers={**mine[0], "Idempotency-Key": f"w{n}"},
            )
        await client.post(
            "/v1/wallet/withdrawals",
            json={"amount": 5, "address": "0x" + "ab" * 20},
            headers={**mine[1], "Idempotency-Key": "w0"},
        )
        before = await w.balance(1)
        for query in queries:
            response = await client.get(
                "/v1/wallet/withdrawals", query_string=query, headers=mine[0]
            )
            assert response.status_code in (200, 400, 404), await response.get_data()
            page = await response.get_json()
            if response.status_code != 200:
                assert page["code"] in PROBLEMS
                # 404: a chain id this server has no cashier on (it has 31337 only)
                assert response.status_code != 404 or page["code"] == "unknown_chain"
                continue
            amounts = [row["amount"] for row in page["data"]]
            # Only alice's, newest first, in the state asked for, never more than the limit.
            assert set(amounts) <= {10, 20, 500} and amounts == sorted(
                amounts, key=[500, 20, 10].index
            )
            assert all(row["state"] == query.get("state", row["state"]) for row in page["data"])
            assert len(amounts) <= int(query.get("limit", 50))
        assert await w.balance(1) == before  # reading moves nothing


@settings(max_examples=60, deadline=None, database=None)
@given(queries=st.lists(WITHDRAWAL_QUERIES, min_size=1, max_size=4))
def test_listing_withdrawals_answers_a_page_of_mine_or_a_problem(
    queries: list[dict[str, str]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        trio.run(_fuzz_withdrawal_list, Path(tmp), queries)


@settings(max_examples=60, deadline=None, database=None)
@given(limits=LIMIT_BODIES | JSON_VALUES, exclusion=EXCLUSION_BODIES, statement=STATEMENT_QUERIES)
def test_limits_exclusions_and_statements_answer_and_refusals_change_nothing(
    limits: Any, exclusion: Any, statement: dict[str, str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        trio.run(_fuzz, Path(tmp), limits, exclusion, statement)
