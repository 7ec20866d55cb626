"""Club tables over real websockets (docs/clubs.md, "Club tables"): an owner opens one, its
members see it (in listings and in the lobby's pushes) and sit down; an outsider never sees
it and every way in is refused with ``not_club_member``, changing nothing; a removed or
banned member loses it at once; its rake is the club's."""

from __future__ import annotations

import datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from protocol import clubs as wire
from protocol import game
from protocol.client import Client, ServerError
from rakeback.periods import parse_period
from server.auth import TokenSigner
from services.clubs import Clubs
from tests.e2e.harness import (
    JWT_SECRET,
    PASSWORD,
    Player,
    Server,
    check_down_one_hand,
    running_server,
    table_config,
    wait_for,
)
from tests.persistence.stores import BACKENDS, store_url

STAKES: dict[str, Any] = {"variant": "NT", "small_blind": 25, "big_blind": 50}  # no seed table


async def _refused(client: Client, message: Any, code: str) -> None:
    with pytest.raises(ServerError) as caught:
        await client.request(message)
    assert caught.value.code == code, caught.value


async def _club_with_table(server: Server) -> tuple[Player, Player, Player, int, str]:
    """Olga owns an open club, Bea is a member, Oscar is not; both subscribe to the lobby
    before Olga opens the club's table. (olga, bea, oscar, club id, table id)."""
    olga = await server.player("olga", 1, acting=False)
    bea = await server.player("bea", 2, acting=False)
    oscar = await server.player("oscar", 3, acting=False)
    created = await olga.client.request(wire.ClubCreate(id=0, name="Owls", join_policy="open"))
    assert isinstance(created, wire.ClubInfo)
    club_id = created.club.club_id
    joined = await bea.client.request(wire.ClubJoin(id=0, code=created.club.code))
    assert isinstance(joined, wire.ClubJoined) and joined.state == "member"
    for player in (bea, oscar):
        listed = await player.client.request(game.SubscribeLobby(id=0, filter=game.LobbyFilter()))
        assert isinstance(listed, game.TableList)
    opened = await olga.client.request(
        wire.ClubCreateTable(id=0, club_id=club_id, name="Owls NL 25/50", **STAKES)
    )
    assert isinstance(opened, wire.ClubTableCreated) and opened.club_id == club_id
    assert opened.table_id.startswith(f"club{club_id}-")
    return olga, bea, oscar, club_id, opened.table_id


