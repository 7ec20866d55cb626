"""The other nodes' listings in a lobby (actors/lobby_listings.py, pure; and the lobby actor
with them): the room shows the newest listing of a table whatever order a move's removal
and new listing arrive in, a resend drops what its node no longer holds, a node that leaves
takes its listings with it, the bounds refuse the newest, each subscriber is pushed what
her filter (club visibility included) lets her see, and a quick seat takes another node's
table with room before it opens a new one. Real nodes:
tests/server/test_cluster_lobby_nodes.py."""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import given

from actors.lobby import (
    ListAllTables,
    ListVisibleTables,
    RemoteListingsChanged,
    RemoteNodesLeft,
    SubscribeVisibleListings,
)
from actors.lobby_listings import Filter, ListingChange, RemoteListings, push_for
from actors.seat_matcher import PLACED_ELSEWHERE, quick_seat
from actors.table.messages import FindSeat, GameRefused, ListTablesQuery
from protocol import game
from tests.actors.test_table_fakes import nlhe, running_game, sqlite_url

MEMBER, OUTSIDER, CLUB = 501, 502, 7


def _listing(table_id: str, seats_taken: int = 0, club_id: int | None = None) -> game.TableListing:
    return game.TableListing(
        table_id=table_id,
        name=table_id,
        variant="NT",
        small_blind=1,
        big_blind=2,
        buy_in_min=40,
        buy_in_max=200,
        seats_total=6,
        seats_taken=seats_taken,
        waiting=0,
        average_pot=0,
        hands_per_hour=0,
        club_id=club_id,
    )


def test_a_moved_table_is_listed_by_its_new_node_whatever_order_the_news_arrive_in() -> None:
    old, new = _listing("t", 2), _listing("t", 3)
    # The new node's listing first, then the old node's removal: no flicker.
    room = RemoteListings()
    room.apply("b", [old])
    assert room.apply("c", [new]) == [ListingChange("t", old, new)]
    assert room.apply("b", removed=["t"]) == [ListingChange("t", new, new)]
    assert room.shown("t") == new
    # The removal first: gone, then listed again by its new node.
    room = RemoteListings()
    room.apply("b", [old])
    assert room.apply("b", removed=["t"]) == [ListingChange("t", old, None)]
    assert room.apply("c", [new]) == [ListingChange("t", None, new)]
    assert list(room.listings()) == [new]


def test_a_resend_drops_what_its_node_no_longer_holds() -> None:
    room = RemoteListings()
    room.apply("b", [_listing("t1"), _listing("t2")])
    changes = room.apply("b", [_listing("t1")], held=["t1"])
    assert ListingChange("t2", _listing("t2"), None) in changes
    assert [x.table_id for x in room.listings()] == ["t1"]
    assert room.apply("b", held=[]) == [ListingChange("t1", _listing("t1"), None)]
    assert room.by_node == {} and room.nodes_of == {}


def test_a_node_that_leaves_takes_its_listings_with_it() -> None:
    room = RemoteListings()
    room.apply("b", [_listing("t1")])
    room.apply("c", [_listing("t2"), _listing("t1", 4)])
    changes = room.drop_nodes(["c", "gone-before"])
    assert sorted(changes) == [
        ListingChange("t1", _listing("t1", 4), _listing("t1")),  # b still lists it
        ListingChange("t2", _listing("t2"), None),
    ]
    assert [x.table_id for x in room.listings()] == ["t1"]


def test_listings_past_a_bound_are_refused_and_counted() -> None:
    room = RemoteListings(per_node_max=2, nodes_max=1)
    room.apply("b", [_listing("t1"), _listing("t2"), _listing("t3")])
    assert room.refused == 1 and sorted(room.by_node["b"]) == ["t1", "t2"]
    room.apply("b", [_listing("t2", 5)])  # a change of a table kept is never refused
    assert room.shown("t2") == _listing("t2", 5) and room.refused == 1
    room.apply("c", [_listing("t4")])  # a second node past nodes_max
    assert room.refused == 2 and room.shown("t4") is None


def test_each_subscriber_is_pushed_what_her_filter_lets_her_see() -> None:
    member, outsider = Filter(clubs=frozenset({CLUB})), Filter()
    club_table, public = _listing("c", club_id=CLUB), _listing("p")
    assert push_for(member, None, club_table) == game.LobbyTableChanged(listing=club_table)
    assert push_for(outsider, None, club_table) is None
    assert push_for(outsider, public, public) is None  # a resend of the same: nothing
    assert push_for(outsider, public, None) == game.LobbyTableRemoved(table_id="p")
    registered = _listing("p", club_id=CLUB)  # a public table that became a club's
    assert push_for(outsider, public, registered) == game.LobbyTableRemoved(table_id="p")
    assert push_for(member, club_table, None) == game.LobbyTableRemoved(table_id="c")
    assert push_for(Filter(big_blind=4), public, None) is None


_ops = st.lists(
    st.tuples(
        st.sampled_from(["b", "c", "d"]),
        st.sampled_from(["change", "remove", "held", "leave"]),
        st.lists(st.sampled_from(["t1", "t2", "t3", "t4"]), max_size=4),
        st.integers(0, 6),
    ),
    max_size=40,
)


