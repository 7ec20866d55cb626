"""One lobby across the nodes of a room (docs/scaling.md, "Lobby listings across nodes").

Two `tablium serve` processes over one PostgreSQL and one Redis, every new table opened on
the node asked (``TABLIUM_PLACEMENT=local``). Two players connected to A subscribe to its
lobby: a member of a club whose owner is connected to B, and an outsider. A table an
operator opens on B's admin API is listed on A and pushed to both; a club table the owner
opens on B is listed and pushed to the member only; the owner sitting down there on B, and
leaving, is pushed to the member on A with the seats taken; the member's quick seat on A
(whose node runs no table of that game) sits her at B's table through its listing on A;
closing each table on B removes it from A's listings and pushes its removal, and the
outsider never hears of the club's table.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import trio

from protocol import clubs, game
from protocol.client import Client, open_client
from tests.e2e.test_tournament_kill9_ws import SERVER_ENV, staff_token
from tests.persistence.stores import store_url
from tests.server_process import ServerProcess, running_server

PASSWORD = "correct horse battery staple"
WAIT_S = 30.0  # the nodes see each other within 5 s (their routers' refresh); a push: ms
PUBLIC = "shared-pub"
BIG_BLIND = 4  # no seed table plays it: the lobbies' filter sees only this test's tables


def _admin(server: ServerProcess) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {staff_token()}"}
    return httpx.AsyncClient(base_url=server.admin_url, headers=headers, timeout=30)


async def _push(client: Client, wanted: Callable[[Any], bool]) -> Any:
    """The first push ``wanted`` accepts (the others before it are skipped)."""
    with trio.fail_after(WAIT_S):
        while True:
            event = await client.next_event(timeout_s=WAIT_S)
            body = getattr(event, "body", None)
            if wanted(body):
                return body


def _changed(table_id: str, seats_taken: int | None = None) -> Callable[[Any], bool]:
    return lambda body: (
        isinstance(body, game.LobbyTableChanged)
        and body.listing.table_id == table_id
        and (seats_taken is None or body.listing.seats_taken == seats_taken)
    )


def _removed(table_id: str) -> Callable[[Any], bool]:
    return lambda body: isinstance(body, game.LobbyTableRemoved) and body.table_id == table_id


async def _listed(client: Client) -> list[str]:
    wanted = game.LobbyFilter(big_blind=BIG_BLIND)
    listing = await client.request(game.ListTables(id=0, filter=wanted))
    assert isinstance(listing, game.TableList)
    return [table.table_id for table in listing.tables]


def _pushed_so_far(client: Client) -> list[Any]:
    """The pushes the client holds now (all those sent before its last reply: a session's
    pushes and replies come in order)."""
    bodies = []
    while True:
        try:
            event = client._events_recv.receive_nowait()
        except trio.WouldBlock:
            return bodies
        bodies.append(getattr(event, "body", None))


async def _lobby_across_nodes(a: ServerProcess, b: ServerProcess) -> None:
    async with (
        open_client(a.ws_url, reconnect=False) as member,
        open_client(a.ws_url, reconnect=False) as outsider,
        open_client(b.ws_url, reconnect=False) as owner,
    ):
        await member.register("lobby_member", PASSWORD)
        await outsider.register("lobby_outsider", PASSWORD)
        await owner.register("lobby_owner", PASSWORD)
        club = await owner.request(clubs.ClubCreate(id=0, name="Lobbyists", join_policy="open"))
        assert isinstance(club, clubs.ClubInfo)
        club_id = club.club.club_id
        joined = await member.request(clubs.ClubJoin(id=0, code=club.club.code))
        assert isinstance(joined, clubs.ClubJoined)
        lobby_filter = game.LobbyFilter(big_blind=BIG_BLIND)
        for player in (member, outsider):
            listed = await player.request(game.SubscribeLobby(id=0, filter=lobby_filter))
            assert isinstance(listed, game.TableList) and listed.tables == ()

        # An operator's table on B: listed on A, and pushed to both A's subscribers.
        async with _admin(b) as admin:
            body = {"table_id": PUBLIC, "name": "Shared", "variant": "NT", "small_blind": 2,
                    "big_blind": BIG_BLIND, "reason": "lobby test"}  # fmt: skip
            opened = await admin.post("/tables", json=body)
            assert opened.status_code == 200, opened.text  # opened on B itself
        for player in (member, outsider):
            await _push(player, _changed(PUBLIC))
            assert await _listed(player) == [PUBLIC]

        # A club table on B: the member on A sees it, the outsider on A does not.
        create = clubs.ClubCreateTable(
            id=0, club_id=club_id, name="Members only", variant="NT", small_blind=2,
            big_blind=BIG_BLIND, asset="play",
        )  # fmt: skip
        made = await owner.request(create)
        assert isinstance(made, clubs.ClubTableCreated)
        club_table = made.table_id
        pushed = await _push(member, _changed(club_table))
        assert pushed.listing.club_id == club_id and pushed.listing.seats_taken == 0
        assert sorted(await _listed(member)) == sorted([PUBLIC, club_table])
        assert await _listed(outsider) == [PUBLIC]

        # A seat taken on B is pushed to the member on A.
        seated = await owner.request(
            game.JoinTable(id=0, table_id=club_table, buy_in=100 * BIG_BLIND)
        )
        assert isinstance(seated, game.Seated)
        await _push(member, _changed(club_table, seats_taken=1))
        left = await owner.request(game.LeaveTable(id=0, table_id=club_table))
        assert isinstance(left, game.LeftTable) and left.cashed_out is not None
        await _push(member, _changed(club_table, seats_taken=0))

        # A quick seat on A, whose node runs no table of the game: B's table, through its
        # listing on A (the join routed to B).
        quick = game.QuickSeat(
            id=0, variant="NT", big_blind=BIG_BLIND, buy_in=100 * BIG_BLIND, asset="play",
            club_id=club_id,
        )  # fmt: skip
        sat = await member.request(quick)
        assert isinstance(sat, game.Seated) and sat.table_id == club_table
        await _push(member, _changed(club_table, seats_taken=1))

        # Closing each table on B removes it on A.
        closed = await owner.request(
            clubs.ClubCloseTable(id=0, club_id=club_id, table_id=club_table)
        )
        assert isinstance(closed, clubs.ClubTableClosed)
        await _push(member, _removed(club_table))
        async with _admin(b) as admin:
            answer = await admin.post(f"/tables/{PUBLIC}/close", json={"reason": "lobby test"})
            assert answer.status_code == 200, answer.text
        await _push(member, _removed(PUBLIC))
        assert await _listed(member) == []
        assert await _listed(outsider) == []  # after every push to it (in order)
        heard = _pushed_so_far(outsider)
        assert game.LobbyTableRemoved(table_id=PUBLIC) in heard
        assert not any(
            getattr(getattr(x, "listing", x), "table_id", None) == club_table for x in heard
        ), heard


def test_a_table_on_one_node_is_listed_and_pushed_on_the_other(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    database_url = trio.run(store_url, "postgres", tmp_path, postgres_url)
    env = {
        **SERVER_ENV,
        "TABLIUM_DATABASE_URL": database_url,
        "TABLIUM_REDIS_URL": redis_url,
        "TABLIUM_REDIS_PREFIX": f"{redis_prefix}lobby:",
        "TABLIUM_PLACEMENT": "local",
    }
    with ExitStack() as stack:
        a = stack.enter_context(running_server(tmp_path / "a", **env))
        b = stack.enter_context(running_server(tmp_path / "b", **env))
        trio.run(_lobby_across_nodes, a, b)
        for node in (a, b):
            node.proc.send_signal(signal.SIGTERM)  # a whole room stopping
        for node in (a, b):
            assert node.proc.wait(timeout=15) == 0
