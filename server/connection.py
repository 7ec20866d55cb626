"""The session actor of one websocket connection: reads, checks, answers, writes.

A Connection runs as four tasks under one cancel scope: the reader (rate limit, decode,
phase check, handler, reply), the writer draining the bounded outbound queue, the
heartbeat, and the authentication deadline. Replies and pushes share the outbound queue, so
the client sees them in the order they happened. Whatever ends one task ends the
connection; the gateway then detaches the player's session (held for resume).
"""

from __future__ import annotations

import collections
import math
import secrets
import weakref
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, TypeVar, final, get_args

import outcome
import trio

from actors.table.messages import GameRefused
from actors.tournament_messages import TournamentRefusal
from protocol.codec import encode
from protocol.errors import ERROR_CODE_VALUES, CloseCode, ErrorCode, RemoteProtocolError
from protocol.game import GAME_ERROR_CODES, GameRequest
from protocol.hands import HandRequest
from protocol.messages import (
    PROTOCOL_VERSIONS,
    TABLE_IDS_MAX,
    Authenticate,
    Error,
    GuestLogin,
    Hello,
    LoggedIn,
    Login,
    Logout,
    Ok,
    Ping,
    Pong,
    Register,
    Role,
    SessionState,
    Welcome,
)
from protocol.phases import Phase, verify_transition
from protocol.players import (
    PlayerRequest,
    PreferencesReply,
    PreferencesView,
    Profile,
    SetPreferences,
    UpdateProfile,
)
from protocol.textframes import DEFAULT_ENCODING, Encoding, msgpack_to_json_text
from protocol.tournaments import TournamentRequest
from server.auth import TokenExpired, TokenInvalid
from server.club_requests import CLUB_REQUESTS, ClubRefused
from server.cluster import consecutive_tail
from server.player_requests import PlayerRefused
from server.session import PlayerSession, SessionsFull, TokenBucket
from server.tournament_requests import TournamentRequestHandler
from server.wallet_requests import WALLET_REQUESTS, WalletRefused, WalletRequest
from server.websocket import ConnectionClosed, PongWait, ServerWebSocket
from services.accounts import GUEST_NAME_PREFIX, AccountBanned, AccountRefused
from services.passwords import HashingAbandoned, HashingBusy

if TYPE_CHECKING:
    from server.gateway import Gateway

_T = TypeVar("_T")
SERVER_NAME: Final = "tablium/0.1"
CLOSE_TIMEOUT_S: Final = 1.0  # a close handshake with a peer that does not read gives up
STATE_PUSHES_MAX: Final = 64  # pushes current_state may return after a resume


@final
class Heartbeats:
    """The pings of every connection of one gateway, from one task (a task of each
    connection's own was ~3 KB of every idle connection, and a timer per wake-up of its
    writer cost CPU on every push).

    A connection is pinged heartbeat_interval_ms after it opens and after each ping; a ping
    not answered within heartbeat_timeout_ms closes it with 4004. Both delays are the same for
    every connection, so each queue is in deadline order by construction (a FIFO, not a
    heap). Bound: one entry of each queue per open connection (a closed one leaves at its
    turn, at most one interval later)."""

    _of_gateway: ClassVar[weakref.WeakKeyDictionary[Gateway, Heartbeats]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, interval_s: float, timeout_s: float) -> None:
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._pings: collections.deque[tuple[float, Connection]] = collections.deque()
        self._pongs: collections.deque[tuple[float, Connection, PongWait]] = collections.deque()

    @classmethod
    def of(cls, gateway: Gateway) -> Heartbeats:
        """The gateway's, started in its nursery by the first connection."""
        heartbeats = cls._of_gateway.get(gateway)
        if heartbeats is None:
            limits = gateway.limits
            heartbeats = cls(
                limits.heartbeat_interval_ms / 1000, limits.heartbeat_timeout_ms / 1000
            )
            cls._of_gateway[gateway] = heartbeats
            gateway.spawn(heartbeats.run)
        return heartbeats

    def add(self, connection: Connection) -> None:
        self._pings.append((trio.current_time() + self.interval_s, connection))

    async def run(self) -> None:
        pings, pongs = self._pings, self._pongs
        while True:
            now = trio.current_time()
            while pongs and pongs[0][0] <= now:
                _, connection, pong = pongs.popleft()
                if not pong.seen:
                    connection.kill(CloseCode.HEARTBEAT_TIMEOUT, "no pong: the peer seems dead")
            for _ in range(len(pings)):  # each at most once a round, even at a 0 interval
                if pings[0][0] > now:
                    break
                _, connection = pings.popleft()
                if connection.phase is Phase.CLOSED:
                    continue
                asked = connection._ping_due()
                if asked is not None:
                    pongs.append((now + self.timeout_s, connection, asked))
                pings.append((now + self.interval_s, connection))
            heads = [queue[0][0] for queue in (pings, pongs) if queue]
            # Nothing queued: a connection opened from now on is due an interval from now.
            await trio.sleep_until(min(heads) if heads else now + self.interval_s)


