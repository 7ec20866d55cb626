"""Wire messages of clubs and rakeback (docs/protocol.md, section "Clubs and rakeback").

Same conventions as protocol/messages.py: frozen Structs tagged by ``type``, strict about
unknown fields; requests carry ``id`` and are answered by a reply here, by
``protocol.messages.Ok``, or by ``Error`` with a club code of protocol/errors.py. The rules are
services/clubs.py's (docs/clubs.md): these are only their shapes on the wire.

Club tables: ``club_create_table`` opens a members-only cash table of the club (owner and
managers); the lobby's own messages (protocol/game.py) then list and seat them for members
only; ``club_close_table`` closes one. ``club_create_tournament`` creates a members-only
tournament of the club; protocol/tournaments.py's messages then list it (``club_id`` on its
line) and register for it, for members only.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from protocol.fields import Asset, RequestId
from protocol.game import TableStatus, VariantCode
from protocol.limits import CHIPS_MAX, POINTS_MAX, SEATS_MAX, SEATS_MIN, TABLE_NAME_CHARS_MAX

CLUB_NAME_CHARS_MAX: Final = 40
CLUB_DESCRIPTION_CHARS_MAX: Final = 500
CLUB_CODE_CHARS_MAX: Final = 12  # codes are 6 characters; a little room, then refused
CLUB_TABLE_ID_CHARS_MAX: Final = 64
CLUB_PAGE_MAX: Final = 200  # members, requests, invitations per reply
CLUB_TABLES_MAX: Final = 500  # tables listed per club
TIERS_MAX: Final = 20
STATEMENT_LINES_MAX: Final = 200
PERIOD_CHARS_MAX: Final = 15  # "week:2026-11-30"
TOURNAMENT_NAME_CHARS_MAX: Final = 100
PRESET_CHARS_MAX: Final = 40
TOURNAMENT_ENTRIES_MAX: Final = 10_000

Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]
Bp = Annotated[int, Meta(ge=0, le=10_000)]  # basis points: 10 000 = 100 %
Chips = Annotated[int, Meta(ge=0, le=2**63 - 1)]
JoinPolicy = Literal["open", "approval", "invitation"]
ClubRole = Literal["owner", "manager", "agent", "member"]
Period = Annotated[str, Meta(min_length=1, max_length=PERIOD_CHARS_MAX)]


class _ClubMessage(
    msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=True, kw_only=True
):
    """Base of every club message (the same settings as protocol.messages._Message)."""


class _Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A nested value inside a message (not tagged)."""


# --- records ---------------------------------------------------------------------------------


class ClubRecord(_Record, frozen=True):
    club_id: Id
    code: str
    name: str
    description: str
    join_policy: JoinPolicy
    members: int


class MemberRecord(_Record, frozen=True):
    club_id: Id
    player_id: Id
    role: ClubRole
    agent_id: Id | None  # the agent who brought her
    commission_bp: Bp  # an agent's commission rate
    joined_at_ms: int


class TierRecord(_Record, frozen=True):
    name: Annotated[str, Meta(min_length=1, max_length=40)]
    threshold_points: Annotated[int, Meta(ge=0, le=POINTS_MAX)]
    rakeback_bp: Bp


class AgentRate(_Record, frozen=True):
    agent_id: Id
    commission_bp: Bp


class InvitationRecord(_Record, frozen=True):
    club_id: Id
    player_id: Id
    invited_by: Id
    agent_id: Id | None
    created_at_ms: int


class JoinRequestRecord(_Record, frozen=True):
    club_id: Id
    player_id: Id
    agent_id: Id | None
    created_at_ms: int


class MyClubRecord(_Record, frozen=True):
    club: ClubRecord
    role: ClubRole
    agent_id: Id | None


class StatementLine(_Record, frozen=True):
    scope: str  # "house" or "club:<id>"
    period: str
    kind: Literal["rakeback", "commission"]
    rake_cash: Chips  # hers (rakeback) or her members' (commission)
    rake_tournament: Chips
    rate_bp: Bp
    accrued_cash: Chips
    accrued_tournament: Chips
    accrued: Chips
    paid: Chips  # accrued once its transfer is made, else 0
    transfer_id: int | None
    tier: int | None  # the tier paid (rakeback lines)


# --- client -> server: requests --------------------------------------------------------------


