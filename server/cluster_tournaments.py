"""Tournaments across the nodes of a room (docs/scaling.md, "Tournaments across nodes"): a
tournament runs on one node (its lease, server/tournament_leases.py), and is reached from
every node, over the node bus and its routing (server/cluster_routing.py), as a table is.

- **Asks.** ``RoomTournaments.ask`` asks the ``tournament:<id>`` actor of this node, or,
  when none runs here, the holder of the tournament's lease (``RouteTournament``: at least
  once on the bus, handled once by request id, answered with the actor's answer or its
  refusal's code). The websocket's tournament requests (server/tournament_requests.py) and
  the admin API's (admin/tournaments.py) both ask through it.
- **Pushes.** A player's routed request makes the owner remember her node (the router's
  routes), so the tournament's pushes to her, and its tables', reach her sessions there as
  a table's do. The owner also remembers her as an entrant (ENTRANTS_MAX), so that a new
  session or a resume of hers elsewhere (the router's ``opened`` and ``resumed``) brings
  her pushes there.
- **Placement.** A new tournament (the directory's ``CreateTournament``: an operator's, a
  club's) opens on the least-loaded live node (``TablePlacement.choose``): that node is
  asked to claim its lease and open it (``RouteOpen`` of ``tournament:<id>``); no answer
  within PLACE_TIMEOUT_S, or a refusal: here. The lease decides if both try.
- **Lobby lines.** The directory shares each line of this node's tournaments with the other
  nodes (``RouteSummary``, to each live node; again to a node that joins), so every node
  lists and pushes every tournament; and this node's tournament players count in its load.

Bounds: ENTRANTS_MAX players remembered (oldest forgotten), LOCAL_LINES_MAX lines of this
node's tournaments (oldest forgotten); a routed ask waits its own timeout plus
ROUTE_MARGIN_S; the router's in-flight bounds apply.
"""

from __future__ import annotations

import collections
from functools import partial
from typing import TYPE_CHECKING, Any, Final, final

import msgspec
import structlog

from actors.runtime import Registry, TargetError
from actors.table.messages import GameRefused
from actors.tournament_messages import (
    DIRECTORY_NAME,
    AdjustStack,
    DealProposal,
    EntryAccepted,
    GetResults,
    GetStandings,
    GetTournament,
    OutsideTournamentMessage,
    ProposeDeal,
    RegisterPlayer,
    Results,
    Standings,
    SummaryChanged,
    TournamentAddress,
    TournamentDetails,
    TournamentMessage,
    TournamentRefusal,
    TournamentSummary,
)
from protocol.messages import ERROR_MESSAGE_CHARS_MAX
from server.cluster_items import UNDECODABLE, RouteReply, RouteSummary, RouteTournament
from server.cluster_routing import ROUTE_TIMEOUT_S, UNAVAILABLE_RETRY_AFTER_MS
from services.ledger import WalletError

if TYPE_CHECKING:
    from server.cluster_placement import TablePlacement
    from server.cluster_routing import NodeRouter
    from server.cluster_tables import TableOwnership

log = structlog.get_logger("tablium.routing")

ROUTE_MARGIN_S: Final = 1.0  # a routed ask waits the actor's timeout plus the bus's way
ROUTED_TIMEOUT_MS_MAX: Final = 120_000  # the longest ask a node runs for another (a start)
PLACE_TIMEOUT_S: Final = ROUTE_TIMEOUT_S
ENTRANTS_MAX: Final = 100_000  # players whose tournament here pushes to them; oldest forgotten
LOCAL_LINES_MAX: Final = 10_000  # lines of this node's tournaments; oldest forgotten

# What may cross nodes: the players' and the directors' messages, never a tournament's own
# (its clock, lapses, the tables' reports), and what each answers (absent: None).
RoutedMessage = OutsideTournamentMessage
ROUTED_TAGS: Final = frozenset(t.__name__ for t in RoutedMessage.__args__)
ANSWERS: Final[dict[type, type]] = {
    RegisterPlayer: EntryAccepted,
    GetTournament: TournamentDetails,
    GetStandings: Standings,
    GetResults: Results,
    ProposeDeal: DealProposal,
    AdjustStack: int,
}
_encode: Final = msgspec.msgpack.Encoder().encode
_message_decoder: Final = msgspec.msgpack.Decoder(RoutedMessage)
_summary_decoder: Final = msgspec.msgpack.Decoder(TournamentSummary)


