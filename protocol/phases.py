"""The session state machine, written as data.

Everything that decides which message a session may send when lives in this file: the phases,
and for each (phase, request type) the phase the session moves to when the request succeeds.
A pair missing from the table is a wrong_phase error that changes nothing. A request that
fails (bad password, unsupported version) leaves the phase as it was.
"""

from __future__ import annotations

import enum
from typing import Final, final, get_args

from protocol.clubs import ClubRequest
from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.game import GameRequest
from protocol.hands import HandRequest
from protocol.messages import (
    Authenticate,
    ClaimPlayChips,
    GetLimits,
    GetWithdrawal,
    GuestLogin,
    Hello,
    ListWithdrawals,
    Login,
    Logout,
    Ping,
    Register,
    Request,
    SelfExclude,
    SetLimits,
    WalletBalance,
    WalletDeposit,
    WalletHistory,
    WalletStatement,
    WalletTransfer,
    WalletWithdraw,
)
from protocol.players import PlayerRequest
from protocol.tournaments import TournamentRequest


@final
class Phase(enum.StrEnum):
    CONNECTED = "connected"  # the websocket is open; the client must say hello first
    GREETED = "greeted"  # a version is agreed; the client must log in
    AUTHENTICATED = "authenticated"  # a player's session: everything else is allowed
    CLOSED = "closed"  # nothing more is read


# (phase, request type) -> phase after the request succeeds.
TRANSITIONS: Final[dict[tuple[Phase, type[Request]], Phase]] = {
    (Phase.CONNECTED, Hello): Phase.GREETED,
    (Phase.GREETED, Register): Phase.AUTHENTICATED,
    (Phase.GREETED, Login): Phase.AUTHENTICATED,
    (Phase.GREETED, GuestLogin): Phase.AUTHENTICATED,
    (Phase.GREETED, Authenticate): Phase.AUTHENTICATED,
    (Phase.GREETED, Ping): Phase.GREETED,
    (Phase.AUTHENTICATED, Ping): Phase.AUTHENTICATED,
    (Phase.AUTHENTICATED, Logout): Phase.CLOSED,
    (Phase.AUTHENTICATED, WalletBalance): Phase.AUTHENTICATED,
    (Phase.AUTHENTICATED, WalletHistory): Phase.AUTHENTICATED,
    (Phase.AUTHENTICATED, WalletTransfer): Phase.AUTHENTICATED,
    (Phase.AUTHENTICATED, WalletDeposit): Phase.AUTHENTICATED,
    (Phase.AUTHENTICATED, WalletWithdraw): Phase.AUTHENTICATED,
    (Phase.AUTHENTICATED, GetWithdrawal): Phase.AUTHENTICATED,
    (Phase.AUTHENTICATED, ListWithdrawals): Phase.AUTHENTICATED,
    (Phase.AUTHENTICATED, WalletStatement): Phase.AUTHENTICATED,
    (Phase.AUTHENTICATED, ClaimPlayChips): Phase.AUTHENTICATED,
    (Phase.AUTHENTICATED, GetLimits): Phase.AUTHENTICATED,
    (Phase.AUTHENTICATED, SetLimits): Phase.AUTHENTICATED,
    (Phase.AUTHENTICATED, SelfExclude): Phase.AUTHENTICATED,
    **{(Phase.AUTHENTICATED, kind): Phase.AUTHENTICATED for kind in get_args(GameRequest)},
    **{(Phase.AUTHENTICATED, kind): Phase.AUTHENTICATED for kind in get_args(HandRequest)},
    **{(Phase.AUTHENTICATED, kind): Phase.AUTHENTICATED for kind in get_args(ClubRequest)},
    **{(Phase.AUTHENTICATED, kind): Phase.AUTHENTICATED for kind in get_args(TournamentRequest)},
    **{(Phase.AUTHENTICATED, kind): Phase.AUTHENTICATED for kind in get_args(PlayerRequest)},
}


def tag_of(kind: type[Request]) -> str:
    """The wire name (the ``type`` tag) of a request struct."""
    return str(kind.__struct_config__.tag)


def allowed(phase: Phase) -> frozenset[type[Request]]:
    """The request types a session in ``phase`` may send."""
    return frozenset(kind for (from_phase, kind) in TRANSITIONS if from_phase is phase)


def verify_transition(phase: Phase, request: Request) -> Phase:
    """The phase after ``request`` succeeds; raises wrong_phase if it is not allowed now."""
    target = TRANSITIONS.get((phase, type(request)))
    if target is None:
        names = sorted(tag_of(kind) for kind in allowed(phase))
        code = ErrorCode.NOT_AUTHENTICATED if phase is Phase.GREETED else ErrorCode.WRONG_PHASE
        raise RemoteProtocolError(
            code,
            f"{tag_of(type(request))!r} is not allowed in phase {phase}; allowed: "
            + ", ".join(names),
            request.id,
        )
    return target


def can_transition(phase: Phase, request: Request) -> bool:
    return (phase, type(request)) in TRANSITIONS
