"""The pure rules: token units <-> chips, addresses, fees, the confirmation line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from persistence.chain import Deposit
from services.chain.confirmations import block_ranges, confirmation_line, vanished
from services.chain.fees import FeeQuote, TooExpensive, quote, replacement
from services.chain.settings import ChainSettings, read_operator_key
from services.chain.units import InvalidAddress, Rate, is_reference, new_reference, parse_address

GWEI = 10**9


def test_a_rate_converts_exactly_and_rounds_down_both_ways() -> None:
    rate = Rate.parse("1/10000")
    assert rate.chips_for(12_345_678) == 1_234
    assert rate.units_for(1_234) == 12_340_000
    big = Rate.parse("3/7")
    assert (big.chips_for(10), big.units_for(10)) == (4, 23)  # 4.28.. and 23.3..
    assert str(Rate.parse("2/20000")) == "1/10000"


@pytest.mark.parametrize("text", ["0", "-1/2", "abc", "1/0", ""])
def test_a_bad_rate_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Rate.parse(text)


@given(
    st.integers(1, 10**9), st.integers(1, 10**9), st.integers(0, 2**256 - 1),
    st.integers(0, 10**15),
)  # fmt: skip
def test_no_round_trip_makes_value(chips: int, units: int, amount: int, withdrawn: int) -> None:
    rate = Rate(chips, units)
    # What a deposit credits is never worth more than the units that came in, and what a
    # withdrawal pays is never worth more than the chips that went out.
    assert rate.units_for(rate.chips_for(amount)) <= amount
    assert rate.chips_for(rate.units_for(withdrawn)) <= withdrawn


def test_addresses_are_checksummed_and_checked() -> None:
    lower = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
    assert parse_address(lower) == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    with pytest.raises(InvalidAddress, match="checksum"):
        parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")
    with pytest.raises(InvalidAddress, match="zero"):
        parse_address("0x" + "0" * 40)


@given(st.one_of(st.text(max_size=50), st.from_regex(r"0x[0-9a-fA-F]{40}", fullmatch=True)))
def test_parse_address_answers_any_text_with_an_address_or_invalid_address(text: str) -> None:
    try:
        parsed = parse_address(text)
    except InvalidAddress as exc:
        assert exc.code == "invalid_address"
    else:
        assert parsed.lower() == text.lower()


def test_references_are_random_bytes32() -> None:
    first, second = new_reference(), new_reference()
    assert is_reference(first) and is_reference(second) and first != second
    assert not is_reference("0x1234")


def test_a_quote_offers_twice_the_next_base_fee_plus_the_tip() -> None:
    fees = quote([10 * GWEI, 12 * GWEI], [[GWEI], [3 * GWEI], [2 * GWEI]],
                 max_fee_cap_wei=100 * GWEI, priority_floor_wei=0)  # fmt: skip
    assert fees == FeeQuote(26 * GWEI, 2 * GWEI, 12 * GWEI)


def test_a_quote_is_capped_and_waits_above_the_cap() -> None:
    capped = quote([40 * GWEI], [], max_fee_cap_wei=50 * GWEI, priority_floor_wei=GWEI)
    assert capped == FeeQuote(50 * GWEI, GWEI, 40 * GWEI)
    assert isinstance(
        quote([50 * GWEI], [], max_fee_cap_wei=50 * GWEI, priority_floor_wei=GWEI), TooExpensive
    )


@given(st.integers(1, 10**12), st.integers(0, 10**12), st.integers(1, 10**13))
def test_a_replacement_raises_both_fees_by_an_eighth_or_waits(
    max_fee: int, priority: int, cap: int
) -> None:
    previous = FeeQuote(max(max_fee, priority), priority, 0)
    bumped = replacement(previous, TooExpensive(0, 0, cap), max_fee_cap_wei=cap)
    if bumped is None:
        assert -(-previous.max_fee_wei * 9 // 8) > cap or -(-priority * 9 // 8) > cap
    else:
        assert bumped.max_fee_wei * 8 >= previous.max_fee_wei * 9
        assert bumped.priority_fee_wei * 8 >= previous.priority_fee_wei * 9
        assert bumped.priority_fee_wei <= bumped.max_fee_wei <= cap


def test_the_line_is_the_depth_or_the_finalized_block() -> None:
    assert confirmation_line(100, None, confirmations=12, use_finalized=False) == 89
    assert confirmation_line(100, 64, confirmations=12, use_finalized=False) == 89
    assert confirmation_line(100, 64, confirmations=12, use_finalized=True) == 64
    assert confirmation_line(100, None, confirmations=12, use_finalized=True) == 89


def test_block_ranges_cover_the_span_in_bounded_pieces() -> None:
    assert list(block_ranges(5, 14, 4)) == [(5, 8), (9, 12), (13, 14)]
    assert list(block_ranges(5, 4, 4)) == []


def _deposit(tx: str, index: int, block: int) -> Deposit:
    return Deposit(
        id=block, chain_id=1, tx_hash=tx, log_index=index, block_number=block, block_hash="0x",
        sender="0x", reference="0x", player_id=1, units=1, chips=1, state="pending",
        hold_reason="", transfer_id=1, attempt=0, seen_at_ms=0, updated_at_ms=0,
    )  # fmt: skip


def test_what_a_reread_did_not_find_has_vanished() -> None:
    stored = [_deposit("0xa", 0, 10), _deposit("0xb", 1, 11), _deposit("0xc", 0, 3)]
    gone = vanished(stored, [("0xb", 1)], from_block=5)
    assert [d.tx_hash for d in gone] == ["0xa"]


@pytest.mark.parametrize(
    ("key", "value"),
    [("chain_id", 0), ("rpc_url", "ws://x"), ("cashier", "nope"), ("confirmations", 0),
     ("rate", "0"), ("batch_size_max", 101), ("poll_interval_s", 0), ("token", "0x12")],
)  # fmt: skip
def test_bad_settings_are_refused_with_their_name(key: str, value: object) -> None:
    values = {"chain_id": 1, "rpc_url": "http://127.0.0.1:8545", "cashier": "0x" + "11" * 20,
              "token": ""}  # fmt: skip
    values[key] = value
    with pytest.raises(ValueError, match=key if key != "rate" else "rate"):
        ChainSettings.from_mapping(values)


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="confirmation"):
        ChainSettings.from_mapping(
            {
                "chain_id": 1,
                "rpc_url": "http://x",
                "cashier": "0x" + "11" * 20,
                "token": "",
                "confirmation": 3,
            }
        )


def test_the_operator_key_file_must_be_private(tmp_path: Path) -> None:
    key = tmp_path / "operator.key"
    key.write_text("11" * 32 + "\n")
    key.chmod(0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        read_operator_key(str(key))
    key.chmod(0o600)
    assert read_operator_key(str(key)) == "0x" + "11" * 32
    key.write_text("0x1234")
    with pytest.raises(ValueError, match="32 bytes"):
        read_operator_key(str(key))