class BadRoutedMessage(Exception):
    """A routed tournament message this node cannot run: ``code`` is ``unknown_type`` (not
    a message that may cross nodes, or none at all) or ``invalid_message`` (bad fields)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def decode_routed(data: bytes) -> TournamentMessage:
    """The tournament message in a RouteTournament; BadRoutedMessage when it is none that
    may cross nodes. Pure: nothing is asked."""
    try:
        fields = msgspec.msgpack.decode(data)
    except UNDECODABLE as exc:
        raise BadRoutedMessage("invalid_message", f"not msgpack: {exc}") from None
    tag = fields.get("type") if isinstance(fields, dict) else None
    if not isinstance(tag, str) or tag not in ROUTED_TAGS:
        shown = repr(tag)[:64]
        raise BadRoutedMessage("unknown_type", f"no tournament message {shown} crosses nodes")
    try:
        message: TournamentMessage = _message_decoder.decode(data)
    except UNDECODABLE as exc:
        raise BadRoutedMessage("invalid_message", f"{tag}: {exc}") from None
    return message


def decode_answer(message: TournamentMessage, data: bytes | None) -> Any:
    """The tournament's answer to ``message`` from its msgpack (None: no answer)."""
    answer_type = ANSWERS.get(type(message))
    if answer_type is None or data is None:
        return None
    try:
        return msgspec.msgpack.decode(data, type=answer_type)
    except UNDECODABLE as exc:
        raise TournamentRefusal("invalid_message", f"the tournament's answer: {exc}") from None


def players_of(summary: TournamentSummary) -> int:
    """What a tournament weighs in its node's load: the players it seats or will seat."""
    if summary.state == "running":
        return summary.players_left
    if summary.state == "registering":
        return summary.entries
    return 0


