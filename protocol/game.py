"""Wire messages of cash games: the lobby, tables, hands and spectators.

Same conventions as protocol/messages.py (docs/game-protocol.md is the reader's version):
frozen Structs tagged by ``type``, strict about unknown fields; requests carry ``id`` and are
answered by a reply here or by ``protocol.messages.Ok`` / ``Error``; pushes are bodies that the
gateway wraps in its ``Event`` envelope (``seq``). To be wired: the requests join
``protocol.messages.Request``, the replies ``ServerMessage``, the pushes ``PushBody``.

Visibility: :class:`HoleCards` goes to its owner only; everything else about a hand goes to
every seated player and spectator. Cards are text codes (``"As"``). Chips are integers.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from protocol.fields import Asset, RequestId
from protocol.limits import (
    CHIPS_MAX,
    RAKE_BP_MAX,
    SEATS_MAX,
    TABLE_ID_CHARS_MAX,
    TABLE_NAME_CHARS_MAX,
)

TABLES_LISTED_MAX: Final = 500  # a listing is cut to this many tables (the lobby's bound)
POTS_MAX: Final = 10  # one main pot and at most one side pot per all-in player
CARDS_MAX: Final = 5  # hole cards (Omaha: 4) and board cards per message
AWARDS_MAX: Final = 40  # pots x runs x hi/lo halves x tied winners, bounded by seats

TableId = Annotated[str, Meta(min_length=1, max_length=TABLE_ID_CHARS_MAX)]
Chips = Annotated[int, Meta(ge=0, le=CHIPS_MAX)]
SeatNo = Annotated[int, Meta(ge=0, lt=SEATS_MAX)]
HandNo = Annotated[int, Meta(ge=1, le=2**63 - 1)]
DecisionId = Annotated[int, Meta(ge=1, le=2**63 - 1)]
ClubId = Annotated[int, Meta(ge=1, le=2**63 - 1)]
TimeMs = Annotated[int, Meta(ge=0, le=2**63 - 1)]
PlayerId = Annotated[int, Meta(ge=0, le=2**63 - 1)]
CardCode = Annotated[str, Meta(min_length=2, max_length=2)]
Cards = Annotated[tuple[CardCode, ...], Meta(max_length=CARDS_MAX)]
VariantCode = Literal["NT", "FT", "PO", "PT", "PO/8"]
ActKind = Literal["fold", "check_or_call", "bet_or_raise_to", "show", "muck", "run_it_twice"]
SeatState = Literal["playing", "sitting_out", "waiting_big_blind", "leaving"]
# Provably fair deals (docs/fairness.md): lowercase hex. A commitment or server seed is 32
# bytes; a client seed 1..64 bytes (poker/fairness.py CLIENT_SEED_BYTES_MAX).
Hex32 = Annotated[str, Meta(pattern="^[0-9a-f]{64}$")]
HexSeed = Annotated[str, Meta(pattern="^([0-9a-f]{2}){1,64}$")]
FairScheme = Literal["tablium-fair-v1"]


class _GameMessage(
    msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=True, kw_only=True
):
    """Base of every game message (the same settings as protocol.messages._Message)."""


class _Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A nested value inside a message (not tagged)."""


# --- records ---------------------------------------------------------------------------------


class TableListing(_Record, frozen=True):
    """One table in the lobby. ``average_pot`` and ``hands_per_hour`` cover the last hour.
    The stakes and rake are the ones its hands are played with: ``small_bet`` / ``big_bet``
    are the fixed limit bet sizes (before / from the turn; None in other games); the rake is
    ``rake_bp`` basis points of each pot, at most ``rake_cap`` chips a hand (0: no cap), none
    from a hand that ends before the flop when ``rake_no_flop_no_drop``."""

    table_id: TableId
    name: Annotated[str, Meta(max_length=TABLE_NAME_CHARS_MAX)]
    variant: VariantCode
    small_blind: Chips
    big_blind: Chips
    buy_in_min: Chips
    buy_in_max: Chips
    seats_total: Annotated[int, Meta(ge=2, le=SEATS_MAX)]
    seats_taken: Annotated[int, Meta(ge=0, le=SEATS_MAX)]
    waiting: Annotated[int, Meta(ge=0)]
    average_pot: Chips
    hands_per_hour: Annotated[int, Meta(ge=0)]
    small_bet: Chips | None = None
    big_bet: Chips | None = None
    rake_bp: Annotated[int, Meta(ge=0, le=RAKE_BP_MAX)] = 0
    rake_cap: Chips = 0
    rake_no_flop_no_drop: bool = True
    asset: Asset = "chips"  # "play": a play-money table
    # The club whose members alone see and join it (docs/clubs.md); None: a public table.
    club_id: ClubId | None = None


