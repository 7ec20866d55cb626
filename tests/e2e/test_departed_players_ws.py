"""A player who is gone (logged out, or whose session the server ended, as for a ban) never
holds a hand up: their seat shows disconnected and leaving, the table acts for them at once on
their turn (no action clock, no time bank), and they are cashed out when the hand ends.
Production-length clocks on trio's autojump clock, held still while the store's thread works."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import trio
import trio.testing

from protocol import game
from tests.e2e.clock import autojump_between_threads
from tests.e2e.harness import FUNDS, Player, Server, running_server, table_config, wait_for

ACTION_TIMEOUT_MS = 15_000
TIME_BANK_MS = 30_000
BUY_IN = 200
TABLE = "gone"


async def logs_out(server: Server, player: Player) -> None:
    """The swarm's way out: leave the table (in a hand: after it), then log out."""
    reply = await player.client.request(game.LeaveTable(id=0, table_id=TABLE))
    assert isinstance(reply, game.LeftTable) and reply.cashed_out is None  # in the hand
    await player.client.logout()


async def is_ended_by_the_server(server: Server, player: Player) -> None:
    """What the gateway does to a banned player's session (their connection may linger)."""
    (session,) = server.gateway.sessions.of_player(player.name)
    server.gateway.end_session(session)


@pytest.mark.parametrize("leaves", [logs_out, is_ended_by_the_server])
async def test_a_departed_player_is_acted_for_at_once_and_cashed_out_after_the_hand(
    leaves: Callable[[Server, Player], Awaitable[None]],
    tmp_path: Path,
    autojump_clock: trio.testing.MockClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with running_server(tmp_path) as server:
        config = table_config(TABLE, action_timeout_ms=ACTION_TIMEOUT_MS, time_bank_ms=TIME_BANK_MS)
        await server.open_table(config)
        frames = server.recorder.stream()
        # The others never fold, so the hand always comes round to bob's decision.
        alice = await server.player("alice", 1, calls_only=True)
        carol = await server.player("carol", 3, calls_only=True)
        bob = await server.player("bob", 2, acting=False)  # gone before he answers anything
        for player in (alice, carol, bob):
            await player.join(TABLE, BUY_IN)
        seat = bob.seats[TABLE]

        _, started = await wait_for(
            frames,
            lambda p, b: (
                p == alice.player_id and isinstance(b, game.HandStarted) and seat in b.seats
            ),
        )
        assert isinstance(started, game.HandStarted)
        await leaves(server, bob)
        gone_at = trio.current_time()
        _, view = await wait_for(
            frames,
            lambda p, b: (
                p == alice.player_id
                and isinstance(b, game.SeatChanged)
                and b.seat == seat
                and b.view is not None
                and not b.view.connected
            ),
        )
        assert isinstance(view, game.SeatChanged) and view.view is not None
        assert view.view.state == "leaving"
        _, acted = await wait_for(
            frames,
            lambda p, b: (
                p == alice.player_id and isinstance(b, game.ActionTaken) and b.seat == seat
            ),
            timeout_s=3 * (ACTION_TIMEOUT_MS + TIME_BANK_MS) / 1000,
        )
        assert isinstance(acted, game.ActionTaken) and acted.timed_out
        assert trio.current_time() - gone_at < 1.0  # not 15 s of clock plus the time bank
        _, ended = await wait_for(
            frames,
            lambda p, b: (
                p == alice.player_id
                and isinstance(b, game.HandEnded)
                and b.hand_number == started.hand_number
            ),
            timeout_s=3 * (ACTION_TIMEOUT_MS + TIME_BANK_MS) / 1000,
        )
        assert isinstance(ended, game.HandEnded)
        final = ended.stacks[ended.seats.index(seat)]
        await wait_for(
            frames,
            lambda p, b: (
                p == alice.player_id
                and isinstance(b, game.SeatChanged)
                and b.seat == seat
                and b.view is None
            ),
        )
        assert all(s.player_id != bob.player_id for s in (await server.seats(TABLE)).seats)
        await server.audit(TABLE)  # what he had left is paid (the audit settles first)
        balance = await server.wallet.balance(bob.player_id)
        assert balance.balance == FUNDS - BUY_IN + final
        # The players still there can leave as usual.
        reply = await alice.client.request(game.LeaveTable(id=0, table_id=TABLE))
        assert isinstance(reply, game.LeftTable)
        assert server.recorder.assert_no_hole_card_leaks() > 0
