"""The trio client SDK: what tests, the bot swarm and third-party bots use to talk to Tablium.

    async with open_client("ws://127.0.0.1:8765") as client:
        await client.login("alice", "correct horse")
        await client.ping()
        async for item in client.events():   # Event pushes, and id-less Error notices
            ...

The client says hello on connect, matches replies to requests by id (each request has a
timeout), numbers nothing itself but remembers the last event seq it delivered, and when the
connection drops after a login it reconnects and resumes: the server replays what was missed
and the client drops any event it has already delivered, so the stream has no gap and no
duplicate. This is the one module of protocol/ that does I/O.
"""

from __future__ import annotations

import itertools
import random
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Final, Literal, final
from urllib.parse import urlsplit

import msgspec
import trio
from trio_websocket import ConnectionClosed, HandshakeError, WebSocketConnection, wrap_client_stream
from wsproto.utilities import LocalProtocolError

from protocol.codec import SERVER_FRAME_BYTES_MAX, ServerMessageDecoder, encode
from protocol.errors import CloseCode, ErrorCode, RemoteProtocolError
from protocol.fields import Asset
from protocol.game import Act, ActionRequired, ActKind, SetClientSeed
from protocol.hands import HandHistory, HandsPage, HistoryFormat, MyHand, MyHands
from protocol.messages import (
    PROTOCOL_VERSIONS,
    Authenticate,
    Balance,
    ClaimPlayChips,
    DepositAddress,
    Error,
    Event,
    GetLimits,
    GetWithdrawal,
    GuestLogin,
    Hello,
    HistoryPage,
    LimitName,
    Limits,
    ListWithdrawals,
    LoggedIn,
    Login,
    Logout,
    Ok,
    Ping,
    Pong,
    Register,
    Reply,
    Request,
    SelfExclude,
    SetLimits,
    Statement,
    TransferResult,
    WalletBalance,
    WalletDeposit,
    WalletHistory,
    WalletStatement,
    WalletTransfer,
    WalletWithdraw,
    Welcome,
    Withdrawal,
    WithdrawalPage,
    WithdrawalState,
)
from protocol.players import (
    GetLeaderboard,
    GetPlayerStats,
    GetPreferences,
    GetProfile,
    Leaderboard,
    Period,
    PlayerStats,
    PreferencesReply,
    PreferencesView,
    Profile,
    SetPreferences,
    UpdateProfile,
)
from protocol.textframes import DEFAULT_ENCODING, Encoding, msgpack_to_json_text

REQUEST_TIMEOUT_S: Final = 10.0
CONNECT_TIMEOUT_S: Final = 10.0
PENDING_REQUESTS_MAX: Final = 1024  # overflow policy: the request raises TooManyPending
EVENTS_BUFFERED_MAX: Final = 4096  # overflow policy: stop reading (backpressure to server)
RECONNECT_ATTEMPTS_MAX: Final = 8
RECONNECT_BACKOFF_FIRST_S: Final = 0.05
RECONNECT_BACKOFF_MAX_S: Final = 2.0
# Errors that say "not now": the request was not executed and may be sent again later.
RETRYABLE_ERROR_CODES: Final = frozenset({ErrorCode.RATE_LIMITED, ErrorCode.SERVER_BUSY})
RETRY_DELAY_DEFAULT_MS: Final = 1000  # a retryable error without retry_after_ms
RETRY_JITTER: Final = 0.5  # retry_delay_s: retry_after x [1, 1 + RETRY_JITTER x attempts)
RETRY_DELAY_MAX_S: Final = 30.0  # retry_delay_s never asks for longer
# The server closed on purpose: reconnecting would not help or would fight another device.
_FINAL_CLOSE_CODES: Final = frozenset(
    {
        CloseCode.LOGGED_OUT,
        CloseCode.SESSION_REPLACED,
        CloseCode.AUTH_TIMEOUT,
        CloseCode.ACCOUNT_BANNED,
    }
)


class ClientError(Exception):
    """Base of everything this SDK raises."""


