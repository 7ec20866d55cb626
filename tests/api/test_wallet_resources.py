"""The rest of my wallet over HTTP: balances per asset, statements (JSON and CSV), the
play-chip claim, limits and exclusions. The rules are the wallet service's; these tests check
that the API reaches them and answers their refusals with their codes."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

from services.ledger import wallet
from tests.api.conftest import ApiHarness
from tests.api.test_auth_flows import problem
from tests.api.test_wallet_routes import ADDRESS, funded, post_headers

DAY_MS = 86_400_000


def period(api: ApiHarness) -> str:
    """A day either side of now: the whole of what a test does."""
    now_ms = api.store.clock_ms()
    return f"from_ms={now_ms - DAY_MS}&to_ms={now_ms + DAY_MS}"


async def test_balances_lists_every_asset(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 300)
    body = await (await api.client.get("/v1/wallet/balances", headers=api.bearer(alice))).get_json()
    assert [(b["asset"], b["balance"]) for b in body["data"]] == [("chips", 300), ("play", 10_000)]


async def test_a_statement_pages_its_entries_and_totals_the_period(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 100)
    await funded(api, "bobby", 0)
    for n in range(3):
        await api.client.post(
            "/v1/wallet/transfers",
            json={"to_player": "bobby", "amount": n + 1},
            headers=post_headers(api, alice, f"s{n}"),
        )
    url = f"/v1/wallet/statement?{period(api)}&limit=2"
    first = await (await api.client.get(url, headers=api.bearer(alice))).get_json()
    assert (first["opening_balance"], first["closing_balance"]) == (0, 94)
    totals = {t["kind"]: (t["count"], t["credited"], t["debited"]) for t in first["totals"]}
    assert totals == {"adjustment": (1, 100, 0), "player_transfer": (3, 0, 6)}
    amounts = [e["amount"] for e in first["entries"]]
    page = first
    while page["next_cursor"] is not None:
        page = await (
            await api.client.get(f"{url}&cursor={page['next_cursor']}", headers=api.bearer(alice))
        ).get_json()
        amounts += [e["amount"] for e in page["entries"]]
    assert amounts == [100, -1, -2, -3]  # oldest first
    # A cursor belongs to its period and asset.
    now_ms = api.store.clock_ms()
    other = f"/v1/wallet/statement?from_ms=1&to_ms={now_ms}&cursor={first['next_cursor']}"
    await problem(await api.client.get(other, headers=api.bearer(alice)), 400, "invalid_cursor")


async def test_a_statement_as_csv_holds_the_whole_period(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 100)
    response = await api.client.get(
        f"/v1/wallet/statement?{period(api)}&format=csv",
        headers=api.bearer(alice),
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(await response.get_data(as_text=True))))
    assert [row[0] for row in rows] == ["row", "opening", "entry", "total", "closing"]
    assert rows[-1][5] == "100"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("from_ms=10&to_ms=10", 422, "invalid_period"),
        ("from_ms=10&to_ms=5&format=csv", 422, "invalid_period"),
        (f"from_ms=0&to_ms={400 * 86_400_000}", 422, "invalid_period"),
        ("from_ms=0", 400, "invalid_request"),
        ("from_ms=0&to_ms=5&asset=gold", 400, "invalid_request"),
        ("from_ms=0&to_ms=5&format=csv&cursor=abc", 400, "invalid_cursor"),
    ],
)
async def test_bad_statement_requests_are_refused(
    api: ApiHarness, query: str, status: int, code: str
) -> None:
    alice = await funded(api, "alice", 0)
    response = await api.client.get(f"/v1/wallet/statement?{query}", headers=api.bearer(alice))
    await problem(response, status, code)


async def test_a_play_chip_claim_refills_once_per_period(
    make_api: Callable[..., ApiHarness],
) -> None:
    api = make_api(play_starting_chips=0, play_refill_chips=500, play_refill_period_s=3600)
    alice = await api.register("alice")
    first = await api.client.post(
        "/v1/wallet/play-chips/claims", json={}, headers=post_headers(api, alice, "c1")
    )
    assert first.status_code == 201
    claimed = await first.get_json()
    assert (claimed["asset"], claimed["amount"], claimed["kind"]) == ("play", 500, "play_grant")
    replay = await api.client.post(
        "/v1/wallet/play-chips/claims", json={}, headers=post_headers(api, alice, "c1")
    )
    assert await replay.get_json() == claimed  # the same key: the first answer, no new chips
    too_early = await api.client.post(
        "/v1/wallet/play-chips/claims", json={}, headers=post_headers(api, alice, "c2")
    )
    body = await problem(too_early, 409, "refill_too_early")
    assert 0 < int(too_early.headers["Retry-After"]) <= 3600 and body["retry_after_s"] > 0
    assert (await api.context.wallet.balance(1, "play")).balance == 500


async def test_a_claim_above_the_threshold_is_not_needed(api: ApiHarness) -> None:
    alice = await api.register("alice")  # 10,000 play chips, the threshold is 1,000
    response = await api.client.post(
        "/v1/wallet/play-chips/claims", json={}, headers=post_headers(api, alice, "c1")
    )
    await problem(response, 409, "refill_not_needed")


async def test_limits_lower_at_once_and_raise_after_a_day(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 0)
    lowered = await api.client.post(
        "/v1/wallet/limits", json={"daily_deposit_max": 50}, headers=api.bearer(alice)
    )
    assert lowered.status_code == 200
    assert (await lowered.get_json())["limits"]["daily_deposit_max"] == 50
    raised = await (
        await api.client.post(
            "/v1/wallet/limits", json={"daily_deposit_max": 80}, headers=api.bearer(alice)
        )
    ).get_json()
    assert raised["limits"]["daily_deposit_max"] == 50
    assert raised["pending"]["daily_deposit_max"]["value"] == 80
    again = await api.client.post(
        "/v1/wallet/limits", json={"daily_deposit_max": 80}, headers=api.bearer(alice)
    )
    assert again.status_code == 200  # the same raise: a retry
    other = await api.client.post(
        "/v1/wallet/limits", json={"daily_deposit_max": 90}, headers=api.bearer(alice)
    )
    await problem(other, 409, "limit_raise_pending")
    assert 0 < int(other.headers["Retry-After"]) <= 86_400
    read = await (await api.client.get("/v1/wallet/limits", headers=api.bearer(alice))).get_json()
    assert read["limits"]["daily_deposit_max"] == 50 and read["today"]["deposited"] == 0


@pytest.mark.parametrize(
    "body",
    [{}, {"daily_deposit_max": -1}, {"daily_deposit_max": 10**16}, {"session_minutes_max": 0},
     {"session_minutes_max": 1441}, {"daily_deposit_max": "5"}, {"nonsense_max": 5}],
)  # fmt: skip
async def test_bad_limit_changes_change_nothing(api: ApiHarness, body: dict[str, Any]) -> None:
    alice = await funded(api, "alice", 0)
    response = await api.client.post("/v1/wallet/limits", json=body, headers=api.bearer(alice))
    await problem(response, 400, "invalid_request")
    assert (await api.context.wallet.limits_view(1)).updated_at_ms == 0


async def test_a_cool_off_refuses_deposits_and_cannot_be_shortened(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 100)
    cool = await api.client.post(
        "/v1/wallet/exclusions",
        json={"kind": "cool_off", "days": 7},
        headers=post_headers(api, alice, "x1"),
    )
    assert cool.status_code == 201 and cool.headers["Location"] == "/v1/wallet/limits"
    assert (await cool.get_json())["exclusion"]["kind"] == "cool_off"
    shorter = await api.client.post(
        "/v1/wallet/exclusions",
        json={"kind": "cool_off", "days": 1},
        headers=post_headers(api, alice, "x2"),
    )
    await problem(shorter, 409, "exclusion_cannot_be_shortened")
    deposit = await api.client.get("/v1/wallet/deposit-address", headers=api.bearer(alice))
    await problem(deposit, 403, "cooling_off")
    withdrawal = await api.client.post(
        "/v1/wallet/withdrawals",
        json={"amount": 5, "address": ADDRESS},
        headers=post_headers(api, alice, "w1"),
    )
    assert withdrawal.status_code == 201  # withdrawing stays open


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"kind": "cool_off", "days": 43}, 422, "invalid_exclusion"),
        ({"kind": "self_exclusion", "days": 30}, 422, "invalid_exclusion"),
        ({"kind": "cool_off", "days": 0}, 400, "invalid_request"),
        ({"kind": "holiday", "days": 7}, 400, "invalid_request"),
    ],
)
async def test_bad_exclusions_change_nothing(
    api: ApiHarness, body: dict[str, Any], status: int, code: str
) -> None:
    alice = await funded(api, "alice", 0)
    response = await api.client.post(
        "/v1/wallet/exclusions", json=body, headers=post_headers(api, alice, "x")
    )
    await problem(response, status, code)
    assert (await api.context.wallet.limits_view(1)).exclusion is None


async def test_an_excluded_recipient_answers_as_unknown(api: ApiHarness) -> None:
    alice = await funded(api, "alice", 100)
    await funded(api, "bobby", 0)
    await api.context.wallet.exclude(2, "self_exclusion", 183)
    response = await api.client.post(
        "/v1/wallet/transfers",
        json={"to_player": "bobby", "amount": 5},
        headers=post_headers(api, alice, "k"),
    )
    await problem(response, 404, "unknown_player")
    assert (await api.context.wallet.balance(1)).balance == 100
    assert wallet(1).asset == "chips"
