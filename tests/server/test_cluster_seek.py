"""A table or tournament that came to a node with its players (a takeover, a drain's
hand-over) finds their sessions on the other nodes (NodeRouter.seek), and the owner does not
take a stale copy's word that a player dropped or left (docs/scaling.md, "Failover"). The
router's two sides with a stand-in bus; real nodes: tests/server/test_cluster_failover.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import msgspec
import trio
import trio.testing

from server.cluster_items import RouteHook, RouteSeek
from server.cluster_routing import NodeRouter
from server.gateway import NoTables
from tests.server.test_cluster_tournaments import StubBus, StubCluster

_encode = msgspec.msgpack.Encoder().encode
_items = msgspec.msgpack.Decoder(RouteHook | RouteSeek)


def _sent(bus: StubBus) -> list[tuple[str, RouteHook | RouteSeek]]:
    """What a node posted, decoded (seeks and hooks only in these tests)."""
    return [(node, _items.decode(item)) for node, item in bus.posted]


@dataclass
class StubSession:
    player: str
    outlet: object | None  # a connection, or None: waiting for a resume


@dataclass
class StubSessions:
    by_player: dict[int, list[StubSession]] = field(default_factory=dict)

    def of_player_id(self, player_id: int) -> list[StubSession]:
        return list(self.by_player.get(player_id, []))


class SeatedHere(NoTables):
    """A node's tables: player 7 sits at ``nt-1`` (restored here); records what they hear."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, int | None]] = []

    def table_ids(self, player_id: int | None) -> list[str]:
        return ["nt-1"] if player_id == 7 else []

    def session_detached(self, player_id: int | None, player: str, session_id: str) -> None:
        self.heard.append(("detached", player_id))

    def session_ended(self, player_id: int | None, player: str, session_id: str) -> None:
        self.heard.append(("ended", player_id))

    def current_state(self, player_id: int | None, player: str) -> list[Any]:
        self.heard.append(("state", player_id))
        return []


class StubGateway:
    game_requests = None

    def __init__(self, sessions: StubSessions | None = None) -> None:
        self.hooks = SeatedHere()
        self.sessions = sessions or StubSessions()


def _node(name: str, sessions: StubSessions | None = None) -> tuple[NodeRouter, StubBus]:
    bus = StubBus()
    router = NodeRouter(
        cast(Any, StubCluster(name)), cast(Any, StubGateway(sessions)), cast(Any, bus)
    )
    return router, bus


def _heard(router: NodeRouter) -> list[tuple[str, int | None]]:
    return cast(SeatedHere, router.inner_hooks).heard


@asynccontextmanager
async def _running(*routers: NodeRouter) -> AsyncIterator[None]:
    async with trio.open_nursery() as nursery:
        for router in routers:
            await nursery.start(router.run)
        yield
        nursery.cancel_scope.cancel()


async def test_a_taken_over_tables_player_is_found_on_the_node_that_holds_her_session() -> None:
    """node-b took ``nt-1`` over with players 7 and 8 and no route to them: it asks every
    other node once, in one item; node-c, where 7 is connected, answers ``resumed``, so
    node-b sends her the table's state and pushes to her there; node-a stays silent."""
    owner, owner_bus = _node("node-b")
    owner.live_nodes = ["node-a", "node-c"]
    node_c, c_bus = _node("node-c", StubSessions({7: [StubSession("ann", outlet=object())]}))
    node_a, a_bus = _node("node-a")
    async with _running(owner, node_c, node_a):
        owner.seek_at_table(7, "nt-1")
        owner.seek_at_table(8, "nt-1")
        owner.seek_at_table(7, "nt-1")  # once per player
        await trio.testing.wait_all_tasks_blocked()
        seek = RouteSeek("table:nt-1", [7, 8])
        assert _sent(owner_bus) == [("node-a", seek), ("node-c", seek)]
        await node_c.handle("node-b", [owner_bus.posted[1][1]])
        await node_a.handle("node-b", [owner_bus.posted[0][1]])
        assert a_bus.posted == []
        ((to, answer),) = _sent(c_bus)
        assert to == "node-b" and answer == RouteHook("resumed", 7, "ann", "")
        await owner.handle("node-c", [c_bus.posted[0][1]])
        await trio.testing.wait_all_tasks_blocked()
    assert owner.has_routes(7) and _heard(owner) == [("state", 7)]
    owner.push(7, msgspec.Raw(b"\xa1x"))
    assert owner_bus.posted[-1][0] == "node-c"  # her pushes go where her session is
    # node-c tells node-b of her session's events from now on.
    node_c.tell_owners("detached", 7, "ann", "s7")
    assert _sent(c_bus)[-1] == ("node-b", RouteHook("detached", 7, "ann", "s7"))


