"""deploy/kong/kong.yaml agrees with the server: its port, its tokens, its routes, its bounds.

No Kong runs here; these checks read the file and hold it to what Tablium does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from api.routes import all_routes
from server.auth import TOKEN_ALGORITHM, TOKEN_ISSUER, TOKEN_TTL_S
from server.config import Settings

KONG = Path(__file__).resolve().parents[2] / "deploy" / "kong" / "kong.yaml"
# Plugins bundled with Kong 3 that this file may use.
BUNDLED = {"rate-limiting", "jwt", "correlation-id", "request-size-limiting"}


@pytest.fixture(scope="module")
def kong() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(KONG.read_text())
    return document


def routes(kong: dict[str, Any]) -> list[dict[str, Any]]:
    (service,) = kong["services"]
    found: list[dict[str, Any]] = service["routes"]
    return found


def test_it_fronts_the_api_port_in_kongs_declarative_format(kong: dict[str, Any]) -> None:
    assert kong["_format_version"] == "3.0"
    (service,) = kong["services"]
    assert service["url"].endswith(f":{Settings().api_port}")
    plugins = [p for route in routes(kong) for p in route.get("plugins", ())] + kong["plugins"]
    assert {p["name"] for p in plugins} <= BUNDLED


def test_its_jwt_check_is_the_servers(kong: dict[str, Any]) -> None:
    (consumer,) = kong["consumers"]
    (secret,) = consumer["jwt_secrets"]
    assert (secret["key"], secret["algorithm"]) == (TOKEN_ISSUER, TOKEN_ALGORITHM)
    assert "TABLIUM_JWT_SECRET" in KONG.read_text() and secret["secret"].startswith("{vault://")
    (jwt,) = [p for r in routes(kong) for p in r.get("plugins", ()) if p["name"] == "jwt"]
    assert jwt["config"]["key_claim_name"] == "iss"
    assert jwt["config"]["maximum_expiration"] == TOKEN_TTL_S


def _route_for(kong: dict[str, Any], path: str, api_key: bool) -> str:
    """The route Kong picks: the longest matching path prefix, header matches first."""
    candidates = []
    for route in routes(kong):
        wants_key = "headers" in route
        if wants_key and not api_key:
            continue
        for prefix in route["paths"]:
            if path.startswith(prefix):
                candidates.append((wants_key, len(prefix), route["name"]))
    assert candidates, path
    return max(candidates)[2]


def test_every_route_of_the_spec_reaches_the_server(kong: dict[str, Any]) -> None:
    auth_limited = set()  # the spec is built from these same route tables
    for table in all_routes():
        for operation in table.entries:
            op = operation[0]
            path = re.sub(r"\{\w+\}", "x", op.path)
            chosen = _route_for(kong, path, api_key=False)
            if op.auth_limited:
                auth_limited.add(path)
                assert chosen == "tablium-auth", path
            elif op.auth == "optional":
                assert chosen == "tablium-public", path
            else:
                assert chosen == "tablium-tokens", path
            assert _route_for(kong, path, api_key=True) in (
                "tablium-api-keys", "tablium-public", "tablium-auth",
            )  # fmt: skip
    assert auth_limited == {"/v1/auth/register", "/v1/auth/login", "/v1/auth/refresh"}


def test_its_bounds_are_the_servers(kong: dict[str, Any]) -> None:
    settings = Settings()
    (size,) = [p for p in kong["plugins"] if p["name"] == "request-size-limiting"]
    assert size["config"]["allowed_payload_size"] * 1024 == settings.api_body_bytes_max
    (auth,) = [r for r in routes(kong) if r["name"] == "tablium-auth"]
    (limit,) = auth["plugins"]
    assert limit["config"]["minute"] == settings.api_auth_requests_per_min
    assert msgspec.json.encode(kong)  # plain data: nothing YAML-only
