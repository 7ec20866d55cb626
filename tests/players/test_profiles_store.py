"""Profiles and preferences on both backends: unique display names, the rename period,
refusals that change nothing, staff renames in the audit log."""

from __future__ import annotations

import pytest

from persistence.accounts import AccountExists
from persistence.audit import AuditStamp
from persistence.store import Store
from players.preferences import PreferenceRefused
from players.profiles import DISPLAY_NAME_CHANGE_PERIOD_MS, ProfileChange, ProfileRefused
from services import profiles
from tests.persistence.stores import ManualClock


async def test_every_account_has_a_profile_named_after_it(store: Store) -> None:
    alice = await store.create_account("alice", "x", "player")
    own = await profiles.own_profile(store, alice.id)
    assert own is not None and own.public.display_name == "alice" and own.account_name == "alice"
    public = await profiles.public_profile(store, alice.id)
    assert public is not None and public.name == "alice" and public.level == 1


async def test_display_names_are_unique_and_change_once_per_period(
    store: Store, clock: ManualClock
) -> None:
    alice = await store.create_account("alice", "x", "player")
    await store.create_account("bob", "x", "player")
    with pytest.raises(ProfileRefused) as refused:
        await profiles.update_profile(store, alice.id, ProfileChange(display_name="BOB"))
    assert refused.value.code == "display_name_taken"
    own = await profiles.update_profile(
        store, alice.id, ProfileChange(display_name="Queen Alice", country="DE", bio="hi")
    )
    assert own.public.display_name == "Queen Alice" and own.public.country == "DE"
    assert own.display_name_change_allowed_at_ms == clock.now_ms + DISPLAY_NAME_CHANGE_PERIOD_MS
    with pytest.raises(ProfileRefused) as refused:
        await profiles.update_profile(
            store, alice.id, ProfileChange(display_name="Alice Again", bio="changed")
        )
    assert refused.value.code == "display_name_change_too_soon"
    unchanged = await profiles.own_profile(store, alice.id)
    assert unchanged is not None and unchanged.public.bio == "hi"  # nothing changed
    clock.advance(DISPLAY_NAME_CHANGE_PERIOD_MS)
    await profiles.update_profile(store, alice.id, ProfileChange(display_name="Alice Again"))
    # A registration cannot take a name someone shows.
    with pytest.raises(AccountExists):
        await store.create_account("alice again", "x", "player")
    # The name she gave up is free again, and her login name stays hers.
    assert (await profiles.display_names(store, [alice.id])) == {alice.id: "Alice Again"}


async def test_offensive_and_bad_fields_change_nothing(store: Store) -> None:
    alice = await store.create_account("alice", "x", "player")
    for change, code in [
        (ProfileChange(display_name="adm1n"), "display_name_offensive"),
        (ProfileChange(avatar="http://x.example.com/a.png"), "avatar_invalid"),
        (ProfileChange(bio="x" * 281), "bio_too_long"),
        (ProfileChange(country="ZZ", bio="ok"), "country_invalid"),
    ]:
        with pytest.raises(ProfileRefused) as refused:
            await profiles.update_profile(store, alice.id, change)
        assert refused.value.code == code
    own = await profiles.own_profile(store, alice.id)
    assert own is not None and own.public.bio == "" and own.public.display_name == "alice"


async def test_staff_rename_is_audited(store: Store) -> None:
    alice = await store.create_account("alice", "x", "player")
    stamp = AuditStamp(
        subject="sam", role="support", action="players.rename", target=f"player:{alice.id}",
        reason="offensive name", request_id="r1",
    )  # fmt: skip
    renamed = await profiles.staff_rename(store, alice.id, "Player 1", stamp)
    assert renamed is not None and renamed.public.display_name == "Player 1"
    assert renamed.display_name_changed_at_ms is None  # her own change is still hers
    (entry,) = await store.list_audit(target=f"player:{alice.id}")
    assert entry.action == "players.rename"
    assert await profiles.staff_rename(store, 999, "Nobody Here", stamp) is None


async def test_preferences_change_and_refusals_change_nothing(store: Store) -> None:
    alice = await store.create_account("alice", "x", "player")
    prefs = await profiles.change_preferences(
        store, alice.id, {"four_colour_deck": True, "default_buy_in_bb": 40}
    )
    assert prefs.four_colour_deck and prefs.default_buy_in_bb == 40
    with pytest.raises(PreferenceRefused):
        await profiles.change_preferences(store, alice.id, {"sounds": False, "nope": 1})
    again = await profiles.preferences(store, alice.id)
    assert again == prefs and again.sounds is True
    tz = await profiles.change_preferences(store, alice.id, {"time_zone": "Europe/Berlin"})
    assert tz.time_zone == "Europe/Berlin" and tz.four_colour_deck