@final
class ServerError(ClientError):
    """The server answered a request with an error frame."""

    def __init__(self, error: Error) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.code = error.code
        self.message = error.message
        self.retry_after_ms = error.retry_after_ms
        self.error = error

    @property
    def retryable(self) -> bool:
        """True when the server did not execute the request and asks for a later retry
        (``server_busy``, ``rate_limited``): wait retry_delay_s(...) and send it again."""
        return self.code in RETRYABLE_ERROR_CODES


def retry_delay_s(error: ServerError, attempt: int, rng: random.Random) -> float:
    """How long to wait before retry number ``attempt`` (0 for the first) of a request the
    server refused with a retryable error: its ``retry_after_ms`` (the server's estimate of
    when it has room; RETRY_DELAY_DEFAULT_MS without one), times a random factor in
    [1, 1 + RETRY_JITTER x (attempt + 1)), so that clients refused together come back spread
    out, and more so each time they collide again; at most RETRY_DELAY_MAX_S. Callers bound
    the number of attempts."""
    base_ms = error.retry_after_ms if error.retry_after_ms is not None else RETRY_DELAY_DEFAULT_MS
    spread = RETRY_JITTER * (1 + max(0, attempt))
    delay_s = max(0, base_ms) * (1 + spread * rng.random()) / 1000
    return min(RETRY_DELAY_MAX_S, delay_s)


@final
class ConnectionLost(ClientError):
    """The connection dropped before the reply came (the request may or may not have run)."""


@final
class RequestTimeout(ClientError):
    pass


@final
class TooManyPending(ClientError):
    pass


@final
class ProtocolViolation(ClientError):
    """The server sent a frame this client cannot read (a bug on one side)."""


@dataclass(eq=False)
class _Waiter:
    done: trio.Event = field(default_factory=trio.Event)
    reply: Reply | None = None
    lost: bool = False


