"""Table rules against ratholing and two players of one address at a table
(poker/integrity/table_rules.py): what the table asks before it seats a player."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poker.integrity.table_rules import (
    LEAVERS_MAX,
    AddressRule,
    BuyInRange,
    Departure,
    RatholeBuyInTooSmall,
    RatholeRule,
    SameAddressAtTable,
    SeatedSession,
    address_conflict,
    address_key,
    buy_in_range,
    can_buy_in,
    rathole_minimum,
    remember_departure,
    verify_address,
    verify_rathole_buy_in,
)
from protocol.game import GAME_ERROR_CODES

MINUTE_MS = 60_000
LEFT = Departure(player_id=7, stack=500, left_at_ms=1_000_000)


def test_a_player_back_within_the_window_must_bring_the_stack_she_left_with() -> None:
    now = LEFT.left_at_ms + 59 * MINUTE_MS
    assert rathole_minimum(LEFT, now) == 500
    assert buy_in_range(40, 200, LEFT, now) == BuyInRange(
        500, 500, LEFT.left_at_ms + 60 * MINUTE_MS
    )
    with pytest.raises(RatholeBuyInTooSmall) as refused:
        verify_rathole_buy_in(200, 40, 200, LEFT, now)
    assert refused.value.code == "rathole_buy_in_too_small"
    assert (refused.value.minimum, refused.value.until_ms) == (500, LEFT.left_at_ms + 3_600_000)
    verify_rathole_buy_in(500, 40, 200, LEFT, now)  # over the table's maximum: allowed
    assert can_buy_in(500, 40, 200, LEFT, now) and not can_buy_in(501, 40, 200, LEFT, now)


def test_after_the_window_the_tables_own_range_applies() -> None:
    now = LEFT.left_at_ms + 60 * MINUTE_MS
    assert rathole_minimum(LEFT, now) == 0
    assert buy_in_range(40, 200, LEFT, now) == BuyInRange(40, 200)
    verify_rathole_buy_in(40, 40, 200, LEFT, now)


def test_a_short_stack_left_behind_does_not_change_the_range() -> None:
    small = Departure(7, 30, LEFT.left_at_ms)
    assert buy_in_range(40, 200, small, LEFT.left_at_ms + 1) == BuyInRange(40, 200)


def test_the_rule_can_be_switched_off_and_its_window_set() -> None:
    off = RatholeRule(enabled=False)
    assert rathole_minimum(LEFT, LEFT.left_at_ms + 1, off) == 0
    short = RatholeRule(window_ms=10 * MINUTE_MS)
    assert rathole_minimum(LEFT, LEFT.left_at_ms + 10 * MINUTE_MS, short) == 0
    for bad in (0, 24 * 60 * MINUTE_MS + 1):
        with pytest.raises(ValueError):
            RatholeRule(window_ms=bad)


def test_departures_forget_the_expired_and_the_oldest_past_the_bound() -> None:
    rule = RatholeRule()
    kept: dict[int, Departure] = {}
    for player in range(LEAVERS_MAX + 5):
        kept = remember_departure(kept, Departure(player, 100, player), player, rule)
    assert len(kept) == LEAVERS_MAX and min(kept) == 5
    kept = remember_departure(kept, Departure(9_999, 0, 10), 10, rule)  # no chips: not kept
    assert 9_999 not in kept
    later = remember_departure(kept, Departure(1, 50, 3_600_000 + 10), 3_600_000 + 10, rule)
    assert set(later) == {1, *range(11, LEAVERS_MAX + 5)}  # left at 10 or before: expired


@given(
    st.integers(1, 10_000),
    st.integers(0, 10_000),
    st.integers(0, 20_000),
    st.integers(0, 2 * 3_600_000),
    st.integers(0, 30_000),
)
def test_the_range_never_lets_a_returning_player_bring_less_than_she_left_with(
    table_min: int, extra: int, stack: int, after_ms: int, amount: int
) -> None:
    table_max = table_min + extra
    left = Departure(1, stack, 0)
    allowed = buy_in_range(table_min, table_max, left, after_ms)
    assert allowed.minimum <= allowed.maximum
    if after_ms < 3_600_000:
        assert allowed.minimum >= min(stack, allowed.maximum) and allowed.minimum >= table_min
    try:
        verify_rathole_buy_in(amount, table_min, table_max, left, after_ms)
    except RatholeBuyInTooSmall as refused:
        assert amount < refused.minimum == stack and after_ms < 3_600_000


def session(player: int, address: str | None) -> SeatedSession:
    return SeatedSession(player, address)


def test_a_second_session_from_one_address_cannot_sit_at_the_table() -> None:
    seated = [session(1, "198.51.100.7"), session(2, "203.0.113.9")]
    assert address_conflict(session(3, "203.0.113.9"), seated) == seated[1]
    with pytest.raises(SameAddressAtTable) as refused:
        verify_address(session(3, "203.0.113.9"), seated)
    assert refused.value.code == "same_address_at_table" and refused.value.player_id == 2
    verify_address(session(3, "203.0.113.10"), seated)


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", True),  # one /64: one subscriber
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
        ("::ffff:203.0.113.9", "203.0.113.9", True),
        ("203.0.113.9", "203.0.113.9 ", True),
        (None, None, False),
        ("not an address", "not an address", False),
    ],
)
def test_addresses_compare_by_subscriber(first: str | None, second: str | None, same: bool) -> None:
    found = address_conflict(session(1, first), [session(2, second)])
    assert (found is not None) == same


def test_staff_exceptions_let_named_players_or_networks_share_an_address() -> None:
    seated = [session(1, "203.0.113.9")]
    household = AddressRule(allowed_groups=(frozenset({1, 3}),))
    assert address_conflict(session(3, "203.0.113.9"), seated, household) is None
    assert address_conflict(session(4, "203.0.113.9"), seated, household) is not None
    campus = AddressRule(allowed_networks=("203.0.113.0/24",))
    assert address_conflict(session(4, "203.0.113.9"), seated, campus) is None
    assert address_conflict(session(4, "203.0.113.9"), seated, AddressRule(enabled=False)) is None
    assert address_conflict(session(1, "203.0.113.9"), seated) is None  # the same player
    with pytest.raises(ValueError):
        AddressRule(allowed_networks=("not a network",))


def test_an_allowed_network_is_matched_by_the_address_itself_not_its_64() -> None:
    loopback = AddressRule(allowed_networks=("127.0.0.0/8", "::1/128"))
    assert address_conflict(session(2, "::1"), [session(1, "::1")], loopback) is None
    assert (
        address_conflict(session(2, "::ffff:127.0.0.1"), [session(1, "127.0.0.1")], loopback)
        is None
    )
    # "::" shares ::1's /64 but is not loopback: no exception for it.
    assert address_conflict(session(2, "::"), [session(1, "::1")], loopback) is not None
    assert address_conflict(session(2, "10.0.0.1"), [session(1, "10.0.0.1")], loopback) is not None


@given(st.text(max_size=60), st.text(max_size=60))
def test_any_address_text_conflicts_exactly_when_both_name_one_subscriber(
    first: str, second: str
) -> None:
    found = address_conflict(session(1, first), [session(2, second)])
    key = address_key(first)
    assert (found is not None) == (key is not None and key == address_key(second))


def test_the_rules_codes_are_game_error_codes() -> None:
    assert {"rathole_buy_in_too_small", "same_address_at_table"} <= set(GAME_ERROR_CODES)
