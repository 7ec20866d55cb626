"""The session state machine: the table decides, and anything not in it is refused."""

from __future__ import annotations

import itertools

import pytest

from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.messages import Authenticate, GuestLogin, Hello, Login, Logout, Ping, Register
from protocol.phases import TRANSITIONS, Phase, allowed, can_transition, verify_transition

ONE_OF_EACH = [
    Hello(id=1, versions=[1]),
    Register(id=2, name="a", password="b"),
    Login(id=3, name="a", password="b"),
    GuestLogin(id=4),
    Authenticate(id=5, token="t"),
    Ping(id=6),
    Logout(id=7),
]


@pytest.mark.parametrize(
    ("phase", "request_"), list(itertools.product(Phase, ONE_OF_EACH)), ids=str
)
def test_verify_and_can_agree_with_the_table(phase: Phase, request_: Ping) -> None:
    target = TRANSITIONS.get((phase, type(request_)))
    assert can_transition(phase, request_) == (target is not None)
    if target is not None:
        assert verify_transition(phase, request_) is target
        return
    with pytest.raises(RemoteProtocolError) as info:
        verify_transition(phase, request_)
    assert info.value.request_id == request_.id
    expected = ErrorCode.NOT_AUTHENTICATED if phase is Phase.GREETED else ErrorCode.WRONG_PHASE
    assert info.value.code is expected


def test_a_connection_must_say_hello_first() -> None:
    assert allowed(Phase.CONNECTED) == {Hello}


def test_logging_in_is_the_only_way_to_the_authenticated_phase() -> None:
    entering = {
        kind
        for (from_phase, kind), to in TRANSITIONS.items()
        if to is Phase.AUTHENTICATED and from_phase is not Phase.AUTHENTICATED
    }
    assert entering == {Register, Login, GuestLogin, Authenticate}


def test_a_closed_session_accepts_nothing() -> None:
    assert allowed(Phase.CLOSED) == frozenset()
