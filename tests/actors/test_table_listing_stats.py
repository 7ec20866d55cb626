"""The listing's hands per hour and average pot are part of the table's durable state: a
restarted table (a crash, or a new process) lists what it played in the last hour."""

from __future__ import annotations

import random
from pathlib import Path

from actors.table_messages import AddWatcher, GetListing, GetSeats
from protocol import game
from tests.actors.test_table_fakes import Bots, drive, nlhe, running_game, sqlite_url

WATCHER = 999


async def test_listing_stats_survive_a_table_restart(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=51) as session:
        table = await session.open_table(nlhe("stats", between_hands_ms=10))
        await session.fund([1, 2, 3])
        stream = session.channel.stream()
        seats = await session.seat_all(table, [1, 2, 3], buy_in=200)
        await table.ask(AddWatcher(player_id=WATCHER))
        bots = Bots(table, "stats", seats, random.Random(51), refill=200)
        ended = 0

        def three_hands(player_id: int, body: game.GamePush) -> bool:
            nonlocal ended
            ended += player_id == WATCHER and isinstance(body, game.HandEnded)
            return ended >= 3

        await drive(session, bots, stream, three_hands)
        before = await table.ask(GetListing())
        assert before.hands_per_hour >= 3 and before.average_pot > 0
        played = (await table.ask(GetSeats())).hands_played
        table.tell("not a table message")  # a crash: the table restarts from its snapshot
        after = await table.ask(GetListing())  # the mailbox outlives the crash: asked after
        assert session.runtime.registry.supervisor("tables").child("table:stats").restarts == 1
        view = await table.ask(GetSeats())
        # Whatever ran when it crashed was voided; every hand played still counts.
        assert after.hands_per_hour == view.hands_played >= played
