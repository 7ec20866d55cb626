"""The websocket gateway: one session actor per connection, speaking protocol/.

``serve_gateway`` listens with our own websocket server (server/websocket.py) and runs each
connection as a ``Connection`` (server/connection.py). The ``Gateway`` holds the sessions
(server/session.py), which outlive their connections for resume, and, under the actor runtime,
their actors (server/session_actor.py).

Bounds and what happens at each (GatewayLimits holds the numbers):
- a frame over FRAME_BYTES_HARD_MAX: the websocket layer closes with 1009; over
  FRAME_BYTES_MAX: error frame, nothing else happens.
- no login within auth_timeout_ms: closed with 4001.
- no pong within heartbeat_timeout_ms: closed with 4004.
- requests beyond the session's token bucket (a connection's own before login; a session's
  survives its reconnects) or beyond the client address's bucket (shared by all its
  connections): rate_limited error with retry_after_ms, not executed.
- connections per client address over connections_per_ip_max: refused at the handshake (HTTP
  429). The address is the TCP peer's, or X-Forwarded-For's when the peer is one of
  trusted_proxies (server/handshake.py).
- a handshake whose Origin is not on allowed_origins nor of the same host (same_host_origins):
  refused (HTTP 403); none is fine.
- outbound queue over outbound_queue_messages_max: the client does not read; closed 4003.
- sessions over sessions_max: server_busy error on login.
- password hashes waiting over login_hashes_waiting_max, or queued for longer than half of
  auth_timeout_ms, or one address's over login_hashes_per_ip_max (services/passwords.py):
  register and login answer server_busy with retry_after_ms at once; a queued hash whose
  connection has closed is dropped, not computed.
- failed logins per name and per address, registrations per address: services/accounts.py
  (login_throttled, registration_limited, with retry_after_ms).
- bans remembered for racing logins: RECENT_BANS_MAX; overflow: the oldest is forgotten.
- replay buffer over replay_events_max per session: oldest dropped; resume reports a gap.

With a ClusterLink (Redis; server/cluster.py, docs/scaling.md) the address buckets, login
throttles, presence, revocations and resume state are shared with the other nodes, and
table requests and pushes cross to the table's node (server/cluster_routing.py).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Final, Protocol, final

import msgspec
import structlog
import trio
from prometheus_client.registry import REGISTRY, CollectorRegistry

from actors.club_tables import ClubTables
from actors.runtime import (
    ActorRef,
    ChildSpec,
    NameTaken,
    Restart,
    Supervisor,
    SupervisorFull,
    TargetError,
)
from actors.table.player_tables import (
    AtTable,
    TablesAt,
    keep_away,
    merged,
    seats_in,
    watched_in,
)
from persistence.store import Store
from protocol.codec import FRAME_BYTES_HARD_MAX, FRAME_BYTES_MAX, RequestDecoder, encode_body
from protocol.errors import CloseCode
from protocol.game import GameRequest
from protocol.messages import (
    PushBody,
    Reply,
    Role,
)
from protocol.textframes import SUBPROTOCOLS, Encoding, choose_encoding
from server.auth import CLOCK_SKEW_LEEWAY_S, SESSION_LIFETIME_MAX_S, TokenSigner
from server.club_requests import ClubRequests
from server.cluster import ClusterLink, NodeSessions
from server.cluster_routing import NodeRouter, RoutedGameRequests, RoutedSessionHooks
from server.config import Settings
from server.connection import Connection
from server.gateway_metrics import collector_for
from server.hand_requests import HandRequests
from server.handshake import (
    IPNetwork,
    client_address,
    header_values,
    normalize_origin,
    origin_allowed,
    parse_networks,
)
from server.player_requests import PlayerRequests
from server.rakeback_settings import rakeback_policy_of
from server.session import (
    LoggedOutSessions,
    PlayerSession,
    SessionRegistry,
    SessionsFull,
)
from server.session_actor import (
    Deliver,
    EndSession,
    Flush,
    SessionActor,
    SessionMessage,
    session_actor_name,
)
from server.token_keys import TokenKeyRing
from server.tournament_requests import TournamentRequestHandler
from server.wallet_requests import WalletRequests, wallet_policy_of
from server.websocket import HandshakeRequest, serve_websocket
from services.accounts import Accounts, AccountStore, LoginPolicy
from services.leaderboards import Leaderboards
from services.passwords import (
    HASHES_PER_OWNER_MAX,
    HASHES_WAITING_MAX,
    HashingCost,
    PasswordHasher,
    load_common_passwords,
)
from services.rakeback import RakebackPolicy
from services.throttle import BackoffPolicy, KeyedRateLimit
from services.wallet import Wallet, WalletPolicy

if TYPE_CHECKING:  # the chain extra is installed only where a cashier runs
    from services.chain.cashier import ChainCashier
    from services.chain.cashiers import Cashiers

log = structlog.get_logger("tablium.gateway")


LOGGED_OUT_SESSIONS_MAX: Final = 100_000  # ~10 MB; see LoggedOutSessions for the overflow
# A reply waits at most this long for the pushes before it (Gateway.pushes_done); past it the
# session actor is starved or ending, and the reply goes out anyway.
FLUSH_TIMEOUT_S: Final = 5.0
RECENT_BANS_MAX: Final = 10_000  # bans kept to refuse logins that raced them (see ban_player)


@final
@dataclass(frozen=True, slots=True)
class GatewayLimits:
    auth_timeout_ms: int = 5_000
    heartbeat_interval_ms: int = 15_000
    heartbeat_timeout_ms: int = 10_000
    rate_burst_requests: int = 60
    rate_refill_per_s: int = 30
    connections_per_ip_max: int = 64  # a bot swarm from one host needs its own limits
    outbound_queue_messages_max: int = 256
    replay_events_max: int = 1024
    resume_grace_ms: int = 60_000
    sessions_max: int = 20_000
    login_hashes_waiting_max: int = HASHES_WAITING_MAX
    login_hashes_per_ip_max: int = HASHES_PER_OWNER_MAX
    frame_bytes_max: int = FRAME_BYTES_MAX
    frame_bytes_hard_max: int = FRAME_BYTES_HARD_MAX
    guest_login: bool = False
    rate_ip_burst_requests: int = 240
    rate_ip_refill_per_s: int = 120
    # normalize_origin() values; empty: every handshake that carries an Origin is refused,
    # but for pages of the host the handshake was addressed to when same_host_origins is on.
    allowed_origins: frozenset[str] = frozenset()
    same_host_origins: bool = True
    trusted_proxies: tuple[IPNetwork, ...] = ()
    session_lifetime_max_s: int = SESSION_LIFETIME_MAX_S
    login_policy: LoginPolicy = field(default_factory=LoginPolicy)


class SessionHooks(Protocol):
    """How the rest of the server learns about sessions (the lead wires tables to this).

    ``player_id`` is the account id the tables know players by (None for guests and dev
    tokens without an account). Hooks are called from the gateway's tasks and must not
    block: tell, never ask.
    """

    def session_detached(self, player_id: int | None, player: str, session_id: str) -> None:
        """The connection dropped; seats are held until session_ended."""

    def session_ended(self, player_id: int | None, player: str, session_id: str) -> None:
        """Logout or the grace period ran out: release the player's seats."""

    def current_state(self, player_id: int | None, player: str) -> Sequence[PushBody]:
        """Pushes that bring a resumed client up to date (its tables' snapshots)."""

    def table_ids(self, player_id: int | None) -> list[str]:
        """The tables the player sits at or watches, for a resumed session's session_state."""

    def profile_changed(
        self,
        player_id: int,
        display_name: str | None = None,
        auto_muck: bool | None = None,
        auto_post_blinds: bool | None = None,
    ) -> None:
        """The player changed her display name or preferences over the websocket (None:
        unchanged): the tables she sits at take them at once."""


