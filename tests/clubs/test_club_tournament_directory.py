"""Club tournaments in the tournament directory (actors/tournament_directory.py), actor by
actor on both backends: a club tournament's row in ``club_tournaments`` with its tournament,
listings and subscriptions that show club tournaments to their clubs' members only, a
membership change that adds or removes them from a live subscription (and unregisters, with
a refund, a player who lost access), and subscriptions that end with the session."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest

from actors import tournament_directory
from actors.tournament_directory import (
    ListVisibleTournaments,
    SubscribeVisibleTournaments,
    TournamentClubAccess,
    TournamentLobbyHooks,
)
from actors.tournament_messages import (
    GetStandings,
    ListTournaments,
    RegisterPlayer,
    SubscribeTournamentLobby,
    TournamentRefusal,
    TournamentSpec,
)
from persistence import clubs as club_db
from protocol import tournaments as wire
from services.clubs import Clubs
from tests.persistence.stores import BACKENDS, store_url
from tests.tournaments.harness import FUNDS, Room, tournament_room

LATER_MS = 2**62


def _spec(name: str, club_id: int | None = None) -> TournamentSpec:
    return TournamentSpec(name=name, preset="hyper-hands", buy_in=100, fee=10, entries_max=6,
                          starts_at_ms=LATER_MS, club_id=club_id)  # fmt: skip


async def _club(room: Room) -> tuple[int, int, int]:
    """(club id, owner, member): the owner's open club."""
    olga = (await room.store.create_account("olga", "hash", "player")).id
    bea = (await room.store.create_account("bea", "hash", "player")).id
    clubs = Clubs(room.store)
    info = await clubs.create(olga, "Owls", join_policy="open")
    await clubs.join(bea, info.code)
    return info.club_id, olga, bea


def _ids(found: Any) -> set[int]:
    return {s.tournament_id for s in found}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_club_tournaments_are_listed_and_pushed_to_their_members_only(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    async with tournament_room(await store_url(backend, tmp_path, postgres_url), 7) as room:
        club_id, olga, bea = await _club(room)
        public = await room.create(_spec("Public"))
        mine = await room.create(_spec("Owls", club_id))
        assert await room.store.run(partial(club_db.club_of_tournament, mine)) == club_id
        assert await room.store.run(partial(club_db.club_of_tournament, public)) is None

        directory = room.directory
        assert _ids(await directory.ask(ListTournaments())) == {public, mine}  # staff
        assert _ids(await directory.ask(ListVisibleTournaments())) == {public}
        assert _ids(await directory.ask(ListVisibleTournaments(clubs=(club_id,)))) == {
            public, mine,
        }  # fmt: skip
        with pytest.raises(TournamentRefusal):  # bound: a player's clubs
            await directory.ask(ListVisibleTournaments(clubs=tuple(range(1, 52))))
        outsider = 999
        shown = await directory.ask(SubscribeTournamentLobby(player_id=outsider))
        assert _ids(shown) == {public}
        shown = await directory.ask(SubscribeVisibleTournaments(player_id=bea, clubs=(club_id,)))
        assert _ids(shown) == {public, mine}

        await room.fund([bea, outsider])
        await room.tournament(mine).ask(RegisterPlayer(player_id=bea))
        await directory.ask(ListTournaments())  # after the tournament's SummaryChanged tell
        lines = room.channel.of(bea, wire.TournamentLobbyChanged)
        assert [line.tournament.entries for line in lines if line.tournament.tournament_id == mine]
        assert not [
            b for b in room.channel.of(outsider, wire.TournamentLobbyChanged)
            if b.tournament.tournament_id == mine
        ]  # fmt: skip

        # The outsider joins the club: it is added to her live lobby.
        directory.tell(TournamentClubAccess(player_id=outsider, club_id=club_id, member=True))
        await directory.ask(ListTournaments())
        added = room.channel.of(outsider, wire.TournamentLobbyChanged)[-1]
        assert added.tournament.tournament_id == mine and added.tournament.club_id == club_id

        # Bea loses access: removed from her lobby, unregistered and refunded.
        assert await room.balance(bea) == FUNDS - 110
        directory.tell(TournamentClubAccess(player_id=bea, club_id=club_id, member=False))
        await directory.ask(ListTournaments())
        removed = room.channel.of(bea, wire.TournamentLobbyRemoved)
        assert removed == [wire.TournamentLobbyRemoved(tournament_id=mine)]
        standings = await room.tournament(mine).ask(GetStandings())  # after the tell
        assert standings.lines == ()  # her entry is gone
        assert await room.balance(bea) == FUNDS
        assert olga != bea


class _TableHooks:
    """The tables' hooks, recording the session ends they hear of."""

    def __init__(self) -> None:
        self.ended: list[int | None] = []

    def session_ended(self, player_id: int | None, player: str, session_id: str) -> None:
        self.ended.append(player_id)

    def table_ids(self, player_id: int | None) -> list[str]:
        return ["t-1"]


async def test_a_session_end_ends_its_tournament_lobby_subscription(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tournament_directory, "SUBSCRIBERS_MAX", 1)
    async with tournament_room(await store_url("sqlite", tmp_path, postgres_url), 8) as room:
        directory = room.directory
        await directory.ask(SubscribeTournamentLobby(player_id=1))
        with pytest.raises(TournamentRefusal) as full:
            await directory.ask(SubscribeTournamentLobby(player_id=2))
        assert full.value.code == "lobby_full"
        inner = _TableHooks()
        hooks = TournamentLobbyHooks(inner, room.runtime.registry)
        hooks.session_ended(1, "ann", "s-1")
        hooks.session_ended(None, "guest", "s-2")  # a guest subscribes to nothing
        assert inner.ended == [1, None]  # the tables' hook still runs
        assert hooks.table_ids(1) == ["t-1"]  # every other hook is the tables'
        await directory.ask(SubscribeTournamentLobby(player_id=2))
