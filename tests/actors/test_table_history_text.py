"""A stored hand of a real table, rendered for people: the table's name and size and the
seats as the table numbers them; staff see every dealt hand, a player their own only."""

from __future__ import annotations

import random
from pathlib import Path

import trio

from actors.table.messages import JoinSeat
from persistence.hands import hand_phh, hand_text
from poker import phh
from poker.text_history import Viewer
from protocol import game
from tests.actors.test_table_fakes import Bots, nlhe, running_game, sqlite_url


async def test_a_stored_hand_reads_with_the_tables_name_size_and_seats(tmp_path: Path) -> None:
    config = nlhe("nt-1-2-b", name="Hold'em 1/2 B", seats=9, between_hands_ms=10)
    async with running_game(sqlite_url(tmp_path), seed=5) as session:
        table = await session.open_table(config)
        await session.fund([1, 2, 3])
        stream = session.channel.stream()
        seats = {}
        for player_id, seat in ((1, 2), (2, 5), (3, 8)):
            await table.ask(JoinSeat(player_id=player_id, buy_in=200, seat=seat))
            seats[seat] = player_id
        bots = Bots(table, "nt-1-2-b", seats, random.Random(5))
        started: game.HandStarted | None = None
        async with trio.open_nursery() as nursery:
            async for player_id, body in stream:
                if player_id == 1 and isinstance(body, game.HandStarted):
                    started = body
                if player_id == 1 and isinstance(body, game.HandEnded):
                    nursery.cancel_scope.cancel()
                    break
                if bots.wants(body):
                    nursery.start_soon(bots.act_on, player_id, body)
        assert started is not None
        await session.assert_conserved(table)  # settles: the history is written
        record = await session.store.get_hand(f"nt-1-2-b:1:{started.hand_number}")
        assert record is not None

    staff = hand_text(record, Viewer.staff()).splitlines()
    button = started.button + 1
    assert staff[1] == f"Table 'Hold'em 1/2 B' 9-max Seat #{button} is the button"
    assert staff[2:5] == [f"Seat {seat + 1}: {seats[seat]} (200 in chips)" for seat in (2, 5, 8)]
    assert sum(line.startswith("Dealt to ") for line in staff) == 3
    for player_id in (1, 2, 3):
        text = hand_text(record, Viewer.of_player(player_id))
        dealt = [line for line in text.splitlines() if line.startswith("Dealt to ")]
        assert [line.split(" [")[0] for line in dealt] == [f"Dealt to {player_id}"]
        seen = phh.loads(hand_phh(record, Viewer.of_player(player_id)))
        assert seen.players is not None
        shown = {a.split()[0]: a.split()[2] for a in seen.actions if " sm " in a}
        for action in seen.actions:
            if action.startswith("d dh "):
                _, _, who, cards = action.split()
                if seen.players[int(who[1:]) - 1] != str(player_id):
                    assert cards == "????" or shown.get(who) == cards, action
    assert hand_phh(record, Viewer.staff()) == record.phh
