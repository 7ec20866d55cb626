"""The club service: clubs, roles, invitations, join requests, bans, benefits, statistics.

Callers: the websocket gateway, the public API and the admin API (three doors, one set of
rules). Every change is one unit of work: the club's row is read (locked on PostgreSQL), the
pure rules of services/club_rules.py decide, and the writes follow in the same transaction,
so two changes to one club are decided one after the other. Refusals raise ClubError
subclasses with stable codes; bad input changes nothing.

Club tables: ``register_table`` records that a table belongs to a club; rakeback counts the
rake of its hands as the club's (persistence/rakeback.py). ``new_table_id`` does that for a
table an owner or manager is about to open (actors/club_tables.py opens it, with the club in
its config), counting the club's open tables against CLUB_TABLES_MAX; ``check_close_table``
lets an owner or manager close one. ``check_table_access`` and ``check_member`` are the
members-only gate the gateway asks before a join, a watch or a quick-seat, and
``club_ids_of`` what the lobby shows. A table registered later (``register_table``) is told,
after its commit, to the watchers of :func:`watch_club_tables` (the lobby's: it lists it to
members only from then on).

Club tournaments: ``check_create_tournament`` (owner, manager) before the tournament
directory creates one with its ``club_tournaments`` row; ``check_tournament_access`` is the
members-only gate of its requests (a club tournament's tables, ``t<id>-<n>``, are gated by
``check_table_access`` too). Rakeback reads ``club_tournaments`` to count its fees as the
club's.

Access watchers: a membership that starts or ends (join, approval, accepted invitation; leave,
removal, ban) is told, after its commit, to the callbacks registered for the store with
:func:`watch_club_access` (the server registers the lobby's: it updates the player's lobby
and stands her up at the club's tables). Every door builds its ``Clubs`` over the same store,
so every door's changes are told without the doors knowing.
"""

from __future__ import annotations

import secrets
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any, Final, TypeVar, final

import msgspec

from persistence import clubs as db
from persistence import rakeback as rb_db
from persistence.audit import AuditStamp, Change
from persistence.clubs import Club, Invitation, JoinRequest, Member, Relation
from persistence.store import Store
from persistence.work import Work
from rakeback.periods import Period
from rakeback.settlement import InvalidProgram, Program
from rakeback.tiers import InvalidTiers, Tier, TierTable
from services.club_rules import (
    JOIN_POLICIES,
    Action,
    AlreadyClubMember,
    BannedFromClub,
    ClubError,
    ClubLimitReached,
    ClubMemberNotFound,
    ClubNameTaken,
    ClubNotFound,
    ClubPermissionDenied,
    InvalidClubInput,
    InvitationRequired,
    NoInvitation,
    NoJoinRequest,
    NotClubMember,
    OwnerCannotLeave,
    check,
)

T = TypeVar("T")
CLUB_NAME_CHARS: Final = (3, 40)
CLUB_DESCRIPTION_CHARS_MAX: Final = 500
CLUB_MEMBERS_MAX: Final = 5_000  # bound: joins beyond it are refused (club_limit_reached)
CLUBS_PER_PLAYER_MAX: Final = db.CLUBS_PER_PLAYER_MAX  # bound: same policy
CLUBS_OWNED_MAX: Final = 5  # bound per player: creating more is refused
CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud
CODE_CHARS: Final = 6
CODE_ATTEMPTS: Final = 8  # a clash of random codes is retried this many times
TABLE_ID_CHARS_MAX: Final = 64
CLUB_TABLES_MAX: Final = 500  # bound: open tables of a club; opening more is refused
# A table registered this recently counts as open though it has not started yet (its
# opening is under way); one registered earlier that never started does not count.
TABLE_OPENING_MS: Final = 60_000
TOURNAMENT_TABLE_PREFIX: Final = "t"  # a tournament's tables: t<tournament id>-<n>
TABLE_ID_SUFFIX_CHARS: Final = 6  # club<id>-<6 random characters>: 36^6 ids per club

# A membership change, told after its commit: (club id, player id, member now).
AccessWatcher = Callable[[int, int, bool], None]
_ACCESS_WATCHERS: weakref.WeakKeyDictionary[Store, list[AccessWatcher]] = (
    weakref.WeakKeyDictionary()
)


