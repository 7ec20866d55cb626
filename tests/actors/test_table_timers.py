"""The action clock on trio's mock clock: a silent player is acted for after their action
time and then their time bank, then sat out; a disconnected player's seat is held, the time
bank runs at once, then they are sat out; they come back and play again."""

from __future__ import annotations

import math
import random
from pathlib import Path

import trio
import trio.testing

from actors.table.messages import ConnectionChanged, SitIn
from protocol import game
from tests.actors.test_table_fakes import Bots, drive, nlhe, running_game, sqlite_url

ACTION_MS = 10_000
BANK_MS = 20_000
REFILL_MS = 1_000


async def test_silent_player_is_folded_after_time_bank_then_sat_out(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    silent = 2
    async with running_game(sqlite_url(tmp_path), seed=3) as session:
        table = await session.open_table(nlhe(
            "timers", between_hands_ms=1_000, action_timeout_ms=ACTION_MS,
            time_bank_ms=BANK_MS, time_bank_refill_ms=REFILL_MS,
        ))  # fmt: skip
        await session.fund([1, 2, 3])
        stream = session.channel.stream()
        # The clock stands still while everyone sits down, then runs as fast as it can.
        seats = await session.seat_all(table, [1, 2, 3], buy_in=200)
        silent_seat = next(seat for seat, player in seats.items() if player == silent)
        bots = Bots(table, "timers", seats, random.Random(3), silent={silent})
        mock_clock.autojump_threshold = 0
        hands_without_silent = 0

        def until(player_id: int, body: game.GamePush) -> bool:
            nonlocal hands_without_silent
            dealt = isinstance(body, game.HandStarted) and silent_seat not in body.seats
            if player_id == 1 and dealt:
                hands_without_silent += 1
            return hands_without_silent >= 2

        await drive(session, bots, stream, until)
        mock_clock.autojump_threshold = math.inf  # asks below: let the clock stand still

        bodies = session.channel.bodies[1]
        prompt_at = next(
            at for at, b in bodies if isinstance(b, game.ActionRequired) and b.seat == silent_seat
        )
        prompt = next(
            b for _, b in bodies if isinstance(b, game.ActionRequired) and b.seat == silent_seat
        )
        assert prompt.act_within_ms == ACTION_MS and prompt.time_bank_ms == BANK_MS
        bank_at, bank = next((at, b) for at, b in bodies if isinstance(b, game.TimeBankStarted))
        assert bank.seat == silent_seat and bank.time_bank_ms == BANK_MS
        assert abs((bank_at - prompt_at) - ACTION_MS / 1000) < 1e-6
        acted_at, acted = next(
            (at, b) for at, b in bodies if isinstance(b, game.ActionTaken) and b.timed_out
        )
        assert acted.seat == silent_seat and acted.action in ("fold", "check")
        assert abs((acted_at - bank_at) - BANK_MS / 1000) < 1e-6
        view = await session.seats(table)
        info = next(s for s in view.seats if s.player_id == silent)
        assert info.sitting_out and info.time_bank_ms == REFILL_MS  # bank spent, one refill
        sat_out = [
            b for _, b in bodies
            if isinstance(b, game.SeatChanged) and b.view is not None
            and b.view.player_id == silent and b.view.state == "sitting_out"
        ]  # fmt: skip
        assert sat_out, "the silent player's seat was never shown as sitting out"
        await session.assert_conserved(table)


async def test_disconnected_player_keeps_seat_uses_time_bank_then_sits_out_and_returns(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    gone = 3
    async with running_game(sqlite_url(tmp_path), seed=4) as session:
        table = await session.open_table(nlhe(
            "timers", between_hands_ms=1_000, action_timeout_ms=ACTION_MS,
            time_bank_ms=BANK_MS, time_bank_refill_ms=REFILL_MS,
        ))  # fmt: skip
        await session.fund([1, 2, 3])
        stream = session.channel.stream()
        seats = await session.seat_all(table, [1, 2, 3], buy_in=200)
        gone_seat = next(seat for seat, player in seats.items() if player == gone)
        # The session lost its websocket: the bot cannot answer, the seat is held.
        bots = Bots(table, "timers", seats, random.Random(4), silent={gone})
        await table.ask(ConnectionChanged(player_id=gone, connected=False))
        mock_clock.autojump_threshold = 0
        state = {"sat_out": False, "back_in": False}

        def until(player_id: int, body: game.GamePush) -> bool:
            if player_id != 1:
                return False
            if (
                isinstance(body, game.SeatChanged)
                and body.view is not None
                and body.view.player_id == gone
                and body.view.state == "sitting_out"
                and not state["sat_out"]
            ):
                state["sat_out"] = True
                assert body.seat == gone_seat and not body.view.connected  # the seat is held
                # The player comes back: the table resends its state, they sit in again.
                # (Tells, not asks: on the autojump clock an ask's deadline would be jumped
                # to while the table waits for the database.)
                bots.silent.discard(gone)
                table.tell(ConnectionChanged(player_id=gone, connected=True))
                table.tell(SitIn(player_id=gone, post_now=True))
                return False
            if state["sat_out"] and isinstance(body, game.HandEnded) and gone_seat in body.seats:
                state["back_in"] = True
                return True
            return False

        await drive(session, bots, stream, until)
        mock_clock.autojump_threshold = math.inf  # asks below: let the clock stand still
        assert state["back_in"]

        mine = session.channel.bodies[gone]
        first_prompt = next(
            b for _, b in mine if isinstance(b, game.ActionRequired) and b.seat == gone_seat
        )
        assert first_prompt.act_within_ms == 0  # disconnected: straight to the time bank
        prompt_at = next(
            at for at, b in mine if isinstance(b, game.ActionRequired) and b.seat == gone_seat
        )
        acted_at = next(
            at for at, b in mine
            if isinstance(b, game.ActionTaken) and b.timed_out and b.seat == gone_seat
        )  # fmt: skip
        assert abs((acted_at - prompt_at) - BANK_MS / 1000) < 1e-6
        snapshots = [b for _, b in mine if isinstance(b, game.TableSnapshot)]
        assert len(snapshots) >= 2  # on sitting down and on coming back
        own_acts = [
            b for _, b in mine
            if isinstance(b, game.ActionTaken) and b.seat == gone_seat and not b.timed_out
        ]  # fmt: skip
        assert own_acts, "the returning player never acted again"
        await session.assert_conserved(table)