class ClubCreate(_ClubMessage, tag="club_create", frozen=True):
    id: RequestId
    name: Annotated[str, Meta(min_length=3, max_length=CLUB_NAME_CHARS_MAX)]
    description: Annotated[str, Meta(max_length=CLUB_DESCRIPTION_CHARS_MAX)] = ""
    join_policy: JoinPolicy = "approval"


class ClubFind(_ClubMessage, tag="club_find", frozen=True):
    """A club by its code (any case): what anyone who has the code sees."""

    id: RequestId
    code: Annotated[str, Meta(min_length=1, max_length=CLUB_CODE_CHARS_MAX)]


class ClubJoin(_ClubMessage, tag="club_join", frozen=True):
    """Join by code: at once (open), a join request (approval), or with an invitation."""

    id: RequestId
    code: Annotated[str, Meta(min_length=1, max_length=CLUB_CODE_CHARS_MAX)]
    agent_id: Id | None = None  # the agent who referred me


class ClubListMine(_ClubMessage, tag="club_list_mine", frozen=True):
    id: RequestId


class ClubGet(_ClubMessage, tag="club_get", frozen=True):
    id: RequestId
    club_id: Id


class ClubMembers(_ClubMessage, tag="club_members", frozen=True):
    id: RequestId
    club_id: Id
    after_player: Id | None = None
    limit: Annotated[int, Meta(ge=1, le=CLUB_PAGE_MAX)] = 50


class ClubInvite(_ClubMessage, tag="club_invite", frozen=True):
    id: RequestId
    club_id: Id
    player_id: Id


class ClubInvitations(_ClubMessage, tag="club_invitations", frozen=True):
    """Invitations waiting for my answer."""

    id: RequestId


class ClubAnswerInvitation(_ClubMessage, tag="club_answer_invitation", frozen=True):
    id: RequestId
    club_id: Id
    accept: bool


class ClubJoinRequests(_ClubMessage, tag="club_join_requests", frozen=True):
    id: RequestId
    club_id: Id


class ClubReviewRequest(_ClubMessage, tag="club_review_request", frozen=True):
    id: RequestId
    club_id: Id
    player_id: Id
    approve: bool


class ClubMemberAction(_ClubMessage, tag="club_member_action", frozen=True):
    """Remove a member, ban a player (she cannot rejoin), or lift a ban."""

    id: RequestId
    club_id: Id
    player_id: Id
    action: Literal["remove", "ban", "unban"]


class ClubSetRole(_ClubMessage, tag="club_set_role", frozen=True):
    id: RequestId
    club_id: Id
    player_id: Id
    role: Literal["manager", "agent", "member"]
    commission_bp: Bp = 0


class ClubSetAgent(_ClubMessage, tag="club_set_agent", frozen=True):
    id: RequestId
    club_id: Id
    player_id: Id
    agent_id: Id | None


class ClubLeave(_ClubMessage, tag="club_leave", frozen=True):
    id: RequestId
    club_id: Id


class ClubTransferOwnership(_ClubMessage, tag="club_transfer_ownership", frozen=True):
    id: RequestId
    club_id: Id
    player_id: Id


class ClubUpdate(_ClubMessage, tag="club_update", frozen=True):
    id: RequestId
    club_id: Id
    description: Annotated[str, Meta(max_length=CLUB_DESCRIPTION_CHARS_MAX)] | None = None
    join_policy: JoinPolicy | None = None


class ClubSetTiers(_ClubMessage, tag="club_set_tiers", frozen=True):
    """The members' tier table; ``tiers`` None: no member rakeback."""

    id: RequestId
    club_id: Id
    tiers: Annotated[list[TierRecord], Meta(min_length=1, max_length=TIERS_MAX)] | None
    points_per_chip_num: Annotated[int, Meta(ge=1, le=1_000)] = 1
    points_per_chip_den: Annotated[int, Meta(ge=1, le=1_000)] = 1


class ClubRegisterTable(_ClubMessage, tag="club_register_table", frozen=True):
    id: RequestId
    club_id: Id
    table_id: Annotated[str, Meta(min_length=1, max_length=CLUB_TABLE_ID_CHARS_MAX)]


