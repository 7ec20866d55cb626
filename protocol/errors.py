"""Stable error codes, close codes, and the typed errors of the wire protocol.

Error codes are part of the public protocol (docs/protocol.md lists each one): client authors
switch on them, so a code is never renamed or reused. They travel as plain strings so that an
older client can still read a newer server's codes.
"""

from __future__ import annotations

import enum
from typing import Final, final


@final
class ErrorCode(enum.StrEnum):
    # The frame itself: nothing inside it was acted upon.
    MALFORMED_FRAME = "malformed_frame"  # unreadable, not a map, or the other encoding's frame
    FRAME_TOO_LARGE = "frame_too_large"  # over FRAME_BYTES_MAX (bigger frames close 1009)
    NESTING_TOO_DEEP = "nesting_too_deep"  # over NESTING_DEPTH_MAX or ITEMS_MAX
    UNKNOWN_TYPE = "unknown_type"  # the "type" tag names no message of this version
    INVALID_MESSAGE = "invalid_message"  # a known type with missing, extra or bad fields
    # The session.
    WRONG_PHASE = "wrong_phase"  # a valid message not allowed in the session's phase
    VERSION_UNSUPPORTED = "version_unsupported"
    RATE_LIMITED = "rate_limited"
    NOT_AUTHENTICATED = "not_authenticated"
    # Accounts and tokens.
    BAD_CREDENTIALS = "bad_credentials"
    NAME_TAKEN = "name_taken"
    INVALID_NAME = "invalid_name"
    WEAK_PASSWORD = "weak_password"
    ACCOUNT_BANNED = "account_banned"
    LOGIN_THROTTLED = "login_throttled"  # too many failed logins (name or address): wait
    REGISTRATION_LIMITED = "registration_limited"  # too many registrations from this address
    GUEST_LOGIN_DISABLED = "guest_login_disabled"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_INVALID = "token_invalid"
    # Wallet (the same codes as services.ledger's WalletError subclasses).
    WALLET_UNAVAILABLE = "wallet_unavailable"  # guests and token-only players have no wallet
    INSUFFICIENT_FUNDS = "insufficient_funds"
    LIMIT_EXCEEDED = "limit_exceeded"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    TRANSFER_NOT_ALLOWED = "transfer_not_allowed"
    INVALID_AMOUNT = "invalid_amount"
    UNKNOWN_PLAYER = "unknown_player"
    UNKNOWN_TRANSFER = "unknown_transfer"
    TRANSFER_NOT_PENDING = "transfer_not_pending"
    WRONG_ASSET = "wrong_asset"  # play money and real money never meet
    TRANSFER_TO_SELF = "transfer_to_self"  # a transfer names its own sender
    TRANSFERS_DISABLED = "transfers_disabled"  # the operator has not enabled them
    TRANSFER_LIMIT_EXCEEDED = "transfer_limit_exceeded"  # the operator's per-day limit
    SELF_EXCLUDED = "self_excluded"  # no real-money deposits, buy-ins or entries
    COOLING_OFF = "cooling_off"  # the same, for a cool-off
    LIMIT_RAISE_PENDING = "limit_raise_pending"  # another raise waits its 24 hours
    EXCLUSION_CANNOT_BE_SHORTENED = "exclusion_cannot_be_shortened"  # only extended
    INVALID_EXCLUSION = "invalid_exclusion"  # a length outside its bounds
    SESSION_TIME_LIMIT_REACHED = "session_time_limit_reached"  # the player's own limit
    REFILL_TOO_EARLY = "refill_too_early"  # retry_after_ms says when
    REFILL_NOT_NEEDED = "refill_not_needed"  # the play balance is not below the threshold
    PLAY_MONEY_DISABLED = "play_money_disabled"  # the operator gives no refills
    INVALID_PERIOD = "invalid_period"  # a statement's period: empty, reversed or over a year
    # The blockchain cashier (docs/chain.md): wallet_deposit, wallet_withdraw, get_withdrawal.
    CASHIER_UNAVAILABLE = "cashier_unavailable"  # this server has no cashier configured
    UNKNOWN_CHAIN = "unknown_chain"  # a chain_id this server has no cashier on
    INVALID_ADDRESS = "invalid_address"  # not 0x + 40 hex, a bad checksum, or the zero address
    WITHDRAWAL_REFUSED = "withdrawal_refused"  # a retried request the ledger refused at first
    UNKNOWN_WITHDRAWAL = "unknown_withdrawal"  # no withdrawal of that id is this player's
    # Staff's (the admin API's approve and reject); listed because the cashier's codes are one
    # list: a player's request never gets it.
    WITHDRAWAL_NOT_AWAITING_APPROVAL = "withdrawal_not_awaiting_approval"
    # Games. The lobby's and tables' own refusal codes are protocol/game.py GAME_ERROR_CODES
    # (one list, kept by the game's authors); the gateway passes them through.
    ACCOUNT_REQUIRED = "account_required"  # guests and token-only players cannot play
    GAMES_UNAVAILABLE = "games_unavailable"  # this server runs no tables
    # Hand histories (protocol/hands.py).
    UNKNOWN_HAND = "unknown_hand"  # the player was dealt into no hand with this id
    HAND_TOO_LARGE = "hand_too_large"  # the history is over HISTORY_CHARS_MAX; use the API
    # Clubs and rakeback (services/club_rules.py, services/rakeback.py; docs/clubs.md).
    CLUB_NOT_FOUND = "club_not_found"  # no club with this id or code
    NOT_CLUB_MEMBER = "not_club_member"  # the acting player is not a member
    CLUB_PERMISSION_DENIED = "club_permission_denied"  # the permission table refuses it
    CLUB_MEMBER_NOT_FOUND = "club_member_not_found"  # the target is not a member
    ALREADY_CLUB_MEMBER = "already_club_member"  # joining or inviting a member
    BANNED_FROM_CLUB = "banned_from_club"  # a banned player joins, asks or is invited
    CLUB_INVITATION_REQUIRED = "club_invitation_required"  # a club by invitation only
    CLUB_NO_INVITATION = "club_no_invitation"  # answering an invitation that does not exist
    CLUB_NO_JOIN_REQUEST = "club_no_join_request"  # reviewing a request that does not exist
    CLUB_OWNER_CANNOT_LEAVE = "club_owner_cannot_leave"  # transfer ownership first
    CLUB_NAME_TAKEN = "club_name_taken"  # another club has this name (ignoring case)
    CLUB_LIMIT_REACHED = "club_limit_reached"  # clubs per player, members per club
    INVALID_CLUB_INPUT = "invalid_club_input"  # out of bounds, or benefits above the deal
    # Players (profiles, preferences, leaderboards: docs/players.md). Nothing is changed.
    DISPLAY_NAME_INVALID = "display_name_invalid"  # length or characters
    DISPLAY_NAME_OFFENSIVE = "display_name_offensive"  # on the bundled deny-list
    DISPLAY_NAME_TAKEN = "display_name_taken"  # another player's display or login name
    DISPLAY_NAME_CHANGE_TOO_SOON = "display_name_change_too_soon"  # once per 30 days
    AVATAR_INVALID = "avatar_invalid"  # not a bundled avatar nor an https URL
    COUNTRY_INVALID = "country_invalid"  # not ISO 3166-1 alpha-2
    BIO_TOO_LONG = "bio_too_long"  # over 280 characters
    BIO_INVALID = "bio_invalid"  # control characters or over 5 lines
    UNKNOWN_PREFERENCE = "unknown_preference"  # no preference has this key
    INVALID_PREFERENCE = "invalid_preference"  # a value the preference does not take
    UNKNOWN_LEADERBOARD = "unknown_leaderboard"  # not xp, points or net:<asset>:<game>:<stake>
    UNKNOWN_PERIOD = "unknown_period"  # not daily, weekly or monthly
    # Tournaments (protocol/tournaments.py, docs/tournaments.md). Nothing is changed.
    TOURNAMENT_NOT_FOUND = "tournament_not_found"  # no tournament with this id
    TOURNAMENTS_UNAVAILABLE = "tournaments_unavailable"  # none here, or no answer in time: retry
    NOT_REGISTERED = "not_registered"  # the player has no entry in this tournament
    TOURNAMENT_NOT_RUNNING = "tournament_not_running"  # finished, cancelled, or not started
    REGISTRATION_REFUSED = "registration_refused"  # closed, full, already in, entries used up
    # Another account still in this tournament registered from the same client address.
    SAME_ADDRESS_IN_TOURNAMENT = "same_address_in_tournament"
    REBUY_REFUSED = "rebuy_refused"  # rebuys closed, stack too big, in a hand, at the limit
    ADDON_REFUSED = "addon_refused"  # not the first break, or taken already
    DEAL_REFUSED = "deal_refused"  # not the final table, not between hands, prizes not final
    NO_DEAL_PROPOSED = "no_deal_proposed"  # voting on no deal, or on an older one
    TABLE_REFUSED = "table_refused"  # a director's move or break the tables do not allow
    STRUCTURE_INVALID = "structure_invalid"  # a director's structure cannot be run
    PAYOUT_INVALID = "payout_invalid"  # a director's payout settings cannot be paid
    # Resume: the events between the client's last seq and the replay buffer are gone.
    REPLAY_GAP = "replay_gap"
    # Our fault, not the client's: retry later.
    SERVER_BUSY = "server_busy"
    INTERNAL_ERROR = "internal_error"


ERROR_CODE_VALUES: Final = frozenset(code.value for code in ErrorCode)


@final
class CloseCode(enum.IntEnum):
    """Websocket close codes the server uses (4000-4999 is the application range)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down
    MESSAGE_TOO_BIG = 1009  # a frame over FRAME_BYTES_HARD_MAX; closed by the websocket layer
    INTERNAL_ERROR = 1011  # our bug ended this connection (the session actor crashed)
    AUTH_TIMEOUT = 4001  # no successful login within the auth timeout
    SESSION_REPLACED = 4002  # the same session resumed on another connection
    SLOW_CONSUMER = 4003  # the outbound queue was full: the client does not read
    HEARTBEAT_TIMEOUT = 4004  # no pong within the heartbeat timeout
    LOGGED_OUT = 4005  # after a logout reply
    ACCOUNT_BANNED = 4006  # staff banned the account: every session of it ends at once


class RemoteProtocolError(Exception):
    """The peer sent something the protocol does not allow: it gets an error frame, and the
    session's state does not change."""

    def __init__(self, code: ErrorCode, message: str, request_id: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id
