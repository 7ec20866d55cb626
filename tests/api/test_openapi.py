"""The OpenAPI 3.1 document: every route in it, an example for each, examples that match their
schemas; the docs page and its assets served by us, with nothing from elsewhere."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest

from api.docs_page import ASSETS, ASSETS_PATH
from tests.api.conftest import ApiHarness

METHODS = ("get", "post", "delete")


@pytest.fixture
async def spec(api: ApiHarness) -> dict[str, Any]:
    response = await api.client.get("/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = await response.get_json()
    return document


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method])
        for path, item in spec["paths"].items()
        for method in METHODS
        if method in item
    ]


def check(spec: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> None:
    root = {**schema, "components": spec["components"]}
    errors = list(jsonschema.Draft202012Validator(root).iter_errors(value))
    assert not errors, f"{where}: {errors[0].message}"


async def test_the_spec_is_openapi_3_1_and_names_every_route(
    api: ApiHarness, spec: dict[str, Any]
) -> None:
    assert spec["openapi"] == "3.1.0"
    documented = {(path, method.upper()) for path, method, _ in operations(spec)}
    app = api.client.app
    served = {
        (re.sub(r"<(\w+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if rule.rule.startswith("/v1/")
        and not rule.rule.startswith(("/v1/docs", "/v1/openapi"))
        and method in ("GET", "POST", "DELETE")
    }
    assert documented == served
    assert len(documented) >= 16
    assert len({op["operationId"] for _, _, op in operations(spec)}) == len(documented)


async def test_every_operation_has_examples_that_match_its_schemas(spec: dict[str, Any]) -> None:
    for path, method, operation in operations(spec):
        where = f"{method.upper()} {path}"
        assert operation["summary"] and operation["tags"], where
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert len(success) == 1, where
        response = operation["responses"][success[0]]
        for header in ("X-Request-Id", "RateLimit-Limit", "RateLimit-Remaining"):
            assert header in response["headers"], where
        if "content" in response:
            media = response["content"]["application/json"]
            assert media["example"] is not None, where
            check(spec, media["schema"], media["example"], where)
        else:
            assert success == ["204"], where
        if "requestBody" in operation:
            media = operation["requestBody"]["content"]["application/json"]
            check(spec, media["schema"], media["example"], f"{where} body")
        for code, refusal in operation["responses"].items():
            if code.startswith("4") or code.startswith("5"):
                media = refusal["content"]["application/problem+json"]
                assert media["examples"], where
                for example in media["examples"].values():
                    check(spec, media["schema"], example["value"], f"{where} {code}")
                    assert example["value"]["status"] == int(code)


async def test_routes_state_their_scope_and_idempotency(spec: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for _, _, op in operations(spec)}
    assert by_id["createTransfer"]["security"] == [{"bearer": ["wallet:write"]}]
    assert by_id["listTables"]["security"] == [{}, {"bearer": ["lobby:read"]}]
    assert by_id["login"]["security"] == []
    headers = {p["name"]: p for p in by_id["createTransfer"]["parameters"] if p["in"] == "header"}
    assert headers["Idempotency-Key"]["required"] is True
    assert "422" in by_id["createTransfer"]["responses"]
    assert "304" in by_id["listTables"]["responses"]
    assert "ETag" in by_id["listTables"]["responses"]["200"]["headers"]
    assert "429" in by_id["login"]["responses"]
    link = by_id["createTransfer"]["responses"]["201"]["links"]["GetTransfer"]
    assert link["operationId"] == "getTransfer"


async def test_the_docs_page_loads_only_our_own_files(api: ApiHarness) -> None:
    page = await api.client.get("/v1/docs")
    html = await page.get_data(as_text=True)
    assert (
        page.status_code == 200 and "default-src 'none'" in page.headers["Content-Security-Policy"]
    )
    assert "http" not in html and "//" not in html.replace("</", "")  # no other origin
    for name in ASSETS:
        assert f"{ASSETS_PATH}/{name}" in html
        asset = await api.client.get(f"{ASSETS_PATH}/{name}")
        assert asset.status_code == 200 and len(await asset.get_data()) > 100
    start = await api.client.get("/v1/docs/start.js")
    assert "/v1/openapi.json" in await start.get_data(as_text=True)
    assert (await api.client.get(f"{ASSETS_PATH}/index.html")).status_code == 404
