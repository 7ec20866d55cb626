"""Player profiles and preferences, as stored (the rules: players/profiles.py, preferences.py).

Every account has a profile row (create_account writes it; migration 0015 wrote one for each
older account). ``display_name_key`` (the name folded) is unique: the check below refuses a
taken name before the update, and the UNIQUE constraint stays the last word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, final

import msgspec

from persistence.accounts import _like_prefix
from persistence.audit import Change
from persistence.work import Query, Row, Work
from players.preferences import DEFAULTS, Preferences, apply_changes, decode_stored
from players.profiles import ProfileChange, ProfileRefused, check_rename_allowed, name_key

PROFILES_PAGE_MAX: Final = 100
NAMES_LOOKUP_MAX: Final = 500  # bound on ids per display_names() call


@final
class ProfileRecord(msgspec.Struct, frozen=True):
    player_id: int
    account_name: str  # the login name: private (staff and the player)
    display_name: str
    display_name_changed_at_ms: int | None
    avatar: str
    country: str
    bio: str
    member_since_ms: int
    banned: bool
    role: str


_COLUMNS = (
    "p.player_id, a.name, p.display_name, p.display_name_changed_at_ms, p.avatar, p.country,"
    " p.bio, a.created_at_ms, a.banned, a.role"
)
_FROM = "player_profiles p JOIN accounts a ON a.id = p.player_id"


def _record(row: Row) -> ProfileRecord:
    return ProfileRecord(
        player_id=int(row[0]), account_name=row[1], display_name=row[2],
        display_name_changed_at_ms=None if row[3] is None else int(row[3]), avatar=row[4],
        country=row[5], bio=row[6], member_since_ms=int(row[7]), banned=bool(row[8]),
        role=row[9],
    )  # fmt: skip


def get_profile(player_id: int) -> Work[ProfileRecord | None]:
    rows = yield Query(f"SELECT {_COLUMNS} FROM {_FROM} WHERE p.player_id = $1", (player_id,))
    return _record(rows[0]) if rows else None


def display_names(player_ids: Sequence[int]) -> Work[dict[int, str]]:
    ids = sorted(set(player_ids))[:NAMES_LOOKUP_MAX]
    if not ids:
        return {}
    marks = ", ".join(f"${i + 1}" for i in range(len(ids)))
    rows = yield Query(
        f"SELECT player_id, display_name FROM player_profiles WHERE player_id IN ({marks})",
        tuple(ids),
    )
    return {int(r[0]): r[1] for r in rows}


def search_profiles(prefix: str, after_id: int | None, limit: int) -> Work[list[ProfileRecord]]:
    """Profiles whose display name starts with ``prefix`` (ignoring case), by id, paged."""
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE p.display_name_key LIKE $1 ESCAPE '\\'"
        f" AND p.player_id > $2 ORDER BY p.player_id LIMIT {max(1, min(limit, PROFILES_PAGE_MAX))}",
        (_like_prefix(name_key(prefix)), after_id or 0),
    )
    return [_record(r) for r in rows]


def _rename(player_id: int, name: str) -> Work[None]:
    key = name_key(name)
    taken = yield Query(
        "SELECT player_id FROM player_profiles WHERE display_name_key = $1 AND player_id <> $2",
        (key, player_id),
    )
    if taken:
        raise ProfileRefused("display_name_taken", "another player shows this display name")
    taken = yield Query(
        "SELECT id FROM accounts WHERE name_folded = $1 AND id <> $2", (key, player_id)
    )
    if taken:  # another player's login name: refused, so nobody shows as someone else
        raise ProfileRefused("display_name_taken", "another player uses this name")


def change_profile(player_id: int, change: ProfileChange, now_ms: int) -> Work[ProfileRecord]:
    """Apply a checked change (players.profiles.check_change) to the player's own profile.
    Raises ProfileRefused (taken, too soon); LookupError for no such profile."""
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE p.player_id = $1", (player_id,), lock="p"
    )
    if not rows:
        raise LookupError(player_id)
    current = _record(rows[0])
    name = current.display_name
    changed_at = current.display_name_changed_at_ms
    if change.display_name is not None and change.display_name != current.display_name:
        check_rename_allowed(changed_at, now_ms)
        yield from _rename(player_id, change.display_name)
        name, changed_at = change.display_name, now_ms
    yield Query(
        "UPDATE player_profiles SET display_name = $2, display_name_key = $3,"
        " display_name_changed_at_ms = $4, avatar = $5, country = $6, bio = $7,"
        " updated_at_ms = $8 WHERE player_id = $1",
        (
            player_id, name, name_key(name), changed_at,
            current.avatar if change.avatar is None else change.avatar,
            current.country if change.country is None else change.country,
            current.bio if change.bio is None else change.bio, now_ms,
        ),
    )  # fmt: skip
    after = yield from get_profile(player_id)
    assert after is not None, "a locked profile vanished"
    return after


def staff_rename_change(
    player_id: int, name: str, now_ms: int
) -> Work[Change[ProfileRecord | None]]:
    """Staff rename an (offensive) display name: an audited change; the player's own
    once-per-period allowance is not used up by it."""
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE p.player_id = $1", (player_id,), lock="p"
    )
    if not rows:
        return Change(None, logged=False)
    before = _record(rows[0])
    yield from _rename(player_id, name)
    yield Query(
        "UPDATE player_profiles SET display_name = $2, display_name_key = $3, updated_at_ms = $4"
        " WHERE player_id = $1",
        (player_id, name, name_key(name), now_ms),
    )
    after = yield from get_profile(player_id)
    assert after is not None, "a locked profile vanished"
    return Change(
        after,
        before={"player_id": player_id, "display_name": before.display_name},
        after={"player_id": player_id, "display_name": after.display_name},
    )


# --- preferences ----------------------------------------------------------------------------


def get_preferences(player_id: int) -> Work[Preferences]:
    rows = yield Query(
        "SELECT preferences FROM player_preferences WHERE player_id = $1", (player_id,)
    )
    return decode_stored(rows[0][0]) if rows else DEFAULTS


def change_preferences(
    player_id: int, changes: Mapping[str, object], time_zones: frozenset[str], now_ms: int
) -> Work[Preferences]:
    """Read (locked), change, write: one unit, so two changes at once both land.
    PreferenceRefused (from the rules) rolls back, changing nothing."""
    rows = yield Query(
        "SELECT preferences FROM player_preferences r WHERE player_id = $1",
        (player_id,),
        lock="r",
    )
    current = decode_stored(rows[0][0]) if rows else DEFAULTS
    changed = apply_changes(current, changes, time_zones)
    yield Query(
        "INSERT INTO player_preferences (player_id, preferences, updated_at_ms)"
        " VALUES ($1, $2, $3) ON CONFLICT (player_id) DO UPDATE SET"
        " preferences = excluded.preferences, updated_at_ms = excluded.updated_at_ms",
        (player_id, msgspec.json.encode(changed).decode(), now_ms),
    )
    return changed
