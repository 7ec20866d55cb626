"""Six bots play a long session at one table: chips conserved after every hand (stacks against
the table's escrow, and the whole ledger audit), histories written, no hole card leaked."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import trio

from actors.table.messages import AddWatcher, GetListing, ListTablesQuery
from poker import phh
from protocol import game
from tests.actors.test_table_fakes import (
    Bots,
    Game,
    assert_no_hole_card_leaks,
    nlhe,
    running_game,
    sqlite_url,
)

WATCHER = 999


async def play_session(session: Game, hands: int, seed: int) -> None:
    # Seat everyone before the first hand can start, then let the bots loose.
    table = await session.open_table(nlhe("t1", rake_bp=500, between_hands_ms=10))
    players = list(range(1, 7))
    await session.fund(players)
    stream = session.channel.stream()
    seats = await session.seat_all(table, players, buy_in=200)
    await table.ask(AddWatcher(player_id=WATCHER))
    bots = Bots(table, "t1", seats, random.Random(seed), refill=200)
    ended = 0
    async with trio.open_nursery() as nursery:
        # The watcher's copy of each HandEnded paces the checks: one audit per hand.
        async for player_id, body in stream:
            if player_id == WATCHER and isinstance(body, game.HandEnded):
                ended += 1
                await session.assert_conserved(table)
                if ended >= hands:
                    nursery.cancel_scope.cancel()
                    break
            elif bots.wants(body):
                nursery.start_soon(bots.act_on, player_id, body)
    view = await session.seats(table)
    assert view.hands_played >= hands
    listing = await table.ask(GetListing())
    assert listing.hands_per_hour == view.hands_played  # all within the last hour
    assert listing.average_pot > 0 and listing.seats_taken == 6
    lobby = session.runtime.registry.get("lobby")
    (listed,) = await lobby.ask(ListTablesQuery())
    assert listed.table_id == "t1" and listed.hands_per_hour > 0
    summaries = await session.store.hands_by_table("t1", limit=200)
    assert len(summaries) == min(200, view.hands_played)
    assert sum(s.rake for s in summaries) > 0
    for summary in summaries[:20]:
        record = await session.store.get_hand(summary.hand_id)
        assert record is not None
        history = phh.loads(record.phh)  # PHH text that reads back, chips conserved
        assert history.finishing_stacks is not None
        assert sum(history.finishing_stacks) + record.rake == sum(history.starting_stacks)
    seat_of = {("t1", player): seat for seat, player in seats.items()}
    assert assert_no_hole_card_leaks(session.channel, seat_of) > hands * 10
    watcher_bodies = session.channel.of(WATCHER, game.HoleCards)
    assert watcher_bodies == []


@pytest.mark.parametrize("seed", [11])
@pytest.mark.parametrize("hands", [200])
async def test_six_players_play_200_hands_with_chips_conserved(
    tmp_path: Path, seed: int, hands: int
) -> None:
    print(f"seed={seed}")
    async with running_game(sqlite_url(tmp_path), seed) as session:
        await play_session(session, hands, seed)


async def test_six_players_on_postgresql(postgres_url: str) -> None:
    seed = 5
    print(f"seed={seed}")
    async with running_game(postgres_url, seed) as session:
        await play_session(session, 30, seed)
