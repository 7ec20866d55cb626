"""Clubs and my rakeback over HTTP: the same services as the websocket's club messages
(services/clubs.py, services/rakeback.py). Only translation: every rule (the permission table,
bans, limits, benefits within the deal) is the services'; a refusal keeps its code."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta

from actors.club_tables import ClubTableSpec
from actors.club_tournaments import ClubTournamentSpec
from actors.table.messages import GameRefused
from actors.tournament_messages import TournamentRefusal
from api.problems import PROBLEMS, ApiProblem
from api.routes.common import EXAMPLE_TIME_MS, NO_NUL, RowId
from api.routing import Call, Reply, RouteTable
from persistence.clubs import CLUB_PAGE_MAX, Invitation, JoinRequest, Member
from persistence.rakeback import STATEMENT_PERIODS_MAX
from protocol.limits import CHIPS_MAX, SEATS_MAX, SEATS_MIN, TABLE_NAME_CHARS_MAX
from rakeback.periods import PERIOD_ID_CHARS_MAX, InvalidPeriodId, parse_period
from rakeback.tiers import InvalidTiers, Tier, TierTable
from server.rakeback_settings import rakeback_policy_of
from services.api_keys import Scope
from services.club_rules import ClubError
from services.clubs import (
    CLUB_DESCRIPTION_CHARS_MAX,
    CLUB_NAME_CHARS,
    TABLE_ID_CHARS_MAX,
    Benefits,
    ClubInfo,
    Clubs,
    ClubStats,
    MyClub,
)
from services.rakeback import Rakeback, StatementLine
from services.wallet import Wallet

routes = RouteTable()
Bp = Annotated[int, Meta(ge=0, le=10_000)]
CLUB_PARAM: Final = {"club_id": RowId}
MEMBER_PARAMS: Final = {"club_id": RowId, "player_id": RowId}
ACTING: Final = ("not_club_member", "club_permission_denied", "club_not_found")
ON_MEMBER: Final = (*ACTING, "club_member_not_found")


def _clubs(call: Call) -> Clubs:
    return Clubs(call.context.store)


def _refused(exc: ClubError) -> ApiProblem:
    return ApiProblem(exc.code if exc.code in PROBLEMS else "invalid_club_input", str(exc))


async def _do(awaitable: Any) -> Any:
    try:
        return await awaitable
    except ClubError as exc:
        raise _refused(exc) from None


class CreateClub(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=CLUB_NAME_CHARS[0], max_length=CLUB_NAME_CHARS[1],
                              pattern=NO_NUL)]  # fmt: skip
    description: Annotated[str, Meta(max_length=CLUB_DESCRIPTION_CHARS_MAX, pattern=NO_NUL)] = ""
    join_policy: Literal["open", "approval", "invitation"] = "approval"


class JoinClub(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: Annotated[str, Meta(min_length=1, max_length=12, pattern="^[A-Za-z0-9]+$")]
    agent_id: RowId | None = None  # the agent who referred me


class JoinOutcome(msgspec.Struct, frozen=True):
    state: Literal["member", "requested"]  # requested: a manager approves it
    member: Member | None


class InviteRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    player_id: RowId


class RoleRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: Literal["manager", "agent", "member"]
    commission_bp: Bp = 0  # an agent's commission rate


class AgentRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    agent_id: RowId | None


class OwnerRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    player_id: RowId


class SettingsRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    description: Annotated[str, Meta(max_length=CLUB_DESCRIPTION_CHARS_MAX,
                                     pattern=NO_NUL)] | None = None  # fmt: skip
    join_policy: Literal["open", "approval", "invitation"] | None = None


class TiersRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    tiers: Annotated[list[Tier], Meta(max_length=20)] | None  # null: no member rakeback
    points_per_chip_num: Annotated[int, Meta(ge=1, le=1_000)] = 1
    points_per_chip_den: Annotated[int, Meta(ge=1, le=1_000)] = 1


class TableRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    table_id: Annotated[str, Meta(min_length=1, max_length=TABLE_ID_CHARS_MAX, pattern=NO_NUL)]


class OpenTableRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A club table's game (the websocket's club_create_table, docs/clubs.md)."""

    name: Annotated[str, Meta(min_length=1, max_length=TABLE_NAME_CHARS_MAX, pattern=NO_NUL)]
    variant: Literal["NT", "FT", "PO", "PT", "PO/8"]
    small_blind: Annotated[int, Meta(ge=1, le=CHIPS_MAX)]
    big_blind: Annotated[int, Meta(ge=1, le=CHIPS_MAX)]
    seats: Annotated[int, Meta(ge=SEATS_MIN, le=SEATS_MAX)] = 6
    buy_in_min: Annotated[int, Meta(ge=0, le=CHIPS_MAX)] = 0  # 0: 40 big blinds
    buy_in_max: Annotated[int, Meta(ge=0, le=CHIPS_MAX)] = 0  # 0: 200 big blinds
    ante: Annotated[int, Meta(ge=0, le=CHIPS_MAX)] = 0
    asset: Literal["chips", "play"] = "chips"


