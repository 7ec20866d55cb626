"""Cacheable GETs (the lobby, public profiles): ETag, If-None-Match -> 304, Cache-Control,
cursor pages; and the lobby adapter's cache."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest
import trio
import trio.testing

from api import shortcut as shortcut_module
from api.lobby import ListingsUnavailable, LobbyListings
from api.routes import lobby as lobby_routes
from api.shortcut import NotModifiedShortcut
from persistence import Store
from protocol.game import TableListing
from tests.api.conftest import ApiHarness
from tests.api.test_auth_flows import problem


def listing(table_id: str, variant: str = "NT", big_blind: int = 2) -> TableListing:
    return TableListing(
        table_id=table_id, name=table_id, variant=variant, small_blind=big_blind // 2 or 1,  # type: ignore[arg-type]
        big_blind=big_blind, buy_in_min=40 * big_blind, buy_in_max=200 * big_blind,
        seats_total=6, seats_taken=0, waiting=0, average_pot=0, hands_per_hour=0,
    )  # fmt: skip


async def test_the_lobby_answers_304_to_its_own_etag(api: ApiHarness) -> None:
    first = await api.client.get("/v1/lobby/tables")
    body = await first.get_json()
    assert [t["table_id"] for t in body["data"]] == ["t-1"]
    assert first.headers["Cache-Control"] == "public, max-age=1"
    etag = first.headers["ETag"]
    again = await api.client.get("/v1/lobby/tables", headers={"If-None-Match": etag})
    assert again.status_code == 304 and await again.get_data() == b""
    assert again.headers["ETag"] == etag
    listed = await api.client.get(
        "/v1/lobby/tables", headers={"If-None-Match": f'"nope", W/{etag}'}
    )
    assert listed.status_code == 304  # weak comparison over a list
    stale = await api.client.get("/v1/lobby/tables", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200 and await stale.get_json() == body


async def test_the_lobby_needs_no_credential_but_checks_one_that_is_sent(
    api: ApiHarness,
) -> None:
    bad = await api.client.get("/v1/lobby/tables", headers={"Authorization": "Bearer x.y.z"})
    await problem(bad, 401, "token_invalid")
    tokens = await api.register("alice")
    ok = await api.client.get("/v1/lobby/tables", headers=api.bearer(tokens))
    assert ok.status_code == 200


async def test_lobby_pages_follow_the_lobby_order(api: ApiHarness) -> None:
    tables = tuple(listing(f"t-{n:02}", big_blind=2 + 2 * (n % 3)) for n in range(7))

    async def source(_variant: object, _big_blind: object) -> tuple[TableListing, ...]:
        return tables

    api.context.listings._source = source  # type: ignore[assignment]
    seen: list[str] = []
    url = "/v1/lobby/tables?limit=3"
    while url:
        page = await (await api.client.get(url)).get_json()
        seen += [t["table_id"] for t in page["data"]]
        url = page["next_cursor"] and f"/v1/lobby/tables?limit=3&cursor={page['next_cursor']}"
    expected = sorted(tables, key=lambda t: (t.variant, t.big_blind, t.table_id))
    assert seen == [t.table_id for t in expected]


@pytest.mark.parametrize(
    "query", ["variant=XX", "big_blind=-1", "limit=501", "cursor=%00", "cursor=bm90IGpzb24"]
)
async def test_bad_lobby_queries_are_refused(api: ApiHarness, query: str) -> None:
    response = await api.client.get(f"/v1/lobby/tables?{query}")
    assert response.status_code == 400


async def test_a_stopped_lobby_is_503(api: ApiHarness) -> None:
    async def stopped(_variant: object, _big_blind: object) -> tuple[TableListing, ...]:
        raise ListingsUnavailable("the lobby is not running")

    api.context.listings._source = stopped  # type: ignore[assignment]
    await problem(await api.client.get("/v1/lobby/tables?big_blind=4"), 503, "unavailable")


async def test_public_profiles_are_cacheable_and_hide_banned_players(
    api: ApiHarness, store: Store
) -> None:
    await api.register("alice")
    first = await api.client.get("/v1/players/1")
    profile = await first.get_json()
    # Public fields only (services/profiles.py): never the login name, role or balances.
    assert set(profile) == {
        "id", "name", "display_name", "member_since_ms", "avatar", "country", "bio", "level",
    }  # fmt: skip
    assert profile["name"] == profile["display_name"] == "alice"
    assert first.headers["Cache-Control"] == "public, max-age=60"
    again = await api.client.get("/v1/players/1", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    await store.set_account_banned(1, True)
    await problem(await api.client.get("/v1/players/1"), 404, "not_found")
    await problem(await api.client.get("/v1/players/99"), 404, "not_found")


async def test_personal_answers_are_never_cached(api: ApiHarness) -> None:
    tokens = await api.register("alice")
    for path in ("/v1/me", "/v1/wallet", "/v1/wallet/entries", "/v1/me/hands"):
        response = await api.client.get(path, headers=api.bearer(tokens))
        assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers


async def test_the_adapter_asks_once_per_ttl_and_shares_a_pending_ask() -> None:
    clock = trio.testing.MockClock()
    asks = 0
    release = trio.Event()

    async def source(_variant: object, _big_blind: object) -> tuple[TableListing, ...]:
        nonlocal asks
        asks += 1
        await release.wait()
        return (listing("a"),)

    listings = LobbyListings(source, ttl_s=1.0, clock=lambda: clock.current_time())
    results = []

    async def read() -> None:
        results.append(await listings.snapshot(None, None))

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(read)
        await trio.testing.wait_all_tasks_blocked()
        release.set()
    assert asks == 1 and len({id(r) for r in results}) == 1
    await listings.snapshot(None, None)
    assert asks == 1  # fresh
    clock.jump(1.0)
    await listings.snapshot(None, None)
    assert asks == 2  # stale after ttl_s
    await listings.snapshot("NT", None)
    assert asks == 3  # each filter is its own answer


def test_listing_pages_are_json_the_spec_describes() -> None:
    page = msgspec.json.encode({"data": [listing("a")], "next_cursor": None})
    assert b'"table_id":"a"' in page


def shortcut_of(api: ApiHarness) -> NotModifiedShortcut:
    shortcut = api.client.app.asgi_app
    assert isinstance(shortcut, NotModifiedShortcut)
    return shortcut


async def test_a_cached_lobby_page_answers_304_before_the_app_with_the_same_headers(
    api: ApiHarness,
) -> None:
    first = await api.client.get("/v1/lobby/tables?limit=10")  # encodes and keeps the page
    etag = first.headers["ETag"]
    shortcut = shortcut_of(api)
    fast = await api.client.get(
        "/v1/lobby/tables?limit=10", headers={"If-None-Match": etag, "X-Request-Id": "r-1"}
    )
    assert fast.status_code == 304 and shortcut.answered == 1
    # The app's own 304 (an Origin makes the shortcut step aside) has the same headers.
    slow = await api.client.get(
        "/v1/lobby/tables?limit=10", headers={"If-None-Match": etag, "Origin": "https://x.org"}
    )
    assert slow.status_code == 304 and shortcut.answered == 1
    for name in ("ETag", "Cache-Control", "X-Content-Type-Options", "Vary", "RateLimit-Limit"):
        assert fast.headers[name] == slow.headers[name], name
    assert fast.headers["X-Request-Id"] == "r-1"
    assert int(fast.headers["RateLimit-Remaining"]) >= 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://play.example.com"},  # CORS is the app's
        {"Authorization": "Bearer x.y.z"},  # a credential must be checked (and is bad here)
    ],
)
async def test_the_shortcut_steps_aside_for_what_only_the_app_can_answer(
    api: ApiHarness, headers: dict[str, str]
) -> None:
    etag = (await api.client.get("/v1/lobby/tables")).headers["ETag"]
    response = await api.client.get("/v1/lobby/tables", headers={"If-None-Match": etag, **headers})
    assert shortcut_of(api).answered == 0
    assert response.status_code in (304, 401)


async def test_the_shortcut_answers_only_fresh_cached_pages(api: ApiHarness) -> None:
    etag = (await api.client.get("/v1/lobby/tables")).headers["ETag"]
    other = await api.client.get("/v1/lobby/tables?variant=FT", headers={"If-None-Match": etag})
    assert other.status_code == 200  # another page: its own ETag
    bad = await api.client.get("/v1/lobby/tables?limit=0", headers={"If-None-Match": etag})
    assert bad.status_code == 400  # the route refuses what the shortcut cannot read
    assert shortcut_of(api).answered == 0


async def test_an_address_over_its_limit_gets_429_even_for_a_cached_page(
    make_api: Callable[..., ApiHarness],
) -> None:
    api = make_api(api_rate_ip_burst_requests=2, api_rate_ip_refill_per_s=1)
    etag = (await api.client.get("/v1/lobby/tables")).headers["ETag"]
    assert (
        await api.client.get("/v1/lobby/tables", headers={"If-None-Match": etag})
    ).status_code == 304
    refused = await api.client.get("/v1/lobby/tables", headers={"If-None-Match": etag})
    await problem(refused, 429, "rate_limited")


async def test_the_shortcut_remembers_parsed_queries_and_addresses_within_bounds(
    make_api: Callable[..., ApiHarness], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lobby_routes, "QUERIES_PARSED_MAX", 3)
    monkeypatch.setattr(lobby_routes, "_parsed_queries", {})
    monkeypatch.setattr(shortcut_module, "ADDRESSES_KEPT_MAX", 2)
    api = make_api()
    etag = (await api.client.get("/v1/lobby/tables")).headers["ETag"]
    for n in range(5):  # a refused query is remembered as one only the route answers
        bad = await api.client.get(f"/v1/lobby/tables?limit=-{n}", headers={"If-None-Match": etag})
        assert bad.status_code == 400
        assert len(lobby_routes._parsed_queries) <= 3
    # Remembered per (peer, X-Forwarded-For); the bound forgets them all at once.
    for n in range(4):
        fast = await api.client.get(
            "/v1/lobby/tables",
            headers={"If-None-Match": etag, "X-Forwarded-For": f"203.0.113.{n % 3}"},
        )
        assert fast.status_code == 304
    shortcut = shortcut_of(api)
    assert shortcut.answered == 4 and len(shortcut._addresses) <= 2
    # The test client's peer is no trusted proxy: what it forwards is not believed.
    assert set(shortcut._addresses.values()) == {"<local>"}
