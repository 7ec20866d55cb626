"""The club gate (actors/club_tables.py) when a membership ends between its check and the
table's answer: what the table granted is taken back and the request refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.club_tables import ClubTableGate
from actors.table.messages import GameRefused, GetSeats, TableSeats
from actors.table.requests import TableGameRequests
from protocol import game
from protocol.messages import Reply
from services.clubs import Clubs
from tests.actors.test_table_fakes import nlhe, running_game, sqlite_url


@pytest.mark.parametrize("how", ["join", "quick_seat", "watch"])
async def test_a_removal_between_the_check_and_the_table_takes_the_seat_back(
    tmp_path: Path, how: str
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=6) as session:
        store, registry = session.store, session.runtime.registry
        owner = (await store.create_account("own", "x", "player")).id
        bea = (await store.create_account("bea", "x", "player")).id
        clubs = Clubs(store)
        club = await clubs.create(owner, "Owls", join_policy="open")
        await clubs.join(bea, club.code)
        table_id = await clubs.new_table_id(owner, club.club_id)
        table = await session.open_table(
            nlhe(table_id, club_id=club.club_id, between_hands_ms=60_000)
        )
        await session.fund([bea])

        class RemovedMeanwhile:
            """The removal commits after the gate's check, before the table answers."""

            async def handle(
                self, player_id: int, player: str, request: game.GameRequest, address: str = ""
            ) -> Reply | None:
                await clubs.remove(owner, club.club_id, bea)
                inner = TableGameRequests(registry)
                return await inner.handle(player_id, player, request, address)

        gate = ClubTableGate(RemovedMeanwhile(), registry, clubs)
        request: game.GameRequest = {
            "join": game.JoinTable(id=1, table_id=table_id, buy_in=100),
            "watch": game.Watch(id=1, table_id=table_id),
            "quick_seat": game.QuickSeat(
                id=1, variant="NT", big_blind=2, buy_in=100, club_id=club.club_id
            ),
        }[how]
        if how == "quick_seat":  # the matcher is not the inner door: remove before it runs
            await clubs.check_member(bea, club.club_id)
            gate = ClubTableGate(TableGameRequests(registry), registry, clubs)
            original = clubs.check_member

            async def then_removed(player_id: int, club_id: int) -> None:
                await original(player_id, club_id)
                await clubs.remove(owner, club.club_id, bea)

            clubs.check_member = then_removed  # type: ignore[method-assign]
        with pytest.raises(GameRefused) as refused:
            await gate.handle(bea, "bea", request)
        assert refused.value.code == "not_club_member"
        seats = await table.ask(GetSeats())  # after the gate's tell
        assert isinstance(seats, TableSeats)
        assert all(s is None or s.player_id != bea for s in seats.seats)
        assert table_id not in session.deps.player_tables.watched_by(bea)
        await session.assert_conserved(table)