@given(_ops)
def test_the_room_shows_a_table_exactly_while_some_node_lists_it(ops: list) -> None:  # type: ignore[type-arg]
    room = RemoteListings(per_node_max=3, nodes_max=2)
    shown: dict[str, game.TableListing | None] = {}
    for node, op, tables, seats in ops:
        if op == "change":
            changes = room.apply(node, [_listing(t, seats) for t in tables])
        elif op == "remove":
            changes = room.apply(node, removed=tables)
        elif op == "held":
            changes = room.apply(node, held=tables)
        else:
            changes = room.drop_nodes([node])
        for table_id, before, after in changes:
            assert shown.get(table_id) == before  # each change starts where the last ended
            shown[table_id] = after
        assert len(room.by_node) <= 2
        assert all(len(tables) <= 3 for tables in room.by_node.values())
        for table_id in ("t1", "t2", "t3", "t4"):
            listed = [n for n, held in room.by_node.items() if table_id in held]
            assert (room.shown(table_id) is None) == (not listed)
            assert (room.shown(table_id) is None) == (shown.get(table_id) is None)


async def test_the_lobby_lists_and_pushes_other_nodes_tables_with_its_filters(
    tmp_path: Path,
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=3) as session:
        lobby = session.runtime.registry.get("lobby")
        await session.open_table(nlhe("here", between_hands_ms=60_000))
        await lobby.ask(SubscribeVisibleListings(player_id=MEMBER, clubs=(CLUB,)))
        await lobby.ask(SubscribeVisibleListings(player_id=OUTSIDER))
        club_table, public = _listing("club-b", club_id=CLUB), _listing("pub-b")
        lobby.tell(RemoteListingsChanged(node="b", changed=(club_table, public)))
        member = await lobby.ask(ListVisibleTables(clubs=(CLUB,)))
        assert [t.table_id for t in member] == ["club-b", "here", "pub-b"]
        outsider = await lobby.ask(ListVisibleTables())
        assert [t.table_id for t in outsider] == ["here", "pub-b"]
        staff = await lobby.ask(ListAllTables())  # this node's tables only
        assert [t.table_id for t in staff] == ["here"]
        lobby.tell(RemoteListingsChanged(node="b", changed=(_listing("club-b", 1, CLUB),)))
        lobby.tell(RemoteListingsChanged(node="b", removed=("club-b",)))
        lobby.tell(RemoteNodesLeft(nodes=("b",)))
        # Another node's listing of a table that runs here is not shown: this node's is.
        lobby.tell(RemoteListingsChanged(node="c", changed=(_listing("here", 5),)))
        await lobby.ask(ListTablesQuery())  # every tell before it has been handled

        def pushes(player_id: int) -> list[tuple[str, str, int]]:
            return [
                ("changed", b.listing.table_id, b.listing.seats_taken)
                if isinstance(b, game.LobbyTableChanged)
                else ("removed", b.table_id, -1)
                for _at, b in session.channel.bodies.get(player_id, [])
                if isinstance(b, game.LobbyTableChanged | game.LobbyTableRemoved)
            ]

        assert pushes(MEMBER) == [
            ("changed", "club-b", 0),
            ("changed", "pub-b", 0),
            ("changed", "club-b", 1),
            ("removed", "club-b", -1),
            ("removed", "pub-b", -1),
        ]
        assert pushes(OUTSIDER) == [("changed", "pub-b", 0), ("removed", "pub-b", -1)]
        listed = await lobby.ask(ListVisibleTables(clubs=(CLUB,)))
        assert [(t.table_id, t.seats_taken) for t in listed] == [("here", 0)]


async def test_a_quick_seat_goes_to_another_nodes_table_with_room_before_a_new_table(
    tmp_path: Path,
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=5) as session:
        registry = session.runtime.registry
        lobby = registry.get("lobby")
        await session.open_table(nlhe("hu", seats=2, between_hands_ms=60_000))
        await session.fund([1, 2, 3])

        def find(player_id: int) -> FindSeat:
            return FindSeat(player_id=player_id, variant="NT", big_blind=2, buy_in=100)

        for player_id in (1, 2):
            assert (await quick_seat(registry, find(player_id))).table_id == "hu"
        full, roomy = _listing("far-full", 6), _listing("far", 3)
        lobby.tell(RemoteListingsChanged(node="b", changed=(full,)))
        lobby.tell(RemoteListingsChanged(node="c", changed=(roomy, _listing("far-2", 1))))
        await lobby.ask(ListTablesQuery())
        with pytest.raises(GameRefused) as refused:
            await quick_seat(registry, find(3))
        # The fullest with a free seat; her node routes her join there.
        assert (refused.value.code, str(refused.value)) == (PLACED_ELSEWHERE, "c far")
        lobby.tell(RemoteNodesLeft(nodes=("c",)))  # only the full one is left: a new table
        await lobby.ask(ListTablesQuery())
        assert (await quick_seat(registry, find(3))).table_id == "hu-q1"
