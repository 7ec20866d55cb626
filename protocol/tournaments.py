"""Wire messages of tournaments (docs/game-protocol.md, section "Tournaments").

Same conventions as protocol/messages.py: frozen Structs tagged by ``type``, strict about
unknown fields; requests carry ``id`` and are answered by a reply here, by
``protocol.messages.Ok``, or by ``Error`` with a tournament code (protocol/errors.py).
Pushes are bodies in the session's ``event`` envelope. The rules are the tournament core's
(poker/tournament/, docs/tournaments.md) and the tournament actor's (actors/tournament.py):
these are only their shapes on the wire.

A player plays a tournament's hands with the ordinary table messages (protocol/game.py: the
table's snapshot, hand pushes, ``act``): the tournament seats her (``tournament_seated``)
and moves her (``tournament_moved``: the client follows to the new table without asking).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from protocol.fields import Asset, RequestId
from protocol.game import DISPLAY_NAME_CHARS_MAX
from protocol.limits import CHIPS_MAX, TABLE_ID_CHARS_MAX

TOURNAMENTS_LISTED_MAX: Final = 500
STANDINGS_PAGE_MAX: Final = 500
LEVELS_MAX: Final = 200
TABLES_MAX: Final = 10_000
PAYOUTS_MAX: Final = 100_000
DEAL_PLAYERS_MAX: Final = 10
NAME_CHARS_MAX: Final = 100

TournamentId = Annotated[int, Meta(ge=1, le=2**63 - 1)]
EntryNo = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Chips = Annotated[int, Meta(ge=0, le=CHIPS_MAX)]
SignedMs = Annotated[int, Meta(ge=-1, le=2**63 - 1)]
TableId = Annotated[str, Meta(min_length=1, max_length=TABLE_ID_CHARS_MAX)]
TournamentKind = Literal["sng", "mtt"]
TournamentState = Literal["registering", "running", "finished", "cancelled"]
EntryStatus = Literal["registered", "playing", "awaiting_rebuy", "out", "unregistered"]
DealKind = Literal["icm", "chip_chop"]
# balance: balancing (TDA 11A); break: the old table was broken (TDA 10B); director: moved
# by a director.
MoveReason = Literal["balance", "break", "director"]
PaymentKind = Literal["prize", "bounty", "deal", "refund"]


class _TournamentMessage(
    msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=True, kw_only=True
):
    """Base of every tournament message (the same settings as protocol.messages._Message)."""


class _Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A nested value inside a message (not tagged)."""


# --- records ---------------------------------------------------------------------------------


class TournamentLine(_Record, frozen=True):
    """A tournament's lobby line. ``buy_in`` goes to the prize pool, ``fee`` to the house,
    ``bounty`` on the player's head (an entry costs all three). ``prize_pool``: collected
    so far, or the guarantee when larger. ``level``: 1-based, 0 before the start."""

    tournament_id: TournamentId
    name: Annotated[str, Meta(max_length=NAME_CHARS_MAX)]
    kind: TournamentKind
    state: TournamentState
    asset: Asset
    buy_in: Chips
    fee: Chips
    bounty: Chips
    bounty_kind: Literal["none", "regular", "progressive"]
    guarantee: Chips
    entries: int
    players_left: int
    entries_max: int
    starts_at_ms: int | None
    prize_pool: Chips
    level: int
    # A club tournament's club (docs/clubs.md "Club tournaments": listed to its members
    # only); null: a public tournament.
    club_id: TournamentId | None = None


class LevelLine(_Record, frozen=True):
    level: int
    small_blind: Chips
    big_blind: Chips
    ante: Chips
    ante_mode: Literal["none", "each", "big_blind"]
    duration: int  # minutes or hands (the structure's ``unit``)


class TableLine(_Record, frozen=True):
    table_id: TableId
    players: int
    in_hand: bool


class StandingEntry(_Record, frozen=True):
    entry: EntryNo
    player_id: int
    status: EntryStatus
    stack: Chips
    table_id: TableId | None
    place: int  # 0: still in (or not yet placed)
    tied: int
    prize: Chips
    bounties: Chips
    head: Chips  # the bounty on this entry now
    # Her profile's display name (None: she has none; clients show the id).
    display_name: Annotated[str, Meta(max_length=DISPLAY_NAME_CHARS_MAX)] | None = None


