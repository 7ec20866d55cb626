"""The wait list: a freed seat is held for the first waiter (told with seat_available) for
``seat_hold_ms``; others are refused it meanwhile and may take it once the hold lapses."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.table_messages import GameRefused, JoinSeat, JoinWaiting, SeatGranted, StandUp
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
