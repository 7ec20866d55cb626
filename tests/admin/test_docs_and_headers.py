"""Security headers on every answer, /docs served from this process under a strict CSP, and
the optional /metrics token."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest

from admin.docs_page import SWAGGER_UI_DIR
from server.config import ConfigError, Settings, load_settings
from tests.admin.conftest import bearer

ADMIN = bearer("admin")
METRICS_TOKEN = "scrape-" + "m" * 24
# npm's swagger-ui-dist 5.31.0, the release the pinned swagger-ui-bundle-v2 ships.
SWAGGER_UI_DIST_SHA256 = {
    "swagger-ui-bundle.js": "93b7b0862a80e2786f85b560be7693c2344354ffa7e7e224f850a54349724c31",
    "swagger-ui.css": "9e576f8322132c76949da47f9bb53c891373c303ea3a761ff548ffc9de50a98c",
}


class _References(HTMLParser):
    """Every URL the page loads, and the body of any inline script."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name):
                self.urls.append(str(found[name]))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def _policy(header: str) -> dict[str, set[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: set(values) for name, *values in directives}


async def test_docs_page_loads_every_asset_from_this_server(
    make_client: Callable[..., Any],
) -> None:
    client = make_client()
    page = await client.get("/docs")
    assert page.status_code == 200
    references = _References()
    references.feed((await page.get_data()).decode())
    assert references.inline_scripts == [], "the CSP allows no inline script"
    assert len(references.urls) >= 3
    started = False
    for url in references.urls:
        assert url.startswith("/") and not url.startswith("//"), f"{url} is not ours"
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert await asset.get_data(), url
        assert asset.headers["X-Content-Type-Options"] == "nosniff"
        if url.endswith(".js"):
            assert asset.mimetype == "text/javascript", url
            script = (await asset.get_data()).decode()
            if "SwaggerUIBundle(" in script and url == "/docs/start.js":
                started = '"/openapi.json"' in script
    assert started, "the page starts Swagger UI on this server's spec"
    spec = await client.get("/openapi.json")
    assert spec.status_code == 200 and (await spec.get_json())["openapi"].startswith("3.1")


async def test_docs_page_has_a_strict_content_security_policy(
    make_client: Callable[..., Any],
) -> None:
    page = await make_client().get("/docs")
    policy = _policy(page.headers["Content-Security-Policy"])
    assert policy["default-src"] == {"'none'"}
    assert policy["script-src"] == {"'self'"}
    assert policy["style-src"] == {"'self'"}
    assert policy["connect-src"] == {"'self'"}
    assert policy["img-src"] == {"'self'", "data:"}
    assert policy["frame-ancestors"] == {"'none'"}
    everything = {value for values in policy.values() for value in values}
    assert not {v for v in everything if "unsafe" in v or "http" in v or v == "*"}


def test_swagger_ui_files_are_swagger_ui_dist_as_released() -> None:
    for name, digest in SWAGGER_UI_DIST_SHA256.items():
        assert hashlib.sha256((SWAGGER_UI_DIR / name).read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("path", ["/redocs", "/scalar", "/docs/swagger-ui/5.31.0/index.html"])
async def test_pages_that_need_a_cdn_or_unlisted_files_are_not_served(
    make_client: Callable[..., Any], path: str
) -> None:
    assert (await make_client().get(path)).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/info", None, 200),
        ("GET", "/players?q=a", None, 200),
        ("GET", "/players/999", None, 404),
        ("POST", "/players/999/ban", {"reason": "x"}, 404),
        ("GET", "/audit?limit=0", None, 400),
    ],
)
async def test_authenticated_answers_are_never_cached_nor_sniffed(
    make_client: Callable[..., Any], method: str, path: str, body: Any, status: int
) -> None:
    response = await make_client().open(path, method=method, headers=ADMIN, json=body)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert _policy(response.headers["Content-Security-Policy"])["default-src"] == {"'none'"}
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/healthz", "/info", "/no-such-route", "/metrics"])
async def test_every_answer_carries_the_security_headers(
    make_client: Callable[..., Any], path: str
) -> None:
    response = await make_client().get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


async def test_metrics_are_open_without_a_token_setting(make_client: Callable[..., Any]) -> None:
    response = await make_client().get("/metrics")
    assert response.status_code == 200
    assert b"tablium_http_request_duration_seconds" in await response.get_data()


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "not_authenticated"),
        ("Bearer wrong-token-of-some-length", "token_invalid"),
        (f"Basic {METRICS_TOKEN}", "not_authenticated"),
        (f"Bearer {METRICS_TOKEN}x", "token_invalid"),
    ],
)
async def test_metrics_need_the_configured_token(
    make_client: Callable[..., Any], authorization: str | None, code: str
) -> None:
    client = make_client(settings=Settings(metrics_token=METRICS_TOKEN))
    headers = {} if authorization is None else {"Authorization": authorization}
    refused = await client.get("/metrics", headers=headers)
    assert refused.status_code == 401
    assert (await refused.get_json())["error"] == code
    allowed = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert allowed.status_code == 200
    assert b"tablium_http_request_duration_seconds" in await allowed.get_data()


def test_metrics_token_setting_is_read_and_checked() -> None:
    assert load_settings({}).metrics_token == ""
    settings = load_settings({"TABLIUM_METRICS_TOKEN": METRICS_TOKEN})
    assert settings.metrics_token == METRICS_TOKEN
    for bad in ("short", "has a space in it, long enough", "t\u00e9l\u00e9m\u00e9trie-token-abc"):
        with pytest.raises(ConfigError, match="TABLIUM_METRICS_TOKEN"):
            load_settings({"TABLIUM_METRICS_TOKEN": bad})


async def test_every_reference_in_the_spec_resolves(make_client: Callable[..., Any]) -> None:
    spec = await (await make_client().get("/openapi.json")).get_json()
    pending: list[Any] = [spec]
    references: list[str] = []
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                references.append(node["$ref"])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    assert "#/components/schemas/Variant" in references  # POST /tables' variant
    for reference in references:
        target: Any = spec
        for part in reference.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict) and target, reference
