"""The listing's hands per hour and average pot are part of the table's durable state: a
restarted table (a crash, or a new process) lists what it played in the last hour. Its stakes
and rake are the ones the hands are played with."""

from __future__ import annotations

import random
from pathlib import Path

from actors.table.config import TableConfig
from actors.table.messages import (
    AddWatcher,
    GetListing,
    GetSeats,
)
from actors.table.state import TableState, listing_of
from poker import Variant
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


def test_a_config_and_its_listing_say_the_stakes_and_rake_the_hands_use() -> None:
    limit = TableConfig(
        table_id="ft", name="Limit Hold'em 2/4", variant=Variant.FIXED_LIMIT_HOLDEM,
        small_blind=1, big_blind=2, seats=9,
    )  # fmt: skip
    # Zeros ask for the defaults, and the config then says them.
    assert (limit.buy_in_min, limit.buy_in_max, limit.rake_cap) == (80, 400, 6)
    rules = limit.hand_config()
    listing = listing_of(TableState(config=limit), (), 0.0)
    assert (listing.small_bet, listing.big_bet) == (rules.small_bet, rules.big_bet) == (2, 4)
    assert (listing.rake_bp, listing.rake_cap) == (rules.rake_bp, rules.rake_cap) == (500, 6)
    assert listing.rake_no_flop_no_drop is rules.no_flop_no_drop is True
    capped = listing_of(TableState(config=nlhe("nl", rake_cap=4)), (), 0.0)
    assert (capped.small_bet, capped.big_bet, capped.rake_cap) == (None, None, 4)
