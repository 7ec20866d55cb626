"""Player-service requests from a session, answered by services/ (profiles, preferences,
statistics, leaderboards). The gateway only translates; refusals become error frames with
the rules' stable codes (protocol/errors.py). The public and admin APIs call the same
services.
"""

from __future__ import annotations

from typing import Final, final

import msgspec

from persistence.players import HandApplied, RankedScore
from persistence.store import Store
from players.preferences import DEFAULTS, PreferenceRefused, Preferences
from players.profiles import ProfileChange, ProfileRefused
from players.progress import ACHIEVEMENTS
from protocol.errors import ErrorCode
from protocol.players import (
    AchievementEarned,
    AchievementView,
    GetLeaderboard,
    GetPlayerStats,
    GetPreferences,
    GetProfile,
    Leaderboard,
    LevelUp,
    PlayerReply,
    PlayerRequest,
    PlayerStats,
    PreferencesReply,
    PreferencesView,
    Profile,
    ProfileView,
    RankEntry,
    SetPreferences,
    StakeFigures,
    TournamentFiguresView,
    UpdateProfile,
)
from services import profiles
from services.leaderboards import LeaderboardRefused, Leaderboards
from services.player_stats import PlayerStatsView, stats_view
from services.profiles import PublicProfile

PUSH_ACHIEVEMENTS_MAX: Final = 32  # per hand (all players); more are stored, not pushed


@final
class PlayerRefused(Exception):
    def __init__(self, request_id: int, code: str, message: str) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.code = code
        self.message = message
        self.retry_after_ms: int | None = None


def preferences_view(p: Preferences) -> PreferencesView:
    return msgspec.convert(msgspec.to_builtins(p), PreferencesView)


# What a player who never changed a preference has (session_state, logged_in).
DEFAULT_PREFERENCES: Final = preferences_view(DEFAULTS)


def profile_view(p: PublicProfile) -> ProfileView:
    return ProfileView(
        player_id=p.id, display_name=p.display_name, avatar=p.avatar, country=p.country,
        bio=p.bio, member_since_ms=p.member_since_ms, level=p.level,
    )  # fmt: skip


def stats_reply(request_id: int, view: PlayerStatsView) -> PlayerStats:
    return PlayerStats(
        id=request_id,
        player_id=view.player_id,
        level=view.level,
        xp=view.xp,
        xp_for_next_level=view.xp_for_next_level,
        hands=view.hands,
        private=view.private,
        stakes=[
            StakeFigures(
                asset=s.asset, game=s.game, stake=s.stake, **msgspec.structs.asdict(s.figures)
            )
            for s in view.stakes
        ],
        tournaments=[
            TournamentFiguresView(asset=asset, **msgspec.structs.asdict(t))
            for asset, t in sorted(view.tournaments.items())
        ],
        achievements=[
            AchievementView(code=a.code, title=a.title, earned_at_ms=a.earned_at_ms)
            for a in view.achievements
        ],
    )


@final
class PlayerRequests:
    def __init__(self, store: Store, leaderboards: Leaderboards | None = None) -> None:
        self.store = store
        self.leaderboards = leaderboards or Leaderboards(store)

    async def login_details(self, player_id: int, player: str) -> tuple[str, PreferencesView]:
        """At a login: the display name (the login name if the profile is missing) and the
        preferences."""
        name = await profiles.display_name(self.store, player_id)
        prefs = await profiles.preferences(self.store, player_id)
        return name or player, preferences_view(prefs)

    async def handle(self, player_id: int, request: PlayerRequest) -> PlayerReply:
        try:
            return await self._handle(player_id, request)
        except ProfileRefused as exc:
            refused = PlayerRefused(request.id, exc.code, exc.message)
            refused.retry_after_ms = exc.retry_after_ms
            raise refused from exc
        except (PreferenceRefused, LeaderboardRefused) as exc:
            raise PlayerRefused(request.id, exc.code, exc.message) from exc

    async def _handle(self, player_id: int, request: PlayerRequest) -> PlayerReply:
        store = self.store
        match request:
            case GetProfile(player_id=None):
                own = await profiles.own_profile(store, player_id)
                if own is None:
                    raise PlayerRefused(request.id, ErrorCode.UNKNOWN_PLAYER, "no account")
                return Profile(
                    id=request.id,
                    profile=profile_view(own.public),
                    account_name=own.account_name,
                    display_name_change_allowed_at_ms=own.display_name_change_allowed_at_ms,
                )
            case GetProfile(player_id=other) if other is not None:
                public = await profiles.public_profile(store, other)
                if public is None:
                    raise PlayerRefused(request.id, ErrorCode.UNKNOWN_PLAYER, "no such player")
                return Profile(id=request.id, profile=profile_view(public))
            case UpdateProfile():
                change = ProfileChange(
                    display_name=request.display_name, avatar=request.avatar,
                    country=request.country, bio=request.bio,
                )  # fmt: skip
                own = await profiles.update_profile(store, player_id, change)
                return Profile(
                    id=request.id,
                    profile=profile_view(own.public),
                    account_name=own.account_name,
                    display_name_change_allowed_at_ms=own.display_name_change_allowed_at_ms,
                )
            case GetPreferences():
                prefs = await profiles.preferences(store, player_id)
                return PreferencesReply(id=request.id, preferences=preferences_view(prefs))
            case SetPreferences():
                prefs = await profiles.change_preferences(store, player_id, request.changes)
                return PreferencesReply(id=request.id, preferences=preferences_view(prefs))
            case GetPlayerStats():
                target = request.player_id or player_id
                if target == player_id:
                    view = await stats_view(store, target, audience="self")
                else:
                    if await profiles.public_profile(store, target) is None:
                        raise PlayerRefused(request.id, ErrorCode.UNKNOWN_PLAYER, "no such player")
                    privacy = (await profiles.preferences(store, target)).stats_privacy
                    view = await stats_view(store, target, audience="public", stats_privacy=privacy)
                return stats_reply(request.id, view)
            case GetLeaderboard():
                now_ms = store.clock_ms()
                boards = self.leaderboards
                top = await boards.top(request.board, request.period, request.limit, now_ms)
                mine = await boards.rank(request.board, request.period, player_id, now_ms)
                names = await profiles.display_names(
                    store, [e.player_id for e in top.entries] + [player_id]
                )
                return Leaderboard(
                    id=request.id,
                    board=top.board,
                    period=request.period,
                    period_key=top.period,
                    entries=[_entry(e, names) for e in top.entries],
                    me=None if mine is None else _entry(mine, names),
                )
        raise AssertionError(f"unhandled player request {request!r}")


def _entry(score: RankedScore, names: dict[int, str]) -> RankEntry:
    return RankEntry(
        rank=score.rank,
        player_id=score.player_id,
        display_name=names.get(score.player_id, ""),
        score=score.score,
    )


def player_pushes(applied: HandApplied) -> list[tuple[int, LevelUp | AchievementEarned]]:
    """What a counted hand tells its players: level-ups, then achievements earned."""
    pushes: list[tuple[int, LevelUp | AchievementEarned]] = [
        (up.player_id, LevelUp(level=up.level, xp=up.xp, reached_at_ms=up.reached_at_ms))
        for up in applied.level_ups
    ]
    pushes += [
        (a.player_id, AchievementEarned(code=a.code, title=ACHIEVEMENTS.get(a.code, a.code),
                                        earned_at_ms=a.earned_at_ms))
        for a in applied.achievements[:PUSH_ACHIEVEMENTS_MAX]
    ]  # fmt: skip
    return pushes