class TournamentView(_Record, frozen=True):
    """Everything a lobby's detail page shows. ``payouts``: the prize of each place, final
    once ``prizes_final`` (before: as if registration closed now). ``level_remaining_ms``
    and ``next_break_in_ms``: -1 when there is no clock (hands structures, the last level,
    not started) or no break ahead."""

    line: TournamentLine
    structure: Annotated[str, Meta(max_length=NAME_CHARS_MAX)]
    unit: Literal["minutes", "hands"]
    starting_stack: Chips
    levels: Annotated[tuple[LevelLine, ...], Meta(max_length=LEVELS_MAX)]
    late_registration_levels: int
    entries_per_player_max: int
    payouts: Annotated[tuple[Chips, ...], Meta(max_length=PAYOUTS_MAX)]
    prizes_final: bool
    level: LevelLine | None
    on_break: bool
    clock_paused: bool
    level_remaining_ms: SignedMs
    next_break_in_ms: SignedMs
    average_stack: Chips
    players_left: int
    hand_for_hand: bool
    final_table: bool
    tables: Annotated[tuple[TableLine, ...], Meta(max_length=TABLES_MAX)]
    # The asking player's entries (empty when she has none) and whether she may register
    # (or re-enter) now.
    my_entries: Annotated[tuple[StandingEntry, ...], Meta(max_length=100)] = ()
    may_register: bool = False


# --- client -> server: requests --------------------------------------------------------------


class ListTournaments(_TournamentMessage, tag="list_tournaments", frozen=True):
    """The lobby's tournaments, newest first. Empty filters match everything; ``buy_in_min``
    and ``buy_in_max`` bound the whole price (buy-in + fee + bounty). Reply: TournamentList."""

    id: RequestId
    state: TournamentState | None = None
    kind: TournamentKind | None = None
    asset: Asset | None = None
    buy_in_min: Chips | None = None
    buy_in_max: Chips | None = None


class SubscribeTournaments(_TournamentMessage, tag="subscribe_tournaments", frozen=True):
    """As ListTournaments, then ``tournament_lobby_changed`` pushes for every change of a
    matching tournament until UnsubscribeTournaments (or the session ends). Reply:
    TournamentList. A new subscription replaces the old one. Refused: lobby_full."""

    id: RequestId
    state: TournamentState | None = None
    kind: TournamentKind | None = None
    asset: Asset | None = None
    buy_in_min: Chips | None = None
    buy_in_max: Chips | None = None


class UnsubscribeTournaments(_TournamentMessage, tag="unsubscribe_tournaments", frozen=True):
    """Reply: Ok."""

    id: RequestId


class GetTournament(_TournamentMessage, tag="get_tournament", frozen=True):
    """Reply: TournamentDetails. Refused: tournament_not_found."""

    id: RequestId
    tournament_id: TournamentId


class RegisterTournament(_TournamentMessage, tag="register_tournament", frozen=True):
    """Register; or, once the player's earlier entries are all out and late registration
    is open, re-enter (a new entry, a full stack, a new random seat). The buy-in, fee and
    bounty leave the wallet first. Reply: TournamentRegistered. Refused:
    tournament_not_found, registration_refused, same_address_in_tournament (another account
    still in this tournament connects from the same address), insufficient_funds,
    self_excluded, cooling_off, ..."""

    id: RequestId
    tournament_id: TournamentId


class UnregisterTournament(_TournamentMessage, tag="unregister_tournament", frozen=True):
    """Before the start only: everything paid comes back. Reply: Ok. Refused:
    tournament_not_found, not_registered, registration_refused (started)."""

    id: RequestId
    tournament_id: TournamentId


class TournamentRebuy(_TournamentMessage, tag="tournament_rebuy", frozen=True):
    """A rebuy (after ``tournament_rebuy_offered``, or between hands with a short stack
    while rebuys are open). Reply: Ok. Refused: not_registered, rebuy_refused,
    insufficient_funds."""

    id: RequestId
    tournament_id: TournamentId


class DeclineTournamentRebuy(_TournamentMessage, tag="decline_tournament_rebuy", frozen=True):
    """No rebuy: the entry is out (``tournament_eliminated`` follows). Reply: Ok."""

    id: RequestId
    tournament_id: TournamentId


