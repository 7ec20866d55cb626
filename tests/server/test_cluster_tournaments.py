"""Tournament asks across nodes (server/cluster_tournaments.py) on the router's two sides,
with a stand-in bus and a stand-in tournament: a routed ask runs once per request id and its
player's pushes follow her; what is not a tournament message that may cross nodes is
refused with a clear code and reaches no tournament (hypothesis); the asker's side turns
each answer into what a local ask would raise. The real bus and real nodes:
tests/persistence/test_node_bus.py, tests/tournaments/test_cluster_routing.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import hypothesis.strategies as st
import msgspec
import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, example, given, settings

from actors.errors import TargetError
from actors.tournament_messages import (
    AdjustStack,
    ClockTick,
    DealLapsed,
    EntryAccepted,
    GetResults,
    GetStandings,
    GetTournament,
    ProposeDeal,
    RebuyLapsed,
    RegisterPlayer,
    StandingLine,
    Standings,
    StartTournament,
    TournamentMessage,
    TournamentRefusal,
    UnregisterPlayer,
    VoidUnreported,
)
from persistence.redis_link import RedisDown
from server.cluster_items import RouteHook, RouteReply, RouteSeek, RouteTournament
from server.cluster_routing import NodeRouter
from server.cluster_tournaments import (
    ANSWERS,
    ROUTED_TAGS,
    BadRoutedMessage,
    RoomTournaments,
    decode_answer,
    decode_routed,
)
from server.gateway import NoTables

_encode = msgspec.msgpack.Encoder().encode
_reply = msgspec.msgpack.Decoder(RouteReply)
ACCEPTED = EntryAccepted(tournament_id=1, entry=3, reentry=False, table_id=None)
STANDINGS = Standings(
    tournament_id=1,
    total=1,
    lines=(
        StandingLine(
            entry=1,
            player_id=7,
            status="playing",
            stack=500,
            table_id="t1-1",
            place=0,
            tied=0,
            prize=0,
            bounties=0,
            head=0,
        ),
    ),
)


class StubTournament:
    """``tournament:1``: records what it is asked and told."""

    def __init__(self) -> None:
        self.asked: list[Any] = []
        self.told: list[Any] = []

    async def ask(self, message: Any, timeout_s: float) -> Any:
        self.asked.append(message)
        if isinstance(message, RegisterPlayer):
            return ACCEPTED
        if isinstance(message, GetStandings):
            return STANDINGS
        if isinstance(message, UnregisterPlayer):
            raise TournamentRefusal("not_registered", "no entry")
        return None

    def tell(self, message: Any) -> None:
        self.told.append(message)


class StubRegistry:
    def __init__(self, refs: dict[str, Any]) -> None:
        self.refs = refs

    def lookup(self, name: str) -> Any:
        return self.refs.get(name)


class StubBus:
    def __init__(self) -> None:
        self.posted: list[tuple[str, bytes]] = []

    def post(self, node: str, item: bytes) -> bool:
        self.posted.append((node, item))
        return True

    async def run_sender(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await trio.sleep_forever()

    async def run(self, handler: Any, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await trio.sleep_forever()

    def replies(self) -> list[RouteReply]:
        return [_reply.decode(item) for _node, item in self.posted]


class StubSessionRecords:
    """The sessions' records in Redis: the node each names (none: closed or expired)."""

    def __init__(self) -> None:
        self.holders: dict[str, str] = {}

    async def holder(self, session_id: str) -> str | None:
        return self.holders.get(session_id)


class StubCluster:
    prefix = "test:"
    link = None
    draining = False

    def __init__(self, node: str = "node-b") -> None:
        self.node = node
        self.sessions = StubSessionRecords()

    async def view(self) -> Any:
        raise RedisDown("no Redis in this test")


class StubSessions:
    def of_player_id(self, player_id: int) -> list[Any]:
        return []


class StubGateway:
    game_requests = None
    hooks = NoTables()
    sessions = StubSessions()


