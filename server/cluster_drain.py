"""Draining a node of a room on SIGTERM (docs/scaling.md, "Draining a node"): its tables move
to the other live nodes between hands, and its sessions are closed so that their clients
resume on another node.

For each cash table this node holds, at most ``tables_at_once`` at a time:

1. hold it after its running hand (``HoldAfterHand``; an operator's paused table is left
   paused: it deals no new hand either), and wait until no hand runs;
2. stop its actor, flush the snapshot writer (the table's last state is in the database),
   and release its lease;
3. tell the least-loaded live node over the bus (``RouteOpen``) to claim the lease and open
   the table from that snapshot at once; that node releases the hold (server/app.py's
   opener), so the next hand is dealt there after the table's usual pause between hands.
   No answer within ``hand_over_timeout_s``, or a refusal: the next node is asked.

Each tournament this node runs moves the same way, whole (server/tournament_drain.py): it
releases no table for another hand (``HoldForDrain``), and once no hand runs at any of its
tables it stores its step with its play time and stops its clock; its actor and tables stop
here, its lease goes, and the least-loaded live node is told (``RouteOpen`` of
``tournament:<id>``) to claim it and open it from that step at once, as a restart does.

Once every table a player sits at or watches on this node has moved, her sessions here are
closed with 1001 (``going_away``: "reconnect, with backoff", docs/protocol.md), after the
events pushed to them are in Redis; her client reconnects (through the load balancer, to
another node: this node's /readyz answers 503 from the start of the drain) and resumes
there, and the table's new node sends her its state (routing's resume hook).

Bound: the whole drain takes at most ``timeout_s`` (TABLIUM_DRAIN_TIMEOUT_S). Tables whose
hand has not ended by then are stopped mid-hand and handed over all the same: their new
node voids that hand (its chips back in the stacks), as after a crash. Then every session
left is closed as above, and the node stops as before. A node with no other live node (a
lone node, or the last one) does not drain: it stops as it always did, its tables waiting
in the database for the next start. A second SIGTERM or SIGINT during the drain stops at
once (server/app.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, final

import structlog
import trio

from actors.addresses import TableAddress
from actors.errors import ChildNotFound, NameNotFound, TargetError
from actors.table.admin import GetTableDetail, TableDetail
from actors.table.messages import GetSeats, HoldAfterHand, TableSeats
from actors.tournament_messages import TournamentAddress
from persistence.redis_link import RedisDown
from protocol.errors import CloseCode
from server.cluster_placement import PLACED_TABLE_SEATS
from server.tournament_drain import hold_until_stored, players_at_tables
from server.tournament_leases import UNFINISHED, stop_tournament_here, tournament_number

if TYPE_CHECKING:
    from actors.runtime import ActorRef, Registry
    from actors.table.player_tables import PlayerTables
    from persistence.snapshot_writer import SnapshotWriter
    from server.cluster import ClusterLink, NodeView
    from server.cluster_tables import TableOwnership
    from server.gateway import Gateway

log = structlog.get_logger("tablium.drain")

ASK_TIMEOUT_S: Final = 2.0  # a table answers in milliseconds
HAND_POLL_S: Final = 0.05  # how often a held table is asked whether its hand has ended
SETTLE_WAIT_S: Final = 1.0  # a held table's cash-outs and rake paid before it stops, at most
FORCED_PHASE_S: Final = 5.0  # after timeout_s: the tables left, stopped and handed over
ROOM_CHECK_S: Final = 0.5  # how often a drain looks whether another node would still take

DrainState = Literal["idle", "draining", "drained", "alone"]


@final
@dataclass(frozen=True, slots=True)
class DrainSettings:
    timeout_s: float = 30.0  # TABLIUM_DRAIN_TIMEOUT_S
    hand_over_timeout_s: float = 5.0  # one node's answer to RouteOpen
    tables_at_once: int = 16  # tables moving at a time (each waits for its hand's end)


def node_load(node: NodeView) -> tuple[int, int, str]:
    """A node's load as placement counts it (server/cluster_placement.py; lower is less
    loaded): the players seated at its tables, the tables it holds, its name."""
    return (node.seated, node.tables, node.node)


def least_loaded(nodes: Collection[NodeView], exclude: str = "") -> list[NodeView]:
    """The live, non-draining nodes other than ``exclude``, least loaded first."""
    return sorted(
        (n for n in nodes if n.node != exclude and not n.draining),
        key=node_load,
    )


class Draining(Exception):
    """/readyz's answer while this node drains."""


