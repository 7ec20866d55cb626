"""Profiles, preferences, statistics and leaderboards (docs/players.md).

Only translation: the rules live in players/ and services/ (profiles.py, player_stats.py,
leaderboards.py), the same ones the websocket uses. Refusals keep their codes.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from api.problems import ApiProblem
from api.routes.common import EXAMPLE_TIME_MS, RowId
from api.routing import Call, Reply, RouteTable
from persistence.players import RankedScore
from players.preferences import PreferenceRefused, Preferences
from players.profiles import ProfileChange, ProfileRefused
from players.progress import period_key
from players.stats import StatFigures
from services import profiles
from services.api_keys import Scope
from services.leaderboards import LeaderboardRefused, Leaderboards, check_period
from services.player_stats import PlayerStatsView, StakeStats, stats_view
from services.profiles import OwnProfile, PublicProfile

routes = RouteTable()

PROFILE_ERRORS: Final = (
    "display_name_invalid", "display_name_offensive", "display_name_taken",
    "display_name_change_too_soon", "avatar_invalid", "country_invalid", "bio_too_long",
    "bio_invalid",
)  # fmt: skip
NO_NUL: Final = "^[^\\x00]*$"


class ProfileUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The fields to change; an omitted one stays."""

    display_name: Annotated[str, Meta(max_length=80, pattern=NO_NUL)] | None = None
    avatar: Annotated[str, Meta(max_length=512, pattern=NO_NUL)] | None = None
    country: Annotated[str, Meta(max_length=2, pattern=NO_NUL)] | None = None
    bio: Annotated[str, Meta(max_length=560, pattern=NO_NUL)] | None = None


PreferenceValue = bool | int | Annotated[str, Meta(max_length=64, pattern=NO_NUL)]


class PreferencesChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    changes: Annotated[
        dict[Annotated[str, Meta(max_length=64, pattern=NO_NUL)], PreferenceValue],
        Meta(min_length=1, max_length=16),
    ]


class RankEntry(msgspec.Struct, frozen=True):
    rank: int
    player_id: int
    display_name: str
    score: int


class LeaderboardPage(msgspec.Struct, frozen=True):
    board: str
    period: str
    period_key: str  # d2026-12-02, w2026-W49, m2026-12 (UTC)
    entries: list[RankEntry]


class MyRank(msgspec.Struct, frozen=True):
    board: str
    period: str
    period_key: str
    entry: RankEntry | None  # null: no score on this board in this period


class LeaderboardQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    board: Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)]
    period: Literal["daily", "weekly", "monthly"] = "daily"
    limit: Annotated[int, Meta(ge=1, le=100)] = 10


class RankQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    board: Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)]
    period: Literal["daily", "weekly", "monthly"] = "daily"


_PUBLIC_EXAMPLE = PublicProfile(
    42, "Queen Alice", EXAMPLE_TIME_MS, display_name="Queen Alice", avatar="builtin:queen",
    country="FR", bio="Omaha mostly", level=7,
)  # fmt: skip
_OWN_EXAMPLE = OwnProfile(_PUBLIC_EXAMPLE, "alice", EXAMPLE_TIME_MS, None)
_FIGURES = StatFigures(
    hands=1200, vpip_pct=24.5, pfr_pct=18.25, three_bet_pct=7.1, aggression_factor=2.4,
    went_to_showdown_pct=27.0, won_at_showdown_pct=52.3, net_won=5400, bb_per_100=11.25,
    rake_paid=310,
)  # fmt: skip
_STATS_EXAMPLE = PlayerStatsView(
    player_id=42, level=7, xp=16_800, xp_for_next_level=21_000, hands=1200,
    stakes=[StakeStats("chips", "NT", "1/2", _FIGURES)], tournaments={}, achievements=[],
    private=False,
)  # fmt: skip