def _owner_side() -> tuple[NodeRouter, RoomTournaments, StubTournament, StubBus]:
    tournament = StubTournament()
    room = RoomTournaments(cast(Any, StubRegistry({"tournament:1": tournament})))
    bus = StubBus()
    router = NodeRouter(cast(Any, StubCluster()), cast(Any, StubGateway()), cast(Any, bus))
    router.tournaments = room
    room.router = router
    return router, room, tournament, bus


@asynccontextmanager
async def _running(router: NodeRouter) -> AsyncIterator[None]:
    async with trio.open_nursery() as nursery:
        await nursery.start(router.run)
        yield
        nursery.cancel_scope.cancel()


def _routed(message: TournamentMessage, rid: str = "node-a:1", **fields: Any) -> bytes:
    return _encode(RouteTournament(rid, 1, _encode(message), **fields))


async def test_a_routed_ask_runs_once_per_request_id_and_the_players_pushes_follow_her() -> None:
    router, room, tournament, bus = _owner_side()
    async with _running(router):
        item = _routed(RegisterPlayer(player_id=7), player_id=7)
        await router.handle("node-a", [item])
        await router.handle("node-a", [item])  # claimed again, or sent twice: a repeat
        await trio.testing.wait_all_tasks_blocked()
    assert tournament.asked == [RegisterPlayer(player_id=7)]
    (reply,) = bus.replies()
    assert reply.rid == "node-a:1" and reply.code is None
    assert decode_answer(RegisterPlayer(player_id=7), reply.reply) == ACCEPTED
    assert router.has_routes(7) and room.entrant_here(7)  # her pushes go to node-a now
    assert [node for node, _item in bus.posted] == ["node-a"]


async def test_an_entrants_new_session_on_any_node_brings_her_pushes_there() -> None:
    """Her session on node-a ends (the route there goes); she logs in again on node-c: the
    node whose tournament she entered pushes to her there. A player who never reached a
    tournament here gets no route."""
    router, _room, _tournament, _bus = _owner_side()
    async with _running(router):
        await router.handle("node-a", [_routed(RegisterPlayer(player_id=7), player_id=7)])
        await trio.testing.wait_all_tasks_blocked()
        await router.handle("node-a", [_encode(RouteHook("ended", 7, "ann", "s1"))])
        await trio.testing.wait_all_tasks_blocked()  # its record checked: closed
        assert not router.has_routes(7)
        opened = [_encode(RouteHook("opened", p, "p", "")) for p in (7, 8)]
        await router.handle("node-c", opened)
    assert router.has_routes(7) and not router.has_routes(8)


async def test_a_refusal_crosses_with_its_code_and_a_tell_is_never_answered() -> None:
    router, _room, tournament, bus = _owner_side()
    async with _running(router):
        await router.handle("node-a", [_routed(UnregisterPlayer(player_id=7), player_id=7)])
        await router.handle("node-a", [_routed(StartTournament(), "node-a:2", tell=True)])
        await trio.testing.wait_all_tasks_blocked()
    (reply,) = bus.replies()
    assert (reply.code, reply.message) == ("not_registered", "no entry")
    assert tournament.told == [StartTournament()]


async def test_a_tournament_that_does_not_run_here_is_answered_not_here() -> None:
    router, _room, _tournament, bus = _owner_side()
    async with _running(router):
        await router.handle(
            "node-a", [_encode(RouteTournament("node-a:1", 2, _encode(GetTournament())))]
        )
        await trio.testing.wait_all_tasks_blocked()
    (reply,) = bus.replies()
    assert reply.not_here and reply.code is None


