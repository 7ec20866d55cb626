"""Every message of the wire protocol, defined once.

Conventions (docs/protocol.md is the reader's version):

- One msgpack map per binary websocket frame. The ``type`` key names the message.
- Client requests carry ``id`` (u32, chosen by the client); the server's reply to a request
  echoes it. A reply is one of the ``*Reply`` structs below, or :class:`Error`.
- Server pushes are :class:`Event` envelopes with ``seq`` (u64, per session, from 1, without
  gaps) around a body from :data:`PushBody`.
- Unknown fields are refused (``forbid_unknown_fields``): the protocol is strict, and a newer
  client negotiates the version it speaks in :class:`Hello` instead.

New features add request structs to :data:`Request`, reply structs to :data:`Reply`, push
bodies to :data:`PushBody`, and rows to protocol/phases.py. Cash games (lobby, tables, hands)
live in protocol/game.py and join the unions here.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from protocol.clubs import ClubReply, ClubRequest
from protocol.fields import Asset, RequestId, Seq
from protocol.game import GamePush, GameReply, GameRequest
from protocol.hands import HandReply, HandRequest
from protocol.limits import CHIPS_MAX
from protocol.players import PlayerPush, PlayerReply, PlayerRequest, PreferencesView
from protocol.tournaments import TournamentPush, TournamentReply, TournamentRequest

PROTOCOL_VERSIONS: Final = (1,)  # versions this code speaks, oldest first

# Field limits, enforced by the decoder (a value over a limit is an invalid_message error).
VERSIONS_OFFERED_MAX: Final = 8
CLIENT_NAME_CHARS_MAX: Final = 64
PLAYER_NAME_CHARS_MAX: Final = 24
PASSWORD_CHARS_MAX: Final = 128  # argon2 would take more, but nobody types more
TOKEN_CHARS_MAX: Final = 2048
ERROR_MESSAGE_CHARS_MAX: Final = 512
NOTICE_TEXT_CHARS_MAX: Final = 4096
TABLE_IDS_MAX: Final = 64

Version = Annotated[int, Meta(ge=1, le=2**16 - 1)]
PlayerName = Annotated[str, Meta(min_length=1, max_length=PLAYER_NAME_CHARS_MAX)]
Password = Annotated[str, Meta(max_length=PASSWORD_CHARS_MAX)]
Token = Annotated[str, Meta(min_length=1, max_length=TOKEN_CHARS_MAX)]
Role = Literal["player", "director", "support", "admin"]
ROLES: Final[tuple[Role, ...]] = ("player", "director", "support", "admin")


class _Message(
    msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=True, kw_only=True
):
    """Base of every wire message: frozen, tagged by ``type``, strict about fields."""


# --- client -> server: requests --------------------------------------------------------------


class Hello(_Message, tag="hello", frozen=True):
    """First message of every connection: the versions the client speaks."""

    id: RequestId
    versions: Annotated[list[Version], Meta(min_length=1, max_length=VERSIONS_OFFERED_MAX)]
    client: Annotated[str, Meta(max_length=CLIENT_NAME_CHARS_MAX)] = ""


class Register(_Message, tag="register", frozen=True):
    """Create a player account and log this connection in as it."""

    id: RequestId
    name: PlayerName
    password: Password


class Login(_Message, tag="login", frozen=True):
    id: RequestId
    name: PlayerName
    password: Password


class GuestLogin(_Message, tag="guest_login", frozen=True):
    """Log in as a fresh guest player (only when the server allows guests)."""

    id: RequestId


class Authenticate(_Message, tag="authenticate", frozen=True):
    """Log in with a token from an earlier login; with ``last_seq``, also resume its session
    and receive every event after that seq."""

    id: RequestId
    token: Token
    last_seq: Seq = 0


class Ping(_Message, tag="ping", frozen=True):
    """A no-op round trip (liveness checks, latency, benchmarks)."""

    id: RequestId


class Logout(_Message, tag="logout", frozen=True):
    """End the session now: no grace period, seats are released, the connection closes."""

    id: RequestId


# --- client -> server: wallet requests (a registered player's own money) ---------------------

WALLET_KEY_CHARS_MAX: Final = 64
WALLET_MEMO_CHARS_MAX: Final = 200
WALLET_HISTORY_PAGE_MAX: Final = 200
STATEMENT_PAGE_MAX: Final = 200  # entries in one statement reply (the rest: after_id)
STATEMENT_SPAN_MS_MAX: Final = 366 * 86_400_000  # a statement covers at most a year
TIME_MS_MAX: Final = 2**53  # milliseconds since the epoch
LIMIT_CHANGES_MAX: Final = 8  # one of each limit
AMOUNT_MAX: Final = CHIPS_MAX
Amount = Annotated[int, Meta(ge=1, le=AMOUNT_MAX)]  # chips, always integers
IdempotencyKey = Annotated[str, Meta(min_length=1, max_length=WALLET_KEY_CHARS_MAX)]
Memo = Annotated[str, Meta(max_length=WALLET_MEMO_CHARS_MAX)]
TimeMs = Annotated[int, Meta(ge=0, le=TIME_MS_MAX)]
LimitName = Literal[
    "daily_deposit_max", "weekly_deposit_max", "monthly_deposit_max", "daily_loss_max",
    "weekly_loss_max", "monthly_loss_max", "table_buy_in_max", "session_minutes_max",
]  # fmt: skip
LimitValue = Annotated[int, Meta(ge=0, le=AMOUNT_MAX)]


class WalletBalance(_Message, tag="wallet_balance", frozen=True):
    id: RequestId
    asset: Asset = "chips"


class WalletHistory(_Message, tag="wallet_history", frozen=True):
    """One page of the player's transfers, newest first; ``before_id`` pages back."""

    id: RequestId
    before_id: Annotated[int, Meta(ge=1)] | None = None
    limit: Annotated[int, Meta(ge=1, le=WALLET_HISTORY_PAGE_MAX)] = 50
    asset: Asset = "chips"


