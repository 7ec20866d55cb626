"""Limits a player sets on herself, cool-off and self-exclusion, on both backends."""

from __future__ import annotations

import pytest

from persistence.ledger import PlayerLimits
from persistence.store import Store
from services.ledger import (
    PLAY,
    CoolingOff,
    LimitExceeded,
    SelfExcluded,
    UnknownPlayer,
)
from services.limits import (
    RAISE_WAIT_MS,
    ExclusionCannotBeShortened,
    InvalidExclusion,
    LimitRaisePending,
    SessionTimeLimitReached,
)
from services.wallet import Wallet
from tests.persistence.stores import DAY_MS, ManualClock
from tests.services.wallet_store import clock, funded, player, store, w

__all__ = ["clock", "store", "w"]  # fixtures


# -- lowering at once, raising after 24 hours ----------------------------------------------


async def test_lowering_a_limit_takes_effect_at_once_and_raising_it_after_24_hours(
    store: Store, w: Wallet, clock: ManualClock
) -> None:
    alice = await player(store, "alice")
    await w.set_limits(alice, {"daily_deposit_max": 1_000})
    view = await w.set_limits(alice, {"daily_deposit_max": 500})  # lower: at once
    assert view.limits.daily_deposit_max == 500 and view.pending == {}
    view = await w.set_limits(alice, {"daily_deposit_max": 2_000})  # raise: waits
    assert view.limits.daily_deposit_max == 500
    assert view.pending["daily_deposit_max"].value == 2_000
    assert view.pending["daily_deposit_max"].effective_at_ms == clock.now_ms + RAISE_WAIT_MS
    with pytest.raises(LimitExceeded):
        await w.request_deposit("d1", alice, 501)
    clock.advance(RAISE_WAIT_MS)
    await w.request_deposit("d2", alice, 1_500)  # the raise is in force now
    view = await w.limits_view(alice)
    assert view.limits.daily_deposit_max == 2_000 and view.pending == {}
    assert view.today.deposited == 1_500


async def test_removing_a_limit_is_a_raise_and_waits_too(
    store: Store, w: Wallet, clock: ManualClock
) -> None:
    alice = await funded(store, w, "alice", 10_000)
    await w.set_limits(alice, {"daily_loss_max": 100})
    await w.set_limits(alice, {"daily_loss_max": None})
    with pytest.raises(LimitExceeded):
        await w.buy_in("b1", alice, "table:1", 101)
    clock.advance(RAISE_WAIT_MS)
    await w.buy_in("b2", alice, "table:1", 5_000)
    assert (await w.limits_view(alice)).limits.daily_loss_max is None


async def test_a_second_raise_inside_the_waiting_period_is_refused_and_changes_nothing(
    store: Store, w: Wallet, clock: ManualClock
) -> None:
    alice = await player(store, "alice")
    await w.set_limits(alice, {"weekly_deposit_max": 1_000})
    await w.set_limits(alice, {"weekly_deposit_max": 3_000})
    clock.advance(1_000)
    before = await w.limits_view(alice)
    with pytest.raises(LimitRaisePending) as raised:
        await w.set_limits(alice, {"weekly_deposit_max": 5_000, "daily_deposit_max": 10})
    assert raised.value.code == "limit_raise_pending"
    assert raised.value.retry_after_ms == RAISE_WAIT_MS - 1_000
    assert await w.limits_view(alice) == before  # the other change was not applied either
    # The same raise again is a retry: nothing changes, its time stays.
    assert await w.set_limits(alice, {"weekly_deposit_max": 3_000}) == before
    # Lowering meanwhile takes effect at once and drops the waiting raise.
    view = await w.set_limits(alice, {"weekly_deposit_max": 800})
    assert view.limits.weekly_deposit_max == 800 and view.pending == {}


async def test_deposit_limits_count_7_and_30_day_windows(
    store: Store, w: Wallet, clock: ManualClock
) -> None:
    alice = await player(store, "alice")
    await w.set_limits(alice, {"weekly_deposit_max": 1_000, "monthly_deposit_max": 1_500})
    await w.request_deposit("d1", alice, 600)
    clock.advance(6 * DAY_MS)
    with pytest.raises(LimitExceeded) as raised:  # 600 six days ago still counts this week
        await w.request_deposit("d2", alice, 401)
    assert (raised.value.limit, raised.value.used) == ("weekly_deposit", 600)
    clock.advance(DAY_MS)  # day 7: the first deposit left the week, not the month
    await w.request_deposit("d3", alice, 800)
    with pytest.raises(LimitExceeded) as raised:
        await w.request_deposit("d4", alice, 101)
    assert (raised.value.limit, raised.value.used) == ("monthly_deposit", 1_400)
    clock.advance(23 * DAY_MS)  # day 30: the first deposit left the month too
    await w.request_deposit("d5", alice, 100)


async def test_weekly_loss_limit_counts_buy_ins_net_of_cash_outs(
    store: Store, w: Wallet, clock: ManualClock
) -> None:
    alice = await funded(store, w, "alice", 10_000)
    await w.set_limits(alice, {"weekly_loss_max": 1_000})
    await w.buy_in("b1", alice, "table:1", 900)
    clock.advance(DAY_MS)
    await w.cash_out("c1", "table:1", alice, 400)  # net 500 this week
    await w.buy_in("b2", alice, "table:1", 500)
    with pytest.raises(LimitExceeded) as raised:
        await w.buy_in("b3", alice, "table:1", 1)
    assert raised.value.limit == "weekly_loss"


