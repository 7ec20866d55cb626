"""Conditional GETs answered from the cache, in front of the framework.

A client polling a cacheable resource with the ETag it holds gets its 304 here when that ETag
is the current one of an answer already encoded and still fresh (today: the lobby pages that
api/lobby.py keeps): no request object, no routing, no handler run. That is the work a 304
exists to save; through the whole app a 304 costs nearly what a 200 does.

Everything a 304 owes its client is still done here: the per-address rate limit and its
headers, the request id, the headers of the app's own 304 (ETag, Cache-Control, Vary,
nosniff), the access-log line and the latency metric. Anything else goes to the app, which
answers as always: a credential (it must be checked), an Origin (CORS), a query the route
would refuse, a page not cached or not fresh, an address over its limit.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, final

import structlog
import trio

from api.context import ApiContext
from api.ratelimit import Quota
from server.handshake import client_address

# A resource's current ETag and Cache-Control for a query string, or None: ask the app.
CurrentTag = Callable[[ApiContext, bytes], tuple[str, str] | None]
Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_PASSING_HEADERS: Final = frozenset({b"authorization", b"origin"})
REQUEST_ID_CHARS_MAX: Final = 64
# Client addresses found from (peer, X-Forwarded-For values): parsing them is a good part of a
# 304's own cost, and pollers repeat. Bound: ADDRESSES_KEPT_MAX; overflow: forgotten at once.
ADDRESSES_KEPT_MAX: Final = 4096
_REQUEST_ID_BYTES: Final = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
)

access_log = structlog.get_logger("tablium.api.access")


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison of If-None-Match's list (or ``*``) with our ETag."""
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


def rate_headers(quota: Quota) -> list[tuple[bytes, bytes]]:
    return [
        (b"ratelimit-limit", str(quota.limit).encode()),
        (b"ratelimit-remaining", str(quota.remaining).encode()),
        (b"ratelimit-reset", str(quota.reset_s).encode()),
    ]


def _request_id(supplied: bytes | None) -> str:
    if (
        supplied
        and len(supplied) <= REQUEST_ID_CHARS_MAX
        and all(byte in _REQUEST_ID_BYTES for byte in supplied)
    ):
        return supplied.decode()
    return secrets.token_hex(8)


@final
class NotModifiedShortcut:
    """ASGI middleware: 304s from the cache for the paths of ``current_tags``."""

    def __init__(
        self,
        app: Any,  # the ASGI app behind (quart's asgi_app)
        context: ApiContext,
        current_tags: Mapping[str, CurrentTag],
        observe: Callable[[str, float], None],
    ) -> None:
        self._app = app
        self._context = context
        self._current_tags = current_tags
        self._observe = observe  # (route, seconds): the app's latency histogram
        self._logging = logging.getLogger("tablium.api.access").isEnabledFor(logging.INFO)
        self.answered = 0  # 304s sent from here (tests, metrics)
        self._addresses: dict[tuple[str, tuple[str, ...]], str] = {}

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if not await self._answered(scope, send):
            await self._app(scope, receive, send)

    def _address(self, peer: str, forwarded: tuple[str, ...]) -> str:
        """client_address, remembered (it depends on nothing else: the trusted proxies are
        fixed for the process)."""
        key = (peer, forwarded)
        found = self._addresses.get(key)
        if found is None:
            found = client_address(peer, forwarded, self._context.trusted_proxies)
            if len(self._addresses) >= ADDRESSES_KEPT_MAX:
                self._addresses.clear()
            self._addresses[key] = found
        return found

    async def _answered(self, scope: Scope, send: Send) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET":
            return False
        current_tag = self._current_tags.get(scope["path"])
        if current_tag is None:
            return False
        started_s = time.perf_counter()
        if_none_match = request_id = None
        forwarded: list[str] = []
        for name, value in scope["headers"]:
            if name in _PASSING_HEADERS:
                return False
            if name == b"if-none-match":
                if if_none_match is not None:
                    return False
                if_none_match = value.decode("latin-1")
            elif name == b"x-request-id":
                request_id = value
            elif name == b"x-forwarded-for":
                forwarded.append(value.decode("latin-1"))
        if if_none_match is None:
            return False
        found = current_tag(self._context, scope["query_string"])
        if found is None or not etag_matches(if_none_match, found[0]):
            return False
        context = self._context
        peer = (scope.get("client") or ["<local>"])[0]  # as quart's request.remote_addr
        address = self._address(peer, tuple(forwarded))
        quota = context.rate_limits.address(address, trio.current_time())
        if quota.refused:  # the app answers the 429 (its tokens were taken here)
            return False
        etag, cache_control = found
        rid = _request_id(request_id)
        await send(
            {
                "type": "http.response.start",
                "status": 304,
                "headers": [
                    (b"etag", etag.encode()),
                    (b"cache-control", cache_control.encode()),
                    (b"x-request-id", rid.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    *rate_headers(quota),
                    (b"vary", b"Origin"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        self.answered += 1
        elapsed_s = time.perf_counter() - started_s
        self._observe(scope["path"], elapsed_s)
        if self._logging:
            access_log.info(
                "request", method="GET", path=scope["path"], route=scope["path"], status=304,
                duration_ms=round(elapsed_s * 1000, 3), bytes=0, address=address,
                principal=None, request_id=rid, shortcut=True,
            )  # fmt: skip
        return True