class TournamentAddOn(_TournamentMessage, tag="tournament_add_on", frozen=True):
    """The add-on, during the first break. Reply: Ok. Refused: addon_refused."""

    id: RequestId
    tournament_id: TournamentId


class GetTournamentStandings(_TournamentMessage, tag="get_tournament_standings", frozen=True):
    """Players still in by stack, then the placed by place. Reply: TournamentStandings."""

    id: RequestId
    tournament_id: TournamentId
    offset: Annotated[int, Meta(ge=0, le=100_000)] = 0
    limit: Annotated[int, Meta(ge=1, le=STANDINGS_PAGE_MAX)] = 100


class ProposeTournamentDeal(_TournamentMessage, tag="propose_tournament_deal", frozen=True):
    """At the final table once the prizes are final, between hands: propose a deal
    (``keep`` chips of what is left stay to be played for). Every remaining player gets
    ``tournament_deal_proposed``; the proposer's yes is counted. Reply: Ok. Refused:
    deal_refused (not the final table, a deal already proposed, keep too large...)."""

    id: RequestId
    tournament_id: TournamentId
    kind: DealKind
    keep: Chips = 0


class VoteTournamentDeal(_TournamentMessage, tag="vote_tournament_deal", frozen=True):
    """Yes or no to the deal proposed (``deal_id`` of the proposal). Reply: Ok. Refused:
    no_deal_proposed (none, or another id)."""

    id: RequestId
    tournament_id: TournamentId
    deal_id: Annotated[int, Meta(ge=1, le=2**31 - 1)]
    accept: bool


TournamentRequest = (
    ListTournaments
    | SubscribeTournaments
    | UnsubscribeTournaments
    | GetTournament
    | RegisterTournament
    | UnregisterTournament
    | TournamentRebuy
    | DeclineTournamentRebuy
    | TournamentAddOn
    | GetTournamentStandings
    | ProposeTournamentDeal
    | VoteTournamentDeal
)

# --- server -> client: replies ---------------------------------------------------------------


class TournamentList(_TournamentMessage, tag="tournament_list", frozen=True):
    id: RequestId
    tournaments: Annotated[tuple[TournamentLine, ...], Meta(max_length=TOURNAMENTS_LISTED_MAX)]


class TournamentDetails(_TournamentMessage, tag="tournament_details", frozen=True):
    id: RequestId
    tournament: TournamentView


class TournamentRegistered(_TournamentMessage, tag="tournament_registered", frozen=True):
    """``table_id``: a late entry's table (``tournament_seated`` follows); null before the
    start."""

    id: RequestId
    tournament_id: TournamentId
    entry: EntryNo
    reentry: bool
    table_id: TableId | None = None


class TournamentStandings(_TournamentMessage, tag="tournament_standings", frozen=True):
    id: RequestId
    tournament_id: TournamentId
    total: int
    standings: Annotated[tuple[StandingEntry, ...], Meta(max_length=STANDINGS_PAGE_MAX)]


TournamentReply = TournamentList | TournamentDetails | TournamentRegistered | TournamentStandings

# --- server -> client: pushes ----------------------------------------------------------------


class TournamentLobbyChanged(_TournamentMessage, tag="tournament_lobby_changed", frozen=True):
    """A subscribed tournament's lobby line changed (also: a new one appeared)."""

    tournament: TournamentLine


class TournamentLobbyRemoved(_TournamentMessage, tag="tournament_lobby_removed", frozen=True):
    """A club tournament left the subscriber's lobby: she is no longer a member of its club
    (left, removed, banned)."""

    tournament_id: TournamentId


class TournamentStateChanged(_TournamentMessage, tag="tournament_state_changed", frozen=True):
    """To every entrant still registered or in: the tournament started, a level or a break
    began or ended, hand-for-hand began or ended, the final table formed, the clock was
    paused or resumed, it finished or was cancelled. ``event`` says which; the other fields
    are the state after it."""

    tournament_id: TournamentId
    event: Literal[
        "started",
        "level",
        "break_started",
        "break_ended",
        "registration_closed",
        "prizes_set",
        "hand_for_hand_started",
        "hand_for_hand_ended",
        "final_table",
        "clock_paused",
        "clock_resumed",
        "finished",
        "cancelled",
    ]
    state: TournamentState
    level: LevelLine | None
    on_break: bool
    level_remaining_ms: SignedMs
    players_left: int
    prize_pool: Chips