def watch_club_access(store: Store, watcher: AccessWatcher) -> Callable[[], None]:
    """Call ``watcher(club_id, player_id, member)`` after every membership change made
    through ``store`` (by any door). It must not block (tell, never ask) nor raise. Returns
    the function that stops watching."""
    watchers = _ACCESS_WATCHERS.setdefault(store, [])
    watchers.append(watcher)
    return lambda: watchers.remove(watcher) if watcher in watchers else None


# A table registered to a club, told after its commit: (club id, table id).
TableWatcher = Callable[[int, str], None]
_TABLE_WATCHERS: weakref.WeakKeyDictionary[Store, list[TableWatcher]] = weakref.WeakKeyDictionary()


def watch_club_tables(store: Store, watcher: TableWatcher) -> Callable[[], None]:
    """Call ``watcher(club_id, table_id)`` after every ``register_table`` made through
    ``store`` (by any door); the same rules as :func:`watch_club_access`."""
    watchers = _TABLE_WATCHERS.setdefault(store, [])
    watchers.append(watcher)
    return lambda: watchers.remove(watcher) if watcher in watchers else None


@final
class ClubInfo(msgspec.Struct, frozen=True):
    """What anyone who knows the code sees of a club."""

    club_id: int
    code: str
    name: str
    description: str
    join_policy: str
    members: int


@final
class MyClub(msgspec.Struct, frozen=True):
    club: ClubInfo
    role: str
    agent_id: int | None


@final
class Benefits(msgspec.Struct, frozen=True):
    """A club's rakeback deal, its members' tiers and its agents' commission rates."""

    club_id: int
    rakeback_deal_bp: int
    tiers: list[Tier] | None
    points_per_chip: tuple[int, int]
    agent_rates_bp: dict[int, int]


@final
class ClubStats(msgspec.Struct, frozen=True):
    club_id: int
    period: str
    members: int  # members now who joined before the period's end
    active_players: int  # players dealt into a hand at the club's tables in the period
    hands: int
    rake: int  # generated at the club's tables in the period
    rakeback_paid: int  # to members, for the period (0 until it is distributed)
    commission_paid: int  # to agents, for the period


def tiers_to_json(table: TierTable | None) -> str | None:
    if table is None:
        return None
    return msgspec.json.encode(
        {"tiers": table.tiers, "num": table.points_per_chip_num, "den": table.points_per_chip_den}
    ).decode()


class _TierDoc(msgspec.Struct):
    tiers: list[Tier]
    num: int = 1
    den: int = 1


def tiers_from_json(text: str | None) -> TierTable | None:
    if text is None:
        return None
    doc = msgspec.json.decode(text, type=_TierDoc)
    return TierTable(tuple(doc.tiers), doc.num, doc.den)


def club_program(club: Club, members: list[Member]) -> Program:
    """The club's rakeback program: its deal, tiers (none: nothing for members) and agents."""
    tiers = tiers_from_json(club.tiers_json) or TierTable((Tier("Member", 0, 0),))
    return Program(
        tiers,
        deal_bp=club.rakeback_deal_bp,
        agent_rates_bp={m.player_id: m.commission_bp for m in members if m.role == "agent"},
        member_agents={m.player_id: m.agent_id for m in members if m.agent_id is not None},
    )


def _info(club: Club, members: int) -> ClubInfo:
    return ClubInfo(club.id, club.code, club.name, club.description, club.join_policy, members)


def _text(value: str, low: int, high: int, what: str) -> str:
    value = value.strip()
    if not low <= len(value) <= high or not value.isprintable():
        raise InvalidClubInput(f"{what} is {low}-{high} printable characters")
    return value


def _policy(policy: str) -> str:
    if policy not in JOIN_POLICIES:
        raise InvalidClubInput(f"join policy is one of {', '.join(JOIN_POLICIES)}")
    return policy


def _role(rel: Relation | None) -> tuple[Relation, str | None]:
    if rel is None:
        raise ClubNotFound("no such club")
    return rel, rel.actor.role if rel.actor else None


def own_table_prefix(club_id: int) -> str:
    """Table ids of this namespace are the club's to open and register (never a house one)."""
    return f"club{club_id}-"


