"""Deposits and withdrawals over HTTP reach the blockchain cashier (services/chain/cashier.py)
as the websocket's do; without a cashier every such route says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
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
        await api.client.get("/v1/wallet/withdrawals", headers=api.bearer(alice)),
    ):
        await problem(response, 404, "cashier_unavailable")
    assert (await api.context.wallet.balance(1)).available == 100


async def _withdraw(api: ApiHarness, tokens: dict[str, Any], key: str, amount: int) -> int:
    """Ask for a withdrawal; its status code (201 made, 409 refused by the ledger)."""
    response = await api.client.post(
        "/v1/wallet/withdrawals",
        json={"amount": amount, "address": ADDRESS},
        headers=post_headers(api, tokens, key),
    )
    return response.status_code


async def _list(api: ApiHarness, tokens: dict[str, Any], **query: str) -> dict[str, Any]:
    response = await api.client.get(
        "/v1/wallet/withdrawals", query_string=query, headers=api.bearer(tokens)
    )
    assert response.status_code == 200, await response.get_data()
    assert response.headers["Cache-Control"] == "no-store"
    page: dict[str, Any] = await response.get_json()
    return page


async def test_my_withdrawals_list_newest_first_in_pages(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 1_000)
    for n in range(5):
        assert await _withdraw(api, alice, f"w-{n}", 10 + n) == 201
    first = await _list(api, alice, limit="2")
    assert [w["amount"] for w in first["data"]] == [14, 13]
    second = await _list(api, alice, limit="2", cursor=first["next_cursor"])
    assert [w["amount"] for w in second["data"]] == [12, 11]
    last = await _list(api, alice, limit="2", cursor=second["next_cursor"])
    assert [w["amount"] for w in last["data"]] == [10] and last["next_cursor"] is None
    one = await api.client.get(
        f"/v1/wallet/withdrawals/{first['data'][0]['withdrawal_id']}", headers=api.bearer(alice)
    )
    assert await one.get_json() == first["data"][0]  # the list shows what the item route shows


async def test_my_withdrawals_filter_by_state_and_never_show_anothers(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 100)
    bob = await funded(api, "bobby", 100)
    assert await _withdraw(api, alice, "ok", 40) == 201
    assert await _withdraw(api, alice, "too-much", 500) == 409
    assert await _withdraw(api, bob, "bobs", 20) == 201
    assert [w["amount"] for w in (await _list(api, alice))["data"]] == [500, 40]
    refused = await _list(api, alice, state="refused")
    assert [(w["amount"], w["state"]) for w in refused["data"]] == [(500, "refused")]
    assert [w["amount"] for w in (await _list(api, alice, state="queued"))["data"]] == [40]
    assert (await _list(api, alice, state="paid"))["data"] == []
    assert [w["amount"] for w in (await _list(api, bob))["data"]] == [20]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"state": "lost"}, "invalid_request"),
        ({"limit": "0"}, "invalid_request"),
        ({"limit": "101"}, "invalid_request"),
        ({"cursor": "WyJ3YWxsZXQiLDEyXQ"}, "invalid_cursor"),  # the entries list's cursor
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"player": "2"}, "invalid_request"),
    ],
)
async def test_bad_withdrawal_list_queries_are_refused(
    api: ApiHarness, query: dict[str, str], code: str
) -> None:
    alice = await funded(api, "alice", 0)
    response = await api.client.get(
        "/v1/wallet/withdrawals", query_string=query, headers=api.bearer(alice)
    )
    await problem(response, 400, code)


# A second chain's cashier: another contract, token and rate (and no node: the player side).
OTHER_CHAIN = msgspec.structs.replace(
    TEST_CHAIN, chain_id=10, cashier="0x" + "d0" * 20, token="0x" + "e0" * 20, rate="1/1000"
)


async def test_with_several_chains_each_request_names_its_own_or_gets_the_first(
    make_api: Callable[..., ApiHarness],
) -> None:
    api = make_api(chain=(TEST_CHAIN, OTHER_CHAIN))
    alice = await funded(api, "alice", 1_000)

    async def where(**query: str) -> dict[str, Any]:
        response = await api.client.get(
            "/v1/wallet/deposit-address", query_string=query, headers=api.bearer(alice)
        )
        assert response.status_code == 200, await response.get_data()
        found: dict[str, Any] = await response.get_json()
        return found

    first, other = await where(), await where(chain_id="10")
    assert (first["chain_id"], other["chain_id"]) == (TEST_CHAIN.chain_id, 10)
    assert (other["cashier"].lower(), other["token"].lower(), other["rate"]) == (
        "0x" + "d0" * 20, "0x" + "e0" * 20, "1/1000"
    )  # fmt: skip
    assert first["reference"] == other["reference"]  # one reference per player, every chain
    await problem(
        await api.client.get(
            "/v1/wallet/deposit-address", query_string={"chain_id": "5"}, headers=api.bearer(alice)
        ),
        404,
        "unknown_chain",
    )

    async def withdraw(key: str, body: dict[str, Any]) -> Any:
        return await api.client.post(
            "/v1/wallet/withdrawals", json=body, headers=post_headers(api, alice, key)
        )

    on_first = await withdraw("a", {"amount": 100, "address": ADDRESS})
    on_other = await withdraw("b", {"amount": 100, "address": ADDRESS, "chain_id": 10})
    assert [(await r.get_json())["chain_id"] for r in (on_first, on_other)] == [
        TEST_CHAIN.chain_id, 10
    ]  # fmt: skip
    # Each chain's rate: 100 chips are 10,000 units at 1/100 and 100,000 at 1/1000.
    assert (await on_other.get_json())["units"] == "100000"
    # The key names one request: the same key for another chain is another request.
    await problem(
        await withdraw("a", {"amount": 100, "address": ADDRESS, "chain_id": 10}),
        422,
        "idempotency_conflict",
    )
    await problem(
        await withdraw("c", {"amount": 100, "address": ADDRESS, "chain_id": 5}),
        404,
        "unknown_chain",
    )
    assert (await api.context.wallet.balance(1)).reserved == 200
    every = await _list(api, alice)
    assert [w["chain_id"] for w in every["data"]] == [10, TEST_CHAIN.chain_id]
    assert [w["chain_id"] for w in (await _list(api, alice, chain_id="10"))["data"]] == [10]
    read = await api.client.get(on_other.headers["Location"], headers=api.bearer(alice))
    assert await read.get_json() == await on_other.get_json()