class TournamentSeated(_TournamentMessage, tag="tournament_seated", frozen=True):
    """The player's entry has a seat (at the start, a late entry, or again after a server
    restart): the table's own ``table_snapshot`` reaches her just before it."""

    tournament_id: TournamentId
    entry: EntryNo
    table_id: TableId
    seat: int
    stack: Chips


class TournamentMoved(_TournamentMessage, tag="tournament_moved", frozen=True):
    """The player was moved between hands (balancing, a table broken, or a director): she
    now sits at ``table_id``, ``seat``, with the same ``stack``; the old table has let her
    go. The client follows without asking (the new table's ``table_snapshot`` reaches her
    just before it; its hands come after)."""

    tournament_id: TournamentId
    entry: EntryNo
    from_table_id: TableId
    table_id: TableId
    seat: int
    stack: Chips
    reason: MoveReason


class TournamentRebuyOffered(_TournamentMessage, tag="tournament_rebuy_offered", frozen=True):
    """Busted while rebuys are open: ``tournament_rebuy`` within ``expires_in_ms``, or the
    entry is out."""

    tournament_id: TournamentId
    entry: EntryNo
    chips: Chips
    price: Chips
    fee: Chips
    expires_in_ms: int


class TournamentEliminated(_TournamentMessage, tag="tournament_eliminated", frozen=True):
    """The entry is out (its place follows in ``tournament_placed`` once it is decided:
    at once, or when the prizes are final; a director's removal with a refund takes no
    place). ``may_reenter``: late registration is open."""

    tournament_id: TournamentId
    entry: EntryNo
    may_reenter: bool


class TournamentPlaced(_TournamentMessage, tag="tournament_placed", frozen=True):
    """The entry finished ``place`` (shared with ``tied`` - 1 others); ``prize`` (0 out of
    the money) is paid at once (``tournament_paid``)."""

    tournament_id: TournamentId
    entry: EntryNo
    place: int
    tied: int
    prize: Chips


class TournamentPaid(_TournamentMessage, tag="tournament_paid", frozen=True):
    """Chips reached the player's wallet: a prize, a bounty (``knocked_out``: whose), deal
    money, or a refund (a cancel or a director's removal)."""

    tournament_id: TournamentId
    entry: EntryNo
    kind: PaymentKind
    amount: Chips
    asset: Asset
    knocked_out: EntryNo | None = None


class TournamentDealProposed(_TournamentMessage, tag="tournament_deal_proposed", frozen=True):
    """A deal is on the table: what each remaining entry would get. ``accepted``: who said
    yes so far. Sent again after each yes."""

    tournament_id: TournamentId
    deal_id: Annotated[int, Meta(ge=1, le=2**31 - 1)]
    kind: DealKind
    keep: Chips
    entries: Annotated[tuple[EntryNo, ...], Meta(max_length=DEAL_PLAYERS_MAX)]
    amounts: Annotated[tuple[Chips, ...], Meta(max_length=DEAL_PLAYERS_MAX)]
    accepted: Annotated[tuple[EntryNo, ...], Meta(max_length=DEAL_PLAYERS_MAX)]
    expires_in_ms: int


class TournamentDealDecided(_TournamentMessage, tag="tournament_deal_decided", frozen=True):
    """The deal was made (``made``; payments follow) or dropped (a no, or time ran out)."""

    tournament_id: TournamentId
    deal_id: Annotated[int, Meta(ge=1, le=2**31 - 1)]
    made: bool


TournamentPush = (
    TournamentLobbyChanged
    | TournamentLobbyRemoved
    | TournamentStateChanged
    | TournamentSeated
    | TournamentMoved
    | TournamentRebuyOffered
    | TournamentEliminated
    | TournamentPlaced
    | TournamentPaid
    | TournamentDealProposed
    | TournamentDealDecided
)

# Error codes a tournament request may get in protocol.messages.Error (also in
# protocol/errors.py ErrorCode; the wallet's codes pass through unchanged).
TOURNAMENT_ERROR_CODES: Final = (
    "tournament_not_found",
    "tournaments_unavailable",
    "not_registered",
    "tournament_not_running",
    "registration_refused",
    "same_address_in_tournament",
    "rebuy_refused",
    "addon_refused",
    "deal_refused",
    "no_deal_proposed",
    "table_refused",
    "structure_invalid",
    "payout_invalid",
)