class ClubCreateTable(_ClubMessage, tag="club_create_table", frozen=True):
    """Open a cash table only the club's members see and join (owner, manager). The server
    names it ``club<club id>-<6 characters>`` and registers it to the club (its rake is the
    club's); the house's rake rule applies. A 0 buy-in bound: 40 / 200 big blinds.
    Reply: ClubTableCreated."""

    id: RequestId
    club_id: Id
    name: Annotated[str, Meta(min_length=1, max_length=TABLE_NAME_CHARS_MAX)]
    variant: VariantCode
    small_blind: Annotated[int, Meta(ge=1, le=CHIPS_MAX)]
    big_blind: Annotated[int, Meta(ge=1, le=CHIPS_MAX)]
    seats: Annotated[int, Meta(ge=SEATS_MIN, le=SEATS_MAX)] = 6
    buy_in_min: Annotated[int, Meta(ge=0, le=CHIPS_MAX)] = 0
    buy_in_max: Annotated[int, Meta(ge=0, le=CHIPS_MAX)] = 0
    ante: Annotated[int, Meta(ge=0, le=CHIPS_MAX)] = 0
    asset: Asset = "chips"


class ClubCloseTable(_ClubMessage, tag="club_close_table", frozen=True):
    """Close one of the club's tables (owner, manager) as an operator does: no new seats at
    once, every player stood up and cashed out after the running hand. Audited.
    Reply: ClubTableClosed. Refused: not_club_member, club_permission_denied,
    invalid_club_input (a table the club did not open), no_such_table (not open)."""

    id: RequestId
    club_id: Id
    table_id: Annotated[str, Meta(min_length=1, max_length=CLUB_TABLE_ID_CHARS_MAX)]


class ClubCreateTournament(_ClubMessage, tag="club_create_tournament", frozen=True):
    """Create a tournament only the club's members see and register for (owner, manager),
    from a preset structure (docs/tournaments.md "Presets"). ``buy_in`` to the prize pool,
    ``fee`` to the house (the club's share of it is the club's, as rake of its tables); no
    guarantee. A sit-and-go starts when ``entries_max`` have registered, a multi-table one at
    ``starts_at_ms`` (null: when a director starts it). Reply: ClubTournamentCreated.
    Refused: not_club_member, club_permission_denied, club_limit_reached,
    structure_invalid, payout_invalid."""

    id: RequestId
    club_id: Id
    name: Annotated[str, Meta(min_length=1, max_length=TOURNAMENT_NAME_CHARS_MAX)]
    preset: Annotated[str, Meta(min_length=1, max_length=PRESET_CHARS_MAX)]
    kind: Literal["sng", "mtt"] = "mtt"
    asset: Asset = "chips"
    buy_in: Annotated[int, Meta(ge=0, le=CHIPS_MAX)] = 0
    fee: Annotated[int, Meta(ge=0, le=CHIPS_MAX)] = 0
    seats_per_table: Annotated[int, Meta(ge=SEATS_MIN, le=SEATS_MAX)] = 9
    entries_min: Annotated[int, Meta(ge=2, le=TOURNAMENT_ENTRIES_MAX)] = 2
    entries_max: Annotated[int, Meta(ge=2, le=TOURNAMENT_ENTRIES_MAX)] = 100
    starts_at_ms: Annotated[int, Meta(ge=0, le=2**62)] | None = None


class ClubStatsRequest(_ClubMessage, tag="club_stats", frozen=True):
    id: RequestId
    club_id: Id
    period: Period  # "day:YYYY-MM-DD" or "week:YYYY-MM-DD" (a Monday)


class RakebackStatementRequest(_ClubMessage, tag="rakeback_statement", frozen=True):
    id: RequestId
    limit: Annotated[int, Meta(ge=1, le=STATEMENT_LINES_MAX)] = 50


class RakebackTiersRequest(_ClubMessage, tag="rakeback_tiers", frozen=True):
    id: RequestId


ClubRequest = (
    ClubCreate
    | ClubFind
    | ClubJoin
    | ClubListMine
    | ClubGet
    | ClubMembers
    | ClubInvite
    | ClubInvitations
    | ClubAnswerInvitation
    | ClubJoinRequests
    | ClubReviewRequest
    | ClubMemberAction
    | ClubSetRole
    | ClubSetAgent
    | ClubLeave
    | ClubTransferOwnership
    | ClubUpdate
    | ClubSetTiers
    | ClubRegisterTable
    | ClubCreateTable
    | ClubCloseTable
    | ClubCreateTournament
    | ClubStatsRequest
    | RakebackStatementRequest
    | RakebackTiersRequest
)

# --- server -> client: replies ---------------------------------------------------------------


