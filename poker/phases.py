"""The hand's state machine as data (STYLE.md point 2).

Which decisions each phase accepts, and how streets follow one another. ``Hand`` consults
these tables; a decision a phase does not list raises ``WrongPhase`` (never a silent
ignore). The one place a betting round ends and the next phase is chosen is
``Hand._close_round``:

    BETTING --round closed--> one player left ............ OVER (pot awarded unshown)
                           -> action closed with an all-in  RUN_IT_TWICE (if offered)
                                                            or runout, then OVER
                           -> river closed, nobody all-in . SHOWDOWN (show/muck in order)
                           -> otherwise ................... BETTING on the next street
    RUN_IT_TWICE --every answer--> runout(s), OVER
    SHOWDOWN --last decision or one live hand left--> OVER
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from poker.events import Street


class Phase(StrEnum):
    NOT_STARTED = "not_started"
    BETTING = "betting"
    RUN_IT_TWICE = "run_it_twice"  # all-in, action closed: waiting for every answer
    SHOWDOWN = "showdown"  # river betting closed, nobody all-in: show or muck in order
    OVER = "over"


class Decision(StrEnum):
    FOLD = "fold"
    CHECK_OR_CALL = "check_or_call"
    BET_OR_RAISE_TO = "bet_or_raise_to"
    SHOW = "show"
    MUCK = "muck"
    AGREE_RUN_IT_TWICE = "agree_run_it_twice"


PHASE_ACTIONS: Final[dict[Phase, frozenset[Decision]]] = {
    Phase.NOT_STARTED: frozenset(),
    Phase.BETTING: frozenset({Decision.FOLD, Decision.CHECK_OR_CALL, Decision.BET_OR_RAISE_TO}),
    Phase.RUN_IT_TWICE: frozenset({Decision.AGREE_RUN_IT_TWICE}),
    Phase.SHOWDOWN: frozenset({Decision.SHOW, Decision.MUCK}),
    Phase.OVER: frozenset(),
}

STREETS: Final = (Street.PREFLOP, Street.FLOP, Street.TURN, Street.RIVER)
RIVER: Final = 3
# street index -> (next street index, board cards it deals); the river has no next street.
NEXT_STREET: Final[dict[int, tuple[int, int]]] = {0: (1, 3), 1: (2, 1), 2: (3, 1)}
# board size after a deal -> the street it completes
STREET_OF_BOARD: Final[dict[int, Street]] = {3: Street.FLOP, 4: Street.TURN, 5: Street.RIVER}
BOARD_CARDS: Final = 5
BURN_CARDS: Final = 1  # before each board street of the first run; none in a second run
