"""Hand histories by id, as PHH (machines) or PokerStars-style text (people)."""

from __future__ import annotations

from typing import Any, Literal

from msgspec import Struct
from quart import Blueprint, Response
from quart_schema import document_querystring, validate_querystring

from admin.auth import error, requires
from admin.context import current_context
from admin.permissions import Permission
from poker import phh
from poker.text_history import Viewer, text_from_history
from services import profiles

hand_routes = Blueprint("hands", __name__)


class HandFormat(Struct, frozen=True):
    format: Literal["json", "phh", "text"] = "json"


@hand_routes.get("/hands/<hand_id>")
@requires(Permission.HANDS_READ)
@validate_querystring(HandFormat)
@document_querystring(HandFormat)
async def hand(hand_id: str, query_args: HandFormat) -> Any:
    """One hand: its record with PHH inside (json), the PHH file itself, or a text history."""
    record = await current_context().store.get_hand(hand_id, may_lag=True)
    if record is None:
        return error(404, "not_found", f"no hand {hand_id!r}")
    if query_args.format == "phh":
        return Response(record.phh, content_type="text/plain; charset=utf-8")
    if query_args.format == "text":
        names = await profiles.display_names(
            current_context().store, [p.player_id for p in record.players]
        )
        text = text_from_history(
            phh.loads(record.phh),
            viewer=Viewer.staff(),
            display_names={str(k): v for k, v in names.items()},
        )
        return Response(text, content_type="text/plain; charset=utf-8")
    return record
