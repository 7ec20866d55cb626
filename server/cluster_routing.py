"""Requests and pushes between the nodes of one room, over the node bus
(persistence/node_bus.py; docs/scaling.md, "Routing between nodes").

A session's table request goes to the tables of its own node first, unchanged. Only when
that answers ``no_such_table`` does the router look for the table's owner (its lease in
Redis): another live owner gets the request over the bus, runs it as if its own session had
sent it, and sends back the reply or the refusal (same code, message, retry_after_ms). No
lease: ``no_such_table``, as in one process; an owner that does not answer within
ROUTE_TIMEOUT_S (it died and its lease has not lapsed yet), or Redis not answering:
``unavailable`` with ``retry_after_ms``.

The owner remembers which nodes sent requests of each player: a push of its tables to
that player goes to her sessions here and, batched per node (one stream entry per batch),
to those nodes, which deliver it into her sessions in order (each session numbers it as
any push, so replay and resume work as for a local table). A node told a push for a player
it holds no session of answers ``gone`` and the owner forgets that route. The session's
events (dropped, resumed, ended, profile changed) reach the owner's tables the same way; a
drop or an end counts only once the session's record in Redis does not name a third node (a
stale copy of a session that resumed elsewhere, on a node that was paused or had not noticed
the move, says nothing about her), and the events after it wait behind that check, in order.

A table or tournament that opened here with players this node has no route to (a takeover
after its owner died or stalled, a drain's hand-over) looks for them on every other node
(``seek``): a node holding a session of hers answers as a resume (``resumed``, or ``held``
for a session waiting for its client), so her pushes go there at once. A node that still
runs the table or tournament sought does not answer: it is the old owner, woken after the
takeover, and its sessions of those players are the ones they left.

Tournaments cross nodes the same way (server/cluster_tournaments.py): a tournament's
requests (``tour``) go to the holder of its lease and its pushes come back as a table's do;
its tables' requests go to the same node; lobby lines are shared (``sum``). So are the cash
tables' lobby listings (``lst``, server/cluster_lobby.py).

Items (msgpack, tagged; server/cluster_items.py): ``req``, ``rep``, ``push``, ``gone``,
``hook``, ``open``, ``new``, ``tour``, ``sum``, ``lst``, ``seek``. An item that does not
decode is dropped and logged (answered ``invalid_message`` when its id can be read): a bad
entry must not stop the bus.
Bounds: routes remembered (ROUTES_MAX players; overflow: the oldest player's routes are
forgotten), requests in flight (IN_FLIGHT_MAX each way; overflow: ``unavailable``), request
ids remembered against repeats (REQUEST_IDS_MAX), owners cached for OWNER_CACHE_S, seeks
waiting (SEEKS_PENDING_MAX; overflow: not sought), players sought lately (SOUGHT_MAX;
overflow: the oldest forgotten), other nodes' session events waiting behind a check
(HOOKS_QUEUED_MAX; overflow: applied at once, unchecked).
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Final, final

import msgspec
import structlog
import trio
import trio.lowlevel

from actors.addresses import TABLE_PREFIX
from actors.seat_matcher import PLACED_ELSEWHERE
from actors.table.messages import GameRefused
from actors.tournament_messages import TOURNAMENT_PREFIX, TournamentAddress
from persistence.leases import RedisLeases
from persistence.node_bus import NodeBus
from persistence.redis_link import RedisDown
from protocol import game
from protocol.messages import PushBody, Reply
from server.cluster_items import (
    GONE_PER_BATCH_MAX,
    ITEMS_WITH_RID,
    SEEK_PLAYERS_PER_ITEM_MAX,
    UNDECODABLE,
    HookKind,
    RouteCreate,
    RouteGone,
    RouteHook,
    RouteListings,
    RouteOpen,
    RoutePush,
    RouteReply,
    RouteRequest,
    RouteSeek,
    RouteSummary,
    RouteTournament,
)
from server.cluster_items import encode as _encode
from server.cluster_items import item_decoder as _item_decoder
from server.cluster_items import reply_decoder as _reply_decoder
from server.cluster_items import request_decoder as _request_decoder

if TYPE_CHECKING:
    from actors.table.config import TableConfig
    from server.cluster import ClusterLink
    from server.cluster_lobby import RoomLobby
    from server.cluster_placement import TablePlacement
    from server.cluster_tournaments import RoomTournaments
    from server.gateway import GameRequests, Gateway, SessionHooks

log = structlog.get_logger("tablium.routing")

ROUTE_TIMEOUT_S: Final = 5.0  # a table answers in milliseconds; the owner's ask waits 5 s
UNAVAILABLE_RETRY_AFTER_MS: Final = 1_000
OWNER_CACHE_S: Final = 5.0  # a moved table answers not_here, a dead owner times out: both drop it
OWNERS_CACHED_MAX: Final = 10_000  # overflow: the cache is emptied
ROUTES_MAX: Final = 100_000  # players with sessions on other nodes; overflow: oldest forgotten
IN_FLIGHT_MAX: Final = 10_000  # forwarded requests waiting, each way; overflow: unavailable
REQUEST_IDS_MAX: Final = 65_536  # request ids handled, remembered to drop a repeat
# Seeks: players of a table or tournament that opened here without a route to them (a
# takeover, a drain's hand-over), to be looked for on the other nodes (RouteSeek), sent at
# the next checkpoint. Overflow: the newest is not looked for (her pushes follow her next
# request, login or resume, as before seeks); counted in ``seeks_refused``.
SEEKS_PENDING_MAX: Final = 10_000
SOUGHT_MAX: Final = 100_000  # players looked for lately; overflow: the oldest forgotten
SEEK_AGAIN_AFTER_S: Final = 30.0  # a player is looked for at most once in this long
# Session events from other nodes waiting, in order, behind a ``detached`` or ``ended`` that
# is being checked against the session's record in Redis. Overflow: applied at once,
# unchecked (as before the check); counted in ``hooks_unchecked``.
HOOKS_QUEUED_MAX: Final = 10_000
NODES_REFRESH_S: Final = 5.0  # the room's node list, for resumes (nodes beat every 10 s)


# Session events the owner checks against the session's record before they count: a stale
# copy of a session (on a node that was paused, or that has not yet noticed the session
# resumed elsewhere) must not mark her disconnected or stand her up.
_CHECKED_HOOKS: Final = frozenset({"detached", "ended"})


# Requests that put the player at a table, or take her away from it (remote table ids).
_JOINS: Final = (game.JoinTable, game.JoinWaitList, game.Watch)
_LEAVES: Final = (game.LeaveTable, game.Unwatch)


def _unavailable(message: str) -> GameRefused:
    return GameRefused("unavailable", message, UNAVAILABLE_RETRY_AFTER_MS)


@final
class NodeRouter:
    """This node's routing: the requester's side (``forward``) and the owner's side
    (``handle`` of what the bus brings)."""

    def __init__(self, cluster: ClusterLink, gateway: Gateway, bus: NodeBus | None = None) -> None:
        self.node = cluster.node
        # Its own breaker: the bus's reads wait on Redis all the time, and their failures
        # must not count as the players' (RedisLink.sibling).
        self.bus = bus or NodeBus(cluster.link.sibling(), cluster.prefix, cluster.node)
        self.gateway = gateway
        self.inner_requests: GameRequests | None = gateway.game_requests
        self.inner_hooks: SessionHooks = gateway.hooks
        self._leases = RedisLeases(cluster.link, cluster.prefix, cluster.node, 0)
        self._owners: dict[str, tuple[str | None, float]] = {}
        self._rids = itertools.count(1)
        self._waiting: dict[str, trio.MemorySendChannel[RouteReply]] = {}
        # Requester's side: the nodes each player's requests went to, and the remote tables
        # she joined or watches (for session_state), by player id.
        self._sent_to: collections.OrderedDict[int, dict[str, None]] = collections.OrderedDict()
        self._remote_tables: dict[int, dict[str, str]] = {}
        # Owner's side: the nodes holding sessions of each player that sent requests here.
        self._routes: collections.OrderedDict[int, dict[str, None]] = collections.OrderedDict()
        self._handled: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._handling = 0
        # Seeks waiting for the next checkpoint (by actor name), and when each player may be
        # looked for again.
        self._seeking: dict[str, list[int]] = {}
        self._seeking_count = 0
        self._sought: collections.OrderedDict[int, float] = collections.OrderedDict()
        # Session events of other nodes, applied in order by _apply_hooks while a checked
        # one waits for Redis (``_hooks_behind``: queued or being applied).
        self._hooks_send, self._hooks_receive = trio.open_memory_channel[tuple[str, RouteHook]](
            HOOKS_QUEUED_MAX
        )
        self._hooks_behind = 0
        # The node a session's record names (None: none); RedisSessions.holder, or a
        # stand-in in tests.
        self.session_holder: Callable[[str], Awaitable[str | None]] = self._stored_holder
        # True while an actor of that name (``table:<id>``, ``tournament:<id>``) runs on
        # this node (server/app.py sets it; None: never).
        self.runs_here: Callable[[str], bool] | None = None
        self._nursery: trio.Nursery | None = None
        self._cluster = cluster
        self.live_nodes: list[str] = []  # the room's other nodes, every NODES_REFRESH_S
        # Opens a table another node hands over (RouteOpen; server/cluster_drain.py sets it):
        # True when the table is open here, or held by a node other than the sender.
        self.on_open: Callable[[str, str], Awaitable[bool]] | None = None
        # Opens a table another node placed here (RouteCreate; server/app.py sets it):
        # raises GameRefused when it cannot.
        self.on_create: Callable[[bytes], Awaitable[None]] | None = None
        self.placement: TablePlacement | None = None  # told the room's records
        # Tournaments across nodes (server/cluster_tournaments.py; server/app.py sets it):
        # None: tournament items are refused, lobby lines ignored.
        self.tournaments: RoomTournaments | None = None
        # Lobby listings across nodes (server/cluster_lobby.py; server/app.py sets it):
        # None: listings received are ignored.
        self.lobby: RoomLobby | None = None
        # Metrics.
        self.requests_forwarded = 0
        self.requests_handled = 0
        self.requests_timed_out = 0
        self.requests_refused = 0  # in-flight bound or the bus's outbox full
        self.pushes_forwarded = 0
        self.pushes_delivered = 0
        self.pushes_dropped = 0  # the bus's outbox full
        self.duplicates_dropped = 0  # request ids or replies seen before
        self.routes_dropped = 0  # ROUTES_MAX overflow
        self.items_malformed = 0  # items that did not decode (dropped)
        self.seeks_sent = 0  # players looked for on the other nodes
        self.seeks_refused = 0  # SEEKS_PENDING_MAX overflow (or the bus not running)
        self.seeks_ignored = 0  # seeks about an actor still running here (a woken owner)
        self.seeks_answered = 0  # players found here for another node
        self.hooks_stale = 0  # detached/ended of a session another node holds now
        self.hooks_unchecked = 0  # HOOKS_QUEUED_MAX overflow

    # --- the requester's side ------------------------------------------------------------

    async def owner(self, table_id: str, *, fresh: bool = False) -> str | None:
        """The node holding the table's lease (None: nobody), cached OWNER_CACHE_S. A
        tournament's table (``t<id>-<n>``) takes no lease of its own: its tournament's
        (``tournament:<id>``) names its node, unless a cash table holds that id's lease.
        Also for ``tournament:<id>`` itself."""
        now = trio.current_time()
        cached = self._owners.get(table_id)
        if cached is not None and not fresh and cached[1] > now:
            return cached[0]
        names = [table_id]
        tournament = TournamentAddress.of_table(table_id)
        if tournament is not None:
            names.append(tournament.actor_name)
        try:
            holders = await self._leases.holders(names)
        except RedisDown:
            raise _unavailable("the room's shared state does not answer") from None
        holder = next((holders[n] for n in names if holders.get(n) is not None), None)
        if len(self._owners) >= OWNERS_CACHED_MAX:
            self._owners.clear()
        self._owners[table_id] = (holder, now + OWNER_CACHE_S)
        return holder

    async def route(
        self,
        refused: GameRefused,
        player_id: int,
        player: str,
        request: game.GameRequest,
        address: str,
    ) -> Reply | None:
        """After the local tables answered no_such_table: the owner's answer, or
        ``refused`` again when no other node holds the table."""
        table_id = getattr(request, "table_id", None)
        if not isinstance(table_id, str):
            raise refused
        for fresh in (False, True):
            owner = await self.owner(table_id, fresh=fresh)
            if owner is None or owner == self.node:
                raise refused
            answer = await self.forward(owner, player_id, player, request, address)
            if answer.not_here:
                self._owners.pop(table_id, None)
                continue  # the table moved: ask Redis again, once
            if answer.code is not None:
                raise GameRefused(answer.code, answer.message, answer.retry_after_ms)
            self._note_tables(player_id, request, owner)
            return None if answer.reply is None else _reply_decoder.decode(answer.reply)
        raise refused

    async def forward(
        self, owner: str, player_id: int, player: str, request: game.GameRequest, address: str
    ) -> RouteReply:
        if len(self._waiting) >= IN_FLIGHT_MAX:
            self.requests_refused += 1
            raise _unavailable("too many requests to other nodes")
        rid = f"{self.node}:{next(self._rids)}"
        item = RouteRequest(rid, player_id, player, address, _encode(request))
        self._remember(self._sent_to, player_id, owner)
        answer = await self._ask(owner, rid, _encode(item), ROUTE_TIMEOUT_S)
        if answer is None:
            self._owners.pop(getattr(request, "table_id", ""), None)
            raise _unavailable("the table's node did not answer")
        return answer

    def new_rid(self) -> str:
        return f"{self.node}:{next(self._rids)}"

    def forget_owner(self, name: str) -> None:
        self._owners.pop(name, None)

    def sent_to(self, player_id: int, node: str) -> None:
        """The player's request went to ``node``: her session's events go there too."""
        self._remember(self._sent_to, player_id, node)

    def route_player(self, player_id: int, node: str) -> None:
        """Pushes to the player go to ``node`` (her request came from there)."""
        self._remember(self._routes, player_id, node)

    def first_time(self, rid: str) -> bool:
        """False for a request id handled before (a repeat: dropped)."""
        if rid in self._handled:
            self.duplicates_dropped += 1
            return False
        self._handled[rid] = None
        while len(self._handled) > REQUEST_IDS_MAX:
            self._handled.popitem(last=False)
        return True

    async def ask_node(
        self, node: str, rid: str, item: bytes, timeout_s: float
    ) -> RouteReply | None:
        """Post ``item`` (whose id is ``rid``) to ``node``, wait for its reply (None: none
        within ``timeout_s``). GameRefused ``unavailable`` when too many are in flight or
        the way there is full."""
        if len(self._waiting) >= IN_FLIGHT_MAX:
            self.requests_refused += 1
            raise _unavailable("too many requests to other nodes")
        return await self._ask(node, rid, item, timeout_s)

    def post(self, node: str, item: bytes) -> bool:
        return self.bus.post(node, item)

    def serve(self, sender: str, rid: str, answer: Callable[[], Awaitable[RouteReply]]) -> None:
        """Run ``answer`` in a task of its own and post its reply to ``sender`` (an
        ``unavailable`` reply at once past IN_FLIGHT_MAX requests being answered)."""
        if self._handling >= IN_FLIGHT_MAX or self._nursery is None:
            self.requests_refused += 1
            reply = RouteReply(
                rid,
                code="unavailable",
                message="this node is too busy",
                retry_after_ms=UNAVAILABLE_RETRY_AFTER_MS,
            )
            self.bus.post(sender, _encode(reply))
            return
        self._handling += 1
        self._nursery.start_soon(self._answer, sender, rid, answer)

    def spawn(self, function: Callable[..., Awaitable[object]], *args: object) -> bool:
        """Run ``function`` in the bus's nursery (False: the bus does not run)."""
        if self._nursery is None:
            return False
        self._nursery.start_soon(function, *args)
        return True

    async def _ask(self, node: str, rid: str, item: bytes, timeout_s: float) -> RouteReply | None:
        """Post ``item`` (whose id is ``rid``) to ``node`` and wait for its reply (None: no
        reply within ``timeout_s``). ``unavailable`` when the way there is full."""
        send, receive = trio.open_memory_channel[RouteReply](1)
        self._waiting[rid] = send
        try:
            if not self.bus.post(node, item):
                self.requests_refused += 1
                raise _unavailable("the way to the table's node is full")
            self.requests_forwarded += 1
            with trio.move_on_after(timeout_s):
                return await receive.receive()
            self.requests_timed_out += 1
            return None
        finally:
            del self._waiting[rid]

    async def create_table(self, node: str, config: TableConfig) -> bool:
        """Ask ``node`` to open a new table (placement): True once it did."""
        if len(self._waiting) >= IN_FLIGHT_MAX:
            return False
        rid = f"{self.node}:{next(self._rids)}"
        item = _encode(RouteCreate(rid, _encode(config)))
        try:
            answer = await self._ask(node, rid, item, ROUTE_TIMEOUT_S)
        except GameRefused:
            return False
        if answer is None or answer.code is not None:
            log.warning(
                "a node did not open a table placed there",
                node=node,
                table=config.table_id,
                code=None if answer is None else answer.code,
            )
            return False
        return True

    async def quick_seat_at(
        self, placed: str, player_id: int, player: str, request: game.QuickSeat, address: str
    ) -> Reply | None:
        """A quick seat the seat matcher placed on another node (``placed``: "<node> <table
        id>", PLACED_ELSEWHERE's message): open the new table there if nobody did yet, and
        sit her down there (join_table, routed); the table is remote from now on."""
        node, table_id = placed.split(" ", 1)
        placement = self.placement
        config = placement.to_open(table_id) if placement is not None else None
        if config is not None and not await self.create_table(node, config):
            raise _unavailable("the table's node did not open it")
        join = game.JoinTable(id=request.id, table_id=table_id, buy_in=request.buy_in)
        answer = await self.forward(node, player_id, player, join, address)
        if answer.code is not None or answer.not_here:
            if placement is not None:
                placement.forget_table(table_id)
            if answer.not_here:
                raise _unavailable("the new table is not open")
            assert answer.code is not None
            raise GameRefused(answer.code, answer.message, answer.retry_after_ms)
        self._note_tables(player_id, join, node)
        self._owners[table_id] = (node, trio.current_time() + OWNER_CACHE_S)
        return None if answer.reply is None else _reply_decoder.decode(answer.reply)

    async def hand_over(self, node: str, table_id: str, timeout_s: float) -> bool:
        """Ask ``node`` to claim and open ``table_id`` (its lease released by this node):
        True once it answers that the table is open there, or elsewhere but not here."""
        if len(self._waiting) >= IN_FLIGHT_MAX:
            return False
        rid = f"{self.node}:{next(self._rids)}"
        try:
            answer = await self._ask(node, rid, _encode(RouteOpen(rid, table_id)), timeout_s)
        except GameRefused:
            return False
        self._owners.pop(table_id, None)
        return answer is not None and answer.code is None

    def _note_tables(self, player_id: int, request: game.GameRequest, owner: str) -> None:
        table_id = getattr(request, "table_id", "")
        tables = self._remote_tables.setdefault(player_id, {})
        if isinstance(request, _JOINS):
            tables[table_id] = owner
        elif isinstance(request, _LEAVES):
            tables.pop(table_id, None)
            if not tables:
                del self._remote_tables[player_id]

    def remote_table_ids(self, player_id: int | None) -> list[str]:
        if player_id is None:
            return []
        return list(self._remote_tables.get(player_id, ()))

    def tell_owners(
        self,
        kind: HookKind,
        player_id: int | None,
        player: str,
        session_id: str,
        **changes: str | bool | None,
    ) -> None:
        """A session event of a player who sent requests to other nodes, to those nodes."""
        if player_id is None:
            return
        nodes = self._sent_to.get(player_id)
        if not nodes:
            return
        item = _encode(RouteHook(kind, player_id, player, session_id, **changes))  # type: ignore[arg-type]
        for node in nodes:
            self.bus.post(node, item)
        if kind == "ended" and not self.gateway.sessions.of_player_id(player_id):
            self._sent_to.pop(player_id, None)
            self._remote_tables.pop(player_id, None)

    def resumed(self, player_id: int | None, player: str) -> None:
        """A session resumed here: every other node of the room hears it, since this node
        may not know where her tables are (she resumed here after a drop elsewhere, or her
        table moved). A node whose tables seat her sends their state, and her pushes, here
        from now on. Resumes are rare: one entry per node each."""
        if player_id is None:
            return
        item = _encode(RouteHook("resumed", player_id, player, ""))
        for node in self.live_nodes:
            self.bus.post(node, item)
            self._remember(self._sent_to, player_id, node)

    def opened(self, player_id: int | None, player: str) -> None:
        """A new session opened here (not a resume): every other node hears it, so that a
        node whose tournament she entered, or whose tournament table seats her, pushes to
        her here (her route there ended with her last session). Logins are rare: one item
        per node each."""
        if player_id is None:
            return
        item = _encode(RouteHook("opened", player_id, player, ""))
        for node in self.live_nodes:
            self.bus.post(node, item)
            self._remember(self._sent_to, player_id, node)

    # --- the owner's side ----------------------------------------------------------------

    def seek_at_table(self, player_id: int, table_id: str) -> None:
        """A table of this node seats (or shows) a player with no session here: seek."""
        self.seek(player_id, TABLE_PREFIX + table_id)

    def seek(self, player_id: int, about: str) -> None:
        """``about`` (an actor name: a table, a tournament) opened here with the player and
        this node has no route to her and no session of hers: a takeover, a drain's
        hand-over or a restart brought her, not a request of hers. She is looked for on
        every other node (RouteSeek, batched at the next checkpoint); a node holding her
        session answers (``resumed`` or ``held``) and her pushes go there from then on.
        At most once per player in SEEK_AGAIN_AFTER_S; never blocks."""
        if player_id in self._routes or self.gateway.sessions.of_player_id(player_id):
            return
        now = trio.current_time()
        again_at = self._sought.get(player_id)
        if again_at is not None and again_at > now:
            return
        nursery = self._nursery
        if nursery is None or self._seeking_count >= SEEKS_PENDING_MAX:
            self.seeks_refused += 1
            return
        self._sought.pop(player_id, None)
        self._sought[player_id] = now + SEEK_AGAIN_AFTER_S
        while len(self._sought) > SOUGHT_MAX:
            self._sought.popitem(last=False)
        self._seeking.setdefault(about, []).append(player_id)
        self._seeking_count += 1
        if self._seeking_count == 1:
            nursery.start_soon(self._send_seeks)

    async def _send_seeks(self) -> None:
        # Started by the first seek; the opening's other players join it until it runs.
        await trio.lowlevel.checkpoint()
        seeking, self._seeking, self._seeking_count = self._seeking, {}, 0
        for about, players in seeking.items():
            for start in range(0, len(players), SEEK_PLAYERS_PER_ITEM_MAX):
                chunk = players[start : start + SEEK_PLAYERS_PER_ITEM_MAX]
                item = _encode(RouteSeek(about, chunk))
                for node in self.live_nodes:
                    self.bus.post(node, item)
            self.seeks_sent += len(players)

    def _seek_received(self, sender: str, seek: RouteSeek) -> None:
        """(The sessions' side.) ``sender`` looks for these players: each one with a
        session here is answered ``resumed`` (a session with a connection) or ``held``
        (sessions waiting for a resume), and her session's events go to ``sender`` from now
        on. Not when this node still runs ``about`` itself: it is the owner that was paused
        past its lease (or stalled) and woke after the sender took over, its sessions of
        those players are the ones they left. Nor while this node drains: it is handing
        ``about`` over and closes its sessions for their clients to resume on another node
        (a route here would take the new owner's pushes into sessions about to go, and
        their drop and end here would reach it as hers)."""
        runs_here = self.runs_here
        if self._cluster.draining or (runs_here is not None and runs_here(seek.about)):
            self.seeks_ignored += 1
            return
        for player_id in seek.player_ids:
            sessions = self.gateway.sessions.of_player_id(player_id)
            if not sessions:
                continue
            live = [s for s in sessions if s.outlet is not None]
            first = (live or sessions)[0]
            kind: HookKind = "resumed" if live else "held"
            self.bus.post(sender, _encode(RouteHook(kind, player_id, first.player, "")))
            self._remember(self._sent_to, player_id, sender)
            self.seeks_answered += 1

    def has_routes(self, player_id: int) -> bool:
        return player_id in self._routes

    def push(self, player_id: int, body: msgspec.Raw) -> None:
        """A push of this node's tables to a player with sessions elsewhere (Gateway.deliver)."""
        nodes = self._routes.get(player_id)
        if not nodes:
            return
        item = _encode(RoutePush(player_id, bytes(body)))
        for node in nodes:
            if self.bus.post(node, item):
                self.pushes_forwarded += 1
            else:
                self.pushes_dropped += 1

    async def handle(self, sender: str, items: list[bytes]) -> None:
        """One bus entry from ``sender``, in order: pushes delivered now, requests run by a
        task each (their replies go back when they are answered)."""
        gone: list[int] = []
        for raw in items:
            try:
                item = _item_decoder.decode(raw)
            except UNDECODABLE as exc:
                self._malformed(sender, raw, exc)
                continue
            match item:
                case RoutePush(player_id=player_id, body=body):
                    sessions = self.gateway.sessions.of_player_id(player_id)
                    if not sessions:
                        if player_id not in gone and len(gone) < GONE_PER_BATCH_MAX:
                            gone.append(player_id)
                        continue
                    self.gateway.push_encoded(sessions, msgspec.Raw(body))  # their mailboxes
                    self.pushes_delivered += 1
                case RouteReply(rid=rid):
                    waiting = self._waiting.get(rid)
                    if waiting is None:
                        self.duplicates_dropped += 1  # late (timed out) or repeated
                        continue
                    try:
                        waiting.send_nowait(item)
                    except trio.WouldBlock:
                        self.duplicates_dropped += 1
                case RouteRequest():
                    self._start_request(sender, item)
                case RouteGone(player_ids=player_ids):
                    for player_id in player_ids:
                        self._forget(player_id, sender)
                case RouteHook():
                    self._hook(sender, item)
                case RouteOpen():
                    self._start_open(sender, item)
                case RouteCreate():
                    self._start_create(sender, item)
                case RouteTournament():
                    self._tournament(sender, item)
                case RouteSummary():
                    if self.tournaments is not None:
                        self.tournaments.summary_received(sender, item)
                case RouteListings():
                    if self.lobby is not None:
                        self.lobby.received(sender, item)
                case RouteSeek():
                    self._seek_received(sender, item)
        if gone:
            self.bus.post(sender, _encode(RouteGone(gone)))

    def _malformed(self, sender: str, raw: bytes, exc: Exception) -> None:
        """An item that does not decode (another version's, or corrupt): dropped and
        logged, never let to stop the bus (its entry would be claimed again and again).
        Answered ``invalid_message`` when it names a request id, so its sender does not
        wait out its timeout."""
        self.items_malformed += 1
        log.warning("a bus item did not decode: dropped", sender=sender, error=str(exc)[:200])
        try:
            fields = msgspec.msgpack.decode(raw)
        except UNDECODABLE:
            return
        if not (isinstance(fields, list) and len(fields) >= 2):
            return
        if not (isinstance(fields[0], str) and isinstance(fields[1], str)):
            return
        if fields[0] not in ITEMS_WITH_RID or fields[0] == "rep":
            return  # a reply is never answered
        if fields[0] == "tour" and len(fields) >= 7 and fields[6] is True:
            return  # a tell: no answer
        message = f"the item did not decode on {self.node}: {str(exc)[:200]}"
        reply = RouteReply(fields[1], code="invalid_message", message=message)
        self.bus.post(sender, _encode(reply))

    def _tournament(self, sender: str, item: RouteTournament) -> None:
        tournaments = self.tournaments
        if tournaments is not None:
            tournaments.received(sender, item)
            return
        if not item.tell and self.first_time(item.rid):
            reply = RouteReply(item.rid, code="tournaments_unavailable", message="no tournaments")
            self.bus.post(sender, _encode(reply))

    def _start_request(self, sender: str, item: RouteRequest) -> None:
        if not self.first_time(item.rid):
            return
        # Pushes that this request causes (and every later one) go to the sender's node.
        self._remember(self._routes, item.player_id, sender)
        self.serve(sender, item.rid, partial(self._run, item))

    def _start_open(self, sender: str, item: RouteOpen) -> None:
        if not self.first_time(item.rid):
            return
        opener = self.on_open
        if item.table_id.startswith(TOURNAMENT_PREFIX):  # a new tournament placed here
            opener = self.tournaments.open_here if self.tournaments is not None else None
        if self._nursery is None or opener is None:
            self.bus.post(sender, _encode(RouteReply(item.rid, code="unavailable")))
            return
        self._nursery.start_soon(self._open, sender, item, opener)

    def _start_create(self, sender: str, item: RouteCreate) -> None:
        if not self.first_time(item.rid):
            return
        if self._nursery is None or self.on_create is None:
            self.bus.post(sender, _encode(RouteReply(item.rid, code="unavailable")))
            return
        self._nursery.start_soon(self._create, sender, item)

    async def _create(self, sender: str, item: RouteCreate) -> None:
        assert self.on_create is not None
        try:
            await self.on_create(item.config)
        except GameRefused as exc:
            reply = RouteReply(item.rid, code=exc.code, message=str(exc))
        except Exception:
            log.exception("opening a table placed here crashed")
            reply = RouteReply(item.rid, code="unavailable", message="the table did not open")
        else:
            reply = RouteReply(item.rid)
        self.bus.post(sender, _encode(reply))

    async def _open(
        self, sender: str, item: RouteOpen, opener: Callable[[str, str], Awaitable[bool]]
    ) -> None:
        try:
            opened = await opener(item.table_id, sender)
        except Exception:
            log.exception("opening a table handed over crashed", table=item.table_id)
            opened = False
        self._owners.pop(item.table_id, None)
        reply = RouteReply(item.rid) if opened else RouteReply(item.rid, code="not_opened")
        self.bus.post(sender, _encode(reply))

    async def _answer(
        self, sender: str, rid: str, answer: Callable[[], Awaitable[RouteReply]]
    ) -> None:
        try:
            reply = await answer()
        except Exception:
            # As a session's crash ends only its connection (Gateway.handle), a request of
            # another node's session that hits our bug is answered, not let to stop the bus.
            log.exception("a routed request crashed", rid=rid)
            reply = RouteReply(rid, code="unavailable", message="the request failed")
        finally:
            self._handling -= 1
        self.requests_handled += 1
        self.bus.post(sender, _encode(reply))

    async def _run(self, item: RouteRequest) -> RouteReply:
        inner = self.inner_requests
        if inner is None:
            return RouteReply(item.rid, code="games_unavailable", message="no tables here")
        request = _request_decoder.decode(item.request)
        try:
            reply = await inner.handle(item.player_id, item.player, request, item.address)
        except GameRefused as exc:
            if exc.code == "no_such_table":
                return RouteReply(item.rid, not_here=True)
            return RouteReply(
                item.rid, code=exc.code, message=str(exc), retry_after_ms=exc.retry_after_ms
            )
        return RouteReply(item.rid, reply=None if reply is None else _encode(reply))

    def _hook(self, sender: str, hook: RouteHook) -> None:
        """A session event of another node's session. A ``detached`` or ``ended`` waits
        for the check of the session's record (_apply_hooks), and every event after it
        waits behind it, so the tables see them in the order they were sent."""
        if self._nursery is None or (hook.kind not in _CHECKED_HOOKS and not self._hooks_behind):
            self._apply_hook(sender, hook)
            return
        try:
            self._hooks_send.send_nowait((sender, hook))
        except trio.WouldBlock:
            self.hooks_unchecked += 1
            self._apply_hook(sender, hook)
            return
        self._hooks_behind += 1

    async def _apply_hooks(self) -> None:
        async for sender, hook in self._hooks_receive:
            try:
                if hook.kind in _CHECKED_HOOKS and await self._stale(sender, hook):
                    self.hooks_stale += 1
                    if hook.kind == "ended":
                        self._forget(hook.player_id, sender)  # that node holds none of hers
                else:
                    self._apply_hook(sender, hook)
            finally:
                self._hooks_behind -= 1

    async def _stale(self, sender: str, hook: RouteHook) -> bool:
        """True when the session ``sender`` says dropped or ended is held by another node
        now (its record in Redis names that node): she resumed there, and ``sender``'s copy
        is one it had not let go yet (it was paused past the takeover, or had not noticed
        the move). Her tables follow the node that holds her session, which told them so
        itself. No record (a logout closed it, the grace ran out) or Redis not answering:
        the event counts, as it did before this check."""
        if not hook.session_id:
            return False
        try:
            holder = await self.session_holder(hook.session_id)
        except RedisDown:
            return False
        return holder is not None and holder != sender

    async def _stored_holder(self, session_id: str) -> str | None:
        return await self._cluster.sessions.holder(session_id)

    def _apply_hook(self, sender: str, hook: RouteHook) -> None:
        hooks = self.inner_hooks
        match hook.kind:
            case "detached":
                hooks.session_detached(hook.player_id, hook.player, hook.session_id)
            case "ended":
                hooks.session_ended(hook.player_id, hook.player, hook.session_id)
                self._forget(hook.player_id, sender)
            case "held":  # a seek's answer: her session there waits for a resume
                if hooks.table_ids(hook.player_id) or self._entrant(hook.player_id):
                    self._remember(self._routes, hook.player_id, sender)
            case "resumed":
                if hooks.table_ids(hook.player_id):  # she sits at or watches a table here
                    self._remember(self._routes, hook.player_id, sender)
                    hooks.current_state(hook.player_id, hook.player)
                elif self._entrant(hook.player_id):  # a tournament here pushes to her
                    self._remember(self._routes, hook.player_id, sender)
            case "opened":
                if hooks.table_ids(hook.player_id) or self._entrant(hook.player_id):
                    self._remember(self._routes, hook.player_id, sender)
            case "profile":
                hooks.profile_changed(
                    hook.player_id, hook.display_name, hook.auto_muck, hook.auto_post_blinds
                )

    def _entrant(self, player_id: int) -> bool:
        tournaments = self.tournaments
        return tournaments is not None and tournaments.entrant_here(player_id)

    def _remember(
        self, routes: collections.OrderedDict[int, dict[str, None]], player_id: int, node: str
    ) -> None:
        nodes = routes.get(player_id)
        if nodes is None:
            nodes = routes[player_id] = {}
            while len(routes) > ROUTES_MAX:
                routes.popitem(last=False)
                self.routes_dropped += 1
        nodes[node] = None

    def _forget(self, player_id: int, node: str) -> None:
        nodes = self._routes.get(player_id)
        if nodes is not None:
            nodes.pop(node, None)
            if not nodes:
                del self._routes[player_id]

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The bus's reader and sender, and the tasks answering other nodes' requests."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await nursery.start(self.bus.run_sender)
            await nursery.start(self.bus.run, self.handle)
            nursery.start_soon(self._refresh_nodes)
            nursery.start_soon(self._apply_hooks)
            task_status.started()

    async def _refresh_nodes(self) -> None:
        while True:
            try:
                view = await self._cluster.view()
            except RedisDown:
                pass  # the last list stays; a resume meanwhile may miss a new node
            else:
                before = set(self.live_nodes)
                self.live_nodes = [n.node for n in view.nodes if n.node != self.node]
                if self.placement is not None:
                    self.placement.update(view.nodes)
                joined = [n for n in self.live_nodes if n not in before]
                if joined and self.tournaments is not None:
                    self.tournaments.nodes_joined(joined)
                if self.lobby is not None:
                    left = [n for n in before if n not in self.live_nodes]
                    self.lobby.refresh(self.live_nodes, joined, left)
                self._forget_dead_nodes(set(self.live_nodes))
            await trio.sleep(NODES_REFRESH_S)

    def _forget_dead_nodes(self, live: set[str]) -> None:
        """Routes to nodes gone from the room (their records expired): pushes there would
        only keep a dead stream alive."""
        for routes in (self._routes, self._sent_to):
            for player_id in [p for p, nodes in routes.items() if not nodes.keys() <= live]:
                nodes = routes[player_id]
                for node in [n for n in nodes if n not in live]:
                    del nodes[node]
                if not nodes:
                    del routes[player_id]


