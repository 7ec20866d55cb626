"""What players are told about seats (client-reported bugs): a waiting big blind dealt in is
shown playing; a player who left mid-hand is told her seat is empty once the hand ends; and
a cash-out has landed in the wallet when ``left_table`` is answered."""

from __future__ import annotations

import random
from pathlib import Path

import trio
import trio.testing

from actors.table.messages import JoinSeat, StandUp
from protocol import game
from tests.actors.test_table_fakes import FUNDS, Bots, Game, nlhe, running_game, sqlite_url
from tests.actors.test_table_seating import play_until


def last_view(session: Game, player_id: int, seat: int) -> game.SeatChanged | None:
    changes = [c for c in session.channel.of(player_id, game.SeatChanged) if c.seat == seat]
    return changes[-1] if changes else None


async def test_a_waiting_big_blind_dealt_in_is_shown_playing(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=22) as session:
        table = await session.open_table(nlhe("views", between_hands_ms=1_000))
        await session.fund(range(1, 5))
        stream = session.channel.stream()
        seats = await session.seat_all(table, range(1, 4), buy_in=200)
        bots = Bots(table, "views", seats, random.Random(22), refill=200)
        first = seats[0]

        def hand_ended(player_id: int, body: game.GamePush) -> bool:
            return player_id == first and isinstance(body, game.HandEnded)

        await play_until(session, bots, stream, mock_clock, hand_ended)
        granted = await table.ask(JoinSeat(player_id=4, buy_in=200, seat=5))
        bots.seats[granted.seat] = 4
        waiting = last_view(session, first, 5)
        assert waiting is not None and waiting.view is not None
        assert waiting.view.state == "waiting_big_blind"

        def newcomer_dealt(player_id: int, body: game.GamePush) -> bool:
            return player_id == first and isinstance(body, game.HandStarted) and 5 in body.seats

        await play_until(session, bots, stream, mock_clock, newcomer_dealt)
        dealt = last_view(session, first, 5)
        assert dealt is not None and dealt.view is not None
        assert dealt.view.state == "playing"  # it stayed waiting_big_blind before the fix


async def test_a_player_who_left_mid_hand_is_told_her_seat_is_empty_after_it(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=23) as session:
        table = await session.open_table(nlhe("leaver", between_hands_ms=60_000))
        await session.fund(range(1, 4))
        stream = session.channel.stream()
        seats = await session.seat_all(table, range(1, 4), buy_in=200)
        bots = Bots(table, "leaver", seats, random.Random(23), refill=200)
        leaver_seat = next(seat for seat, player in seats.items() if player == 1)

        def hand_started(player_id: int, body: game.GamePush) -> bool:
            return player_id == 1 and isinstance(body, game.HandStarted)

        await play_until(session, bots, stream, mock_clock, hand_started)
        assert await table.ask(StandUp(player_id=1)) is None  # in the hand: paid after it
        del bots.seats[leaver_seat]  # she does not act any more (the hand folds for her)
        leaving = last_view(session, 1, leaver_seat)
        assert leaving is not None and leaving.view is not None
        assert leaving.view.state == "leaving"

        def hand_ended(player_id: int, body: game.GamePush) -> bool:
            return player_id == seats[max(seats)] and isinstance(body, game.HandEnded)

        await play_until(session, bots, stream, mock_clock, hand_ended)
        await session.assert_conserved(table)
        gone = last_view(session, 1, leaver_seat)
        assert gone == game.SeatChanged(table_id="leaver", seat=leaver_seat, view=None)


async def test_a_cash_out_has_landed_when_left_table_is_answered(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=24) as session:
        table = await session.open_table(nlhe("paid", between_hands_ms=60_000))
        await session.fund([1])
        await table.ask(JoinSeat(player_id=1, buy_in=150))
        assert await table.ask(StandUp(player_id=1)) == 150
        # No audit or other ask first: the reply itself comes after the payment.
        assert (await session.wallet.balance(1)).balance == FUNDS
