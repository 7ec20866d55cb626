"""Clubs' storage: clubs, members, bans, invitations, join requests and club tables.

Only storage lives here; who may do what is decided by the pure rules of services/clubs.py,
which a unit of work calls after it has read (and on PostgreSQL locked) the club's row, so
two changes to one club are decided one after the other. ``relation`` reads everything a
rule looks at in one unit: the club, the acting player's and the target's memberships, the
target's ban, invitation and join request.
"""

from __future__ import annotations

from typing import Final, final

import msgspec

from persistence.events import ClubMemberChanged, NewEvent
from persistence.outbox import append
from persistence.work import Query, Row, Work, one

CLUB_PAGE_MAX: Final = 200  # bound: a larger page is clamped to this
CLUBS_PER_PLAYER_MAX: Final = 50  # bound: clubs one player may belong to (services refuse more)


@final
class Club(msgspec.Struct, frozen=True):
    id: int
    code: str
    name: str
    description: str
    join_policy: str  # "open", "approval" or "invitation"
    owner_id: int
    rakeback_deal_bp: int  # the club's share of its tables' rake, in basis points
    tiers_json: str | None  # the members' tier table (services/clubs.py), None: no tiers
    created_at_ms: int


@final
class Member(msgspec.Struct, frozen=True):
    club_id: int
    player_id: int
    role: str  # "owner", "manager", "agent" or "member"
    agent_id: int | None  # the agent who brought her
    commission_bp: int  # an agent's commission on her members' rake
    joined_at_ms: int


@final
class Invitation(msgspec.Struct, frozen=True):
    club_id: int
    player_id: int
    invited_by: int
    agent_id: int | None  # the inviting agent, who becomes the member's agent
    created_at_ms: int


@final
class JoinRequest(msgspec.Struct, frozen=True):
    club_id: int
    player_id: int
    agent_id: int | None
    created_at_ms: int


@final
class Relation(msgspec.Struct, frozen=True):
    """What the rules see of one action in one club."""

    club: Club
    actor: Member | None
    target: Member | None
    target_banned: bool
    invitation: Invitation | None
    request: JoinRequest | None
    target_clubs: int  # clubs the target belongs to


_CLUB = (
    "id, code, name, description, join_policy, owner_id, rakeback_deal_bp, tiers_json,"
    " created_at_ms"
)
_MEMBER = "club_id, player_id, role, agent_id, commission_bp, joined_at_ms"


def _club_event(kind: str, club_id: int, player_id: int, role: str, now_ms: int) -> Work[int]:
    """The change's domain event (persistence/events.py), in its transaction."""
    payload = ClubMemberChanged(club_id=club_id, player_id=player_id, role=role)
    return (yield from append(NewEvent(kind, f"club:{club_id}", payload), now_ms))


def _club(row: Row) -> Club:
    return Club(
        id=int(row[0]), code=row[1], name=row[2], description=row[3], join_policy=row[4],
        owner_id=int(row[5]), rakeback_deal_bp=int(row[6]), tiers_json=row[7],
        created_at_ms=int(row[8]),
    )  # fmt: skip


def _member(row: Row) -> Member:
    return Member(
        club_id=int(row[0]), player_id=int(row[1]), role=row[2],
        agent_id=None if row[3] is None else int(row[3]), commission_bp=int(row[4]),
        joined_at_ms=int(row[5]),
    )  # fmt: skip


def _page(limit: int) -> int:
    return max(1, min(limit, CLUB_PAGE_MAX))


def create_club(
    code: str, name: str, description: str, join_policy: str, owner_id: int, now_ms: int
) -> Work[Club | None]:
    """A new club with its owner as first member; None if the name (ignoring case) or the
    code is taken."""
    rows = yield Query(
        f"INSERT INTO clubs (code, name, name_folded, description, join_policy, owner_id,"
        f" created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
        f" RETURNING {_CLUB}",
        (code, name, name.casefold(), description, join_policy, owner_id, now_ms),
    )
    if not rows:
        return None
    club = _club(rows[0])
    yield Query(
        f"INSERT INTO club_members ({_MEMBER}) VALUES ($1, $2, 'owner', NULL, 0, $3)",
        (club.id, owner_id, now_ms),
    )
    yield from _club_event("club.created", club.id, owner_id, "owner", now_ms)
    return club


def get_club(club_id: int) -> Work[Club | None]:
    rows = yield Query(f"SELECT {_CLUB} FROM clubs WHERE id = $1", (club_id,))
    return _club(rows[0]) if rows else None