@final
class RoutedGameRequests:
    """The gateway's GameRequests on a node of a room: this node's tables first, then the
    table's owner (NodeRouter.route)."""

    def __init__(self, inner: GameRequests, router: NodeRouter) -> None:
        self.inner = inner
        self.router = router

    async def handle(
        self, player_id: int, player: str, request: game.GameRequest, address: str = ""
    ) -> Reply | None:
        try:
            return await self.inner.handle(player_id, player, request, address)
        except GameRefused as refused:
            if refused.code == PLACED_ELSEWHERE and isinstance(request, game.QuickSeat):
                return await self._placed(str(refused), player_id, player, request, address)
            if refused.code != "no_such_table":
                raise
            return await self.router.route(refused, player_id, player, request, address)

    async def _placed(
        self, placed: str, player_id: int, player: str, request: game.QuickSeat, address: str
    ) -> Reply | None:
        """A quick seat placed on another node; when that table refuses her (it filled up
        meanwhile), the matcher is asked once more (it picks a table again)."""
        try:
            return await self.router.quick_seat_at(placed, player_id, player, request, address)
        except GameRefused as refused:
            if refused.code not in ("table_full", "seat_taken", "table_closing"):
                raise
        try:
            return await self.inner.handle(player_id, player, request, address)
        except GameRefused as refused:
            if refused.code != PLACED_ELSEWHERE:
                raise
            return await self.router.quick_seat_at(
                str(refused), player_id, player, request, address
            )