@final
class Client:
    """One logical connection to a Tablium server, across reconnects. Use open_client()."""

    def __init__(
        self,
        url: str,
        nursery: trio.Nursery,
        *,
        versions: Sequence[int] = PROTOCOL_VERSIONS,
        client_name: str = "tablium-sdk",
        request_timeout_s: float = REQUEST_TIMEOUT_S,
        reconnect: bool = True,
        encoding: Encoding = DEFAULT_ENCODING,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "ws" or not parts.hostname:
            raise ValueError(f"expected ws://HOST:PORT, got {url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.resource = parts.path or "/"
        self.versions = list(versions)
        self.client_name = client_name
        self.request_timeout_s = request_timeout_s
        self.reconnect = reconnect
        self.encoding = encoding  # the subprotocol: msgpack binary or JSON text frames
        self._nursery = nursery
        self._decoder = ServerMessageDecoder()
        self._ids = itertools.count(1)
        self._pending: dict[int, _Waiter] = {}
        self._events_send, self._events_recv = trio.open_memory_channel[Event | Error](
            EVENTS_BUFFERED_MAX
        )
        self._ws: WebSocketConnection | None = None
        self._stream: trio.SocketStream | None = None
        self._ready = trio.Event()  # set while a connection is open and (re)authenticated
        self._closing = False
        # Session facts, kept across reconnects.
        self.welcome: Welcome | None = None
        self.token: str | None = None
        self.player: str | None = None
        self.session_id: str | None = None
        self.last_seq = 0  # the newest event seq delivered to events()
        self.close_code: int | None = None
        self.reconnects = 0

    # --- connection ------------------------------------------------------------------------

    async def connect(self) -> Welcome:
        """Open the websocket and say hello (raises ServerError version_unsupported)."""
        with trio.fail_after(CONNECT_TIMEOUT_S):
            stream = await trio.open_tcp_stream(self.host, self.port)
            socket_nursery, handed_over = await self._nursery.start(self._host_socket, stream)
            try:
                ws = await wrap_client_stream(
                    socket_nursery,
                    stream,
                    self.host,
                    self.resource,
                    subprotocols=[self.encoding.value],
                    max_message_size=SERVER_FRAME_BYTES_MAX,
                )
            except HandshakeError as exc:
                await stream.aclose()
                raise ConnectionLost(f"websocket handshake failed: {exc}") from exc
            finally:
                handed_over.set()
        self._ws, self._stream = ws, stream
        self._nursery.start_soon(self._read, ws)
        reply = await self._call(Hello(id=0, versions=self.versions, client=self.client_name))
        assert isinstance(reply, Welcome)
        self.welcome = reply
        if self.token is None:
            self._ready.set()  # not logged in yet: requests may flow
        return reply

    async def _host_socket(
        self,
        stream: trio.SocketStream,
        task_status: trio.TaskStatus[tuple[trio.Nursery, trio.Event]] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Run one websocket's background task (trio-websocket's reader) in a nursery of our
        own, so that what it raises can be judged here. wsproto raises LocalProtocolError
        when the server pings while our close handshake is under way (a pong cannot be sent
        in that state): the connection is ending anyway, so that counts as closed, like
        ConnectionClosed, and does not escape to the caller."""
        handed_over = trio.Event()  # keeps the nursery open until the reader is started
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(handed_over.wait)
                task_status.started((nursery, handed_over))
        except* LocalProtocolError:
            with trio.CancelScope(shield=True):
                await stream.aclose()

    async def aclose(self) -> None:
        self._closing = True
        ws = self._ws
        if ws is not None:
            with trio.move_on_after(1.0) as scope:
                scope.shield = True
                await ws.aclose()
        self._events_send.close()

    async def simulate_network_drop(self) -> None:
        """Cut the TCP connection without a close handshake (tests of resume use this)."""
        if self._stream is not None:
            await self._stream.aclose()

    # --- requests --------------------------------------------------------------------------

    async def request(self, message: Request) -> Reply:
        """Send ``message`` (its id is replaced) and return the reply; errors raise."""
        with trio.move_on_after(self.request_timeout_s) as scope:
            await self._ready.wait()
            return await self._call(message)
        assert scope.cancelled_caught
        raise RequestTimeout(f"no reply to {type(message).__name__} in {self.request_timeout_s}s")

    async def _call(self, message: Request) -> Reply:
        if len(self._pending) >= PENDING_REQUESTS_MAX:
            raise TooManyPending(f"{PENDING_REQUESTS_MAX} requests are waiting already")
        ws = self._ws
        if ws is None:
            raise ConnectionLost("not connected")
        request_id = next(self._ids) & 0xFFFFFFFF
        waiter = self._pending[request_id] = _Waiter()
        try:
            with trio.fail_after(self.request_timeout_s):
                try:
                    frame = encode(msgspec.structs.replace(message, id=request_id))
                    await ws.send_message(self._on_wire(frame))
                except ConnectionClosed:
                    raise ConnectionLost("the connection is closed") from None
                await waiter.done.wait()
        except trio.TooSlowError:
            raise RequestTimeout(f"no reply to {type(message).__name__}") from None
        finally:
            self._pending.pop(request_id, None)
        if waiter.lost or waiter.reply is None:
            # Cancelled from outside (the caller's scope closing its client): the reader marked
            # us lost as it went down, but the caller is leaving anyway; Cancelled, not an error.
            await trio.lowlevel.checkpoint_if_cancelled()
            raise ConnectionLost("the connection dropped before the reply")
        if isinstance(waiter.reply, Error):
            raise ServerError(waiter.reply)
        return waiter.reply

    def _on_wire(self, frame: bytes) -> bytes | str:
        """A msgpack frame as this connection's encoding sends it."""
        return msgpack_to_json_text(frame) if self.encoding is Encoding.JSON else frame

    async def send_raw(self, frame: bytes | str) -> None:
        """Send any frame as is (fuzzing and protocol tests); replies to it arrive as
        id-less errors in events() only when the server could not read an id."""
        if self._ws is None:
            raise ConnectionLost("not connected")
        await self._ws.send_message(frame)

    async def register(self, name: str, password: str) -> LoggedIn:
        return await self._log_in(Register(id=0, name=name, password=password))

    async def login(self, name: str, password: str) -> LoggedIn:
        return await self._log_in(Login(id=0, name=name, password=password))

    async def guest_login(self) -> LoggedIn:
        return await self._log_in(GuestLogin(id=0))

    async def authenticate(self, token: str, last_seq: int = 0) -> LoggedIn:
        return await self._log_in(Authenticate(id=0, token=token, last_seq=last_seq))

    async def _log_in(self, message: Request) -> LoggedIn:
        reply = await self._call(message)
        assert isinstance(reply, LoggedIn)
        self._ready.set()
        return reply

    async def ping(self) -> float:
        """One no-op round trip; returns its duration in seconds."""
        started = trio.current_time()
        reply = await self.request(Ping(id=0))
        assert isinstance(reply, Pong)
        return trio.current_time() - started

    async def logout(self) -> None:
        reply = await self.request(Logout(id=0))
        assert isinstance(reply, Ok)
        self.token = None
        self.reconnect = False

    # --- wallet --------------------------------------------------------------------------------

    async def balance(self, asset: Asset = "chips") -> Balance:
        reply = await self.request(WalletBalance(id=0, asset=asset))
        assert isinstance(reply, Balance)
        return reply

    async def history(
        self, before_id: int | None = None, limit: int = 50, asset: Asset = "chips"
    ) -> HistoryPage:
        reply = await self.request(
            WalletHistory(id=0, before_id=before_id, limit=limit, asset=asset)
        )
        assert isinstance(reply, HistoryPage)
        return reply

    async def my_hands(self, before_seq: int | None = None, limit: int = 50) -> HandsPage:
        """A page of the hands I was dealt into, newest first."""
        reply = await self.request(MyHands(id=0, before_seq=before_seq, limit=limit))
        assert isinstance(reply, HandsPage)
        return reply

    async def my_hand(self, hand_id: str, form: HistoryFormat = "phh") -> HandHistory:
        """One hand I was dealt into, as PHH or a text history (ServerError unknown_hand)."""
        reply = await self.request(MyHand(id=0, hand_id=hand_id, format=form))
        assert isinstance(reply, HandHistory)
        return reply

    async def statement(
        self, from_ms: int, to_ms: int, asset: Asset = "chips", after_id: int | None = None
    ) -> Statement:
        reply = await self.request(
            WalletStatement(id=0, from_ms=from_ms, to_ms=to_ms, asset=asset, after_id=after_id)
        )
        assert isinstance(reply, Statement)
        return reply

    async def claim_play_chips(self) -> TransferResult:
        """A play-money refill (refill_not_needed / refill_too_early when it is not due)."""
        return await self._money(ClaimPlayChips(id=0))

    async def limits(self) -> Limits:
        return await self._limits(GetLimits(id=0))

    async def set_limits(self, changes: dict[LimitName, int | None]) -> Limits:
        return await self._limits(SetLimits(id=0, changes=changes))

    async def self_exclude(self, kind: Literal["cool_off", "self_exclusion"], days: int) -> Limits:
        return await self._limits(SelfExclude(id=0, kind=kind, days=days))

    async def _limits(self, message: Request) -> Limits:
        reply = await self.request(message)
        assert isinstance(reply, Limits)
        return reply

    async def transfer(
        self, to_player: str, amount: int, key: str, memo: str = ""
    ) -> TransferResult:
        """Safe to retry with the same ``key`` (e.g. after ConnectionLost)."""
        return await self._money(
            WalletTransfer(id=0, to_player=to_player, amount=amount, key=key, memo=memo)
        )

    async def deposit_address(self, chain_id: int | None = None) -> DepositAddress:
        """Where and how to deposit (the blockchain cashier's contract, this player's
        reference), on ``chain_id`` or the server's first chain; the chips arrive when the
        payment is confirmed on chain."""
        reply = await self.request(WalletDeposit(id=0, chain_id=chain_id))
        assert isinstance(reply, DepositAddress)
        return reply

    async def withdraw(
        self, amount: int, key: str, address: str, chain_id: int | None = None
    ) -> Withdrawal:
        """Withdraw to a chain address (on ``chain_id``, or the server's first chain); safe to
        retry with the same ``key``."""
        reply = await self.request(
            WalletWithdraw(id=0, amount=amount, key=key, address=address, chain_id=chain_id)
        )
        assert isinstance(reply, Withdrawal)
        return reply

    async def withdrawal(self, withdrawal_id: int) -> Withdrawal:
        reply = await self.request(GetWithdrawal(id=0, withdrawal_id=withdrawal_id))
        assert isinstance(reply, Withdrawal)
        return reply

    async def withdrawals(
        self,
        *,
        state: WithdrawalState | None = None,
        before_id: int | None = None,
        limit: int = 50,
        chain_id: int | None = None,
    ) -> WithdrawalPage:
        """My withdrawals, newest first (on ``chain_id`` only, when given); pass
        ``next_before_id`` as ``before_id`` for more."""
        reply = await self.request(
            ListWithdrawals(id=0, state=state, before_id=before_id, limit=limit, chain_id=chain_id)
        )
        assert isinstance(reply, WithdrawalPage)
        return reply

    async def _money(self, message: Request) -> TransferResult:
        reply = await self.request(message)
        assert isinstance(reply, TransferResult)
        return reply

    # --- hands ----------------------------------------------------------------------------

    async def act(
        self,
        prompt: ActionRequired,
        action: ActKind,
        amount: int = 0,
        agree: bool = False,
    ) -> Reply:
        """Answer ``prompt`` (an ``action_required``), echoing its hand and decision id: an
        answer to a prompt that is no longer current (a buffered one answered after a
        resume, a second answer to a prompt sent again) raises ServerError
        ``stale_decision`` and is never applied to a later decision."""
        return await self.request(
            Act(
                id=0,
                table_id=prompt.table_id,
                hand_number=prompt.hand_number,
                decision_id=prompt.decision_id,
                action=action,
                amount=amount,
                agree=agree,
            )
        )

    async def set_client_seed(self, table_id: str, seed: bytes | None = None) -> bytes:
        """Contribute entropy to the deals at ``table_id`` (docs/fairness.md): ``seed``, or
        16 fresh random bytes. It deals the hands started after the reply; send a fresh one
        after each ``deal_commitment`` (the server committed to its seed before it saw
        yours). Returns the seed, for the check of the reveal in ``hand_ended``."""
        chosen = secrets.token_bytes(16) if seed is None else seed
        await self.request(SetClientSeed(id=0, table_id=table_id, seed=chosen.hex()))
        return chosen

    # --- player service (profiles, preferences, statistics, leaderboards) -------------------

    async def profile(self, player_id: int | None = None) -> Profile:
        """A public profile; without ``player_id``, the player's own (with private fields)."""
        reply = await self.request(GetProfile(id=0, player_id=player_id))
        assert isinstance(reply, Profile)
        return reply

    async def update_profile(self, **fields: str) -> Profile:
        """display_name, avatar, country, bio: the ones given change."""
        reply = await self.request(UpdateProfile(id=0, **fields))
        assert isinstance(reply, Profile)
        return reply

    async def preferences(self) -> PreferencesView:
        reply = await self.request(GetPreferences(id=0))
        assert isinstance(reply, PreferencesReply)
        return reply.preferences

    async def set_preferences(self, changes: dict[str, bool | int | str]) -> PreferencesView:
        reply = await self.request(SetPreferences(id=0, changes=changes))
        assert isinstance(reply, PreferencesReply)
        return reply.preferences

    async def player_stats(self, player_id: int | None = None) -> PlayerStats:
        reply = await self.request(GetPlayerStats(id=0, player_id=player_id))
        assert isinstance(reply, PlayerStats)
        return reply

    async def leaderboard(
        self, board: str, period: Period = "daily", limit: int = 10
    ) -> Leaderboard:
        reply = await self.request(GetLeaderboard(id=0, board=board, period=period, limit=limit))
        assert isinstance(reply, Leaderboard)
        return reply

    # --- events ----------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[Event | Error]:
        """Pushes in seq order without gaps or duplicates across reconnects, and the
        errors that answer no request (replay_gap, unreadable frames)."""
        async for item in self._events_recv:
            yield item

    async def next_event(self, timeout_s: float = REQUEST_TIMEOUT_S) -> Event | Error:
        with trio.fail_after(timeout_s):
            return await self._events_recv.receive()

    # --- the reader --------------------------------------------------------------------------

    async def _read(self, ws: WebSocketConnection) -> None:
        try:
            while True:
                frame = await ws.get_message()
                if isinstance(frame, str) is not (self.encoding is Encoding.JSON):
                    raise ProtocolViolation(f"a {type(frame).__name__} frame on {self.encoding}")
                try:
                    message = (
                        self._decoder.decode_text(frame)
                        if isinstance(frame, str)
                        else self._decoder.decode(frame)
                    )
                except RemoteProtocolError as exc:
                    raise ProtocolViolation(f"unreadable server frame: {exc}") from None
                await self._dispatch(message)
        except ConnectionClosed:
            pass
        finally:
            self._on_connection_lost(ws)

    async def _dispatch(self, message: Reply | Event) -> None:
        if isinstance(message, Event):
            if message.seq <= self.last_seq:
                return  # already delivered before a reconnect
            self.last_seq = message.seq
            await self._events_send.send(message)
            return
        if isinstance(message, LoggedIn):
            # Processed here, before any event that follows it, so resume bookkeeping is
            # exact: a fresh or gapped session restarts the count at the server's seq.
            self.token, self.player = message.token, message.player
            self.session_id = message.session_id
            if message.resume != "complete":
                self.last_seq = message.last_seq
        if message.id is None:
            assert isinstance(message, Error)
            await self._events_send.send(message)
            return
        waiter = self._pending.get(message.id)
        if waiter is not None:
            waiter.reply = message
            waiter.done.set()

    def _on_connection_lost(self, ws: WebSocketConnection) -> None:
        if ws is not self._ws:
            return
        self._ws = None
        closed = ws.closed
        self.close_code = closed.code if closed is not None else None
        if self._ready.is_set():
            self._ready = trio.Event()
        for waiter in self._pending.values():
            waiter.lost = True
            waiter.done.set()
        if (
            self.reconnect
            and not self._closing
            and self.token is not None
            and self.close_code not in _FINAL_CLOSE_CODES
        ):
            self._nursery.start_soon(self._resume)
        elif not self._closing:
            self._events_send.close()

    async def _resume(self) -> None:
        backoff_s = RECONNECT_BACKOFF_FIRST_S
        for _attempt in range(RECONNECT_ATTEMPTS_MAX):
            if self._closing:
                return
            try:
                await self.connect()
                assert self.token is not None
                await self.authenticate(self.token, self.last_seq)
                self.reconnects += 1
                return
            except ServerError as exc:
                if exc.code in (
                    ErrorCode.TOKEN_EXPIRED,
                    ErrorCode.TOKEN_INVALID,
                    ErrorCode.ACCOUNT_BANNED,
                ):
                    break  # retrying cannot fix the token
                await self._drop_current()
            except (OSError, ClientError, trio.TooSlowError):
                await self._drop_current()
            await trio.sleep(backoff_s)
            backoff_s = min(RECONNECT_BACKOFF_MAX_S, backoff_s * 2)
        await self._drop_current()
        self._events_send.close()

    async def _drop_current(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.aclose()


@asynccontextmanager
async def open_client(
    url: str,
    *,
    versions: Sequence[int] = PROTOCOL_VERSIONS,
    request_timeout_s: float = REQUEST_TIMEOUT_S,
    reconnect: bool = True,
    client_name: str = "tablium-sdk",
    encoding: Encoding = DEFAULT_ENCODING,
) -> AsyncIterator[Client]:
    """A connected client (hello done), closed when the block ends.

    A single error (from the block, or from the client's own tasks) leaves unwrapped, so
    ``except ServerError`` works as written; several at once stay an ExceptionGroup.
    """
    try:
        async with trio.open_nursery() as nursery:
            client = Client(
                url,
                nursery,
                versions=versions,
                request_timeout_s=request_timeout_s,
                reconnect=reconnect,
                client_name=client_name,
                encoding=encoding,
            )
            try:
                await client.connect()
                yield client
            finally:
                await client.aclose()
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        leaves = list(_leaves(group))
        if len(leaves) == 1:
            raise leaves[0] from None
        raise


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc
