"""admin/inputs.py on its own: what text passes, what is refused and with which code."""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import quote_from_bytes, unquote_to_bytes

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admin.inputs import (
    JSON_DEPTH_MAX,
    InputRefused,
    check_content_type,
    check_url_text,
    parse_json_body,
)

BAD_CHARACTERS = st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"])
CLEAN_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | CLEAN_TEXT
)
DOCUMENTS = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(CLEAN_TEXT, inner, max_size=4),
    max_leaves=20,
)


def _refused(call: Any, code: str, status: int = 400) -> None:
    with pytest.raises(InputRefused) as refused:
        call()
    assert (refused.value.code, refused.value.status) == (code, status)


@given(DOCUMENTS, st.booleans())
def test_clean_json_passes_unchanged(document: Any, ascii_only: bool) -> None:
    body = json.dumps(document, ensure_ascii=ascii_only).encode()
    assert parse_json_body(body) == document


def _strings(document: Any) -> int:
    if isinstance(document, str):
        return 1
    if isinstance(document, list):
        return sum(map(_strings, document))
    if isinstance(document, dict):
        return len(document) + sum(map(_strings, document.values()))
    return 0


def _poison(document: Any, target: int, bad: str) -> tuple[Any, int]:
    """The document with ``bad`` added to its ``target``-th string (keys count)."""
    if isinstance(document, str):
        return (document + bad if target == 0 else document), target - 1
    if isinstance(document, list):
        items = []
        for item in document:
            item, target = _poison(item, target, bad)
            items.append(item)
        return items, target
    if isinstance(document, dict):
        poisoned = {}
        for key, value in document.items():
            if target == 0:
                key = key + bad
            target -= 1
            value, target = _poison(value, target, bad)
            poisoned[key] = value
        return poisoned, target
    return document, target


@given(DOCUMENTS.filter(lambda d: _strings(d) > 0), st.data(), BAD_CHARACTERS, st.booleans())
def test_a_nul_or_lone_surrogate_in_any_string_or_key_is_invalid_text(
    document: Any, data: st.DataObject, bad: str, escaped: bool
) -> None:
    target = data.draw(st.integers(0, _strings(document) - 1))
    poisoned, _ = _poison(document, target, bad)
    body = json.dumps(poisoned, ensure_ascii=escaped).encode("utf-8", "surrogatepass")
    _refused(lambda: parse_json_body(body), "invalid_text")


@given(st.binary(max_size=64))
def test_url_text_passes_only_as_clean_utf8(raw: bytes) -> None:
    encoded = quote_from_bytes(raw).encode()
    try:
        check_url_text(encoded, "path")
    except InputRefused as refused:
        assert refused.code == "invalid_text"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return
        assert "\x00" in text
    else:
        text = unquote_to_bytes(encoded).decode("utf-8")
        assert "\x00" not in text


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": 1, "a": 2}',
        b'{"x": {"b": true, "b": true}}',
        b'[{"k": 1}, {"k": 1, "k": 1}]',
    ],
)
def test_a_key_named_twice_is_refused(body: bytes) -> None:
    _refused(lambda: parse_json_body(body), "duplicate_key")


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b'{"a": NaN}', b'{"a": Infinity}', b"[" * 100_000 + b"]" * 100_000, b"1" * 5000],
)
def test_what_is_not_json_is_an_invalid_request(body: bytes) -> None:
    _refused(lambda: parse_json_body(body), "invalid_request")


@pytest.mark.parametrize(
    ("mimetype", "params", "accepted"),
    [
        ("application/json", {}, True),
        ("application/json", {"charset": "utf-8"}, True),
        ("application/json", {"charset": "UTF-8"}, True),
        ("application/json", {"charset": "latin-1"}, False),
        ("text/plain", {}, False),
        ("", {}, False),
        ("application/x-www-form-urlencoded", {}, False),
        ("multipart/form-data", {}, False),
    ],
)
def test_only_utf8_json_bodies_are_supported(
    mimetype: str, params: dict[str, str], accepted: bool
) -> None:
    if accepted:
        check_content_type(mimetype, params)
    else:
        _refused(lambda: check_content_type(mimetype, params), "unsupported_media_type", 415)


def test_deep_nesting_is_refused_before_the_parser_sees_it() -> None:
    # py_ecc (the chain extra) raises the recursion limit to 100,000 at import: json's C
    # parser then overflowed the stack on a deep body and the whole process died (SIGSEGV).
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        _refused(lambda: parse_json_body(b"[" * 100_000 + b"]" * 100_000), "invalid_request")
    finally:
        sys.setrecursionlimit(limit)
    deep = b"[" * (JSON_DEPTH_MAX + 1) + b"]" * (JSON_DEPTH_MAX + 1)
    _refused(lambda: parse_json_body(deep), "invalid_request")
    just_deep_enough = b"[" * JSON_DEPTH_MAX + b"]" * JSON_DEPTH_MAX
    assert parse_json_body(just_deep_enough) is not None
    brackets_in_a_string = b'{"reason": "' + b"[" * 100 + b'"}'
    assert parse_json_body(brackets_in_a_string) == {"reason": "[" * 100}
