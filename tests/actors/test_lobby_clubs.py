"""The lobby and the seat matcher with club tables (docs/clubs.md, "Club tables"): each
listing and push goes to the public and to the club's members only, a membership change
moves the club's tables in or out of a live subscription (and stands a lost member up),
and quick-seat keeps clubs and the public apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.lobby import (
    ClubAccessChanged,
    ListAllTables,
    ListVisibleTables,
    SubscribeVisibleListings,
)
from actors.seat_matcher import FindClubSeat, quick_seat
from actors.table.messages import (
    FindSeat,
    GameRefused,
    GetSeats,
    JoinSeat,
    JoinWaiting,
    ListTablesQuery,
    SubscribeListings,
    TableSeats,
)
from protocol import game
from tests.actors.test_table_fakes import nlhe, running_game, sqlite_url

MEMBER, OUTSIDER = 501, 502


def _ids(listings: object) -> list[str]:
    assert isinstance(listings, tuple)
    return [t.table_id for t in listings]


async def test_club_tables_are_listed_and_pushed_to_members_only(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=3) as session:
        lobby = session.runtime.registry.get("lobby")
        await lobby.ask(SubscribeVisibleListings(player_id=MEMBER, clubs=(7,)))
        await lobby.ask(SubscribeListings(player_id=OUTSIDER))
        await session.open_table(nlhe("pub", between_hands_ms=60_000))
        await session.open_table(nlhe("club7-a", club_id=7, between_hands_ms=60_000))
        await session.open_table(nlhe("club8-a", club_id=8, between_hands_ms=60_000))

        assert _ids(await lobby.ask(ListTablesQuery())) == ["pub"]
        assert _ids(await lobby.ask(ListVisibleTables(clubs=(7,)))) == ["club7-a", "pub"]
        assert _ids(await lobby.ask(ListAllTables())) == ["club7-a", "club8-a", "pub"]
        listed = await lobby.ask(ListVisibleTables(clubs=(7,)))
        assert {t.table_id: t.club_id for t in listed} == {"club7-a": 7, "pub": None}
        pushed = {c.listing.table_id for c in session.channel.of(MEMBER, game.LobbyTableChanged)}
        assert pushed == {"pub", "club7-a"}
        pushed = {c.listing.table_id for c in session.channel.of(OUTSIDER, game.LobbyTableChanged)}
        assert pushed == {"pub"}
        with pytest.raises(GameRefused) as refused:
            await lobby.ask(ListVisibleTables(clubs=tuple(range(1, 52))))
        assert refused.value.code == "lobby_full"


async def test_a_membership_change_moves_the_clubs_tables_and_stands_a_lost_member_up(
    tmp_path: Path,
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=4) as session:
        lobby = session.runtime.registry.get("lobby")
        table = await session.open_table(
            nlhe("club7-a", club_id=7, seats=2, between_hands_ms=60_000)
        )
        other = await session.open_table(nlhe("club7-b", club_id=7, between_hands_ms=60_000))
        await session.fund([MEMBER, 1, 2])
        await table.ask(JoinSeat(player_id=1, buy_in=100))
        await table.ask(JoinSeat(player_id=2, buy_in=100))
        await table.ask(JoinWaiting(player_id=MEMBER))  # full: she waits there
        await lobby.ask(SubscribeListings(player_id=MEMBER))
        lobby.tell(ClubAccessChanged(player_id=MEMBER, club_id=7, member=True))
        await lobby.ask(ListTablesQuery())  # the lobby has handled the change
        added = session.channel.of(MEMBER, game.LobbyTableChanged)
        assert {c.listing.table_id for c in added} == {"club7-a", "club7-b"}
        await other.ask(JoinSeat(player_id=MEMBER, buy_in=100))
        listed = await lobby.ask(ListAllTables())
        assert [t.waiting for t in listed if t.table_id == "club7-a"] == [1]

        lobby.tell(ClubAccessChanged(player_id=MEMBER, club_id=7, member=False))
        await lobby.ask(ListTablesQuery())  # the lobby has handled the change
        removed = session.channel.of(MEMBER, game.LobbyTableRemoved)
        assert {r.table_id for r in removed} == {"club7-a", "club7-b"}
        seats = await other.ask(GetSeats())  # after the StandUp the lobby told it
        assert isinstance(seats, TableSeats)
        assert all(s is None or s.player_id != MEMBER for s in seats.seats)
        await table.ask(GetSeats())  # after the LeaveWaiting the lobby told it
        await lobby.ask(ListTablesQuery())  # after the listing the table announced
        listed = await lobby.ask(ListAllTables())
        assert [t.waiting for t in listed if t.table_id == "club7-a"] == [0]
        await session.assert_conserved(other)


async def test_quick_seat_keeps_clubs_and_the_public_apart(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=5) as session:
        registry = session.runtime.registry
        await session.open_table(nlhe("club7-hu", club_id=7, seats=2, between_hands_ms=60_000))
        await session.fund([1, 2, 3])
        with pytest.raises(GameRefused) as refused:  # no public table plays it
            await quick_seat(registry, FindSeat(player_id=1, variant="NT", big_blind=2, buy_in=100))
        assert refused.value.code == "no_such_game"
        for player in (1, 2):
            granted = await quick_seat(registry, FindClubSeat(player, "NT", 2, 100, club_id=7))
            assert granted.table_id == "club7-hu"
        with pytest.raises(GameRefused) as refused:  # full: the matcher opens none for a club
            await quick_seat(registry, FindClubSeat(3, "NT", 2, 100, club_id=7))
        assert refused.value.code == "table_full"
        assert _ids(await registry.get("lobby").ask(ListAllTables())) == ["club7-hu"]