class LobbyFilter(_Record, frozen=True):
    """Empty fields match everything."""

    variant: VariantCode | None = None
    big_blind: Chips | None = None
    asset: Asset | None = None


DISPLAY_NAME_CHARS_MAX: Final = 64  # a profile's display name, or a login name without one


class SeatView(_Record, frozen=True):
    """``display_name``: the player's as it was when she sat down (docs/players.md), at a
    tournament's table as the tournament last seated her; None: she has none."""

    seat: SeatNo
    player_id: PlayerId
    stack: Chips
    state: SeatState
    connected: bool = True
    in_hand: bool = False
    display_name: Annotated[str, Meta(max_length=DISPLAY_NAME_CHARS_MAX)] | None = None


class ClientSeed(_Record, frozen=True):
    """The client seed a seat's deal used (its player's, or a default the server drew)."""

    seat: SeatNo
    seed: HexSeed


class PotView(_Record, frozen=True):
    amount: Chips
    eligible: Annotated[tuple[SeatNo, ...], Meta(max_length=SEATS_MAX)]


class Legal(_Record, frozen=True):
    """What the player to act may do. ``None``: not allowed. Amounts as in docs/poker-engine.md:
    ``call`` is the chips a call adds; ``*_raise_to`` bound the street total of a raise."""

    fold: bool = False
    check: bool = False
    call: Chips | None = None
    min_raise_to: Chips | None = None
    max_raise_to: Chips | None = None
    show: bool = False
    muck: bool = False
    run_it_twice: bool = False


# --- client -> server: requests --------------------------------------------------------------


class ListTables(_GameMessage, tag="list_tables", frozen=True):
    id: RequestId
    filter: LobbyFilter = LobbyFilter()


class SubscribeLobby(_GameMessage, tag="subscribe_lobby", frozen=True):
    """Reply: TableList now; then LobbyTableChanged / LobbyTableRemoved pushes."""

    id: RequestId
    filter: LobbyFilter = LobbyFilter()


class UnsubscribeLobby(_GameMessage, tag="unsubscribe_lobby", frozen=True):
    id: RequestId


class QuickSeat(_GameMessage, tag="quick_seat", frozen=True):
    """Seat me at any table of this game, stakes and asset (real money unless ``play``); the
    lobby opens a table when all are full. ``club_id``: only that club's tables (members
    only: ``not_club_member``; a club's tables are opened by its managers, so when all are
    full the answer is ``table_full``); None: only public tables. Reply: Seated."""

    id: RequestId
    variant: VariantCode
    big_blind: Chips
    buy_in: Chips
    asset: Asset = "chips"
    club_id: ClubId | None = None


class JoinTable(_GameMessage, tag="join_table", frozen=True):
    """Sit down with ``buy_in`` from the wallet. ``seat`` None: any free seat.
    ``post_to_enter``: post a big blind to be dealt in before the big blind reaches me."""

    id: RequestId
    table_id: TableId
    buy_in: Chips
    seat: SeatNo | None = None
    post_to_enter: bool = False


class JoinWaitList(_GameMessage, tag="join_wait_list", frozen=True):
    id: RequestId
    table_id: TableId


class LeaveWaitList(_GameMessage, tag="leave_wait_list", frozen=True):
    id: RequestId
    table_id: TableId


class TopUp(_GameMessage, tag="top_up", frozen=True):
    """Add chips from the wallet; during a hand they arrive when it ends."""

    id: RequestId
    table_id: TableId
    amount: Chips


class SitOut(_GameMessage, tag="sit_out", frozen=True):
    id: RequestId
    table_id: TableId


class PostMissedBlinds(_GameMessage, tag="post_missed_blinds", frozen=True):
    """Sit in and post what I owe to be dealt in the next hand."""

    id: RequestId
    table_id: TableId


class WaitForBigBlind(_GameMessage, tag="wait_for_big_blind", frozen=True):
    """Sit in and wait for the big blind to reach me (nothing owed is posted)."""

    id: RequestId
    table_id: TableId


class LeaveTable(_GameMessage, tag="leave_table", frozen=True):
    """Stand up and cash out (after the current hand when I am in it). Reply: LeftTable."""

    id: RequestId
    table_id: TableId


class Watch(_GameMessage, tag="watch", frozen=True):
    """Spectate. Reply: Ok, then a TableSnapshot push and the table's public pushes."""

    id: RequestId
    table_id: TableId


