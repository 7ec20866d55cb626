"""The gateway's hand-made frames (server/wsburst.py) read back, through websockets' own
client-side parser, as exactly the messages sent, in order, in as few writes as the bound
allows."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, Side, State

from server.wsburst import BURST_BYTES_MAX, frame, frame_burst

MESSAGES = st.lists(
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=100),
        st.sampled_from([b"x" * 125, b"y" * 126, b"z" * 65535, b"w" * 65536, "é" * 70]),
    ),
    max_size=12,
)


def parsed(data: bytes) -> list[bytes | str]:
    client = Protocol(Side.CLIENT, state=State.OPEN, max_size=None)
    client.receive_data(data)
    messages: list[bytes | str] = []
    for event in client.events_received():
        assert isinstance(event, Frame) and event.fin
        assert event.opcode in (Opcode.TEXT, Opcode.BINARY)
        payload = bytes(event.data)
        messages.append(payload.decode() if event.opcode is Opcode.TEXT else payload)
    assert client.parser_exc is None
    return messages


@settings(max_examples=200, deadline=None)
@given(MESSAGES)
def test_a_burst_reads_back_as_its_messages_in_order(messages: list[bytes | str]) -> None:
    writes = list(frame_burst(messages))
    assert parsed(b"".join(writes)) == messages
    # One write unless the bound is passed: a write ends as soon as it reaches the bound.
    for write in writes[:-1]:
        assert len(write) >= BURST_BYTES_MAX


def test_a_burst_over_the_bound_is_several_writes_each_of_whole_frames() -> None:
    messages: list[bytes | str] = [bytes([n]) * (BURST_BYTES_MAX // 3) for n in range(4)]
    writes = list(frame_burst([*messages, "last"]))
    assert len(writes) == 2
    assert parsed(writes[0]) == messages[:3]
    assert parsed(writes[1]) == [messages[3], "last"]


def test_each_payload_length_takes_the_header_rfc_6455_gives_it() -> None:
    assert frame(b"a" * 125)[:2] == b"\x82\x7d"
    assert frame(b"a" * 126)[:4] == b"\x82\x7e\x00\x7e"
    assert frame("a" * 65536)[:10] == b"\x81\x7f" + (65536).to_bytes(8, "big")
    assert list(frame_burst([])) == []
