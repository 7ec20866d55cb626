"""Personal data sealed at rest (services/personal_data.py): round trips, the context binds
a value to its field and row, tampering and foreign keys are refused, and rotation of the
data key keeps old values readable until they are resealed."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.personal_data import (
    DATA_KEY_BYTES,
    PLAINTEXT_BYTES_MAX,
    DataKey,
    DataKeyError,
    DataKeyRing,
    PersonalDataCipher,
    SealedDataError,
    new_data_key,
    parse_data_key_ring,
)

FIRST = DataKey("d1", bytes(range(32)))
SECOND = DataKey("d2", bytes(range(32, 64)))
EMAIL = "alice@example.com"
CONTEXT = "accounts.email:42"


def cipher(*keys: DataKey) -> PersonalDataCipher:
    return PersonalDataCipher(DataKeyRing(keys[0], keys[1:]))


def test_a_sealed_value_opens_to_the_plaintext_and_does_not_show_it() -> None:
    sealed = cipher(FIRST).seal(EMAIL, context=CONTEXT)
    assert sealed.startswith("pd1.d1.")
    assert EMAIL not in sealed and "alice" not in sealed
    assert sealed.isascii()
    assert cipher(FIRST).open(sealed, context=CONTEXT) == EMAIL


def test_each_seal_of_one_value_differs() -> None:
    one = cipher(FIRST)
    assert one.seal(EMAIL, context=CONTEXT) != one.seal(EMAIL, context=CONTEXT)


def test_a_value_moved_to_another_row_or_field_does_not_open() -> None:
    one = cipher(FIRST)
    sealed = one.seal(EMAIL, context=CONTEXT)
    for elsewhere in ("accounts.email:43", "accounts.phone:42", ""):
        with pytest.raises(SealedDataError, match="does not open"):
            one.open(sealed, context=elsewhere)


def test_a_tampered_value_does_not_open() -> None:
    one = cipher(FIRST)
    sealed = one.seal(EMAIL, context=CONTEXT)
    prefix, kid, body = sealed.split(".")
    blob = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for index in (0, 12, len(blob) - 1):  # the nonce, the ciphertext, the tag
        changed = bytearray(blob)
        changed[index] ^= 1
        forged = f"{prefix}.{kid}." + base64.urlsafe_b64encode(changed).decode().rstrip("=")
        with pytest.raises(SealedDataError):
            one.open(forged, context=CONTEXT)


def test_a_value_sealed_under_a_key_not_on_the_ring_does_not_open() -> None:
    sealed = cipher(SECOND).seal(EMAIL, context=CONTEXT)
    with pytest.raises(SealedDataError, match="'d2', which is not on the ring"):
        cipher(FIRST).open(sealed, context=CONTEXT)
    # Naming a key of the ring does not help a value sealed under another key.
    relabelled = sealed.replace(".d2.", ".d1.", 1)
    with pytest.raises(SealedDataError, match="does not open"):
        cipher(FIRST).open(relabelled, context=CONTEXT)


def test_after_a_rotation_old_values_open_and_reseal_moves_them_to_the_new_key() -> None:
    before = cipher(FIRST)
    stored = before.seal(EMAIL, context=CONTEXT)
    after = PersonalDataCipher(DataKeyRing(FIRST).rotated(SECOND))
    assert after.keys.current == SECOND
    assert after.open(stored, context=CONTEXT) == EMAIL  # still readable
    assert not after.is_current(stored)
    assert after.seal(EMAIL, context=CONTEXT).startswith("pd1.d2.")  # new values: new key
    moved = after.reseal(stored, context=CONTEXT)
    assert after.key_id(moved) == "d2" and after.is_current(moved)
    assert after.reseal(moved, context=CONTEXT) == moved  # nothing to do twice
    # Once every value is resealed the old key can go, and what was moved still opens.
    assert cipher(SECOND).open(moved, context=CONTEXT) == EMAIL
    with pytest.raises(SealedDataError):
        cipher(SECOND).open(stored, context=CONTEXT)


def test_unicode_and_empty_values_round_trip() -> None:
    one = cipher(FIRST)
    for value in ("", "Zoë Ørsted", "東京都港区", "\x00\n"):
        assert one.open(one.seal(value, context=CONTEXT), context=CONTEXT) == value


def test_personal_fields_are_bounded() -> None:
    one = cipher(FIRST)
    biggest = "x" * PLAINTEXT_BYTES_MAX
    assert one.open(one.seal(biggest, context=CONTEXT), context=CONTEXT) == biggest
    with pytest.raises(ValueError, match=f"at most {PLAINTEXT_BYTES_MAX} bytes"):
        one.seal(biggest + "x", context=CONTEXT)
    with pytest.raises(SealedDataError, match="too long"):
        one.open("pd1.d1." + "A" * 10_000, context=CONTEXT)


def test_a_ring_survives_its_json_form_and_never_shows_its_keys() -> None:
    ring = DataKeyRing(SECOND, (FIRST,))
    assert parse_data_key_ring(ring.to_json()) == ring
    text = repr(ring) + "".join(ring.describe())
    for key in (FIRST, SECOND):
        assert base64.urlsafe_b64encode(key.key).decode() not in text
    assert ring.describe() == ["d2: current (seals and opens)", "d1: opens only"]


def test_new_keys_are_random_and_named_after_the_time() -> None:
    first, second = new_data_key(now_s=1_800_000_000), new_data_key(now_s=1_800_000_000)
    assert first.kid == "d20270115T080000Z"
    assert len(first.key) == DATA_KEY_BYTES and first.key != second.key


KEY_TEXT = base64.urlsafe_b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("nope", "not valid JSON"),
        ("{}", "expected"),
        ('{"current": {"kid": "a", "key": "%%%"}}', "not base64|32 bytes"),
        ('{"current": {"kid": "a", "key": "AAAA"}}', "must be 32 bytes"),
        ('{"current": {"kid": "a.b", "key": "' + KEY_TEXT + '"}}', "key id 'a.b'"),
        ('{"current": {"kid": "a", "key": "' + KEY_TEXT + '", "x": 1}}', "nothing else"),
        (
            '{"current": {"kid": "a", "key": "' + KEY_TEXT + '"},'
            ' "previous": [{"kid": "a", "key": "' + KEY_TEXT + '"}]}',
            "distinct",
        ),
        ('{"current": {"kid": "a", "key": "' + KEY_TEXT + '"}, "previous": 3}', "a list"),
    ],
)
def test_malformed_rings_are_refused_with_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(DataKeyError, match=message):
        parse_data_key_ring(raw)


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=200) | st.from_regex(r"pd1\.d1\.[A-Za-z0-9_=-]{0,120}"))
def test_any_text_opens_only_as_a_clear_refusal(text: str) -> None:
    with pytest.raises(SealedDataError):
        cipher(FIRST).open(text, context=CONTEXT)


@settings(max_examples=200, deadline=None)
@given(value=st.text(max_size=100), context=st.text(max_size=40))
def test_every_value_round_trips_in_its_context(value: str, context: str) -> None:
    one = cipher(FIRST, SECOND)
    assert one.open(one.seal(value, context=context), context=context) == value


def test_json_values_that_are_not_rings_are_refused() -> None:
    def refused(raw: Any) -> None:
        with pytest.raises(DataKeyError):
            parse_data_key_ring(json.dumps(raw))

    for raw in (None, 1, "x", [], {"current": None}, {"current": {"kid": 1, "key": KEY_TEXT}}):
        refused(raw)
