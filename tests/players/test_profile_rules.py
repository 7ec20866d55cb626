"""Profile and preference rules (players/profiles.py, players/preferences.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from players.preferences import (
    DEFAULTS,
    PREFERENCE_KEYS,
    PreferenceRefused,
    apply_changes,
    decode_stored,
)
from players.profiles import (
    DISPLAY_NAME_CHANGE_PERIOD_MS,
    ProfileRefused,
    check_avatar,
    check_bio,
    check_country,
    check_display_name,
    check_rename_allowed,
    name_key,
)

ZONES = frozenset({"UTC", "Europe/Berlin", "America/New_York"})


@pytest.mark.parametrize("name", ["Alice", "bob_the-3rd", "Zoë K", "José 99"])
def test_ordinary_display_names_pass(name: str) -> None:
    assert check_display_name(name) == name


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("ab", "display_name_invalid"),
        ("x" * 21, "display_name_invalid"),
        (" alice", "display_name_invalid"),
        ("al  ice", "display_name_invalid"),
        ("al\u0000ice", "display_name_invalid"),
        ("Adm1n Bob", "display_name_offensive"),
        ("F.U.C.K", "display_name_offensive"),
        ("TabLium_support", "display_name_offensive"),
    ],
)
def test_bad_display_names_are_refused_with_their_code(name: str, code: str) -> None:
    with pytest.raises(ProfileRefused) as refused:
        check_display_name(name)
    assert refused.value.code == code


def test_names_compare_ignoring_case_and_compatibility_forms() -> None:
    assert (
        name_key("ALICE") == name_key("alice") == name_key("\uff41\uff4c\uff49\uff43\uff45")
    )  # fullwidth


def test_a_rename_waits_for_its_period() -> None:
    check_rename_allowed(None, 0)
    with pytest.raises(ProfileRefused) as refused:
        check_rename_allowed(1000, 1000 + DISPLAY_NAME_CHANGE_PERIOD_MS - 5)
    assert refused.value.code == "display_name_change_too_soon"
    assert refused.value.retry_after_ms == 5
    check_rename_allowed(1000, 1000 + DISPLAY_NAME_CHANGE_PERIOD_MS)


@pytest.mark.parametrize(
    "avatar",
    [
        "http://img.example.com/a.png",
        "https://localhost/a.png",
        "https://user:pw@img.example.com/a.png",
        "https://img.example.com:8443/a.png",
        "https://img.example.com/a b.png",
        "javascript:alert(1)",
        "builtin:dragon",
        "https://img.example.com/" + "a" * 600,
    ],
)
def test_bad_avatars_are_refused(avatar: str) -> None:
    with pytest.raises(ProfileRefused) as refused:
        check_avatar(avatar)
    assert refused.value.code == "avatar_invalid"


def test_good_avatars_pass() -> None:
    assert check_avatar("builtin:ace") == "builtin:ace"
    assert check_avatar("https://img.example.com/me.png") == "https://img.example.com/me.png"


def test_countries_and_bios() -> None:
    assert check_country("DE") == "DE" and check_country("") == ""
    with pytest.raises(ProfileRefused):
        check_country("XX")
    assert check_bio("hello\nworld") == "hello\nworld"
    with pytest.raises(ProfileRefused) as refused:
        check_bio("x" * 281)
    assert refused.value.code == "bio_too_long"


def test_preferences_change_only_what_is_valid() -> None:
    changed = apply_changes(
        DEFAULTS, {"four_colour_deck": True, "time_zone": "Europe/Berlin"}, ZONES
    )
    assert changed.four_colour_deck and changed.time_zone == "Europe/Berlin"
    for bad, code in [
        ({"colour": True}, "unknown_preference"),
        ({"sounds": 1}, "invalid_preference"),
        ({"default_buy_in_bb": 19}, "invalid_preference"),
        ({"default_buy_in_bb": True}, "invalid_preference"),
        ({"time_zone": "Mars/Olympus"}, "invalid_preference"),
        ({"language": "xx"}, "invalid_preference"),
        ({"stats_privacy": "friends"}, "invalid_preference"),
        ({}, "invalid_preference"),
    ]:
        with pytest.raises(PreferenceRefused) as refused:
            apply_changes(DEFAULTS, bad, ZONES)
        assert refused.value.code == code


@given(
    st.dictionaries(
        st.one_of(st.sampled_from(PREFERENCE_KEYS), st.text(max_size=70)),
        st.one_of(st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=80), st.none()),
        max_size=20,
    )
)
def test_any_change_is_either_refused_or_valid(changes: dict[str, object]) -> None:
    try:
        result = apply_changes(DEFAULTS, changes, ZONES)
    except PreferenceRefused as refused:
        assert refused.code in ("unknown_preference", "invalid_preference")
        return
    assert decode_stored(__import__("msgspec").json.encode(result)) == result


@given(st.text(max_size=40))
def test_any_display_name_is_refused_with_a_code_or_kept(name: str) -> None:
    try:
        kept = check_display_name(name)
    except ProfileRefused as refused:
        assert refused.code.startswith("display_name_")
        return
    assert 3 <= len(kept) <= 20
