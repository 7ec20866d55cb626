"""Wire messages of a player's own hand histories: a page of the hands they were dealt into,
and one hand as PHH or as a text history.

Same conventions as protocol/messages.py. Only hands the asking player was dealt into are
listed or answered (another hand id is ``unknown_hand``, whether it exists or not), and the
histories show other players' cards only where they were shown at the table. The public API's
``/v1/me/hands`` answers the same from the same service (services/hand_histories.py).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from protocol.fields import Asset, RequestId
from protocol.game import Chips, PlayerId, SeatNo, TimeMs
from protocol.limits import SEATS_MAX, TABLE_ID_CHARS_MAX

HANDS_PAGE_MAX: Final = 200  # a page holds at most this many hands (the store's bound too)
HAND_ID_CHARS_MAX: Final = 128
HISTORY_CHARS_MAX: Final = 512 * 1024  # a longer history is refused (hand_too_large)
GAME_CHARS_MAX: Final = 64

HandId = Annotated[str, Meta(min_length=1, max_length=HAND_ID_CHARS_MAX)]
HandSeq = Annotated[int, Meta(ge=1, le=2**63 - 1)]
HistoryFormat = Literal["phh", "text"]


class _Message(
    msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=True, kw_only=True
):
    pass


class _Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


# --- requests --------------------------------------------------------------------------------


class MyHands(_Message, tag="my_hands", frozen=True):
    """A page of the hands I was dealt into, newest first; ``before_seq`` pages back (the
    ``next_before_seq`` of the previous page)."""

    id: RequestId
    before_seq: HandSeq | None = None
    limit: Annotated[int, Meta(ge=1, le=HANDS_PAGE_MAX)] = 50


class MyHand(_Message, tag="my_hand", frozen=True):
    """One hand I was dealt into, as a PHH file (the default) or a text history."""

    id: RequestId
    hand_id: HandId
    format: HistoryFormat = "phh"


HandRequest = MyHands | MyHand

# --- replies ---------------------------------------------------------------------------------


class HandPlayerResult(_Record, frozen=True):
    player_id: PlayerId
    seat: SeatNo
    net: int  # chips won (positive) or lost (negative) in the hand, rake already taken
    rake_paid: Chips  # this player's share of the hand's rake


class HandSummary(_Record, frozen=True):
    seq: HandSeq  # the hand's place in the server's history: pages go by it
    hand_id: HandId
    table_id: Annotated[str, Meta(max_length=TABLE_ID_CHARS_MAX)]
    game: Annotated[str, Meta(max_length=GAME_CHARS_MAX)]  # e.g. "NT 1/2"
    asset: Asset
    started_at_ms: TimeMs
    ended_at_ms: TimeMs
    pot_total: Chips
    rake: Chips
    players: Annotated[tuple[HandPlayerResult, ...], Meta(max_length=SEATS_MAX)]


class HandsPage(_Message, tag="hands_page", frozen=True):
    """Reply to MyHands; ``next_before_seq`` is null on the last page."""

    id: RequestId
    hands: Annotated[list[HandSummary], Meta(max_length=HANDS_PAGE_MAX)]
    next_before_seq: HandSeq | None


class HandHistory(_Message, tag="hand_history", frozen=True):
    """Reply to MyHand: the hand's summary and its history in the format asked for."""

    id: RequestId
    hand: HandSummary
    format: HistoryFormat
    history: Annotated[str, Meta(max_length=HISTORY_CHARS_MAX)]


HandReply = HandsPage | HandHistory