class Unwatch(_GameMessage, tag="unwatch", frozen=True):
    id: RequestId
    table_id: TableId


class Act(_GameMessage, tag="act", frozen=True):
    """A decision in hand ``hand_number``. ``decision_id``: the ``action_required`` this
    answers; an answer to one that is no longer current is refused (``stale_decision``) and
    never applied to a later one. Optional for version 1 clients: without it the act goes to
    the current decision. ``amount``: bet_or_raise_to only (the street total); ``agree``:
    run_it_twice only."""

    id: RequestId
    table_id: TableId
    hand_number: HandNo
    action: ActKind
    amount: Chips = 0
    agree: bool = False
    decision_id: DecisionId | None = None


class SetClientSeed(_GameMessage, tag="set_client_seed", frozen=True):
    """My entropy for the deals at this table (docs/fairness.md): 1..64 bytes as hex. It
    applies from the next hand dealt after the reply (a hand already dealt keeps the seeds it
    was dealt with) until I send another or leave the seat. Reply: Ok; ``not_seated``."""

    id: RequestId
    table_id: TableId
    seed: HexSeed


GameRequest = (
    ListTables
    | SubscribeLobby
    | UnsubscribeLobby
    | QuickSeat
    | JoinTable
    | JoinWaitList
    | LeaveWaitList
    | TopUp
    | SitOut
    | PostMissedBlinds
    | WaitForBigBlind
    | LeaveTable
    | Watch
    | Unwatch
    | Act
    | SetClientSeed
)

# --- server -> client: replies ---------------------------------------------------------------


class TableList(_GameMessage, tag="table_list", frozen=True):
    id: RequestId
    tables: Annotated[tuple[TableListing, ...], Meta(max_length=TABLES_LISTED_MAX)]


class Seated(_GameMessage, tag="seated", frozen=True):
    """Reply to JoinTable and QuickSeat: where I sit and with how much."""

    id: RequestId
    table_id: TableId
    seat: SeatNo
    stack: Chips


class LeftTable(_GameMessage, tag="left_table", frozen=True):
    """Reply to LeaveTable. ``cashed_out`` None: I am in a hand; the cash-out follows it
    (a SeatChanged push with no player tells when)."""

    id: RequestId
    table_id: TableId
    cashed_out: Chips | None


GameReply = TableList | Seated | LeftTable

# --- server -> client: pushes ----------------------------------------------------------------


class LobbyTableChanged(_GameMessage, tag="lobby_table_changed", frozen=True):
    listing: TableListing


class LobbyTableRemoved(_GameMessage, tag="lobby_table_removed", frozen=True):
    table_id: TableId


class TableSnapshot(_GameMessage, tag="table_snapshot", frozen=True):
    """The whole public state of a table (on Watch, on sitting down, on reconnect).
    ``hole_cards``: the receiver's own, when they are in the running hand."""

    table_id: TableId
    listing: TableListing
    seats: Annotated[tuple[SeatView, ...], Meta(max_length=SEATS_MAX)]
    button: SeatNo | None
    hand_number: int  # 0: no hand running
    board: Cards = ()
    pots: Annotated[tuple[PotView, ...], Meta(max_length=POTS_MAX)] = ()
    bets: Annotated[tuple[tuple[SeatNo, Chips], ...], Meta(max_length=SEATS_MAX)] = ()
    hole_cards: Cards = ()
    to_act: SeatNo | None = None
    # The commitment to the server seed of the next hand (``deal_commitment``'s), for a
    # player who arrives between hands; None while none is drawn (a table that cannot deal).
    next_commitment: Hex32 | None = None


class SeatChanged(_GameMessage, tag="seat_changed", frozen=True):
    """``view`` None: the seat is now empty."""

    table_id: TableId
    seat: SeatNo
    view: SeatView | None


class SeatAvailable(_GameMessage, tag="seat_available", frozen=True):
    """To the first player on the wait list: a seat is free; JoinTable to take it."""

    table_id: TableId
    seat: SeatNo


class DealCommitment(_GameMessage, tag="deal_commitment", frozen=True):
    """The commitment to the secret server seed that will deal hand ``hand_number``: sent
    to everyone at the table when the seed is drawn (the table opens, a hand ends), before
    that hand's ``hand_started``. Send ``set_client_seed`` after it: the server chose its
    seed before it knew yours."""

    table_id: TableId
    hand_number: HandNo
    commitment: Hex32
    scheme: FairScheme = "tablium-fair-v1"


