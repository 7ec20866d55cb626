"""A silent player on a real websocket: the table's clock acts for them (check if free, else
fold), and they are sat out after the hand. Production-length clocks (a 30 s action clock,
a 20 s time bank) on trio's autojump clock, held still while the store's thread works."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from protocol import game
from tests.e2e.clock import autojump_between_threads
from tests.e2e.harness import running_server, table_config, wait_for

ACTION_TIMEOUT_MS = 30_000
TIME_BANK_MS = 20_000
CLOCKS_S = 2 * (ACTION_TIMEOUT_MS + TIME_BANK_MS) / 1000  # a wait longer than both clocks


async def test_silent_player_is_folded_by_the_timer_then_sat_out(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with running_server(tmp_path) as server:
        config = table_config(
            "clock", action_timeout_ms=ACTION_TIMEOUT_MS, time_bank_ms=TIME_BANK_MS
        )
        await server.open_table(config)
        frames = server.recorder.stream()
        alice = await server.player("alice", 1)
        bob = await server.player("bob", 2, silent=True)
        await alice.join("clock", 200)
        seat = (await bob.join("clock", 200)).seat

        _, prompt = await wait_for(
            frames,
            lambda p, b: (
                p == bob.player_id and isinstance(b, game.ActionRequired) and b.seat == seat
            ),
        )
        assert isinstance(prompt, game.ActionRequired)
        assert prompt.act_within_ms == ACTION_TIMEOUT_MS
        prompted_at = trio.current_time()
        _, bank = await wait_for(
            frames,
            lambda p, b: p == bob.player_id and isinstance(b, game.TimeBankStarted),
            timeout_s=CLOCKS_S,
        )
        assert isinstance(bank, game.TimeBankStarted) and bank.seat == seat
        assert trio.current_time() - prompted_at == pytest.approx(ACTION_TIMEOUT_MS / 1000, abs=0.1)
        _, acted = await wait_for(
            frames,
            lambda p, b: p == alice.player_id and isinstance(b, game.ActionTaken) and b.timed_out,
            timeout_s=CLOCKS_S,
        )
        assert isinstance(acted, game.ActionTaken) and acted.seat == seat
        took_s = trio.current_time() - prompted_at
        # The bank is the table's 20 s, plus the refill of each hand that ended before this one.
        assert bank.time_bank_ms >= TIME_BANK_MS
        assert took_s == pytest.approx((ACTION_TIMEOUT_MS + bank.time_bank_ms) / 1000, abs=0.1)
        # Check when free, else fold: facing the big blind's bet, the clock folds or checks.
        assert acted.action == ("check" if prompt.legal.check else "fold")
        await wait_for(
            frames,
            lambda p, b: (
                p == alice.player_id
                and isinstance(b, game.SeatChanged)
                and b.view is not None
                and b.view.player_id == bob.player_id
                and b.view.state == "sitting_out"
            ),
        )
        view = await server.seats("clock")
        bob_seat = next(s for s in view.seats if s.player_id == bob.player_id)
        assert bob_seat.sitting_out and view.hand_number == 0  # one player left: no hand
        await server.audit("clock")

        # Coming back: wait for the big blind sits them in again.
        await bob.client.request(game.WaitForBigBlind(id=0, table_id="clock"))
        await wait_for(
            frames,
            lambda p, b: p == bob.player_id and isinstance(b, game.HandStarted),
        )
        assert server.recorder.assert_no_hole_card_leaks() > 0
