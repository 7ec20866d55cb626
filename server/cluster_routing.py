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
events (dropped, resumed, ended, profile changed) reach the owner's tables the same way.

Items (msgpack, tagged): ``req``, ``rep``, ``push``, ``gone``, ``hook``. Bounds: routes
remembered (ROUTES_MAX players; overflow: the oldest player's routes are forgotten),
requests in flight (IN_FLIGHT_MAX each way; overflow: ``unavailable``), request ids
remembered against repeats (REQUEST_IDS_MAX), owners cached for OWNER_CACHE_S.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Literal, final

import msgspec
import structlog
import trio

from actors.table.messages import GameRefused
from persistence.leases import RedisLeases
from persistence.node_bus import NodeBus
from persistence.redis_link import RedisDown
from protocol import game
from protocol.messages import PushBody, Reply

if TYPE_CHECKING:
    from server.cluster import ClusterLink
    from server.gateway import GameRequests, Gateway, SessionHooks

log = structlog.get_logger("tablium.routing")

ROUTE_TIMEOUT_S: Final = 5.0  # a table answers in milliseconds; the owner's ask waits 5 s
UNAVAILABLE_RETRY_AFTER_MS: Final = 1_000
OWNER_CACHE_S: Final = 5.0  # a moved table answers not_here, a dead owner times out: both drop it
OWNERS_CACHED_MAX: Final = 10_000  # overflow: the cache is emptied
ROUTES_MAX: Final = 100_000  # players with sessions on other nodes; overflow: oldest forgotten
IN_FLIGHT_MAX: Final = 10_000  # forwarded requests waiting, each way; overflow: unavailable
REQUEST_IDS_MAX: Final = 65_536  # request ids handled, remembered to drop a repeat
GONE_PER_BATCH_MAX: Final = 1_000
NODES_REFRESH_S: Final = 5.0  # the room's node list, for resumes (nodes beat every 10 s)


class _Item(msgspec.Struct, frozen=True, tag_field="k", array_like=True):
    pass


@final
class RouteRequest(_Item, frozen=True, tag="req"):
    rid: str  # "<node>:<n>": unique in the room
    player_id: int
    player: str
    address: str
    request: bytes  # msgpack of a protocol.game.GameRequest


@final
class RouteReply(_Item, frozen=True, tag="rep"):
    rid: str
    reply: bytes | None = None  # msgpack of a protocol.game.GameReply; None: ok
    code: str | None = None  # refused with this code
    message: str = ""
    retry_after_ms: int | None = None
    not_here: bool = False  # the node does not run that table (any more)


@final
class RoutePush(_Item, frozen=True, tag="push"):
    player_id: int
    body: bytes  # protocol.codec.encode_body's bytes


@final
class RouteGone(_Item, frozen=True, tag="gone"):
    player_ids: list[int]  # no session of these players here: stop pushing


HookKind = Literal["detached", "ended", "resumed", "profile"]


@final
class RouteHook(_Item, frozen=True, tag="hook"):
    kind: HookKind
    player_id: int
    player: str
    session_id: str
    display_name: str | None = None
    auto_muck: bool | None = None
    auto_post_blinds: bool | None = None


_Items = RouteRequest | RouteReply | RoutePush | RouteGone | RouteHook
_encode: Final = msgspec.msgpack.Encoder().encode
_item_decoder: Final = msgspec.msgpack.Decoder(_Items)
_request_decoder: Final = msgspec.msgpack.Decoder(game.GameRequest)
_reply_decoder: Final = msgspec.msgpack.Decoder(game.GameReply)

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
        self._nursery: trio.Nursery | None = None
        self._cluster = cluster
        self.live_nodes: list[str] = []  # the room's other nodes, every NODES_REFRESH_S
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

    # --- the requester's side ------------------------------------------------------------

    async def owner(self, table_id: str, *, fresh: bool = False) -> str | None:
        """The node holding the table's lease (None: nobody), cached OWNER_CACHE_S."""
        now = trio.current_time()
        cached = self._owners.get(table_id)
        if cached is not None and not fresh and cached[1] > now:
            return cached[0]
        try:
            holder = (await self._leases.holders([table_id]))[table_id]
        except RedisDown:
            raise _unavailable("the room's shared state does not answer") from None
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
        send, receive = trio.open_memory_channel[RouteReply](1)
        self._waiting[rid] = send
        try:
            if not self.bus.post(owner, _encode(item)):
                self.requests_refused += 1
                raise _unavailable("the way to the table's node is full")
            self.requests_forwarded += 1
            with trio.move_on_after(ROUTE_TIMEOUT_S):
                return await receive.receive()
            self.requests_timed_out += 1
            self._owners.pop(getattr(request, "table_id", ""), None)
            raise _unavailable("the table's node did not answer")
        finally:
            del self._waiting[rid]

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

    # --- the owner's side ----------------------------------------------------------------

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
            item = _item_decoder.decode(raw)
            match item:
                case RoutePush(player_id=player_id, body=body):
                    sessions = self.gateway.sessions.of_player_id(player_id)
                    if not sessions:
                        if player_id not in gone and len(gone) < GONE_PER_BATCH_MAX:
                            gone.append(player_id)
                        continue
                    encoded = msgspec.Raw(body)
                    for session in sessions:
                        session.push_encoded(encoded)
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
        if gone:
            self.bus.post(sender, _encode(RouteGone(gone)))

    def _start_request(self, sender: str, item: RouteRequest) -> None:
        if item.rid in self._handled:
            self.duplicates_dropped += 1
            return
        self._handled[item.rid] = None
        while len(self._handled) > REQUEST_IDS_MAX:
            self._handled.popitem(last=False)
        # Pushes that this request causes (and every later one) go to the sender's node.
        self._remember(self._routes, item.player_id, sender)
        if self._handling >= IN_FLIGHT_MAX or self._nursery is None:
            self.requests_refused += 1
            reply = RouteReply(
                item.rid,
                code="unavailable",
                message="this node is too busy",
                retry_after_ms=UNAVAILABLE_RETRY_AFTER_MS,
            )
            self.bus.post(sender, _encode(reply))
            return
        self._handling += 1
        self._nursery.start_soon(self._answer, sender, item)

    async def _answer(self, sender: str, item: RouteRequest) -> None:
        try:
            reply = await self._run(item)
        except Exception:
            # As a session's crash ends only its connection (Gateway.handle), a request of
            # another node's session that hits our bug is answered, not let to stop the bus.
            log.exception("a routed request crashed", rid=item.rid)
            reply = RouteReply(item.rid, code="unavailable", message="the request failed")
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
        hooks = self.inner_hooks
        match hook.kind:
            case "detached":
                hooks.session_detached(hook.player_id, hook.player, hook.session_id)
            case "ended":
                hooks.session_ended(hook.player_id, hook.player, hook.session_id)
                self._forget(hook.player_id, sender)
            case "resumed":
                if hooks.table_ids(hook.player_id):  # she sits at or watches a table here
                    self._remember(self._routes, hook.player_id, sender)
                    hooks.current_state(hook.player_id, hook.player)
            case "profile":
                hooks.profile_changed(
                    hook.player_id, hook.display_name, hook.auto_muck, hook.auto_post_blinds
                )

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
            task_status.started()

    async def _refresh_nodes(self) -> None:
        while True:
            try:
                view = await self._cluster.view()
            except RedisDown:
                pass  # the last list stays; a resume meanwhile may miss a new node
            else:
                self.live_nodes = [n.node for n in view.nodes if n.node != self.node]
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
            if refused.code != "no_such_table":
                raise
            return await self.router.route(refused, player_id, player, request, address)


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