class WalletStatement(_Message, tag="wallet_statement", frozen=True):
    """The player's statement for [from_ms, to_ms) (at most a year): opening and closing
    balance, totals by kind, and the entries posted in it, ``limit`` at a time after
    ``after_id``."""

    id: RequestId
    from_ms: TimeMs
    to_ms: TimeMs
    asset: Asset = "chips"
    after_id: Annotated[int, Meta(ge=1)] | None = None
    limit: Annotated[int, Meta(ge=1, le=STATEMENT_PAGE_MAX)] = STATEMENT_PAGE_MAX


class ClaimPlayChips(_Message, tag="claim_play_chips", frozen=True):
    """A play-money refill, for a play balance below the server's threshold, once per period.
    Reply: TransferResult."""

    id: RequestId


class GetLimits(_Message, tag="get_limits", frozen=True):
    """The player's responsible-gaming limits and exclusion. Reply: Limits."""

    id: RequestId


class SetLimits(_Message, tag="set_limits", frozen=True):
    """Change limits: each named limit to the value given (null: no limit). Lowering takes
    effect at once, raising (or removing) after 24 hours. Reply: Limits."""

    id: RequestId
    changes: Annotated[
        dict[LimitName, LimitValue | None], Meta(min_length=1, max_length=LIMIT_CHANGES_MAX)
    ]


class SelfExclude(_Message, tag="self_exclude", frozen=True):
    """A cool-off (1-42 days) or a self-exclusion (183-3653 days) from real-money play, from
    now; neither can be shortened. Reply: Limits."""

    id: RequestId
    kind: Literal["cool_off", "self_exclusion"]
    days: Annotated[int, Meta(ge=1, le=3653)]


class WalletTransfer(_Message, tag="wallet_transfer", frozen=True):
    """Move chips to another player. ``key`` makes a retry safe: the same key and content
    return the first result instead of moving the chips twice."""

    id: RequestId
    to_player: PlayerName
    amount: Amount
    key: IdempotencyKey
    memo: Memo = ""


CHAIN_ADDRESS_CHARS_MAX: Final = 42  # "0x" and 40 hex digits
ChainId = Annotated[int, Meta(ge=1, le=2**63 - 1)]  # a chain's EIP-155 id


