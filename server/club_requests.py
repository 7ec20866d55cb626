"""The gateway's club and rakeback messages (protocol/clubs.py), served by services/clubs.py
and services/rakeback.py: the same rules as the public API's /v1/clubs routes. Refusals keep
the service's stable code (protocol/errors.py lists them). ``club_create_table`` opens the
table through actors/club_tables.py (``ClubTables``: a server without tables refuses it with
``games_unavailable``); a lobby that cannot open it answers its own code (``too_many_tables``,
``unavailable``). ``club_close_table`` closes one the same way (actors/club_tables.py:
audited); ``club_create_tournament`` creates a club tournament (actors/club_tournaments.py;
the directory's refusal keeps its code: ``structure_invalid``...)."""

from __future__ import annotations

from typing import Any, Final, final, get_args

import msgspec

from actors.club_tables import ClubTables, ClubTableSpec
from actors.club_tournaments import ClubTournamentSpec
from actors.table.messages import GameRefused
from actors.tournament_messages import TournamentRefusal
from persistence.clubs import Invitation, JoinRequest, Member
from persistence.store import Store
from protocol import clubs as wire
from protocol.errors import ERROR_CODE_VALUES, ErrorCode, RemoteProtocolError
from protocol.messages import Ok, Reply
from rakeback.periods import InvalidPeriodId, parse_period
from rakeback.tiers import InvalidTiers, Tier, TierTable
from server.session import PlayerSession
from services.club_rules import ClubError
from services.clubs import ClubInfo, Clubs
from services.rakeback import Rakeback, RakebackPolicy
from services.wallet import Wallet

CLUB_REQUESTS: Final = get_args(wire.ClubRequest)


