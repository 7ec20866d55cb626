"""Text at the protocol boundary: no request reaches the server with a NUL in any string.

The examples are built from the Request union itself (msgspec.inspect), so a request type or
string field added later is covered without touching this file.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.codec import RequestDecoder
from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.messages import Request

decoder = RequestDecoder()


def _example(info: msgspec.inspect.Type) -> Any:
    """A small valid value of ``info``'s type (first choice of unions and literals)."""
    if isinstance(info, msgspec.inspect.StrType) and info.pattern is not None:
        return "ab" * 32  # the fair deals' hex (protocol/game.py): 32 bytes fit both patterns
    if isinstance(info, msgspec.inspect.StrType):
        return "a" * max(info.min_length or 1, 1)
    if isinstance(info, msgspec.inspect.IntType):
        return info.ge if info.ge is not None else (info.gt + 1 if info.gt is not None else 1)
    if isinstance(info, msgspec.inspect.BoolType):
        return False
    if isinstance(info, msgspec.inspect.LiteralType):
        return info.values[0]
    if isinstance(info, msgspec.inspect.UnionType):
        return _example(next(t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)))
    if isinstance(info, msgspec.inspect.ListType):
        return [_example(info.item_type)] * (info.min_length or 0)
    if isinstance(info, msgspec.inspect.DictType):
        return {_example(info.key_type): _example(info.value_type)} if info.min_length else {}
    if isinstance(info, msgspec.inspect.StructType):
        return _struct_example(info)
    raise AssertionError(f"no example for {info!r}; teach _example about it")


def _struct_example(info: msgspec.inspect.StructType) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if isinstance(info.tag, str):
        fields[info.tag_field or "type"] = info.tag
    for field in info.fields:
        fields[field.encode_name] = _example(field.type)
    return fields


def _text_paths(info: msgspec.inspect.Type, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Paths of every free-text (str) field inside ``info``."""
    if isinstance(info, msgspec.inspect.StrType):
        return [path]
    if isinstance(info, msgspec.inspect.UnionType):
        return [p for t in info.types for p in _text_paths(t, path)][:1]
    if isinstance(info, msgspec.inspect.StructType):
        return [p for f in info.fields for p in _text_paths(f.type, (*path, f.encode_name))]
    return []


def _request_types() -> list[msgspec.inspect.StructType]:
    union = msgspec.inspect.type_info(Request)
    assert isinstance(union, msgspec.inspect.UnionType)
    return [t for t in union.types if isinstance(t, msgspec.inspect.StructType)]


TEXT_FIELDS = [
    (kind, path) for kind in _request_types() for path in _text_paths(kind, ()) if path != ("type",)
]


def _with(fields: dict[str, Any], path: tuple[str, ...], value: str) -> dict[str, Any]:
    if len(path) == 1:
        return {**fields, path[0]: value}
    return {**fields, path[0]: _with(fields[path[0]], path[1:], value)}


def test_every_request_type_has_a_valid_example() -> None:
    for kind in _request_types():
        decoder.decode(msgspec.msgpack.encode(_struct_example(kind)))


def test_the_wire_has_text_fields_to_guard() -> None:
    names = {(kind.cls.__name__, path) for kind, path in TEXT_FIELDS}
    assert ("Login", ("name",)) in names
    assert ("WalletTransfer", ("to_player",)) in names
    assert ("WalletWithdraw", ("key",)) in names
    assert ("JoinTable", ("table_id",)) in names


@pytest.mark.parametrize(
    ("kind", "path"), TEXT_FIELDS, ids=[f"{k.cls.__name__}.{'.'.join(p)}" for k, p in TEXT_FIELDS]
)
def test_a_nul_in_any_text_field_of_any_request_is_an_invalid_message(
    kind: msgspec.inspect.StructType, path: tuple[str, ...]
) -> None:
    fields = _with({**_struct_example(kind), "id": 41}, path, "x\x00")
    with pytest.raises(RemoteProtocolError) as refused:
        decoder.decode(msgspec.msgpack.encode(fields))
    assert refused.value.code == ErrorCode.INVALID_MESSAGE
    assert refused.value.request_id == 41
    assert ".".join(path) in refused.value.message


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(TEXT_FIELDS),
    st.text(max_size=6),
    st.text(max_size=6),
)
def test_a_nul_anywhere_in_text_is_refused(
    field: tuple[msgspec.inspect.StructType, tuple[str, ...]], before: str, after: str
) -> None:
    kind, path = field
    fields = _with(_struct_example(kind), path, before + "\x00" + after)
    with pytest.raises(RemoteProtocolError) as refused:
        decoder.decode(msgspec.msgpack.encode(fields))
    # Too long for the field is refused by the schema first; either way nothing gets in.
    assert refused.value.code == ErrorCode.INVALID_MESSAGE


def test_a_lone_surrogate_cannot_be_sent_in_a_string() -> None:
    frame = msgspec.msgpack.encode({"type": "login", "id": 1, "name": "ab", "password": "pw"})
    # "\ud800" written as UTF-8 would be ED A0 80, which is not UTF-8: msgspec refuses it.
    frame = frame.replace(b"\xa2ab", b"\xa3\xed\xa0\x80")
    with pytest.raises(RemoteProtocolError) as refused:
        decoder.decode(frame)
    assert refused.value.code == ErrorCode.MALFORMED_FRAME


def test_zero_bytes_outside_text_are_fine() -> None:
    frame = msgspec.msgpack.encode(
        {"type": "authenticate", "id": 0, "token": "a.b.c", "last_seq": 0}
    )
    assert b"\x00" in frame
    assert decoder.decode(frame).id == 0