class WalletDeposit(_Message, tag="wallet_deposit", frozen=True):
    """Ask how to deposit: the reply is DepositAddress, the blockchain cashier's contract and
    this player's deposit reference (the same every time). What arrives on chain is credited
    at the confirmation line (docs/chain.md). ``amount``, ``key`` and ``memo`` are not used
    (what counts is what arrives); they are accepted so that older clients' frames decode.
    Refused: cashier_unavailable (no cashier on this server), self_excluded, cooling_off.
    ``chain_id``: which chain's cashier (null: the server's first); unknown_chain if none."""

    id: RequestId
    amount: Amount | None = None
    key: IdempotencyKey | None = None
    memo: Memo = ""
    chain_id: ChainId | None = None


class WalletWithdraw(_Message, tag="wallet_withdraw", frozen=True):
    """Withdraw ``amount`` chips to the chain address ``address``: reserved at once, paid in
    a batch (large ones after a staff approval). Reply: Withdrawal. ``key`` makes a retry
    safe. Refused: cashier_unavailable, invalid_address, invalid_amount (worth no token
    unit), insufficient_funds, withdrawal_refused (a retry of one refused the first time),
    idempotency_conflict, unknown_chain. ``chain_id``: which chain pays (null: the server's
    first)."""

    id: RequestId
    amount: Amount
    key: IdempotencyKey
    address: Annotated[str, Meta(min_length=1, max_length=CHAIN_ADDRESS_CHARS_MAX)]
    chain_id: ChainId | None = None


WithdrawalState = Literal[
    "requested", "awaiting_approval", "queued", "batched", "paid", "voided", "rejected", "refused"
]


class GetWithdrawal(_Message, tag="get_withdrawal", frozen=True):
    """One of this player's withdrawals, as it stands. Reply: Withdrawal. Refused:
    cashier_unavailable, unknown_withdrawal (none of that id is this player's)."""

    id: RequestId
    withdrawal_id: Annotated[int, Meta(ge=1, le=2**63 - 1)]


WITHDRAWALS_PAGE_MAX: Final = 100  # services/chain/cashier.py WITHDRAWALS_PAGE_MAX


class ListWithdrawals(_Message, tag="list_withdrawals", frozen=True):
    """This player's withdrawals, newest first: ``limit`` at most, those with an id below
    ``before_id`` when given (the previous page's ``next_before_id``), only those in ``state``
    when given, only those on ``chain_id`` when given (else every chain). Reply:
    WithdrawalPage. Refused: cashier_unavailable, unknown_chain."""

    id: RequestId
    state: WithdrawalState | None = None
    before_id: Annotated[int, Meta(ge=1, le=2**63 - 1)] | None = None
    limit: Annotated[int, Meta(ge=1, le=WITHDRAWALS_PAGE_MAX)] = 50
    chain_id: ChainId | None = None


Request = (
    Hello
    | Register
    | Login
    | GuestLogin
    | Authenticate
    | Ping
    | Logout
    | WalletBalance
    | WalletHistory
    | WalletTransfer
    | WalletDeposit
    | WalletWithdraw
    | GetWithdrawal
    | ListWithdrawals
    | WalletStatement
    | ClaimPlayChips
    | GetLimits
    | SetLimits
    | SelfExclude
    | GameRequest  # protocol/game.py: lobby, tables, hands
    | HandRequest  # protocol/hands.py: my hand histories
    | ClubRequest  # protocol/clubs.py: clubs and rakeback
    | PlayerRequest  # protocol/players.py: profiles, preferences, statistics, leaderboards
    | TournamentRequest  # protocol/tournaments.py: the tournament lobby, entries, deals
)

# --- server -> client: replies ---------------------------------------------------------------


class Welcome(_Message, tag="welcome", frozen=True):
    """Reply to Hello: the version chosen and the limits this server enforces."""

    id: RequestId
    version: Version
    server: str
    heartbeat_ms: int
    frame_bytes_max: int
    rate_burst_requests: int
    rate_refill_per_s: int


