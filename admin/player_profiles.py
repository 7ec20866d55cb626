"""Players' profiles and statistics for staff: search by display name, view everything
(private fields, private statistics), rename an offensive display name (audited).

The rules are services/profiles.py's and players/'s, the same as the player's own doors.
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct
from quart import Blueprint
from quart_schema import document_querystring, document_request, validate_querystring

from admin.auth import error, requires
from admin.bodies import Reason, RowId, read_body
from admin.context import audit_stamp, current_context
from admin.permissions import Permission
from admin.players import PLAYER
from persistence.profiles import PROFILES_PAGE_MAX, ProfileRecord
from players.profiles import DISPLAY_NAME_CHARS_MAX, ProfileRefused
from services import profiles
from services.player_stats import stats_view

profile_routes = Blueprint("player_profiles", __name__)


class ProfileSearch(Struct, frozen=True):
    q: Annotated[str, Meta(max_length=DISPLAY_NAME_CHARS_MAX)] = ""
    after_id: RowId | None = None
    limit: Annotated[int, Meta(ge=1, le=PROFILES_PAGE_MAX)] = 50


class ProfileRow(Struct, frozen=True):
    player_id: int
    display_name: str
    account_name: str
    role: str
    banned: bool
    member_since_ms: int


class ProfilePage(Struct, frozen=True):
    profiles: list[ProfileRow]
    next_after_id: int | None


class RenameRequest(Struct, frozen=True, forbid_unknown_fields=True):
    display_name: Annotated[str, Meta(min_length=1, max_length=4 * DISPLAY_NAME_CHARS_MAX)]
    reason: Reason


def _row(r: ProfileRecord) -> ProfileRow:
    return ProfileRow(r.player_id, r.display_name, r.account_name, r.role, r.banned,
                      r.member_since_ms)  # fmt: skip


@profile_routes.get("/players/profiles")
@requires(Permission.PLAYERS_READ)
@validate_querystring(ProfileSearch)
@document_querystring(ProfileSearch)
async def search_profiles(query_args: ProfileSearch) -> Any:
    """Players whose display name starts with ``q`` (ignoring case), in id order, paged."""
    found = await profiles.search_profiles(
        current_context().store, query_args.q, query_args.after_id, query_args.limit
    )
    next_after = found[-1].player_id if len(found) == query_args.limit else None
    return ProfilePage([_row(r) for r in found], next_after)


@profile_routes.get(f"/players/{PLAYER}/profile")
@requires(Permission.PLAYERS_READ)
async def player_profile(player_id: int) -> Any:
    """The whole profile, public and private fields (banned players too)."""
    own = await profiles.own_profile(current_context().store, player_id)
    return error(404, "not_found", f"no player with id {player_id}") if own is None else own


@profile_routes.get(f"/players/{PLAYER}/stats")
@requires(Permission.PLAYERS_READ)
async def player_stats(player_id: int) -> Any:
    """Level, XP, achievements and every statistic, private or not (staff see all)."""
    store = current_context().store
    if await store.get_account(player_id) is None:
        return error(404, "not_found", f"no player with id {player_id}")
    return await stats_view(store, player_id, audience="staff")


@profile_routes.post(f"/players/{PLAYER}/display-name")
@requires(Permission.PLAYERS_RENAME)
@document_request(RenameRequest)
async def rename_player(player_id: int) -> Any:
    """Replace a display name (an offensive one), audited with a reason. The new name obeys
    the naming rules and must be free; the player's own once-per-30-days change stays hers."""
    body = await read_body(RenameRequest)
    context = current_context()
    stamp = audit_stamp("players.rename", f"player:{player_id}", body.reason)
    try:
        renamed = await profiles.staff_rename(context.store, player_id, body.display_name, stamp)
    except ProfileRefused as exc:
        status = 409 if exc.code == "display_name_taken" else 422
        return error(status, exc.code, exc.message)
    if renamed is None:
        return error(404, "not_found", f"no player with id {player_id}")
    context.on_renamed(player_id, renamed.public.display_name)
    return renamed