class GameRequests(Protocol):
    """Where the gateway sends lobby and table requests (protocol/game.py); the tables'
    side implements it (ask the lobby or a table actor). Raise GameRefused for the client's
    mistakes; return the reply, or None for a plain ``ok``. ``address``: the session's
    client address (server/handshake.py), for the tables' one-address rule."""

    async def handle(
        self, player_id: int, player: str, request: GameRequest, address: str = ""
    ) -> Reply | None: ...


@final
class PlayerChannel:
    """The tables' way to the players (actors/table/deps.PlayerChannel), usable before the
    gateway has started: serve_gateway(channel=...) connects it. Pushes made before that,
    or to players with no session, are dropped (a table never waits for a player).

    It also answers which tables seat or show a player (actors/table/player_tables.py):
    what her sessions were told, and ``away``: the tables of players who have no session
    on this node (a tournament player who logged out keeps her seat; a player whose
    sessions live on other nodes; tables that restarted before the gateway started). A
    session that opens adopts her record; an entry leaves when its tables say she left.
    Bound: an entry per player seated at or watching a table of this node."""

    def __init__(self) -> None:
        self.gateway: Gateway | None = None
        self.away: dict[int, TablesAt] = {}

    def deliver(self, player_id: int, body: PushBody) -> None:
        if self.gateway is not None:
            self.gateway.deliver(player_id, body)

    def at_table(self, player_id: int, note: AtTable) -> None:
        gateway = self.gateway
        if gateway is not None and gateway.note_table(player_id, note):
            return  # her sessions here were told
        keep_away(self.away, player_id, note)
        if note.on and gateway is not None and gateway.router is not None:
            # A table that came here with her (a takeover): her session may be elsewhere.
            gateway.router.seek_at_table(player_id, note.table_id)

    def seats_of(self, player_id: int) -> list[str]:
        return seats_in(self._known(player_id))

    def watched_by(self, player_id: int) -> list[str]:
        return watched_in(self._known(player_id))

    def _known(self, player_id: int) -> list[TablesAt]:
        known = [] if self.gateway is None else self.gateway.tables_known(player_id)
        away = self.away.get(player_id)
        return known if away is None else [*known, away]

    def player_banned(self, player_id: int) -> int:
        """End the player's sessions now (Gateway.ban_player). Returns how many ended (0
        before the gateway starts)."""
        return self.gateway.ban_player(player_id) if self.gateway is not None else 0

    async def end_sessions_of_banned(self, player_id: int) -> None:
        """The admin API's ``on_banned`` hook, called once a ban and its audit entry have
        committed: the sessions here at once, those on other nodes at their next look
        (docs/scaling.md)."""
        self.player_banned(player_id)
        if self.gateway is not None and self.gateway.cluster is not None:
            await self.gateway.cluster.announce_ban(player_id)

    def profile_renamed(self, player_id: int, display_name: str) -> None:
        """The admin API's ``on_renamed`` hook: the tables she sits at show the new name."""
        if self.gateway is not None:
            self.gateway.hooks.profile_changed(player_id, display_name=display_name)