@final
class RoutedSessionHooks:
    """The gateway's SessionHooks on a node of a room: this node's tables, and the owners
    of the remote tables the player reached through this node."""

    def __init__(self, inner: SessionHooks, router: NodeRouter) -> None:
        self.inner = inner
        self.router = router

    def session_detached(self, player_id: int | None, player: str, session_id: str) -> None:
        self.inner.session_detached(player_id, player, session_id)
        self.router.tell_owners("detached", player_id, player, session_id)

    def session_ended(self, player_id: int | None, player: str, session_id: str) -> None:
        self.inner.session_ended(player_id, player, session_id)
        self.router.tell_owners("ended", player_id, player, session_id)

    def current_state(self, player_id: int | None, player: str) -> Sequence[PushBody]:
        state = self.inner.current_state(player_id, player)
        self.router.resumed(player_id, player)
        return state

    def table_ids(self, player_id: int | None) -> list[str]:
        local = self.inner.table_ids(player_id)
        return local + [t for t in self.router.remote_table_ids(player_id) if t not in local]

    def profile_changed(
        self,
        player_id: int,
        display_name: str | None = None,
        auto_muck: bool | None = None,
        auto_post_blinds: bool | None = None,
    ) -> None:
        self.inner.profile_changed(player_id, display_name, auto_muck, auto_post_blinds)
        self.router.tell_owners(
            "profile",
            player_id,
            "",
            "",
            display_name=display_name,
            auto_muck=auto_muck,
            auto_post_blinds=auto_post_blinds,
        )
