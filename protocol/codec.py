"""Encoding and the two decoders (one per direction), with every limit enforced.

Decoding a client frame checks, in this order and each at most once:

1. size: over FRAME_BYTES_MAX -> frame_too_large (the websocket layer closes the connection
   for frames over FRAME_BYTES_HARD_MAX before they are even buffered);
2. shape: nesting deeper than NESTING_DEPTH_MAX, or more than ITEMS_MAX values in total ->
   nesting_too_deep. A cheap C-speed count proves most frames fine; only frames that might be
   deep are walked, and the walk stops at ITEMS_MAX;
3. schema: msgspec against the tagged union, with string and list limits from messages.py ->
   malformed_frame / unknown_type / invalid_message;
4. text: no string anywhere in a request may hold a NUL character -> invalid_message. The
   databases refuse NUL in text (PostgreSQL raises, SQLite compares it byte for byte), so it
   is refused once, here, for every string field of every request, and both backends see the
   same clean text. Lone surrogates never get this far: msgpack strings are UTF-8, which
   cannot encode them, and msgspec refuses such bytes (malformed_frame).

A JSON text frame (a ``tablium.json.v1`` connection, protocol/textframes.py) is first checked
for size and depth as text, then translated to the msgpack frame it stands for and decoded
as above: the same limits and the same answers (a lone surrogate escape, ``"\\ud800"``, and
an integer past 64 bits are malformed_frame there).

Any failure raises RemoteProtocolError carrying the request id when one could be read, so the
error reply can echo it. Nothing is acted upon before all three pass.
"""

from __future__ import annotations

import contextlib
from typing import Final, TypeVar, final

import msgspec

from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.messages import Request, ServerMessage
from protocol.textframes import TextFrameError, json_text_to_msgpack

FRAME_BYTES_MAX: Final = 16 * 1024  # client requests are small; over this: error reply
FRAME_BYTES_HARD_MAX: Final = 64 * 1024  # over this the websocket layer closes with 1009
SERVER_FRAME_BYTES_MAX: Final = 1024 * 1024  # table snapshots are the largest pushes
NESTING_DEPTH_MAX: Final = 8  # valid requests need 2 (tested); headroom for growth
SERVER_NESTING_DEPTH_MAX: Final = 16
ITEMS_MAX: Final = 4096  # values in one frame; bounds the walk below and the decoder's work

T = TypeVar("T")

# Bytes that may start a msgpack map or array (fixmap, fixarray, array16/32, map16/32).
_CONTAINER_BYTES: Final = bytes([*range(0x80, 0xA0), 0xDC, 0xDD, 0xDE, 0xDF])
_NON_CONTAINER_BYTES: Final = bytes(b for b in range(256) if b not in _CONTAINER_BYTES)

# Payload sizes of msgpack's fixed-width types, by first byte (scalars without a length field).
_FIXED_WIDTH: Final = {
    0xC0: 0, 0xC2: 0, 0xC3: 0, 0xCA: 4, 0xCB: 8, 0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8,
    0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8, 0xD4: 2, 0xD5: 3, 0xD6: 5, 0xD7: 9, 0xD8: 17,
}  # fmt: skip
# Length-prefixed types: first byte -> width of the length field (ext adds one type byte).
_LENGTH_PREFIXED: Final = {
    0xC4: 1, 0xC5: 2, 0xC6: 4, 0xD9: 1, 0xDA: 2, 0xDB: 4, 0xC7: 1, 0xC8: 2, 0xC9: 4,
}  # fmt: skip


def check_shape(frame: bytes, depth_max: int, items_max: int = ITEMS_MAX) -> None:
    """Raise nesting_too_deep unless ``frame`` nests at most ``depth_max`` containers deep and
    holds at most ``items_max`` values. Truncated input is left for the decoder to refuse."""
    if len(frame.translate(None, _NON_CONTAINER_BYTES)) <= depth_max:
        return  # fewer container-like bytes than the limit: cannot be deeper
    # Invariant: pending[-1] is the number of values still to read in the innermost container.
    pending: list[int] = [1]
    pos = 0
    items = 0
    end = len(frame)
    while pending and pos < end:
        if pending[-1] == 0:
            pending.pop()
            continue
        pending[-1] -= 1
        items += 1
        if items > items_max:
            raise RemoteProtocolError(ErrorCode.NESTING_TOO_DEEP, f"more than {items_max} values")
        b = frame[pos]
        pos += 1
        children = -1
        if b <= 0x7F or b >= 0xE0:
            continue
        if 0x80 <= b <= 0x8F:
            children = 2 * (b & 0x0F)
        elif 0x90 <= b <= 0x9F:
            children = b & 0x0F
        elif 0xA0 <= b <= 0xBF:
            pos += b & 0x1F
        elif b in _FIXED_WIDTH:
            pos += _FIXED_WIDTH[b]
        elif b in _LENGTH_PREFIXED:
            width = _LENGTH_PREFIXED[b]
            size = int.from_bytes(frame[pos : pos + width], "big")
            pos += width + size + (1 if b >= 0xC7 and b <= 0xC9 else 0)
        elif b in (0xDC, 0xDE):
            children = int.from_bytes(frame[pos : pos + 2], "big") * (2 if b == 0xDE else 1)
            pos += 2
        elif b in (0xDD, 0xDF):
            children = int.from_bytes(frame[pos : pos + 4], "big") * (2 if b == 0xDF else 1)
            pos += 4
        if children >= 0:
            if len(pending) >= depth_max + 1:
                raise RemoteProtocolError(
                    ErrorCode.NESTING_TOO_DEEP, f"nesting deeper than {depth_max}"
                )
            pending.append(children)