def get_club_by_code(code: str) -> Work[Club | None]:
    rows = yield Query(f"SELECT {_CLUB} FROM clubs WHERE code = $1", (code,))
    return _club(rows[0]) if rows else None


def all_club_ids() -> Work[list[int]]:
    rows = yield Query("SELECT id FROM clubs ORDER BY id")
    return [int(r[0]) for r in rows]


def clubs_of(player_id: int) -> Work[list[tuple[Club, Member]]]:
    cols = ", ".join(f"c.{c.strip()}" for c in _CLUB.split(","))
    mcols = ", ".join(f"m.{c.strip()}" for c in _MEMBER.split(","))
    rows = yield Query(
        f"SELECT {cols}, {mcols} FROM club_members m JOIN clubs c ON c.id = m.club_id"
        f" WHERE m.player_id = $1 ORDER BY c.id LIMIT {CLUBS_PER_PLAYER_MAX}",
        (player_id,),
    )
    return [(_club(r[:9]), _member(r[9:])) for r in rows]


def relation(club_id: int, actor_id: int | None, target_id: int | None) -> Work[Relation | None]:
    """The club (row-locked on PostgreSQL until the unit ends) and both players' standing."""
    rows = yield Query(f"SELECT {_CLUB} FROM clubs c WHERE id = $1", (club_id,), lock="c")
    if not rows:
        return None
    club = _club(rows[0])
    actor = None if actor_id is None else (yield from get_member(club_id, actor_id))
    target = None if target_id is None else (yield from get_member(club_id, target_id))
    banned, invitation, request, count = False, None, None, 0
    if target_id is not None:
        rows = yield Query(
            "SELECT 1 FROM club_bans WHERE club_id = $1 AND player_id = $2", (club_id, target_id)
        )
        banned = bool(rows)
        rows = yield Query(
            "SELECT club_id, player_id, invited_by, agent_id, created_at_ms FROM"
            " club_invitations WHERE club_id = $1 AND player_id = $2",
            (club_id, target_id),
        )
        if rows:
            r = rows[0]
            invitation = Invitation(int(r[0]), int(r[1]), int(r[2]),
                                    None if r[3] is None else int(r[3]), int(r[4]))  # fmt: skip
        rows = yield Query(
            "SELECT club_id, player_id, agent_id, created_at_ms FROM club_join_requests"
            " WHERE club_id = $1 AND player_id = $2",
            (club_id, target_id),
        )
        if rows:
            r = rows[0]
            request = JoinRequest(int(r[0]), int(r[1]), None if r[2] is None else int(r[2]),
                                  int(r[3]))  # fmt: skip
        rows = yield Query("SELECT COUNT(*) FROM club_members WHERE player_id = $1", (target_id,))
        count = int(one(rows)[0])
    return Relation(club, actor, target, banned, invitation, request, count)


def get_member(club_id: int, player_id: int) -> Work[Member | None]:
    rows = yield Query(
        f"SELECT {_MEMBER} FROM club_members WHERE club_id = $1 AND player_id = $2",
        (club_id, player_id),
    )
    return _member(rows[0]) if rows else None


def members(club_id: int, after_player: int | None, limit: int) -> Work[list[Member]]:
    rows = yield Query(
        f"SELECT {_MEMBER} FROM club_members WHERE club_id = $1 AND player_id > $2"
        f" ORDER BY player_id LIMIT {_page(limit)}",
        (club_id, after_player if after_player is not None else -1),
    )
    return [_member(r) for r in rows]


def all_members(club_id: int) -> Work[list[Member]]:
    """Every member (rakeback settles a whole club at once; a club's size is bounded by the
    services' CLUB_MEMBERS_MAX)."""
    rows = yield Query(
        f"SELECT {_MEMBER} FROM club_members WHERE club_id = $1 ORDER BY player_id", (club_id,)
    )
    return [_member(r) for r in rows]


def count_members(club_id: int) -> Work[int]:
    rows = yield Query("SELECT COUNT(*) FROM club_members WHERE club_id = $1", (club_id,))
    return int(one(rows)[0])


def add_member(club_id: int, player_id: int, agent_id: int | None, now_ms: int) -> Work[Member]:
    """A new member (role member); her invitation and join request are done with."""
    yield from clear_pending(club_id, player_id)
    rows = yield Query(
        f"INSERT INTO club_members ({_MEMBER}) VALUES ($1, $2, 'member', $3, 0, $4)"
        f" RETURNING {_MEMBER}",
        (club_id, player_id, agent_id, now_ms),
    )
    yield from _club_event("club.member_joined", club_id, player_id, "member", now_ms)
    return _member(one(rows))