@final
class Flusher:
    """Sends, for every connection of one gateway, the frames offered to it while its writer
    was parked, from one task: a table's message reaches every seat in one task step (one
    write each, without waiting: ServerWebSocket.write_now), where each connection's writer
    woke for it before (a task step per recipient, plus the one trio's send ends with).
    What cannot go at once (a write under way, a full socket buffer, TLS, a close) is left
    to the connection's writer, woken for it. Bound: one entry per connection (``_due``
    flag)."""

    _of_gateway: ClassVar[weakref.WeakKeyDictionary[Gateway, Flusher]] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self._due: list[Connection] = []
        self._parked: trio.lowlevel.Task | None = None

    @classmethod
    def of(cls, gateway: Gateway) -> Flusher:
        """The gateway's, started in its nursery by the first connection."""
        flusher = cls._of_gateway.get(gateway)
        if flusher is None:
            flusher = cls._of_gateway[gateway] = cls()
            gateway.spawn(flusher.run)
        return flusher

    def due(self, connection: Connection) -> None:
        self._due.append(connection)
        task = self._parked
        if task is not None:
            self._parked = None
            trio.lowlevel.reschedule(task)

    def _unpark(self, _: object) -> trio.lowlevel.Abort:
        self._parked = None
        return trio.lowlevel.Abort.SUCCEEDED

    async def run(self) -> None:
        while True:
            if not self._due:
                self._parked = trio.lowlevel.current_task()
                await trio.lowlevel.wait_task_rescheduled(self._unpark)
            due, self._due = self._due, []
            for connection in due:
                connection._flush()