async def test_a_woken_owner_that_still_runs_the_table_does_not_answer_for_its_stale_sessions() -> (
    None
):
    """The old owner, paused past its lease and woken after node-b took ``nt-1`` over,
    still runs the table and still holds the sessions its players left (it has not read
    their connections' close yet): it answers nothing, so node-b gets no route there."""
    paused, paused_bus = _node("node-p", StubSessions({7: [StubSession("ann", outlet=object())]}))
    paused.runs_here = lambda name: name == "table:nt-1"
    async with _running(paused):
        await paused.handle("node-b", [_encode(RouteSeek("table:nt-1", [7]))])
        assert paused_bus.posted == [] and paused.seeks_ignored == 1
        # A seek about another table finds her session here as usual.
        await paused.handle("node-b", [_encode(RouteSeek("table:nt-2", [7]))])
    assert _sent(paused_bus) == [("node-b", RouteHook("resumed", 7, "ann", ""))]


async def test_a_session_waiting_for_a_resume_is_a_route_without_the_tables_state() -> None:
    """Her connection on node-c dropped (the session waits for a resume there): node-c
    answers ``held``; node-b pushes there (the replay keeps them) but does not mark her
    connected; her session's end on node-c then reaches node-b."""
    owner, _owner_bus = _node("node-b")
    node_c, c_bus = _node("node-c", StubSessions({7: [StubSession("ann", outlet=None)]}))
    async with _running(owner, node_c):
        await node_c.handle("node-b", [_encode(RouteSeek("table:nt-1", [7]))])
        ((_to, answer),) = _sent(c_bus)
        assert answer == RouteHook("held", 7, "ann", "")
        await owner.handle("node-c", [c_bus.posted[0][1]])
        await trio.testing.wait_all_tasks_blocked()
        assert owner.has_routes(7) and _heard(owner) == []
        node_c.tell_owners("ended", 7, "ann", "s7")
        assert _sent(c_bus)[-1] == ("node-b", RouteHook("ended", 7, "ann", "s7"))


async def test_a_stale_copys_drop_or_end_does_not_count_once_the_session_lives_elsewhere() -> None:
    """node-p (the woken old owner) lets go of sessions that resumed elsewhere meanwhile,
    and says they dropped and ended: their records name node-b and node-c now, so node-b's
    tables hear nothing of it (only node-p's route goes). A session whose record is closed
    (a logout) or still names its sender (the grace ran out there) counts as before."""
    owner, _bus = _node("node-b")
    records = {"resumed-here": "node-b", "resumed-on-c": "node-c", "grace-over": "node-p"}

    async def holder(session_id: str) -> str | None:
        return records.get(session_id)

    owner.session_holder = holder
    stale = [
        RouteHook("detached", 7, "ann", "resumed-here"),
        RouteHook("ended", 7, "ann", "resumed-here"),
        RouteHook("detached", 7, "ann", "resumed-on-c"),
        RouteHook("ended", 7, "ann", "resumed-on-c"),
    ]
    async with _running(owner):
        owner.route_player(7, "node-p")
        await owner.handle("node-p", [_encode(hook) for hook in stale])
        await trio.testing.wait_all_tasks_blocked()
        assert _heard(owner) == [] and owner.hooks_stale == 4
        assert not owner.has_routes(7)
        current = [RouteHook("detached", 7, "ann", "grace-over"), RouteHook("ended", 7, "ann", "x")]
        await owner.handle("node-p", [_encode(hook) for hook in current])
        await trio.testing.wait_all_tasks_blocked()
    assert _heard(owner) == [("detached", 7), ("ended", 7)]


async def test_session_events_count_in_the_order_they_were_sent_while_one_is_checked() -> None:
    """A drop waits for its record's check; her resume on the same node, sent after it,
    waits behind it: the tables hear the drop, then the resume (never the other way)."""
    owner, _bus = _node("node-b")
    checked = trio.Event()

    async def holder(session_id: str) -> str | None:
        await checked.wait()
        return "node-c"

    owner.session_holder = holder
    async with _running(owner):
        await owner.handle("node-c", [_encode(RouteHook("detached", 7, "ann", "s7"))])
        await owner.handle("node-c", [_encode(RouteHook("resumed", 7, "ann", ""))])
        await trio.testing.wait_all_tasks_blocked()
        assert _heard(owner) == []
        checked.set()
        await trio.testing.wait_all_tasks_blocked()
    assert _heard(owner) == [("detached", 7), ("state", 7)]
    assert owner.has_routes(7)


async def test_a_draining_node_does_not_answer_for_the_sessions_it_is_closing() -> None:
    """A node that drains hands its tables and tournaments over and closes its sessions
    (1001) for their clients to resume elsewhere: it answers no seek, so the new owner
    takes neither a route into sessions about to go nor their drop and end as hers."""
    draining, bus = _node("node-a", StubSessions({7: [StubSession("ann", outlet=object())]}))
    cast(Any, draining._cluster).draining = True
    async with _running(draining):
        await draining.handle("node-b", [_encode(RouteSeek("tournament:1", [7]))])
    assert bus.posted == [] and draining.seeks_ignored == 1
