"""Deposits and withdrawals over HTTP reach the blockchain cashier (services/chain/cashier.py)
as the websocket's do; without a cashier every such route says so."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.ledger import wallet
from tests.api.conftest import TEST_CHAIN, ApiHarness
from tests.api.test_auth_flows import problem
from tests.api.test_wallet_routes import ADDRESS, funded, post_headers

CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


async def test_the_deposit_address_is_the_players_own_and_stays(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 0)
    bob = await funded(api, "bobby", 0)
    first = await (
        await api.client.get("/v1/wallet/deposit-address", headers=api.bearer(alice))
    ).get_json()
    again = await (
        await api.client.get("/v1/wallet/deposit-address", headers=api.bearer(alice))
    ).get_json()
    other = await (
        await api.client.get("/v1/wallet/deposit-address", headers=api.bearer(bob))
    ).get_json()
    assert first == again and first["reference"] != other["reference"]
    assert (first["chain_id"], first["rate"]) == (TEST_CHAIN.chain_id, "1/100")
    assert first["cashier"].lower() == TEST_CHAIN.cashier
    assert first["token"] == "0x" + "0" * 40  # a native-coin cashier


async def test_a_withdrawal_reserves_at_once_and_replays_its_first_answer(
    api: ApiHarness,
) -> None:
    alice = await funded(api, "alice", 500)
    headers = post_headers(api, alice, "w-1")
    body = {"amount": 300, "address": CHECKSUMMED}
    first = await api.client.post("/v1/wallet/withdrawals", json=body, headers=headers)
    assert first.status_code == 201
    created = await first.get_json()
    assert (created["state"], created["amount"], created["units"]) == ("queued", 300, "30000")
    assert created["address"] == CHECKSUMMED
    assert first.headers["Location"] == f"/v1/wallet/withdrawals/{created['withdrawal_id']}"
    balance = await api.context.wallet.balance(1)
    assert (balance.balance, balance.reserved, balance.available) == (500, 300, 200)
    replay = await api.client.post("/v1/wallet/withdrawals", json=body, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true" and await replay.get_json() == created
    read = await api.client.get(first.headers["Location"], headers=api.bearer(alice))
    assert await read.get_json() == created
    assert (await api.context.wallet.balance(1)).reserved == 300  # reserved once


async def test_a_large_withdrawal_waits_for_staff(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 5_000)
    response = await api.client.post(
        "/v1/wallet/withdrawals",
        json={"amount": TEST_CHAIN.approval_threshold_chips, "address": ADDRESS},
        headers=post_headers(api, alice, "w-big"),
    )
    assert (await response.get_json())["state"] == "awaiting_approval"


async def test_a_refused_withdrawal_is_refused_again_on_retry(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 10)
    headers = post_headers(api, alice, "w-1")
    body = {"amount": 50, "address": ADDRESS}
    first = await api.client.post("/v1/wallet/withdrawals", json=body, headers=headers)
    await problem(first, 409, "insufficient_funds")
    await api.context.wallet.adjust("top-up", wallet(1), 100, memo="test")
    # The cashier recorded the request and its refusal: the same key names it forever.
    again = await api.client.post("/v1/wallet/withdrawals", json=body, headers=headers)
    await problem(again, 409, "withdrawal_refused")
    assert (await api.context.wallet.balance(1)).reserved == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount": 5, "address": "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}, 422,
         "invalid_address"),  # a mixed-case address with a wrong checksum
        ({"amount": 5, "address": "0x" + "0" * 40}, 422, "invalid_address"),
        ({"amount": 5, "address": "alice"}, 422, "invalid_address"),
        ({"amount": 5, "address": "0x" + "ab" * 21}, 400, "invalid_request"),
        ({"amount": 0, "address": ADDRESS}, 400, "invalid_request"),
        ({"amount": 5}, 400, "invalid_request"),
        ({"amount": 5, "address": ADDRESS, "memo": "x"}, 400, "invalid_request"),
    ],
)  # fmt: skip
async def test_bad_withdrawals_change_nothing(
    api: ApiHarness, body: dict[str, object], status: int, code: str
) -> None:
    alice = await funded(api, "alice", 100)
    response = await api.client.post(
        "/v1/wallet/withdrawals", json=body, headers=post_headers(api, alice, "w")
    )
    await problem(response, status, code)
    assert (await api.context.wallet.balance(1)).available == 100


async def test_another_players_withdrawal_answers_as_none(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 100)
    bob = await funded(api, "bobby", 0)
    created = await api.client.post(
        "/v1/wallet/withdrawals",
        json={"amount": 10, "address": ADDRESS},
        headers=post_headers(api, alice, "w"),
    )
    hidden = await api.client.get(created.headers["Location"], headers=api.bearer(bob))
    await problem(hidden, 404, "unknown_withdrawal")
    missing = await api.client.get("/v1/wallet/withdrawals/999", headers=api.bearer(alice))
    await problem(missing, 404, "unknown_withdrawal")


async def test_without_a_cashier_every_cashier_route_says_so(
    make_api: Callable[..., ApiHarness],
) -> None:
    api = make_api(chain=None)
    alice = await funded(api, "alice", 100)
    for response in (
        await api.client.get("/v1/wallet/deposit-address", headers=api.bearer(alice)),
        await api.client.post(
            "/v1/wallet/withdrawals",
            json={"amount": 10, "address": ADDRESS},
            headers=post_headers(api, alice, "w"),
        ),
        await api.client.get("/v1/wallet/withdrawals/1", headers=api.bearer(alice)),
    ):
        await problem(response, 404, "cashier_unavailable")
    assert (await api.context.wallet.balance(1)).available == 100