class HandStarted(_GameMessage, tag="hand_started", frozen=True):
    """``commitment``: SHA-256 commitment to the server seed this hand is dealt with (the
    ``deal_commitment`` announced for it); a table always sends it (None only from a server
    that deals no verifiable deck)."""

    table_id: TableId
    hand_number: HandNo
    button: SeatNo
    seats: Annotated[tuple[SeatNo, ...], Meta(max_length=SEATS_MAX)]  # dealing order
    stacks: Annotated[tuple[Chips, ...], Meta(max_length=SEATS_MAX)]
    small_blind_seat: SeatNo | None
    big_blind_seat: SeatNo
    commitment: Hex32 | None = None


class BlindPosted(_GameMessage, tag="blind_posted", frozen=True):
    """``kind``: small, big, straddle, posted_big, dead_small, ante."""

    table_id: TableId
    hand_number: HandNo
    seat: SeatNo
    kind: Literal["small", "big", "straddle", "posted_big", "dead_small", "ante"]
    amount: Chips
    all_in: bool


class HoleCards(_GameMessage, tag="hole_cards", frozen=True):
    """Private: sent to the owner of ``seat`` only."""

    table_id: TableId
    hand_number: HandNo
    seat: SeatNo
    cards: Cards


class ActionRequired(_GameMessage, tag="action_required", frozen=True):
    """``seat`` must decide within ``act_within_ms``, then its ``time_bank_ms`` runs; then
    the table checks, folds, shows (showdown) or declines to run it twice for them. Both are
    what is left when this was sent (a prompt sent again after a resume carries less), and
    ``deadline_ms`` is when the table acts for them, in server time (ms since the Unix
    epoch). ``decision_id`` names this decision within the hand: ``act`` echoes it, and a
    prompt sent again carries the same one."""

    table_id: TableId
    hand_number: HandNo
    seat: SeatNo
    legal: Legal
    act_within_ms: Annotated[int, Meta(ge=0)]
    time_bank_ms: Annotated[int, Meta(ge=0)]
    decision_id: DecisionId
    deadline_ms: TimeMs


class TimeBankStarted(_GameMessage, tag="time_bank_started", frozen=True):
    table_id: TableId
    hand_number: HandNo
    seat: SeatNo
    time_bank_ms: Annotated[int, Meta(ge=0)]


class ActionTaken(_GameMessage, tag="action_taken", frozen=True):
    """``amount``: chips moved by this action; ``bet_to``: the street total after it.
    ``timed_out``: the table acted for a player whose time ran out."""

    table_id: TableId
    hand_number: HandNo
    seat: SeatNo
    action: Literal["fold", "check", "call", "bet", "raise"]
    amount: Chips
    bet_to: Chips
    all_in: bool
    timed_out: bool = False


class UncalledBetReturned(_GameMessage, tag="uncalled_bet_returned", frozen=True):
    table_id: TableId
    hand_number: HandNo
    seat: SeatNo
    amount: Chips


class BoardDealt(_GameMessage, tag="board_dealt", frozen=True):
    """Only the new cards; ``run`` 1 is the second board of a run it twice."""

    table_id: TableId
    hand_number: HandNo
    street: Literal["flop", "turn", "river"]
    cards: Cards
    run: Annotated[int, Meta(ge=0, le=1)] = 0


class PotsChanged(_GameMessage, tag="pots_changed", frozen=True):
    table_id: TableId
    hand_number: HandNo
    pots: Annotated[tuple[PotView, ...], Meta(max_length=POTS_MAX)]


class RunItTwiceOffered(_GameMessage, tag="run_it_twice_offered", frozen=True):
    table_id: TableId
    hand_number: HandNo
    seats: Annotated[tuple[SeatNo, ...], Meta(max_length=SEATS_MAX)]


class RunItTwiceDecided(_GameMessage, tag="run_it_twice_decided", frozen=True):
    table_id: TableId
    hand_number: HandNo
    runs: Annotated[int, Meta(ge=1, le=2)]


class Showdown(_GameMessage, tag="showdown", frozen=True):
    """A hand turned face up (``cards``) or mucked (``cards`` empty, ``mucked`` true)."""

    table_id: TableId
    hand_number: HandNo
    seat: SeatNo
    cards: Cards
    mucked: bool = False


