"""Opaque cursors for every list of the public API.

A cursor names the position after the last item of a page, for one kind of list
(``"wallet"``, ``"lobby"``, ...). It is URL-safe base64 of a small JSON array; clients treat
it as opaque and pass it back as ``cursor``. A cursor of another list, or one that does not
decode to the position's type, is ``invalid_cursor``: never a crash, never another list's page.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Final

import msgspec

from api.problems import ApiProblem

CURSOR_CHARS_MAX: Final = 512  # bound: ours are far shorter


def encode_cursor(kind: str, position: Any) -> str:
    raw = msgspec.json.encode([kind, position])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(kind: str, cursor: str, position_type: Any) -> Any:
    """The position ``cursor`` names; raises ApiProblem(invalid_cursor)."""
    if len(cursor) > CURSOR_CHARS_MAX:
        raise ApiProblem("invalid_cursor", "the cursor is too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found_kind, position = msgspec.json.decode(raw, type=tuple[str, Any])
        if found_kind != kind:
            raise ValueError(f"a cursor of {found_kind!r}")
        return msgspec.convert(position, position_type)
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        raise ApiProblem("invalid_cursor", f"not a cursor of this {kind} list") from None
