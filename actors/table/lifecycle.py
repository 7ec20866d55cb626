"""A table's status lifecycle, written as a transition table. Pure: no trio, no I/O.

Everything that changes a table's status is here (h11's ``_state.py`` rule): the table asks
:func:`transition` for the status an event leads to, and an event the table does not allow in
its status raises :class:`InvalidTransition` (a bug in the caller, never a silent ignore).

- ``open``: hands are dealt; players join.
- ``paused``: an operator's pause: no new hand starts (the running one finishes); joins,
  top-ups and leaving still work.
- ``held``: its owner's hold after the running hand (a tournament's synchronized break or
  hand-for-hand; a tournament's table also opens held and holds after every hand), the same
  as paused for players; only the owner's ``release`` ends it, and an operator's pause or
  resume does not touch it.
- ``closing``: an operator closed it: no new seats, no new hand; it closes when no hand runs.
- ``closed``: everyone stood up and paid; the table stops for good.

The wire shows ``held`` as ``paused`` (protocol/game.py ``TableStatus`` has no ``held``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final, final


@final
class Status(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    HELD = "held"
    CLOSING = "closing"
    CLOSED = "closed"


@final
class Event(StrEnum):
    PAUSE = "pause"  # an operator's PauseTable
    RESUME = "resume"  # an operator's ResumeTable
    HOLD = "hold"  # the owner's HoldAfterHand
    RELEASE = "release"  # the owner's Release
    CLOSE = "close"  # an operator's CloseTable
    FINISH_CLOSE = "finish_close"  # no hand runs any more: stand everyone up, stop


class InvalidTransition(Exception):
    """An event the table's status does not allow (a bug in the caller)."""

    def __init__(self, status: Status, event: Event) -> None:
        super().__init__(f"a {status} table cannot {event}")
        self.status = status
        self.event = event


_S, _E = Status, Event
TRANSITIONS: Final[Mapping[tuple[Status, Event], Status]] = {
    (_S.OPEN, _E.PAUSE): _S.PAUSED,
    (_S.OPEN, _E.RESUME): _S.OPEN,
    (_S.OPEN, _E.HOLD): _S.HELD,
    (_S.OPEN, _E.RELEASE): _S.OPEN,
    (_S.OPEN, _E.CLOSE): _S.CLOSING,
    (_S.PAUSED, _E.PAUSE): _S.PAUSED,
    (_S.PAUSED, _E.RESUME): _S.OPEN,
    (_S.PAUSED, _E.HOLD): _S.HELD,  # the owner's hold outlasts the operator's pause
    (_S.PAUSED, _E.RELEASE): _S.PAUSED,
    (_S.PAUSED, _E.CLOSE): _S.CLOSING,
    (_S.HELD, _E.PAUSE): _S.HELD,
    (_S.HELD, _E.RESUME): _S.HELD,  # only the owner releases a hold
    (_S.HELD, _E.HOLD): _S.HELD,
    (_S.HELD, _E.RELEASE): _S.OPEN,
    (_S.HELD, _E.CLOSE): _S.CLOSING,
    (_S.CLOSING, _E.PAUSE): _S.CLOSING,  # closing wins: the operator's later words change nothing
    (_S.CLOSING, _E.RESUME): _S.CLOSING,
    (_S.CLOSING, _E.HOLD): _S.CLOSING,
    (_S.CLOSING, _E.RELEASE): _S.CLOSING,
    (_S.CLOSING, _E.CLOSE): _S.CLOSING,
    (_S.CLOSING, _E.FINISH_CLOSE): _S.CLOSED,
    (_S.CLOSED, _E.CLOSE): _S.CLOSED,
}

DEALS: Final = frozenset({Status.OPEN})  # statuses in which a new hand may start
SEATS_PLAYERS: Final = frozenset({Status.OPEN, Status.PAUSED, Status.HELD})


def transition(status: Status, event: Event) -> Status:
    """The status ``event`` leads to from ``status``; InvalidTransition if not allowed."""
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise InvalidTransition(status, event) from None


def status_of(*, paused: bool, held: bool, closing: bool, closed: bool = False) -> Status:
    """The status a table's stored flags stand for (the snapshot keeps flags: old snapshots
    decode unchanged)."""
    if closed:
        return Status.CLOSED
    if closing:
        return Status.CLOSING
    if held:
        return Status.HELD
    return Status.PAUSED if paused else Status.OPEN