class LoggedIn(_Message, tag="logged_in", frozen=True):
    """Reply to Register, Login, GuestLogin and Authenticate.

    ``resume`` says what happened to the session's events: ``new`` (a fresh session),
    ``complete`` (every event after last_seq follows), or ``gap`` (some are gone: a
    replay_gap error and the current state follow instead).
    """

    id: RequestId
    token: Token
    player: PlayerName
    role: Role
    session_id: str
    expires_at_s: int
    resume: Literal["new", "complete", "gap"]
    last_seq: Seq  # the session's newest seq before this reply
    # The account's id (null for guests) and the name other players see (docs/players.md;
    # ``player`` is the login name).
    player_id: int | None = None
    display_name: str = ""
    # The player's preferences (null for guests); session_state carries them on a resume.
    preferences: PreferencesView | None = None


class Pong(_Message, tag="pong", frozen=True):
    id: RequestId


class Ok(_Message, tag="ok", frozen=True):
    """A request succeeded and has nothing to return."""

    id: RequestId


class Error(_Message, tag="error", frozen=True):
    """A request (``id``) or frame (``id`` null when it could not be read) failed."""

    id: RequestId | None
    code: Annotated[str, Meta(max_length=64)]
    message: Annotated[str, Meta(max_length=ERROR_MESSAGE_CHARS_MAX)] = ""
    retry_after_ms: int | None = None


class Balance(_Message, tag="balance", frozen=True):
    """Reply to WalletBalance. ``available`` = ``balance`` - ``reserved`` (pending out)."""

    id: RequestId
    balance: int
    reserved: int
    available: int
    asset: Asset = "chips"