@final
class NoTables:
    """SessionHooks for a server without tables yet: nothing to hold, nothing to send."""

    def session_detached(self, player_id: int | None, player: str, session_id: str) -> None:
        pass

    def session_ended(self, player_id: int | None, player: str, session_id: str) -> None:
        pass

    def current_state(self, player_id: int | None, player: str) -> Sequence[PushBody]:
        return ()

    def table_ids(self, player_id: int | None) -> list[str]:
        return []

    def profile_changed(
        self,
        player_id: int,
        display_name: str | None = None,
        auto_muck: bool | None = None,
        auto_post_blinds: bool | None = None,
    ) -> None:
        pass


@final
class Gateway:
    """The sessions of one server process and the way to reach them."""

    def __init__(
        self,
        accounts: Accounts,
        signer: TokenSigner,
        limits: GatewayLimits,
        hooks: SessionHooks,
        nursery: trio.Nursery,
        sessions_supervisor: Supervisor | None = None,
        wallet_requests: WalletRequests | None = None,
        game_requests: GameRequests | None = None,
        hand_requests: HandRequests | None = None,
        club_requests: ClubRequests | None = None,
        player_requests: PlayerRequests | None = None,
        tournament_requests: TournamentRequestHandler | None = None,
        cluster: ClusterLink | None = None,
    ) -> None:
        self.accounts = accounts
        self.tournament_requests = tournament_requests
        self.player_requests = player_requests
        self.wallet_requests = wallet_requests
        self.game_requests = game_requests
        self.hand_requests = hand_requests
        self.club_requests = club_requests
        # With a supervisor, each session is also a temporary actor session:<id> under it.
        self.sessions_supervisor = sessions_supervisor
        self._session_refs: dict[str, ActorRef[SessionMessage]] = {}
        self.signer = signer
        self.limits = limits
        self.hooks = hooks
        self.sessions = SessionRegistry(limits.sessions_max, limits.replay_events_max)
        self.logged_out = LoggedOutSessions(
            signer.ttl_s, CLOCK_SKEW_LEEWAY_S, LOGGED_OUT_SESSIONS_MAX
        )
        self.decoder = RequestDecoder(frame_bytes_max=limits.frame_bytes_max)
        self._nursery = nursery
        # deliver()'s one-entry cache: the last body pushed and its encoding.
        self._last_body: PushBody | None = None
        self._last_deliver = Deliver(msgspec.Raw(b""))
        # The session whose end the hooks are reporting now (end_session): its tables are
        # still hers while the hooks tell them.
        self._ending: PlayerSession | None = None
        # The tables of players with no session here (PlayerChannel.away; its own when the
        # gateway runs without a channel).
        self.away: dict[int, TablesAt] = {}
        self._connections_by_ip: collections.Counter[str] = collections.Counter()
        # Shared by every connection and session of one client address.
        self.address_rate = KeyedRateLimit(
            limits.rate_ip_burst_requests, limits.rate_ip_refill_per_s
        )
        # player id -> trio time of its last ban, for logins that raced the ban (bounded).
        self._recent_bans: collections.OrderedDict[int, float] = collections.OrderedDict()
        self.port = 0
        self.scheme = "ws"  # "wss" when the listener speaks TLS
        self.connections_open = 0
        self.session_crashes = 0  # session actors that died of an unexpected error
        # Metrics (read by server/gateway_metrics.py at scrape time). Bounded key sets: the
        # keys are ErrorCode and close-code values.
        self.frames_received = 0
        self.errors_by_code: collections.Counter[str] = collections.Counter()
        self.closes_by_code: collections.Counter[int] = collections.Counter()
        # Handshakes refused, by reason: "origin" (403), "connections_per_ip" (429).
        self.handshakes_refused: collections.Counter[str] = collections.Counter()
        self.bans_enforced = 0  # sessions ended by ban_player
        # Shared with the other nodes (Redis) when set; None: this process alone.
        self.cluster = NodeSessions(cluster, self) if cluster is not None else None
        # Requests to tables of other nodes and their pushes back (server/cluster_routing.py).
        self.router: NodeRouter | None = None
        if cluster is not None:
            self.router = NodeRouter(cluster, self)
            if game_requests is not None:
                self.game_requests = RoutedGameRequests(game_requests, self.router)
            self.hooks = RoutedSessionHooks(hooks, self.router)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    # --- the API other actors use ------------------------------------------------------------

    def deliver(self, player_id: int, body: PushBody) -> None:
        """PlayerChannel for the tables (actors/table/deps.py): push ``body`` to every
        session of the player with this account id (``push_encoded``: into the session at
        once, or behind what its actor's mailbox holds). Never blocks, never raises.

        A table broadcasts by calling this once per player with the same body object, so the
        body is encoded once and reused while the same object keeps coming (a one-entry
        cache by identity; holding the object keeps its id from being reused)."""
        sessions = self.sessions.of_player_id(player_id)
        router = self.router
        elsewhere = router is not None and router.has_routes(player_id)
        if not sessions and not elsewhere:
            return
        if body is not self._last_body:
            raw = encode_body(body)
            self._last_body, self._last_deliver = body, Deliver(raw)
        self.push_encoded(sessions, self._last_deliver)
        if elsewhere:
            assert router is not None
            router.push(player_id, self._last_deliver.body)  # her sessions on other nodes

    def push_encoded(self, sessions: Sequence[PlayerSession], body: msgspec.Raw | Deliver) -> None:
        """An encoded push (protocol.codec.encode_body) to each of ``sessions``: numbered,
        buffered and offered to its connection at once, in the caller's turn (never blocks:
        the connection drops a slow consumer at its outbound bound). Only while the session
        actor's mailbox holds messages is the push told to it instead, behind them, so the
        session's events keep their order (server/session_actor.py, "Pushes")."""
        refs = self._session_refs
        for session in sessions:
            ref = refs.get(session.session_id)
            if ref is not None and ref.depth:
                # Behind what its mailbox holds: the session's events keep their order.
                ref.tell(body if isinstance(body, Deliver) else Deliver(body))
            else:
                session.push_encoded(body.body if isinstance(body, Deliver) else body)

    async def pushes_done(self, session: PlayerSession | None) -> None:
        """Return once every push told to the session's actor so far is in the session, so
        that a reply sent next follows the pushes its request caused (server/session_actor.py,
        "Order"). At once when its mailbox is empty (a Deliver is handled without a
        checkpoint, so an empty mailbox means every one told is pushed)."""
        ref = None if session is None else self._session_refs.get(session.session_id)
        if ref is None or ref.depth == 0:
            return
        # The session is ending (overflow, logout), or starved: the reply goes out regardless.
        with contextlib.suppress(TargetError):
            await ref.ask(Flush(), timeout_s=FLUSH_TIMEOUT_S)

    def note_table(self, player_id: int, note: AtTable) -> bool:
        """A table's word that the player sat down, left or watches, noted at once in each
        of her sessions here (not queued behind pushes: a note must neither be lost with an
        overflowed mailbox nor lag behind the session's end, where a seat left just before
        a logout would stay in the record she finds at her next login). False: she has no
        session here."""
        sessions = self.sessions.of_player_id(player_id)
        for session in sessions:
            session.note(note)
        return bool(sessions)

    def tables_known(self, player_id: int) -> list[TablesAt]:
        """What her sessions here were told of the tables that seat or show her (and the
        session ending now, while its end reaches those tables)."""
        sessions = self.sessions.of_player_id(player_id)
        ending = self._ending
        if ending is not None and ending.player_id == player_id:
            sessions.append(ending)
        return [session.tables for session in sessions if session.tables]

    # --- sessions ----------------------------------------------------------------------------

    async def open_session(
        self,
        session_id: str,
        player: str,
        role: Role,
        player_id: int | None,
        restored: tuple[int, list[tuple[int, bytes]]] | None = None,
    ) -> PlayerSession:
        """A new session, and its actor when the gateway runs under the actor runtime.
        ``restored``: the last seq and replay of a session another node held. Raises
        SessionsFull at sessions_max (or when the supervisor refuses), ServerBusy when the
        cluster's Redis does not answer."""
        if self.cluster is not None:
            last_seq = restored[0] if restored is not None else 0
            await self.cluster.opening(session_id, player, role, player_id, last_seq)
        session = self.sessions.create(session_id, player, role, player_id)
        session.opened_at_ms = time.time_ns() // 1_000_000
        if player_id is not None:  # the tables she is at: her other sessions', or kept away
            siblings = self.sessions.of_player_id(player_id)
            known = [s.tables for s in siblings if s is not session and s.tables]
            away = self.away.pop(player_id, None)
            session.tables = merged(known if away is None else [*known, away])
        if restored is not None:
            session.restore(*restored)
        if self.cluster is not None:
            self.cluster.adopt(session)
        if self.router is not None and restored is None:
            # A node whose tournament pushes to her learns her new node (a resume tells
            # every node through the hooks' current_state).
            self.router.opened(player_id, player)
        if self.sessions_supervisor is not None:
            spec = ChildSpec.worker(
                session_actor_name(session_id),
                partial(SessionActor, self, session),
                restart=Restart.TEMPORARY,
            )
            try:
                self._session_refs[session_id] = await self.sessions_supervisor.start_actor(spec)
            except (SupervisorFull, NameTaken) as exc:
                self.sessions.remove(session)
                raise SessionsFull(str(exc)) from None
        return session

    def end_session(self, session: PlayerSession) -> None:
        if self.sessions.get(session.session_id) is not session:
            return  # ended already (logout racing the grace timer or an actor crash)
        self._forget(session)
        if self.cluster is not None:
            self.cluster.ended(session)
        self._session_ended(session)

    def _session_ended(self, session: PlayerSession) -> None:
        """The hooks release the session's tables; while they run, what it knew of them
        counts as hers (tables_known)."""
        self._ending = session
        try:
            self.hooks.session_ended(session.player_id, session.player, session.session_id)
        finally:
            self._ending = None

    def _forget(self, session: PlayerSession) -> None:
        self.sessions.remove(session)
        player_id = session.player_id
        if player_id is not None and session.tables and not self.sessions.of_player_id(player_id):
            # Her last session here: the tables she is still at (a tournament's keeps her
            # seat) wait in ``away`` for her next session; those she leaves now say so.
            kept = self.away.get(player_id)
            both = merged([session.tables] if kept is None else [kept, session.tables])
            assert both is not None  # session.tables is not empty
            self.away[player_id] = both
        ref = self._session_refs.pop(session.session_id, None)
        if ref is not None:
            ref.tell(EndSession())

    def let_go(self, session: PlayerSession) -> None:
        """The session resumed on another node: close its connection here, if any, and
        forget it; its resume record in Redis is the other node's now (not closed). The
        session goes on there, so the tables here are not told it ended: she keeps her
        seats and acts at them from that node (server/cluster_routing.py), whose resume
        told this node's router where her pushes go now. What this copy knew of her
        tables waits in ``away`` for her next session here."""
        outlet = session.outlet
        session.detach()
        session.mirror = None
        if isinstance(outlet, Connection):
            outlet.kill(CloseCode.SESSION_REPLACED, "the session resumed on another node")
        self._forget(session)

    def forget_stale(self, session: PlayerSession) -> None:
        """This node's copy of a session that lived on another node since: forgotten, so
        that a resume here continues from what that node left (the player goes on)."""
        outlet = session.outlet
        session.detach()
        session.mirror = None
        if isinstance(outlet, Connection):
            outlet.kill(CloseCode.SESSION_REPLACED, "the session resumed on another node")
        self._forget(session)

    def spawn(self, function: Callable[..., Awaitable[object]], *args: object) -> None:
        """Run a background task of the gateway (cluster writes that must not block)."""
        self._nursery.start_soon(function, *args)

    async def address_wait_s(self, address: str, now_s: float) -> float:
        """0.0, or how long the client address must wait (its bucket, shared by every node
        of the room when clustered)."""
        if self.cluster is None:
            return self.address_rate.take(address, now_s)
        return await self.cluster.address_wait_s(address, now_s)

    def detach(self, session: PlayerSession) -> None:
        generation = session.detach()
        self.hooks.session_detached(session.player_id, session.player, session.session_id)
        self._nursery.start_soon(self._expire_after_grace, session, generation)

    async def _expire_after_grace(self, session: PlayerSession, generation: int) -> None:
        await trio.sleep(self.limits.resume_grace_ms / 1000)
        if session.generation == generation and self.sessions.get(session.session_id):
            self.end_session(session)

    # --- bans ----------------------------------------------------------------------------

    def ban_player(self, player_id: int) -> int:
        """End every session of the player at once; call it once the ban is committed.

        Each connection is closed with 4006 (ACCOUNT_BANNED) without reading another frame:
        its tasks are cancelled here, before any other task runs, so no request of the
        player is executed after this call (one already waiting on the database finishes
        there, and its reply is dropped). Each session ends as a logout does (the tables'
        session_ended hook: fold now if it is her turn, cash out when the hand ends), and
        its tokens are revoked. A login that raced the ban (its ban check read the account
        before the commit) is refused when it opens its session (banned_since). Returns how
        many sessions ended. Never blocks: the revocations are written by a task."""
        now = trio.current_time()
        self._recent_bans[player_id] = now
        self._recent_bans.move_to_end(player_id)
        while len(self._recent_bans) > RECENT_BANS_MAX:
            self._recent_bans.popitem(last=False)  # overflow: forget the oldest ban
        sessions = self.sessions.of_player_id(player_id)
        for session in sessions:
            self.end_session_now(session, CloseCode.ACCOUNT_BANNED, "the account is banned")
        self.bans_enforced += len(sessions)
        log.info("banned player's sessions ended", player_id=player_id, sessions=len(sessions))
        return len(sessions)

    def banned_since(self, player_id: int | None, since: float) -> bool:
        """True if ban_player(player_id) ran at or after trio time ``since``."""
        if player_id is None:
            return False
        banned_at = self._recent_bans.get(player_id)
        return banned_at is not None and banned_at >= since

    def end_session_now(self, session: PlayerSession, code: CloseCode, reason: str) -> None:
        """End ``session`` like a logout: close its connection with ``code`` at once,
        release its seats (session_ended), refuse its tokens from now on."""
        outlet = session.outlet
        session.detach()  # so the closing connection does not detach it again
        if isinstance(outlet, Connection):
            outlet.kill(code, reason)
        self.end_session(session)
        expires_at_s = self.revoke(session)
        self._nursery.start_soon(
            self.accounts.revoke_session, session.session_id, session.player, expires_at_s
        )
        if self.cluster is not None:
            self._nursery.start_soon(self.cluster.revoke, session.session_id, expires_at_s)

    def revoke(self, session: PlayerSession) -> int:
        """Refuse the session's tokens in this process at once; returns until when they
        must be refused (a token of it expires at the latest ttl_s from now), for the
        durable record (Accounts.revoke_session), which the caller writes."""
        now_s = time.time()
        self.logged_out.add(session.session_id, now_s)
        return int(now_s) + self.signer.ttl_s + CLOCK_SKEW_LEEWAY_S

    # --- connections -------------------------------------------------------------------------

    async def handle(self, request: HandshakeRequest) -> None:
        admitted = await self._admit(request)
        if admitted is None:
            return
        ip, encoding, offered = admitted
        self._connections_by_ip[ip] += 1
        self.connections_open += 1
        try:
            # Only a subprotocol the client offered may be named in the answer.
            ws = await request.accept(subprotocol=encoding if offered else None)
            try:
                await Connection(self, ws, ip, encoding).run()
            except Exception:
                # A temporary child crashed: it alone ends (it closed with 1011), its
                # siblings and the listener carry on. The traceback is logged for us to fix.
                self.session_crashes += 1
                log.exception("session actor crashed")
        finally:
            self.connections_open -= 1
            self._connections_by_ip[ip] -= 1
            if self._connections_by_ip[ip] <= 0:
                del self._connections_by_ip[ip]

    async def _admit(self, request: HandshakeRequest) -> tuple[str, Encoding, bool] | None:
        """The client's address, the encoding and whether it offered subprotocols; None once
        refused (the handshake's headers die with this frame, not with the connection)."""
        limits = self.limits
        headers = request.headers
        ip = client_address(
            request.remote_address,
            header_values(headers, b"x-forwarded-for"),
            limits.trusted_proxies,
        )
        origins = header_values(headers, b"origin")
        host = request.host if limits.same_host_origins else None
        if not all(origin_allowed(origin, limits.allowed_origins, host) for origin in origins):
            self.handshakes_refused["origin"] += 1
            await request.reject(403, body=b"this origin may not connect")
            return None
        offered = request.proposed_subprotocols
        encoding = choose_encoding(offered)
        if encoding is None:
            self.handshakes_refused["subprotocol"] += 1
            await request.reject(
                400,
                body=f"no subprotocol we speak; offer one of {', '.join(SUBPROTOCOLS)}".encode(),
            )
            return None
        if self._connections_by_ip[ip] >= limits.connections_per_ip_max:
            self.handshakes_refused["connections_per_ip"] += 1
            await request.reject(429, body=b"too many connections from this address")
            return None
        return ip, encoding, bool(offered)


