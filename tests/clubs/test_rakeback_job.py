"""The rakeback job (services/rakeback_job.py): due periods are paid for every program, in
order, once; a refused run is retried the next round."""

from __future__ import annotations

import random

from persistence.store import Store
from rakeback.periods import period_containing
from services.ledger import RAKE, house_account
from services.rakeback import Rakeback
from services.rakeback_job import RakebackJob
from services.wallet import Wallet
from tests.clubs.club_play import play_hand
from tests.clubs.conftest import player
from tests.persistence.stores import DAY_MS, ManualClock


async def _players(store: Store, wallet: Wallet) -> list[int]:
    found = []
    for name in ("ann", "ben", "cat"):
        pid = await player(store, name)
        deposit = await wallet.request_deposit(f"fund-{name}", pid, 100_000)
        await wallet.post(deposit.id)
        found.append(pid)
    return found


async def test_due_periods_are_paid_in_order_and_once(
    store: Store, wallet: Wallet, rakeback: Rakeback, clock: ManualClock
) -> None:
    players = await _players(store, wallet)
    day = period_containing("day", clock.now_ms)
    rng = random.Random(7)
    for d in range(4):
        for i in range(10):
            at = day.start_ms + d * DAY_MS + 1_000 * (i + 1)
            await play_hand(store, wallet, rng, "pub-1", f"d{d}h{i}", players, at)
    job = RakebackJob(rakeback)
    clock.now_ms = day.end_ms + rakeback.policy.settle_delay_ms - 1
    assert await job.run_round(clock.now_ms) == [("house", day.previous().id)]  # first: due
    clock.now_ms += 1
    assert await job.run_round(clock.now_ms) == [("house", day.id)]
    assert await job.run_round(clock.now_ms) == []  # nothing more is due
    clock.now_ms += 3 * DAY_MS  # three days later: caught up in order
    following = day.following()
    expected = [following, following.following(), following.following().following()]
    assert await job.run_round(clock.now_ms) == [("house", p.id) for p in expected]
    for p in (day, *expected):
        assert (await rakeback.verify("house", p)).ok


async def test_a_refused_run_is_retried_next_round(
    store: Store, wallet: Wallet, rakeback: Rakeback, clock: ManualClock
) -> None:
    players = await _players(store, wallet)
    day = period_containing("day", clock.now_ms)
    rng = random.Random(8)
    for i in range(10):
        await play_hand(store, wallet, rng, "pub-1", f"h{i}", players, day.start_ms + i + 1)
    job = RakebackJob(rakeback)
    clock.now_ms = day.end_ms + rakeback.policy.settle_delay_ms
    # The day before is the first period due: the chain starts there.
    assert await job.run_round(clock.now_ms - 1) == [("house", day.previous().id)]
    rake = await store.ledger_account(house_account(RAKE))
    assert rake is not None and rake.balance > 0
    # The house spends its rake elsewhere: the period cannot be funded.
    await wallet.adjust("drain", house_account(RAKE), -rake.balance, "spent elsewhere")
    assert await job.run_round(clock.now_ms) == []
    preview = await rakeback.preview("house", day)
    assert preview.state == "paying"
    await wallet.adjust("refill", house_account(RAKE), rake.balance, "back")
    assert await job.run_round(clock.now_ms) == [("house", day.id)]
    assert (await rakeback.verify("house", day)).ok
