"""What every request gets: rate limits and their headers, request ids, CORS, body limits,
strict input, problems for unknown routes and methods, scopes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from api.ratelimit import RateLimits, tightest
from tests.api.conftest import PASSWORD, ApiHarness
from tests.api.test_auth_flows import problem


async def test_every_response_carries_rate_limit_headers_and_a_request_id(
    api: ApiHarness,
) -> None:
    response = await api.client.get("/v1/lobby/tables")
    assert response.headers["RateLimit-Limit"] == "240"
    assert response.headers["RateLimit-Remaining"] == "239"
    assert int(response.headers["RateLimit-Reset"]) >= 0
    assert len(response.headers["X-Request-Id"]) == 16
    missing = await api.client.get("/v1/nowhere")
    assert "RateLimit-Remaining" in missing.headers and "X-Request-Id" in missing.headers


async def test_a_clients_request_id_is_kept_when_it_is_a_short_token(api: ApiHarness) -> None:
    kept = await api.client.get("/v1/lobby/tables", headers={"X-Request-Id": "trace-42.a_b"})
    assert kept.headers["X-Request-Id"] == "trace-42.a_b"
    replaced = await api.client.get("/v1/lobby/tables", headers={"X-Request-Id": "a b\x7f"})
    assert replaced.headers["X-Request-Id"] != "a b\x7f"


async def test_an_address_over_its_limit_gets_429_with_retry_after(
    make_api: Callable[..., ApiHarness],
) -> None:
    api = make_api(api_rate_ip_burst_requests=3, api_rate_ip_refill_per_s=1)
    for remaining in (2, 1, 0):
        ok = await api.client.get("/v1/lobby/tables")
        assert ok.status_code == 200 and ok.headers["RateLimit-Remaining"] == str(remaining)
    refused = await api.client.get("/v1/lobby/tables")
    body = await problem(refused, 429, "rate_limited")
    assert refused.headers["Retry-After"] == "1" and body["retry_after_s"] == 1
    assert refused.headers["RateLimit-Remaining"] == "0"


async def test_a_credential_has_its_own_bucket(make_api: Callable[..., ApiHarness]) -> None:
    api = make_api(api_rate_burst_requests=2, api_rate_refill_per_s=1)
    tokens = await api.register("alice")
    for _ in range(2):
        assert (await api.client.get("/v1/me", headers=api.bearer(tokens))).status_code == 200
    refused = await api.client.get("/v1/me", headers=api.bearer(tokens))
    await problem(refused, 429, "rate_limited")
    anonymous = await api.client.get("/v1/lobby/tables")  # the address still has room
    assert anonymous.status_code == 200


async def test_login_and_registration_have_a_stricter_limit(
    make_api: Callable[..., ApiHarness],
) -> None:
    api = make_api(api_auth_requests_per_min=2)
    await api.register("alice")
    await api.client.post("/v1/auth/login", json={"name": "alice", "password": PASSWORD})
    refused = await api.client.post("/v1/auth/login", json={"name": "alice", "password": PASSWORD})
    await problem(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await api.client.get("/v1/lobby/tables")).status_code == 200


def test_the_tightest_quota_is_the_one_reported() -> None:
    limits = RateLimits(
        address_burst=10,
        address_refill_per_s=1,
        credential_burst=2,
        credential_refill_per_s=1,
        auth_per_min=60,
    )
    address = limits.address("a", 0.0)
    credential = limits.credential("c", 0.0)
    assert tightest([address, credential]) == credential
    assert (credential.limit, credential.remaining, credential.reset_s) == (2, 1, 1)
    limits.credential("c", 0.0)
    refused = limits.credential("c", 0.0)
    assert refused.refused and tightest([address, refused]) == refused
    assert limits.credential("c", 1.0).refused is False  # refilled after a second


async def test_cors_allows_listed_origins_only(make_api: Callable[..., ApiHarness]) -> None:
    api = make_api(api_cors_origins=("https://play.example.com",))
    allowed = await api.client.get(
        "/v1/lobby/tables", headers={"Origin": "https://play.example.com"}
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://play.example.com"
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    assert "Origin" in allowed.headers["Vary"]
    other = await api.client.get("/v1/lobby/tables", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = await api.client.options(
        "/v1/wallet/transfers",
        headers={
            "Origin": "https://play.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, idempotency-key",
        },
    )
    assert preflight.status_code == 204
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://play.example.com"
    refused = await api.client.options(
        "/v1/wallet/transfers",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Methods" not in refused.headers


async def test_a_body_over_the_limit_is_refused_with_413(
    make_api: Callable[..., ApiHarness],
) -> None:
    api = make_api(api_body_bytes_max=256)
    response = await api.client.post(
        "/v1/auth/login", json={"name": "alice", "password": "p" * 300}
    )
    await problem(response, 413, "body_too_large")


async def test_bodies_must_be_json(api: ApiHarness) -> None:
    form = await api.client.post("/v1/auth/login", form={"name": "alice", "password": PASSWORD})
    await problem(form, 415, "unsupported_media_type")
    broken = await api.client.post(
        "/v1/auth/login", data="{not json", headers={"Content-Type": "application/json"}
    )
    await problem(broken, 400, "invalid_request")
    surrogate = await api.client.post(
        "/v1/auth/login",
        data='{"name": "\\ud800", "password": "x"}',
        headers={"Content-Type": "application/json"},
    )
    await problem(surrogate, 400, "invalid_text")
    twice = await api.client.post(
        "/v1/auth/login",
        data='{"name": "alice", "name": "admin", "password": "x"}',
        headers={"Content-Type": "application/json"},
    )
    await problem(twice, 400, "duplicate_key")
    query = await api.client.get("/v1/lobby/tables?variant=%00")
    await problem(query, 400, "invalid_text")
    # Counted against the address like any request, and says so (the spec's headers).
    assert all(name in query.headers for name in ("RateLimit-Limit", "RateLimit-Reset"))


async def test_unknown_routes_and_methods_are_problems(api: ApiHarness) -> None:
    await problem(await api.client.get("/v1/nothing/here"), 404, "not_found")
    wrong = await api.client.put("/v1/wallet")
    await problem(wrong, 405, "method_not_allowed")
    assert "GET" in wrong.headers["Allow"]


async def test_a_route_without_a_body_refuses_one(api: ApiHarness) -> None:
    tokens = await api.register("alice")
    response = await api.client.post(
        "/v1/auth/logout", json={"all": True}, headers=api.bearer(tokens)
    )
    await problem(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "path", ["/v1/players/%00", "/v1/me/hands/a%00b", "/v1/players/9223372036854775808"]
)
async def test_path_parameters_are_checked(api: ApiHarness, path: str) -> None:
    tokens = await api.register("alice")
    response = await api.client.get(path, headers=api.bearer(tokens))
    assert response.status_code in (400, 404)
    assert response.headers["Content-Type"] == "application/problem+json"


async def test_a_failure_of_ours_is_a_problem_with_the_request_id(api: ApiHarness) -> None:
    async def broken(_variant: object, _big_blind: object) -> tuple[()]:
        raise RuntimeError("boom")

    api.context.listings._source = broken  # type: ignore[assignment]
    response = await api.client.get("/v1/lobby/tables?variant=FT")
    body = await problem(response, 500, "internal_error")
    assert response.headers["X-Request-Id"] in body["detail"]
