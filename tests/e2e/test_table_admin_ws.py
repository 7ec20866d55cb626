"""Operator controls seen from real websockets: players are told the table is paused (no new
hand starts), resumed, and closed (stood up and paid after the hand; the wallets over the
wire hold every chip back, less the rake)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import trio

from actors.runtime import wait_down
from actors.table.admin import close_table, pause_table, resume_table
from protocol import game
from services.ledger import RAKE, house_account
from tests.e2e.harness import FUNDS, running_server, table_config, wait_for


async def test_players_see_pause_resume_and_close_and_are_paid(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server:
        await server.open_table(table_config("ops", between_hands_ms=50))
        frames = server.recorder.stream()
        players = [await server.player(f"ops{i}", 60 + i) for i in range(3)]
        for player in players:
            await player.join("ops", 200)
        first = players[0].player_id

        def status(wanted: str) -> Callable[[int, game.GamePush], bool]:
            return lambda p, b: (
                p == first and isinstance(b, game.TableStatusChanged) and b.status == wanted
            )

        await wait_for(frames, lambda p, b: p == first and isinstance(b, game.HandStarted))
        await pause_table(server.registry, "ops")
        await wait_for(frames, status("paused"))
        _, ended = await wait_for(frames, lambda p, b: p == first and isinstance(b, game.HandEnded))
        assert isinstance(ended, game.HandEnded)
        await trio.sleep(0.3)  # six times the pause between hands: nothing starts
        started = server.recorder.of(first, game.HandStarted)
        assert [h.hand_number for h in started] == [ended.hand_number]

        await resume_table(server.registry, "ops")
        await wait_for(frames, status("open"))
        await wait_for(frames, lambda p, b: p == first and isinstance(b, game.HandStarted))
        table = server.registry.get("table:ops")
        detail = await close_table(server.registry, "ops")
        assert detail.status in ("closing", "closed")
        await wait_for(frames, status("closed"))
        with trio.fail_after(5):
            down = await wait_down(table)
        assert down.reason == "normal" and "table:ops" not in server.registry
        balances = [(await p.client.balance()).balance for p in players]
        rake = await server.store.ledger_account(house_account(RAKE))
        assert sum(balances) + (rake.balance if rake else 0) == 3 * FUNDS
        assert server.recorder.assert_no_hole_card_leaks() > 0