class Account(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A ledger account, as every surface names one (the admin and public APIs too):
    ``{"kind": "wallet", "owner": "42", "asset": "chips"}``, ``{"kind": "escrow", "owner":
    "table:nt-1-2-a", ...}``, ``{"kind": "external", "owner": "", ...}``."""

    kind: Annotated[str, Meta(max_length=32)]
    owner: Annotated[str, Meta(max_length=128)]  # "" for the house's own accounts
    asset: Asset


class HistoryEntry(_Message, tag="history_entry", frozen=True):
    transfer_id: int
    kind: Annotated[str, Meta(max_length=32)]  # deposit, withdrawal, player_transfer, buy_in...
    state: Literal["pending", "posted", "voided"]
    amount: int  # the player's side: positive in, negative out
    counterparty: Account  # the other side of the transfer
    memo: Annotated[str, Meta(max_length=WALLET_MEMO_CHARS_MAX)]
    created_at_ms: int
    updated_at_ms: int


class HistoryPage(_Message, tag="history_page", frozen=True):
    """Reply to WalletHistory; ``next_before_id`` is null on the last page."""

    id: RequestId
    entries: Annotated[list[HistoryEntry], Meta(max_length=WALLET_HISTORY_PAGE_MAX)]
    next_before_id: int | None


class TransferResult(_Message, tag="transfer_result", frozen=True):
    """Reply to WalletTransfer and ClaimPlayChips."""

    id: RequestId
    transfer_id: int
    state: Literal["pending", "posted", "voided"]
    amount: int
    asset: Asset = "chips"


class DepositAddress(_Message, tag="deposit_address", frozen=True):
    """Reply to WalletDeposit: call ``deposit(amount, reference)`` on the contract
    ``cashier`` on chain ``chain_id`` (after approving ``token``), or
    ``deposit_native(reference)`` when ``token`` is the zero address. ``rate`` is exact:
    chips per token unit (``"1/10000"``), rounded down."""

    id: RequestId
    chain_id: int
    cashier: str
    token: str
    reference: str  # 0x and 64 hex digits: this player's, for every deposit
    rate: str


class Withdrawal(_Message, tag="withdrawal", frozen=True):
    """Reply to WalletWithdraw and GetWithdrawal. ``state``: ``awaiting_approval`` (staff
    approve large ones), ``queued``, ``batched`` (sent), ``paid``; or ``voided`` (expired or
    reverted: the chips are back), ``rejected`` (by staff: back too), ``refused`` (the ledger
    refused it: ``reason`` says why). ``units`` is the token amount paid, as a decimal string
    (it may exceed 64 bits)."""

    id: RequestId
    withdrawal_id: int
    chain_id: int
    address: str
    amount: int  # chips, reserved from the wallet
    units: str
    state: WithdrawalState
    transfer_id: int | None  # the ledger transfer (pending until paid)
    reason: str
    created_at_ms: int
    updated_at_ms: int


class _Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A nested value inside a message (not tagged)."""


class WithdrawalRecord(_Record, frozen=True):
    """One withdrawal inside a WithdrawalPage: the fields of Withdrawal without ``id``."""

    withdrawal_id: int
    chain_id: int
    address: str
    amount: int
    units: str
    state: WithdrawalState
    transfer_id: int | None
    reason: str
    created_at_ms: int
    updated_at_ms: int


class WithdrawalPage(_Message, tag="withdrawal_page", frozen=True):
    """Reply to ListWithdrawals, newest first; ``next_before_id`` is null on the last page."""

    id: RequestId
    withdrawals: Annotated[list[WithdrawalRecord], Meta(max_length=WITHDRAWALS_PAGE_MAX)]
    next_before_id: int | None


class StatementTotal(_Record, frozen=True):
    kind: Annotated[str, Meta(max_length=32)]
    count: int
    credited: int  # into the wallet
    debited: int  # out of it


class Statement(_Message, tag="statement", frozen=True):
    """Reply to WalletStatement. ``closing_balance`` = ``opening_balance`` + the net of
    ``totals`` (which cover the whole period); ``next_after_id`` is null on the last page."""

    id: RequestId
    asset: Asset
    from_ms: int
    to_ms: int
    opening_balance: int
    closing_balance: int
    totals: Annotated[list[StatementTotal], Meta(max_length=64)]
    entries: Annotated[list[HistoryEntry], Meta(max_length=STATEMENT_PAGE_MAX)]
    next_after_id: int | None


class LimitValues(_Record, frozen=True):
    """Limits in force (null: none). Deposits and losses per UTC day, per 7 and 30 days."""

    daily_deposit_max: int | None = None
    weekly_deposit_max: int | None = None
    monthly_deposit_max: int | None = None
    daily_loss_max: int | None = None
    weekly_loss_max: int | None = None
    monthly_loss_max: int | None = None
    table_buy_in_max: int | None = None
    session_minutes_max: int | None = None


class PendingRaise(_Record, frozen=True):
    """A raise (or removal: ``value`` null) waiting its 24 hours."""

    limit: LimitName
    value: int | None
    effective_at_ms: int


class ExclusionState(_Record, frozen=True):
    kind: Literal["cool_off", "self_exclusion"]
    since_ms: int
    until_ms: int


class Totals(_Record, frozen=True):
    """What counts against the limits (real money): deposits requested, net loss (buy-ins
    and fees minus what came back), sent to other players."""

    deposited: int
    net_loss: int
    transferred: int


class Limits(_Message, tag="limits", frozen=True):
    """Reply to GetLimits, SetLimits and SelfExclude."""

    id: RequestId
    limits: LimitValues
    pending: Annotated[list[PendingRaise], Meta(max_length=LIMIT_CHANGES_MAX)]
    exclusion: ExclusionState | None
    today: Totals
    week: Totals  # the last 7 UTC days
    month: Totals  # the last 30 UTC days


# --- server -> client: pushes ----------------------------------------------------------------


class Notice(_Message, tag="notice", frozen=True):
    """A message for the player from the server or staff (maintenance, announcements)."""

    code: Annotated[str, Meta(max_length=64)]
    text: Annotated[str, Meta(max_length=NOTICE_TEXT_CHARS_MAX)]


class SessionState(_Message, tag="session_state", frozen=True):
    """After a resume: the tables the session sits at; their own state pushes follow. Also
    the first push after a login: the player's preferences (null for guests)."""

    table_ids: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=TABLE_IDS_MAX)]
    preferences: PreferencesView | None = None


PushBody = Notice | SessionState | GamePush | PlayerPush | TournamentPush


class Event(_Message, tag="event", frozen=True):
    """Envelope of every server push: ``seq`` orders them within the session."""

    seq: Seq
    body: PushBody


Reply = (
    Welcome
    | LoggedIn
    | Pong
    | Ok
    | Error
    | Balance
    | HistoryPage
    | TransferResult
    | Statement
    | Limits
    | DepositAddress
    | Withdrawal
    | WithdrawalPage
    | GameReply
    | HandReply
    | ClubReply
    | PlayerReply
    | TournamentReply
)
ServerMessage = Reply | Event
