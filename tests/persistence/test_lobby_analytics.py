"""Lobby analytics on both backends: samples of the lobby's listings stored per game, summed
by hour into occupancy, wait lists, seat waits, churn and hands per hour; old rows pruned."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from persistence.store import Store
from protocol.game import TableListing
from services.lobby_analytics import (
    AnalyticsRefused,
    Game,
    LobbySampler,
    observe_seat_wait,
    report,
    summarize,
)
from tests.persistence.stores import ManualClock

HOUR_MS = 3_600_000


def listing(
    table_id: str,
    *,
    big_blind: int = 2,
    seated: int = 3,
    waiting: int = 0,
    hands: int = 60,
    asset: str = "chips",
    variant: str = "NT",
) -> TableListing:
    return TableListing(
        table_id=table_id, name=table_id, variant=variant, small_blind=big_blind // 2,
        big_blind=big_blind, buy_in_min=40 * big_blind, buy_in_max=200 * big_blind,
        seats_total=6, seats_taken=seated, waiting=waiting, average_pot=10,
        hands_per_hour=hands, asset=asset,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_summary_groups_tables_by_game_and_counts_the_tables_that_came_and_went() -> None:
    nl2 = Game("chips", "NT", "1/2")
    nl10 = Game("chips", "NT", "5/10")
    before = {"a": nl2, "gone": nl10}
    samples, ids = summarize(
        [listing("a", seated=6, waiting=2), listing("b", seated=1, hands=30)],
        before,
        {nl10: (2, 90_000)},
    )
    assert ids == {"a": nl2, "b": nl2}
    by_game = {s.game: s for s in samples}
    assert set(by_game) == {nl2, nl10}
    two = by_game[nl2]
    assert (two.tables, two.seats, two.seated, two.waiting, two.hands_per_hour) == (
        2, 12, 7, 2, 90,
    )  # fmt: skip
    assert (two.opened, two.closed) == (1, 0)
    ten = by_game[nl10]
    assert (ten.tables, ten.closed, ten.seat_waits, ten.seat_wait_ms_sum) == (0, 1, 2, 90_000)


async def test_samples_are_stored_and_summed_by_hour_per_game(
    store: Store, clock: ManualClock
) -> None:
    clock.now_ms = 10 * HOUR_MS
    shown: list[tuple[TableListing, ...] | None] = [
        (listing("a", seated=6, waiting=4), listing("b", seated=2)),
        (listing("a", seated=6, waiting=2), listing("c", seated=4, asset="play")),
        None,  # the lobby did not answer: skipped, nothing stored
    ]

    async def list_tables() -> tuple[TableListing, ...] | None:
        return shown.pop(0)

    sampler = LobbySampler(store, list_tables)
    stored_first = await sampler.sample()
    assert stored_first is not None and len(stored_first) == 1
    # The first sample after a start sees every table as new: no churn counted yet.
    assert (stored_first[0].opened, stored_first[0].closed) == (0, 0)
    clock.now_ms += 60_000
    observe_seat_wait(Game("chips", "NT", "1/2"), 45_000)
    observe_seat_wait(Game("chips", "NT", "1/2"), 15_000)
    assert len(await sampler.sample() or []) == 2
    clock.now_ms += 60_000
    assert await sampler.sample() is None
    clock.now_ms += HOUR_MS  # the next hour's sample
    shown.append((listing("a", seated=3),))
    await sampler.sample()

    hours = await report(store, 10 * HOUR_MS, 12 * HOUR_MS, "hour")
    first = [g for g in hours if g.start_ms == 10 * HOUR_MS]
    chips = next(g for g in first if g.asset == "chips")
    assert (chips.samples, chips.tables_mean, chips.waiting_max) == (2, 1.5, 4)
    assert chips.occupancy == pytest.approx((8 + 6) / (12 + 6))
    assert chips.waiting_mean == 3.0
    assert (chips.tables_opened, chips.tables_closed) == (0, 1)  # b left
    assert (chips.seat_waits, chips.seat_wait_mean_ms) == (2, 30_000)
    play = next(g for g in first if g.asset == "play")
    assert (play.tables_opened, play.occupancy, play.seat_wait_mean_ms) == (1, 4 / 6, None)
    later = [g for g in hours if g.start_ms == 11 * HOUR_MS]
    assert [(g.asset, g.tables_mean, g.tables_closed) for g in later] == [
        ("chips", 1.0, 0),
        ("play", 0.0, 1),
    ]
    only_play = await report(store, 10 * HOUR_MS, 12 * HOUR_MS, "day", "play")
    assert [(g.start_ms, g.asset, g.samples) for g in only_play] == [(0, "play", 2)]
    assert (
        REGISTRY.get_sample_value(
            "tablium_lobby_seated", {"asset": "chips", "variant": "NT", "stakes": "1/2"}
        )
        == 3.0
    )


async def test_rows_older_than_the_retention_are_pruned(store: Store, clock: ManualClock) -> None:
    async def list_tables() -> tuple[TableListing, ...]:
        return (listing("a"),)

    sampler = LobbySampler(store, list_tables, retention_days=1)
    clock.now_ms = HOUR_MS
    await sampler.sample()
    clock.now_ms += 2 * 86_400_000
    await sampler.sample()
    kept = await report(store, 0, clock.now_ms + 1, "day")
    assert [g.start_ms for g in kept] == [2 * 86_400_000]


async def test_a_reversed_or_too_long_period_is_refused(store: Store) -> None:
    with pytest.raises(AnalyticsRefused) as reversed_:
        await report(store, 10, 10, "hour")
    assert reversed_.value.code == "invalid_period"
    with pytest.raises(AnalyticsRefused) as too_long:
        await report(store, 0, 32 * 86_400_000, "hour")
    assert too_long.value.code == "period_too_large"
