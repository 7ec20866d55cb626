"""My wallet over HTTP: balance, entries, transfers, deposit and withdrawal requests, and the
Idempotency-Key on every POST that moves money."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

import pytest

from api.problems import PROBLEMS
from api.routes.wallet import Asset, wallet_problem
from persistence import Store
from services.ledger import ASSETS, WalletError, wallet
from services.play_money import RefillTooEarly
from tests.api.conftest import ApiHarness
from tests.api.test_auth_flows import problem


async def funded(api: ApiHarness, name: str, amount: int = 1000) -> dict[str, Any]:
    tokens = await api.register(name)
    player_id = tokens["player"]["id"]
    if amount:
        await api.context.wallet.adjust(f"fund-{name}", wallet(player_id), amount, memo="test")
    return tokens


ADDRESS = "0x" + "ab" * 20  # a chain address (all lower case: no checksum to get wrong)


def post_headers(api: ApiHarness, tokens: dict[str, Any], key: str) -> dict[str, str]:
    return {**api.bearer(tokens), "Idempotency-Key": key}


async def test_balance_is_the_wallet_services(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 1000)
    response = await api.client.get("/v1/wallet", headers=api.bearer(alice))
    assert await response.get_json() == {
        "player_id": 1, "balance": 1000, "reserved": 0, "available": 1000, "asset": "chips",
    }  # fmt: skip
    assert response.headers["Cache-Control"] == "no-store"


async def test_a_transfer_moves_money_once_and_replays_its_first_response(
    api: ApiHarness,
) -> None:
    alice = await funded(api, "alice", 1000)
    await funded(api, "bobby", 0)
    headers = post_headers(api, alice, "lunch-1")
    body = {"to_player": "bobby", "amount": 250, "memo": "lunch"}
    first = await api.client.post("/v1/wallet/transfers", json=body, headers=headers)
    assert first.status_code == 201
    created = await first.get_json()
    assert first.headers["Location"] == f"/v1/wallet/transfers/{created['transfer_id']}"
    assert (created["state"], created["amount"], created["credit"]) == (
        "posted", 250, {"kind": "wallet", "owner": "2", "asset": "chips"},
    )  # fmt: skip
    replay = await api.client.post("/v1/wallet/transfers", json=body, headers=headers)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert await replay.get_json() == created
    assert replay.headers["Location"] == first.headers["Location"]
    # The same body written differently (key order, spacing) is the same request.
    same = await api.client.post(
        "/v1/wallet/transfers",
        data='{"memo":"lunch",  "amount":250,"to_player":"bobby"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert same.status_code == 201 and await same.get_json() == created
    assert (await api.context.wallet.balance(1)).balance == 750
    assert (await api.context.wallet.balance(2)).balance == 250


async def test_the_same_key_with_another_body_is_refused_with_422(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 1000)
    await funded(api, "bobby", 0)
    headers = post_headers(api, alice, "k-1")
    await api.client.post(
        "/v1/wallet/transfers", json={"to_player": "bobby", "amount": 5}, headers=headers
    )
    other = await api.client.post(
        "/v1/wallet/transfers", json={"to_player": "bobby", "amount": 6}, headers=headers
    )
    await problem(other, 422, "idempotency_conflict")
    elsewhere = await api.client.post(
        "/v1/wallet/withdrawals", json={"amount": 5, "address": ADDRESS}, headers=headers
    )
    await problem(elsewhere, 422, "idempotency_conflict")  # a key names one operation
    assert (await api.context.wallet.balance(1)).balance == 995


async def test_a_refused_transfer_is_not_kept_so_a_retry_runs_again(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 10)
    await funded(api, "bobby", 0)
    headers = post_headers(api, alice, "k-2")
    body = {"to_player": "bobby", "amount": 50}
    await problem(
        await api.client.post("/v1/wallet/transfers", json=body, headers=headers),
        409,
        "insufficient_funds",
    )
    await api.context.wallet.adjust("top-up", wallet(1), 100, memo="test")
    retry = await api.client.post("/v1/wallet/transfers", json=body, headers=headers)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers


async def test_keys_are_per_player(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 100)
    bob = await funded(api, "bobby", 100)
    for tokens, to in ((alice, "bobby"), (bob, "alice")):
        response = await api.client.post(
            "/v1/wallet/transfers",
            json={"to_player": to, "amount": 10},
            headers=post_headers(api, tokens, "same-key"),
        )
        assert response.status_code == 201


async def test_a_transfer_made_over_http_replays_on_the_websocket_key(api: ApiHarness) -> None:
    """The Idempotency-Key is the wallet's key: the websocket's retry with it moves nothing."""
    alice = await funded(api, "alice", 100)
    await funded(api, "bobby", 0)
    response = await api.client.post(
        "/v1/wallet/transfers",
        json={"to_player": "bobby", "amount": 10},
        headers=post_headers(api, alice, "both-doors"),
    )
    # What server/wallet_requests.py calls for the websocket's wallet_transfer.
    record = await api.context.wallet.send_to_player("both-doors", 1, "bobby", 10)
    assert record.id == (await response.get_json())["transfer_id"]
    assert (await api.context.wallet.balance(1)).balance == 90


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"to_player": "nobody", "amount": 5}, 404, "unknown_player"),
        ({"to_player": "alice", "amount": 5}, 422, "transfer_to_self"),
        ({"to_player": "bobby", "amount": 0}, 400, "invalid_request"),
        ({"to_player": "bobby", "amount": 10**16}, 400, "invalid_request"),
        ({"to_player": "bobby", "amount": "5"}, 400, "invalid_request"),
        ({"to_player": "bobby", "amount": 5.0}, 400, "invalid_request"),
        ({"to_player": "bobby", "amount": 5, "asset": "x"}, 400, "invalid_request"),
        ({"to_player": "bobby", "amount": 5, "memo": "m" * 201}, 400, "invalid_request"),
    ],
)
async def test_transfer_refusals_move_nothing(
    api: ApiHarness, body: dict[str, Any], status: int, code: str
) -> None:
    alice = await funded(api, "alice", 100)
    await funded(api, "bobby", 0)
    response = await api.client.post(
        "/v1/wallet/transfers", json=body, headers=post_headers(api, alice, "k")
    )
    await problem(response, status, code)
    assert (await api.context.wallet.balance(1)).balance == 100


async def test_a_banned_recipient_answers_as_unknown(api: ApiHarness, store: Store) -> None:
    alice = await funded(api, "alice", 100)
    await funded(api, "bobby", 0)
    await store.set_account_banned(2, True)
    response = await api.client.post(
        "/v1/wallet/transfers",
        json={"to_player": "bobby", "amount": 5},
        headers=post_headers(api, alice, "k"),
    )
    await problem(response, 404, "unknown_player")


async def test_posts_that_move_money_need_an_idempotency_key(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 100)
    for path, body in (
        ("/v1/wallet/transfers", {"to_player": "bobby", "amount": 5}),
        ("/v1/wallet/withdrawals", {"amount": 5, "address": ADDRESS}),
        ("/v1/wallet/play-chips/claims", {}),
        ("/v1/wallet/exclusions", {"kind": "cool_off", "days": 1}),
    ):
        missing = await api.client.post(path, json=body, headers=api.bearer(alice))
        await problem(missing, 400, "idempotency_key_required")
        bad = await api.client.post(
            path, json=body, headers={**api.bearer(alice), "Idempotency-Key": "has space"}
        )
        await problem(bad, 400, "invalid_request")


async def test_entries_page_with_cursors_newest_first(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 100)
    await funded(api, "bobby", 0)
    for n in range(5):
        await api.client.post(
            "/v1/wallet/transfers",
            json={"to_player": "bobby", "amount": n + 1},
            headers=post_headers(api, alice, f"t{n}"),
        )
    seen: list[int] = []
    url = "/v1/wallet/entries?limit=2"
    while True:
        page = await (await api.client.get(url, headers=api.bearer(alice))).get_json()
        seen += [entry["amount"] for entry in page["data"]]
        if page["next_cursor"] is None:
            break
        url = f"/v1/wallet/entries?limit=2&cursor={page['next_cursor']}"
    assert seen == [-5, -4, -3, -2, -1, 100]


@pytest.mark.parametrize(
    "query",
    ["cursor=notacursor", "cursor=WyJsb2JieSIsMV0", "limit=0", "limit=201", "limit=x", "x=1",
     "limit=2&limit=3"],
)  # fmt: skip
async def test_bad_queries_are_refused(api: ApiHarness, query: str) -> None:
    alice = await funded(api, "alice", 0)
    response = await api.client.get(f"/v1/wallet/entries?{query}", headers=api.bearer(alice))
    assert response.status_code == 400
    assert (await response.get_json())["code"] in {"invalid_request", "invalid_cursor"}


async def test_a_transfer_is_readable_by_its_parties_only(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 100)
    bob = await funded(api, "bobby", 0)
    carol = await funded(api, "carol", 0)
    created = await api.client.post(
        "/v1/wallet/transfers",
        json={"to_player": "bobby", "amount": 5},
        headers=post_headers(api, alice, "k"),
    )
    location = created.headers["Location"]
    for tokens in (alice, bob):
        seen = await api.client.get(location, headers=api.bearer(tokens))
        assert (await seen.get_json())["amount"] == 5
    hidden = await api.client.get(location, headers=api.bearer(carol))
    await problem(hidden, 404, "unknown_transfer")
    missing = await api.client.get("/v1/wallet/transfers/999", headers=api.bearer(alice))
    await problem(missing, 404, "unknown_transfer")
    bad = await api.client.get("/v1/wallet/transfers/0", headers=api.bearer(alice))
    await problem(bad, 400, "invalid_request")


def _wallet_error_classes() -> list[type[WalletError]]:
    found: list[type[WalletError]] = []
    pending: list[type[WalletError]] = [WalletError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending += cls.__subclasses__()
    return found


def test_every_wallet_refusal_has_its_own_problem_code() -> None:
    """The API answers the wallet's codes as they are (the websocket's error frames carry
    the same); none falls back to the catch-all wallet_error."""
    import services.chain.cashier
    import services.limits
    import services.play_money
    import services.wallet  # noqa: F401  (their WalletError classes)

    codes = {cls.code for cls in _wallet_error_classes()} - {"wallet_error"}
    assert "transfer_to_self" in codes and "refill_too_early" in codes
    assert codes <= set(PROBLEMS), codes - set(PROBLEMS)


def test_a_refusal_that_waiting_cures_carries_retry_after() -> None:
    refused = wallet_problem(RefillTooEarly(1_500))
    assert (refused.code, refused.status, refused.retry_after_s) == ("refill_too_early", 409, 2)
    assert wallet_problem(RefillTooEarly(1)).retry_after_s == 1  # never "retry after 0 s"


async def test_a_new_player_gets_play_money_and_its_own_balance(api: ApiHarness) -> None:
    alice = await api.register("alice")
    play = await api.client.get("/v1/wallet?asset=play", headers=api.bearer(alice))
    assert await play.get_json() == {
        "player_id": 1, "balance": 10_000, "reserved": 0, "available": 10_000, "asset": "play",
    }  # fmt: skip
    chips = await api.client.get("/v1/wallet", headers=api.bearer(alice))
    assert (await chips.get_json())["balance"] == 0
    page = await (
        await api.client.get("/v1/wallet/entries?asset=play", headers=api.bearer(alice))
    ).get_json()
    assert [(e["kind"], e["amount"]) for e in page["data"]] == [("play_grant", 10_000)]
    unknown = await api.client.get("/v1/wallet?asset=gold", headers=api.bearer(alice))
    await problem(unknown, 400, "invalid_request")


async def test_transfers_are_refused_while_the_operator_has_not_enabled_them(
    make_api: Callable[..., ApiHarness],
) -> None:
    api = make_api(player_transfers_enabled=False)
    alice = await funded(api, "alice", 100)
    await funded(api, "bobby", 0)
    for name in ("bobby", "nobody"):  # an unknown name does not reveal itself either
        response = await api.client.post(
            "/v1/wallet/transfers",
            json={"to_player": name, "amount": 5},
            headers=post_headers(api, alice, f"k-{name}"),
        )
        await problem(response, 403, "transfers_disabled")
    assert (await api.context.wallet.balance(1)).balance == 100


def test_the_asset_parameter_names_the_ledgers_assets() -> None:
    assert set(get_args(Asset)) == ASSETS
