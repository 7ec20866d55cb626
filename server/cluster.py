"""This node's part in a room of several server processes sharing one Redis
(docs/scaling.md): its name, the shared throttles, presence, revocations and the sessions'
resume state, and what it does when Redis does not answer.

The gateway holds a ClusterLink when TABLIUM_REDIS_URL is set; without one everything
stays in the process, as before. Redis not answering (RedisDown) never stops play: a
request's address limit falls back to this node's own bucket, presence and resume
mirroring skip a beat, and only what cannot be decided safely without Redis is refused
with ``server_busy`` (new logins and registrations, a token login of a session this node
does not hold). Each skipped write is counted; the next one that succeeds ends the
degraded mode by itself.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable, Collection
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, final

import msgspec
import structlog
import trio

from persistence.redis_link import PROBE_INTERVAL_S, RedisDown, RedisLink
from persistence.shared_state import (
    RedisBans,
    RedisNodes,
    RedisPresence,
    RedisRevocations,
    RedisSessions,
    RedisThrottles,
    StoredSession,
)
from protocol.errors import CloseCode
from server.auth import TokenInvalid
from services.accounts import shared_state_busy
from services.throttle import SharedRateLimit

if TYPE_CHECKING:
    from server.cluster_tables import TableOwnership
    from server.gateway import Gateway
    from server.session import PlayerSession

log = structlog.get_logger("tablium.cluster")

DEFAULT_PREFIX: Final = "tablium:"
NODE_NAME_CHARS_MAX: Final = 64


UNSENT_REVOCATIONS_MAX: Final = 10_000  # kept while Redis is down; overflow: oldest forgotten
LEASES_LISTED_MAX: Final = 1000  # table ids a node lists in its record; the count is exact


@final
class NodeView(msgspec.Struct, frozen=True):
    """A node as the room sees it (its last beat): what /cluster lists."""

    node: str
    started_at_ms: int
    seen_at_ms: int  # the node's clock at its last beat
    sessions: int  # held by its gateway (attached or waiting for a resume)
    connections: int  # open websockets
    tables: int  # table leases it holds
    leases: list[str]  # their table ids, sorted, at most LEASES_LISTED_MAX
    # Moving its tables to other nodes before it stops (server/cluster_drain.py): placement
    # and drains pass it by.
    draining: bool = False
    seated: int = 0  # players seated at its tables (its lobby's listings): its load


@final
class ClusterView(msgspec.Struct, frozen=True):
    node: str  # the node that answers
    nodes: list[NodeView]  # every live node, by name
    # The load the answering node's placement counts for each node it may place a new table
    # on (itself included; server/cluster_placement.py): tables held, plus those it placed
    # there since that node's record was written. Empty before its first read of the room.
    placement: dict[str, int] = {}


_node_decoder: Final = msgspec.json.Decoder(NodeView)


def default_node_name() -> str:
    """Unique per process: host, pid and a random suffix (a restarted process on the same
    host with the same pid is still another node)."""
    host = socket.gethostname().split(".")[0] or "node"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"[:NODE_NAME_CHARS_MAX]


@final
@dataclass(frozen=True, slots=True)
class ClusterSettings:
    presence_ttl_ms: int = 30_000  # a node refreshes every third of it
    # Tokens of an address's shared request bucket taken at once (services/throttle.py's
    # SharedRateLimit): Redis is asked once per this many requests of one address.
    address_rate_chunk: int = 16
    replay_flush_ms: int = 50  # frames reach Redis this long after their push, at most
    # Frames waiting to be mirrored, over every session of the node; overflow: the newest
    # frame is not mirrored (a resume on another node then reports a gap).
    replay_pending_frames_max: int = 100_000


@final
class ReplayMirror:
    """Frames pushed to this node's sessions that Redis does not have yet (PlayerSession's
    ``mirror``): kept by session until the gateway's next flush. Bounded per session by
    ``events_max`` (older ones are dropped: Redis keeps only that many anyway) and in all by
    ``frames_max`` (overflow: the frame is not mirrored, counted in ``frames_dropped``)."""

    def __init__(self, events_max: int, frames_max: int) -> None:
        self.events_max: Final = events_max
        self.frames_max: Final = frames_max
        self._pending: dict[str, tuple[PlayerSession, list[tuple[int, bytes]]]] = {}
        self._frames = 0
        self.frames_dropped = 0

    def __len__(self) -> int:
        return self._frames

    def append(self, session: PlayerSession, seq: int, frame: bytes) -> None:
        if self._frames >= self.frames_max:
            self.frames_dropped += 1
            return
        entry = self._pending.get(session.session_id)
        if entry is None or entry[0] is not session:
            entry = self._pending[session.session_id] = (session, [])
        events = entry[1]
        events.append((seq, frame))
        self._frames += 1
        if len(events) > self.events_max:
            del events[0]
            self._frames -= 1

    def drain(self) -> list[tuple[PlayerSession, int, list[tuple[int, bytes]]]]:
        """Everything pending, as (session, its last seq, events), and forget it."""
        out = [(session, events[-1][0], events) for session, events in self._pending.values()]
        self._pending = {}
        self._frames = 0
        return out


def consecutive_tail(
    replay: tuple[tuple[int, bytes], ...], last_seq: int
) -> list[tuple[int, bytes]]:
    """The longest run of ``replay`` that is consecutive and ends at ``last_seq``: what a
    resume may replay (a frame lost on the way to Redis cuts the run there)."""
    tail: list[tuple[int, bytes]] = []
    expected = last_seq
    for seq, frame in reversed(replay):
        if seq != expected:
            break
        tail.append((seq, frame))
        expected -= 1
    tail.reverse()
    return tail


@final
class ClusterLink:
    """What the gateway of one node shares with the others."""

    def __init__(
        self,
        link: RedisLink,
        *,
        node: str | None = None,
        prefix: str = DEFAULT_PREFIX,
        session_ttl_ms: int = 60_000,
        replay_events_max: int = 1024,
        settings: ClusterSettings | None = None,
    ) -> None:
        self.link = link
        self.node = node or default_node_name()
        self.prefix = prefix
        self.settings = settings or ClusterSettings()
        self.throttles = RedisThrottles(link, prefix)
        self.presence = RedisPresence(link, prefix, self.node, self.settings.presence_ttl_ms)
        self.revocations = RedisRevocations(link, prefix)
        self.sessions = RedisSessions(link, prefix, self.node, session_ttl_ms, replay_events_max)
        self.mirror = ReplayMirror(replay_events_max, self.settings.replay_pending_frames_max)
        self.nodes = RedisNodes(link, prefix)
        self.bans = RedisBans(link, prefix)
        self.started_at_ms = time.time_ns() // 1_000_000
        # The tables this node holds leases of (server/cluster_tables.py sets it).
        self.tables_held: Callable[[], Collection[str]] = tuple
        self.draining = False  # published in this node's record (server/cluster_drain.py)
        self.placement_loads: Callable[[], dict[str, int]] = dict  # for /cluster
        self.seated_here: Callable[[], int] = int  # published as ``seated``
        # For metrics (server/gateway_metrics.py), set by server/app.py: this node's table
        # ownership (server/cluster_tables.py).
        self.ownership: TableOwnership | None = None
        # Degraded mode: trio time Redis was first found down (None: it answers), and how
        # many shared reads or writes were skipped or refused because of it (metrics).
        self.down_since: float | None = None
        self.redis_failures = 0
        self._answering = trio.Event()
        self._answering.set()

    def failed(self, what: str, exc: RedisDown) -> None:
        """Note a Redis call that did not get through; logs the start of a degraded spell."""
        self.redis_failures += 1
        if self.down_since is None:
            self.down_since = trio.current_time()
            self._answering = trio.Event()
            log.warning("redis unreachable: degraded mode", what=what, error=str(exc))

    def answered(self) -> None:
        if self.down_since is not None:
            log.info("redis answers again", down_s=round(trio.current_time() - self.down_since, 3))
            self.down_since = None
            self._answering.set()

    async def answering(self) -> None:
        """Return once Redis answers (at once unless in a degraded spell)."""
        await self._answering.wait()

    async def beat(self, sessions: int, connections: int) -> None:
        """Write this node's record (expires after 3 presence refresh periods unrenewed)."""
        held = sorted(self.tables_held())
        record = NodeView(
            node=self.node,
            started_at_ms=self.started_at_ms,
            seen_at_ms=time.time_ns() // 1_000_000,
            sessions=sessions,
            connections=connections,
            tables=len(held),
            leases=held[:LEASES_LISTED_MAX],
            draining=self.draining,
            seated=self.seated_here(),
        )
        await self.nodes.beat(self.node, msgspec.json.encode(record), self.settings.presence_ttl_ms)

    async def view(self) -> ClusterView:
        """Every live node, from Redis (RedisDown when it does not answer)."""
        records = await self.nodes.records()
        nodes = [_node_decoder.decode(r) for r in records]
        return ClusterView(self.node, nodes, self.placement_loads())

    async def take_over(self, session_id: str) -> StoredSession | None:
        """A session another node held, now this node's (RedisDown when Redis is down)."""
        try:
            stored = await self.sessions.take_over(session_id)
        except RedisDown as exc:
            self.failed("take_over", exc)
            raise
        self.answered()
        return stored