async def serve_gateway(
    accounts_store: AccountStore,
    jwt_secret: str | TokenKeyRing,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    limits: GatewayLimits | None = None,
    hooks: SessionHooks | None = None,
    hashing: HashingCost | None = None,
    sessions_supervisor: Callable[[], Supervisor] | None = None,
    metrics_registry: CollectorRegistry | None = REGISTRY,
    game_requests: GameRequests | None = None,
    tournament_requests: TournamentRequestHandler | None = None,
    channel: PlayerChannel | None = None,
    wallet_policy: WalletPolicy | None = None,
    ssl_context: ssl.SSLContext | None = None,
    cashier: Cashiers | ChainCashier | None = None,
    rakeback_policy: RakebackPolicy | None = None,
    leaderboards: Leaderboards | None = None,
    club_tables: ClubTables | None = None,
    cluster: ClusterLink | None = None,
    task_status: trio.TaskStatus[Gateway] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Listen for websocket clients until cancelled; ``task_status.started`` gets the Gateway
    (its ``port``, ``url`` and push API). ``sessions_supervisor`` (called once, at start)
    gives the supervisor whose temporary children the session actors become, e.g.
    ``lambda: registry.supervisor("sessions")``; without it sessions are plain objects.
    ``jwt_secret``: a secret or a key ring (server/token_keys.py). ``ssl_context``: speak
    TLS (wss://) with it (server/tls.py); a certificate reloaded into it serves the next
    handshakes, open connections keep theirs. ``cashier``: the blockchain cashier (of one chain, or
    the router of several) that wallet_deposit and wallet_withdraw reach (None: refused with
    cashier_unavailable). ``club_tables``: opens club tables for club_create_table (None:
    games_unavailable)."""
    limits = limits or GatewayLimits()
    # A login may wait for a hashing thread at most half its deadline (the rest is for the
    # hash itself and the round trips); past that it gets server_busy at once.
    hasher = await trio.to_thread.run_sync(
        partial(
            PasswordHasher,
            hashing or HashingCost(),
            limits.login_hashes_waiting_max,
            wait_ms_max=limits.auth_timeout_ms // 2,
            per_owner_max=limits.login_hashes_per_ip_max,
        )
    )
    await trio.to_thread.run_sync(load_common_passwords)  # not in the first registration
    # The wallet needs the full store (the ledger), not just accounts.
    wallet = Wallet(accounts_store, wallet_policy) if isinstance(accounts_store, Store) else None
    accounts = Accounts(
        accounts_store,
        hasher,
        limits.login_policy,
        on_registered=(
            None if wallet is None else lambda account: wallet.grant_starting_play_chips(account.id)
        ),
        shared=cluster.throttles if cluster is not None else None,
    )
    async with trio.open_nursery() as nursery:
        gateway = Gateway(
            accounts,
            TokenSigner(jwt_secret, session_lifetime_max_s=limits.session_lifetime_max_s),
            limits,
            hooks or NoTables(),
            nursery,
            sessions_supervisor() if sessions_supervisor is not None else None,
            WalletRequests(wallet, cashier) if wallet is not None else None,
            game_requests,
            HandRequests(accounts_store) if isinstance(accounts_store, Store) else None,
            # Clubs need the full store too (services/clubs.py, server/club_requests.py).
            ClubRequests(accounts_store, rakeback_policy, club_tables)
            if isinstance(accounts_store, Store)
            else None,
            (
                PlayerRequests(accounts_store, leaderboards)
                if isinstance(accounts_store, Store)
                else None
            ),
            tournament_requests,
            cluster=cluster,
        )
        if gateway.cluster is not None:
            await nursery.start(gateway.cluster.run)
        if gateway.router is not None:
            await nursery.start(gateway.router.run)
        listening: int = await nursery.start(
            partial(
                serve_websocket,
                gateway.handle,
                host,
                port,
                ssl_context,
                handler_nursery=nursery,
                message_bytes_max=limits.frame_bytes_hard_max,
                handshake_timeout_s=limits.auth_timeout_ms / 1000,
            )
        )
        gateway.port = listening
        gateway.scheme = "ws" if ssl_context is None else "wss"
        collector = collector_for(metrics_registry) if metrics_registry is not None else None
        if collector is not None:
            collector.add(gateway)
        if channel is not None:
            channel.gateway = gateway
            gateway.away = channel.away  # kept while no gateway ran (tables started first)
        log.info("gateway listening", host=host, port=listening, tls=ssl_context is not None)
        task_status.started(gateway)
        try:
            await trio.sleep_forever()
        finally:
            if collector is not None:
                collector.discard(gateway)
            if channel is not None and channel.gateway is gateway:
                channel.gateway = None


def login_policy(settings: Settings) -> LoginPolicy:
    """The login throttles the settings ask for (services/accounts.py)."""
    return LoginPolicy(
        per_account=BackoffPolicy(
            settings.login_account_failures_before_delay,
            settings.login_account_failures_to_lock,
            settings.login_delay_first_ms,
            settings.login_lock_s,
        ),
        per_address=BackoffPolicy(
            settings.login_ip_failures_before_delay,
            settings.login_ip_failures_to_lock,
            settings.login_delay_first_ms,
            settings.login_lock_s,
        ),
        registrations_per_address_per_hour=settings.registrations_per_ip_per_hour,
    )


async def run_gateway(
    settings: Settings,
    store: AccountStore,
    *,
    hooks: SessionHooks | None = None,
    limits: GatewayLimits | None = None,
    sessions_supervisor: Callable[[], Supervisor] | None = None,
    game_requests: GameRequests | None = None,
    tournament_requests: TournamentRequestHandler | None = None,
    channel: PlayerChannel | None = None,
    ssl_context: ssl.SSLContext | None = None,
    cashier: Cashiers | ChainCashier | None = None,
    leaderboards: Leaderboards | None = None,
    club_tables: ClubTables | None = None,
    cluster: ClusterLink | None = None,
    task_status: trio.TaskStatus[Gateway] = trio.TASK_STATUS_IGNORED,
) -> None:
    """serve_gateway configured from the process settings (host, ws_port, the token keys,
    guest_login); what the composition root runs in its nursery, with the listeners' TLS
    context when TLS is configured (server/tls.py)."""
    base = limits or GatewayLimits()
    limits = dataclasses.replace(
        base,
        guest_login=settings.guest_login,
        connections_per_ip_max=settings.ws_connections_per_ip_max,
        sessions_max=settings.ws_sessions_max,
        resume_grace_ms=settings.session_grace_s * 1000,
        rate_burst_requests=settings.rate_burst_requests,
        rate_refill_per_s=settings.rate_refill_per_s,
        login_hashes_waiting_max=settings.login_hashes_waiting_max,
        login_hashes_per_ip_max=settings.login_hashes_per_ip_max,
        rate_ip_burst_requests=settings.rate_ip_burst_requests,
        rate_ip_refill_per_s=settings.rate_ip_refill_per_s,
        allowed_origins=frozenset(normalize_origin(o) for o in settings.allowed_origins),
        same_host_origins=settings.same_host_origins,
        trusted_proxies=parse_networks(settings.trusted_proxies),
        session_lifetime_max_s=settings.session_lifetime_max_s,
        login_policy=login_policy(settings),
    )
    await serve_gateway(
        store,
        settings.token_keys(),
        host=settings.host,
        port=settings.ws_port,
        limits=limits,
        hooks=hooks,
        sessions_supervisor=sessions_supervisor,
        game_requests=game_requests,
        tournament_requests=tournament_requests,
        channel=channel,
        wallet_policy=wallet_policy_of(settings),
        ssl_context=ssl_context,
        cashier=cashier,
        rakeback_policy=rakeback_policy_of(settings),
        leaderboards=leaderboards,
        club_tables=club_tables,
        cluster=cluster,
        task_status=task_status,
    )
