"""Clubs (services/clubs.py) on both backends: joining by each policy, invitations and
requests, roles and the permission table, bans, leaving, ownership, benefits, statistics."""

from __future__ import annotations

import pytest

from persistence import outbox
from persistence.audit import AuditStamp
from persistence.events import decode_payload
from persistence.hands import HandPlayer, HandRecord
from persistence.store import Store
from rakeback.periods import period_containing
from rakeback.tiers import Tier, TierTable
from services import club_rules
from services.club_rules import (
    AlreadyClubMember,
    BannedFromClub,
    ClubNameTaken,
    ClubNotFound,
    ClubPermissionDenied,
    InvalidClubInput,
    InvitationRequired,
    NoJoinRequest,
    NotClubMember,
    OwnerCannotLeave,
)
from services.clubs import Clubs
from tests.clubs.conftest import player
from tests.persistence.stores import ManualClock

STAFF = AuditStamp("staff", "admin", "clubs.deal", "club:1", "deal", "req-1")


async def _club(store: Store, clubs: Clubs, policy: str = "approval") -> tuple[int, int, str]:
    owner = await player(store, "olga")
    info = await clubs.create(owner, "Night Owls", "late games", policy)
    return owner, info.club_id, info.code


async def test_a_club_is_found_by_its_code_in_any_case(store: Store, clubs: Clubs) -> None:
    owner, club_id, code = await _club(store, clubs)
    assert len(code) == 6
    found = await clubs.find(code.lower())
    assert (found.club_id, found.name, found.members) == (club_id, "Night Owls", 1)
    (mine,) = await clubs.my_clubs(owner)
    assert mine.role == "owner"
    for bad in ("", "ZZZZZZ", "0O1I00", "x" * 500):
        with pytest.raises(ClubNotFound):
            await clubs.find(bad)


async def test_bad_input_is_refused_and_changes_nothing(store: Store, clubs: Clubs) -> None:
    owner = await player(store, "olga")
    for name, policy in (("ab", "open"), ("x" * 41, "open"), ("ok name", "closed"),
                         ("bad\x00name", "open")):  # fmt: skip
        with pytest.raises(InvalidClubInput):
            await clubs.create(owner, name, "", policy)
    assert await clubs.my_clubs(owner) == []
    await clubs.create(owner, "Sharks", "")
    with pytest.raises(ClubNameTaken):
        await clubs.create(await player(store, "bea"), "SHARKS", "")


async def test_an_open_club_takes_a_player_at_once(store: Store, clubs: Clubs) -> None:
    _, _club_id, code = await _club(store, clubs, "open")
    bea = await player(store, "bea")
    member = await clubs.join(bea, code)
    assert member is not None and member.role == "member"
    with pytest.raises(AlreadyClubMember):
        await clubs.join(bea, code)


async def test_a_club_by_approval_takes_a_request_a_manager_approves(
    store: Store, clubs: Clubs
) -> None:
    owner, club_id, code = await _club(store, clubs)
    bea, cid = await player(store, "bea"), await player(store, "cid")
    assert await clubs.join(bea, code) is None
    assert await clubs.join(cid, code) is None
    with pytest.raises(NotClubMember):
        await clubs.join_requests(bea, club_id)
    assert [r.player_id for r in await clubs.join_requests(owner, club_id)] == [bea, cid]
    approved = await clubs.review_request(owner, club_id, bea, approve=True)
    assert approved is not None and approved.role == "member"
    assert await clubs.review_request(owner, club_id, cid, approve=False) is None
    with pytest.raises(NoJoinRequest):
        await clubs.review_request(owner, club_id, cid, approve=True)
    assert [m.player_id for m in await clubs.members(owner, club_id)] == [owner, bea]


async def test_a_club_by_invitation_needs_one(store: Store, clubs: Clubs) -> None:
    owner, club_id, code = await _club(store, clubs, "invitation")
    bea = await player(store, "bea")
    with pytest.raises(InvitationRequired):
        await clubs.join(bea, code)
    await clubs.invite(owner, club_id, bea)
    assert [i.club_id for i in await clubs.invitations(bea)] == [club_id]
    member = await clubs.accept_invitation(bea, club_id)
    assert member.agent_id is None
    assert await clubs.invitations(bea) == []