@pytest.mark.parametrize(
    "message",
    [
        ClockTick(generation=1),
        VoidUnreported(table=1),
        RebuyLapsed(entry=1, offer=1),
        DealLapsed(deal_id=1),
    ],
)
async def test_a_tournaments_own_messages_never_cross_nodes(message: TournamentMessage) -> None:
    _router, room, tournament, _bus = _owner_side()
    reply = await room.answer(RouteTournament("node-a:1", 1, _encode(message), player_id=7))
    assert reply.code == "unknown_type" and type(message).__name__ in reply.message
    assert tournament.asked == [] and tournament.told == []
    assert not room.entrant_here(7)


_ints = st.integers(min_value=-(2**63), max_value=2**64 - 1)  # msgpack's range
_scalars = st.none() | st.booleans() | _ints | st.floats() | st.text() | st.binary()
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_tags = (
    st.sampled_from(sorted(ROUTED_TAGS))
    | st.sampled_from(
        ["ClockTick", "VoidUnreported", "TableHandEnded", "CreateTournament", "", "type"]
    )
    | st.text(max_size=12)
)
_messages = st.one_of(
    st.binary(max_size=64),  # not msgpack, or msgpack of anything
    _values.map(_encode),
    st.builds(  # a map tagged as a message, with fields of any kind
        lambda tag, fields: _encode({**fields, "type": tag}),
        _tags,
        st.dictionaries(
            st.sampled_from(["player_id", "address", "offset", "limit", "entry", "chips",
                             "table", "kind", "keep", "accept", "deal_id", "refund", "reason",
                             "starts_at_ms", "generation", "extra"]),
            _values,
            max_size=4,
        ),
    ),
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_messages)
def test_a_routed_message_that_is_none_that_may_cross_is_refused_and_changes_nothing(
    data: bytes,
) -> None:
    """Whatever the bytes: either a message that may cross nodes (asked once, as it is), or
    ``unknown_type`` / ``invalid_message`` with a reason, and the tournament untouched."""
    _router, room, tournament, _bus = _owner_side()
    reply = trio.run(room.answer, RouteTournament("node-a:9", 1, data, player_id=7))
    assert reply.rid == "node-a:9"
    try:
        message = decode_routed(data)
    except BadRoutedMessage as exc:
        assert reply.code == exc.code in ("unknown_type", "invalid_message")
        assert reply.message and reply.reply is None and not reply.not_here
        assert tournament.asked == [] and tournament.told == []
        assert not room.entrant_here(7)
        return
    assert type(message).__name__ in ROUTED_TAGS
    assert tournament.asked == [message]


_bad_tournament_ids = st.text() | st.floats() | st.binary() | st.lists(_ints, max_size=2)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    garbage=st.lists(st.binary(max_size=48), max_size=3),
    rid=st.text(max_size=16),
    tournament_id=_bad_tournament_ids,
    rest=st.lists(_values, max_size=4),
)
# A map keyed by a map: an untyped decode raises TypeError (unhashable), not DecodeError.
@example(garbage=[b"\xde\x00\x02\x00\x00\x80\x00"], rid="", tournament_id="", rest=[])
def test_a_bus_item_that_does_not_decode_is_dropped_and_answered_when_it_names_its_id(
    garbage: list[bytes], rid: str, tournament_id: Any, rest: list[Any]
) -> None:
    """Items that are not items, and ``tour`` items with a bad tournament id: the bus goes
    on; the second are answered ``invalid_message`` under their id (unless a tell)."""
    router, _room, tournament, bus = _owner_side()
    bad = _encode(["tour", rid, tournament_id, *rest])
    trio.run(router.handle, "node-a", [*garbage, bad])
    assert tournament.asked == [] and tournament.told == []
    replies = [r for r in bus.replies() if r.rid == rid]
    is_tell = len(rest) >= 4 and rest[3] is True
    assert [(r.code, bool(r.message)) for r in replies] == (
        [] if is_tell else [("invalid_message", True)]
    )
    assert router.items_malformed >= 1


