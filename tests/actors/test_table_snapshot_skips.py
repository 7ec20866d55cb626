"""The table takes no runtime snapshot after the messages it lists in
``snapshot_unchanged_by``: each of them must leave the state's bytes as they were, or a
restart would resume from a stale state. Checked at every such message of real hands."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from actors.table.actor import TableActor
from actors.table.messages import GetListing, GetSeats, HandProgress, PlayerAct
from actors.table.state import encode_table_state
from protocol import game
from tests.actors.test_table_fakes import Bots, drive, nlhe, running_game, sqlite_url


def test_the_table_skips_snapshots_after_its_relays_and_reads_only() -> None:
    assert set(TableActor.snapshot_unchanged_by) == {HandProgress, PlayerAct, GetListing, GetSeats}


async def test_relays_and_reads_leave_the_table_state_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = TableActor.handle
    checked: dict[str, int] = {}

    async def checking_handle(self: TableActor, message: Any) -> object:
        if type(message) not in TableActor.snapshot_unchanged_by:
            return await handle(self, message)
        before = encode_table_state(self.state)
        try:
            return await handle(self, message)
        finally:
            assert encode_table_state(self.state) == before, type(message).__name__
            name = type(message).__name__
            checked[name] = checked.get(name, 0) + 1

    monkeypatch.setattr(TableActor, "handle", checking_handle)
    async with running_game(sqlite_url(tmp_path), seed=25) as session:
        table = await session.open_table(nlhe("t1", rake_bp=500, between_hands_ms=10))
        players = list(range(1, 7))
        await session.fund(players)
        stream = session.channel.stream()
        seats = await session.seat_all(table, players, buy_in=200)
        bots = Bots(table, "t1", seats, random.Random(25), refill=200)

        async def after_hands(player_id: int, body: game.GamePush) -> bool:
            if isinstance(body, game.HandEnded) and player_id == seats[0]:
                await table.ask(GetListing())
                await table.ask(GetSeats())
                return body.hand_number >= 8
            return False

        await drive(session, bots, stream, after_hands)
        await session.assert_conserved(table)
    assert checked.get("PlayerAct", 0) > 20 and checked.get("HandProgress", 0) > 40, checked
    assert checked.get("GetListing", 0) >= 8 and checked.get("GetSeats", 0) >= 8, checked