def clear_pending(club_id: int, player_id: int) -> Work[None]:
    yield Query(
        "DELETE FROM club_invitations WHERE club_id = $1 AND player_id = $2", (club_id, player_id)
    )
    yield Query(
        "DELETE FROM club_join_requests WHERE club_id = $1 AND player_id = $2",
        (club_id, player_id),
    )


def remove_member(club_id: int, player_id: int, now_ms: int) -> Work[None]:
    """Out of the club (its club.member_left event with her role, when she was a member);
    members she brought as their agent keep no agent."""
    rows = yield Query(
        "DELETE FROM club_members WHERE club_id = $1 AND player_id = $2 RETURNING role",
        (club_id, player_id),
    )
    if rows:
        yield from _club_event("club.member_left", club_id, player_id, str(rows[0][0]), now_ms)
    yield Query(
        "UPDATE club_members SET agent_id = NULL WHERE club_id = $1 AND agent_id = $2",
        (club_id, player_id),
    )


def ban(club_id: int, player_id: int, by_id: int, now_ms: int) -> Work[None]:
    yield from remove_member(club_id, player_id, now_ms)
    yield from clear_pending(club_id, player_id)
    yield Query(
        "INSERT INTO club_bans (club_id, player_id, banned_by, banned_at_ms) VALUES"
        " ($1, $2, $3, $4) ON CONFLICT (club_id, player_id) DO NOTHING",
        (club_id, player_id, by_id, now_ms),
    )


def unban(club_id: int, player_id: int) -> Work[bool]:
    rows = yield Query(
        "DELETE FROM club_bans WHERE club_id = $1 AND player_id = $2 RETURNING player_id",
        (club_id, player_id),
    )
    return bool(rows)


def set_role(club_id: int, player_id: int, role: str, commission_bp: int) -> Work[Member]:
    rows = yield Query(
        f"UPDATE club_members SET role = $3, commission_bp = $4 WHERE club_id = $1"
        f" AND player_id = $2 RETURNING {_MEMBER}",
        (club_id, player_id, role, commission_bp),
    )
    return _member(one(rows))


def set_agent(club_id: int, player_id: int, agent_id: int | None) -> Work[Member]:
    rows = yield Query(
        f"UPDATE club_members SET agent_id = $3 WHERE club_id = $1 AND player_id = $2"
        f" RETURNING {_MEMBER}",
        (club_id, player_id, agent_id),
    )
    return _member(one(rows))


def set_owner(club_id: int, old_owner: int, new_owner: int) -> Work[Club]:
    """The new owner (a member) becomes owner; the old one stays, as a manager."""
    yield Query(
        "UPDATE club_members SET role = 'manager', commission_bp = 0 WHERE club_id = $1"
        " AND player_id = $2",
        (club_id, old_owner),
    )
    yield Query(
        "UPDATE club_members SET role = 'owner', commission_bp = 0, agent_id = NULL"
        " WHERE club_id = $1 AND player_id = $2",
        (club_id, new_owner),
    )
    rows = yield Query(
        f"UPDATE clubs SET owner_id = $2 WHERE id = $1 RETURNING {_CLUB}", (club_id, new_owner)
    )
    return _club(one(rows))


def update_club(
    club_id: int, description: str, join_policy: str, deal_bp: int, tiers_json: str | None
) -> Work[Club]:
    rows = yield Query(
        f"UPDATE clubs SET description = $2, join_policy = $3, rakeback_deal_bp = $4,"
        f" tiers_json = $5 WHERE id = $1 RETURNING {_CLUB}",
        (club_id, description, join_policy, deal_bp, tiers_json),
    )
    return _club(one(rows))


def invite(
    club_id: int, player_id: int, by_id: int, agent_id: int | None, now_ms: int
) -> Work[Invitation]:
    yield Query(
        "INSERT INTO club_invitations (club_id, player_id, invited_by, agent_id, created_at_ms)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (club_id, player_id) DO UPDATE SET"
        " invited_by = excluded.invited_by, agent_id = excluded.agent_id,"
        " created_at_ms = excluded.created_at_ms",
        (club_id, player_id, by_id, agent_id, now_ms),
    )
    return Invitation(club_id, player_id, by_id, agent_id, now_ms)


def request_join(
    club_id: int, player_id: int, agent_id: int | None, now_ms: int
) -> Work[JoinRequest]:
    yield Query(
        "INSERT INTO club_join_requests (club_id, player_id, agent_id, created_at_ms)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (club_id, player_id) DO NOTHING",
        (club_id, player_id, agent_id, now_ms),
    )
    return JoinRequest(club_id, player_id, agent_id, now_ms)