class _Closing(Exception):
    """Internal: stop this connection and close it with ``code``."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@final
class Connection:
    """The session actor of one websocket connection."""

    def __init__(
        self,
        gateway: Gateway,
        ws: ServerWebSocket,
        address: str = "",
        encoding: Encoding = DEFAULT_ENCODING,
    ) -> None:
        self.gateway = gateway
        self.ws = ws
        # The subprotocol's encoding: frames are msgpack inside, JSON text on the wire for a
        # tablium.json.v1 connection (translated as they are read and as they are sent).
        self.encoding = encoding
        self.address = address  # the client's (server/handshake.py): per-address limits
        self.phase = Phase.CONNECTED
        self.session: PlayerSession | None = None
        limits = gateway.limits
        self._queue_max = limits.outbound_queue_messages_max
        # Items: one frame, or a resume's whole backlog (reply + replay, one item so that it
        # does not count against the bound), or the close marker. Bound: offer() refuses at
        # _queue_max (slow consumer); the backlog and the close marker may go beyond by one
        # each. Whoever holds _send_lock takes the whole list and sends it, so the order is
        # the queue's. (A list, not a deque: an empty deque is 760 bytes, per connection.)
        self._outbound: list[bytes | list[bytes] | _Closing] = []
        # The websocket's own write lock: whoever holds it sends the whole queue.
        self._send_lock = ws.send_lock
        # The writer task while it waits for something to send (offer() wakes it, without a
        # trio.Event per wake-up); the reader sends its own replies itself (no task switch
        # per request), the writer task sends the rest, and pings.
        self._parked: trio.lowlevel.Task | None = None
        # Offers to a parked writer go to the gateway's flusher instead of waking it; True
        # while this connection is on the flusher's list.
        self._flusher: Flusher | None = None  # the gateway's, from run()
        self._flush_due = False
        self._pong: PongWait | None = None  # the last ping's
        self._ping_wanted = False  # the writer sends a ping (for Heartbeats)
        # Until a login: this connection's rate limit; then the session's (session.bucket).
        self._bucket = TokenBucket(
            limits.rate_burst_requests, limits.rate_refill_per_s, trio.current_time()
        )
        # Its deadline is the login deadline until the connection authenticates.
        self._cancel_scope = trio.CancelScope()
        self._close: _Closing | None = None

    # Outlet: called by sessions (pushes). Never blocks.
    def offer(self, frame: bytes) -> None:
        # An awake writer sends what is queued before it parks again; a parked one is left
        # parked, and the flusher sends (or wakes it).
        if self._enqueue(frame) and self._parked is not None and not self._flush_due:
            if self._flusher is None:
                self._wake_writer()
                return
            self._flush_due = True
            self._flusher.due(self)

    def _flush(self) -> None:
        """The flusher's turn: what is queued goes to the socket now when nothing else is
        writing and the writer is parked; else the writer is woken to send it."""
        self._flush_due = False
        items = self._outbound
        if not items:
            return
        if self._parked is None:
            return  # awake: it sends the queue before parking
        if not self.ws.can_write_now() or any(isinstance(item, _Closing) for item in items):
            self._wake_writer()
            return
        self._outbound = []
        burst, _ = self._burst(items)
        if not self.ws.write_now(burst):
            self._wake_writer()  # the rest as the socket drains, or the close

    def _enqueue(self, frame: bytes) -> bool:
        if self._close is not None:
            return False
        if len(self._outbound) >= self._queue_max:
            self.kill(CloseCode.SLOW_CONSUMER, "outbound queue full: the client does not read")
            return False
        self._outbound.append(frame)
        return True

    def kill(self, code: CloseCode, reason: str) -> None:
        """Stop at once, dropping whatever is queued, and close with ``code``."""
        if self._close is None:
            self._close = _Closing(code, reason)
        self._cancel_scope.cancel()

    def _close_after_flush(self, code: CloseCode, reason: str) -> None:
        """Close with ``code`` once everything queued so far has been sent."""
        if self._close is None:
            self._close = closing = _Closing(code, reason)
            self._outbound.append(closing)
            self._wake_writer()

    async def run(self) -> None:
        """Serve the connection until it ends. A bug of ours (any exception) still closes
        it with 1011 before the exception reaches the gateway, which logs it."""
        limits = self.gateway.limits
        Heartbeats.of(self.gateway).add(self)
        self._flusher = Flusher.of(self.gateway)
        try:
            # The login deadline: cleared when the connection authenticates (_on_frame).
            self._cancel_scope.deadline = trio.current_time() + limits.auth_timeout_ms / 1000
            with self._cancel_scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._write)
                    await self._read()
                    if self._close is not None and not self._cancel_scope.cancel_called:
                        # Closing after a flush (logout): the writer sends what is queued,
                        # then cancels us; a peer that does not read gets CLOSE_TIMEOUT_S.
                        nursery.cancel_scope.deadline = trio.current_time() + CLOSE_TIMEOUT_S
                    else:
                        nursery.cancel_scope.cancel()
            if self._cancel_scope.cancelled_caught and self._close is None:
                self._close = _Closing(CloseCode.AUTH_TIMEOUT, "no login in time")
        except Exception:
            # Not a shutdown: our own error. The close below says so (not 1001 "going away",
            # which tells clients the server is stopping).
            self._close = _Closing(CloseCode.INTERNAL_ERROR, "internal error")
            raise
        finally:
            if self.session is not None and self.session.outlet is self:
                self.gateway.detach(self.session)
            self.phase = Phase.CLOSED
            if self.ws.closed is None:
                # Cancelled from outside (the gateway is stopping) unless we chose a code.
                close = self._close or _Closing(CloseCode.GOING_AWAY, "server shutting down")
                self.gateway.closes_by_code[int(close.code)] += 1
                with trio.move_on_after(CLOSE_TIMEOUT_S) as scope:
                    scope.shield = True
                    await self.ws.aclose(int(close.code), close.reason)
            else:
                self.gateway.closes_by_code[self.ws.closed.code] += 1

    async def _read(self) -> None:
        ws = self.ws
        while True:
            try:
                frame = await ws.get_message()
            except ConnectionClosed:
                return
            await self._on_frame(frame)
            if self._close is not None:
                return
            if self._outbound and not self._send_lock.locked():
                await self._send_queued()  # our replies, without waking the writer
            elif self._outbound:
                self._wake_writer()

    def _wake_writer(self) -> None:
        task = self._parked
        if task is not None:
            self._parked = None
            trio.lowlevel.reschedule(task)

    def _unpark(self, _: object) -> trio.lowlevel.Abort:
        self._parked = None
        return trio.lowlevel.Abort.SUCCEEDED

    async def _write(self) -> None:
        """Send what others queue, and the heartbeat's pings (Heartbeats asks for them)."""
        while True:
            if not self._outbound and not self._ping_wanted and not self.ws.unsent:
                self._parked = trio.lowlevel.current_task()
                await trio.lowlevel.wait_task_rescheduled(self._unpark)
            if self._outbound or self.ws.unsent:
                await self._send_queued()
            if self._ping_wanted and self._pong is not None:
                self._ping_wanted = False
                try:
                    await self.ws.send_ping(self._pong)
                except ConnectionClosed:
                    return

    def _ping_due(self) -> PongWait | None:
        """Heartbeats: ask the writer for a ping, and return what its pong will set; None
        while the last one is unanswered (the peer has until that one's deadline)."""
        if self._pong is not None and not self._pong.seen:
            return None
        self._pong = pong = PongWait()
        self._ping_wanted = True
        self._wake_writer()
        return pong

    async def _send_queued(self) -> None:
        """Send what is queued, every frame waiting now in one socket write (server/wsburst
        .py): a table's action owes a connection a few frames at once."""
        async with self._send_lock:
            first = True
            while self._outbound or first:
                first = False
                items, self._outbound = self._outbound, []
                burst, closing = self._burst(items)
                try:
                    if burst or self.ws.unsent:
                        await self.ws.write_burst(burst)
                except ConnectionClosed:
                    self._cancel_scope.cancel()
                    return
                if closing:
                    self._cancel_scope.cancel()
                    return

    def _burst(self, items: list[bytes | list[bytes] | _Closing]) -> tuple[list[bytes | str], bool]:
        """The frames of queued items, in order, up to a close marker (True: one was met;
        nothing after it is sent)."""
        as_text = self.encoding is Encoding.JSON
        burst: list[bytes | str] = []
        for item in items:
            if isinstance(item, _Closing):
                return burst, True
            for frame in item if isinstance(item, list) else (item,):
                burst.append(msgpack_to_json_text(frame) if as_text else frame)
        return burst, False

    # --- requests ----------------------------------------------------------------------------

    def _reply(self, message: Any) -> None:
        self._enqueue(encode(message))  # sent by _read after this request

    def _error(self, request_id: int | None, code: str, message: str, **extra: Any) -> None:
        self.gateway.errors_by_code[code] += 1
        self._reply(Error(id=request_id, code=code, message=message[:500], **extra))

    async def _on_frame(self, frame: bytes | str) -> None:
        gateway = self.gateway
        gateway.frames_received += 1
        now = trio.current_time()
        wait_s = max(self._bucket.take(now), await gateway.address_wait_s(self.address, now))
        try:
            if self.encoding is Encoding.JSON:
                if not isinstance(frame, str):
                    raise RemoteProtocolError(
                        ErrorCode.MALFORMED_FRAME, "text frames only (tablium.json.v1)"
                    )
                request = self.gateway.decoder.decode_text(frame)
            elif isinstance(frame, str):
                raise RemoteProtocolError(
                    ErrorCode.MALFORMED_FRAME,
                    "binary frames only (tablium.msgpack.v1; offer tablium.json.v1 for text)",
                )
            else:
                request = self.gateway.decoder.decode(frame)
            if wait_s:
                raise RemoteProtocolError(ErrorCode.RATE_LIMITED, "too many requests", request.id)
            next_phase = verify_transition(self.phase, request)
        except RemoteProtocolError as exc:
            if wait_s:
                retry_after_ms = math.ceil(wait_s * 1000)
                self._error(
                    exc.request_id,
                    ErrorCode.RATE_LIMITED,
                    f"too many requests; retry after {retry_after_ms} ms",
                    retry_after_ms=retry_after_ms,
                )
            else:
                self._error(exc.request_id, exc.code, exc.message)
            return
        if type(request) is Ping:  # the hot path: no handler lookup, no await
            self._reply(Pong(id=request.id))
            return
        try:
            await _HANDLERS[type(request)](self, request)
        except AccountRefused as exc:
            if exc.retry_after_ms is None:
                self._error(request.id, exc.code, exc.message)
            else:
                self._error(request.id, exc.code, exc.message, retry_after_ms=exc.retry_after_ms)
            return
        except TokenExpired as exc:
            self._error(request.id, ErrorCode.TOKEN_EXPIRED, str(exc))
            return
        except TokenInvalid as exc:
            self._error(request.id, ErrorCode.TOKEN_INVALID, str(exc))
            return
        except RemoteProtocolError as exc:
            self._error(request.id, exc.code, exc.message)
            return
        except SessionsFull:
            self._error(request.id, ErrorCode.SERVER_BUSY, "the server is full; retry later")
            return
        except HashingBusy as exc:
            # Admission control: a login storm gets a fast answer, not a queue that outgrows
            # the login deadline. The client retries after retry_after_ms (plus jitter).
            self._error(
                request.id,
                ErrorCode.SERVER_BUSY,
                f"too many logins at once; retry after {exc.retry_after_ms} ms",
                retry_after_ms=exc.retry_after_ms,
            )
            return
        except HashingAbandoned:
            return  # the peer has gone: nobody to answer
        if self.phase is not Phase.CLOSED:
            if next_phase is Phase.AUTHENTICATED and self.phase is not next_phase:
                self._cancel_scope.deadline = math.inf  # logged in: no login deadline
            self.phase = next_phase

    async def _hello(self, request: Hello) -> None:
        common = set(PROTOCOL_VERSIONS) & set(request.versions)
        if not common:
            raise RemoteProtocolError(
                ErrorCode.VERSION_UNSUPPORTED,
                "this server speaks protocol versions "
                + ", ".join(str(v) for v in PROTOCOL_VERSIONS),
                request.id,
            )
        limits = self.gateway.limits
        self._reply(
            Welcome(
                id=request.id,
                version=max(common),
                server=SERVER_NAME,
                heartbeat_ms=limits.heartbeat_interval_ms,
                frame_bytes_max=limits.frame_bytes_max,
                rate_burst_requests=limits.rate_burst_requests,
                rate_refill_per_s=limits.rate_refill_per_s,
            )
        )

    async def _register(self, request: Register) -> None:
        register = partial(
            self.gateway.accounts.register,
            request.name,
            request.password,
            still_wanted=self._peer_connected,
            address=self.address,
        )
        account = await self._watching_peer(register)
        await self._start_session(request.id, account.name, _role(account.role), account.id)

    async def _login(self, request: Login) -> None:
        started = trio.current_time()
        login = partial(
            self.gateway.accounts.login,
            request.name,
            request.password,
            still_wanted=self._peer_connected,
            address=self.address,
        )
        account = await self._watching_peer(login)
        await self._start_session(
            request.id, account.name, _role(account.role), account.id, started
        )

    async def _watching_peer(self, call: Callable[[], Awaitable[_T]]) -> _T:
        """``call()`` (a password hash, which may wait in a queue first) while the websocket
        reads ahead: a peer that closes meanwhile is seen (_peer_connected), its pings are
        answered. Only here: other requests are short, and reading needs no task of its own."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.ws.read_ahead)
            # Captured, so that a refusal is raised as itself, not in an exception group.
            result = await outcome.acapture(call)
            nursery.cancel_scope.cancel()
        return result.unwrap()

    def _peer_connected(self) -> bool:
        """False once the websocket has closed or this connection is being stopped: a
        queued password hash for it is then dropped instead of computed."""
        return self.ws.closed is None and not self._cancel_scope.cancel_called

    async def _guest_login(self, request: GuestLogin) -> None:
        if not self.gateway.limits.guest_login:
            raise RemoteProtocolError(
                ErrorCode.GUEST_LOGIN_DISABLED, "this server does not allow guests", request.id
            )
        guest = GUEST_NAME_PREFIX + secrets.token_hex(4)
        await self._start_session(request.id, guest, "player", None)

    async def _start_session(
        self,
        request_id: int,
        player: str,
        role: Role,
        player_id: int | None,
        checked_at: float | None = None,
    ) -> None:
        """Open a new session; ``checked_at`` (trio time before the ban check): refuse it
        if a ban came after that check (Gateway.ban_player)."""
        gateway = self.gateway
        token, claims = gateway.signer.issue(player, role)
        session = await gateway.open_session(claims.session_id, player, role, player_id)
        self._refuse_if_banned_since(session, checked_at)
        self.session = session
        self._use_session_bucket(session)
        session.attach(self)
        display_name, preferences = await self._player_details(player_id, player)
        self._reply(
            LoggedIn(
                id=request_id,
                token=token,
                player=player,
                role=role,
                session_id=claims.session_id,
                expires_at_s=claims.expires_at_s,
                resume="new",
                last_seq=0,
                player_id=player_id,
                display_name=display_name,
                preferences=preferences,
            )
        )

    def _refuse_if_banned_since(self, session: PlayerSession, checked_at: float | None) -> None:
        if checked_at is not None and self.gateway.banned_since(session.player_id, checked_at):
            self.gateway.end_session_now(session, CloseCode.ACCOUNT_BANNED, "banned")
            raise AccountBanned("this account is banned")

    def _use_session_bucket(self, session: PlayerSession) -> None:
        """From now on, requests count against the session's bucket (kept across its
        reconnects); a new session starts with what this connection had left."""
        if session.bucket is None:
            session.bucket = self._bucket
        self._bucket = session.bucket

    async def _authenticate(self, request: Authenticate) -> None:
        gateway = self.gateway
        claims = gateway.signer.verify(request.token)
        session = gateway.sessions.get(claims.session_id)
        if claims.session_id in gateway.logged_out or (
            gateway.cluster is not None
            and await gateway.cluster.revoked(claims.session_id, held_here=session is not None)
        ):
            raise TokenInvalid("this session was logged out; log in again")
        checked_at = trio.current_time()
        account = None
        if not claims.player.startswith(GUEST_NAME_PREFIX):
            account = await gateway.accounts.check_token_login(claims.player, claims.session_id)
        session = gateway.sessions.get(claims.session_id)
        restored = None
        ahead = False  # of what the other node left in Redis
        if gateway.cluster is not None:
            # Held by another node until now (it went away, or the client moved)?
            stored = await gateway.cluster.resume_elsewhere(
                claims.session_id, claims.player, held_here=session is not None
            )
            if stored is not None and session is not None:
                if stored.node == gateway.cluster.link.node:
                    stored = None  # ours all along: resume from this node's copy
                else:  # the client went to another node and came back: that copy is stale
                    gateway.forget_stale(session)
                    session = None
            if stored is not None:
                # The client saw frames Redis missed (not flushed yet): number past them.
                ahead = request.last_seq > stored.last_seq
                tail = consecutive_tail(stored.replay, stored.last_seq)
                restored = (request.last_seq, []) if ahead else (stored.last_seq, tail)
        if session is not None and session.player != claims.player:
            raise TokenInvalid("the token's session belongs to another player")
        if session is not None and request.last_seq > session.last_seq:
            raise RemoteProtocolError(
                ErrorCode.INVALID_MESSAGE,
                f"last_seq {request.last_seq} is ahead of the session's newest event"
                f" ({session.last_seq})",
                request.id,
            )
        resume: Literal["new", "complete", "gap"]
        if session is None and restored is not None:
            session = await gateway.open_session(
                claims.session_id,
                claims.player,
                claims.role,
                account.id if account else None,
                restored=restored,
            )
            complete = not ahead and session.can_replay_after(request.last_seq)
            resume = "complete" if complete else "gap"
        elif session is None:
            session = await gateway.open_session(
                claims.session_id, claims.player, claims.role, account.id if account else None
            )
            resume = "gap" if request.last_seq > 0 else "new"
        else:
            resume = "complete" if session.can_replay_after(request.last_seq) else "gap"
        self._refuse_if_banned_since(session, checked_at)
        previous = session.outlet
        if isinstance(previous, Connection) and previous is not self:
            previous.kill(CloseCode.SESSION_REPLACED, "the session resumed elsewhere")
        display_name, preferences = await self._player_details(session.player_id, claims.player)
        token, fresh = gateway.signer.issue(
            claims.player,
            claims.role,
            session_id=claims.session_id,
            authenticated_at_s=claims.authenticated_at_s,
        )
        self.session = session
        self._use_session_bucket(session)
        backlog = [
            encode(
                LoggedIn(
                    id=request.id,
                    token=token,
                    player=claims.player,
                    role=claims.role,
                    session_id=claims.session_id,
                    expires_at_s=fresh.expires_at_s,
                    resume=resume,
                    last_seq=session.last_seq,
                    player_id=session.player_id,
                    display_name=display_name,
                    preferences=preferences,
                )
            )
        ]
        # Everything below runs without a checkpoint, so no push can slip in between.
        if resume == "complete":
            backlog.extend(session.frames_after(request.last_seq))
        elif resume == "gap":
            message = f"events after seq {request.last_seq} are no longer kept; state follows"
            backlog.append(encode(Error(id=None, code=ErrorCode.REPLAY_GAP, message=message)))
        self._outbound.append(backlog)
        session.attach(self)
        if resume != "new" or request.last_seq > 0:
            state = gateway.hooks.current_state(session.player_id, session.player)
            state = list(state)[:STATE_PUSHES_MAX]
            # Each table once: the hooks' list, then any table their pushes name.
            found = (getattr(body, "table_id", None) for body in state)
            named = [t for t in found if isinstance(t, str)]
            table_ids = list(dict.fromkeys([*gateway.hooks.table_ids(session.player_id), *named]))
            session.push(SessionState(table_ids=table_ids[:TABLE_IDS_MAX], preferences=preferences))
            for body in state:
                session.push(body)

    async def _wallet(self, request: WalletRequest) -> None:
        wallet_requests = self.gateway.wallet_requests
        if wallet_requests is None or self.session is None:
            raise RemoteProtocolError(
                ErrorCode.WALLET_UNAVAILABLE, "this server has no wallet", request.id
            )
        try:
            self._reply(await wallet_requests.handle(self.session, request))
        except WalletRefused as exc:
            self._error(exc.request_id, exc.code, exc.message, retry_after_ms=exc.retry_after_ms)

    def _registered(
        self, service: object | None, request_id: int, missing: tuple[ErrorCode, str], what: str
    ) -> tuple[PlayerSession, int]:
        """The session and player id behind a request that needs ``service`` (``missing``:
        the refusal when this server has none) and a registered account (guests and
        token-only players have none: ``account_required``)."""
        session = self.session
        if service is None or session is None:
            raise RemoteProtocolError(missing[0], missing[1], request_id)
        if session.player_id is None:
            raise RemoteProtocolError(
                ErrorCode.ACCOUNT_REQUIRED, f"{what} needs a registered account", request_id
            )
        return session, session.player_id

    async def _hands(self, request: HandRequest) -> None:
        hands = self.gateway.hand_requests
        missing = (ErrorCode.GAMES_UNAVAILABLE, "this server keeps no hands")
        _, player_id = self._registered(hands, request.id, missing, "reading hand histories")
        assert hands is not None
        self._reply(await hands.handle(player_id, request))

    async def _club(self, request: Any) -> None:
        club_requests = self.gateway.club_requests
        if club_requests is None or self.session is None:
            raise RemoteProtocolError(
                ErrorCode.ACCOUNT_REQUIRED, "this server keeps no clubs", request.id
            )
        try:
            self._reply(await club_requests.handle(self.session, request))
        except ClubRefused as exc:
            self._error(exc.request_id, exc.code, exc.message)

    async def _tournament(self, request: Any) -> None:
        tournaments: TournamentRequestHandler | None = self.gateway.tournament_requests
        missing = (ErrorCode.TOURNAMENTS_UNAVAILABLE, "this server runs no tournaments")
        _, player_id = self._registered(tournaments, request.id, missing, "tournaments")
        assert tournaments is not None
        try:
            reply = await tournaments.handle(player_id, request, self.address)
        except TournamentRefusal as exc:
            code = exc.code
            if code not in ERROR_CODE_VALUES and code not in GAME_ERROR_CODES:
                raise ValueError(f"undocumented tournament error code {code!r}") from exc
            self._error(request.id, code, exc.message[:512])
            return
        await self.gateway.pushes_done(self.session)  # the pushes it caused come first
        self._reply(reply if reply is not None else Ok(id=request.id))

    async def _player_details(
        self, player_id: int | None, player: str
    ) -> tuple[str, PreferencesView | None]:
        """The display name others see (the login name for guests) and the preferences
        (None for guests, or without the player service)."""
        players = self.gateway.player_requests
        if players is None or player_id is None:
            return player, None
        return await players.login_details(player_id, player)

    async def _players(self, request: PlayerRequest) -> None:
        players = self.gateway.player_requests
        missing = (ErrorCode.ACCOUNT_REQUIRED, "this server has no player service")
        _, player_id = self._registered(players, request.id, missing, "a profile")
        assert players is not None
        try:
            reply = await players.handle(player_id, request)
            self._reply(reply)
        except PlayerRefused as exc:
            self._error(exc.request_id, exc.code, exc.message, retry_after_ms=exc.retry_after_ms)
            return
        # The tables she sits at show her new name and follow her new preferences at once.
        hooks = self.gateway.hooks
        if isinstance(request, UpdateProfile) and isinstance(reply, Profile):
            hooks.profile_changed(player_id, display_name=reply.profile.display_name)
        elif isinstance(request, SetPreferences) and isinstance(reply, PreferencesReply):
            prefs = reply.preferences
            hooks.profile_changed(
                player_id, auto_muck=prefs.auto_muck, auto_post_blinds=prefs.auto_post_blinds
            )

    async def _game(self, request: GameRequest) -> None:
        games = self.gateway.game_requests
        missing = (ErrorCode.GAMES_UNAVAILABLE, "this server runs no tables")
        session, player_id = self._registered(games, request.id, missing, "playing")
        assert games is not None
        try:
            reply = await games.handle(player_id, session.player, request, self.address)
        except GameRefused as exc:
            # Stable codes only: the game's list, or ours (wallet refusals of a buy-in). Any
            # other code is our bug and crashes this actor rather than reach clients.
            if exc.code not in GAME_ERROR_CODES and exc.code not in ERROR_CODE_VALUES:
                raise ValueError(f"undocumented game error code {exc.code!r}") from exc
            self._error(request.id, exc.code, str(exc), retry_after_ms=exc.retry_after_ms)
            return
        await self.gateway.pushes_done(session)  # the pushes it caused come first
        self._reply(reply if reply is not None else Ok(id=request.id))

    async def _logout(self, request: Logout) -> None:
        session = self.session
        if session is not None:
            session.detach()
            self.gateway.end_session(session)
            expires_at_s = self.gateway.revoke(session)
            # Durable before the reply: a logged-out token stays refused after a restart.
            with trio.CancelScope(shield=True):
                await self.gateway.accounts.revoke_session(
                    session.session_id, session.player, expires_at_s
                )
                if self.gateway.cluster is not None:
                    # Every node refuses the token, and sees the player gone, before the reply.
                    await self.gateway.cluster.revoke(session.session_id, expires_at_s)
                    await self.gateway.cluster.closed(session.player, session.session_id)
        self._reply(Ok(id=request.id))
        self._close_after_flush(CloseCode.LOGGED_OUT, "logged out")
        self.phase = Phase.CLOSED


# Each request type's handler: one table for every connection (a dict of bound methods per
# connection was 3 KB of each one's memory).
_HANDLERS: Final[dict[type[Any], Callable[[Connection, Any], Awaitable[None]]]] = {
    Hello: Connection._hello,
    Register: Connection._register,
    Login: Connection._login,
    GuestLogin: Connection._guest_login,
    Authenticate: Connection._authenticate,
    Logout: Connection._logout,
    **dict.fromkeys(WALLET_REQUESTS, Connection._wallet),
    **dict.fromkeys(get_args(HandRequest), Connection._hands),
    **dict.fromkeys(get_args(GameRequest), Connection._game),
    **dict.fromkeys(CLUB_REQUESTS, Connection._club),
    **dict.fromkeys(get_args(PlayerRequest), Connection._players),
    **dict.fromkeys(get_args(TournamentRequest), Connection._tournament),
}


def _role(raw: str) -> Role:
    if raw in ("player", "director", "support", "admin"):
        return raw  # type: ignore[return-value]
    raise ValueError(f"account has unknown role {raw!r}")