async def test_limits_concern_real_money_only(store: Store, w: Wallet) -> None:
    alice = await player(store, "alice")
    await w.grant_starting_play_chips(alice)
    await w.set_limits(alice, PlayerLimits(daily_loss_max=0, table_buy_in_max=0))
    await w.buy_in("p1", alice, "table:play", 5_000, asset=PLAY)
    assert (await w.limits_view(alice)).today.net_loss == 0


# -- cool-off and self-exclusion --------------------------------------------------------------


async def test_a_cooling_off_player_cannot_deposit_buy_in_enter_or_receive(
    store: Store, w: Wallet, clock: ManualClock
) -> None:
    alice = await funded(store, w, "alice", 1_000)
    bob = await funded(store, w, "bob", 1_000)
    await w.grant_starting_play_chips(alice)
    await w.buy_in("warm", alice, "table:1", 10)  # the accounts are known (PostgreSQL's cache)
    view = await w.exclude(alice, "cool_off", 2)
    assert view.exclusion is not None and view.exclusion.kind == "cool_off"
    for refused in (
        w.request_deposit("d1", alice, 10),
        w.buy_in("b1", alice, "table:1", 10),
        w.tournament_buy_in("t1", alice, "tournament:1", 10),
        w.pay_entry_fee("f1", alice, 1, "tournament:1 entry 1"),
    ):
        with pytest.raises(CoolingOff) as raised:
            await refused
        assert raised.value.code == "cooling_off"
    with pytest.raises(UnknownPlayer):  # a transfer to her: the same answer as no player
        await w.transfer_to_player("t1", bob, alice, 10)
    await w.request_withdrawal("w1", alice, 100)  # her money stays hers
    await w.transfer_to_player("t2", alice, bob, 10)  # and she may give it away
    await w.buy_in("p1", alice, "table:play", 100, asset=PLAY)  # play money is not gambling
    assert (await w.balance(alice)).available == 1_000 - 10 - 100 - 10
    clock.advance(2 * DAY_MS)
    await w.request_deposit("d2", alice, 10)  # over


async def test_self_exclusion_cannot_be_shortened_or_lifted(
    store: Store, w: Wallet, clock: ManualClock
) -> None:
    alice = await player(store, "alice")
    first = await w.exclude(alice, "self_exclusion", 365)
    assert first.exclusion is not None
    # A shorter one ends sooner; a cool-off would turn it into a lesser kind.
    for kind, days in (("self_exclusion", 183), ("cool_off", 42)):
        clock.advance(DAY_MS)
        with pytest.raises(ExclusionCannotBeShortened) as raised:
            await w.exclude(alice, kind, days)  # type: ignore[arg-type]
        assert raised.value.code == "exclusion_cannot_be_shortened"
    assert (await w.limits_view(alice)).exclusion == first.exclusion
    longer = await w.exclude(alice, "self_exclusion", 400)
    assert longer.exclusion is not None
    assert longer.exclusion.since_ms == first.exclusion.since_ms
    assert longer.exclusion.until_ms == clock.now_ms + 400 * DAY_MS
    with pytest.raises(SelfExcluded) as excluded:
        await w.request_deposit("d1", alice, 10)
    assert excluded.value.code == "self_excluded"


async def test_a_cool_off_may_become_a_self_exclusion(store: Store, w: Wallet) -> None:
    alice = await player(store, "alice")
    await w.exclude(alice, "cool_off", 7)
    view = await w.exclude(alice, "self_exclusion", 200)
    assert view.exclusion is not None and view.exclusion.kind == "self_exclusion"


@pytest.mark.parametrize(
    ("kind", "days"),
    [("cool_off", 0), ("cool_off", 43), ("self_exclusion", 182), ("self_exclusion", 3654)],
)
async def test_exclusions_outside_their_bounds_are_refused(
    store: Store, w: Wallet, kind: str, days: int
) -> None:
    alice = await player(store, "alice")
    with pytest.raises(InvalidExclusion) as raised:
        await w.exclude(alice, kind, days)  # type: ignore[arg-type]
    assert raised.value.code == "invalid_exclusion"
    assert (await w.limits_view(alice)).exclusion is None


async def test_real_money_play_is_refused_while_excluded_or_past_the_session_limit(
    store: Store, w: Wallet, clock: ManualClock
) -> None:
    alice = await player(store, "alice")
    login_ms = clock.now_ms
    await w.check_may_play(alice, "chips", login_ms)
    await w.set_limits(alice, {"session_minutes_max": 60})
    clock.advance(60 * 60_000 - 1)
    await w.check_may_play(alice, "chips", login_ms)
    clock.advance(1)
    with pytest.raises(SessionTimeLimitReached) as raised:
        await w.check_may_play(alice, "chips", login_ms)
    assert raised.value.code == "session_time_limit_reached"
    await w.check_may_play(alice, "play", login_ms)  # play money: no limit
    await w.exclude(alice, "cool_off", 1)
    with pytest.raises(CoolingOff):
        await w.check_may_play(alice, "chips", None)