@final
class Clubs:
    def __init__(self, store: Store, code_source: Callable[[], str] | None = None) -> None:
        self._store = store
        self._code = code_source or _random_code

    @property
    def store(self) -> Store:
        return self._store

    async def _run(self, work: Callable[[], Work[T]]) -> T:
        return await self._store.run(work)

    def _access_changed(self, club_id: int, player_id: int, member: bool) -> None:
        for watcher in list(_ACCESS_WATCHERS.get(self._store, ())):
            watcher(club_id, player_id, member)

    async def _run_audited(
        self, work: Callable[[], Work[T]], audit_as: AuditStamp | None, after: dict[str, Any]
    ) -> T:
        """``work`` alone, or with an audit entry in its transaction (staff's changes)."""
        if audit_as is None:
            return await self._run(work)

        def change() -> Work[Change[T]]:
            result = yield from work()
            return Change(result, before=None, after=after)

        result, _ = await self._store.run_audited(audit_as, change)
        return result

    # -- creating and finding ---------------------------------------------------------------

    async def create(
        self, owner_id: int, name: str, description: str = "", join_policy: str = "approval"
    ) -> ClubInfo:
        name = _text(name, *CLUB_NAME_CHARS, "a club name")
        description = _text(description, 0, CLUB_DESCRIPTION_CHARS_MAX, "a description")
        policy = _policy(join_policy)
        now = self._store.clock_ms()
        for _ in range(CODE_ATTEMPTS):
            code = self._code()

            def unit(code: str = code) -> Work[Club | None]:
                owned = yield from db.clubs_of(owner_id)
                if sum(1 for _, m in owned if m.role == "owner") >= CLUBS_OWNED_MAX:
                    raise ClubLimitReached(f"a player owns at most {CLUBS_OWNED_MAX} clubs")
                if len(owned) >= CLUBS_PER_PLAYER_MAX:
                    raise ClubLimitReached(f"a player is in at most {CLUBS_PER_PLAYER_MAX} clubs")
                taken = yield from db.get_club_by_code(code)
                if taken is not None:
                    return None
                created = yield from db.create_club(code, name, description, policy, owner_id, now)
                if created is None:
                    raise ClubNameTaken(f"a club named {name!r} exists")
                return created

            club = await self._run(unit)
            if club is not None:
                return _info(club, 1)
        raise RuntimeError("no free club code after several attempts")  # 32^6 codes: our bug

    async def find(self, code: str) -> ClubInfo:
        """A club by its code (any case); ClubNotFound otherwise."""
        code = code.strip().upper()
        if len(code) != CODE_CHARS or any(c not in CODE_ALPHABET for c in code):
            raise ClubNotFound("no club with this code")

        def unit() -> Work[ClubInfo | None]:
            club = yield from db.get_club_by_code(code)
            if club is None:
                return None
            count = yield from db.count_members(club.id)
            return _info(club, count)

        found = await self._store.run(unit, read_only=True)
        if found is None:
            raise ClubNotFound("no club with this code")
        return found

    async def club(self, player_id: int | None, club_id: int) -> ClubInfo:
        """A club by id, for its members (None: staff)."""

        def unit() -> Work[ClubInfo]:
            rel, role = _role((yield from db.relation(club_id, player_id, None)))
            if player_id is not None:
                check("view_club", role)
            count = yield from db.count_members(club_id)
            return _info(rel.club, count)

        return await self._run(unit)

    async def my_clubs(self, player_id: int) -> list[MyClub]:
        def unit() -> Work[list[MyClub]]:
            found = yield from db.clubs_of(player_id)
            out = []
            for club, member in found:
                count = yield from db.count_members(club.id)
                out.append(MyClub(_info(club, count), member.role, member.agent_id))
            return out

        return await self._store.run(unit, read_only=True)

    async def invitations(self, player_id: int) -> list[Invitation]:
        return await self._store.run(partial(db.invitations_of, player_id), read_only=True)

    # -- joining ------------------------------------------------------------------------------

    async def join(self, player_id: int, code: str, agent_id: int | None = None) -> Member | None:
        """Join by code: an open club takes her at once (the Member); a club by approval gets
        a join request (None: wait for a manager); a club by invitation refuses
        (club_invitation_required) unless she was invited, which accepts the invitation.
        ``agent_id``: the agent who referred her (an agent of that club), as her agent."""
        info = await self.find(code)
        now = self._store.clock_ms()

        def unit() -> Work[Member | None]:
            rel = yield from db.relation(info.club_id, None, player_id)
            assert rel is not None
            _may_join(rel)
            agent = yield from self._agent_of(rel, agent_id)
            if rel.invitation is not None:
                agent = rel.invitation.agent_id
            elif rel.club.join_policy == "invitation":
                raise InvitationRequired("this club takes members by invitation only")
            elif rel.club.join_policy == "approval":
                yield from db.request_join(rel.club.id, player_id, agent, now)
                return None
            yield from _check_size(rel.club.id)
            member = yield from db.add_member(rel.club.id, player_id, agent, now)
            return member

        joined = await self._run(unit)
        if joined is not None:
            self._access_changed(joined.club_id, player_id, True)
        return joined

    def _agent_of(self, rel: Relation, agent_id: int | None) -> Work[int | None]:
        if agent_id is None:
            return None
        agent = yield from db.get_member(rel.club.id, agent_id)
        if agent is None or agent.role != "agent":
            raise InvalidClubInput("the referring player is not an agent of this club")
        return agent_id

    async def accept_invitation(self, player_id: int, club_id: int) -> Member:
        now = self._store.clock_ms()

        def unit() -> Work[Member]:
            rel = yield from db.relation(club_id, None, player_id)
            if rel is None or rel.invitation is None:
                raise NoInvitation("no invitation to this club")
            _may_join(rel)
            yield from _check_size(club_id)
            member = yield from db.add_member(club_id, player_id, rel.invitation.agent_id, now)
            return member

        accepted = await self._run(unit)
        self._access_changed(club_id, player_id, True)
        return accepted

    async def decline_invitation(self, player_id: int, club_id: int) -> None:
        def unit() -> Work[None]:
            rel = yield from db.relation(club_id, None, player_id)
            if rel is None or rel.invitation is None:
                raise NoInvitation("no invitation to this club")
            yield from db.clear_pending(club_id, player_id)

        await self._run(unit)

    async def invite(self, actor_id: int, club_id: int, player_id: int) -> Invitation:
        """Invite a player; an agent's invitation makes her the player's agent."""
        now = self._store.clock_ms()

        def unit() -> Work[Invitation]:
            rel, role = _role((yield from db.relation(club_id, actor_id, player_id)))
            check("invite", role)
            if rel.target is not None:
                raise AlreadyClubMember("already a member")
            if rel.target_banned:
                raise BannedFromClub("this player is banned from the club")
            agent = actor_id if role == "agent" else None
            invitation = yield from db.invite(club_id, player_id, actor_id, agent, now)
            return invitation

        return await self._run(unit)

    async def join_requests(
        self, actor_id: int, club_id: int, limit: int = 50
    ) -> list[JoinRequest]:
        def unit() -> Work[list[JoinRequest]]:
            _, role = _role((yield from db.relation(club_id, actor_id, None)))
            check("review_requests", role)
            found = yield from db.join_requests(club_id, limit)
            return found

        return await self._run(unit)

    async def review_request(
        self, actor_id: int, club_id: int, player_id: int, approve: bool
    ) -> Member | None:
        """Approve (the new Member) or reject (None) a join request."""
        now = self._store.clock_ms()

        def unit() -> Work[Member | None]:
            rel, role = _role((yield from db.relation(club_id, actor_id, player_id)))
            check("review_requests", role)
            if rel.request is None:
                raise NoJoinRequest("no join request from this player")
            if not approve:
                yield from db.clear_pending(club_id, player_id)
                return None
            _may_join(rel)
            yield from _check_size(club_id)
            member = yield from db.add_member(club_id, player_id, rel.request.agent_id, now)
            return member

        approved = await self._run(unit)
        if approved is not None:
            self._access_changed(club_id, player_id, True)
        return approved

    # -- members ------------------------------------------------------------------------------

    async def members(
        self, actor_id: int | None, club_id: int, after_player: int | None = None, limit: int = 50
    ) -> list[Member]:
        """Owners, managers (and staff: ``actor_id`` None) see every member; an agent sees
        the members she brought."""

        def unit() -> Work[list[Member]]:
            _, role = _role((yield from db.relation(club_id, actor_id, None)))
            if actor_id is not None:
                check("view_members", role)
            found = yield from db.members(club_id, after_player, limit)
            if role == "agent":
                return [m for m in found if m.agent_id == actor_id]
            return found

        return await self._run(unit)

    async def leave(self, player_id: int, club_id: int) -> None:
        def unit() -> Work[None]:
            _, role = _role((yield from db.relation(club_id, player_id, None)))
            if role == "owner":
                raise OwnerCannotLeave("the owner transfers ownership before leaving")
            check("leave", role)
            yield from db.remove_member(club_id, player_id, self._store.clock_ms())

        await self._run(unit)
        self._access_changed(club_id, player_id, False)

    async def remove(self, actor_id: int, club_id: int, player_id: int) -> None:
        now = self._store.clock_ms()
        await self._on_member(actor_id, club_id, player_id, "remove", partial(_removed, now_ms=now))
        self._access_changed(club_id, player_id, False)

    async def ban(
        self,
        actor_id: int | None,
        club_id: int,
        player_id: int,
        *,
        audit_as: AuditStamp | None = None,
    ) -> None:
        """Out of the club, and she cannot join again until unbanned (staff: actor None,
        audited with ``audit_as``)."""
        now = self._store.clock_ms()

        def unit() -> Work[None]:
            rel, role = _role((yield from db.relation(club_id, actor_id, player_id)))
            if actor_id is not None:
                check("ban", role, rel.target.role if rel.target else None)
            if rel.target is not None and rel.target.role == "owner":
                raise ClubPermissionDenied("the owner cannot be banned")
            yield from db.ban(club_id, player_id, actor_id or 0, now)

        after = {"club_id": club_id, "banned": player_id}
        await self._run_audited(unit, audit_as, after)
        self._access_changed(club_id, player_id, False)

    async def unban(self, actor_id: int, club_id: int, player_id: int) -> bool:
        def unit() -> Work[bool]:
            _, role = _role((yield from db.relation(club_id, actor_id, player_id)))
            check("ban", role)
            done = yield from db.unban(club_id, player_id)
            return done

        return await self._run(unit)

    async def set_role(
        self, actor_id: int, club_id: int, player_id: int, role: str, commission_bp: int = 0
    ) -> Member:
        """Make a member a manager, an agent (with her commission rate) or a plain member."""
        if role not in ("manager", "agent", "member"):
            raise InvalidClubInput("a role given is manager, agent or member")

        def unit() -> Work[Member]:
            rel, actor_role = _role((yield from db.relation(club_id, actor_id, player_id)))
            target = _target(rel)
            check("set_role", actor_role, target.role)
            rate = commission_bp if role == "agent" else 0
            members = yield from db.all_members(club_id)
            _check_benefits(rel.club, members, {player_id: rate}, rel.club.tiers_json)
            member = yield from db.set_role(club_id, player_id, role, rate)
            if target.role == "agent" and role != "agent":
                yield from db.remove_member_agent_links(club_id, player_id)
            return member

        return await self._run(unit)

    async def set_agent(
        self, actor_id: int, club_id: int, player_id: int, agent_id: int | None
    ) -> Member:
        def unit() -> Work[Member]:
            rel, role = _role((yield from db.relation(club_id, actor_id, player_id)))
            target = _target(rel)
            check("set_agent", role, target.role)
            if agent_id is not None:
                agent = yield from db.get_member(club_id, agent_id)
                if agent is None or agent.role != "agent" or agent_id == player_id:
                    raise InvalidClubInput("a member's agent is another member who is an agent")
            member = yield from db.set_agent(club_id, player_id, agent_id)
            return member

        return await self._run(unit)

    async def transfer_ownership(self, actor_id: int, club_id: int, player_id: int) -> ClubInfo:
        def unit() -> Work[ClubInfo]:
            rel, role = _role((yield from db.relation(club_id, actor_id, player_id)))
            check("transfer_ownership", role)
            if rel.target is None:
                raise ClubMemberNotFound("the new owner must be a member")
            if player_id == actor_id:
                raise InvalidClubInput("you own this club already")
            club = yield from db.set_owner(club_id, actor_id, player_id)
            count = yield from db.count_members(club_id)
            return _info(club, count)

        return await self._run(unit)

    async def update(
        self,
        actor_id: int,
        club_id: int,
        *,
        description: str | None = None,
        join_policy: str | None = None,
    ) -> ClubInfo:
        def unit() -> Work[ClubInfo]:
            rel, role = _role((yield from db.relation(club_id, actor_id, None)))
            check("edit_club", role)
            club = rel.club
            text = club.description if description is None else _text(
                description, 0, CLUB_DESCRIPTION_CHARS_MAX, "a description")  # fmt: skip
            policy = club.join_policy if join_policy is None else _policy(join_policy)
            updated = yield from db.update_club(
                club_id, text, policy, club.rakeback_deal_bp, club.tiers_json
            )
            count = yield from db.count_members(club_id)
            return _info(updated, count)

        return await self._run(unit)

    # -- benefits -----------------------------------------------------------------------------

    async def benefits(self, player_id: int | None, club_id: int) -> Benefits:
        """The deal, tiers and agent rates: members see them (the tier table is shown to
        players); staff pass None."""

        def unit() -> Work[Benefits]:
            rel, role = _role((yield from db.relation(club_id, player_id, None)))
            if player_id is not None:
                check("view_club", role)
            members = yield from db.all_members(club_id)
            return _benefits(rel.club, members)

        return await self._run(unit)

    async def set_tiers(self, actor_id: int, club_id: int, tiers: TierTable | None) -> Benefits:
        """The owner sets the members' tier table (None: no member rakeback). Refused
        (invalid_club_input) when a tier pays more than the club's deal."""

        def unit() -> Work[Benefits]:
            rel, role = _role((yield from db.relation(club_id, actor_id, None)))
            check("edit_tiers", role)
            members = yield from db.all_members(club_id)
            text = tiers_to_json(tiers)
            _check_benefits(rel.club, members, {}, text)
            club = rel.club
            updated = yield from db.update_club(
                club_id, club.description, club.join_policy, club.rakeback_deal_bp, text
            )
            return _benefits(updated, members)

        return await self._run(unit)

    async def set_commission(
        self, actor_id: int, club_id: int, agent_id: int, commission_bp: int
    ) -> Member:
        def unit() -> Work[Member]:
            rel, role = _role((yield from db.relation(club_id, actor_id, agent_id)))
            target = _target(rel)
            check("set_commission", role, target.role)
            if target.role != "agent":
                raise InvalidClubInput("only an agent has a commission rate")
            members = yield from db.all_members(club_id)
            _check_benefits(rel.club, members, {agent_id: commission_bp}, rel.club.tiers_json)
            member = yield from db.set_role(club_id, agent_id, "agent", commission_bp)
            return member

        return await self._run(unit)

    async def set_deal(self, club_id: int, deal_bp: int, audit_as: AuditStamp) -> Benefits:
        """Staff set the club's rakeback deal (its share of its tables' rake), audited.
        Refused when the club's tiers or an agent's rate would exceed it."""

        def change() -> Work[Change[Benefits]]:
            club = yield from db.get_club(club_id)
            if club is None:
                raise ClubNotFound("no such club")
            members = yield from db.all_members(club_id)
            changed = msgspec.structs.replace(club, rakeback_deal_bp=deal_bp)
            _check_benefits(changed, members, {}, club.tiers_json)
            updated = yield from db.update_club(
                club_id, club.description, club.join_policy, deal_bp, club.tiers_json
            )
            return Change(
                _benefits(updated, members),
                before={"rakeback_deal_bp": club.rakeback_deal_bp},
                after={"rakeback_deal_bp": deal_bp},
            )

        result, _ = await self._store.run_audited(audit_as, change)
        return result

    # -- tables and statistics ----------------------------------------------------------------

    async def register_table(
        self,
        actor_id: int | None,
        club_id: int,
        table_id: str,
        *,
        audit_as: AuditStamp | None = None,
    ) -> None:
        """The table belongs to the club from now on (its hands' rake is the club's). A table
        id belongs to one club for life; another club's id is refused. Staff: actor None,
        audited with ``audit_as``, any id. An owner or manager registers only ids of the
        club's own namespace (``club<club id>-...``, ``own_table_prefix``): registering
        another id would take a house table's rake and its public seats from everyone else."""
        table_id = _text(table_id, 1, TABLE_ID_CHARS_MAX, "a table id")
        now = self._store.clock_ms()

        def unit() -> Work[None]:
            _, role = _role((yield from db.relation(club_id, actor_id, None)))
            if actor_id is not None:
                check("register_table", role)
                if not table_id.startswith(own_table_prefix(club_id)):
                    raise InvalidClubInput(
                        f"a club registers only its own table ids"
                        f" ({own_table_prefix(club_id)}...); staff register others"
                    )
            owner = yield from db.register_table(club_id, table_id, now)
            if owner != club_id:
                raise InvalidClubInput("this table belongs to another club")

        await self._run_audited(unit, audit_as, {"club_id": club_id, "table_id": table_id})
        for watcher in list(_TABLE_WATCHERS.get(self._store, ())):
            watcher(club_id, table_id)

    async def new_table_id(self, actor_id: int, club_id: int) -> str:
        """A fresh table id registered to the club, for a table an owner or manager opens
        next (its rake is the club's). Refused when the club has CLUB_TABLES_MAX open tables
        (``club_limit_reached``; closed ones do not count: persistence/clubs.py
        ``open_table_count``). The id is ``club<club id>-<random>``: never a public one."""
        now = self._store.clock_ms()
        for _ in range(CODE_ATTEMPTS):
            table_id = f"{own_table_prefix(club_id)}{_random_suffix()}"

            def unit(table_id: str = table_id) -> Work[bool]:
                _, role = _role((yield from db.relation(club_id, actor_id, None)))
                check("create_table", role)
                open_now = yield from db.open_table_count(club_id, now - TABLE_OPENING_MS)
                if open_now >= CLUB_TABLES_MAX:
                    raise ClubLimitReached(f"a club has at most {CLUB_TABLES_MAX} open tables")
                taken = yield from db.club_of_table(table_id)
                if taken is not None:
                    return False
                owner = yield from db.register_table(club_id, table_id, now)
                return owner == club_id

            if await self._run(unit):
                return table_id
        raise RuntimeError("no free club table id after several attempts")  # 36^6: our bug

    async def check_member(self, player_id: int, club_id: int) -> None:
        """Refuse (``club_not_found``, ``not_club_member``) unless she is a member now."""

        def unit() -> Work[None]:
            club = yield from db.get_club(club_id)
            if club is None:
                raise ClubNotFound("no such club")
            member = yield from db.get_member(club_id, player_id)
            check("view_club", None if member is None else member.role)

        await self._store.run(unit, read_only=True)

    async def check_close_table(self, actor_id: int, club_id: int, table_id: str) -> str:
        """Refuse unless she may close the club's table ``table_id`` (owner, manager; a table
        the club opened, ``club<club id>-...``): her role, for the audit log. A table merely
        registered to the club (``register_table`` takes any id, a house table's too) is
        closed by staff only."""

        def unit() -> Work[str]:
            _, role = _role((yield from db.relation(club_id, actor_id, None)))
            check("close_table", role)
            owner = yield from db.club_of_table(table_id)
            if owner != club_id or not table_id.startswith(own_table_prefix(club_id)):
                raise InvalidClubInput("this table is not one the club opened")
            assert role is not None
            return role

        return await self._store.run(unit, read_only=True)

    async def check_create_tournament(self, actor_id: int, club_id: int) -> None:
        """Refuse unless she may create a tournament of the club (owner, manager)."""

        def unit() -> Work[None]:
            _, role = _role((yield from db.relation(club_id, actor_id, None)))
            check("create_tournament", role)

        await self._store.run(unit, read_only=True)

    async def check_tournament_access(self, player_id: int, tournament_id: int) -> int | None:
        """The club of the tournament (None: a public one); ``not_club_member`` when it is a
        club's and she is not a member of it now."""

        def unit() -> Work[int | None]:
            club_id = yield from db.club_of_tournament(tournament_id)
            return (yield from _members_only(club_id, player_id, "tournament"))

        return await self._store.run(unit, read_only=True)

    async def check_table_access(self, player_id: int, table_id: str) -> int | None:
        """The club of ``table_id`` (None: a public table); ``not_club_member`` when it is a
        club's and she is not a member of it now (removed and banned players included). A
        club tournament's table (``t<tournament id>-<n>``) is its club's."""
        tournament_id = _tournament_of_table(table_id)

        def unit() -> Work[int | None]:
            club_id = yield from db.club_of_table(table_id)
            if club_id is None and tournament_id is not None:
                club_id = yield from db.club_of_tournament(tournament_id)
            return (yield from _members_only(club_id, player_id, "table"))

        return await self._store.run(unit, read_only=True)

    async def club_ids_of(self, player_id: int) -> tuple[int, ...]:
        """The clubs she belongs to now (at most CLUBS_PER_PLAYER_MAX)."""

        def unit() -> Work[tuple[int, ...]]:
            found = yield from db.clubs_of(player_id)
            return tuple(sorted(club.id for club, _ in found))

        return await self._store.run(unit, read_only=True)

    async def tables(self, player_id: int | None, club_id: int) -> list[str]:
        def unit() -> Work[list[str]]:
            _, role = _role((yield from db.relation(club_id, player_id, None)))
            if player_id is not None:
                check("view_club", role)
            found = yield from db.club_tables(club_id)
            return found

        return await self._run(unit)

    async def stats(self, actor_id: int | None, club_id: int, period: Period) -> ClubStats:
        scope = f"club:{club_id}"

        def unit() -> Work[ClubStats]:
            _, role = _role((yield from db.relation(club_id, actor_id, None)))
            if actor_id is not None:
                check("view_stats", role)
            members = yield from db.all_members(club_id)
            hands, active, rake = yield from rb_db.scope_activity(
                scope, period.start_ms, period.end_ms
            )
            rows = yield from rb_db.accruals(scope, period.id)
            return ClubStats(
                club_id=club_id, period=period.id,
                members=sum(1 for m in members if m.joined_at_ms < period.end_ms),
                active_players=active, hands=hands, rake=rake,
                rakeback_paid=sum(r.amount for r in rows
                                  if r.kind == "rakeback" and r.transfer_id is not None),
                commission_paid=sum(r.amount for r in rows
                                    if r.kind == "commission" and r.transfer_id is not None),
            )  # fmt: skip

        return await self._run(unit)

    async def _on_member(
        self,
        actor_id: int,
        club_id: int,
        player_id: int,
        action: Action,
        write: Callable[[int, int], Work[Any]],
    ) -> None:
        def unit() -> Work[None]:
            rel, role = _role((yield from db.relation(club_id, actor_id, player_id)))
            target = _target(rel)
            check(action, role, target.role)
            yield from write(club_id, player_id)

        await self._run(unit)


