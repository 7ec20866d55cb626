"""Player-service messages: profiles, preferences, statistics, leaderboards, level-ups.

Requests need a registered account (guests get ``account_required``). Refusals are error
replies with the codes of protocol/errors.py (``display_name_taken``, ``invalid_preference``,
...); a refused request changes nothing. docs/players.md defines every statistic.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from protocol.fields import RequestId

DISPLAY_NAME_CHARS_MAX: Final = 20  # players/profiles.py checks the rest
AVATAR_CHARS_MAX: Final = 512
BIO_CHARS_MAX: Final = 280
PREFERENCE_CHANGES_MAX: Final = 16
LEADERBOARD_TOP_MAX: Final = 100
STAKES_LISTED_MAX: Final = 500
ACHIEVEMENTS_MAX: Final = 64

PlayerId = Annotated[int, Meta(ge=1, le=2**63 - 1)]
Board = Annotated[str, Meta(min_length=1, max_length=64)]
Period = Literal["daily", "weekly", "monthly"]
PreferenceValue = (
    bool | Annotated[int, Meta(ge=-(2**31), le=2**31)] | Annotated[str, Meta(max_length=64)]
)


class _PlayerMessage(
    msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=True, kw_only=True
):
    pass


class _Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


# --- records --------------------------------------------------------------------------------


class ProfileView(_Record, frozen=True):
    """A public profile. ``avatar``: ``builtin:<name>`` (ace, king, queen, jack, joker, chip,
    club, diamond, heart, spade) or an https URL."""

    player_id: int
    display_name: str
    avatar: str
    country: str  # ISO 3166-1 alpha-2, or empty
    bio: str
    member_since_ms: int
    level: int


class PreferencesView(_Record, frozen=True):
    four_colour_deck: bool
    auto_muck: bool
    auto_post_blinds: bool
    sounds: bool
    language: str
    time_zone: str
    default_buy_in_bb: int
    stats_privacy: Literal["public", "private"]


class StakeFigures(_Record, frozen=True):
    """One stake key's figures (docs/players.md); null: no hand to divide by."""

    asset: str
    game: str
    stake: str
    hands: int
    vpip_pct: float | None
    pfr_pct: float | None
    three_bet_pct: float | None
    aggression_factor: float | None
    went_to_showdown_pct: float | None
    won_at_showdown_pct: float | None
    net_won: int
    bb_per_100: float | None
    rake_paid: int


class TournamentFiguresView(_Record, frozen=True):
    asset: str
    entries: int
    in_the_money_pct: float | None
    roi_pct: float | None
    best_finish: int | None
    prizes_won: int
    points: int


class AchievementView(_Record, frozen=True):
    code: str
    title: str
    earned_at_ms: int


class RankEntry(_Record, frozen=True):
    rank: int
    player_id: int
    display_name: str
    score: int


# --- client -> server -----------------------------------------------------------------------


class GetProfile(_PlayerMessage, tag="get_profile", frozen=True):
    """A player's public profile; without ``player_id``, the requester's own. Reply: Profile."""

    id: RequestId
    player_id: PlayerId | None = None


class UpdateProfile(_PlayerMessage, tag="update_profile", frozen=True):
    """Change the fields given (omitted: unchanged). The display name changes at most once
    every 30 days. Reply: Profile."""

    id: RequestId
    display_name: Annotated[str, Meta(max_length=DISPLAY_NAME_CHARS_MAX * 4)] | None = None
    avatar: Annotated[str, Meta(max_length=AVATAR_CHARS_MAX)] | None = None
    country: Annotated[str, Meta(max_length=2)] | None = None
    bio: Annotated[str, Meta(max_length=BIO_CHARS_MAX * 2)] | None = None


class GetPreferences(_PlayerMessage, tag="get_preferences", frozen=True):
    id: RequestId


class SetPreferences(_PlayerMessage, tag="set_preferences", frozen=True):
    """Change the named preferences; an unknown key or a bad value refuses all of them.
    Reply: PreferencesReply."""

    id: RequestId
    changes: Annotated[
        dict[Annotated[str, Meta(max_length=64)], PreferenceValue],
        Meta(min_length=1, max_length=PREFERENCE_CHANGES_MAX),
    ]


class GetPlayerStats(_PlayerMessage, tag="get_player_stats", frozen=True):
    """A player's level, XP, achievements and statistics (hidden when she keeps them
    private); without ``player_id``, the requester's own. Reply: PlayerStats."""

    id: RequestId
    player_id: PlayerId | None = None


class GetLeaderboard(_PlayerMessage, tag="get_leaderboard", frozen=True):
    """The top ``limit`` of a board (``xp``, ``points``, ``net:<asset>:<game>:<stake>``) in
    the current UTC day, ISO week or month, and the requester's own rank. Reply: Leaderboard."""

    id: RequestId
    board: Board
    period: Period = "daily"
    limit: Annotated[int, Meta(ge=1, le=LEADERBOARD_TOP_MAX)] = 10


PlayerRequest = (
    GetProfile | UpdateProfile | GetPreferences | SetPreferences | GetPlayerStats | (GetLeaderboard)
)

# --- server -> client: replies --------------------------------------------------------------


class Profile(_PlayerMessage, tag="profile", frozen=True):
    """``account_name`` and ``display_name_change_allowed_at_ms`` only on the player's own."""

    id: RequestId
    profile: ProfileView
    account_name: str | None = None
    display_name_change_allowed_at_ms: int | None = None


class PreferencesReply(_PlayerMessage, tag="preferences", frozen=True):
    id: RequestId
    preferences: PreferencesView


class PlayerStats(_PlayerMessage, tag="player_stats", frozen=True):
    """``private``: the player hides her statistics from others (``stakes`` and
    ``tournaments`` are then empty); level, XP and achievements are always shown."""

    id: RequestId
    player_id: int
    level: int
    xp: int
    xp_for_next_level: int | None
    hands: int
    private: bool
    stakes: Annotated[list[StakeFigures], Meta(max_length=STAKES_LISTED_MAX)]
    tournaments: Annotated[list[TournamentFiguresView], Meta(max_length=8)]
    achievements: Annotated[list[AchievementView], Meta(max_length=ACHIEVEMENTS_MAX)]


class Leaderboard(_PlayerMessage, tag="leaderboard", frozen=True):
    """``period_key``: ``d2026-12-02``, ``w2026-W49`` or ``m2026-12`` (UTC). Ties rank the
    higher player id first. ``me``: null when the requester has no score on it."""

    id: RequestId
    board: str
    period: Period
    period_key: str
    entries: Annotated[list[RankEntry], Meta(max_length=LEADERBOARD_TOP_MAX)]
    me: RankEntry | None


PlayerReply = Profile | PreferencesReply | PlayerStats | Leaderboard

# --- server -> client: pushes ---------------------------------------------------------------


class LevelUp(_PlayerMessage, tag="level_up", frozen=True):
    """The player reached a new level (XP: docs/players.md)."""

    level: int
    xp: int
    reached_at_ms: int


class AchievementEarned(_PlayerMessage, tag="achievement_earned", frozen=True):
    code: str
    title: str
    earned_at_ms: int


PlayerPush = LevelUp | AchievementEarned