class _Head(msgspec.Struct):
    """Just enough of a refused frame to name its type and echo its id. Raw fields: the
    values are only decoded below, each on its own, so no value can upset this decoder."""

    type: msgspec.Raw = msgspec.Raw(b"")
    id: msgspec.Raw = msgspec.Raw(b"")


_head_decoder: Final = msgspec.msgpack.Decoder(_Head)
_str_decoder: Final = msgspec.msgpack.Decoder(str)
_id_decoder: Final = msgspec.msgpack.Decoder(int)
_encoder: Final = msgspec.msgpack.Encoder()
# Everything msgspec raises on hostile input (found by fuzzing: unhashable map keys give
# TypeError, bad UTF-8 gives UnicodeDecodeError, deep nesting RecursionError).
_DECODE_FAILURES: Final = (msgspec.DecodeError, UnicodeDecodeError, RecursionError, TypeError)


def encode(message: msgspec.Struct) -> bytes:
    """One message as one frame's bytes."""
    return _encoder.encode(message)


class _EncodedEvent(msgspec.Struct, frozen=True, tag_field="type", tag="event"):
    """messages.Event with its body already encoded: the same fields in the same order, so
    the same bytes (tests/protocol/test_codec.py proves it for every push body)."""

    seq: int
    body: msgspec.Raw


def encode_body(body: msgspec.Struct) -> msgspec.Raw:
    """A push body encoded once, to be wrapped by encode_event for each recipient."""
    return msgspec.Raw(_encoder.encode(body))


def encode_event(seq: int, body: msgspec.Raw) -> bytes:
    """The frame of ``Event(seq=seq, body=<the body encode_body encoded>)``, byte for byte,
    without encoding the body again: a table's broadcast is encoded once, not once per
    recipient session."""
    return _encoder.encode(_EncodedEvent(seq=seq, body=body))


def _read_head(frame: bytes) -> tuple[str | None, int | None]:
    """The frame's type (if a string) and id (if a valid request id), when they can be read."""
    try:
        head = _head_decoder.decode(frame)
    except _DECODE_FAILURES:
        return None, None
    kind: str | None = None
    request_id: int | None = None
    with contextlib.suppress(*_DECODE_FAILURES):
        kind = _str_decoder.decode(head.type) if head.type else None
    with contextlib.suppress(*_DECODE_FAILURES):
        request_id = _id_decoder.decode(head.id) if head.id else None
    if request_id is not None and not 0 <= request_id < 2**32:
        request_id = None
    return kind, request_id


def _schema_error(frame: bytes, exc: Exception, known_types: frozenset[str]) -> None:
    kind, request_id = _read_head(frame)
    if not isinstance(exc, msgspec.ValidationError):
        raise RemoteProtocolError(ErrorCode.MALFORMED_FRAME, "not a msgpack message") from None
    if not kind:
        raise RemoteProtocolError(
            ErrorCode.MALFORMED_FRAME, f"not a message map with a type: {exc}", request_id
        ) from None
    if kind not in known_types:
        raise RemoteProtocolError(
            ErrorCode.UNKNOWN_TYPE, f"unknown message type {kind[:64]!r}", request_id
        ) from None
    raise RemoteProtocolError(ErrorCode.INVALID_MESSAGE, str(exc)[:400], request_id) from None


def _decode(decoder: msgspec.msgpack.Decoder[T], frame: bytes, known_types: frozenset[str]) -> T:
    try:
        return decoder.decode(frame)
    except RecursionError:  # defence in depth; check_shape stops these first
        raise RemoteProtocolError(ErrorCode.NESTING_TOO_DEEP, "nesting too deep") from None
    except _DECODE_FAILURES as exc:
        _schema_error(frame, exc, known_types)
        raise  # unreachable: _schema_error always raises