def _removed(club_id: int, player_id: int, *, now_ms: int) -> Work[None]:
    return db.remove_member(club_id, player_id, now_ms)


def _target(rel: Relation) -> Member:
    if rel.target is None:
        raise ClubMemberNotFound("no such member in this club")
    return rel.target


def _may_join(rel: Relation) -> None:
    if rel.target is not None:
        raise AlreadyClubMember("already a member of this club")
    if rel.target_banned:
        raise BannedFromClub("you are banned from this club")
    if rel.target_clubs >= CLUBS_PER_PLAYER_MAX:
        raise ClubLimitReached(f"a player is in at most {CLUBS_PER_PLAYER_MAX} clubs")


def _check_size(club_id: int) -> Work[None]:
    count = yield from db.count_members(club_id)
    if count >= CLUB_MEMBERS_MAX:
        raise ClubLimitReached(f"a club has at most {CLUB_MEMBERS_MAX} members")


def _benefits(club: Club, members: list[Member]) -> Benefits:
    table = tiers_from_json(club.tiers_json)
    return Benefits(
        club_id=club.id, rakeback_deal_bp=club.rakeback_deal_bp,
        tiers=list(table.tiers) if table else None,
        points_per_chip=(table.points_per_chip_num, table.points_per_chip_den) if table else (1, 1),
        agent_rates_bp={m.player_id: m.commission_bp for m in members if m.role == "agent"},
    )  # fmt: skip


