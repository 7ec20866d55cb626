"""Lobby listings across nodes (server/cluster_lobby.py) with a stand-in router and lobby:
what a node shares and resends, what it tells its lobby of the others' items, and that a
bad listing or item is dropped and counted without stopping the bus. Real nodes:
tests/server/test_cluster_lobby_nodes.py."""

from __future__ import annotations

from typing import Any, cast

import msgspec
import trio

from actors.lobby import RemoteListingsChanged, RemoteNodesLeft
from actors.seat_matcher import ListingsCache
from server.cluster_items import LISTINGS_PER_ITEM_MAX, RouteListings
from server.cluster_lobby import _RESEND_EVERY, RoomLobby, whole_set
from server.cluster_routing import NodeRouter
from tests.actors.test_lobby_listings import _listing
from tests.server.test_cluster_tournaments import StubBus, StubCluster, StubGateway

_encode = msgspec.msgpack.Encoder().encode
_item = msgspec.msgpack.Decoder(RouteListings)


class StubLobby:
    def __init__(self) -> None:
        self.told: list[Any] = []

    def tell(self, message: Any) -> None:
        self.told.append(message)


class StubRegistry:
    def __init__(self, lobby: StubLobby) -> None:
        self.lobby = lobby

    def lookup(self, name: str) -> Any:
        return self.lobby if name == "lobby" else None


class StubRouter:
    def __init__(self, live: list[str]) -> None:
        self.live_nodes = live
        self.posted: list[tuple[str, RouteListings]] = []

    def post(self, node: str, item: bytes) -> bool:
        self.posted.append((node, _item.decode(item)))
        return True


def _room(live: list[str], tables: int = 0) -> tuple[RoomLobby, StubRouter, StubLobby]:
    lobby = StubLobby()
    room = RoomLobby(cast(Any, StubRegistry(lobby)))
    router = StubRouter(live)
    room.router = cast(Any, router)
    cache = ListingsCache()
    for n in range(tables):
        cache.tables[f"t{n}"] = (_listing(f"t{n}"), cast(Any, None))
    room.listings = cache
    return room, router, lobby


def test_a_change_and_a_removal_go_to_every_live_node() -> None:
    room, router, _lobby = _room(["b", "c"])
    room.share(_listing("t1", 2))
    room.unshare("t1")
    assert [(node, item.removed, item.held) for node, item in router.posted] == [
        ("b", [], None),
        ("c", [], None),
        ("b", ["t1"], None),
        ("c", ["t1"], None),
    ]
    assert router.posted[0][1].changed == [_encode(_listing("t1", 2))]


def test_a_joining_node_gets_the_whole_set_and_every_node_gets_it_now_and_then() -> None:
    room, router, lobby = _room(["b"], tables=LISTINGS_PER_ITEM_MAX + 1)
    room.refresh(["b", "c"], joined=["c"], left=["gone"])
    items = [item for node, item in router.posted]
    assert {node for node, _item in router.posted} == {"c"}
    assert [len(item.changed) for item in items] == [LISTINGS_PER_ITEM_MAX, 1]
    assert items[0].held is None and items[1].held is not None
    assert len(items[1].held) == LISTINGS_PER_ITEM_MAX + 1
    assert lobby.told == [RemoteNodesLeft(nodes=("gone",))]
    router.posted.clear()
    for _ in range(_RESEND_EVERY - 1):
        room.refresh(["b", "c"], joined=[], left=[])
    assert {node for node, _item in router.posted} == {"b", "c"}  # the periodic resend
    # No table: the resend still says so (the receiver drops what it kept).
    assert whole_set([]) == [RouteListings(held=[])]


def test_a_listing_that_does_not_decode_is_dropped_and_counted_the_rest_told() -> None:
    room, _router, lobby = _room([])
    good = _encode(_listing("t1"))
    room.received("b", RouteListings(changed=[b"\xc1", good], removed=["t2"], held=["t1"]))
    assert room.listings_malformed == 1
    assert lobby.told == [
        RemoteListingsChanged(node="b", changed=(_listing("t1"),), removed=("t2",), held=("t1",))
    ]


def test_a_listings_item_past_its_bounds_is_a_malformed_item_and_the_bus_goes_on() -> None:
    bus = StubBus()
    router = NodeRouter(cast(Any, StubCluster()), cast(Any, StubGateway()), cast(Any, bus))
    room, _stub, lobby = _room([])
    router.lobby = room
    too_many = _encode(["lst", [], ["t"] * (LISTINGS_PER_ITEM_MAX + 1)])
    fine = _encode(RouteListings(removed=["t"]))
    trio.run(router.handle, "node-a", [too_many, b"\xc1", fine])
    assert router.items_malformed == 2 and bus.posted == []  # no answer: it names no id
    assert lobby.told == [RemoteListingsChanged(node="node-a", removed=("t",))]
