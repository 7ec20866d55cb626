"""Player profiles and preferences: the one place every door (websocket, public API, admin
API) goes through.

Public and private fields are separate types: :class:`PublicProfile` is what anyone may see
(display name, avatar, country, bio, member since, level); :class:`OwnProfile` adds what only
the player and staff see (the login name, when the display name may change again). A banned
player has no public profile (she answers as an unknown player, as she does to transfers).
Refusals are ProfileRefused / PreferenceRefused with stable codes (docs/players.md).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from functools import cache, partial
from typing import final

import msgspec

from persistence import players as stored_players
from persistence import profiles as stored
from persistence.audit import AuditStamp
from persistence.profiles import ProfileRecord
from persistence.store import Store
from players.preferences import Preferences
from players.profiles import (
    DEFAULT_AVATAR,
    DISPLAY_NAME_CHANGE_PERIOD_MS,
    ProfileChange,
    check_change,
    check_display_name,
)


@final
class PublicProfile(msgspec.Struct, frozen=True):
    id: int
    name: str  # the display name (v1 clients read ``name``; ``display_name`` is the same)
    member_since_ms: int  # when the account was created
    display_name: str = ""
    avatar: str = DEFAULT_AVATAR  # builtin:<name> (docs/players.md) or an https URL
    country: str = ""  # ISO 3166-1 alpha-2, or empty
    bio: str = ""
    level: int = 1


@final
class OwnProfile(msgspec.Struct, frozen=True):
    """The player's own profile (and what staff see): public fields plus private ones."""

    public: PublicProfile
    account_name: str  # the login name; never shown to other players
    display_name_changed_at_ms: int | None
    display_name_change_allowed_at_ms: int | None  # None: may change it now


def _public(record: ProfileRecord, level: int) -> PublicProfile:
    return PublicProfile(
        id=record.player_id,
        name=record.display_name,
        member_since_ms=record.member_since_ms,
        display_name=record.display_name,
        avatar=record.avatar or DEFAULT_AVATAR,
        country=record.country,
        bio=record.bio,
        level=level,
    )


def _own(record: ProfileRecord, level: int, now_ms: int) -> OwnProfile:
    changed = record.display_name_changed_at_ms
    allowed = None if changed is None else changed + DISPLAY_NAME_CHANGE_PERIOD_MS
    return OwnProfile(
        public=_public(record, level),
        account_name=record.account_name,
        display_name_changed_at_ms=changed,
        display_name_change_allowed_at_ms=allowed if allowed and allowed > now_ms else None,
    )


async def _level(store: Store, player_id: int) -> int:
    progress = await store.run(partial(stored_players.get_progress, player_id), read_only=True)
    return progress.level


async def public_profile(store: Store, player_id: int) -> PublicProfile | None:
    """The player's public profile, or None when she has none to show."""
    record = await store.run(partial(stored.get_profile, player_id), read_only=True)
    if record is None or record.banned:
        return None
    return _public(record, await _level(store, player_id))


async def own_profile(store: Store, player_id: int) -> OwnProfile | None:
    """The player's own profile (staff see the same); None: no such account."""
    record = await store.run(partial(stored.get_profile, player_id), read_only=True)
    if record is None:
        return None
    return _own(record, await _level(store, player_id), store.clock_ms())


async def update_profile(store: Store, player_id: int, change: ProfileChange) -> OwnProfile:
    """Raises ProfileRefused (bad or taken name, too soon, bad avatar/country/bio): the
    whole change is refused, nothing is changed."""
    checked = check_change(change)
    now_ms = store.clock_ms()
    record = await store.run(partial(stored.change_profile, player_id, checked, now_ms))
    return _own(record, await _level(store, player_id), now_ms)


async def staff_rename(
    store: Store, player_id: int, name: str, stamp: AuditStamp
) -> OwnProfile | None:
    """Staff rename a display name (audited); None: no such player."""
    checked = check_display_name(name)
    change = partial(stored.staff_rename_change, player_id, checked, store.clock_ms())
    record, _ = await store.run_audited(stamp, change)
    if record is None:
        return None
    return _own(record, await _level(store, player_id), store.clock_ms())


async def search_profiles(
    store: Store, prefix: str, after_id: int | None, limit: int
) -> list[ProfileRecord]:
    return await store.run(partial(stored.search_profiles, prefix, after_id, limit), read_only=True)


async def display_names(store: Store, player_ids: Sequence[int]) -> dict[int, str]:
    return await store.run(partial(stored.display_names, player_ids), read_only=True)


async def display_name(store: Store, player_id: int) -> str | None:
    return (await display_names(store, [player_id])).get(player_id)


# --- preferences ----------------------------------------------------------------------------


@cache
def time_zones() -> frozenset[str]:
    """The IANA names this machine knows (read once)."""
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


async def preferences(store: Store, player_id: int) -> Preferences:
    return await store.run(partial(stored.get_preferences, player_id), read_only=True)


async def change_preferences(
    store: Store, player_id: int, changes: Mapping[str, object]
) -> Preferences:
    """Raises PreferenceRefused (unknown key, bad value): nothing is changed."""
    return await store.run(
        partial(stored.change_preferences, player_id, changes, time_zones(), store.clock_ms())
    )