async def test_a_member_cannot_act_as_a_manager(store: Store, clubs: Clubs) -> None:
    owner, club_id, code = await _club(store, clubs, "open")
    bea, cid = await player(store, "bea"), await player(store, "cid")
    await clubs.join(bea, code)
    await clubs.join(cid, code)
    attempts = [
        clubs.remove(bea, club_id, cid),
        clubs.ban(bea, club_id, cid),
        clubs.invite(bea, club_id, await player(store, "dan")),
        clubs.join_requests(bea, club_id),
        clubs.members(bea, club_id),
        clubs.set_role(bea, club_id, cid, "manager"),
        clubs.update(bea, club_id, join_policy="open"),
        clubs.register_table(bea, club_id, "t-1"),
        clubs.stats(bea, club_id, period_containing("day", 0)),
        clubs.transfer_ownership(bea, club_id, bea),
        clubs.set_tiers(bea, club_id, None),
    ]
    for attempt in attempts:
        with pytest.raises(ClubPermissionDenied):
            await attempt
    assert len(await clubs.members(owner, club_id)) == 3


async def test_a_manager_cannot_act_on_another_manager_or_the_owner(
    store: Store, clubs: Clubs
) -> None:
    owner, club_id, code = await _club(store, clubs, "open")
    bea, cid = await player(store, "bea"), await player(store, "cid")
    for p in (bea, cid):
        await clubs.join(p, code)
        await clubs.set_role(owner, club_id, p, "manager")
    with pytest.raises(ClubPermissionDenied):
        await clubs.remove(bea, club_id, cid)
    with pytest.raises(ClubPermissionDenied):
        await clubs.ban(bea, club_id, owner)
    await clubs.remove(owner, club_id, cid)


async def test_a_banned_member_cannot_rejoin(store: Store, clubs: Clubs) -> None:
    owner, club_id, code = await _club(store, clubs, "open")
    bea = await player(store, "bea")
    await clubs.join(bea, code)
    await clubs.ban(owner, club_id, bea)
    assert [m.player_id for m in await clubs.members(owner, club_id)] == [owner]
    with pytest.raises(BannedFromClub):
        await clubs.join(bea, code)
    with pytest.raises(BannedFromClub):
        await clubs.invite(owner, club_id, bea)
    assert await clubs.unban(owner, club_id, bea)
    assert await clubs.join(bea, code) is not None


async def test_leaving_and_the_owner_who_must_transfer_first(store: Store, clubs: Clubs) -> None:
    owner, club_id, code = await _club(store, clubs, "open")
    bea = await player(store, "bea")
    await clubs.join(bea, code)
    with pytest.raises(OwnerCannotLeave):
        await clubs.leave(owner, club_id)
    info = await clubs.transfer_ownership(owner, club_id, bea)
    assert info.members == 2
    roles = {m.player_id: m.role for m in await clubs.members(bea, club_id)}
    assert roles == {owner: "manager", bea: "owner"}
    await clubs.leave(owner, club_id)
    with pytest.raises(NotClubMember):
        await clubs.leave(owner, club_id)


async def test_an_agents_invitation_makes_her_the_members_agent(store: Store, clubs: Clubs) -> None:
    owner, club_id, _code = await _club(store, clubs, "invitation")
    ada, bea = await player(store, "ada"), await player(store, "bea")
    await clubs.invite(owner, club_id, ada)
    await clubs.accept_invitation(ada, club_id)
    await clubs.set_deal(club_id, 5_000, STAFF)
    await clubs.set_role(owner, club_id, ada, "agent", commission_bp=3_000)
    await clubs.invite(ada, club_id, bea)
    member = await clubs.accept_invitation(bea, club_id)
    assert member.agent_id == ada
    assert [m.player_id for m in await clubs.members(ada, club_id)] == [bea]  # her own only
    benefits = await clubs.benefits(bea, club_id)
    assert benefits.agent_rates_bp == {ada: 3_000}


async def test_joining_with_an_agent_id_makes_her_that_agents_member(
    store: Store, clubs: Clubs
) -> None:
    owner, club_id, code = await _club(store, clubs, "open")
    ada, bea, cid = [await player(store, n) for n in ("ada", "bea", "cid")]
    await clubs.join(ada, code)
    # Naming a member who is not an agent is refused, and she stays out.
    with pytest.raises(InvalidClubInput):
        await clubs.join(bea, code, agent_id=ada)
    with pytest.raises(InvalidClubInput):
        await clubs.join(bea, code, agent_id=owner)
    assert [m.player_id for m in await clubs.members(owner, club_id)] == [owner, ada]
    await clubs.set_deal(club_id, 5_000, STAFF)
    await clubs.set_role(owner, club_id, ada, "agent", commission_bp=3_000)
    member = await clubs.join(bea, code, agent_id=ada)
    assert member is not None and (member.role, member.agent_id) == ("member", ada)
    # By approval, the agent named in the request is hers once a manager approves it.
    await clubs.update(owner, club_id, join_policy="approval")
    assert await clubs.join(cid, code, agent_id=ada) is None
    (request,) = await clubs.join_requests(owner, club_id)
    assert request.agent_id == ada
    approved = await clubs.review_request(owner, club_id, cid, approve=True)
    assert approved is not None and approved.agent_id == ada
    assert [m.player_id for m in await clubs.members(ada, club_id)] == [bea, cid]  # hers
    program = await clubs.benefits(owner, club_id)
    assert program.agent_rates_bp == {ada: 3_000}


