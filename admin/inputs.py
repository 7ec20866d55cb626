"""Every text input of the admin API, checked once, before any route runs.

The path, the query string and a JSON body are the client's text. Whatever a route does with
it later (a name prefix, a ledger key, an audit reason), it must be text both backends store:
PostgreSQL refuses NUL in text, and no UTF-8 encoder takes a lone surrogate (half of a UTF-16
pair, which JSON's ``\\ud800`` escape smuggles in). Refused here, before anything is read or
written, each with a stable code:

- 400 ``invalid_text``: NUL, a lone surrogate, or bytes that are not UTF-8 (percent-encoded
  or not) in the path, the query string, or anywhere in a JSON body (keys included);
- 400 ``duplicate_key``: a JSON object names a key twice (parsers disagree on which one wins:
  we do not guess);
- 400 ``invalid_request``: the body is not JSON, or nests arrays and objects deeper than
  JSON_DEPTH_MAX (checked before parsing: the C parser recurses once per level, and a
  library that raises the interpreter's recursion limit, as py_ecc does at import, would let
  a deep enough body overflow the stack and kill the process);
- 415 ``unsupported_media_type``: a request that carries a body (POST, PUT, PATCH) is not
  ``application/json`` (with no charset, or ``charset=utf-8``).

Pure functions over bytes and strings; admin/app.py calls them from a before-request hook.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final, final
from urllib.parse import unquote_to_bytes

from protocol.textframes import json_depth_exceeds

BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
JSON_MIMETYPE: Final = "application/json"
JSON_DEPTH_MAX: Final = 32  # our bodies nest 3 deep; a body nested deeper is refused unread
# NUL, and any surrogate: a decoded str only holds one when it was unpaired.
_BAD_CHARACTER: Final = re.compile("[\x00\ud800-\udfff]")


@final
class InputRefused(Exception):
    """A request's text or body framing is refused; ``code`` is stable, ``status`` its HTTP
    status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def check_text(text: str, where: str) -> None:
    found = _BAD_CHARACTER.search(text)
    if found is not None:
        character = "NUL" if found.group() == "\x00" else "a lone surrogate"
        raise InputRefused(400, "invalid_text", f"{where}: {character} is not allowed in text")


def check_url_text(raw: bytes, where: str) -> None:
    """A path or query string as sent: percent-decoded, it must be UTF-8 text (strict
    decoding also refuses encoded surrogates) without NUL."""
    try:
        text = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise InputRefused(400, "invalid_text", f"{where}: not UTF-8") from None
    check_text(text, where)


def check_content_type(mimetype: str, params: Mapping[str, str]) -> None:
    charset = params.get("charset", "utf-8").lower()
    if mimetype != JSON_MIMETYPE or charset != "utf-8":
        raise InputRefused(
            415, "unsupported_media_type", f"send the body as {JSON_MIMETYPE} (UTF-8)"
        )


def parse_json_body(data: bytes) -> Any:
    """The body as JSON values, every string checked; raises InputRefused."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputRefused(400, "invalid_text", "body: not UTF-8") from None
    check_text(text, "body")  # a raw NUL, even outside a string
    _check_depth(text)
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except InputRefused:
        raise
    except (ValueError, RecursionError) as exc:  # malformed, or nested past the parser's depth
        raise InputRefused(400, "invalid_request", f"body: not JSON ({exc})") from None
    _check_strings(document)
    return document


def _check_depth(text: str) -> None:
    """Refuse nesting past JSON_DEPTH_MAX; brackets inside strings do not count."""
    if json_depth_exceeds(text, JSON_DEPTH_MAX):
        raise InputRefused(400, "invalid_request", f"body: nested deeper than {JSON_DEPTH_MAX}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InputRefused(400, "duplicate_key", f"body: the key {key!r} appears twice")
            seen.add(key)
    return document


def _no_constant(name: str) -> Any:
    raise InputRefused(400, "invalid_request", f"body: {name} is not JSON")


def _check_strings(document: Any) -> None:
    # Iterative: the parser bounds the depth already; no second recursion limit to hit here.
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            check_text(value, "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                check_text(key, "body")
                pending.append(item)
        elif isinstance(value, list):
            pending.extend(value)
