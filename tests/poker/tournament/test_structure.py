"""Structures: validation (a structure that cannot run is refused with a clear error), the
clock (levels, breaks after levels and at the hour), registration, rebuy and add-on windows,
and the presets."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poker.config import AnteMode
from poker.tournament import (
    PRESETS,
    AddOnRule,
    Break,
    Level,
    LevelUnit,
    RebuyRule,
    Structure,
    StructureInvalid,
    every,
    levels_from_big_blinds,
    preset,
)
from poker.tournament.structure import MINUTE_MS

LEVELS = levels_from_big_blinds((100, 200, 400, 800), 10)


def structure(**overrides: object) -> Structure:
    fields: dict[str, object] = {"name": "t", "levels": LEVELS, "starting_stack": 10_000}
    fields.update(overrides)
    return Structure(**fields)  # type: ignore[arg-type]


def test_blinds_must_strictly_increase() -> None:
    flat = (LEVELS[0], LEVELS[0])
    with pytest.raises(StructureInvalid, match="blinds must increase"):
        structure(levels=flat)


def test_antes_are_never_reduced_tda_rp_11() -> None:
    levels = (
        Level(small_blind=50, big_blind=100, ante=100, ante_mode=AnteMode.BIG_BLIND, duration=5),
        Level(small_blind=100, big_blind=200, ante=50, ante_mode=AnteMode.BIG_BLIND, duration=5),
    )
    with pytest.raises(StructureInvalid, match="RP-11"):
        structure(levels=levels)


def test_small_blind_above_big_blind_is_refused() -> None:
    with pytest.raises(StructureInvalid, match="small blind is larger"):
        structure(levels=(Level(small_blind=300, big_blind=200, duration=5),))


def test_ante_without_a_mode_is_refused() -> None:
    with pytest.raises(StructureInvalid, match="ante_mode"):
        structure(levels=(Level(small_blind=50, big_blind=100, ante=10, duration=5),))


def test_breaks_must_follow_an_existing_level() -> None:
    with pytest.raises(StructureInvalid, match="breaks follow an existing level"):
        structure(breaks=(Break(after_level=4, minutes=5),))
    with pytest.raises(StructureInvalid, match="breaks follow an existing level"):
        structure(breaks=(Break(after_level=0, minutes=5),))
    with pytest.raises(StructureInvalid, match="in order"):
        structure(breaks=(Break(2, 5), Break(1, 5)))


def test_a_level_needs_a_positive_duration() -> None:
    with pytest.raises(StructureInvalid, match="duration"):
        structure(levels=(Level(small_blind=50, big_blind=100, duration=0),))


def test_hands_structures_have_no_breaks() -> None:
    with pytest.raises(StructureInvalid, match="no breaks"):
        structure(unit=LevelUnit.HANDS, breaks=(Break(1, 5),))


def test_an_addon_needs_a_break() -> None:
    with pytest.raises(StructureInvalid, match="first break"):
        structure(addon=AddOnRule(chips=10_000, price=10))


def test_reentry_needs_late_registration_tda_8() -> None:
    with pytest.raises(StructureInvalid, match="re-entry needs late registration"):
        structure(entries_per_player_max=2)


def test_late_registration_must_end_at_an_existing_level() -> None:
    with pytest.raises(StructureInvalid, match="late_registration_levels"):
        structure(late_registration_levels=9)


def test_rebuys_must_end_at_an_existing_level() -> None:
    rule = RebuyRule(chips=1, price=1, stack_at_most=0, until_level=7, per_entry_max=1)
    with pytest.raises(StructureInvalid, match="until_level"):
        structure(rebuy=rule)


def test_a_decoded_structure_is_validated_too() -> None:
    raw = msgspec.json.encode(structure())
    data = msgspec.json.decode(raw)
    data["starting_stack"] = 0
    # msgspec reports a refusal raised while decoding as its ValidationError, same message.
    with pytest.raises(msgspec.ValidationError, match="starting_stack"):
        msgspec.json.decode(msgspec.json.encode(data), type=Structure)


def test_a_float_chip_amount_is_refused() -> None:
    with pytest.raises(StructureInvalid, match="whole number"):
        structure(starting_stack=1000.5)


def test_levels_and_breaks_follow_the_clock() -> None:
    s = structure(breaks=(Break(2, 5),))
    assert s.clock_at(0).level == 0
    assert s.clock_at(10 * MINUTE_MS - 1).remaining_ms == 1
    assert s.clock_at(10 * MINUTE_MS).level == 1
    on_break = s.clock_at(20 * MINUTE_MS + 1)
    assert on_break.on_break and on_break.level == 2 and on_break.breaks_started == 1
    assert on_break.remaining_ms == 5 * MINUTE_MS - 1
    after = s.clock_at(25 * MINUTE_MS)
    assert not after.on_break and after.level == 2 and after.play_ms == 20 * MINUTE_MS
    last = s.clock_at(10_000 * MINUTE_MS)
    assert last.level == 3 and last.remaining_ms == -1  # the last level goes on


def test_every_n_levels_generates_breaks_not_after_the_last() -> None:
    assert every(2, 5, 7) == (Break(2, 5), Break(4, 5), Break(6, 5))
    assert every(4, 5, 4) == ()


def test_breaks_at_the_hour_stop_the_level_clock() -> None:
    s = structure(hourly_break_minutes=5)
    # Started at :00: play until :55, break until the hour; levels of 10 minutes.
    assert s.clock_at(25 * MINUTE_MS).level == 2
    at_break = s.clock_at(56 * MINUTE_MS)
    assert at_break.on_break and at_break.remaining_ms == 4 * MINUTE_MS
    assert at_break.play_ms == 55 * MINUTE_MS
    resumed = s.clock_at(61 * MINUTE_MS)
    assert not resumed.on_break and resumed.play_ms == 56 * MINUTE_MS
    # Started at :57 (inside the window): that break does not count; the first is at :55.
    late = s.clock_at(2 * MINUTE_MS, start_in_hour_ms=57 * MINUTE_MS)
    assert not late.on_break and late.play_ms == 2 * MINUTE_MS
    assert s.clock_at(58 * MINUTE_MS, start_in_hour_ms=57 * MINUTE_MS).on_break


def test_hands_levels_count_hands() -> None:
    s = structure(unit=LevelUnit.HANDS)
    assert [s.level_at_hands(h) for h in (0, 9, 10, 29, 30, 10_000)] == [0, 0, 1, 2, 3, 3]


def test_late_registration_stays_open_through_the_break_after_its_last_level_wsop_12() -> None:
    s = structure(breaks=(Break(2, 5),), late_registration_levels=2)
    assert s.registration_open(s.clock_at(19 * MINUTE_MS))
    assert s.registration_open(s.clock_at(21 * MINUTE_MS))  # the break after level 2
    assert not s.registration_open(s.clock_at(25 * MINUTE_MS))
    closed = structure(late_registration_levels=2)
    assert not closed.registration_open(closed.clock_at(20 * MINUTE_MS))


def test_rebuys_run_through_their_last_level_and_the_addon_is_at_the_first_break() -> None:
    rule = RebuyRule(chips=10_000, price=10, stack_at_most=10_000, until_level=2, per_entry_max=2)
    s = structure(breaks=(Break(2, 5), Break(3, 5)), rebuy=rule, addon=AddOnRule(chips=1, price=1))
    assert s.rebuy_open(1) and not s.rebuy_open(2)
    assert s.addon_open(s.clock_at(21 * MINUTE_MS))
    assert not s.addon_open(s.clock_at(19 * MINUTE_MS))
    assert not s.addon_open(s.clock_at(36 * MINUTE_MS))  # the second break


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_a_valid_structure(name: str) -> None:
    s = preset(name)
    assert s.name == name
    assert s.levels[0].hand_config().big_blind == s.levels[0].big_blind


def test_hyper_reaches_high_blinds_within_minutes() -> None:
    s = preset("hyper")
    assert all(level.duration == 1 for level in s.levels)
    assert s.level(s.level_at(20 * MINUTE_MS)).big_blind >= 100 * s.levels[0].big_blind


def test_unknown_preset_is_refused() -> None:
    with pytest.raises(StructureInvalid, match="no preset"):
        preset("nope")


level_dicts = st.fixed_dictionaries(
    {
        "small_blind": st.integers(-5, 500),
        "big_blind": st.integers(-5, 1000),
        "duration": st.integers(-1, 30),
    },
    optional={
        "ante": st.integers(-1, 100),
        "ante_mode": st.sampled_from(["none", "each", "big_blind", "x"]),
    },
)


@settings(deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "name": st.text(max_size=3),
            "levels": st.lists(level_dicts, max_size=5),
            "starting_stack": st.integers(-10, 10_000),
        },
        optional={
            "unit": st.sampled_from(["minutes", "hands", "weeks"]),
            "breaks": st.lists(st.tuples(st.integers(-1, 6), st.integers(-1, 200)), max_size=3),
            "late_registration_levels": st.integers(-1, 6),
            "entries_per_player_max": st.integers(0, 3),
            "hourly_break_minutes": st.integers(-1, 40),
        },
    )
)
def test_any_decoded_structure_is_valid_or_refused_with_a_clear_error(
    data: dict[str, object],
) -> None:
    """The admin API will decode structures from JSON: anything is either a structure that
    runs or a ValidationError naming the problem, never another exception."""
    try:
        s = msgspec.json.decode(msgspec.json.encode(data), type=Structure)
    except msgspec.ValidationError as exc:
        assert str(exc)
        return
    assert s.levels and s.starting_stack >= s.levels[0].big_blind
    assert all(a.big_blind < b.big_blind for a, b in zip(s.levels, s.levels[1:], strict=False))
