"""``act`` on the wire: its ``decision_id`` is a positive integer or absent (a version 1
client's act); anything else is refused by the decoder with a typed error (fuzzed)."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import game
from protocol.codec import RequestDecoder
from protocol.errors import ErrorCode, RemoteProtocolError

decoder = RequestDecoder()
ACT = {"type": "act", "id": 7, "table_id": "t1", "hand_number": 3, "action": "fold"}
DECISION_MAX = 2**63 - 1


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.integers(min_value=-(2**63), max_value=2**64 - 1),  # what msgpack carries
        st.none(),
        st.booleans(),
        st.floats(allow_nan=False),
        st.text(max_size=5),
    )
)
def test_act_decision_id_is_a_positive_integer_or_absent(decision_id: Any) -> None:
    frame = msgspec.msgpack.encode({**ACT, "decision_id": decision_id})
    valid = decision_id is None or (type(decision_id) is int and 1 <= decision_id <= DECISION_MAX)
    try:
        message = decoder.decode(frame)
    except RemoteProtocolError as exc:
        assert not valid, decision_id
        assert exc.code is ErrorCode.INVALID_MESSAGE
        return
    assert valid, decision_id
    assert isinstance(message, game.Act) and message.decision_id == decision_id


def test_act_without_a_decision_id_is_still_version_1() -> None:
    message = decoder.decode(msgspec.msgpack.encode(ACT))
    assert isinstance(message, game.Act) and message.decision_id is None