async def test_benefits_never_exceed_the_clubs_deal(store: Store, clubs: Clubs) -> None:
    owner, club_id, code = await _club(store, clubs, "open")
    ada = await player(store, "ada")
    await clubs.join(ada, code)
    with pytest.raises(InvalidClubInput):  # the deal is 0 until staff set it
        await clubs.set_role(owner, club_id, ada, "agent", commission_bp=1)
    await clubs.set_deal(club_id, 4_000, STAFF)
    tiers = TierTable((Tier("Base", 0, 1_000), Tier("Top", 500, 3_000)))
    assert (await clubs.set_tiers(owner, club_id, tiers)).tiers == list(tiers.tiers)
    with pytest.raises(InvalidClubInput):
        await clubs.set_tiers(owner, club_id, TierTable((Tier("Base", 0, 4_001),)))
    await clubs.set_role(owner, club_id, ada, "agent", commission_bp=4_000)
    with pytest.raises(InvalidClubInput):
        await clubs.set_deal(club_id, 3_500, STAFF)  # below a rate and a tier
    assert (await clubs.benefits(None, club_id)).rakeback_deal_bp == 4_000
    entries = await store.list_audit(target="club:1")
    assert [e.after for e in entries] == [{"rakeback_deal_bp": 4_000}]  # the refusal: none


async def test_a_table_belongs_to_one_club_for_life(store: Store, clubs: Clubs) -> None:
    owner, club_id, _ = await _club(store, clubs)
    other = await clubs.create(await player(store, "bea"), "Other", "")
    table = f"club{club_id}-t1"
    await clubs.register_table(owner, club_id, table)
    await clubs.register_table(owner, club_id, table)  # a retry
    with pytest.raises(InvalidClubInput):
        await clubs.register_table(None, other.club_id, table)
    assert await clubs.tables(owner, club_id) == [table]
    # An owner registers no id outside her club's namespace: a house table's rake and its
    # public seats are not hers to take (staff may register any id, audited).
    for foreign in ("nt-1-2-a", f"club{other.club_id}-x", "club-t2"):
        with pytest.raises(InvalidClubInput):
            await clubs.register_table(owner, club_id, foreign)
    assert await clubs.tables(owner, club_id) == [table]


async def test_statistics_by_period(store: Store, clubs: Clubs, clock: ManualClock) -> None:
    owner, club_id, code = await _club(store, clubs, "open")
    bea = await player(store, "bea")
    await clubs.join(bea, code)
    await clubs.register_table(owner, club_id, f"club{club_id}-t1")
    now = clock.now_ms
    for i, table in enumerate((f"club{club_id}-t1", f"club{club_id}-t1", "public-1")):
        await store.save_hand(HandRecord(
            f"h{i}", table, "NLHE 1/2", now, now + 1, 100, 4,
            (HandPlayer(owner, 0, -50, 2), HandPlayer(bea, 1, 46, 2)), "",
        ))  # fmt: skip
    stats = await clubs.stats(owner, club_id, period_containing("day", now))
    assert (stats.members, stats.active_players, stats.hands, stats.rake) == (2, 2, 2, 8)
    assert stats.rakeback_paid == 0


def test_the_permission_table_covers_every_action_and_role() -> None:
    for action, roles in club_rules.PERMISSIONS.items():
        assert roles <= set(club_rules.ROLES), action
    assert not club_rules.may("remove", "member", "member")
    assert club_rules.may("remove", "manager", "agent")
    assert not club_rules.may("remove", "manager", "manager")
    assert not club_rules.may("view_club", None)


async def test_a_clubs_life_is_written_as_domain_events(store: Store, clubs: Clubs) -> None:
    owner, club_id, code = await _club(store, clubs, policy="open")
    ann = await player(store, "ann")
    ben = await player(store, "ben")
    await clubs.join(ann, code)
    await clubs.join(ben, code)
    await clubs.leave(ann, club_id)
    await clubs.remove(owner, club_id, ben)
    found = await store.run(lambda: outbox.between(1, None, 1000), read_only=True)
    ours = [e for e in found if e.aggregate == f"club:{club_id}"]
    assert [(e.type, e.sequence) for e in ours] == [
        ("club.created", 1),
        ("club.member_joined", 2),
        ("club.member_joined", 3),
        ("club.member_left", 4),
        ("club.member_left", 5),
    ]
    payloads = [decode_payload(e.type, e.payload) for e in ours]
    assert [(p.player_id, p.role) for p in payloads] == [
        (owner, "owner"),
        (ann, "member"),
        (ben, "member"),
        (ann, "member"),
        (ben, "member"),
    ]
