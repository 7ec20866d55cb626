"""A silent player on a real websocket: the table's clock acts for them (check if free, else
fold), and they are sat out after the hand. Short clocks on the real clock: the store's
worker thread would let an autojump clock time the server's own asks out."""

from __future__ import annotations

from pathlib import Path

from protocol import game
from tests.e2e.harness import running_server, table_config, wait_for


async def test_silent_player_is_folded_by_the_timer_then_sat_out(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server:
        config = table_config("clock", action_timeout_ms=150, time_bank_ms=100)
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
        assert isinstance(prompt, game.ActionRequired) and prompt.act_within_ms == 150
        _, bank = await wait_for(
            frames, lambda p, b: p == bob.player_id and isinstance(b, game.TimeBankStarted)
        )
        assert isinstance(bank, game.TimeBankStarted) and bank.seat == seat
        _, acted = await wait_for(
            frames,
            lambda p, b: p == alice.player_id and isinstance(b, game.ActionTaken) and b.timed_out,
        )
        assert isinstance(acted, game.ActionTaken) and acted.seat == seat
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