class PotAwarded(_GameMessage, tag="pot_awarded", frozen=True):
    table_id: TableId
    hand_number: HandNo
    pot_index: Annotated[int, Meta(ge=0, lt=POTS_MAX)]
    run: Annotated[int, Meta(ge=0, le=1)]
    share: Literal["whole", "high", "low"]
    seat: SeatNo
    amount: Chips
    hand: Annotated[str, Meta(max_length=64)]


class HandEnded(_GameMessage, tag="hand_ended", frozen=True):
    """The reveal (docs/fairness.md): ``server_seed`` (hashes to ``hand_started``'s
    commitment) and the client seed of every seat dealt in, by seat; with them and the hand
    id ``"{table_id}:{hand_number}"`` the deck is recomputed. None / empty only from a server
    that deals no verifiable deck."""

    table_id: TableId
    hand_number: HandNo
    seats: Annotated[tuple[SeatNo, ...], Meta(max_length=SEATS_MAX)]
    stacks: Annotated[tuple[Chips, ...], Meta(max_length=SEATS_MAX)]
    rake: Chips
    server_seed: Hex32 | None = None
    client_seeds: Annotated[tuple[ClientSeed, ...], Meta(max_length=SEATS_MAX)] = ()


class HandVoided(_GameMessage, tag="hand_voided", frozen=True):
    """The hand could not go on (the table restarted): every stack is back to what it was
    when the hand started; nothing was won or lost. No reveal: its server seed was lost with
    the table's memory (docs/fairness.md); the next hand has a fresh ``deal_commitment``."""

    table_id: TableId
    hand_number: HandNo
    seats: Annotated[tuple[SeatNo, ...], Meta(max_length=SEATS_MAX)]
    stacks: Annotated[tuple[Chips, ...], Meta(max_length=SEATS_MAX)]


TableStatus = Literal["open", "paused", "closing", "closed"]


class TableStatusChanged(_GameMessage, tag="table_status_changed", frozen=True):
    """An operator paused, resumed or closed the table. ``paused``: no new hand starts (the
    running one finishes). ``closing``: when the running hand ends every player is stood up
    and cashed out; ``closed``: done, the table is gone (``lobby_table_removed`` follows)."""

    table_id: TableId
    status: TableStatus


GamePush = (
    LobbyTableChanged
    | LobbyTableRemoved
    | TableSnapshot
    | SeatChanged
    | SeatAvailable
    | DealCommitment
    | HandStarted
    | BlindPosted
    | HoleCards
    | ActionRequired
    | TimeBankStarted
    | ActionTaken
    | UncalledBetReturned
    | BoardDealt
    | PotsChanged
    | RunItTwiceOffered
    | RunItTwiceDecided
    | Showdown
    | PotAwarded
    | HandEnded
    | HandVoided
    | TableStatusChanged
)

# Error codes a game request may get in protocol.messages.Error (stable; the wallet's own
# codes, e.g. insufficient_funds or limit_exceeded, pass through unchanged).
GAME_ERROR_CODES: Final = (
    "no_such_table",
    "no_such_game",
    "seat_taken",
    "table_full",
    "already_seated",
    "not_seated",
    "not_in_hand",
    "buy_in_out_of_range",
    "top_up_out_of_range",
    "no_chips",
    "wait_list_full",
    "watchers_full",
    "lobby_full",
    "too_many_tables",  # a new table would pass the 2,000 one process runs (limits.TABLES_OPEN_MAX)
    "no_hand_running",
    "wrong_hand",
    "not_your_turn",
    "illegal_action",
    "hand_restarting",
    "stale_decision",  # act named a decision that is no longer current: nothing applied
    "table_closing",  # an operator is closing the table: no new seats
    "table_exists",  # an operator opened a table under an id in use
    "not_a_cash_table",  # a tournament's table: its tournament seats the players, no buy-in
    "unavailable",  # the lobby or table could not answer (restarting): retry
    # Table rules against abuse (poker/integrity/table_rules.py; docs/integrity.md):
    "rathole_buy_in_too_small",  # back within the window: buy in for the stack you left with
    "same_address_at_table",  # another player at the table connects from your address
    # Provably fair deals (poker/fairness.py; docs/fairness.md):
    "fairness_input_invalid",  # a client seed outside 1..64 bytes: the seed in force stays
    # The engine's refusals of an act (poker/errors.py), passed through unchanged:
    "illegal_action",
    "not_your_turn",
    "wrong_phase",
    "hand_not_started",
    "hand_already_started",
    "hand_is_over",
    "unknown_seat",
    "cannot_fold",
    "cannot_raise",
    "cannot_muck",
    "amount_too_small",
    "amount_too_large",
    "amount_not_allowed",
    "already_decided",
)
