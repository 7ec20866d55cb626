"""Club tournaments over real websockets and the public API (docs/clubs.md, "Club
tournaments"): an owner or manager creates one, the club's members see it in their
tournament lobby (listing and pushes) and register; an outsider never sees it and her
register, unregister and reads are refused ``not_club_member``, changing nothing; a removed
or banned member loses it from her live lobby and is unregistered with a refund; a member
cannot create one on either door. Also: a tournament lobby subscription ends with its
session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
import trio

from actors import tournament_directory
from actors.tournament_messages import (
    DIRECTORY_NAME,
    CreateTournament,
    GetStandings,
    TournamentAddress,
    TournamentCreated,
    TournamentSpec,
)
from protocol import clubs as wire
from protocol import tournaments as tw
from protocol.client import Client, ServerError, open_client
from protocol.messages import Event
from services.ledger import wallet
from tests.e2e.harness import FUNDS, PASSWORD, Server, running_server
from tests.e2e.test_club_tables_ws import _bearer
from tests.persistence.stores import BACKENDS, store_url

PUSHES_MAX: Final = 10_000
PRICE: Final = 110  # buy-in 100 + fee 10
LATER_MS: Final = 2**62  # a multi-table start that never comes during a test


@dataclass
class Peer:
    """A logged-in websocket client that keeps every push it receives."""

    name: str
    client: Client
    player_id: int
    pushes: trio.MemoryReceiveChannel[Any]
    seen: list[Any] = field(default_factory=list)

    async def next(self, wanted: Callable[[Any], bool]) -> Any:
        with trio.fail_after(10):
            async for body in self.pushes:
                if wanted(body):
                    return body
        raise AssertionError("the push stream ended")

    async def balance(self) -> int:
        return (await self.client.balance()).balance


async def _peer(server: Server, name: str, *, task_status: trio.TaskStatus[Peer]) -> None:
    async with open_client(server.listening.ws_url) as client:
        await client.register(name, PASSWORD)
        player_id = server.gateway.sessions.of_player(name)[0].player_id
        assert player_id is not None
        await server.wallet.adjust(f"fund:{name}", wallet(player_id), FUNDS, "funds")
        send, receive = trio.open_memory_channel[Any](PUSHES_MAX)
        peer = Peer(name, client, player_id, receive)
        task_status.started(peer)
        async for item in client.events():
            if isinstance(item, Event):
                peer.seen.append(item.body)
                send.send_nowait(item.body)


async def _refused(client: Client, message: Any, code: str) -> None:
    with pytest.raises(ServerError) as caught:
        await client.request(message)
    assert caught.value.code == code, caught.value


def _about(tid: int) -> Callable[[Any], bool]:
    return lambda b: (
        getattr(b, "tournament_id", None) == tid
        or (isinstance(b, tw.TournamentLobbyChanged) and b.tournament.tournament_id == tid)
    )


def _line(tid: int) -> Callable[[Any], bool]:
    return lambda b: isinstance(b, tw.TournamentLobbyChanged) and b.tournament.tournament_id == tid


def _club_tournament(club_id: int, **overrides: Any) -> wire.ClubCreateTournament:
    fields: dict[str, Any] = {
        "id": 0, "club_id": club_id, "name": "Owls Sunday", "preset": "hyper-hands",
        "buy_in": 100, "fee": 10, "seats_per_table": 3, "entries_max": 6,
        "starts_at_ms": LATER_MS,
    }  # fmt: skip
    return wire.ClubCreateTournament(**{**fields, **overrides})


async def _public_tournament(server: Server) -> int:
    directory = server.registry.lookup(DIRECTORY_NAME)
    assert directory is not None
    spec = TournamentSpec(name="Public", preset="hyper-hands", entries_max=6,
                          starts_at_ms=LATER_MS)  # fmt: skip
    created = await directory.ask(CreateTournament(spec=spec), timeout_s=10)
    assert isinstance(created, TournamentCreated)
    return created.tournament_id


async def _club_and_tournament(server: Server) -> tuple[Peer, Peer, Peer, int, str, int]:
    """Olga owns an open club, Bea is a member, Oscar is not; both subscribe to the
    tournament lobby before Olga creates the club's tournament.
    (olga, bea, oscar, club id, club code, tournament id)."""
    names = ("olga", "bea", "oscar")
    olga, bea, oscar = [await server.nursery.start(_peer, server, n) for n in names]
    created = await olga.client.request(wire.ClubCreate(id=0, name="Owls", join_policy="open"))
    assert isinstance(created, wire.ClubInfo)
    club_id, code = created.club.club_id, created.club.code
    joined = await bea.client.request(wire.ClubJoin(id=0, code=code))
    assert isinstance(joined, wire.ClubJoined) and joined.state == "member"
    for peer in (bea, oscar):
        listed = await peer.client.request(tw.SubscribeTournaments(id=0))
        assert isinstance(listed, tw.TournamentList)
    made = await olga.client.request(_club_tournament(club_id))
    assert isinstance(made, wire.ClubTournamentCreated) and made.club_id == club_id
    return olga, bea, oscar, club_id, code, made.tournament_id


async def _settled(server: Server, tid: int) -> None:
    """Asked after the directory's tells to the tournament: they are handled by then."""
    ref = server.registry.lookup(TournamentAddress(tid).actor_name)
    assert ref is not None
    await ref.ask(GetStandings(), timeout_s=10)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_club_tournament_is_seen_and_entered_by_members_only(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with running_server(tmp_path, database_url) as server:
        olga, bea, oscar, club_id, _, tid = await _club_and_tournament(server)
        pushed = await bea.next(_line(tid))
        assert isinstance(pushed, tw.TournamentLobbyChanged)
        assert pushed.tournament.club_id == club_id and pushed.tournament.fee == 10
        # A public tournament reaches both subscribers: every push before it has too.
        public = await _public_tournament(server)
        for peer in (oscar, bea):
            line = await peer.next(_line(public))
            assert isinstance(line, tw.TournamentLobbyChanged) and line.tournament.club_id is None
        assert not [b for b in oscar.seen if _about(tid)(b)]

        listed = await bea.client.request(tw.ListTournaments(id=0))
        assert isinstance(listed, tw.TournamentList)
        assert {t.tournament_id for t in listed.tournaments} == {tid, public}
        listed = await oscar.client.request(tw.ListTournaments(id=0, state="registering"))
        assert isinstance(listed, tw.TournamentList)
        assert [t.tournament_id for t in listed.tournaments] == [public]

        # Every way in is refused for the outsider, and nothing changes.
        for message in (
            tw.RegisterTournament(id=0, tournament_id=tid),
            tw.UnregisterTournament(id=0, tournament_id=tid),
            tw.GetTournament(id=0, tournament_id=tid),
            tw.GetTournamentStandings(id=0, tournament_id=tid),
            tw.TournamentRebuy(id=0, tournament_id=tid),
            tw.TournamentAddOn(id=0, tournament_id=tid),
        ):
            await _refused(oscar.client, message, "not_club_member")
        assert await oscar.balance() == FUNDS

        registered = await bea.client.request(tw.RegisterTournament(id=0, tournament_id=tid))
        assert isinstance(registered, tw.TournamentRegistered) and registered.entry == 1
        assert await bea.balance() == FUNDS - PRICE
        detail = await bea.client.request(tw.GetTournament(id=0, tournament_id=tid))
        assert isinstance(detail, tw.TournamentDetails)
        assert detail.tournament.line.club_id == club_id
        assert [e.player_id for e in detail.tournament.my_entries] == [bea.player_id]
        # The outsider still sees nothing of it, even as it changes.
        await _public_tournament(server)
        assert not [b for b in oscar.seen if _about(tid)(b)]
        assert olga.player_id != oscar.player_id


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_removed_or_banned_member_loses_the_tournament_and_is_refunded(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with running_server(tmp_path, database_url) as server:
        olga, bea, _, club_id, code, tid = await _club_and_tournament(server)
        await bea.client.request(tw.RegisterTournament(id=0, tournament_id=tid))
        assert await bea.balance() == FUNDS - PRICE
        await olga.client.request(
            wire.ClubMemberAction(id=0, club_id=club_id, player_id=bea.player_id, action="remove")
        )
        removed = await bea.next(lambda b: isinstance(b, tw.TournamentLobbyRemoved))
        assert removed == tw.TournamentLobbyRemoved(tournament_id=tid)
        await _settled(server, tid)
        assert await bea.balance() == FUNDS  # unregistered: buy-in and fee refunded
        await _refused(bea.client, tw.RegisterTournament(id=0, tournament_id=tid),
                       "not_club_member")  # fmt: skip
        listed = await bea.client.request(tw.ListTournaments(id=0))
        assert isinstance(listed, tw.TournamentList)
        assert tid not in [t.tournament_id for t in listed.tournaments]

        # She joins again (an open club): it is back in her lobby; banned, out for good.
        await bea.client.request(wire.ClubJoin(id=0, code=code))
        back = await bea.next(_line(tid))
        assert isinstance(back, tw.TournamentLobbyChanged) and back.tournament.club_id == club_id
        await bea.client.request(tw.RegisterTournament(id=0, tournament_id=tid))
        await olga.client.request(
            wire.ClubMemberAction(id=0, club_id=club_id, player_id=bea.player_id, action="ban")
        )
        await bea.next(lambda b: isinstance(b, tw.TournamentLobbyRemoved))
        await _settled(server, tid)
        assert await bea.balance() == FUNDS
        await _refused(bea.client, wire.ClubJoin(id=0, code=code), "banned_from_club")
        await _refused(bea.client, tw.GetTournament(id=0, tournament_id=tid), "not_club_member")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_only_owners_and_managers_create_club_tournaments_on_each_door(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with running_server(tmp_path, database_url) as server:
        olga, bea, oscar, club_id, _, first = await _club_and_tournament(server)
        create = _club_tournament(club_id, name="Mine")
        await _refused(bea.client, create, "club_permission_denied")
        await _refused(oscar.client, create, "not_club_member")
        await _refused(olga.client, _club_tournament(club_id, preset="nosuch"),
                       "structure_invalid")  # fmt: skip
        await _refused(olga.client, _club_tournament(10**9), "club_not_found")
        listed = await olga.client.request(tw.ListTournaments(id=0))
        assert isinstance(listed, tw.TournamentList)
        assert [t.tournament_id for t in listed.tournaments] == [first]  # none for the refused

        api = server.listening.api_url
        async with httpx.AsyncClient(base_url=api) as http:

            async def bearer(name: str, key: str) -> dict[str, str]:
                return {**await _bearer(http, name), "Idempotency-Key": key}

            path = f"/v1/clubs/{club_id}/tournaments"
            body = {"name": "Owls API", "preset": "hyper-hands", "buy_in": 100, "fee": 10,
                    "entries_max": 6, "starts_at_ms": LATER_MS}  # fmt: skip
            outsider = await http.post(path, json=body, headers=await bearer("oscar", "o-1"))
            assert (outsider.status_code, outsider.json()["code"]) == (403, "not_club_member")
            member = await http.post(path, json=body, headers=await bearer("bea", "b-1"))
            assert (member.status_code, member.json()["code"]) == (403, "club_permission_denied")
            bad = await http.post(path, json={**body, "preset": "nosuch"},
                                  headers=await bearer("olga", "x-1"))  # fmt: skip
            assert (bad.status_code, bad.json()["code"]) == (422, "invalid_club_input")
            made = await http.post(path, json=body, headers=await bearer("olga", "g-1"))
            assert made.status_code == 201, made.text
            tid = made.json()["tournament_id"]
            pushed = await bea.next(_line(tid))
            assert isinstance(pushed, tw.TournamentLobbyChanged)
            assert pushed.tournament.club_id == club_id

            # A manager may, on both doors.
            await olga.client.request(
                wire.ClubSetRole(id=0, club_id=club_id, player_id=bea.player_id, role="manager")
            )
            by_manager = await bea.client.request(create)
            assert isinstance(by_manager, wire.ClubTournamentCreated)
            again = await http.post(path, json=body, headers=await bearer("bea", "b-2"))
            assert again.status_code == 201, again.text
        listed = await oscar.client.request(tw.ListTournaments(id=0))
        assert isinstance(listed, tw.TournamentList) and listed.tournaments == ()


async def test_a_tournament_lobby_subscription_ends_with_its_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tournament_directory, "SUBSCRIBERS_MAX", 1)
    async with running_server(tmp_path) as server:
        ann = await server.nursery.start(_peer, server, "ann")
        ben = await server.nursery.start(_peer, server, "ben")
        await ann.client.request(tw.SubscribeTournaments(id=0))
        await _refused(ben.client, tw.SubscribeTournaments(id=0), "lobby_full")
        await ann.client.logout()  # the session ends: its subscription with it
        listed = await ben.client.request(tw.SubscribeTournaments(id=0))
        assert isinstance(listed, tw.TournamentList)
