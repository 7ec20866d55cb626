"""Player preferences: the keys, their defaults and what each accepts. Pure.

A change names some keys and their new values; an unknown key or a value out of range
refuses the whole change (``unknown_preference`` / ``invalid_preference``), changing nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, Literal, final

import msgspec

LANGUAGES: Final = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "sv", "ru", "ja", "zh")
BUY_IN_BB_MIN: Final = 20
BUY_IN_BB_MAX: Final = 500
TIME_ZONE_CHARS_MAX: Final = 64
CHANGES_MAX: Final = 16  # bound on the keys of one change
_TIME_ZONE_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}")

StatsPrivacy = Literal["public", "private"]


@final
class Preferences(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    four_colour_deck: bool = False
    auto_muck: bool = True  # muck a losing hand at showdown instead of showing it
    auto_post_blinds: bool = True
    sounds: bool = True
    language: str = "en"  # one of LANGUAGES
    time_zone: str = "UTC"  # an IANA time zone name
    default_buy_in_bb: int = 100  # big blinds, BUY_IN_BB_MIN..BUY_IN_BB_MAX
    stats_privacy: StatsPrivacy = "public"  # "private": statistics for the player and staff


PREFERENCE_KEYS: Final[tuple[str, ...]] = Preferences.__struct_fields__
DEFAULTS: Final = Preferences()


@final
class PreferenceRefused(ValueError):
    def __init__(self, code: str, key: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.key = key
        self.message = message


def _bool(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise PreferenceRefused("invalid_preference", key, f"{key} is true or false")
    return value


def _check(key: str, value: object, time_zones: frozenset[str]) -> object:
    match key:
        case "four_colour_deck" | "auto_muck" | "auto_post_blinds" | "sounds":
            return _bool(key, value)
        case "language":
            if value not in LANGUAGES:
                raise PreferenceRefused(
                    "invalid_preference", key, f"language is one of {', '.join(LANGUAGES)}"
                )
            return value
        case "time_zone":
            if (
                not isinstance(value, str)
                or len(value) > TIME_ZONE_CHARS_MAX
                or not _TIME_ZONE_RE.fullmatch(value)
                or value not in time_zones
            ):
                raise PreferenceRefused(
                    "invalid_preference", key, "time_zone is an IANA name (Europe/Berlin)"
                )
            return value
        case "default_buy_in_bb":
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not BUY_IN_BB_MIN <= value <= BUY_IN_BB_MAX
            ):
                raise PreferenceRefused(
                    "invalid_preference",
                    key,
                    f"default_buy_in_bb is a whole number {BUY_IN_BB_MIN}-{BUY_IN_BB_MAX}",
                )
            return value
        case "stats_privacy":
            if value not in ("public", "private"):
                raise PreferenceRefused("invalid_preference", key, "public or private")
            return value
    raise PreferenceRefused("unknown_preference", key[:64], f"no preference named {key[:64]!r}")


def apply_changes(
    current: Preferences, changes: Mapping[str, object], time_zones: frozenset[str]
) -> Preferences:
    """``current`` with ``changes`` made, every one checked first. ``time_zones``: the
    names the server knows (zoneinfo.available_timezones(), passed in: this module does
    no I/O)."""
    if not changes:
        raise PreferenceRefused("invalid_preference", "", "no change given")
    if len(changes) > CHANGES_MAX:
        raise PreferenceRefused("invalid_preference", "", f"at most {CHANGES_MAX} keys")
    checked = {key: _check(key, value, time_zones) for key, value in changes.items()}
    return msgspec.structs.replace(current, **checked)


def decode_stored(raw: str | bytes) -> Preferences:
    """A stored JSON object; keys a newer version removed are dropped, missing ones take
    their default."""
    data = msgspec.json.decode(raw)
    if not isinstance(data, dict):
        return DEFAULTS
    known = {k: v for k, v in data.items() if k in PREFERENCE_KEYS}
    try:
        return msgspec.convert(known, Preferences)
    except msgspec.ValidationError:
        return DEFAULTS