@final
class NodeDrain:
    """This node's drain (``drain``), run by server/app.py on the first SIGTERM."""

    def __init__(
        self,
        cluster: ClusterLink,
        ownership: TableOwnership,
        registry: Registry,
        writer: SnapshotWriter,
        player_tables: PlayerTables,
        settings: DrainSettings | None = None,
    ) -> None:
        self.cluster = cluster
        self.ownership = ownership
        self.registry = registry
        self.writer = writer
        self.player_tables = player_tables
        self.settings = settings or DrainSettings()
        self.gateway: Gateway | None = None  # set once the gateway runs
        # The leases of this node's tournaments (server/tournament_leases.py), and where
        # their tables run; None: no tournament moves (it waits for a takeover, as before).
        self.tournaments: TableOwnership | None = None
        self.tournament_tables_supervisor = "tables"
        self.state: DrainState = "idle"
        # Metrics and /cluster.
        self.tables_moved = 0  # handed over between hands
        self.tables_forced = 0  # handed over mid-hand, after timeout_s
        self.tables_stuck = 0  # no node opened them: they wait in the database
        self.tournaments_moved = 0  # handed over with no hand running
        self.tournaments_forced = 0  # handed over with hands running, after timeout_s
        self.tournaments_stuck = 0  # no node opened them: a takeover after a lapse
        self.sessions_closed = 0
        self.duration_s = 0.0
        self._moved: set[str] = set()
        self._moving: set[str] = set()  # stopped here, not yet open on another node
        self._skipped: set[str] = set()  # closing (or a tournament over): stops with the node
        # The players seated at or watching each table (or tournament's tables) when its
        # hands ended (their last GetSeats): whose sessions may close once it moved.
        self._players: dict[str, set[int]] = {}
        # Tables given to each node during this drain, added to its published load.
        self._given: dict[str, int] = {}
        self.alone_since_start = False  # every other node began draining too: stopped

    async def check(self) -> None:
        """ReadinessProbe: a draining node takes no new connection."""
        if self.state in ("draining", "drained"):
            raise Draining("this node is draining: its tables are moving to other nodes")

    async def drain(self) -> None:
        """Move this node's tables and sessions to the other live nodes, within timeout_s
        (plus FORCED_PHASE_S for tables whose hand outlasted it). Returns at once when no
        other live node exists (state ``alone``)."""
        gateway = self.gateway
        router = gateway.router if gateway is not None else None
        if gateway is None or router is None or self.state != "idle":
            return
        started = trio.current_time()
        try:
            others = least_loaded((await self.cluster.view()).nodes, exclude=self.cluster.node)
        except RedisDown as exc:
            log.warning("no drain: redis unreachable", error=str(exc))
            self.state = "alone"
            return
        if not others:
            log.info("no drain: no other live node")
            self.state = "alone"
            return
        self.state = "draining"
        self.cluster.draining = True
        self.ownership.draining = True
        if self.tournaments is not None:
            self.tournaments.draining = True  # it neither adopts nor claims a tournament
        if gateway.cluster is not None:
            await gateway.cluster.refresh_presence()  # /cluster shows it draining at once
        tables = sorted(self.ownership.held)
        tournaments = sorted(self.tournaments.held) if self.tournaments is not None else []
        log.warning("draining", tables=len(tables), tournaments=len(tournaments),
                    nodes=[n.node for n in others])  # fmt: skip
        limiter = trio.CapacityLimiter(max(1, self.settings.tables_at_once))
        with trio.move_on_after(self.settings.timeout_s):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._watch_room, nursery.cancel_scope)
                async with trio.open_nursery() as moves:
                    # Tournaments first: each holds all its tables with one message.
                    for name in tournaments:
                        moves.start_soon(self._move_tournament, name, limiter, False)
                    for table_id in tables:
                        moves.start_soon(self._move, table_id, limiter, False)
                nursery.cancel_scope.cancel()
        left = sorted(self.ownership.held - self._skipped)
        left_tournaments = sorted(self._tournaments_held() - self._skipped)
        if self.alone_since_start:
            log.warning("drain stopped: every other node is draining too", tables=len(left),
                        tournaments=len(left_tournaments))  # fmt: skip
        elif left or left_tournaments:
            log.warning("drain timed out: tables moved mid-hand", tables=len(left),
                        tournaments=len(left_tournaments))  # fmt: skip
            with trio.move_on_after(FORCED_PHASE_S):
                async with trio.open_nursery() as nursery:
                    for table_id in left:
                        nursery.start_soon(self._move, table_id, limiter, True)
                    for name in left_tournaments:
                        nursery.start_soon(self._move_tournament, name, limiter, True)
        await self._close_sessions(None)
        self.state = "drained"
        self.duration_s = trio.current_time() - started
        log.warning(
            "drained",
            moved=self.tables_moved,
            forced=self.tables_forced,
            stuck=self.tables_stuck,
            tournaments_moved=self.tournaments_moved,
            tournaments_forced=self.tournaments_forced,
            tournaments_stuck=self.tournaments_stuck,
            sessions=self.sessions_closed,
            seconds=round(self.duration_s, 3),
        )

    def _tournaments_held(self) -> set[str]:
        return set(self.tournaments.held) if self.tournaments is not None else set()

    async def _watch_room(self, moves: trio.CancelScope) -> None:
        """Stop the drain once no other node would take a table (they all drain too: a whole
        room stopped at once). Those tables stop with this node, as a lone node's do."""
        while True:
            await trio.sleep(ROOM_CHECK_S)
            try:
                others = least_loaded((await self.cluster.view()).nodes, exclude=self.cluster.node)
            except RedisDown:
                continue
            if not others:
                self.alone_since_start = True
                moves.cancel()
                return

    async def _move(self, table_id: str, limiter: trio.CapacityLimiter, forced: bool) -> None:
        async with limiter:
            while not forced:
                ref = self.registry.resolve(TableAddress(table_id))
                if ref is None:
                    break  # not running here (stopped meanwhile): handed over as it is
                try:
                    if not await self._between_hands(ref):
                        self._skipped.add(table_id)
                        return  # not a cash table, or closing: it stops with the node
                    break
                except TargetError:
                    # Slow, or crashed and restarted (its hand voided): ask it again; the
                    # drain's bound still applies.
                    await trio.sleep(HAND_POLL_S)
            self._moving.add(table_id)
            try:
                await self._stop_and_hand_over(table_id, forced)
            finally:
                self._moving.discard(table_id)

    async def _stop_and_hand_over(self, table_id: str, forced: bool) -> None:
        # Shielded: once stopped here, the table is handed over even if the drain's bound
        # passes meanwhile (bounded itself: hand_over_timeout_s per live node).
        with trio.CancelScope(shield=True):
            await self._stop_here(table_id)
            if table_id not in self.ownership.held:
                return  # lost to another node meanwhile: it is that node's
            try:
                await self.ownership.let_go(table_id)
            except RedisDown as exc:
                log.warning("drain: lease not released", table=table_id, error=str(exc))
                return
            if not await self._hand_over(table_id, forced):
                self.tables_stuck += 1
                log.error("drain: no node opened the table; it waits in the database",
                          table=table_id)  # fmt: skip
                return
            if forced:
                self.tables_forced += 1
            else:
                self.tables_moved += 1

    async def _move_tournament(
        self, name: str, limiter: trio.CapacityLimiter, forced: bool
    ) -> None:
        """Move the tournament ``name`` (``tournament:<id>``) and its tables whole: held
        until no hand runs at them (``forced``: at once), its step stored, stopped here,
        handed over (server/tournament_drain.py)."""
        number = tournament_number(name)
        if number is None:
            return
        async with limiter:
            hold = await hold_until_stored(self.registry, name, now=forced)
            if hold is None or hold.state not in UNFINISHED:
                # Not running here (over, or stopped meanwhile): nothing to move; its lease
                # goes as the node stops.
                self._skipped.add(name)
                return
            self._players[name] = await players_at_tables(self.registry, number)
            self._moving.add(name)
            try:
                await self._stop_and_hand_over_tournament(name, number, forced)
            finally:
                self._moving.discard(name)

    async def _stop_and_hand_over_tournament(self, name: str, number: int, forced: bool) -> None:
        tournaments = self.tournaments
        assert tournaments is not None
        # Shielded, as a table's: once stopped here, it is handed over (bounded).
        with trio.CancelScope(shield=True):
            await stop_tournament_here(self.registry, self.tournament_tables_supervisor, number)
            await self.writer.flush()  # its tables' last snapshots are in the database
            if name not in tournaments.held:
                return  # lost to another node meanwhile: it is that node's
            try:
                await tournaments.let_go(name)
            except RedisDown as exc:
                log.warning("drain: lease not released", tournament=name, error=str(exc))
                return
            if not await self._hand_over(name, forced):
                self.tournaments_stuck += 1
                log.error("drain: no node opened the tournament; it waits for a takeover",
                          tournament=name)  # fmt: skip
                return
            if forced:
                self.tournaments_forced += 1
            else:
                self.tournaments_moved += 1

    async def _between_hands(self, ref: ActorRef[Any]) -> bool:
        """Hold the table and wait until its hand has ended (and, briefly, until what it owes
        is paid). False: a table this drain leaves alone."""
        detail: TableDetail = await ref.ask(GetTableDetail(), timeout_s=ASK_TIMEOUT_S)
        if detail.config.bankroll != "cash" or detail.status in ("closing", "closed"):
            return False
        if detail.status != "paused":  # an operator's pause deals no hand either: kept
            ref.tell(HoldAfterHand())
        while True:
            seats: TableSeats = await ref.ask(GetSeats(), timeout_s=ASK_TIMEOUT_S)
            if seats.hand_number == 0:
                players = {seat.player_id for seat in seats.seats}
                self._players[detail.config.table_id] = players | set(seats.watchers)
                break
            await trio.sleep(HAND_POLL_S)
        with trio.move_on_after(SETTLE_WAIT_S):
            while detail.owed_chips:  # else the new node pays them, under the same keys
                await trio.sleep(HAND_POLL_S)
                detail = await ref.ask(GetTableDetail(), timeout_s=ASK_TIMEOUT_S)
        return True

    async def _stop_here(self, table_id: str) -> None:
        with contextlib.suppress(ChildNotFound, NameNotFound):
            await self.registry.supervisor("tables").stop_child(TableAddress(table_id).actor_name)
        await self.writer.flush()

    async def _hand_over(self, table_id: str, forced: bool) -> bool:
        """Tell the least-loaded live node to claim and open ``table_id`` (a cash table, or
        ``tournament:<id>``), the next if it does not: True once one has. The sessions of
        its players with nothing left here are closed then."""
        gateway = self.gateway
        assert gateway is not None and gateway.router is not None
        try:
            view = await self.cluster.view()
            nodes = least_loaded(view.nodes, exclude=self.cluster.node)
        except RedisDown:
            nodes = []
        given = self._given
        nodes.sort(
            key=lambda n: (
                n.seated + given.get(n.node, 0) * PLACED_TABLE_SEATS,
                n.tables + given.get(n.node, 0),
                n.node,
            )
        )
        for node in nodes:
            if await gateway.router.hand_over(
                node.node, table_id, self.settings.hand_over_timeout_s
            ):
                self._given[node.node] = self._given.get(node.node, 0) + 1
                self._moved.add(table_id)
                kind = "tournament" if tournament_number(table_id) is not None else "table"
                log.info(f"{kind} handed over", node=node.node, forced=forced, **{kind: table_id})
                await self._close_sessions(self._players.pop(table_id, set()))
                return True
        return False

    async def _close_sessions(self, players: set[int] | None) -> None:
        """Close (1001) the sessions of ``players`` who have no table left on this node
        (None: every session left), once their events are in Redis."""
        gateway = self.gateway
        assert gateway is not None
        if players is None:
            closing = list(gateway.sessions.attached())
        else:
            closing = [
                session
                for player_id in players
                if not self._still_here(player_id)
                for session in gateway.sessions.of_player_id(player_id)
            ]
        if not closing:
            return
        if gateway.cluster is not None:
            await gateway.cluster.flush_replays()  # a resume elsewhere replays them
        for session in closing:
            outlet = session.outlet
            if outlet is not None and hasattr(outlet, "kill"):
                outlet.kill(CloseCode.GOING_AWAY, "this node is draining: resume on another")
                self.sessions_closed += 1

    def _still_here(self, player_id: int | None) -> bool:
        """Whether the player sits at or watches a table that has not moved yet (a cash
        table, or a table of a tournament still here)."""
        if player_id is None:
            return False
        index = self.player_tables
        tables = [*index.seats_of(player_id), *index.watched_by(player_id)]
        return any(self._table_here(t) for t in tables)

    def _table_here(self, table_id: str) -> bool:
        if table_id in self.ownership.held or table_id in self._moving:
            return True
        tournament = TournamentAddress.of_table(table_id)
        if tournament is None:
            return False
        name = tournament.actor_name
        return name in self._moving or name in self._tournaments_held()