@final
class ClubRefused(Exception):
    def __init__(self, code: str, message: str, request_id: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id


def _club(info: ClubInfo) -> wire.ClubRecord:
    return wire.ClubRecord(
        club_id=info.club_id, code=info.code, name=info.name, description=info.description,
        join_policy=info.join_policy, members=info.members,  # type: ignore[arg-type]
    )  # fmt: skip


def _member(m: Member) -> wire.MemberRecord:
    return wire.MemberRecord(
        club_id=m.club_id, player_id=m.player_id, role=m.role,  # type: ignore[arg-type]
        agent_id=m.agent_id, commission_bp=m.commission_bp, joined_at_ms=m.joined_at_ms,
    )  # fmt: skip


def _tier(t: Tier) -> wire.TierRecord:
    return wire.TierRecord(name=t.name, threshold_points=t.threshold_points,
                           rakeback_bp=t.rakeback_bp)  # fmt: skip


def _invitation(i: Invitation) -> wire.InvitationRecord:
    return wire.InvitationRecord(club_id=i.club_id, player_id=i.player_id,
                                 invited_by=i.invited_by, agent_id=i.agent_id,
                                 created_at_ms=i.created_at_ms)  # fmt: skip


def _request(r: JoinRequest) -> wire.JoinRequestRecord:
    return wire.JoinRequestRecord(club_id=r.club_id, player_id=r.player_id,
                                  agent_id=r.agent_id, created_at_ms=r.created_at_ms)  # fmt: skip


@final
class ClubRequests:
    """Serves protocol/clubs.py's requests for one gateway."""

    def __init__(
        self,
        store: Store,
        policy: RakebackPolicy | None = None,
        tables: ClubTables | None = None,
    ) -> None:
        self._clubs = Clubs(store)
        self._rakeback = Rakeback(store, Wallet(store), policy)
        self._tables = tables

    async def handle(self, session: PlayerSession, request: Any) -> Reply:
        player_id = session.player_id
        if player_id is None:
            raise RemoteProtocolError(
                ErrorCode.ACCOUNT_REQUIRED, "clubs need a registered account", request.id
            )
        try:
            return await self._dispatch(player_id, request)
        except ClubError as exc:
            code = exc.code if exc.code in ERROR_CODE_VALUES else ErrorCode.INVALID_CLUB_INPUT
            raise ClubRefused(code, str(exc), request.id) from None
        except GameRefused as exc:  # the lobby could not open (or close) a club table
            raise ClubRefused(exc.code, str(exc), request.id) from None
        except TournamentRefusal as exc:  # the directory refused a club tournament
            raise ClubRefused(exc.code, exc.message, request.id) from None
        except (InvalidTiers, InvalidPeriodId) as exc:
            code = ErrorCode.INVALID_CLUB_INPUT
            if isinstance(exc, InvalidPeriodId):
                code = ErrorCode.INVALID_PERIOD
            raise ClubRefused(code, str(exc), request.id) from None

    async def _dispatch(self, me: int, request: Any) -> Reply:
        clubs = self._clubs
        rid = request.id
        match request:
            case wire.ClubCreate():
                info = await clubs.create(me, request.name, request.description,
                                          request.join_policy)  # fmt: skip
                return wire.ClubInfo(id=rid, club=_club(info))
            case wire.ClubFind():
                return wire.ClubInfo(id=rid, club=_club(await clubs.find(request.code)))
            case wire.ClubJoin():
                member = await clubs.join(me, request.code, request.agent_id)
                return _joined(rid, member)
            case wire.ClubListMine():
                mine = await clubs.my_clubs(me)
                return wire.ClubList(id=rid, clubs=[
                    wire.MyClubRecord(club=_club(c.club), role=c.role,  # type: ignore[arg-type]
                                      agent_id=c.agent_id) for c in mine])  # fmt: skip
            case wire.ClubGet():
                return await self._detail(rid, me, request.club_id)
            case wire.ClubMembers():
                found = await clubs.members(me, request.club_id, request.after_player,
                                            request.limit)  # fmt: skip
                return wire.ClubMemberPage(id=rid, members=[_member(m) for m in found])
            case wire.ClubInvite():
                await clubs.invite(me, request.club_id, request.player_id)
            case wire.ClubInvitations():
                found_invitations = await clubs.invitations(me)
                return wire.ClubInvitationList(
                    id=rid, invitations=[_invitation(i) for i in found_invitations]
                )
            case wire.ClubAnswerInvitation(accept=True):
                return _joined(rid, await clubs.accept_invitation(me, request.club_id))
            case wire.ClubAnswerInvitation():
                await clubs.decline_invitation(me, request.club_id)
            case wire.ClubJoinRequests():
                found_requests = await clubs.join_requests(me, request.club_id)
                return wire.ClubJoinRequestList(
                    id=rid, requests=[_request(r) for r in found_requests]
                )
            case wire.ClubReviewRequest():
                member = await clubs.review_request(me, request.club_id, request.player_id,
                                                    request.approve)  # fmt: skip
                if member is not None:
                    return _joined(rid, member)
            case wire.ClubMemberAction(action="remove"):
                await clubs.remove(me, request.club_id, request.player_id)
            case wire.ClubMemberAction(action="ban"):
                await clubs.ban(me, request.club_id, request.player_id)
            case wire.ClubMemberAction():
                await clubs.unban(me, request.club_id, request.player_id)
            case wire.ClubSetRole():
                member = await clubs.set_role(me, request.club_id, request.player_id,
                                              request.role, request.commission_bp)  # fmt: skip
                return wire.ClubMember(id=rid, member=_member(member))
            case wire.ClubSetAgent():
                member = await clubs.set_agent(me, request.club_id, request.player_id,
                                               request.agent_id)  # fmt: skip
                return wire.ClubMember(id=rid, member=_member(member))
            case wire.ClubLeave():
                await clubs.leave(me, request.club_id)
            case wire.ClubTransferOwnership():
                info = await clubs.transfer_ownership(me, request.club_id, request.player_id)
                return wire.ClubInfo(id=rid, club=_club(info))
            case wire.ClubUpdate():
                info = await clubs.update(me, request.club_id, description=request.description,
                                          join_policy=request.join_policy)  # fmt: skip
                return wire.ClubInfo(id=rid, club=_club(info))
            case wire.ClubSetTiers():
                table = None
                if request.tiers is not None:
                    table = TierTable(
                        tuple(Tier(t.name, t.threshold_points, t.rakeback_bp)
                              for t in request.tiers),
                        request.points_per_chip_num, request.points_per_chip_den,
                    )  # fmt: skip
                await clubs.set_tiers(me, request.club_id, table)
                return await self._detail(rid, me, request.club_id)
            case wire.ClubRegisterTable():
                await clubs.register_table(me, request.club_id, request.table_id)
            case wire.ClubCreateTable():
                if self._tables is None:
                    raise ClubRefused(
                        ErrorCode.GAMES_UNAVAILABLE, "this server runs no tables", rid
                    )
                spec = msgspec.convert(
                    msgspec.structs.asdict(request), ClubTableSpec, from_attributes=False
                )
                config = await self._tables.create(me, request.club_id, spec)
                return wire.ClubTableCreated(
                    id=rid, club_id=request.club_id, table_id=config.table_id
                )
            case wire.ClubCloseTable():
                tables = self._need_tables(rid)
                status = await tables.close(me, request.club_id, request.table_id)
                return wire.ClubTableClosed(
                    id=rid, club_id=request.club_id, table_id=request.table_id,
                    status=status,  # type: ignore[arg-type]
                )  # fmt: skip
            case wire.ClubCreateTournament():
                tables = self._need_tables(rid)
                chosen = msgspec.convert(
                    msgspec.structs.asdict(request), ClubTournamentSpec, from_attributes=False
                )
                tid = await tables.tournaments.create(me, request.club_id, chosen)
                return wire.ClubTournamentCreated(
                    id=rid, club_id=request.club_id, tournament_id=tid
                )
            case wire.ClubStatsRequest():
                stats = await clubs.stats(me, request.club_id, parse_period(request.period))
                return wire.ClubStats(id=rid, **msgspec.structs.asdict(stats))
            case wire.RakebackStatementRequest():
                lines = await self._rakeback.statement(me, request.limit)
                return wire.RakebackStatement(id=rid, lines=[
                    msgspec.convert(msgspec.structs.asdict(ln), wire.StatementLine)
                    for ln in lines])  # fmt: skip
            case wire.RakebackTiersRequest():
                policy = self._rakeback.policy
                table = policy.house_tiers
                return wire.RakebackTiers(
                    id=rid, tiers=[_tier(t) for t in table.tiers],
                    points_per_chip_num=table.points_per_chip_num,
                    points_per_chip_den=table.points_per_chip_den, period=policy.period_kind,
                    method=policy.method,
                )  # fmt: skip
            case _:
                raise AssertionError(f"not a club request: {request!r}")
        return Ok(id=rid)

    def _need_tables(self, rid: int) -> ClubTables:
        if self._tables is None:
            raise ClubRefused(ErrorCode.GAMES_UNAVAILABLE, "this server runs no tables", rid)
        return self._tables

    async def _detail(self, rid: int, me: int, club_id: int) -> wire.ClubDetail:
        clubs = self._clubs
        info = await clubs.club(me, club_id)
        benefits = await clubs.benefits(me, club_id)
        tables = await clubs.tables(me, club_id)
        return wire.ClubDetail(
            id=rid, club=_club(info), rakeback_deal_bp=benefits.rakeback_deal_bp,
            tiers=None if benefits.tiers is None else [_tier(t) for t in benefits.tiers],
            points_per_chip_num=benefits.points_per_chip[0],
            points_per_chip_den=benefits.points_per_chip[1],
            agent_rates=[wire.AgentRate(agent_id=a, commission_bp=r)
                         for a, r in sorted(benefits.agent_rates_bp.items())],
            tables=tables[: wire.CLUB_TABLES_MAX],
        )  # fmt: skip


def _joined(rid: int, member: Member | None) -> wire.ClubJoined:
    if member is None:
        return wire.ClubJoined(id=rid, state="requested", member=None)
    return wire.ClubJoined(id=rid, state="member", member=_member(member))
