"""The table's stakes source: fixed for a cash table, supplied per level by an owner."""

from __future__ import annotations

import pytest

from actors.table.messages import GameRefused
from actors.table.stakes import FixedStakes, SuppliedStakes, stakes_for
from tests.table_core.test_core import config


def test_a_cash_tables_stakes_are_built_once_and_refuse_a_change() -> None:
    stakes = stakes_for(config())
    assert isinstance(stakes, FixedStakes)
    assert stakes.hand_config() is stakes.hand_config()  # not rebuilt for every hand
    assert (stakes.hand_config().small_blind, stakes.hand_config().big_blind) == (1, 2)
    with pytest.raises(GameRefused) as refused:
        stakes.set(2, 4, 0)
    assert refused.value.code == "invalid_stakes"


def test_an_owners_table_takes_each_level_from_the_next_hand_on() -> None:
    stakes = stakes_for(config(owner="tournament:t1"))
    assert isinstance(stakes, SuppliedStakes)
    level_one = stakes.hand_config()
    changed = stakes.set(50, 100, 10)
    assert (changed.small_blind, changed.big_blind, changed.ante) == (50, 100, 10)
    terms = stakes.hand_config()
    assert (terms.small_blind, terms.big_blind, terms.ante) == (50, 100, 10)
    assert level_one.big_blind == 2  # what a running hand was dealt with stays as it was


def test_stakes_the_config_refuses_change_nothing() -> None:
    stakes = stakes_for(config(owner="tournament:t1"))
    with pytest.raises(GameRefused) as refused:
        stakes.set(10, 5, 0)  # a small blind above the big blind
    assert refused.value.code == "invalid_stakes"
    assert stakes.hand_config().big_blind == 2
