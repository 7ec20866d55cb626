"""Profile rules: display names, avatars, countries, bios. Pure; every door calls these.

A refusal is a :class:`ProfileRefused` with a stable ``code`` (docs/players.md lists them);
nothing is changed when one is raised.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Final, final
from urllib.parse import urlsplit

DISPLAY_NAME_CHARS_MIN: Final = 3
DISPLAY_NAME_CHARS_MAX: Final = 20
DISPLAY_NAME_CHANGE_PERIOD_MS: Final = 30 * 86_400_000  # one change per 30 days
BIO_CHARS_MAX: Final = 280
BIO_LINES_MAX: Final = 5
AVATAR_URL_CHARS_MAX: Final = 512
# The bundled avatars a client ships images for (clients/web draws them by name).
AVATARS: Final = (
    "ace", "king", "queen", "jack", "joker", "chip", "club", "diamond", "heart", "spade",
)  # fmt: skip
AVATAR_PREFIX: Final = "builtin:"
DEFAULT_AVATAR: Final = "builtin:chip"

# ISO 3166-1 alpha-2, the officially assigned codes.
COUNTRIES: Final = frozenset(
    {
        "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
        "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
        "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
        "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
        "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
        "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
        "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
        "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
        "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
        "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
        "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
        "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
        "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
        "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
        "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
        "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
        "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
    }
)  # fmt: skip

_NAME_RE: Final = re.compile(r"[\w][\w .\-]*[\w]", re.UNICODE)
# Leetspeak folded before the deny-list check: "4dm1n" is "admin".
_LEET: Final = str.maketrans("013457@$!|", "oieastasil")


@final
class ProfileRefused(ValueError):
    def __init__(self, code: str, message: str, retry_after_ms: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after_ms = retry_after_ms


def _load_deny_list() -> tuple[str, ...]:
    text = resources.files("players").joinpath("deny_list.txt").read_text(encoding="utf-8")
    words = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return tuple(sorted({w for w in words if w}))


DENY_LIST: Final = _load_deny_list()


def name_key(name: str) -> str:
    """What two display names compare by: NFKC, then case folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def _skeleton(name: str) -> str:
    folded = name_key(name).translate(_LEET)
    return "".join(ch for ch in folded if ch.isalnum())


def offensive(name: str) -> bool:
    skeleton = _skeleton(name)
    return any(word in skeleton for word in DENY_LIST)


def check_display_name(raw: str) -> str:
    """The name as stored (NFKC), or ProfileRefused: display_name_invalid / _offensive."""
    name = unicodedata.normalize("NFKC", raw)
    if not DISPLAY_NAME_CHARS_MIN <= len(name) <= DISPLAY_NAME_CHARS_MAX:
        raise ProfileRefused(
            "display_name_invalid",
            f"a display name has {DISPLAY_NAME_CHARS_MIN}-{DISPLAY_NAME_CHARS_MAX} characters",
        )
    if not _NAME_RE.fullmatch(name) or "  " in name:
        raise ProfileRefused(
            "display_name_invalid",
            "letters, digits, single spaces, '.', '-' and '_', starting and ending with a"
            " letter or digit",
        )
    if offensive(name):
        raise ProfileRefused("display_name_offensive", "this display name is not allowed")
    return name


def check_rename_allowed(last_change_ms: int | None, now_ms: int) -> None:
    """One change per DISPLAY_NAME_CHANGE_PERIOD_MS (the name given at sign-up is free)."""
    if last_change_ms is None:
        return
    wait_ms = last_change_ms + DISPLAY_NAME_CHANGE_PERIOD_MS - now_ms
    if wait_ms > 0:
        raise ProfileRefused(
            "display_name_change_too_soon",
            "a display name can change once every 30 days",
            retry_after_ms=wait_ms,
        )


def check_avatar(avatar: str) -> str:
    """``builtin:<name>`` of AVATARS, or an https URL of at most 512 characters."""
    if avatar.startswith(AVATAR_PREFIX):
        if avatar[len(AVATAR_PREFIX) :] in AVATARS:
            return avatar
        raise ProfileRefused("avatar_invalid", f"bundled avatars: {', '.join(AVATARS)}")
    if len(avatar) > AVATAR_URL_CHARS_MAX:
        raise ProfileRefused("avatar_invalid", f"an avatar URL has at most {AVATAR_URL_CHARS_MAX}")
    if any(ch.isspace() or not ch.isprintable() for ch in avatar) or not avatar.isascii():
        raise ProfileRefused("avatar_invalid", "an avatar URL is printable ASCII")
    try:
        parts = urlsplit(avatar)
        port = parts.port
    except ValueError as exc:
        raise ProfileRefused("avatar_invalid", "not a URL") from exc
    if parts.scheme != "https" or not parts.hostname or "." not in parts.hostname:
        raise ProfileRefused("avatar_invalid", "an avatar URL is https://host/...")
    if parts.username is not None or parts.password is not None or port not in (None, 443):
        raise ProfileRefused("avatar_invalid", "an avatar URL has no credentials nor port")
    return avatar


def check_country(country: str) -> str:
    """ISO 3166-1 alpha-2 (``DE``), or empty: not given."""
    if country and country not in COUNTRIES:
        raise ProfileRefused("country_invalid", "a country is an ISO 3166-1 alpha-2 code")
    return country


def check_bio(bio: str) -> str:
    if len(bio) > BIO_CHARS_MAX:
        raise ProfileRefused("bio_too_long", f"a bio has at most {BIO_CHARS_MAX} characters")
    if bio.count("\n") >= BIO_LINES_MAX:
        raise ProfileRefused("bio_invalid", f"a bio has at most {BIO_LINES_MAX} lines")
    if any(not ch.isprintable() and ch != "\n" for ch in bio):
        raise ProfileRefused("bio_invalid", "a bio holds no control characters")
    return bio


@final
@dataclass(frozen=True, slots=True)
class ProfileChange:
    """The fields a player asks to change (None: unchanged), checked."""

    display_name: str | None = None
    avatar: str | None = None
    country: str | None = None
    bio: str | None = None


def check_change(change: ProfileChange) -> ProfileChange:
    return ProfileChange(
        display_name=None
        if change.display_name is None
        else check_display_name(change.display_name),
        avatar=None if change.avatar is None else check_avatar(change.avatar),
        country=None if change.country is None else check_country(change.country),
        bio=None if change.bio is None else check_bio(change.bio),
    )
