"""Types and examples the route modules share."""

from __future__ import annotations

from typing import Annotated, Final

from msgspec import Meta

NO_NUL: Final = "^[^\\x00]*$"  # PostgreSQL text holds no NUL: refused as invalid input
ROW_ID_MAX: Final = 2**63 - 1  # ids are BIGINT: a larger one is a client's mistake

Text = Annotated[str, Meta(pattern=NO_NUL)]
RowId = Annotated[int, Meta(ge=1, le=ROW_ID_MAX)]
Cursor = Annotated[str, Meta(min_length=1, max_length=512, pattern="^[A-Za-z0-9_-]+$")]
Memo = Annotated[str, Meta(max_length=200, pattern=NO_NUL)]

EXAMPLE_TIME_MS: Final = 1_796_000_000_000
EXAMPLE_CURSOR: Final = "WyJ3YWxsZXQiLDEyXQ"
