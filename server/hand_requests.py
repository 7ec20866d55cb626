"""A player's own hand histories over the websocket (protocol/hands.py), answered by the
service the public API's ``/v1/me/hands`` uses (services/hand_histories.py)."""

from __future__ import annotations

from typing import final

from persistence.hands import HandRecord
from persistence.hands import HandSummary as StoredSummary
from persistence.store import Store
from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.hands import (
    HISTORY_CHARS_MAX,
    HandHistory,
    HandPlayerResult,
    HandReply,
    HandRequest,
    HandsPage,
    HandSummary,
    MyHand,
    MyHands,
)
from services.hand_histories import UnknownHand, history_for, my_hand, my_hands, names_in


def _summary(hand: StoredSummary | HandRecord) -> HandSummary:
    """The wire's summary of a listed hand or of a whole stored one (the same fields)."""
    return HandSummary(
        seq=hand.seq,
        hand_id=hand.hand_id,
        table_id=hand.table_id,
        game=hand.game,
        asset="play" if hand.asset == "play" else "chips",
        started_at_ms=hand.started_at_ms,
        ended_at_ms=hand.ended_at_ms,
        pot_total=hand.pot_total,
        rake=hand.rake,
        players=tuple(
            HandPlayerResult(player_id=p.player_id, seat=p.seat, net=p.net, rake_paid=p.rake_paid)
            for p in hand.players
        ),
    )


@final
class HandRequests:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def handle(self, player_id: int, request: HandRequest) -> HandReply:
        """The reply to ``request`` from ``player_id``; raises RemoteProtocolError."""
        match request:
            case MyHands(id=request_id, before_seq=before_seq, limit=limit):
                found = await my_hands(self.store, player_id, before_seq, limit)
                last = found[-1].seq if len(found) == limit else None
                return HandsPage(
                    id=request_id, hands=[_summary(h) for h in found], next_before_seq=last
                )
            case MyHand(id=request_id, hand_id=hand_id, format=form):
                try:
                    record = await my_hand(self.store, player_id, hand_id)
                except UnknownHand as exc:
                    raise RemoteProtocolError(
                        ErrorCode.UNKNOWN_HAND, str(exc), request_id
                    ) from None
                names = await names_in(self.store, record) if form == "text" else None
                history = history_for(record, player_id, form, names)
                if len(history) > HISTORY_CHARS_MAX:
                    raise RemoteProtocolError(
                        ErrorCode.HAND_TOO_LARGE,
                        f"the history is over {HISTORY_CHARS_MAX} characters:"
                        " read it from the API (/v1/me/hands/{hand_id})",
                        request_id,
                    )
                return HandHistory(
                    id=request_id, hand=_summary(record), format=form, history=history
                )