@final
class RoomTournaments:
    """This node's tournaments in the room: asks (both sides), placement, shared lobby
    lines. Without a router (a node alone, or before the gateway runs) everything is this
    node's: asks are local, tournaments open here, nothing is shared."""

    def __init__(
        self,
        registry: Registry,
        *,
        ownership: TableOwnership | None = None,
        placement: TablePlacement | None = None,
    ) -> None:
        self.registry = registry
        self.ownership = ownership  # the tournaments' leases (server/tournament_leases.py)
        self.placement = placement
        self.router: NodeRouter | None = None  # set once the gateway runs
        self._entrants: collections.OrderedDict[int, None] = collections.OrderedDict()
        self._local: collections.OrderedDict[int, TournamentSummary] = collections.OrderedDict()
        # Metrics.
        self.placed_here = 0
        self.placed_elsewhere = 0
        self.asks_routed = 0
        self.asks_answered = 0  # for other nodes
        self.messages_refused = 0  # routed messages that did not decode

    # --- asks: the asker's side ----------------------------------------------------------

    async def ask(
        self,
        tournament_id: int,
        message: TournamentMessage,
        timeout_s: float,
        *,
        player_id: int | None = None,
    ) -> Any:
        """The tournament's answer to ``message``, wherever it runs. Raises what its actor
        raises when it runs here (TournamentRefusal, WalletError, GameRefused, TargetError);
        from another node, a refusal as TournamentRefusal with its code, and TargetError
        when that node did not answer in time (it may have acted). No node runs it:
        TournamentRefusal ``tournament_not_found``."""
        name = TournamentAddress(tournament_id).actor_name
        ref = self.registry.lookup(name)
        if ref is not None:
            try:
                answer = await ref.ask(message, timeout_s=timeout_s)
            except TournamentRefusal as refused:
                # Stopping here: another node holds its lease (it runs there).
                if refused.code != "tournament_not_found" or self.router is None:
                    raise
            else:
                if player_id is not None:
                    self.entrant(player_id)
                return answer
        if self.router is None:
            raise TournamentRefusal("tournament_not_found", f"no {name}")
        return await self._routed(self.router, name, tournament_id, message, timeout_s, player_id)

    async def _routed(
        self,
        router: NodeRouter,
        name: str,
        tournament_id: int,
        message: TournamentMessage,
        timeout_s: float,
        player_id: int | None,
    ) -> Any:
        timeout_ms = max(1, min(ROUTED_TIMEOUT_MS_MAX, int(timeout_s * 1000)))
        encoded = _encode(message)
        for fresh in (False, True):
            try:
                owner = await router.owner(name, fresh=fresh)
            except GameRefused as exc:  # Redis does not answer
                raise TargetError(name, str(exc)) from None
            if owner is None or owner == router.node:
                break  # nobody runs it (or it is starting or stopping here)
            rid = router.new_rid()
            item = RouteTournament(rid, tournament_id, encoded, player_id, timeout_ms)
            if player_id is not None:
                router.sent_to(player_id, owner)  # her session's events go there too
            self.asks_routed += 1
            try:
                answer = await router.ask_node(
                    owner, rid, _encode(item), timeout_ms / 1000 + ROUTE_MARGIN_S
                )
            except GameRefused as exc:  # too many in flight, or the way there is full
                raise TargetError(name, str(exc)) from None
            if answer is None:
                router.forget_owner(name)
                raise TargetError(name, f"its node {owner} did not answer in time")
            if answer.not_here:
                router.forget_owner(name)
                continue  # it moved: ask Redis again, once
            if answer.code == "tournaments_unavailable":
                raise TargetError(name, answer.message or "it did not answer")
            if answer.code is not None:
                raise TournamentRefusal(answer.code, answer.message or answer.code)
            return decode_answer(message, answer.reply)
        raise TournamentRefusal("tournament_not_found", f"no {name} runs in the room")

    def tell(self, tournament_id: int, message: TournamentMessage) -> None:
        """``message`` to the tournament here, or to the node that runs it (a task asks
        Redis which; at most once: no answer, no retry)."""
        ref = self.registry.lookup(TournamentAddress(tournament_id).actor_name)
        if ref is not None or self.router is None:
            if ref is not None:
                ref.tell(message)
            return
        self.router.spawn(self._tell_elsewhere, self.router, tournament_id, message)

    async def _tell_elsewhere(
        self, router: NodeRouter, tournament_id: int, message: TournamentMessage
    ) -> None:
        name = TournamentAddress(tournament_id).actor_name
        try:
            owner = await router.owner(name)
        except GameRefused:
            log.warning("a tell to a tournament was lost: redis unreachable", tournament=name)
            return
        if owner is None or owner == router.node:
            return
        item = RouteTournament(router.new_rid(), tournament_id, _encode(message), tell=True)
        router.post(owner, _encode(item))

    # --- asks: the owner's side ----------------------------------------------------------

    def received(self, sender: str, item: RouteTournament) -> None:
        """A RouteTournament from ``sender`` (NodeRouter.handle): run once per request id."""
        router = self.router
        if router is None or not router.first_time(item.rid):
            return
        if item.tell:
            self._tell_here(sender, item)
            return
        if item.player_id is not None:
            # The pushes this request causes (and every later one) go to her node.
            router.route_player(item.player_id, sender)
        router.serve(sender, item.rid, partial(self.answer, item))

    def _tell_here(self, sender: str, item: RouteTournament) -> None:
        try:
            message = decode_routed(item.message)
        except BadRoutedMessage as exc:
            self.messages_refused += 1
            log.warning("a routed tournament tell was refused", sender=sender, code=exc.code,
                        error=str(exc))  # fmt: skip
            return
        ref = self.registry.lookup(TournamentAddress(item.tournament_id).actor_name)
        if ref is not None:
            ref.tell(message)

    async def answer(self, item: RouteTournament) -> RouteReply:
        """The reply to a routed ask: the tournament's answer here, or its refusal."""
        rid = item.rid
        try:
            message = decode_routed(item.message)
        except BadRoutedMessage as exc:
            self.messages_refused += 1
            log.warning("a routed tournament message was refused", rid=rid, code=exc.code,
                        error=str(exc))  # fmt: skip
            return RouteReply(rid, code=exc.code, message=str(exc)[:ERROR_MESSAGE_CHARS_MAX])
        ref = self.registry.lookup(TournamentAddress(item.tournament_id).actor_name)
        if ref is None:
            return RouteReply(rid, not_here=True)
        timeout_s = max(1, min(ROUTED_TIMEOUT_MS_MAX, item.timeout_ms)) / 1000
        self.asks_answered += 1
        try:
            answer = await ref.ask(message, timeout_s=timeout_s)
        except TournamentRefusal as exc:
            if exc.code == "tournament_not_found":  # stopping here: another node owns it
                return RouteReply(rid, not_here=True)
            return RouteReply(rid, code=exc.code, message=exc.message[:ERROR_MESSAGE_CHARS_MAX])
        except WalletError as exc:
            text = str(exc)[:ERROR_MESSAGE_CHARS_MAX]
            return RouteReply(rid, code=exc.code, message=text, retry_after_ms=exc.retry_after_ms)
        except GameRefused as exc:
            text = str(exc)[:ERROR_MESSAGE_CHARS_MAX]
            return RouteReply(rid, code=exc.code, message=text, retry_after_ms=exc.retry_after_ms)
        except TargetError as exc:
            return RouteReply(
                rid,
                code="tournaments_unavailable",
                message=str(exc)[:ERROR_MESSAGE_CHARS_MAX],
                retry_after_ms=UNAVAILABLE_RETRY_AFTER_MS,
            )
        if item.player_id is not None:
            self.entrant(item.player_id)
        return RouteReply(rid, reply=None if answer is None else _encode(answer))

    def entrant(self, player_id: int) -> None:
        """A tournament of this node answered the player: it may push to her from now on."""
        self._entrants.pop(player_id, None)
        self._entrants[player_id] = None
        while len(self._entrants) > ENTRANTS_MAX:
            self._entrants.popitem(last=False)

    def came_with(self, tournament_id: int, player_id: int) -> None:
        """TournamentRoom.came_with: an entrant, looked for on the other nodes when this
        node has no route to her (NodeRouter.seek)."""
        self.entrant(player_id)
        if self.router is not None:
            self.router.seek(player_id, TournamentAddress(tournament_id).actor_name)

    def entrant_here(self, player_id: int) -> bool:
        return player_id in self._entrants

    # --- placement -----------------------------------------------------------------------

    async def place(self, tournament_id: int) -> bool:
        """TournamentRoom.place: True once a less-loaded node opened the new tournament."""
        placement, router = self.placement, self.router
        node = placement.choose() if placement is not None else None
        if node is None or router is None or placement is None:
            self.placed_here += 1
            return False
        name = TournamentAddress(tournament_id).actor_name
        if not await router.hand_over(node, name, PLACE_TIMEOUT_S):
            log.warning("a node did not open a tournament placed there: opened here",
                        node=node, tournament=name)  # fmt: skip
            self.placed_here += 1
            return False
        placement.note_placed(node)
        self.placed_elsewhere += 1
        log.info("tournament placed on another node", node=node, tournament=name)
        return True

    async def open_here(self, name: str, sender: str) -> bool:
        """A tournament ``sender`` placed here (RouteOpen of ``tournament:<id>``: a new one,
        or one its drain moves): claim its lease and open it now (from its stored step, as
        a restart does). True once it runs here, or on a node other than the sender (it got
        there first)."""
        ownership = self.ownership
        if ownership is None or ownership.opener is None:
            return False
        if name in ownership.held:
            return True
        if await ownership.claim(name):
            # A new tournament's first epoch is 1; a later one: it ran on another node, whose
            # drain hands it over (server/tournament_drain.py) from its stored step.
            moved = (ownership.fences.epoch(name) or 0) > 1
            if await ownership.opener(name):
                if moved:
                    ownership.handed_in += 1
                    log.info("tournament handed over by a draining node", tournament=name,
                             by=sender)  # fmt: skip
                else:
                    log.info("tournament placed here by another node", tournament=name,
                             by=sender)  # fmt: skip
                return True
            ownership.held.discard(name)
            await ownership.leases.release([name])
            return False
        router = self.router
        if router is None:
            return False
        try:
            holder = await router.owner(name, fresh=True)
        except GameRefused:
            return False
        return holder is not None and holder != sender

    # --- lobby lines ---------------------------------------------------------------------

    def share(self, summary: TournamentSummary) -> None:
        """TournamentRoom.share: a line of this node's tournament, to every other node."""
        tid = summary.tournament_id
        self._local.pop(tid, None)
        if summary.state in ("registering", "running"):
            self._local[tid] = summary
            while len(self._local) > LOCAL_LINES_MAX:
                self._local.popitem(last=False)
        router = self.router
        if router is None:
            return
        item = _encode(RouteSummary(_encode(summary)))
        for node in router.live_nodes:
            router.post(node, item)

    def nodes_joined(self, nodes: list[str]) -> None:
        """Nodes new in the room get the lines of this node's live tournaments."""
        router = self.router
        if router is None:
            return
        for summary in self._live_lines():
            item = _encode(RouteSummary(_encode(summary)))
            for node in nodes:
                router.post(node, item)

    def summary_received(self, sender: str, item: RouteSummary) -> None:
        try:
            summary = _summary_decoder.decode(item.summary)
        except UNDECODABLE as exc:
            self.messages_refused += 1
            log.warning("a shared tournament line did not decode", sender=sender, error=str(exc))
            return
        if self.registry.lookup(TournamentAddress(summary.tournament_id).actor_name):
            return  # it runs here (a takeover raced the line): this node's own is the truth
        directory = self.registry.lookup(DIRECTORY_NAME)
        if directory is not None:
            directory.tell(SummaryChanged(summary=summary, shared=True))

    def _live_lines(self) -> list[TournamentSummary]:
        """The lines of this node's tournaments still running here (the others forgotten:
        over, or moved to another node)."""
        for tid in [t for t in self._local if not self._runs_here(t)]:
            del self._local[tid]
        return list(self._local.values())

    def _runs_here(self, tournament_id: int) -> bool:
        return self.registry.lookup(TournamentAddress(tournament_id).actor_name) is not None

    def players(self) -> int:
        """Players of this node's tournaments (registered or still in): part of its load
        (the lobby does not list tournament tables)."""
        return sum(players_of(s) for s in self._live_lines())
