"""One bound per limit on every surface: the admin API takes exactly the tables a table's own
config takes (protocol/limits.py), and the wire and the ledger carry the same chip bound."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from actors.table.config import TableConfig
from admin.tables import TableCreate
from poker import Variant
from poker.config import SEATS_MAX as ENGINE_SEATS_MAX
from protocol import game, messages
from protocol.limits import (
    CHIPS_MAX,
    RAKE_BP_MAX,
    SEATS_MAX,
    TABLE_ID_OPEN_CHARS_MAX,
)
from server.config import CHIPS_SETTING_MAX
from services.limits import LIMIT_VALUE_MAX
from services.wallet import AMOUNT_MAX


def _admin_accepts(fields: dict[str, Any]) -> bool:
    body = {"name": "t", "variant": "NT", "small_blind": 1, "big_blind": 2, "reason": "r"}
    try:
        msgspec.json.decode(msgspec.json.encode({**body, **fields}), type=TableCreate)
    except msgspec.ValidationError:
        return False
    return True


def _config_accepts(fields: dict[str, Any]) -> bool:
    try:
        TableConfig(name="t", variant=Variant.NO_LIMIT_HOLDEM, small_blind=1, big_blind=2, **fields)
    except ValueError:
        return False
    return True


ids = st.text(
    alphabet=st.sampled_from("aZ09-_.  /:é"), min_size=0, max_size=TABLE_ID_OPEN_CHARS_MAX + 3
)


@given(
    table_id=ids,
    seats=st.integers(0, SEATS_MAX + 2),
    rake_bp=st.integers(-1, RAKE_BP_MAX + 1),
)
def test_the_admin_api_takes_exactly_the_tables_a_table_config_takes(
    table_id: str, seats: int, rake_bp: int
) -> None:
    fields = {"table_id": table_id, "seats": seats, "rake_bp": rake_bp}
    assert _admin_accepts(fields) == _config_accepts(fields)


def test_the_largest_table_every_surface_takes() -> None:
    largest = {
        "table_id": "T" * TABLE_ID_OPEN_CHARS_MAX,
        "seats": SEATS_MAX,
        "rake_bp": RAKE_BP_MAX,
        "buy_in_max": CHIPS_MAX,
    }
    assert _admin_accepts(largest) and _config_accepts(largest)
    for key, too_big in (("seats", SEATS_MAX + 1), ("rake_bp", RAKE_BP_MAX + 1)):
        assert not _admin_accepts({**largest, key: too_big})
        assert not _config_accepts({**largest, key: too_big})


def test_one_chip_bound_for_the_wire_the_ledger_and_the_settings() -> None:
    assert messages.AMOUNT_MAX == AMOUNT_MAX == LIMIT_VALUE_MAX == CHIPS_SETTING_MAX == CHIPS_MAX
    assert game.CHIPS_MAX == CHIPS_MAX and game.SEATS_MAX == SEATS_MAX == ENGINE_SEATS_MAX
