"""My hand histories: the hands I was dealt into, as JSON, PHH or a text history.

Every representation is written for me (services/hand_histories.py, which the websocket's
``my_hands`` / ``my_hand`` requests share): my own cards and the hands shown at the table,
never another player's folded or mucked cards. A hand I did not play answers as no hand.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from api.cursors import decode_cursor, encode_cursor
from api.problems import ApiProblem
from api.routes.common import EXAMPLE_CURSOR, EXAMPLE_TIME_MS, NO_NUL, Cursor, RowId
from api.routing import Call, Reply, RouteTable
from persistence.hands import HANDS_PAGE_MAX, HandPlayer, HandSummary
from services.api_keys import Scope
from services.hand_histories import UnknownHand, history_for, my_hand, my_hands, names_in

routes = RouteTable()

TEXT: Final = "text/plain; charset=utf-8"
HandId = Annotated[str, Meta(min_length=1, max_length=128, pattern=NO_NUL)]


class HandsQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    cursor: Cursor | None = None
    limit: Annotated[int, Meta(ge=1, le=HANDS_PAGE_MAX)] = 50


class HandsPage(msgspec.Struct, frozen=True):
    data: list[HandSummary]  # newest first
    next_cursor: str | None


class HandFormat(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    format: Literal["json", "phh", "text"] = "json"


class HandView(msgspec.Struct, frozen=True):
    """One hand, its PHH as this player may read it."""

    hand_id: str
    table_id: str
    game: str
    started_at_ms: int
    ended_at_ms: int
    pot_total: int
    rake: int
    players: tuple[HandPlayer, ...]
    phh: str
    # Player id (as text, as in the PHH ``players``) -> the display name others see.
    display_names: dict[str, str] = {}


EXAMPLE_PLAYERS: Final = (HandPlayer(42, 0, 12), HandPlayer(43, 1, -12))
EXAMPLE_PHH: Final = (
    "variant = 'NT'\nantes = [0, 0]\nblinds_or_straddles = [1, 2]\nmin_bet = 2\n"
    "starting_stacks = [200, 200]\nactions = ['d dh p1 AsKd', 'd dh p2 ????', 'p2 cbr 6',"
    " 'p1 cbr 18', 'p2 f']\nplayers = ['42', '43']\n"
)
SUMMARY_EXAMPLE: Final = HandSummary(
    seq=311, hand_id="nt-1-2-a:3:57", table_id="nt-1-2-a", game="NT 1/2",
    started_at_ms=EXAMPLE_TIME_MS, ended_at_ms=EXAMPLE_TIME_MS + 41_000, pot_total=24, rake=0,
    players=EXAMPLE_PLAYERS,
)  # fmt: skip


HAND_EXAMPLE: Final = HandView(
    hand_id=SUMMARY_EXAMPLE.hand_id, table_id=SUMMARY_EXAMPLE.table_id,
    game=SUMMARY_EXAMPLE.game, started_at_ms=SUMMARY_EXAMPLE.started_at_ms,
    ended_at_ms=SUMMARY_EXAMPLE.ended_at_ms, pot_total=24, rake=0, players=EXAMPLE_PLAYERS,
    phh=EXAMPLE_PHH,
)  # fmt: skip


@routes.operation(
    operation_id="listMyHands",
    method="GET",
    path="/v1/me/hands",
    summary="Hands I was dealt into, newest first",
    tag="hands",
    response=HandsPage,
    example=msgspec.to_builtins(HandsPage([SUMMARY_EXAMPLE], EXAMPLE_CURSOR)),
    scope=Scope.HANDS_READ,
    personal=True,
    query=HandsQuery,
    links={
        "GetFirstHand": {
            "operationId": "getMyHand",
            "parameters": {"hand_id": "$response.body#/data/0/hand_id"},
        }
    },
)
async def list_hands(call: Call) -> Reply:
    query: HandsQuery = call.query
    before = None
    if query.cursor is not None:
        before = decode_cursor("hands", query.cursor, RowId)
    found = await my_hands(call.context.store, call.player_id, before, query.limit)
    cursor = encode_cursor("hands", found[-1].seq) if len(found) == query.limit else None
    return Reply(HandsPage(found, cursor))


@routes.operation(
    operation_id="getMyHand",
    method="GET",
    path="/v1/me/hands/{hand_id}",
    summary="One hand I played: JSON (with its PHH), the PHH file, or a text history",
    description="`format=phh` and `format=text` answer text/plain. Other players' cards"
    " appear only where they were shown at the table.",
    tag="hands",
    response=HandView,
    example=msgspec.to_builtins(HAND_EXAMPLE),
    scope=Scope.HANDS_READ,
    personal=True,
    path_params={"hand_id": HandId},
    query=HandFormat,
    alternatives={"text/plain": EXAMPLE_PHH},
)
async def get_hand(call: Call) -> Reply:
    hand_id: str = call.path["hand_id"]
    try:
        record = await my_hand(call.context.store, call.player_id, hand_id)
    except UnknownHand as exc:
        raise ApiProblem("not_found", str(exc)) from None
    query: HandFormat = call.query
    names = await names_in(call.context.store, record)
    if query.format == "text":
        return Reply(history_for(record, call.player_id, "text", names), content_type=TEXT)
    phh = history_for(record, call.player_id, "phh")
    if query.format == "phh":
        return Reply(phh, content_type=TEXT)
    return Reply(
        HandView(
            hand_id=record.hand_id,
            table_id=record.table_id,
            game=record.game,
            started_at_ms=record.started_at_ms,
            ended_at_ms=record.ended_at_ms,
            pot_total=record.pot_total,
            rake=record.rake,
            players=record.players,
            phh=phh,
            display_names={str(k): v for k, v in names.items()},
        )
    )