def _profile_problem(exc: ProfileRefused) -> ApiProblem:
    wait_s = None if exc.retry_after_ms is None else -(-exc.retry_after_ms // 1000)
    return ApiProblem(exc.code, exc.message, retry_after_s=wait_s)


@routes.operation(
    operation_id="getMyProfile",
    method="GET",
    path="/v1/me/profile",
    summary="My profile: the public fields and the private ones (login name, next rename)",
    tag="me",
    response=OwnProfile,
    example=msgspec.to_builtins(_OWN_EXAMPLE),
    scope=Scope.ME_READ,
    personal=True,
)
async def get_my_profile(call: Call) -> Reply:
    own = await profiles.own_profile(call.context.store, call.player_id)
    if own is None:
        raise ApiProblem("account_required", "no account behind this credential")
    return Reply(own)


@routes.operation(
    operation_id="updateMyProfile",
    method="POST",
    path="/v1/me/profile",
    summary="Change my display name (once every 30 days), avatar, country or bio",
    description="Only the fields given change. A refusal changes nothing.",
    tag="me",
    response=OwnProfile,
    example=msgspec.to_builtins(_OWN_EXAMPLE),
    scope=Scope.ME_WRITE,
    personal=True,
    body=ProfileUpdate,
    body_example={"display_name": "Queen Alice", "country": "FR"},
    errors=PROFILE_ERRORS,
)
async def update_my_profile(call: Call) -> Reply:
    body: ProfileUpdate = call.body
    change = ProfileChange(body.display_name, body.avatar, body.country, body.bio)
    try:
        updated = await profiles.update_profile(call.context.store, call.player_id, change)
    except ProfileRefused as exc:
        raise _profile_problem(exc) from exc
    # The tables she sits at show her new name at once (as after the websocket's change).
    call.context.profile_changed(call.player_id, display_name=updated.public.display_name)
    return Reply(updated)


@routes.operation(
    operation_id="getMyPreferences",
    method="GET",
    path="/v1/me/preferences",
    summary="My preferences",
    tag="me",
    response=Preferences,
    example=msgspec.to_builtins(Preferences()),
    scope=Scope.ME_READ,
    personal=True,
)
async def get_my_preferences(call: Call) -> Reply:
    return Reply(await profiles.preferences(call.context.store, call.player_id))


@routes.operation(
    operation_id="changeMyPreferences",
    method="POST",
    path="/v1/me/preferences",
    summary="Change some of my preferences",
    description="An unknown key or a bad value refuses the whole change.",
    tag="me",
    response=Preferences,
    example=msgspec.to_builtins(Preferences(four_colour_deck=True)),
    scope=Scope.ME_WRITE,
    personal=True,
    body=PreferencesChange,
    body_example={"changes": {"four_colour_deck": True, "time_zone": "Europe/Paris"}},
    errors=("unknown_preference", "invalid_preference"),
)
async def change_my_preferences(call: Call) -> Reply:
    body: PreferencesChange = call.body
    try:
        changed = await profiles.change_preferences(
            call.context.store, call.player_id, body.changes
        )
    except PreferenceRefused as exc:
        raise ApiProblem(exc.code, exc.message) from exc
    call.context.profile_changed(
        call.player_id, auto_muck=changed.auto_muck, auto_post_blinds=changed.auto_post_blinds
    )
    return Reply(changed)


@routes.operation(
    operation_id="getMyStats",
    method="GET",
    path="/v1/me/stats",
    summary="My level, experience, achievements and statistics per game and stake",
    tag="me",
    response=PlayerStatsView,
    example=msgspec.to_builtins(_STATS_EXAMPLE),
    scope=Scope.ME_READ,
    personal=True,
)
async def get_my_stats(call: Call) -> Reply:
    return Reply(await stats_view(call.context.store, call.player_id, audience="self"))


@routes.operation(
    operation_id="getPlayerStats",
    method="GET",
    path="/v1/players/{player_id}/stats",
    summary="A player's level, experience, achievements and (unless private) statistics",
    description="A player who keeps her statistics private shows `private: true` and no"
    " figures to others.",
    tag="players",
    response=PlayerStatsView,
    example=msgspec.to_builtins(_STATS_EXAMPLE),
    scope=Scope.PLAYERS_READ,
    auth="optional",
    path_params={"player_id": RowId},
)
async def get_player_stats(call: Call) -> Reply:
    player_id: int = call.path["player_id"]
    store = call.context.store
    if await profiles.public_profile(store, player_id) is None:
        raise ApiProblem("not_found", f"no player with id {player_id}")
    principal = call.principal
    if principal is not None and principal.player_id == player_id:
        return Reply(await stats_view(store, player_id, audience="self"))
    privacy = (await profiles.preferences(store, player_id)).stats_privacy
    return Reply(await stats_view(store, player_id, audience="public", stats_privacy=privacy))


def _boards(call: Call) -> Leaderboards:
    return call.context.leaderboards or Leaderboards(call.context.store)


def _entry(score: RankedScore, names: dict[int, str]) -> RankEntry:
    return RankEntry(score.rank, score.player_id, names.get(score.player_id, ""), score.score)


@routes.operation(
    operation_id="getLeaderboard",
    method="GET",
    path="/v1/leaderboards",
    summary="The top of a leaderboard in the current UTC day, ISO week or month",
    description="`board`: `xp`, `points` (tournament points) or `net:<asset>:<game>:<stake>`"
    " (net won, e.g. `net:chips:NT:1/2`). Ties rank the higher player id first.",
    tag="players",
    response=LeaderboardPage,
    example={
        "board": "xp",
        "period": "weekly",
        "period_key": "w2026-W49",
        "entries": [{"rank": 1, "player_id": 42, "display_name": "Queen Alice", "score": 900}],
    },
    scope=Scope.PLAYERS_READ,
    auth="optional",
    query=LeaderboardQuery,
    errors=("unknown_leaderboard", "unknown_period"),
)
async def get_leaderboard(call: Call) -> Reply:
    query: LeaderboardQuery = call.query
    try:
        top = await _boards(call).top(
            query.board, query.period, query.limit, call.context.store.clock_ms()
        )
    except LeaderboardRefused as exc:
        raise ApiProblem(exc.code, exc.message) from exc
    names = await profiles.display_names(call.context.store, [e.player_id for e in top.entries])
    return Reply(
        LeaderboardPage(
            top.board, query.period, top.period, [_entry(e, names) for e in top.entries]
        )
    )


@routes.operation(
    operation_id="getMyRank",
    method="GET",
    path="/v1/me/rank",
    summary="My rank and score on a leaderboard in the current period",
    tag="me",
    response=MyRank,
    example={
        "board": "xp",
        "period": "daily",
        "period_key": "d2026-12-02",
        "entry": {"rank": 17, "player_id": 42, "display_name": "Queen Alice", "score": 120},
    },
    scope=Scope.ME_READ,
    personal=True,
    query=RankQuery,
    errors=("unknown_leaderboard", "unknown_period"),
)
async def get_my_rank(call: Call) -> Reply:
    query: RankQuery = call.query
    now_ms = call.context.store.clock_ms()
    boards = _boards(call)
    try:
        mine = await boards.rank(query.board, query.period, call.player_id, now_ms)
    except LeaderboardRefused as exc:
        raise ApiProblem(exc.code, exc.message) from exc
    key = period_key(check_period(query.period), now_ms)
    names = await profiles.display_names(call.context.store, [call.player_id])
    return Reply(
        MyRank(query.board, query.period, key, None if mine is None else _entry(mine, names))
    )
