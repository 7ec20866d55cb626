"""The decoders: every limit refuses with its stable code, and valid messages round-trip."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from protocol.codec import (
    FRAME_BYTES_MAX,
    ITEMS_MAX,
    NESTING_DEPTH_MAX,
    SERVER_NESTING_DEPTH_MAX,
    RequestDecoder,
    ServerMessageDecoder,
    check_shape,
    encode,
    encode_body,
    encode_event,
)
from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.messages import (
    PASSWORD_CHARS_MAX,
    PLAYER_NAME_CHARS_MAX,
    VERSIONS_OFFERED_MAX,
    Authenticate,
    Error,
    Event,
    GuestLogin,
    Hello,
    LoggedIn,
    Login,
    Logout,
    Notice,
    Ok,
    Ping,
    Pong,
    PushBody,
    Register,
    Request,
    ServerMessage,
    SessionState,
    Welcome,
)

REQUESTS: list[Any] = [
    Hello(id=1, versions=[1, 2], client="bot"),
    Register(id=2, name="alice", password="p" * 10),
    Login(id=3, name="alice", password="p" * 10),
    GuestLogin(id=4),
    Authenticate(id=5, token="a.b.c", last_seq=17),
    Ping(id=2**32 - 1),
    Logout(id=0),
]
SERVER_MESSAGES: list[Any] = [
    Welcome(
        id=1,
        version=1,
        server="t",
        heartbeat_ms=1,
        frame_bytes_max=2,
        rate_burst_requests=3,
        rate_refill_per_s=4,
    ),
    LoggedIn(
        id=2,
        token="t",
        player="alice",
        role="admin",
        session_id="s",
        expires_at_s=5,
        resume="gap",
        last_seq=9,
    ),
    Pong(id=3),
    Ok(id=4),
    Error(id=None, code="replay_gap", message="m", retry_after_ms=None),
    Event(seq=7, body=Notice(code="maintenance", text="soon")),
    Event(seq=8, body=SessionState(table_ids=["t1", "t2"])),
]


def refusal(frame: bytes, decoder: RequestDecoder | None = None) -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError) as info:
        (decoder or RequestDecoder()).decode(frame)
    return info.value


@pytest.mark.parametrize("message", REQUESTS, ids=lambda m: type(m).__name__)
def test_every_request_round_trips(message: Request) -> None:
    assert RequestDecoder().decode(encode(message)) == message


@pytest.mark.parametrize("message", SERVER_MESSAGES, ids=lambda m: type(m).__name__)
def test_every_server_message_round_trips(message: ServerMessage) -> None:
    assert ServerMessageDecoder().decode(encode(message)) == message


def test_requests_travel_as_maps_tagged_by_type() -> None:
    assert msgspec.msgpack.decode(encode(Ping(id=9))) == {"type": "ping", "id": 9}


def test_frame_over_the_byte_limit_is_refused_before_decoding() -> None:
    frame = encode(Login(id=1, name="a", password="x" * 10)) + b"\x00" * FRAME_BYTES_MAX
    assert refusal(frame).code is ErrorCode.FRAME_TOO_LARGE


def test_garbage_bytes_are_a_malformed_frame() -> None:
    assert refusal(b"\xc1\xc1\xc1").code is ErrorCode.MALFORMED_FRAME
    assert refusal(b"").code is ErrorCode.MALFORMED_FRAME
    assert refusal(encode([1, 2, 3])).code is ErrorCode.MALFORMED_FRAME


def test_unknown_type_is_named_and_its_id_echoed() -> None:
    error = refusal(encode({"type": "teleport", "id": 42}))
    assert (error.code, error.request_id) == (ErrorCode.UNKNOWN_TYPE, 42)


def test_server_messages_are_unknown_types_to_the_request_decoder() -> None:
    assert refusal(encode(Pong(id=1))).code is ErrorCode.UNKNOWN_TYPE


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "ping"},  # id missing
        {"type": "ping", "id": 1, "extra": True},  # unknown field
        {"type": "ping", "id": -1},
        {"type": "ping", "id": 2**32},
        {"type": "ping", "id": "1"},
        {"type": "login", "id": 1, "name": "a" * (PLAYER_NAME_CHARS_MAX + 1), "password": "p"},
        {"type": "login", "id": 1, "name": "", "password": "p"},
        {"type": "login", "id": 1, "name": "a", "password": "p" * (PASSWORD_CHARS_MAX + 1)},
        {"type": "hello", "id": 1, "versions": []},
        {"type": "hello", "id": 1, "versions": [1] * (VERSIONS_OFFERED_MAX + 1)},
        {"type": "authenticate", "id": 1, "token": "t", "last_seq": -5},
    ],
)
def test_bad_fields_are_an_invalid_message_with_the_id_echoed(fields: dict[str, Any]) -> None:
    error = refusal(encode(fields))
    assert error.code is ErrorCode.INVALID_MESSAGE
    if isinstance(fields.get("id"), int) and 0 <= fields["id"] < 2**32:
        assert error.request_id == fields["id"]


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def test_nesting_beyond_the_limit_is_refused_even_inside_an_unknown_field() -> None:
    frame = encode({"type": "ping", "id": 1, "junk": nested(NESTING_DEPTH_MAX)})
    assert refusal(frame).code is ErrorCode.NESTING_TOO_DEEP


def test_nesting_far_beyond_the_interpreter_recursion_limit_is_refused_cleanly() -> None:
    frame = b"\x91" * (FRAME_BYTES_MAX - 1) + b"\xc0"
    assert refusal(frame).code is ErrorCode.NESTING_TOO_DEEP


def test_too_many_values_are_refused_even_when_flat() -> None:
    frame = encode({"type": "ping", "id": 1, "junk": [[]] * ITEMS_MAX})
    assert refusal(frame).code is ErrorCode.NESTING_TOO_DEEP


def test_nesting_at_the_limit_passes_the_shape_check() -> None:
    check_shape(encode(nested(NESTING_DEPTH_MAX - 1)), NESTING_DEPTH_MAX)


def schema_depth(info: msgspec.inspect.Type) -> int:
    """Containers deep a value of this type can be (a struct or list counts one)."""
    if isinstance(info, msgspec.inspect.UnionType):
        return max(schema_depth(t) for t in info.types)
    if isinstance(info, msgspec.inspect.StructType):
        return 1 + max((schema_depth(f.type) for f in info.fields), default=0)
    if isinstance(
        info,
        msgspec.inspect.ListType
        | msgspec.inspect.VarTupleType
        | msgspec.inspect.SetType
        | msgspec.inspect.FrozenSetType,
    ):
        return 1 + schema_depth(info.item_type)
    if isinstance(info, msgspec.inspect.TupleType):
        return 1 + max((schema_depth(t) for t in info.item_types), default=0)
    if isinstance(info, msgspec.inspect.DictType):
        return 1 + schema_depth(info.value_type)
    return 0


def test_every_valid_message_fits_within_the_nesting_limits() -> None:
    assert schema_depth(msgspec.inspect.type_info(Request)) <= NESTING_DEPTH_MAX
    assert schema_depth(msgspec.inspect.type_info(ServerMessage)) <= SERVER_NESTING_DEPTH_MAX


def test_invalid_utf8_in_the_type_tag_is_a_malformed_frame() -> None:
    # Found by the fuzz test: msgspec raises UnicodeDecodeError here, not DecodeError.
    frame = bytearray(encode(Hello(id=1, versions=[1])))
    frame[7] = 0x80
    assert refusal(bytes(frame)).code is ErrorCode.MALFORMED_FRAME


@pytest.mark.parametrize(
    "frame",
    [
        encode({"type": {"a": 1}, "id": 1}),  # found by the live fuzz: a map as the type
        encode({"type": "ping", "id": msgspec.msgpack.Ext(1, b"x")}),
        # {"type": "ping", "id": 1, "junk": {Ext(1, b"x"): 1}}: an unhashable map key
        b"\x83\xa4type\xa4ping\xa2id\x01\xa4junk\x81\xd4\x01x\x01",
        b"\x82\xa4type\x81\xd4\x01x\x01\xa2id\x01",
    ],
)
def test_unhashable_or_exotic_values_are_refused_not_crashed_on(frame: bytes) -> None:
    assert isinstance(refusal(frame).code, ErrorCode)


# --- a broadcast's body is encoded once: the frames are the same bytes -----------------------


# A value for each string pattern of the wire (protocol/game.py's hex of the fair deals).
PATTERN_SAMPLES: dict[str, Any] = {
    "^[0-9a-f]{64}$": lambda variant: f"{variant:064x}",
    "^([0-9a-f]{2}){1,64}$": lambda variant: f"{variant:02x}" * (1 + variant % 64),
}


def sample(info: msgspec.inspect.Type, variant: int) -> Any:
    """A value of the type ``info`` describes, every optional field filled (``variant``
    varies the numbers and strings), built from the schema so new push bodies are covered."""
    mi = msgspec.inspect
    if isinstance(info, mi.StructType):
        fields = {f.encode_name: sample(f.type, variant + i) for i, f in enumerate(info.fields)}
        return msgspec.convert(fields, info.cls)
    if isinstance(info, mi.UnionType):
        filled = [t for t in info.types if not isinstance(t, mi.NoneType)]
        return sample(filled[variant % len(filled)], variant)
    if isinstance(info, mi.LiteralType):
        return info.values[variant % len(info.values)]
    if isinstance(info, mi.TupleType):
        return [sample(t, variant + i) for i, t in enumerate(info.item_types)]
    if isinstance(info, (mi.ListType, mi.VarTupleType, mi.FrozenSetType)):
        return [sample(info.item_type, variant + i) for i in range(1 + variant % 3)]
    if isinstance(info, mi.IntType):
        low = info.ge if info.ge is not None else (info.gt + 1 if info.gt is not None else 0)
        high = info.le if info.le is not None else (info.lt - 1 if info.lt is not None else 2**31)
        return min(high, low + 17 * variant + 1)
    if isinstance(info, mi.StrType) and info.pattern is not None:
        return PATTERN_SAMPLES[info.pattern](variant)
    if isinstance(info, mi.StrType):
        return ("s" + str(variant) * 8)[: info.max_length or 9]
    if isinstance(info, mi.BoolType):
        return variant % 2 == 0
    if isinstance(info, mi.FloatType):
        return 1.5 * variant
    if isinstance(info, mi.DictType):
        return {sample(info.key_type, variant): sample(info.value_type, variant + 1)}
    raise AssertionError(f"sample(): no rule for {info!r}; add one")


def _push_body_types() -> list[msgspec.inspect.StructType]:
    info = msgspec.inspect.type_info(PushBody)
    assert isinstance(info, msgspec.inspect.UnionType)
    return [t for t in info.types if isinstance(t, msgspec.inspect.StructType)]


@pytest.mark.parametrize("body_type", _push_body_types(), ids=lambda t: t.cls.__name__)
def test_an_event_around_a_body_encoded_once_is_the_same_bytes(
    body_type: msgspec.inspect.StructType,
) -> None:
    for variant in range(4):
        body = sample(body_type, variant)
        for seq in (1, 300, 2**40 + variant):
            assert encode_event(seq, encode_body(body)) == encode(Event(seq=seq, body=body))


def test_one_encoded_body_serves_many_sessions_with_their_own_seq() -> None:
    body = Notice(code="maintenance", text="soon")
    raw = encode_body(body)
    frames = [encode_event(seq, raw) for seq in (1, 500, 2**40)]
    assert frames == [encode(Event(seq=seq, body=body)) for seq in (1, 500, 2**40)]
    assert ServerMessageDecoder().decode(frames[1]) == Event(seq=500, body=body)
