"""``/v1/docs``: Swagger UI over ``/v1/openapi.json``, every file served by this process.

No CDN: the page loads the files of the pinned ``swagger-ui-bundle-v2`` package (Swagger UI's
own distribution) from our routes and starts it from a script file of ours, so its
Content-Security-Policy allows scripts, styles and requests from this origin alone.
"""

from __future__ import annotations

from typing import Final

import trio
from quart import Blueprint, Response

# The admin API's docs page serves the same pinned package: the same files, policy, caching.
from admin.docs_page import (
    ASSETS,
    ASSETS_CACHE_CONTROL,
    DOCS_CSP,
    SWAGGER_UI_DIR,
    SWAGGER_UI_VERSION,
)
from api.problems import ApiProblem

docs_routes = Blueprint("api_docs", __name__)

ASSETS_PATH: Final = f"/v1/docs/swagger-ui/{SWAGGER_UI_VERSION}"
_asset_bytes: dict[str, bytes] = {}  # bound: one entry per name in ASSETS

PAGE: Final = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Tablium API</title>
  <link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
  <link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
  <script src="/v1/docs/start.js"></script>
</body>
</html>
"""

# No validator badge: it would send the spec to a public validation service.
START_JS: Final = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
"""


def _with_policy(response: Response, cache_control: str = "public, max-age=300") -> Response:
    response.headers["Content-Security-Policy"] = DOCS_CSP
    response.headers["Cache-Control"] = cache_control
    return response


@docs_routes.get("/v1/docs")
async def docs() -> Response:
    return _with_policy(Response(PAGE, content_type="text/html; charset=utf-8"))


@docs_routes.get("/v1/docs/start.js")
async def start_script() -> Response:
    return _with_policy(Response(START_JS, content_type="text/javascript; charset=utf-8"))


@docs_routes.get(f"{ASSETS_PATH}/<name>")
async def asset(name: str) -> Response:
    mimetype = ASSETS.get(name)
    if mimetype is None:
        raise ApiProblem("not_found", f"no asset {name!r}")
    content = _asset_bytes.get(name)
    if content is None:  # read once: a few hundred kilobytes, sent whole
        content = _asset_bytes[name] = await trio.Path(SWAGGER_UI_DIR / name).read_bytes()
    return _with_policy(Response(content, content_type=mimetype), ASSETS_CACHE_CONTROL)