class StubRouter:
    """The asker's side of the router: the owner is node-b, whose answers are canned."""

    node = "node-a"

    def __init__(self, answers: list[RouteReply | None]) -> None:
        self.answers = answers
        self.asked = 0
        self.forgotten: list[str] = []
        self.noted: list[tuple[int, str]] = []

    async def owner(self, name: str, *, fresh: bool = False) -> str | None:
        return "node-b"

    def new_rid(self) -> str:
        return f"node-a:{self.asked + 1}"

    def sent_to(self, player_id: int, node: str) -> None:
        self.noted.append((player_id, node))

    async def ask_node(
        self, node: str, rid: str, item: bytes, timeout_s: float
    ) -> RouteReply | None:
        self.asked += 1
        return self.answers.pop(0)

    def forget_owner(self, name: str) -> None:
        self.forgotten.append(name)


async def _ask_through(answers: list[RouteReply | None], message: TournamentMessage) -> Any:
    room = RoomTournaments(cast(Any, StubRegistry({})))
    router = StubRouter(answers)
    room.router = cast(Any, router)
    try:
        return await room.ask(1, message, 10.0, player_id=7)
    finally:
        assert router.noted and router.noted[0] == (7, "node-b")  # her hooks go there too


async def test_the_askers_side_raises_what_a_local_ask_would() -> None:
    standings = GetStandings(offset=0, limit=10)
    answer = await _ask_through([RouteReply("r", reply=_encode(STANDINGS))], standings)
    assert answer == STANDINGS
    assert (
        await _ask_through([RouteReply("r", reply=_encode(41))], AdjustStack(entry=1, chips=1))
        == 41
    )
    with pytest.raises(TournamentRefusal) as refused:
        await _ask_through([RouteReply("r", code="registration_refused", message="full")],
                           RegisterPlayer(player_id=7))  # fmt: skip
    assert (refused.value.code, refused.value.message) == ("registration_refused", "full")
    with pytest.raises(TargetError):  # no answer in time: it may have acted
        await _ask_through([None], StartTournament())
    with pytest.raises(TargetError):  # the owner's actor did not answer
        await _ask_through([RouteReply("r", code="tournaments_unavailable")], StartTournament())
    with pytest.raises(TournamentRefusal) as moved:  # not there, twice: it runs nowhere
        await _ask_through([RouteReply("r", not_here=True)] * 2, GetTournament())
    assert moved.value.code == "tournament_not_found"


def test_every_answer_crosses_intact() -> None:
    assert set(ANSWERS) == {RegisterPlayer, GetTournament, GetStandings, AdjustStack,
                            GetResults, ProposeDeal}  # fmt: skip
    crossing: list[tuple[TournamentMessage, Any]] = [
        (RegisterPlayer(player_id=7), ACCEPTED),
        (GetStandings(), STANDINGS),
        (AdjustStack(entry=1, chips=5), 505),
    ]
    for message, answer in crossing:
        assert decode_answer(message, _encode(answer)) == answer
    assert decode_answer(StartTournament(), None) is None
    with pytest.raises(TournamentRefusal) as bad:
        decode_answer(RegisterPlayer(player_id=7), _encode("not an entry"))
    assert bad.value.code == "invalid_message"


async def test_a_tournament_opened_here_looks_for_its_players_on_the_other_nodes() -> None:
    """A tournament taken over (or handed over) opens with its players still in and no
    route to them: each is an entrant and is looked for on every other node, once, about
    the tournament (a node that still runs it, the woken old owner, answers nothing)."""
    router, room, _tournament, bus = _owner_side()
    router.live_nodes = ["node-a", "node-c"]
    async with _running(router):
        room.came_with(1, 7)
        room.came_with(1, 8)
        room.came_with(1, 7)
        await trio.testing.wait_all_tasks_blocked()
    seek = RouteSeek("tournament:1", [7, 8])
    decode = msgspec.msgpack.Decoder(RouteSeek).decode
    assert [(node, decode(item)) for node, item in bus.posted] == [
        ("node-a", seek),
        ("node-c", seek),
    ]
    assert room.entrant_here(7) and room.entrant_here(8)
