"""A player's own hand histories: the one rule the websocket and the public API share.

A player may list and read only the hands they were dealt into; any other hand id is
unknown to them, whether it exists or not (no probing for hand ids). The histories are
written for the player (persistence/hands.py ``hand_phh`` / ``hand_text``): other players'
cards appear only where they were shown at the table.

Histories are read with ``may_lag`` (a read replica when configured): a list may miss the
newest hand for a moment, a hand asked for by id never does (Store.get_hand).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from persistence.hands import HandRecord, HandSummary, hand_phh, hand_text
from persistence.store import Store
from poker.text_history import Viewer
from services import profiles

UNKNOWN_HAND: Final = "unknown_hand"


class UnknownHand(Exception):
    """The player was dealt into no hand with this id."""

    code = UNKNOWN_HAND


async def my_hands(
    store: Store, player_id: int, before_seq: int | None, limit: int
) -> list[HandSummary]:
    """A page of the hands ``player_id`` was dealt into, newest first, before ``before_seq``."""
    return await store.hands_by_player(player_id, before_seq, limit, may_lag=True)


async def my_hand(store: Store, player_id: int, hand_id: str) -> HandRecord:
    """The hand ``hand_id`` if ``player_id`` was dealt into it; raises UnknownHand."""
    record = await store.get_hand(hand_id, may_lag=True)
    if record is None or all(p.player_id != player_id for p in record.players):
        raise UnknownHand(f"you played no hand {hand_id!r}")
    return record


async def names_in(store: Store, record: HandRecord) -> dict[int, str]:
    """The display names of the hand's players (player id -> name)."""
    return await profiles.display_names(store, [p.player_id for p in record.players])


def history_for(
    record: HandRecord,
    player_id: int,
    form: Literal["phh", "text"],
    display_names: Mapping[int, str] | None = None,
) -> str:
    """The hand's history as ``player_id`` may read it, as PHH or as a text history (with
    the players' ``display_names`` where given)."""
    viewer = Viewer.of_player(player_id)
    if form == "text":
        return hand_text(record, viewer, display_names)
    return hand_phh(record, viewer)
