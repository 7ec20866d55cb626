"""``/docs``: Swagger UI over ``/openapi.json``, every file served by this process.

quart-schema's own pages load Swagger UI, ReDoc and Scalar from public CDNs, which an admin
server without internet cannot show, and run an inline script, which a strict
Content-Security-Policy forbids. This page loads the pinned ``swagger-ui-bundle-v2`` package's
files (Swagger UI's own distribution) from our routes, and starts it from a script file of
ours, so its policy allows scripts, styles and requests from this origin alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import trio
from quart import Blueprint, Response
from quart_schema import hide
from swagger_ui_bundle import swagger_ui_path

from admin.auth import error

docs_routes = Blueprint("docs", __name__)

SWAGGER_UI_DIR: Final = Path(str(swagger_ui_path))
SWAGGER_UI_VERSION: Final = SWAGGER_UI_DIR.name.removeprefix("swagger-ui-")
ASSETS_PATH: Final = f"/docs/swagger-ui/{SWAGGER_UI_VERSION}"
# The files the page needs, and nothing else of the package's directory.
ASSETS: Final = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
_asset_bytes: dict[str, bytes] = {}  # bound: one entry per name in ASSETS

# Swagger UI draws its icons as data: images and fetches the spec (and "try it out" requests)
# from this origin; nothing else is allowed, not even to frame the page.
DOCS_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The assets' URLs name the Swagger UI version, so a browser may keep them.
ASSETS_CACHE_CONTROL: Final = "public, max-age=86400, immutable"

PAGE: Final = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Tablium admin API</title>
  <link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
  <link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
  <script src="/docs/start.js"></script>
</body>
</html>
"""

# No validator badge: it would send the spec to a public validation service.
START_JS: Final = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
"""


def _with_policy(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@docs_routes.get("/docs")
@hide
async def docs() -> Response:
    """Swagger UI for this API."""
    return _with_policy(Response(PAGE, content_type="text/html; charset=utf-8"))


@docs_routes.get("/docs/start.js")
@hide
async def start_script() -> Response:
    return _with_policy(Response(START_JS, content_type="text/javascript; charset=utf-8"))


@docs_routes.get(f"{ASSETS_PATH}/<name>")
@hide
async def asset(name: str) -> Any:
    mimetype = ASSETS.get(name)
    if mimetype is None:
        return error(404, "not_found", f"no asset {name!r}")
    content = _asset_bytes.get(name)
    if content is None:  # read once: a few hundred kilobytes, sent whole
        content = _asset_bytes[name] = await trio.Path(SWAGGER_UI_DIR / name).read_bytes()
    response = Response(content, content_type=mimetype)
    response.headers["Cache-Control"] = ASSETS_CACHE_CONTROL
    return _with_policy(response)
