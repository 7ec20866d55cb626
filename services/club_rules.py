"""Club rules, pure: roles, the permission table, and who may act on whom.

Roles, highest first: ``owner`` (one per club), ``manager``, ``agent``, ``member``. The
permission table below is the whole of "who may do what"; docs/clubs.md prints it.

Two more rules apply on top of the table:

- *rank*: an action on another member (remove, ban, set a role, set an agent, approve her
  request...) needs a rank above the target's (owner 3, manager 2, agent 1, member 1; agents
  rank as members: they bring players, they do not run the club). So a manager cannot remove
  another manager, and nobody acts on the owner.
- *own members*: an agent sees only the members she brought (and invites players, who become
  hers when they accept).

No I/O here: services/clubs.py reads the club and both players' standing, asks
:func:`check`, then writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

Role = Literal["owner", "manager", "agent", "member"]
ROLES: Final[tuple[Role, ...]] = ("owner", "manager", "agent", "member")
JoinPolicy = Literal["open", "approval", "invitation"]
JOIN_POLICIES: Final[tuple[JoinPolicy, ...]] = ("open", "approval", "invitation")
RANK: Final[Mapping[str, int]] = {"owner": 3, "manager": 2, "agent": 1, "member": 1}

Action = Literal[
    "view_club", "view_members", "view_stats", "invite", "review_requests", "remove", "ban",
    "set_role", "set_agent", "set_commission", "edit_club", "edit_tiers", "transfer_ownership",
    "register_table", "create_table", "close_table", "create_tournament", "leave",
]  # fmt: skip

# action -> the roles that may take it (the permission table of docs/clubs.md)
PERMISSIONS: Final[Mapping[Action, frozenset[str]]] = {
    "view_club": frozenset(ROLES),
    "view_members": frozenset({"owner", "manager", "agent"}),  # an agent: her own members
    "view_stats": frozenset({"owner", "manager"}),
    "invite": frozenset({"owner", "manager", "agent"}),
    "review_requests": frozenset({"owner", "manager"}),  # approve or reject join requests
    "remove": frozenset({"owner", "manager"}),
    "ban": frozenset({"owner", "manager"}),  # and unban
    "set_role": frozenset({"owner"}),  # make a member a manager or an agent, or back
    "set_agent": frozenset({"owner", "manager"}),
    "set_commission": frozenset({"owner"}),  # an agent's commission rate
    "edit_club": frozenset({"owner", "manager"}),  # description, join policy
    "edit_tiers": frozenset({"owner"}),  # the members' tier table
    "transfer_ownership": frozenset({"owner"}),
    "register_table": frozenset({"owner", "manager"}),  # a table id's rake is the club's
    "create_table": frozenset({"owner", "manager"}),  # open a members-only club table
    "close_table": frozenset({"owner", "manager"}),  # close one of the club's tables
    "create_tournament": frozenset({"owner", "manager"}),  # a members-only tournament
    "leave": frozenset({"manager", "agent", "member"}),  # the owner transfers first
}
# Actions that name another member, who must rank below the actor.
ON_OTHERS: Final = frozenset({"remove", "ban", "set_role", "set_agent", "set_commission"})


class ClubError(Exception):
    """A refused club operation; ``code`` is stable and goes into error frames and problems."""

    code: str = "club_error"


class ClubNotFound(ClubError):
    code = "club_not_found"


class NotClubMember(ClubError):
    code = "not_club_member"


class ClubPermissionDenied(ClubError):
    code = "club_permission_denied"


class ClubMemberNotFound(ClubError):
    code = "club_member_not_found"


class AlreadyClubMember(ClubError):
    code = "already_club_member"


class BannedFromClub(ClubError):
    code = "banned_from_club"


class InvitationRequired(ClubError):
    code = "club_invitation_required"


class NoInvitation(ClubError):
    code = "club_no_invitation"


class NoJoinRequest(ClubError):
    code = "club_no_join_request"


class OwnerCannotLeave(ClubError):
    code = "club_owner_cannot_leave"


class ClubNameTaken(ClubError):
    code = "club_name_taken"


class InvalidClubInput(ClubError):
    code = "invalid_club_input"


class ClubLimitReached(ClubError):
    code = "club_limit_reached"


def check(action: Action, actor_role: str | None, target_role: str | None = None) -> None:
    """Refuse ``action`` unless the table allows the actor's role (None: not a member) and,
    for an action on another member, the actor ranks above her."""
    if actor_role is None:
        raise NotClubMember("you are not a member of this club")
    if actor_role not in PERMISSIONS[action]:
        raise ClubPermissionDenied(f"a club {actor_role} cannot {action.replace('_', ' ')}")
    if action in ON_OTHERS and target_role is not None and RANK[actor_role] <= RANK[target_role]:
        raise ClubPermissionDenied(
            f"a club {actor_role} cannot {action.replace('_', ' ')} a {target_role}"
        )


def may(action: Action, actor_role: str | None, target_role: str | None = None) -> bool:
    try:
        check(action, actor_role, target_role)
    except ClubError:
        return False
    return True
