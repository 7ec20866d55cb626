"""Request bodies and their bounds, shared by every admin route that changes something."""

from __future__ import annotations

from typing import Annotated, TypeVar

import msgspec
from msgspec import Meta
from quart import g

REASON_CHARS_MAX = 500  # bound: a reason is a sentence, not a document
# Bound: admin bodies are small JSON objects. Larger ones are refused (413 body_too_large)
# while they arrive, before they are held whole (the app's MAX_CONTENT_LENGTH).
BODY_BYTES_MAX = 16_384
# Ids are BIGINT in the database: a larger number is a client's mistake, not our crash.
ROW_ID_MAX = 2**63 - 1

Reason = Annotated[str, Meta(min_length=1, max_length=REASON_CHARS_MAX)]
RowId = Annotated[int, Meta(ge=0, le=ROW_ID_MAX)]
T = TypeVar("T")


class InvalidBody(Exception):
    """The request body is not the JSON the route takes (the app answers 400)."""


async def read_body(model: type[T]) -> T:
    """Decode the JSON body strictly: integers stay integers, unknown fields are refused.

    The body was read and its text checked before the route ran (admin/inputs.py): it is
    UTF-8 JSON with no NUL, no lone surrogate and no repeated key."""
    data: bytes = g.body
    try:
        return msgspec.json.decode(data, type=model)
    except msgspec.DecodeError as exc:
        raise InvalidBody(str(exc)) from None
