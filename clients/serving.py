"""Serving the browser client: static files under ``/client/``, from this package's folders.

One blueprint, registered by both HTTP apps: the public API's listener serves the players'
pages (the address ``tablium serve`` prints to play at), the admin listener serves them and
the director dashboard (``director.*``), which must be same-origin with the admin API it
calls; the API's listener refuses the dashboard's files.

Mounts (URL under /client/ -> folder):

- ``sdk/...``    -> clients/js/src (the SDK, the same ES modules Node.js imports)
- ``vendor/...`` -> clients/web/vendor (msgpack, vendored from npm)
- everything else -> clients/web (pages, scripts, styles)

Only files with a known suffix are served, never a path outside its folder (a symlink out
included), and never more than FILE_BYTES_MAX; every refusal is a 404 with the admin app's
error body. ``/client/config.json`` tells the pages where the websocket listens.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import trio
from quart import Blueprint, Response, redirect
from quart_schema import hide

PREFIX: Final = "/client"
PACKAGE_DIR: Final = Path(__file__).resolve().parent
WEB_DIR: Final = PACKAGE_DIR / "web"
MOUNTS: Final = (("sdk/", PACKAGE_DIR / "js" / "src"), ("", WEB_DIR))
FILE_BYTES_MAX: Final = 1024 * 1024  # the largest static file served; bigger: 404
PATH_CHARS_MAX: Final = 256
CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
_INLINE_SCRIPT: Final = re.compile(r"<script[^>]*>(.*?)</script>", re.S)


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions ('sha256-...') for the inline scripts of a page (its import
    map): the only inline script the pages have, allowed by its hash, not 'unsafe-inline'."""
    hashes = []
    for body in _INLINE_SCRIPT.findall(html):
        if body.strip():
            digest = hashlib.sha256(body.encode()).digest()
            hashes.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    return hashes


def content_security_policy() -> str:
    """The pages' policy: our own files only, the import maps by hash, websockets anywhere
    (the gateway listens on another port, chosen at start: 'self' does not cover it)."""
    scripts = sorted(
        {h for page in WEB_DIR.glob("*.html") for h in inline_script_hashes(page.read_text())}
    )
    return "; ".join(
        (
            "default-src 'none'",
            " ".join(("script-src 'self'", *scripts)),
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self' ws: wss:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


HEADERS: Final = {
    "Cache-Control": "no-cache",  # revalidate: a server upgrade must not mix old and new files
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # The admin app's answers carry a CSP that forbids every script; these pages need theirs.
    "Content-Security-Policy": content_security_policy(),
}


DIRECTOR_FILES: Final = "director."  # the dashboard's files: director.html, director.mjs


def resolve_static(path: str, *, director: bool = True) -> Path | None:
    """The file that ``/client/<path>`` names, or None when nothing may be served for it
    (``director``: whether the dashboard's files may be)."""
    if len(path) > PATH_CHARS_MAX or "\x00" in path or "\\" in path:
        return None
    if not director and path.rsplit("/", 1)[-1].startswith(DIRECTOR_FILES):
        return None
    for prefix, folder in MOUNTS:
        if not path.startswith(prefix):
            continue
        relative = path[len(prefix) :] or "index.html"
        if relative.endswith("/"):
            relative += "index.html"
        parts = relative.split("/")
        if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
            return None
        candidate = folder.joinpath(*parts)
        if candidate.suffix not in CONTENT_TYPES:
            return None
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(folder) or not resolved.is_file():
            return None
        return resolved
    return None


def web_client_blueprint(
    ws_port: int, *, director: bool = True, not_found: Callable[[], Any] | None = None
) -> Blueprint:
    """The routes of the browser client. ``ws_port``: the websocket port the pages connect
    to by default (0: unknown until the gateway binds; the pages then need ``?ws=URL``).
    ``director``: serve the director dashboard too (the admin listener only). ``not_found``:
    the app's own 404 answer (default: the admin app's body)."""
    blueprint = Blueprint("web_client", __name__)
    refuse = not_found or _not_found

    # Files, not API: kept out of the admin app's OpenAPI spec (and so out of its fuzzing).
    @blueprint.get(PREFIX)
    @hide
    async def client_root() -> Any:
        return redirect(f"{PREFIX}/")

    @blueprint.get(f"{PREFIX}/config.json")
    @hide
    async def client_config() -> Any:
        return {"ws_port": ws_port or None}

    @blueprint.get(f"{PREFIX}/", defaults={"path": ""})
    @blueprint.get(f"{PREFIX}/<path:path>")
    @hide
    async def client_file(path: str) -> Any:
        found = resolve_static(path, director=director)
        if found is None:
            return refuse()
        data = await trio.Path(found).read_bytes()
        if len(data) > FILE_BYTES_MAX:
            return refuse()
        return Response(data, content_type=CONTENT_TYPES[found.suffix], headers=HEADERS)

    return blueprint


def _not_found() -> Any:
    # The admin app's refusal body, {"error", "message"} (admin/auth.py error()).
    return {"error": "not_found", "message": "no such file"}, 404