class ClubInfo(_ClubMessage, tag="club_info", frozen=True):
    """Reply to club_create, club_find, club_update, club_transfer_ownership."""

    id: RequestId
    club: ClubRecord


class ClubJoined(_ClubMessage, tag="club_joined", frozen=True):
    """Reply to club_join, club_answer_invitation (accepted) and club_review_request
    (approved): ``state`` "member", or "requested" (a manager approves it)."""

    id: RequestId
    state: Literal["member", "requested"]
    member: MemberRecord | None


class ClubList(_ClubMessage, tag="club_list", frozen=True):
    id: RequestId
    clubs: Annotated[list[MyClubRecord], Meta(max_length=50)]


class ClubDetail(_ClubMessage, tag="club_detail", frozen=True):
    """Reply to club_get and club_set_tiers: the club, its benefits and its tables."""

    id: RequestId
    club: ClubRecord
    rakeback_deal_bp: Bp  # the club's share of its tables' rake
    tiers: Annotated[list[TierRecord], Meta(max_length=TIERS_MAX)] | None
    points_per_chip_num: int
    points_per_chip_den: int
    agent_rates: Annotated[list[AgentRate], Meta(max_length=5_000)]
    tables: Annotated[list[str], Meta(max_length=CLUB_TABLES_MAX)]


class ClubMemberPage(_ClubMessage, tag="club_member_page", frozen=True):
    id: RequestId
    members: Annotated[list[MemberRecord], Meta(max_length=CLUB_PAGE_MAX)]


class ClubMember(_ClubMessage, tag="club_member", frozen=True):
    """Reply to club_set_role and club_set_agent."""

    id: RequestId
    member: MemberRecord


class ClubInvitationList(_ClubMessage, tag="club_invitation_list", frozen=True):
    id: RequestId
    invitations: Annotated[list[InvitationRecord], Meta(max_length=CLUB_PAGE_MAX)]


class ClubJoinRequestList(_ClubMessage, tag="club_join_request_list", frozen=True):
    id: RequestId
    requests: Annotated[list[JoinRequestRecord], Meta(max_length=CLUB_PAGE_MAX)]


class ClubTableCreated(_ClubMessage, tag="club_table_created", frozen=True):
    """Reply to club_create_table: the table is open (listed to the club's members)."""

    id: RequestId
    club_id: Id
    table_id: Annotated[str, Meta(min_length=1, max_length=CLUB_TABLE_ID_CHARS_MAX)]


class ClubTableClosed(_ClubMessage, tag="club_table_closed", frozen=True):
    """Reply to club_close_table: ``closing`` (a hand is running: it closes after it) or
    ``closed``."""

    id: RequestId
    club_id: Id
    table_id: Annotated[str, Meta(min_length=1, max_length=CLUB_TABLE_ID_CHARS_MAX)]
    status: TableStatus


class ClubTournamentCreated(_ClubMessage, tag="club_tournament_created", frozen=True):
    """Reply to club_create_tournament: it is registering, listed to the club's members."""

    id: RequestId
    club_id: Id
    tournament_id: Id


class ClubStats(_ClubMessage, tag="club_stats_reply", frozen=True):
    id: RequestId
    club_id: Id
    period: str
    members: int
    active_players: int
    hands: int
    rake: Chips
    rakeback_paid: Chips
    commission_paid: Chips


class RakebackStatement(_ClubMessage, tag="rakeback_statement_reply", frozen=True):
    """My rakeback and agent commission, newest period first."""

    id: RequestId
    lines: Annotated[list[StatementLine], Meta(max_length=STATEMENT_LINES_MAX)]


class RakebackTiers(_ClubMessage, tag="rakeback_tiers_reply", frozen=True):
    """The house's tier table, its points rate, the period and the attribution method."""

    id: RequestId
    tiers: Annotated[list[TierRecord], Meta(max_length=TIERS_MAX)]
    points_per_chip_num: int
    points_per_chip_den: int
    period: Literal["day", "week"]
    method: Literal["weighted", "dealt"]


ClubReply = (
    ClubInfo
    | ClubJoined
    | ClubList
    | ClubDetail
    | ClubMemberPage
    | ClubMember
    | ClubInvitationList
    | ClubJoinRequestList
    | ClubTableCreated
    | ClubTableClosed
    | ClubTournamentCreated
    | ClubStats
    | RakebackStatement
    | RakebackTiers
)
