"""Request bodies and their bounds, shared by every admin route that changes something."""

from __future__ import annotations

from typing import Annotated, TypeVar

import msgspec
from msgspec import Meta
from quart import request

REASON_CHARS_MAX = 500  # bound: a reason is a sentence, not a document
BODY_BYTES_MAX = 16_384  # bound: admin bodies are small JSON objects
# Ids are BIGINT in the database: a larger number is a client's mistake, not our crash.
ROW_ID_MAX = 2**63 - 1

Reason = Annotated[str, Meta(min_length=1, max_length=REASON_CHARS_MAX)]
RowId = Annotated[int, Meta(ge=0, le=ROW_ID_MAX)]
T = TypeVar("T")


class InvalidBody(Exception):
    """The request body is not the JSON the route takes (the app answers 400)."""


async def read_body(model: type[T]) -> T:
    """Decode a JSON body strictly: integers stay integers, unknown fields are refused."""
    data = await request.get_data(cache=False)
    if len(data) > BODY_BYTES_MAX:
        raise InvalidBody(f"body over {BODY_BYTES_MAX} bytes")
    try:
        return msgspec.json.decode(data, type=model)
    except msgspec.DecodeError as exc:
        raise InvalidBody(str(exc)) from None