def join_requests(club_id: int, limit: int) -> Work[list[JoinRequest]]:
    rows = yield Query(
        "SELECT club_id, player_id, agent_id, created_at_ms FROM club_join_requests"
        f" WHERE club_id = $1 ORDER BY created_at_ms, player_id LIMIT {_page(limit)}",
        (club_id,),
    )
    return [JoinRequest(int(r[0]), int(r[1]), None if r[2] is None else int(r[2]), int(r[3]))
            for r in rows]  # fmt: skip


def invitations_of(player_id: int) -> Work[list[Invitation]]:
    rows = yield Query(
        "SELECT club_id, player_id, invited_by, agent_id, created_at_ms FROM club_invitations"
        f" WHERE player_id = $1 ORDER BY club_id LIMIT {CLUB_PAGE_MAX}",
        (player_id,),
    )
    return [Invitation(int(r[0]), int(r[1]), int(r[2]), None if r[3] is None else int(r[3]),
                       int(r[4])) for r in rows]  # fmt: skip


# -- club tables ----------------------------------------------------------------------------


def register_table(club_id: int, table_id: str, now_ms: int) -> Work[int]:
    """The club that owns ``table_id`` after this (the first registration wins for life)."""
    yield Query(
        "INSERT INTO club_tables (table_id, club_id, registered_at_ms) VALUES ($1, $2, $3)"
        " ON CONFLICT (table_id) DO NOTHING",
        (table_id, club_id, now_ms),
    )
    rows = yield Query("SELECT club_id FROM club_tables WHERE table_id = $1", (table_id,))
    return int(one(rows)[0])


def club_tables(club_id: int) -> Work[list[str]]:
    rows = yield Query(
        "SELECT table_id FROM club_tables WHERE club_id = $1 ORDER BY table_id", (club_id,)
    )
    return [str(r[0]) for r in rows]


def club_of_table(table_id: str) -> Work[int | None]:
    rows = yield Query("SELECT club_id FROM club_tables WHERE table_id = $1", (table_id,))
    return int(rows[0][0]) if rows else None


def open_table_count(club_id: int, opening_since_ms: int) -> Work[int]:
    """The club's tables that count against its bound: registered, not closed for good (no
    ``table-closed:<id>`` tombstone, actors/table_admin.py), and started once (a
    ``table-epoch:<id>`` counter) or registered after ``opening_since_ms`` (being opened
    now). A table registered but never opened (its opening failed) counts no more."""
    rows = yield Query(
        "SELECT COUNT(*) FROM club_tables t WHERE t.club_id = $1"
        " AND NOT EXISTS (SELECT 1 FROM snapshots s"
        " WHERE s.actor_id = 'table-closed:' || t.table_id)"
        " AND (t.registered_at_ms > $2 OR EXISTS (SELECT 1 FROM snapshots e"
        " WHERE e.actor_id = 'table-epoch:' || t.table_id))",
        (club_id, opening_since_ms),
    )
    return int(one(rows)[0])


# -- club tournaments -----------------------------------------------------------------------


def register_tournament(club_id: int, tournament_id: int, now_ms: int) -> Work[None]:
    """The tournament belongs to the club for life (written with the tournament's row)."""
    yield Query(
        "INSERT INTO club_tournaments (tournament_id, club_id, created_at_ms) VALUES ($1, $2, $3)",
        (tournament_id, club_id, now_ms),
    )


def club_of_tournament(tournament_id: int) -> Work[int | None]:
    rows = yield Query(
        "SELECT club_id FROM club_tournaments WHERE tournament_id = $1", (tournament_id,)
    )
    return int(rows[0][0]) if rows else None


def clubs_of_tournaments(tournament_ids: list[int]) -> Work[dict[int, int]]:
    """tournament id -> club id, for those of ``tournament_ids`` that are a club's."""
    ids = sorted(set(tournament_ids))
    if not ids:
        return {}
    marks = ", ".join(f"${n}" for n in range(1, len(ids) + 1))
    rows = yield Query(
        f"SELECT tournament_id, club_id FROM club_tournaments WHERE tournament_id IN ({marks})",
        tuple(ids),
    )
    return {int(r[0]): int(r[1]) for r in rows}


def remove_member_agent_links(club_id: int, agent_id: int) -> Work[None]:
    """An agent who is one no more: her members keep no agent."""
    yield Query(
        "UPDATE club_members SET agent_id = NULL WHERE club_id = $1 AND agent_id = $2",
        (club_id, agent_id),
    )