def _check_benefits(
    club: Club, members: list[Member], rates: dict[int, int], tiers_json: str | None
) -> None:
    """The club's program after a change must settle: tiers and rates within the deal."""
    changed = [
        msgspec.structs.replace(m, role="agent", commission_bp=rates[m.player_id])
        if m.player_id in rates and rates[m.player_id] > 0
        else m
        for m in members
    ]
    try:
        club_program(msgspec.structs.replace(club, tiers_json=tiers_json), changed)
    except (InvalidProgram, InvalidTiers) as error:
        raise InvalidClubInput(str(error)) from None


def _members_only(club_id: int | None, player_id: int, what: str) -> Work[int | None]:
    """``club_id`` (None: public) unless it is a club's and she is not a member now."""
    if club_id is None:
        return None
    member = yield from db.get_member(club_id, player_id)
    if member is None:
        raise NotClubMember(f"this {what} is for the club's members")
    return club_id


def _tournament_of_table(table_id: str) -> int | None:
    """The tournament of a tournament table's id ``t<id>-<n>`` (None: not one)."""
    head, dash, tail = table_id.removeprefix(TOURNAMENT_TABLE_PREFIX).partition("-")
    if table_id.startswith(TOURNAMENT_TABLE_PREFIX) and dash and head.isdigit() and tail.isdigit():
        return int(head)
    return None


def _random_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_CHARS))


def _random_suffix() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(TABLE_ID_SUFFIX_CHARS))


__all__ = ["ClubError", "Clubs"]