def _nul_field(value: object, path: str) -> str | None:
    """The path of the first string inside ``value`` that holds a NUL, or None. Walks
    structs, lists, tuples and dicts (keys too): every string a request can carry."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            found = _nul_field(getattr(value, name), f"{path}.{name}" if path else name)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _nul_field(item, f"{path}[{index}]")
            if found is not None:
                return found
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _nul_field(key, f"{path}[key]") or _nul_field(item, f"{path}[{key!r}]")
            if found is not None:
                return found
    return None


def check_text(request: msgspec.Struct, frame: bytes, request_id: int | None) -> None:
    """Raise invalid_message if any string of the decoded ``request`` holds a NUL. A NUL
    character is the byte 0 in UTF-8, so a frame without that byte is proved clean at C
    speed; only frames with a zero byte (small integers like 0 are one too) are walked."""
    if b"\x00" not in frame:
        return
    field = _nul_field(request, "")
    if field is not None:
        raise RemoteProtocolError(
            ErrorCode.INVALID_MESSAGE, f"{field}: text may not contain NUL characters", request_id
        )


def _tags(union: object) -> frozenset[str]:
    info = msgspec.inspect.type_info(union)
    assert isinstance(info, msgspec.inspect.UnionType)
    tags: set[str] = set()
    for member in info.types:
        assert isinstance(member, msgspec.inspect.StructType)
        assert isinstance(member.tag, str)
        tags.add(member.tag)
    return frozenset(tags)


@final
class RequestDecoder:
    """Decodes client -> server frames (the server's side)."""

    def __init__(
        self, frame_bytes_max: int = FRAME_BYTES_MAX, depth_max: int = NESTING_DEPTH_MAX
    ) -> None:
        self.frame_bytes_max = frame_bytes_max
        self.depth_max = depth_max
        self._decoder: msgspec.msgpack.Decoder[Request] = msgspec.msgpack.Decoder(Request)
        self._known_types = _tags(Request)

    def decode(self, frame: bytes) -> Request:
        if len(frame) > self.frame_bytes_max:
            raise RemoteProtocolError(
                ErrorCode.FRAME_TOO_LARGE,
                f"frame of {len(frame)} bytes, limit {self.frame_bytes_max}",
            )
        check_shape(frame, self.depth_max)
        request = _decode(self._decoder, frame, self._known_types)
        check_text(request, frame, request.id)
        return request

    def decode_text(self, text: str) -> Request:
        """A JSON text frame (a ``tablium.json.v1`` connection): the same limits and answers
        as a binary frame, which it becomes before decode() reads it."""
        return self.decode(_text_to_frame(text, self.frame_bytes_max, self.depth_max))


@final
class ServerMessageDecoder:
    """Decodes server -> client frames (the client's side)."""

    def __init__(
        self,
        frame_bytes_max: int = SERVER_FRAME_BYTES_MAX,
        depth_max: int = SERVER_NESTING_DEPTH_MAX,
    ) -> None:
        self.frame_bytes_max = frame_bytes_max
        self.depth_max = depth_max
        self._decoder: msgspec.msgpack.Decoder[ServerMessage] = msgspec.msgpack.Decoder(
            ServerMessage
        )
        self._known_types = _tags(ServerMessage)

    def decode(self, frame: bytes) -> ServerMessage:
        if len(frame) > self.frame_bytes_max:
            raise RemoteProtocolError(
                ErrorCode.FRAME_TOO_LARGE,
                f"frame of {len(frame)} bytes, limit {self.frame_bytes_max}",
            )
        check_shape(frame, self.depth_max, items_max=self.frame_bytes_max)
        return _decode(self._decoder, frame, self._known_types)

    def decode_text(self, text: str) -> ServerMessage:
        """A JSON text frame from a ``tablium.json.v1`` connection."""
        return self.decode(_text_to_frame(text, self.frame_bytes_max, self.depth_max))


def _text_to_frame(text: str, frame_bytes_max: int, depth_max: int) -> bytes:
    if len(text) > frame_bytes_max:  # characters: at least as many bytes in UTF-8
        raise RemoteProtocolError(
            ErrorCode.FRAME_TOO_LARGE, f"frame of {len(text)}+ bytes, limit {frame_bytes_max}"
        )
    try:
        return json_text_to_msgpack(text, depth_max)
    except TextFrameError as exc:
        code = ErrorCode.NESTING_TOO_DEEP if exc.too_deep else ErrorCode.MALFORMED_FRAME
        raise RemoteProtocolError(code, str(exc)[:400]) from None
