"""JSON text frames (tablium.json.v1): the same messages, limits and answers as msgpack."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.codec import (
    FRAME_BYTES_MAX,
    NESTING_DEPTH_MAX,
    RequestDecoder,
    ServerMessageDecoder,
    encode,
)
from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.messages import Event, PushBody, Request, ServerMessage
from protocol.textframes import (
    DEFAULT_ENCODING,
    Encoding,
    choose_encoding,
    json_depth_exceeds,
    msgpack_to_json_text,
)
from tests.protocol.test_codec import sample
from tests.protocol.test_codec_fuzz import message_like


def _structs(union: object) -> list[msgspec.inspect.StructType]:
    info = msgspec.inspect.type_info(union)
    assert isinstance(info, msgspec.inspect.UnionType)
    return [t for t in info.types if isinstance(t, msgspec.inspect.StructType)]


def _every_server_message() -> list[Any]:
    messages: list[Any] = []
    for variant in (0, 1):
        for info in _structs(ServerMessage):
            if info.cls is not Event:
                messages.append(sample(info, variant))
        for body in _structs(PushBody):
            messages.append(Event(seq=1 + variant, body=sample(body, variant)))
    return messages


def _every_request() -> list[Any]:
    return [sample(info, variant) for variant in (0, 1) for info in _structs(Request)]


@pytest.mark.parametrize("message", _every_server_message(), ids=lambda m: type(m).__name__)
def test_every_server_message_survives_the_trip_through_json_text(message: Any) -> None:
    text = msgpack_to_json_text(encode(message))
    assert json.loads(text)["type"] == msgspec.to_builtins(message)["type"]
    assert ServerMessageDecoder().decode_text(text) == message


@pytest.mark.parametrize("message", _every_request(), ids=lambda m: type(m).__name__)
def test_every_request_decodes_the_same_from_json_text(message: Any) -> None:
    text = msgspec.json.encode(message).decode()
    assert RequestDecoder().decode_text(text) == RequestDecoder().decode(encode(message))


def _refusal(text: str) -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError) as info:
        RequestDecoder().decode_text(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", ErrorCode.MALFORMED_FRAME),
        ("[1, 2]", ErrorCode.MALFORMED_FRAME),
        ('{"type": "ping", "id": 1, "x": "\\ud800"}', ErrorCode.MALFORMED_FRAME),
        ('{"type": "ping", "id": 123456789012345678901234567890}', ErrorCode.MALFORMED_FRAME),
        ('{"type": "nope", "id": 4}', ErrorCode.UNKNOWN_TYPE),
        ('{"type": "login", "id": 5, "name": "a\\u0000", "password": "pw-12345"}', "x"),
        ("[" * (NESTING_DEPTH_MAX + 1) + "]" * (NESTING_DEPTH_MAX + 1), "deep"),
        ('{"type": "ping", "id": 1, "pad": "' + "x" * FRAME_BYTES_MAX + '"}', "big"),
    ],
    ids=["garbage", "array", "surrogate", "huge-int", "unknown", "nul", "deep", "big"],
)
def test_bad_text_frames_get_the_same_answers_as_bad_binary_ones(text: str, code: str) -> None:
    expected = {
        "x": ErrorCode.INVALID_MESSAGE,
        "deep": ErrorCode.NESTING_TOO_DEEP,
        "big": ErrorCode.FRAME_TOO_LARGE,
    }.get(code, code)
    assert _refusal(text).code == expected


def test_a_deep_frame_is_refused_before_the_parser_sees_it() -> None:
    # Far past the interpreter's recursion limit: the scan refuses it, nothing recurses.
    depth = 200_000
    assert json_depth_exceeds("[" * depth + "]" * depth, NESTING_DEPTH_MAX)
    assert _refusal("[" * depth).code == ErrorCode.FRAME_TOO_LARGE  # the size check is first
    deep = "[" * (FRAME_BYTES_MAX // 2 - 1)
    assert _refusal(deep).code == ErrorCode.NESTING_TOO_DEEP


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    text = json.dumps({"type": "ping", "id": 1, "s": "[[[[[[[[[[[[[[[[[[[{{{{{{{"})
    assert not json_depth_exceeds(text, 2)
    assert json_depth_exceeds('{"a": [[[1]]]}', 3)


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        ([], DEFAULT_ENCODING),
        (["tablium.json.v1"], Encoding.JSON),
        (["tablium.msgpack.v1", "tablium.json.v1"], Encoding.MSGPACK),
        (["chat", "tablium.json.v1"], Encoding.JSON),
        (["chat"], None),
        (["TABLIUM.JSON.V1"], None),  # subprotocol names are case-sensitive (RFC 6455)
    ],
)
def test_the_first_subprotocol_we_speak_is_chosen(
    offered: list[str], chosen: Encoding | None
) -> None:
    assert choose_encoding(offered) == chosen


@settings(max_examples=300, deadline=None)
@given(message_like)
def test_arbitrary_json_messages_decode_or_are_refused_with_a_code(fields: dict[str, Any]) -> None:
    try:
        text = json.dumps(fields, allow_nan=False)
    except (ValueError, TypeError):
        return  # bytes or other values JSON has no text for
    try:
        request = RequestDecoder().decode_text(text)
    except RemoteProtocolError as exc:
        assert isinstance(exc.code, ErrorCode)
        return
    assert RequestDecoder().decode(encode(request)) == request


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_decodes_or_is_refused_with_a_code(text: str) -> None:
    try:
        RequestDecoder().decode_text(text)
    except RemoteProtocolError as exc:
        assert isinstance(exc.code, ErrorCode)