@final
class NodeSessions:
    """The gateway's side of the cluster link: presence, shared address limits,
    revocations and resume state of the sessions this node holds."""

    def __init__(self, link: ClusterLink, gateway: Gateway) -> None:
        self.link = link
        self.gateway = gateway
        limits = gateway.limits
        chunk = max(1, min(link.settings.address_rate_chunk, limits.rate_ip_burst_requests))
        self.address_rate = SharedRateLimit(
            "ws-address", limits.rate_ip_burst_requests, limits.rate_ip_refill_per_s, chunk
        )
        self.sessions_moved = 0  # sessions found taken over by another node (metrics)
        # Revocations written while Redis was down, oldest first; sent when it answers.
        self._unsent_revocations: dict[str, int] = {}
        self.revocations_dropped = 0  # overflow of UNSENT_REVOCATIONS_MAX: the oldest go

    async def address_wait_s(self, address: str, now_s: float) -> float:
        """The client address's shared bucket (Redis down: this node's own, without trying
        Redis on this request's time; the flush loop's probe finds when it is back)."""
        if self.address_rate.take_local(address, now_s):
            return 0.0
        if self.link.link.down:
            return self.gateway.address_rate.take(address, now_s)
        try:
            wait_s = await self.address_rate.take(self.link.throttles, address, now_s)
        except RedisDown as exc:
            self.link.failed("address_rate", exc)
            return self.gateway.address_rate.take(address, now_s)
        self.link.answered()
        return wait_s

    async def opening(
        self, session_id: str, player: str, role: str, player_id: int | None, last_seq: int = 0
    ) -> None:
        """Before a session opens on this node: online, and its resume record ours.
        Raises ServerBusy when Redis does not answer (nothing is opened then)."""
        try:
            await self.link.presence.online([(player, session_id)])
            await self.link.sessions.open(session_id, player, role, player_id, last_seq)
        except RedisDown as exc:
            self.link.failed("open_session", exc)
            raise shared_state_busy() from None
        self.link.answered()

    def adopt(self, session: PlayerSession) -> None:
        """Mirror the session's frames to Redis from now on."""
        session.mirror = self.link.mirror

    def ended(self, session: PlayerSession) -> None:
        session.mirror = None
        self.gateway.spawn(self.closed, session.player, session.session_id)

    async def closed(self, player: str, session_id: str) -> None:
        """Offline, and nothing left to resume (idempotent: logout awaits it, on top of
        the background write every ended session gets)."""
        try:
            await self.link.presence.offline(player, session_id)
            await self.link.sessions.close(session_id)
        except RedisDown as exc:
            self.link.failed("end_session", exc)  # both expire by themselves

    async def resume_elsewhere(
        self, session_id: str, player: str, held_here: bool
    ) -> StoredSession | None:
        """Claim the session's resume record for this node: what it held (None: Redis has
        no record of it). Its ``node`` says who held it: another node means a copy held
        here is stale. Redis down: None for a session held here (it resumes from this
        node's copy), else ServerBusy. TokenInvalid for another player's session."""
        try:
            stored = await self.link.take_over(session_id)
        except RedisDown:
            if held_here:
                return None
            raise shared_state_busy() from None
        if stored is not None and stored.player != player:
            raise TokenInvalid("the token's session belongs to another player")
        return stored

    async def revoked(self, session_id: str, held_here: bool) -> bool:
        """True if a node revoked the session (logout, ban). Redis down: a session this
        node holds goes on (the database still checks accounts' tokens); any other is
        refused with ServerBusy, as a new login would be."""
        try:
            revoked = await self.link.revocations.revoked(session_id)
        except RedisDown as exc:
            self.link.failed("revoked", exc)
            if held_here:
                return False
            raise shared_state_busy() from None
        self.link.answered()
        return revoked

    async def revoke(self, session_id: str, until_s: int) -> None:
        """Tell every node; the database's record (written by the caller) is the durable
        one. Redis down: kept (UNSENT_REVOCATIONS_MAX) and sent once it answers, so only
        guests' tokens (which the database does not check) stay usable on other nodes
        meanwhile."""
        try:
            await self.link.revocations.revoke(session_id, until_s)
        except RedisDown as exc:
            self.link.failed("revoke", exc)
            self._unsent_revocations[session_id] = until_s
            while len(self._unsent_revocations) > UNSENT_REVOCATIONS_MAX:
                del self._unsent_revocations[next(iter(self._unsent_revocations))]
                self.revocations_dropped += 1

    async def send_unsent_revocations(self) -> bool:
        """The revocations Redis missed while down; True once all are sent."""
        while self._unsent_revocations:
            session_id, until_s = next(iter(self._unsent_revocations.items()))
            try:
                await self.link.revocations.revoke(session_id, until_s)
            except RedisDown as exc:
                self.link.failed("revoke", exc)
                return False
            self._unsent_revocations.pop(session_id, None)
        return True

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Refresh presence and flush resume state until cancelled; then leave the room (a
        node that dies drops out when its record expires)."""
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._refresh_presence)
                nursery.start_soon(self._flush_replays)
                nursery.start_soon(self._probe_while_down)
                task_status.started()
        finally:
            # RedisDown: the record expires by itself.
            with trio.CancelScope(shield=True), trio.move_on_after(1), suppress(RedisDown):
                await self.link.nodes.leave(self.link.node)

    async def _refresh_presence(self) -> None:
        period_s = self.link.settings.presence_ttl_ms / 3 / 1000
        while True:
            await self.refresh_presence()  # at once: the node appears in /cluster
            await trio.sleep(period_s)

    async def announce_ban(self, player_id: int) -> None:
        """Tell every node to end the player's sessions (each looks at its presence
        refresh, every third of presence_ttl_ms; the notice lives a whole one)."""
        try:
            await self.link.bans.announce(player_id, self.link.settings.presence_ttl_ms)
        except RedisDown as exc:
            self.link.failed("announce_ban", exc)

    async def end_banned(self) -> int:
        """End this node's sessions of players banned on another node since they opened
        (RedisDown when Redis does not answer). Returns how many ended."""
        by_player: dict[int, list[PlayerSession]] = {}
        for session in self.gateway.sessions.attached():
            if session.player_id is not None:
                by_player.setdefault(session.player_id, []).append(session)
        if not by_player:
            return 0
        announced = await self.link.bans.announced(sorted(by_player))
        ended = 0
        for player_id, banned_at_ms in announced.items():
            for session in by_player[player_id]:
                if session.opened_at_ms <= banned_at_ms:
                    self.gateway.end_session_now(
                        session, CloseCode.ACCOUNT_BANNED, "the account is banned"
                    )
                    ended += 1
        self.gateway.bans_enforced += ended
        return ended

    async def refresh_presence(self) -> None:
        """Presence of every attached session, this node's record (/cluster), and the
        bans other nodes announced."""
        gateway = self.gateway
        live = gateway.sessions.attached()
        try:
            await self.link.presence.online([(s.player, s.session_id) for s in live])
            await self.link.beat(len(gateway.sessions), gateway.connections_open)
            await self.end_banned()
        except RedisDown as exc:
            self.link.failed("presence", exc)
            return
        self.link.answered()

    async def _flush_replays(self) -> None:
        period_s = self.link.settings.replay_flush_ms / 1000
        while True:
            await trio.sleep(period_s)
            await self.flush_replays()

    async def _probe_while_down(self) -> None:
        while True:
            await trio.sleep(PROBE_INTERVAL_S)
            if self.link.link.down:
                await self.probe()

    async def probe(self) -> None:
        """While Redis is down: one PING (at most one a second, the link's breaker), so the
        hot paths share again soon after it answers."""
        try:
            await self.link.link.probe()
        except RedisDown as exc:
            self.link.failed("probe", exc)
            return
        if await self.send_unsent_revocations():
            self.link.answered()  # (after them: "answering" means every node knows them)

    async def flush_replays(self) -> None:
        pending = self.link.mirror.drain()
        if not pending:
            return
        try:
            kept = await self.link.sessions.mirror_many(
                [(s.session_id, last_seq, events) for s, last_seq, events in pending]
            )
        except RedisDown as exc:
            # Lost for a resume elsewhere (it will report a gap); a resume here has them.
            self.link.failed("mirror", exc)
            return
        self.link.answered()
        for (session, _, _), still_ours in zip(pending, kept, strict=True):
            if not still_ours and self.gateway.sessions.get(session.session_id) is session:
                self.sessions_moved += 1
                self.gateway.let_go(session)
