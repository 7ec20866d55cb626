"""GET /analytics/lobby: what the sampler stored from the live lobby, by game and hour."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actors.addresses import LOBBY
from actors.runtime import Registry
from actors.table.messages import ListTablesQuery
from persistence import Store
from protocol.game import TableListing
from services.lobby_analytics import LobbySampler
from tests.admin.conftest import bearer


async def test_a_sample_of_the_live_lobby_is_served_by_game(
    make_client: Callable[..., Any], store: Store, registry: Registry
) -> None:
    async def list_tables() -> tuple[TableListing, ...] | None:
        lobby = registry.resolve(LOBBY)
        assert lobby is not None
        listings: tuple[TableListing, ...] = await lobby.ask(ListTablesQuery(), timeout_s=5)
        return listings

    await LobbySampler(store, list_tables).sample()
    client = make_client()
    response = await client.get("/analytics/lobby", headers=bearer("support"))
    assert response.status_code == 200, await response.get_data()
    body = await response.get_json()
    assert body["bucket"] == "hour"
    assert [(g["asset"], g["variant"], g["stakes"], g["tables_mean"]) for g in body["games"]] == [
        ("chips", "NT", "1/2", 1.0)
    ]
    assert body["games"][0]["occupancy"] == 0.0
    assert body["games"][0]["seat_wait_mean_ms"] is None


async def test_bad_periods_get_their_codes_and_players_are_refused(
    make_client: Callable[..., Any],
) -> None:
    client = make_client()
    reversed_ = await client.get(
        "/analytics/lobby?from_ms=5000&to_ms=10", headers=bearer("support")
    )
    assert (reversed_.status_code, (await reversed_.get_json())["error"]) == (
        400,
        "invalid_period",
    )
    too_long = await client.get(
        "/analytics/lobby?bucket=hour&from_ms=0&to_ms=9999999999", headers=bearer("support")
    )
    assert (await too_long.get_json())["error"] == "period_too_large"
    bad_bucket = await client.get("/analytics/lobby?bucket=week", headers=bearer("support"))
    assert bad_bucket.status_code == 400
    assert (await client.get("/analytics/lobby", headers=bearer("player"))).status_code == 403
