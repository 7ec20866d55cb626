"""The two encodings a connection may speak, chosen by websocket subprotocol.

- ``tablium.msgpack.v1`` (the default, and what a handshake that offers no subprotocol gets):
  binary frames, each one msgpack map.
- ``tablium.json.v1``: text frames, each one JSON object, for environments without msgpack.

Both carry the same messages with the same field names and values; the server's code speaks
msgpack and a JSON connection is translated at its edge, frame by frame (in: JSON text ->
msgpack bytes, then the same decoder and limits; out: msgpack bytes -> JSON text). Nothing
the protocol sends is a msgpack type JSON lacks (no binary, no extension types, string map
keys), so the translation loses nothing; a test holds that for every server message.

A JSON frame is checked for depth before it is parsed: the C parser recurses once per level,
and a library that raises the interpreter's recursion limit (py_ecc does, at import) would let
a deep enough frame overflow the stack and kill the process.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from typing import Final

import msgspec

_JSON_STRING_OR_BRACKET: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_TRANSLATE_FAILURES: Final = (
    msgspec.DecodeError,
    msgspec.EncodeError,
    ValueError,  # includes UnicodeEncodeError: a lone surrogate from a \ud800 escape
    OverflowError,  # an integer past 64 bits
    TypeError,
)


class Encoding(enum.StrEnum):
    """A connection's encoding; the value is its websocket subprotocol name."""

    MSGPACK = "tablium.msgpack.v1"
    JSON = "tablium.json.v1"


DEFAULT_ENCODING: Final = Encoding.MSGPACK
SUBPROTOCOLS: Final = tuple(e.value for e in Encoding)


class TextFrameError(ValueError):
    """A JSON text frame that cannot become a message: not JSON, nested too deep, or holding
    a value msgpack cannot carry. ``too_deep`` tells the two answers apart."""

    def __init__(self, message: str, *, too_deep: bool = False) -> None:
        super().__init__(message)
        self.too_deep = too_deep


def choose_encoding(offered: Sequence[str]) -> Encoding | None:
    """The encoding for a handshake that offered ``offered`` subprotocols (in the client's
    order of preference): the first we speak; the default when none was offered; None when
    some were offered and we speak none of them (the handshake is refused)."""
    if not offered:
        return DEFAULT_ENCODING
    for name in offered:
        if name in SUBPROTOCOLS:
            return Encoding(name)
    return None


def json_depth_exceeds(text: str, depth_max: int) -> bool:
    """Whether ``text`` nests arrays and objects deeper than ``depth_max``; brackets inside
    strings do not count. The common case (fewer brackets than the limit) costs two counts."""
    if text.count("[") + text.count("{") <= depth_max:
        return False
    depth = 0
    for match in _JSON_STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > depth_max:
                return True
        elif token in "]}":
            depth -= 1
    return False


def json_text_to_msgpack(text: str, depth_max: int) -> bytes:
    """The msgpack frame a JSON text frame stands for; raises TextFrameError."""
    if json_depth_exceeds(text, depth_max):
        raise TextFrameError(f"nesting deeper than {depth_max}", too_deep=True)
    try:
        return msgspec.msgpack.encode(msgspec.json.decode(text))
    except RecursionError:  # defence in depth; the scan above stops these first
        raise TextFrameError("nesting too deep", too_deep=True) from None
    except _TRANSLATE_FAILURES as exc:
        raise TextFrameError(f"not a JSON message: {exc}") from None


def msgpack_to_json_text(frame: bytes) -> str:
    """The JSON text frame for a msgpack frame the server (or a client) encoded."""
    return msgspec.json.encode(msgspec.msgpack.decode(frame)).decode()