class OpenedTable(msgspec.Struct, frozen=True):
    club_id: int
    table_id: str  # club<club id>-<6 characters>


class ClosedTable(msgspec.Struct, frozen=True):
    club_id: int
    table_id: str
    status: Literal["closing", "closed"]  # closing: after the running hand


class CreateTournamentRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A club tournament (the websocket's club_create_tournament, docs/clubs.md)."""

    name: Annotated[str, Meta(min_length=1, max_length=100, pattern=NO_NUL)]
    preset: Annotated[str, Meta(min_length=1, max_length=40, pattern=NO_NUL)]
    kind: Literal["sng", "mtt"] = "mtt"
    asset: Literal["chips", "play"] = "chips"
    buy_in: Annotated[int, Meta(ge=0, le=CHIPS_MAX)] = 0
    fee: Annotated[int, Meta(ge=0, le=CHIPS_MAX)] = 0
    seats_per_table: Annotated[int, Meta(ge=SEATS_MIN, le=SEATS_MAX)] = 9
    entries_min: Annotated[int, Meta(ge=2, le=10_000)] = 2
    entries_max: Annotated[int, Meta(ge=2, le=10_000)] = 100
    starts_at_ms: Annotated[int, Meta(ge=0, le=2**62)] | None = None


class CreatedTournament(msgspec.Struct, frozen=True):
    club_id: int
    tournament_id: int


class MembersQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    after_player: RowId | None = None
    limit: Annotated[int, Meta(ge=1, le=CLUB_PAGE_MAX)] = 50


class PeriodQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    period: Annotated[str, Meta(min_length=1, max_length=PERIOD_ID_CHARS_MAX)]


class RakebackStatementQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    limit: Annotated[int, Meta(ge=1, le=STATEMENT_PERIODS_MAX)] = 50


class ClubDetail(msgspec.Struct, frozen=True):
    club: ClubInfo
    benefits: Benefits
    tables: list[str]


class MyClubs(msgspec.Struct, frozen=True):
    data: list[MyClub]


class Members(msgspec.Struct, frozen=True):
    data: list[Member]


class Invitations(msgspec.Struct, frozen=True):
    data: list[Invitation]


class JoinRequests(msgspec.Struct, frozen=True):
    data: list[JoinRequest]


class Statement(msgspec.Struct, frozen=True):
    data: list[StatementLine]  # newest period first


class TierView(msgspec.Struct, frozen=True):
    tiers: list[Tier]
    points_per_chip_num: int
    points_per_chip_den: int
    period: str  # "day" or "week"
    method: str  # "weighted" or "dealt"


INFO: Final = ClubInfo(7, "K7QF2M", "Night Owls", "late games", "approval", 12)
MEMBER: Final = Member(7, 43, "member", 44, 0, EXAMPLE_TIME_MS)
TIER: Final = Tier("Regular", 150, 2_500)
BENEFITS: Final = Benefits(7, 5_000, [Tier("Base", 0, 1_000), TIER], (1, 1), {44: 3_000})


def _ex(value: Any) -> Any:
    return msgspec.to_builtins(value)


@routes.operation(
    operation_id="listMyClubs", method="GET", path="/v1/clubs",
    summary="The clubs I belong to, with my role and my agent", tag="clubs",
    response=MyClubs, example=_ex(MyClubs([MyClub(INFO, "member", 44)])),
    scope=Scope.CLUBS_READ, personal=True,
)  # fmt: skip
async def my_clubs(call: Call) -> Reply:
    return Reply(MyClubs(await _clubs(call).my_clubs(call.player_id)))


@routes.operation(
    operation_id="createClub", method="POST", path="/v1/clubs",
    summary="Create a club; I am its owner", tag="clubs", response=ClubInfo,
    example=_ex(INFO), status=201, scope=Scope.CLUBS_WRITE, personal=True, body=CreateClub,
    body_example={"name": "Night Owls", "description": "late games", "join_policy": "approval"},
    idempotent=True, errors=("club_name_taken", "club_limit_reached", "invalid_club_input"),
)  # fmt: skip
async def create_club(call: Call) -> Reply:
    body: CreateClub = call.body
    info = await _do(_clubs(call).create(call.player_id, body.name, body.description,
                                         body.join_policy))  # fmt: skip
    return Reply(info, status=201, headers={"Location": f"/v1/clubs/{info.club_id}"})


@routes.operation(
    operation_id="findClub", method="GET", path="/v1/clubs/by-code/{code}",
    summary="A club by its code: what anyone who has the code sees", tag="clubs",
    response=ClubInfo, example=_ex(INFO), scope=Scope.CLUBS_READ, personal=True,
    path_params={"code": Annotated[str, Meta(min_length=1, max_length=12)]},
    errors=("club_not_found",),
)  # fmt: skip
async def find_club(call: Call) -> Reply:
    return Reply(await _do(_clubs(call).find(call.path["code"])))


@routes.operation(
    operation_id="joinClub", method="POST", path="/v1/clubs/join",
    summary="Join by code: at once (open), as a request (approval), or with my invitation",
    tag="clubs", response=JoinOutcome, example=_ex(JoinOutcome("member", MEMBER)),
    scope=Scope.CLUBS_WRITE, personal=True, body=JoinClub,
    body_example={"code": "K7QF2M", "agent_id": 44},
    errors=("club_not_found", "already_club_member", "banned_from_club",
            "club_invitation_required", "club_limit_reached", "invalid_club_input"),
)  # fmt: skip
async def join_club(call: Call) -> Reply:
    body: JoinClub = call.body
    member = await _do(_clubs(call).join(call.player_id, body.code, body.agent_id))
    return Reply(JoinOutcome("requested" if member is None else "member", member))


@routes.operation(
    operation_id="listMyInvitations", method="GET", path="/v1/clubs/invitations",
    summary="Invitations waiting for my answer", tag="clubs", response=Invitations,
    example=_ex(Invitations([Invitation(7, 43, 44, 44, EXAMPLE_TIME_MS)])),
    scope=Scope.CLUBS_READ, personal=True,
)  # fmt: skip
async def my_invitations(call: Call) -> Reply:
    return Reply(Invitations(await _clubs(call).invitations(call.player_id)))


@routes.operation(
    operation_id="getClub", method="GET", path="/v1/clubs/{club_id}",
    summary="A club of mine: its details, benefits (deal, tiers, agents' rates) and tables",
    tag="clubs", response=ClubDetail, example=_ex(ClubDetail(INFO, BENEFITS, ["club7-a1b2c3"])),
    scope=Scope.CLUBS_READ, personal=True, path_params=CLUB_PARAM, errors=ACTING,
)  # fmt: skip
async def get_club(call: Call) -> Reply:
    clubs, club_id, me = _clubs(call), call.path["club_id"], call.player_id
    info = await _do(clubs.club(me, club_id))
    return Reply(ClubDetail(info, await _do(clubs.benefits(me, club_id)),
                            await _do(clubs.tables(me, club_id))))  # fmt: skip


@routes.operation(
    operation_id="listClubMembers", method="GET", path="/v1/clubs/{club_id}/members",
    summary="Members (owners and managers: all; an agent: the ones she brought)",
    tag="clubs", response=Members, example=_ex(Members([MEMBER])), scope=Scope.CLUBS_READ,
    personal=True, path_params=CLUB_PARAM, query=MembersQuery, errors=ACTING,
)  # fmt: skip
async def list_members(call: Call) -> Reply:
    q: MembersQuery = call.query
    found = await _do(_clubs(call).members(call.player_id, call.path["club_id"],
                                           q.after_player, q.limit))  # fmt: skip
    return Reply(Members(found))


@routes.operation(
    operation_id="getClubStats", method="GET", path="/v1/clubs/{club_id}/stats",
    summary="Members, active players, hands, rake, rakeback and commission paid in a period",
    tag="clubs", response=ClubStats,
    example=_ex(ClubStats(7, "week:2026-11-30", 12, 9, 840, 6_120, 910, 420)),
    scope=Scope.CLUBS_READ, personal=True, path_params=CLUB_PARAM, query=PeriodQuery,
    errors=(*ACTING, "invalid_period"),
)  # fmt: skip
async def club_stats(call: Call) -> Reply:
    q: PeriodQuery = call.query
    try:
        period = parse_period(q.period)
    except InvalidPeriodId as exc:
        raise ApiProblem("invalid_period", str(exc)) from None
    return Reply(await _do(_clubs(call).stats(call.player_id, call.path["club_id"], period)))


@routes.operation(
    operation_id="inviteToClub", method="POST", path="/v1/clubs/{club_id}/invitations",
    summary="Invite a player (an agent's invitation makes her the player's agent)",
    tag="clubs", response=Invitation, example=_ex(Invitation(7, 43, 44, 44, EXAMPLE_TIME_MS)),
    scope=Scope.CLUBS_WRITE, personal=True, path_params=CLUB_PARAM, body=InviteRequest,
    body_example={"player_id": 43}, errors=(*ACTING, "already_club_member", "banned_from_club"),
)  # fmt: skip
async def invite(call: Call) -> Reply:
    body: InviteRequest = call.body
    return Reply(await _do(_clubs(call).invite(call.player_id, call.path["club_id"],
                                               body.player_id)))  # fmt: skip


@routes.operation(
    operation_id="acceptClubInvitation", method="POST",
    path="/v1/clubs/{club_id}/invitations/accept", summary="Accept my invitation: I am a member",
    tag="clubs", response=Member, example=_ex(MEMBER), scope=Scope.CLUBS_WRITE, personal=True,
    path_params=CLUB_PARAM,
    errors=("club_no_invitation", "already_club_member", "banned_from_club",
            "club_limit_reached"),
)  # fmt: skip
async def accept_invitation(call: Call) -> Reply:
    return Reply(await _do(_clubs(call).accept_invitation(call.player_id, call.path["club_id"])))


@routes.operation(
    operation_id="declineClubInvitation", method="POST",
    path="/v1/clubs/{club_id}/invitations/decline", summary="Decline my invitation",
    tag="clubs", response=None, example=None, status=204, scope=Scope.CLUBS_WRITE,
    personal=True, path_params=CLUB_PARAM, errors=("club_no_invitation",),
)  # fmt: skip
async def decline_invitation(call: Call) -> Reply:
    await _do(_clubs(call).decline_invitation(call.player_id, call.path["club_id"]))
    return Reply(None, status=204)


@routes.operation(
    operation_id="listJoinRequests", method="GET", path="/v1/clubs/{club_id}/requests",
    summary="Join requests waiting for a manager, oldest first", tag="clubs",
    response=JoinRequests, example=_ex(JoinRequests([JoinRequest(7, 45, None, EXAMPLE_TIME_MS)])),
    scope=Scope.CLUBS_READ, personal=True, path_params=CLUB_PARAM, errors=ACTING,
)  # fmt: skip
async def join_requests(call: Call) -> Reply:
    found = await _do(_clubs(call).join_requests(call.player_id, call.path["club_id"]))
    return Reply(JoinRequests(found))


async def _review(call: Call, approve: bool) -> Reply:
    member = await _do(_clubs(call).review_request(
        call.player_id, call.path["club_id"], call.path["player_id"], approve))  # fmt: skip
    return Reply(JoinOutcome("member", member)) if approve else Reply(None, status=204)


@routes.operation(
    operation_id="approveJoinRequest", method="POST",
    path="/v1/clubs/{club_id}/requests/{player_id}/approve",
    summary="Approve a join request: the player is a member", tag="clubs",
    response=JoinOutcome, example=_ex(JoinOutcome("member", MEMBER)), scope=Scope.CLUBS_WRITE,
    personal=True, path_params=MEMBER_PARAMS,
    errors=(*ACTING, "club_no_join_request", "banned_from_club", "club_limit_reached"),
)  # fmt: skip
async def approve(call: Call) -> Reply:
    return await _review(call, True)


@routes.operation(
    operation_id="rejectJoinRequest", method="POST",
    path="/v1/clubs/{club_id}/requests/{player_id}/reject", summary="Reject a join request",
    tag="clubs", response=None, example=None, status=204, scope=Scope.CLUBS_WRITE,
    personal=True, path_params=MEMBER_PARAMS, errors=(*ACTING, "club_no_join_request"),
)  # fmt: skip
async def reject(call: Call) -> Reply:
    return await _review(call, False)


def _member_action(op_id: str, action: str, summary: str) -> None:
    @routes.operation(
        operation_id=op_id, method="POST",
        path=f"/v1/clubs/{{club_id}}/members/{{player_id}}/{action}", summary=summary,
        tag="clubs", response=None, example=None, status=204, scope=Scope.CLUBS_WRITE,
        personal=True, path_params=MEMBER_PARAMS, errors=ON_MEMBER,
    )  # fmt: skip
    async def handler(call: Call) -> Reply:
        clubs, args = _clubs(call), (call.player_id, call.path["club_id"], call.path["player_id"])
        if action == "remove":
            await _do(clubs.remove(*args))
        elif action == "ban":
            await _do(clubs.ban(*args))
        else:
            await _do(clubs.unban(*args))
        return Reply(None, status=204)


_member_action("removeClubMember", "remove", "Remove a member (she may join again)")
_member_action("banClubMember", "ban", "Ban a player: out of the club, and she cannot rejoin")
_member_action("unbanClubMember", "unban", "Lift a ban")


@routes.operation(
    operation_id="setClubRole", method="POST", path="/v1/clubs/{club_id}/members/{player_id}/role",
    summary="Make a member a manager, an agent (with her commission rate) or a member",
    tag="clubs", response=Member, example=_ex(MEMBER), scope=Scope.CLUBS_WRITE, personal=True,
    path_params=MEMBER_PARAMS, body=RoleRequest,
    body_example={"role": "agent", "commission_bp": 3000},
    errors=(*ON_MEMBER, "invalid_club_input"),
)  # fmt: skip
async def set_role(call: Call) -> Reply:
    body: RoleRequest = call.body
    return Reply(await _do(_clubs(call).set_role(
        call.player_id, call.path["club_id"], call.path["player_id"], body.role,
        body.commission_bp)))  # fmt: skip


@routes.operation(
    operation_id="setClubAgent", method="POST",
    path="/v1/clubs/{club_id}/members/{player_id}/agent", summary="Set or clear a member's agent",
    tag="clubs", response=Member, example=_ex(MEMBER), scope=Scope.CLUBS_WRITE, personal=True,
    path_params=MEMBER_PARAMS, body=AgentRequest, body_example={"agent_id": 44},
    errors=(*ON_MEMBER, "invalid_club_input"),
)  # fmt: skip
async def set_agent(call: Call) -> Reply:
    body: AgentRequest = call.body
    return Reply(await _do(_clubs(call).set_agent(
        call.player_id, call.path["club_id"], call.path["player_id"], body.agent_id)))  # fmt: skip


@routes.operation(
    operation_id="leaveClub", method="POST", path="/v1/clubs/{club_id}/leave",
    summary="Leave the club (an owner transfers ownership first)", tag="clubs", response=None,
    example=None, status=204, scope=Scope.CLUBS_WRITE, personal=True, path_params=CLUB_PARAM,
    errors=(*ACTING, "club_owner_cannot_leave"),
)  # fmt: skip
async def leave(call: Call) -> Reply:
    await _do(_clubs(call).leave(call.player_id, call.path["club_id"]))
    return Reply(None, status=204)


@routes.operation(
    operation_id="transferClubOwnership", method="POST", path="/v1/clubs/{club_id}/owner",
    summary="Make another member the owner; I become a manager", tag="clubs",
    response=ClubInfo, example=_ex(INFO), scope=Scope.CLUBS_WRITE, personal=True,
    path_params=CLUB_PARAM, body=OwnerRequest, body_example={"player_id": 43},
    errors=(*ON_MEMBER, "invalid_club_input"),
)  # fmt: skip
async def transfer_ownership(call: Call) -> Reply:
    body: OwnerRequest = call.body
    return Reply(await _do(_clubs(call).transfer_ownership(
        call.player_id, call.path["club_id"], body.player_id)))  # fmt: skip


@routes.operation(
    operation_id="updateClub", method="POST", path="/v1/clubs/{club_id}/settings",
    summary="Change the description or the join policy", tag="clubs", response=ClubInfo,
    example=_ex(INFO), scope=Scope.CLUBS_WRITE, personal=True, path_params=CLUB_PARAM,
    body=SettingsRequest, body_example={"join_policy": "open"},
    errors=(*ACTING, "invalid_club_input"),
)  # fmt: skip
async def update_club(call: Call) -> Reply:
    body: SettingsRequest = call.body
    return Reply(await _do(_clubs(call).update(
        call.player_id, call.path["club_id"], description=body.description,
        join_policy=body.join_policy)))  # fmt: skip


@routes.operation(
    operation_id="setClubTiers", method="POST", path="/v1/clubs/{club_id}/tiers",
    summary="The members' tier table (none: no member rakeback); never above the deal",
    tag="clubs", response=Benefits, example=_ex(BENEFITS), scope=Scope.CLUBS_WRITE,
    personal=True, path_params=CLUB_PARAM, body=TiersRequest,
    body_example={"tiers": [{"name": "Base", "threshold_points": 0, "rakeback_bp": 1000}]},
    errors=(*ACTING, "invalid_club_input"),
)  # fmt: skip
async def set_tiers(call: Call) -> Reply:
    body: TiersRequest = call.body
    table = None
    if body.tiers is not None:
        try:
            table = TierTable(tuple(body.tiers), body.points_per_chip_num, body.points_per_chip_den)
        except InvalidTiers as exc:
            raise ApiProblem("invalid_club_input", str(exc)) from None
    return Reply(await _do(_clubs(call).set_tiers(call.player_id, call.path["club_id"], table)))


@routes.operation(
    operation_id="registerClubTable", method="POST", path="/v1/clubs/{club_id}/tables",
    summary="A table id of the club's own namespace (club<club id>-...) belongs to the club"
    " from now on: its rake is the club's", tag="clubs",
    response=None, example=None, status=204, scope=Scope.CLUBS_WRITE, personal=True,
    path_params=CLUB_PARAM, body=TableRequest, body_example={"table_id": "club7-a1b2c3"},
    errors=(*ACTING, "invalid_club_input"),
)  # fmt: skip
async def register_table(call: Call) -> Reply:
    body: TableRequest = call.body
    await _do(_clubs(call).register_table(call.player_id, call.path["club_id"], body.table_id))
    return Reply(None, status=204)


@routes.operation(
    operation_id="openClubTable", method="POST", path="/v1/clubs/{club_id}/tables/open",
    summary="Open a cash table only the club's members see and join (owner, managers)",
    tag="clubs", response=OpenedTable, example=_ex(OpenedTable(7, "club7-k2m9qa")),
    status=201, scope=Scope.CLUBS_WRITE, personal=True, path_params=CLUB_PARAM,
    body=OpenTableRequest, idempotent=True,
    body_example={"name": "Owls NL 1/2", "variant": "NT", "small_blind": 1, "big_blind": 2},
    errors=(*ACTING, "invalid_club_input", "club_limit_reached", "server_busy", "unavailable"),
)  # fmt: skip
async def open_table(call: Call) -> Reply:
    body: OpenTableRequest = call.body
    tables = call.context.club_tables
    if tables is None:
        raise ApiProblem("unavailable", "this server runs no tables")
    spec = msgspec.convert(msgspec.to_builtins(body), ClubTableSpec)
    try:
        config = await _do(tables.create(call.player_id, call.path["club_id"], spec))
    except GameRefused as exc:  # the lobby could not open it (too many tables, restarting)
        code = "unavailable" if exc.code == "unavailable" else "server_busy"
        raise ApiProblem(code, str(exc)) from None
    location = f"/v1/clubs/{config.club_id}"
    return Reply(OpenedTable(call.path["club_id"], config.table_id), status=201,
                 headers={"Location": location})  # fmt: skip


@routes.operation(
    operation_id="closeClubTable", method="POST", path="/v1/clubs/{club_id}/tables/close",
    summary="Close a club table: players cashed out after the hand (owner, managers; audited)",
    tag="clubs", response=ClosedTable, example=_ex(ClosedTable(7, "club7-k2m9qa", "closing")),
    scope=Scope.CLUBS_WRITE, personal=True, path_params=CLUB_PARAM, body=TableRequest,
    body_example={"table_id": "club7-k2m9qa"},
    errors=(*ACTING, "invalid_club_input", "not_found", "unavailable"),
)  # fmt: skip
async def close_table(call: Call) -> Reply:
    body: TableRequest = call.body
    tables = call.context.club_tables
    if tables is None:
        raise ApiProblem("unavailable", "this server runs no tables")
    club_id = call.path["club_id"]
    try:
        status = await _do(tables.close(call.player_id, club_id, body.table_id))
    except GameRefused as exc:  # not open, or it did not answer
        code = "not_found" if exc.code == "no_such_table" else "unavailable"
        raise ApiProblem(code, str(exc)) from None
    return Reply(ClosedTable(club_id, body.table_id, status))


@routes.operation(
    operation_id="createClubTournament", method="POST", path="/v1/clubs/{club_id}/tournaments",
    summary="Create a tournament only the club's members see and enter (owner, managers)",
    tag="clubs", response=CreatedTournament, example=_ex(CreatedTournament(7, 42)),
    status=201, scope=Scope.CLUBS_WRITE, personal=True, path_params=CLUB_PARAM,
    body=CreateTournamentRequest, idempotent=True,
    body_example={"name": "Owls Sunday", "preset": "mtt-turbo", "buy_in": 100, "fee": 10,
                  "starts_at_ms": 1_780_000_000_000},
    errors=(*ACTING, "invalid_club_input", "club_limit_reached", "unavailable"),
)  # fmt: skip
async def create_tournament(call: Call) -> Reply:
    body: CreateTournamentRequest = call.body
    tables = call.context.club_tables
    if tables is None:
        raise ApiProblem("unavailable", "this server runs no tournaments")
    chosen = msgspec.convert(msgspec.to_builtins(body), ClubTournamentSpec)
    club_id = call.path["club_id"]
    try:
        tournament_id = await _do(tables.tournaments.create(call.player_id, club_id, chosen))
    except TournamentRefusal as exc:  # a structure or payout the core refuses; restarting
        code = "unavailable" if exc.code == "tournaments_unavailable" else "invalid_club_input"
        raise ApiProblem(code, exc.message) from None
    return Reply(CreatedTournament(club_id, tournament_id), status=201,
                 headers={"Location": f"/v1/clubs/{club_id}"})  # fmt: skip


def _rakeback(call: Call) -> Rakeback:
    context = call.context
    return Rakeback(context.store, Wallet(context.store), rakeback_policy_of(context.settings))


LINE: Final = StatementLine("club:7", "week:2026-11-30", "rakeback", 1_200, 0, 2_500, 300, 0,
                            300, 300, 9_041, 1)  # fmt: skip


@routes.operation(
    operation_id="getRakebackStatement", method="GET", path="/v1/rakeback/statement",
    summary="My rakeback and agent commission: accrued and paid, by period, program, source",
    tag="rakeback", response=Statement, example=_ex(Statement([LINE])),
    scope=Scope.RAKEBACK_READ, personal=True, query=RakebackStatementQuery,
)  # fmt: skip
async def statement(call: Call) -> Reply:
    q: RakebackStatementQuery = call.query
    return Reply(Statement(await _rakeback(call).statement(call.player_id, q.limit)))


@routes.operation(
    operation_id="getRakebackTiers", method="GET", path="/v1/rakeback/tiers",
    summary="The house's tier table, its points rate, the period and the attribution method",
    tag="rakeback", response=TierView,
    example=_ex(TierView([Tier("Bronze", 0, 1_000), TIER], 1, 1, "week", "weighted")),
    scope=Scope.RAKEBACK_READ, personal=True,
)  # fmt: skip
async def tiers(call: Call) -> Reply:
    policy = rakeback_policy_of(call.context.settings)
    table = policy.house_tiers
    view = TierView(
        list(table.tiers), table.points_per_chip_num, table.points_per_chip_den,
        policy.period_kind, policy.method,
    )  # fmt: skip
    return Reply(view)
