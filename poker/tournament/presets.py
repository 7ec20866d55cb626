"""Ready-made structures: turbo sit-and-gos (9-max, 6-max), regular and turbo MTTs, and
``hyper`` (one-minute levels, or three hands a level) so tests and load runs reach a winner
in minutes. ``preset(name)`` returns one by name; each is a validated ``Structure``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from poker.tournament.errors import StructureInvalid
from poker.tournament.structure import (
    AddOnRule,
    LevelUnit,
    RebuyRule,
    Structure,
    every,
    levels_from_big_blinds,
)

# Big blinds roughly x1.25-1.5 a level: the usual online progression.
_SNG_BLINDS: Final[tuple[int, ...]] = (
    *(20, 30, 50, 100, 150, 200, 300, 400, 600, 800, 1000, 1200, 1600, 2000),
    *(3000, 4000, 6000, 8000, 10_000, 15_000, 20_000, 30_000, 40_000, 60_000),
)
_MTT_BLINDS: Final[tuple[int, ...]] = (
    *(100, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000),
    *(4000, 5000, 6000, 8000, 10_000, 12_000, 15_000, 20_000, 25_000, 30_000),
    *(40_000, 50_000, 60_000, 80_000, 100_000, 120_000, 150_000, 200_000, 250_000),
    *(300_000, 400_000, 500_000, 600_000, 800_000, 1_000_000, 1_500_000, 2_000_000),
)
# Hyper: doubling-ish from 10 big blinds deep down to a few, then fast.
_HYPER_BLINDS: Final[tuple[int, ...]] = (
    *(20, 30, 50, 80, 120, 200, 300, 500, 800, 1200, 2000, 3000, 5000, 8000),
    *(12_000, 20_000, 30_000, 50_000, 80_000, 120_000, 200_000, 300_000, 500_000),
    *(800_000, 1_200_000, 2_000_000, 3_000_000, 5_000_000, 8_000_000),
)


def sng_turbo_9max() -> Structure:
    """Nine-handed turbo sit-and-go: 1,500 chips, levels of 10 hands, big-blind ante from
    level 5 (50/30/20 payouts: ``payouts.SNG_9MAX``)."""
    return Structure(
        name="sng-turbo-9max",
        unit=LevelUnit.HANDS,
        levels=levels_from_big_blinds(_SNG_BLINDS, 10, big_blind_ante_from=5),
        starting_stack=1500,
    )


def sng_turbo_6max() -> Structure:
    """Six-handed turbo sit-and-go: 1,500 chips, levels of 8 hands (65/35 payouts)."""
    return Structure(
        name="sng-turbo-6max",
        unit=LevelUnit.HANDS,
        levels=levels_from_big_blinds(_SNG_BLINDS, 8, big_blind_ante_from=5),
        starting_stack=1500,
    )


def mtt_regular() -> Structure:
    """Regular MTT: 20,000 chips (200 big blinds), 20-minute levels, big-blind ante from
    level 3, a 5-minute break every 4 levels, late registration through level 8, one
    re-entry."""
    levels = levels_from_big_blinds(_MTT_BLINDS, 20, big_blind_ante_from=3)
    return Structure(
        name="mtt-regular",
        levels=levels,
        starting_stack=20_000,
        breaks=every(4, 5, len(levels)),
        late_registration_levels=8,
        entries_per_player_max=2,
    )


def mtt_turbo() -> Structure:
    """Turbo MTT: 10,000 chips, 8-minute levels, big-blind ante from level 2, 5-minute
    breaks at the hour, late registration through level 6, re-entries (3 entries)."""
    return Structure(
        name="mtt-turbo",
        levels=levels_from_big_blinds(_MTT_BLINDS, 8, big_blind_ante_from=2),
        starting_stack=10_000,
        hourly_break_minutes=5,
        late_registration_levels=6,
        entries_per_player_max=3,
    )


def mtt_rebuy() -> Structure:
    """A rebuy MTT: 5,000 chips, 10-minute levels, rebuys of 5,000 while at or below 5,000
    through level 6 (at most 3), one 10,000-chip add-on at the first break (after level 6)."""
    levels = levels_from_big_blinds(_MTT_BLINDS, 10, big_blind_ante_from=4)
    return Structure(
        name="mtt-rebuy",
        levels=levels,
        starting_stack=5_000,
        breaks=every(6, 5, len(levels)),
        late_registration_levels=6,
        rebuy=RebuyRule(
            chips=5_000, price=100, stack_at_most=5_000, until_level=6, per_entry_max=3
        ),
        addon=AddOnRule(chips=10_000, price=100),
    )


def hyper() -> Structure:
    """Hyper: 500 chips (25 big blinds), one-minute levels, big-blind ante from level 3, a
    200 ms pause between hands, no breaks, no late registration: a winner in minutes."""
    return Structure(
        name="hyper",
        levels=levels_from_big_blinds(_HYPER_BLINDS, 1, big_blind_ante_from=3),
        starting_stack=500,
        hand_pause_ms=200,
    )


def hyper_hands() -> Structure:
    """``hyper`` with levels of 3 hands (each table counts its own): for runs with no clock."""
    return Structure(
        name="hyper-hands",
        unit=LevelUnit.HANDS,
        levels=levels_from_big_blinds(_HYPER_BLINDS, 3, big_blind_ante_from=3),
        starting_stack=500,
        hand_pause_ms=200,
    )


PRESETS: Final[dict[str, Callable[[], Structure]]] = {
    "sng-turbo-9max": sng_turbo_9max,
    "sng-turbo-6max": sng_turbo_6max,
    "mtt-regular": mtt_regular,
    "mtt-turbo": mtt_turbo,
    "mtt-rebuy": mtt_rebuy,
    "hyper": hyper,
    "hyper-hands": hyper_hands,
}


def preset(name: str) -> Structure:
    try:
        return PRESETS[name]()
    except KeyError:
        raise StructureInvalid(f"no preset {name!r}; known: {', '.join(PRESETS)}") from None
