"""The CloudEvents envelope: any payload survives the round trip; any other body is refused
with a decoding error (a consumer drops it), never another exception."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from persistence.amqp import NOT_AN_EVENT
from persistence.event_bus import Event, from_cloudevent, to_cloudevent
from persistence.events import TransferChanged
from persistence.outbox import OutboxEvent

texts = st.text(max_size=40)
transfers = st.builds(
    TransferChanged,
    transfer_id=st.integers(1, 2**62), key=texts, kind=texts, asset=texts,
    amount=st.integers(1, 2**62), debit_kind=texts, debit_owner=texts, credit_kind=texts,
    credit_owner=texts, memo=texts, state=st.sampled_from(["pending", "posted", "voided"]),
)  # fmt: skip


@given(transfers, st.integers(1, 2**62), st.integers(1, 2**40), st.integers(0, 2**45))
def test_any_payload_survives_the_envelope(
    payload: TransferChanged, event_id: int, sequence: int, at_ms: int
) -> None:
    aggregate = f"transfer:{payload.transfer_id}"
    row = OutboxEvent(
        event_id, "transfer.posted", 1, aggregate, sequence, at_ms,
        msgspec.json.encode(payload).decode(),
    )  # fmt: skip
    assert from_cloudevent(to_cloudevent(row)) == Event(
        event_id, "transfer.posted", aggregate, sequence, 1, at_ms, payload
    )


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_other_body_is_refused_as_not_an_event(body: bytes) -> None:
    try:
        event = from_cloudevent(body)
    except NOT_AN_EVENT:
        return  # refused: the consumer drops it
    assert isinstance(event, Event)  # only a well-formed envelope of a known type decodes


@given(st.dictionaries(st.sampled_from(["id", "type", "sequence", "subject", "data"]), texts))
def test_envelopes_with_wrong_fields_are_refused_as_not_an_event(fields: dict[str, str]) -> None:
    envelope = {
        "specversion": "1.0", "id": "1", "source": "/t", "type": "player.banned",
        "subject": "player:1", "time": "x", "datacontenttype": "application/json",
        "sequence": "1", "tabliumschemaversion": 1, "tabliumtimems": 0,
        "data": {"player_id": 1, "banned": True}, **fields,
    }  # fmt: skip
    try:
        event = from_cloudevent(msgspec.json.encode(envelope))
    except NOT_AN_EVENT:
        return
    assert event.type == "player.banned" and event.payload.player_id == 1
