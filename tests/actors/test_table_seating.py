"""Seating between hands through poker/seating.py: a player sitting out misses blinds and
posts them to come back; a newcomer waits for the big blind; the button moves every hand.
Bots play on the mock clock; the clock stands still whenever the test asks the table."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import trio
import trio.testing

from actors.table.messages import JoinSeat, SitIn, SitOutNext
from protocol import game
from tests.actors.test_table_fakes import Bots, Game, drive, nlhe, running_game, sqlite_url


async def play_until(
    session: Game,
    bots: Bots,
    stream: trio.MemoryReceiveChannel[tuple[int, game.GamePush]],
    clock: trio.testing.MockClock,
    done: object,
) -> None:
    clock.autojump_threshold = 0
    await drive(session, bots, stream, done)  # type: ignore[arg-type]
    clock.autojump_threshold = math.inf


def blinds_of(bodies: list[game.GamePush], hand_number: int, seat: int) -> list[str]:
    return [
        b.kind for b in bodies
        if isinstance(b, game.BlindPosted) and b.hand_number == hand_number and b.seat == seat
    ]  # fmt: skip


async def test_player_who_missed_blinds_posts_them_to_come_back(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=21) as session:
        table = await session.open_table(nlhe("blinds", between_hands_ms=1_000))
        await session.fund(range(1, 5))
        stream = session.channel.stream()
        seats = await session.seat_all(table, range(1, 5), buy_in=200)
        away_seat = 3
        await table.ask(SitOutNext(player_id=seats[away_seat]))
        bots = Bots(table, "blinds", seats, random.Random(21), refill=200)
        ended = 0

        def four_hands(player_id: int, body: game.GamePush) -> bool:
            nonlocal ended
            if player_id == seats[0] and isinstance(body, game.HandEnded):
                assert away_seat not in body.seats  # sitting out: never dealt in
                ended += 1
            return ended >= 4

        await play_until(session, bots, stream, mock_clock, four_hands)
        view = await session.seats(table)
        away = next(s for s in view.seats if s.seat == away_seat)
        assert away.sitting_out and away.owes_big_blind  # the big blind passed them

        await table.ask(SitIn(player_id=seats[away_seat], post_now=True))
        back: list[game.HandStarted] = []

        def dealt_again(player_id: int, body: game.GamePush) -> bool:
            if (
                player_id == seats[0]
                and isinstance(body, game.HandStarted)
                and (away_seat in body.seats)
            ):
                back.append(body)
            return bool(back) and isinstance(body, game.HandEnded) and player_id == seats[0]

        await play_until(session, bots, stream, mock_clock, dealt_again)
        hand = back[0]
        bodies = [b for _, b in session.channel.bodies[seats[0]]]
        posted = blinds_of(bodies, hand.hand_number, away_seat)
        if hand.big_blind_seat == away_seat:
            assert posted == ["big"]  # the big blind reached them: nothing extra
        else:
            assert posted[0] == "posted_big"  # live big blind, plus the dead small if owed
            assert set(posted[1:]) <= {"dead_small"}
        view = await session.seats(table)
        away = next(s for s in view.seats if s.seat == away_seat)
        assert not away.owes_big_blind and not away.owes_small_blind
        await session.assert_conserved(table)


async def test_newcomer_waits_for_the_big_blind_and_the_button_moves(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    # A seed whose first hands bust nobody: a bust may leave the button where it was (the
    # dead-button rule moves the big blind), which is not what this test is about.
    async with running_game(sqlite_url(tmp_path), seed=23) as session:
        table = await session.open_table(nlhe("newcomer", between_hands_ms=1_000))
        await session.fund(range(1, 5))
        stream = session.channel.stream()
        seats = await session.seat_all(table, range(1, 4), buy_in=200)
        bots = Bots(table, "newcomer", seats, random.Random(23), refill=200)
        started: list[game.HandStarted] = []

        def two_hands(player_id: int, body: game.GamePush) -> bool:
            if player_id == seats[0] and isinstance(body, game.HandStarted):
                started.append(body)
            return len(started) >= 2 and isinstance(body, game.HandEnded)

        await play_until(session, bots, stream, mock_clock, two_hands)
        granted = await table.ask(JoinSeat(player_id=4, buy_in=200, seat=5))
        bots.seats[granted.seat] = 4

        def newcomer_dealt(player_id: int, body: game.GamePush) -> bool:
            if player_id == seats[0] and isinstance(body, game.HandStarted):
                started.append(body)
                return 5 in body.seats
            return False

        await play_until(session, bots, stream, mock_clock, newcomer_dealt)
        first_with_newcomer = started[-1]
        assert first_with_newcomer.big_blind_seat == 5  # waited for the big blind
        buttons = [hand.button for hand in started]
        assert all(a != b for a, b in itertools.pairwise(buttons))
        await session.assert_conserved(table)
