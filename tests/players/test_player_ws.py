"""The player service over the websocket: logged_in names the player, profiles and
preferences change with clear codes, statistics respect privacy, leaderboards answer."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.client import ServerError, open_client
from protocol.errors import ERROR_CODE_VALUES
from protocol.players import PreferencesView as PREFERENCES
from protocol.players import SetPreferences, UpdateProfile
from server.gateway import GatewayLimits
from tests.players.hands import hand_record, simulated_hand
from tests.protocol.gateway_harness import PASSWORD, gateway_and_store


async def test_profiles_preferences_stats_and_leaderboards(tmp_path: Path) -> None:
    async with (
        gateway_and_store(tmp_path) as (gateway, store),
        open_client(gateway.url) as alice,
        open_client(gateway.url) as bob,
    ):
        logged = await alice.register("alice", PASSWORD)
        assert logged.player_id is not None and logged.display_name == "alice"
        assert logged.preferences is not None and logged.preferences.auto_muck is True
        bob_in = await bob.register("bob", PASSWORD)
        assert bob_in.player_id is not None

        own = await alice.profile()
        assert own.account_name == "alice" and own.profile.display_name == "alice"
        changed = await alice.update_profile(display_name="Alice K", country="FR")
        assert changed.profile.display_name == "Alice K"
        seen = await bob.profile(logged.player_id)
        assert seen.profile.display_name == "Alice K" and seen.account_name is None

        with pytest.raises(ServerError) as refused:
            await bob.update_profile(display_name="alice k")
        assert refused.value.code == "display_name_taken"
        with pytest.raises(ServerError) as refused:
            await alice.update_profile(display_name="Another")
        assert refused.value.code == "display_name_change_too_soon"
        assert refused.value.error.retry_after_ms is not None
        with pytest.raises(ServerError) as refused:
            await bob.update_profile(avatar="ftp://x.example.com/a.png")
        assert refused.value.code == "avatar_invalid"

        prefs = await alice.set_preferences({"four_colour_deck": True, "stats_privacy": "private"})
        assert prefs.four_colour_deck and prefs.stats_privacy == "private"
        with pytest.raises(ServerError) as refused:
            await alice.set_preferences({"sounds": False, "volume": 3})
        assert refused.value.code == "unknown_preference"
        assert (await alice.preferences()).sounds is True

        hand = simulated_hand(1, [logged.player_id, bob_in.player_id], hand_id="h1",
                              ended_at_ms=store.clock_ms())  # fmt: skip
        await store.save_hand(hand_record(hand))
        mine = await alice.player_stats()
        assert mine.hands == 1 and mine.stakes and not mine.private
        hidden = await bob.player_stats(logged.player_id)
        assert hidden.private and hidden.stakes == [] and hidden.level == mine.level
        board = await bob.leaderboard("xp", "weekly")
        assert [e.display_name for e in board.entries] == ["bob", "Alice K"]  # tie: higher id
        assert board.me is not None and board.me.rank == 1
        with pytest.raises(ServerError) as refused:
            await bob.leaderboard("karma")
        assert refused.value.code == "unknown_leaderboard"


async def test_guests_have_no_profile(tmp_path: Path) -> None:
    limits = GatewayLimits(guest_login=True)
    async with (
        gateway_and_store(tmp_path, limits=limits) as (gateway, _store),
        open_client(gateway.url) as guest,
    ):
        logged = await guest.guest_login()
        assert logged.player_id is None and logged.preferences is None
        with pytest.raises(ServerError) as refused:
            await guest.request(UpdateProfile(id=0, bio="hi"))
        assert refused.value.code == "account_required"


PROFILE_TEXT = st.one_of(st.none(), st.text(max_size=30), st.sampled_from(["builtin:ace", "DE"]))
PREFERENCE_VALUES = st.one_of(st.booleans(), st.integers(-(2**31), 2**31), st.text(max_size=20))
PREFERENCE_KEYS = st.one_of(
    st.sampled_from(list(PREFERENCES.__struct_fields__)), st.text(max_size=12)
)


@settings(max_examples=4, deadline=None, database=None)
@given(
    requests=st.lists(
        st.one_of(
            st.builds(UpdateProfile, id=st.just(0), display_name=PROFILE_TEXT,
                      avatar=PROFILE_TEXT, country=st.one_of(st.none(), st.text(max_size=2)),
                      bio=PROFILE_TEXT),
            st.builds(SetPreferences, id=st.just(0), changes=st.dictionaries(
                PREFERENCE_KEYS, PREFERENCE_VALUES, min_size=1, max_size=4)),
        ),
        min_size=1,
        max_size=25,
    )
)  # fmt: skip
def test_any_profile_or_preference_request_is_answered_and_a_refusal_changes_nothing(
    requests: list[UpdateProfile | SetPreferences],
) -> None:
    async def run(tmp: Path) -> None:
        # Up to 75 requests back to back: above a person's rate limit, which is not tested here.
        limits = GatewayLimits(
            rate_burst_requests=10_000, rate_refill_per_s=10_000,
            rate_ip_burst_requests=10_000, rate_ip_refill_per_s=10_000,
        )  # fmt: skip
        async with (
            gateway_and_store(tmp, limits=limits) as (gateway, _store),
            open_client(gateway.url) as me,
        ):
            await me.register("alice", PASSWORD)

            async def state() -> tuple[object, ...]:
                own = await me.profile()  # its request id aside
                return own.profile, own.display_name_change_allowed_at_ms, await me.preferences()

            for request in requests:
                before = await state()
                try:
                    await me.request(request)
                except ServerError as refused:
                    assert refused.code in ERROR_CODE_VALUES
                    assert await state() == before

    with TemporaryDirectory() as tmp:
        trio.run(run, Path(tmp))
