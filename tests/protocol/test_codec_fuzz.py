"""Fuzzing the decoders: whatever arrives, the answer is a message or a typed refusal."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.codec import NESTING_DEPTH_MAX, RequestDecoder, ServerMessageDecoder, check_shape
from protocol.errors import ErrorCode, RemoteProtocolError
from tests.protocol.test_codec import REQUESTS, SERVER_MESSAGES

EXAMPLES = 400  # per property; the whole file runs in a few seconds

request_decoder = RequestDecoder()
server_decoder = ServerMessageDecoder()

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.binary(max_size=40),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=40,
)
request_types = st.sampled_from(
    ["hello", "register", "login", "guest_login", "authenticate", "ping", "logout", "x"]
)
message_like = st.builds(
    lambda kind, rid, rest: {"type": kind, "id": rid, **rest},
    request_types,
    st.one_of(st.integers(min_value=-2, max_value=2**32 + 1), values),
    st.dictionaries(
        st.sampled_from(["name", "password", "versions", "token", "last_seq", "client", "z"]),
        values,
        max_size=4,
    ),
)


def decode_or_refuse(decoder: RequestDecoder | ServerMessageDecoder, frame: bytes) -> None:
    try:
        message = decoder.decode(frame)
    except RemoteProtocolError as exc:
        assert isinstance(exc.code, ErrorCode)
        assert exc.request_id is None or 0 <= exc.request_id < 2**32
        return
    # Accepted: the message is exactly what re-encoding it gives back.
    assert decoder.decode(msgspec.msgpack.encode(message)) == message


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_are_refused(frame: bytes) -> None:
    decode_or_refuse(request_decoder, frame)
    decode_or_refuse(server_decoder, frame)


@settings(max_examples=EXAMPLES, deadline=None)
@given(message_like)
def test_message_shaped_maps_decode_or_are_refused(fields: dict[str, Any]) -> None:
    decode_or_refuse(request_decoder, msgspec.msgpack.encode(fields))


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.sampled_from(REQUESTS + SERVER_MESSAGES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(0, 10_000),
)
def test_mutated_valid_frames_decode_or_are_refused(
    message: Any, flips: list[tuple[int, int]], cut: int
) -> None:
    frame = bytearray(msgspec.msgpack.encode(message))
    for position, byte in flips:
        frame[position % len(frame)] = byte
    mutated = bytes(frame[: max(1, len(frame) - cut % 4)])
    decode_or_refuse(request_decoder, mutated)
    decode_or_refuse(server_decoder, mutated)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
        ),
        max_leaves=30,
    )
)
def test_shape_check_measures_depth_exactly(value: Any) -> None:
    frame = msgspec.msgpack.encode(value)
    try:
        check_shape(frame, NESTING_DEPTH_MAX)
        refused = False
    except RemoteProtocolError as exc:
        assert exc.code is ErrorCode.NESTING_TOO_DEEP
        refused = True
    assert refused == (depth(value) > NESTING_DEPTH_MAX)
