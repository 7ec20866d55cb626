"""The wait list: a freed seat is held for the first waiter (told with seat_available) for
``seat_hold_ms``; others are refused it meanwhile and may take it once the hold lapses."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from actors.table.messages import GameRefused, JoinSeat, JoinWaiting, SeatGranted, StandUp
from protocol import game
from tests.actors.test_table_fakes import nlhe, running_game, sqlite_url


class SteppedClock:
    """The tables' wall clock in ms, moved by the test."""

    def __init__(self) -> None:
        self.now_ms = 1_750_000_000_000

    def __call__(self) -> int:
        return self.now_ms


async def test_freed_seat_is_held_for_the_first_waiter(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=41) as session:
        clock = SteppedClock()
        object.__setattr__(session.deps, "clock_ms", clock)  # frozen deps: a test-only swap
        table = await session.open_table(
            nlhe("hold", seats=2, between_hands_ms=60_000, seat_hold_ms=5_000)
        )
        await session.fund([1, 2, 3, 4])
        await session.seat_all(table, [1, 2], buy_in=100)
        await table.ask(JoinWaiting(player_id=3))
        await table.ask(StandUp(player_id=1))
        assert session.channel.of(3, game.SeatAvailable) == [
            game.SeatAvailable(table_id="hold", seat=0)
        ]
        for seat in (None, 0):  # any seat, or that seat: refused to a player not waiting
            with pytest.raises(GameRefused) as refused:
                await table.ask(JoinSeat(player_id=4, buy_in=100, seat=seat))
            assert refused.value.code in ("table_full", "seat_taken")
        granted = await table.ask(JoinSeat(player_id=3, buy_in=100))
        assert granted == SeatGranted(table_id="hold", seat=0, stack=100)
        await session.assert_conserved(table)


async def test_a_lapsed_hold_frees_the_seat_for_anyone(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=42) as session:
        clock = SteppedClock()
        object.__setattr__(session.deps, "clock_ms", clock)
        table = await session.open_table(
            nlhe("lapse", seats=2, between_hands_ms=60_000, seat_hold_ms=5_000)
        )
        await session.fund([1, 2, 3, 4])
        await session.seat_all(table, [1, 2], buy_in=100)
        await table.ask(JoinWaiting(player_id=3))
        await table.ask(StandUp(player_id=1))
        clock.now_ms += 5_000
        granted = await table.ask(JoinSeat(player_id=4, buy_in=100))
        assert isinstance(granted, SeatGranted) and granted.seat == 0


def _seat_waits(labels: dict[str, str]) -> tuple[float, float]:
    count = REGISTRY.get_sample_value("tablium_seat_wait_seconds_count", labels) or 0.0
    total = REGISTRY.get_sample_value("tablium_seat_wait_seconds_sum", labels) or 0.0
    return count, total


async def test_the_wait_for_a_seat_is_measured_from_joining_the_list_to_sitting_down(
    tmp_path: Path,
) -> None:
    """Lobby analytics (services/lobby_analytics.py): the table observes each seat wait."""
    async with running_game(sqlite_url(tmp_path), seed=43) as session:
        clock = SteppedClock()
        object.__setattr__(session.deps, "clock_ms", clock)
        table = await session.open_table(
            nlhe("waits", seats=2, between_hands_ms=60_000, seat_hold_ms=5_000)
        )
        labels = {"asset": "chips", "variant": "NT", "stakes": "1/2"}
        before = _seat_waits(labels)
        await session.fund([1, 2, 3])
        await session.seat_all(table, [1, 2], buy_in=100)
        await table.ask(JoinWaiting(player_id=3))
        clock.now_ms += 42_000
        await table.ask(StandUp(player_id=1))
        clock.now_ms += 3_000
        await table.ask(JoinSeat(player_id=3, buy_in=100))
        count, total = _seat_waits(labels)
        assert (count - before[0], total - before[1]) == (1.0, pytest.approx(45.0))
        await session.assert_conserved(table)