async def _staff_registers(server: Server, club_id: int, table_id: str) -> None:
    """Staff register a table to the club over the admin API (any id; audited)."""
    token, _ = TokenSigner(JWT_SECRET).issue("ops", "admin")
    async with httpx.AsyncClient(base_url=server.listening.admin_url) as admin:
        answer = await admin.post(
            f"/clubs/{club_id}/tables",
            json={"table_id": table_id, "reason": "a house table for the club"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 200, answer.text


async def _bearer(http: httpx.AsyncClient, name: str) -> dict[str, str]:
    """The public API's Authorization header of ``name``, logged in now."""
    login = await http.post("/v1/auth/login", json={"name": name, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def _mentions(body: game.GamePush, table_id: str) -> bool:
    listing = getattr(body, "listing", None)
    return getattr(body, "table_id", None) == table_id or (
        listing is not None and listing.table_id == table_id
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_club_table_is_seen_and_joined_by_members_only(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with running_server(tmp_path, database_url) as server:
        frames = server.recorder.stream()
        olga, bea, oscar, club_id, table_id = await _club_with_table(server)
        _, pushed = await wait_for(
            frames,
            lambda p, b: p == bea.player_id and _mentions(b, table_id),
        )
        assert isinstance(pushed, game.LobbyTableChanged)
        assert pushed.listing.club_id == club_id and pushed.listing.big_blind == 50

        listed = await bea.client.request(game.ListTables(id=0, filter=game.LobbyFilter()))
        assert isinstance(listed, game.TableList)
        assert table_id in [t.table_id for t in listed.tables]
        listed = await oscar.client.request(game.ListTables(id=0, filter=game.LobbyFilter()))
        assert isinstance(listed, game.TableList) and listed.tables  # the public ones
        assert table_id not in [t.table_id for t in listed.tables]
        assert all(t.club_id is None for t in listed.tables)

        # Every way in is refused for the outsider, and nothing changes.
        for message in (
            game.JoinTable(id=0, table_id=table_id, buy_in=2_000),
            game.JoinWaitList(id=0, table_id=table_id),
            game.Watch(id=0, table_id=table_id),
            game.QuickSeat(id=0, variant="NT", big_blind=50, buy_in=2_000, club_id=club_id),
        ):
            await _refused(oscar.client, message, "not_club_member")
        # A quick-seat without a club never lands at a club table: none public at 25/50.
        await _refused(
            oscar.client,
            game.QuickSeat(id=0, variant="NT", big_blind=50, buy_in=2_000),
            "no_such_game",
        )
        seats = await server.seats(table_id)
        assert all(s is None or s.player_id != oscar.player_id for s in seats.seats)
        assert (await oscar.client.balance()).balance == 100_000

        # The member sits down by quick-seat at her club, and watches.
        seated = await bea.client.request(
            game.QuickSeat(id=0, variant="NT", big_blind=50, buy_in=2_000, club_id=club_id)
        )
        assert isinstance(seated, game.Seated) and seated.table_id == table_id
        await olga.join(table_id, 2_000)
        # A public table opened now reaches both subscribers: every push before it has too.
        await server.open_table(table_config("public-after", small_blind=25, big_blind=50))
        told: set[int] = set()
        while told != {oscar.player_id, bea.player_id}:  # in either order
            who, _ = await wait_for(
                frames,
                lambda p, b: p in (oscar.player_id, bea.player_id) and _mentions(b, "public-after"),
            )
            told.add(who)
        assert not [b for b in server.recorder.frames[oscar.player_id] if _mentions(b, table_id)]
        assert [b for b in server.recorder.frames[bea.player_id] if _mentions(b, table_id)]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_removed_member_loses_the_table_and_a_banned_one_stays_out(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with running_server(tmp_path, database_url) as server:
        frames = server.recorder.stream()
        olga, bea, oscar, club_id, table_id = await _club_with_table(server)
        await bea.join(table_id, 2_000)
        await bea.client.request(game.Watch(id=0, table_id=table_id))
        await olga.client.request(
            wire.ClubMemberAction(id=0, club_id=club_id, player_id=bea.player_id, action="remove")
        )
        # Her lobby drops the table, and she is stood up (no hand runs: cashed out at once).
        _, removed = await wait_for(
            frames,
            lambda p, b: p == bea.player_id and isinstance(b, game.LobbyTableRemoved),
        )
        assert removed == game.LobbyTableRemoved(table_id=table_id)
        seats = await server.seats(table_id)  # asked after the stand-up the lobby told it
        assert all(s is None or s.player_id != bea.player_id for s in seats.seats)
        assert (await bea.client.balance()).balance == 100_000
        await _refused(bea.client, game.JoinTable(id=0, table_id=table_id, buy_in=2_000),
                       "not_club_member")  # fmt: skip
        listed = await bea.client.request(game.ListTables(id=0, filter=game.LobbyFilter()))
        assert isinstance(listed, game.TableList)
        assert table_id not in [t.table_id for t in listed.tables]

        # She joins again (an open club) and sees it again; banned, she is out for good.
        code = (await Clubs(server.store).club(None, club_id)).code
        await bea.client.request(wire.ClubJoin(id=0, code=code))
        _, back = await wait_for(
            frames,
            lambda p, b: (
                p == bea.player_id
                and isinstance(b, game.LobbyTableChanged)
                and b.listing.table_id == table_id
            ),
        )
        assert isinstance(back, game.LobbyTableChanged) and back.listing.club_id == club_id
        await bea.client.request(game.Watch(id=0, table_id=table_id))
        await olga.client.request(
            wire.ClubMemberAction(id=0, club_id=club_id, player_id=bea.player_id, action="ban")
        )
        await wait_for(
            frames, lambda p, b: p == bea.player_id and isinstance(b, game.LobbyTableRemoved)
        )
        await _refused(bea.client, wire.ClubJoin(id=0, code=code), "banned_from_club")
        await _refused(bea.client, game.Watch(id=0, table_id=table_id), "not_club_member")
        assert oscar.player_id not in [bea.player_id]  # the outsider took no part


@pytest.mark.parametrize("backend", BACKENDS)
async def test_only_owners_and_managers_open_club_tables_and_bad_input_changes_nothing(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with running_server(tmp_path, database_url) as server:
        olga, bea, oscar, club_id, table_id = await _club_with_table(server)
        create = wire.ClubCreateTable(id=0, club_id=club_id, name="Mine", **STAKES)
        await _refused(bea.client, create, "club_permission_denied")
        await _refused(oscar.client, create, "not_club_member")
        await _refused(
            olga.client,
            wire.ClubCreateTable(id=0, club_id=club_id, name="Bad", variant="NT",
                                 small_blind=60, big_blind=50),
            "invalid_club_input",
        )  # fmt: skip
        await _refused(
            olga.client,
            wire.ClubCreateTable(id=0, club_id=club_id, name="Bad", variant="NT", small_blind=1,
                                 big_blind=2, buy_in_min=500, buy_in_max=100),
            "invalid_club_input",
        )  # fmt: skip
        await _refused(olga.client, wire.ClubCreateTable(id=0, club_id=10**9, name="X",
                                                         **STAKES), "club_not_found")  # fmt: skip
        detail = await olga.client.request(wire.ClubGet(id=0, club_id=club_id))
        assert isinstance(detail, wire.ClubDetail) and detail.tables == [table_id]
        # A manager may: the owner promotes her.
        await olga.client.request(
            wire.ClubSetRole(id=0, club_id=club_id, player_id=bea.player_id, role="manager")
        )
        opened = await bea.client.request(create)
        assert isinstance(opened, wire.ClubTableCreated)
        detail = await olga.client.request(wire.ClubGet(id=0, club_id=club_id))
        assert isinstance(detail, wire.ClubDetail)
        assert sorted(detail.tables) == sorted([table_id, opened.table_id])


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_rake_of_a_club_tables_hands_is_the_clubs(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with running_server(tmp_path, database_url) as server:
        frames = server.recorder.stream()
        olga, bea, _, club_id, table_id = await _club_with_table(server)
        await olga.join(table_id, 2_000)
        await bea.join(table_id, 2_000)
        rake = await check_down_one_hand(frames, [olga, bea])
        assert rake > 0
        await server.audit(table_id)  # asked after the hand: its history is written
        today = datetime.datetime.now(datetime.UTC).date().isoformat()
        stats = await Clubs(server.store).stats(None, club_id, parse_period(f"day:{today}"))
        assert (stats.hands, stats.rake, stats.active_players) == (1, rake, 2)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_owner_opens_a_club_table_over_the_public_api(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with running_server(tmp_path, database_url) as server:
        frames = server.recorder.stream()
        olga, bea, oscar, club_id, first = await _club_with_table(server)
        api = server.listening.api_url
        async with httpx.AsyncClient(base_url=api) as http:
            bearer = partial(_bearer, http)

            body = {"name": "Owls PLO", "variant": "PO", "small_blind": 5, "big_blind": 10}
            path = f"/v1/clubs/{club_id}/tables/open"
            outsider = await http.post(
                path, json=body, headers={**await bearer("oscar"), "Idempotency-Key": "o-1"}
            )
            assert (outsider.status_code, outsider.json()["code"]) == (403, "not_club_member")
            member = await http.post(
                path, json=body, headers={**await bearer("bea"), "Idempotency-Key": "b-1"}
            )
            assert (member.status_code, member.json()["code"]) == (403, "club_permission_denied")
            bad = await http.post(
                path, json={**body, "small_blind": 20},
                headers={**await bearer("olga"), "Idempotency-Key": "x-1"},
            )  # fmt: skip
            assert (bad.status_code, bad.json()["code"]) == (422, "invalid_club_input")
            opened = await http.post(
                path, json=body, headers={**await bearer("olga"), "Idempotency-Key": "g-1"}
            )
            assert opened.status_code == 201, opened.text
            table_id = opened.json()["table_id"]
            _, pushed = await wait_for(
                frames, lambda p, b: p == bea.player_id and _mentions(b, table_id)
            )
            assert isinstance(pushed, game.LobbyTableChanged) and pushed.listing.variant == "PO"
            detail = await olga.client.request(wire.ClubGet(id=0, club_id=club_id))
            assert isinstance(detail, wire.ClubDetail)
            assert sorted(detail.tables) == sorted([first, table_id])  # none for the bad one
            await _refused(oscar.client, game.Watch(id=0, table_id=table_id), "not_club_member")
            # A removal through the API reaches her live lobby too.
            removed = await http.post(
                f"/v1/clubs/{club_id}/members/{bea.player_id}/remove",
                headers=await bearer("olga"),
            )
            assert removed.status_code == 204, removed.text
            gone = {first, table_id}
            while gone:
                _, body = await wait_for(
                    frames,
                    lambda p, b: p == bea.player_id and isinstance(b, game.LobbyTableRemoved),
                )
                assert isinstance(body, game.LobbyTableRemoved)
                gone.discard(body.table_id)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_table_registered_to_a_club_is_listed_to_its_members_only(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with running_server(tmp_path, database_url) as server:
        frames = server.recorder.stream()
        olga, bea, oscar, club_id, _ = await _club_with_table(server)
        await server.open_table(table_config("pub-reg", small_blind=25, big_blind=50))
        subscribers = {oscar.player_id, bea.player_id}
        told: set[int] = set()
        while told != subscribers:  # public at first: both see it, in either order
            who, _ = await wait_for(
                frames, lambda p, b: p in subscribers and _mentions(b, "pub-reg")
            )
            told.add(who)
        # Its owner cannot take a house table's seats and rake: only staff register it.
        await _refused(
            olga.client,
            wire.ClubRegisterTable(id=0, club_id=club_id, table_id="pub-reg"),
            "invalid_club_input",
        )
        assert "pub-reg" not in await Clubs(server.store).tables(None, club_id)
        await _staff_registers(server, club_id, "pub-reg")
        pushed: dict[int, game.GamePush] = {}
        while len(pushed) < 2:
            who, body = await wait_for(
                frames, lambda p, b: p in subscribers and _mentions(b, "pub-reg")
            )
            pushed[who] = body
        assert pushed[oscar.player_id] == game.LobbyTableRemoved(table_id="pub-reg")
        changed = pushed[bea.player_id]
        assert isinstance(changed, game.LobbyTableChanged) and changed.listing.club_id == club_id
        listed = await oscar.client.request(game.ListTables(id=0, filter=game.LobbyFilter()))
        assert isinstance(listed, game.TableList)
        assert "pub-reg" not in [t.table_id for t in listed.tables]
        listed = await bea.client.request(game.ListTables(id=0, filter=game.LobbyFilter()))
        assert isinstance(listed, game.TableList)
        assert [t.club_id for t in listed.tables if t.table_id == "pub-reg"] == [club_id]

        # Its later changes (a member sits down) reach members only.
        await bea.join("pub-reg", 2_000)
        await wait_for(frames, lambda p, b: p == bea.player_id and _mentions(b, "pub-reg"))
        await server.open_table(table_config("public-after", small_blind=25, big_blind=50))
        await wait_for(frames, lambda p, b: p == oscar.player_id and _mentions(b, "public-after"))
        about = [b for b in server.recorder.frames[oscar.player_id] if _mentions(b, "pub-reg")]
        assert about[-1] == game.LobbyTableRemoved(table_id="pub-reg")
        await _refused(oscar.client, game.Watch(id=0, table_id="pub-reg"), "not_club_member")

        # A table registered before it opens is the club's from its first listing.
        await _staff_registers(server, club_id, "later")
        await server.open_table(table_config("later", small_blind=25, big_blind=50))
        _, first = await wait_for(frames, lambda p, b: p == bea.player_id and _mentions(b, "later"))
        assert isinstance(first, game.LobbyTableChanged) and first.listing.club_id == club_id
        await server.open_table(table_config("public-last", small_blind=25, big_blind=50))
        await wait_for(frames, lambda p, b: p == oscar.player_id and _mentions(b, "public-last"))
        assert not [b for b in server.recorder.frames[oscar.player_id] if _mentions(b, "later")]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_owners_and_managers_close_club_tables_audited_and_members_cannot(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with running_server(tmp_path, database_url) as server:
        frames = server.recorder.stream()
        olga, bea, oscar, club_id, table_id = await _club_with_table(server)
        await bea.join(table_id, 2_000)
        assert (await bea.client.balance()).balance == 100_000 - 2_000
        close = wire.ClubCloseTable(id=0, club_id=club_id, table_id=table_id)
        await _refused(bea.client, close, "club_permission_denied")
        await _refused(oscar.client, close, "not_club_member")
        await _refused(
            olga.client, wire.ClubCloseTable(id=0, club_id=club_id, table_id="nosuch-1"),
            "invalid_club_input",
        )  # fmt: skip
        assert [s.player_id for s in (await server.seats(table_id)).seats if s] == [bea.player_id]

        closed = await olga.client.request(close)
        assert isinstance(closed, wire.ClubTableClosed) and closed.table_id == table_id
        assert closed.status in ("closing", "closed")  # no hand ran: closed at once after it
        await wait_for(
            frames,
            lambda p, b: p == bea.player_id and b == game.LobbyTableRemoved(table_id=table_id),
        )
        assert (await bea.client.balance()).balance == 100_000  # cashed out
        await _refused(olga.client, close, "no_such_table")  # closed already
        entries = await server.store.list_audit(target=f"table:{table_id}")
        mine = [e for e in entries if e.action == "clubs.close_table"]
        assert [e.after["outcome"] for e in reversed(mine)] == [
            "requested", "done", "requested", "refused",
        ]  # fmt: skip
        assert {(e.subject, e.role) for e in mine} == {(f"player:{olga.player_id}", "club_owner")}

        # The public API: a member is refused, a manager closes another table.
        second = await olga.client.request(
            wire.ClubCreateTable(id=0, club_id=club_id, name="Second", **STAKES)
        )
        assert isinstance(second, wire.ClubTableCreated)
        async with httpx.AsyncClient(base_url=server.listening.api_url) as http:
            bearer = partial(_bearer, http)

            path = f"/v1/clubs/{club_id}/tables/close"
            body = {"table_id": second.table_id}
            member = await http.post(path, json=body, headers=await bearer("bea"))
            assert (member.status_code, member.json()["code"]) == (403, "club_permission_denied")
            outsider = await http.post(path, json=body, headers=await bearer("oscar"))
            assert (outsider.status_code, outsider.json()["code"]) == (403, "not_club_member")
            await olga.client.request(
                wire.ClubSetRole(id=0, club_id=club_id, player_id=bea.player_id, role="manager")
            )
            done = await http.post(path, json=body, headers=await bearer("bea"))
            assert done.status_code == 200, done.text
            assert done.json() == {"club_id": club_id, "table_id": second.table_id,
                                   "status": done.json()["status"]}  # fmt: skip
            assert done.json()["status"] in ("closing", "closed")
            again = await http.post(path, json=body, headers=await bearer("bea"))
            assert (again.status_code, again.json()["code"]) == (404, "not_found")
