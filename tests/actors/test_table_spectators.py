"""Spectators and returning players: a watcher gets the table's public state and pushes but
never a hole card; a player whose connection drops mid-hand gets their own cards back in the
table snapshot when they return, and plays on."""

from __future__ import annotations

import math
import random
from pathlib import Path

import trio
import trio.testing

from actors.table.messages import AddWatcher, ConnectionChanged, RemoveWatcher
from protocol import game
from tests.actors.test_table_fakes import Bots, drive, nlhe, running_game, sqlite_url

WATCHER = 777


async def test_watcher_sees_public_state_only_and_can_leave(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=41) as session:
        table = await session.open_table(nlhe("watch", between_hands_ms=1_000))
        await session.fund([1, 2, 3])
        stream = session.channel.stream()
        seats = await session.seat_all(table, [1, 2, 3], buy_in=200)
        await table.ask(AddWatcher(player_id=WATCHER))
        (first,) = session.channel.of(WATCHER, game.TableSnapshot)
        assert [s.player_id for s in first.seats] == [1, 2, 3] and first.hole_cards == ()
        bots = Bots(table, "watch", seats, random.Random(41))
        mock_clock.autojump_threshold = 0
        await drive(
            session, bots, stream,
            lambda p, b: p == WATCHER and isinstance(b, game.HandEnded) and b.hand_number == 2,
        )  # fmt: skip
        mock_clock.autojump_threshold = math.inf
        seen = {type(body) for _, body in session.channel.bodies[WATCHER]}
        assert {game.HandStarted, game.ActionRequired, game.ActionTaken, game.HandEnded} <= seen
        assert game.HoleCards not in seen
        await table.ask(RemoveWatcher(player_id=WATCHER))
        count = len(session.channel.bodies[WATCHER])
        mock_clock.autojump_threshold = 0
        await drive(
            session, bots, stream,
            lambda p, b: isinstance(b, game.HandEnded) and b.hand_number == 3,
        )  # fmt: skip
        assert len(session.channel.bodies[WATCHER]) == count


async def test_player_reconnecting_mid_hand_gets_own_cards_back_and_plays_on(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=42) as session:
        table = await session.open_table(nlhe("resume", between_hands_ms=1_000))
        await session.fund([1, 2, 3])
        stream = session.channel.stream()
        seats = await session.seat_all(table, [1, 2, 3], buy_in=200)
        bots = Bots(table, "resume", seats, random.Random(42))
        player = 2
        seat = next(s for s, p in seats.items() if p == player)
        dealt: list[game.HoleCards] = []

        def own_cards(player_id: int, body: game.GamePush) -> bool:
            if player_id == player and isinstance(body, game.HoleCards):
                dealt.append(body)
                # The websocket drops right after the deal: the bot can no longer answer.
                bots.silent.add(player)
                table.tell(ConnectionChanged(player_id=player, connected=False))
                return True
            return False

        mock_clock.autojump_threshold = 0
        await drive(session, bots, stream, own_cards)
        mock_clock.autojump_threshold = math.inf
        cards = dealt[0]
        before = len(session.channel.bodies[player])
        bots.silent.discard(player)
        await table.ask(ConnectionChanged(player_id=player, connected=True))
        resent = [
            b for _, b in session.channel.bodies[player][before:]
            if isinstance(b, game.TableSnapshot)
        ]  # fmt: skip
        assert resent and resent[0].hand_number == cards.hand_number
        assert resent[0].hole_cards == cards.cards
        mock_clock.autojump_threshold = 0
        await drive(
            session, bots, stream,
            lambda p, b: isinstance(b, game.HandEnded) and b.hand_number == cards.hand_number + 1,
        )  # fmt: skip
        mock_clock.autojump_threshold = math.inf
        acted = [
            b for _, b in session.channel.bodies[player]
            if isinstance(b, game.ActionTaken) and b.seat == seat and not b.timed_out
        ]  # fmt: skip
        assert acted, "the player who came back never acted"
        await session.assert_conserved(table)
