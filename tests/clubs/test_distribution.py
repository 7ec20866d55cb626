"""Rakeback distribution (services/rakeback.py) on both backends: once per (period, player)
whatever is repeated or resumed, frozen periods, preview, audit, statuses across periods,
tournament fees, and the refusals."""

from __future__ import annotations

import random

import pytest
import trio

from persistence import outbox
from persistence import rakeback as rb_db
from persistence.audit import AuditStamp
from persistence.events import decode_payload
from persistence.outbox import OutboxEvent
from persistence.store import Store
from persistence.work import Query, Work
from rakeback.periods import Period, parse_period, period_containing
from services.ledger import FEES, house_account, rakeback_account
from services.rakeback import (
    PeriodNotOver,
    PeriodOutOfOrder,
    Rakeback,
    RakebackPolicy,
    UnknownScope,
    WrongPeriodKind,
)
from services.wallet import Wallet
from tests.clubs.club_play import PlayedHand, play_hand
from tests.clubs.conftest import player
from tests.persistence.stores import DAY_MS, ManualClock

STAFF = AuditStamp("staff", "admin", "rakeback.distribute", "rakeback", "daily run", "r-1")


async def _players(store: Store, wallet: Wallet, count: int) -> list[int]:
    found = []
    for i in range(count):
        pid = await player(store, f"p{i}")
        deposit = await wallet.request_deposit(f"fund-{i}", pid, 100_000)
        await wallet.post(deposit.id)
        found.append(pid)
    return found


async def _day_of_hands(
    store: Store, wallet: Wallet, clock: ManualClock, players: list[int], hands: int, tag: str
) -> Period:
    period = period_containing("day", clock.now_ms)
    rng = random.Random(tag)
    at = period.start_ms
    for i in range(hands):
        at += 1_000
        await play_hand(store, wallet, rng, "pub-1", f"{tag}{i}", players, at)
    return period


async def _due(clock: ManualClock, rakeback: Rakeback, period: Period) -> None:
    clock.now_ms = max(clock.now_ms, period.end_ms + rakeback.policy.settle_delay_ms)


async def _paid_keys(store: Store) -> list[str]:
    def unit() -> Work[list[str]]:
        rows = yield Query(
            "SELECT idempotency_key FROM ledger_transfers WHERE kind IN"
            " ('rakeback', 'agent_commission', 'rakeback_fund') ORDER BY id"
        )
        return [r[0] for r in rows]

    return await store.run(unit)


async def test_a_repeated_run_pays_once(
    store: Store, wallet: Wallet, rakeback: Rakeback, clock: ManualClock
) -> None:
    players = await _players(store, wallet, 4)
    period = await _day_of_hands(store, wallet, clock, players, 30, "r")
    await _due(clock, rakeback, period)
    first = await rakeback.distribute("house", period, STAFF)
    keys = await _paid_keys(store)
    balances = [(await wallet.balance(p)).balance for p in players]
    again = await rakeback.distribute("house", period, STAFF)
    assert again.paid_now == 0 and again.rakeback_paid == first.rakeback_paid > 0
    assert await _paid_keys(store) == keys
    assert [(await wallet.balance(p)).balance for p in players] == balances
    assert len(keys) == len(set(keys))


async def test_a_run_resumed_after_a_crash_pays_each_chip_once(
    store: Store,
    wallet: Wallet,
    rakeback: Rakeback,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    players = await _players(store, wallet, 5)
    period = await _day_of_hands(store, wallet, clock, players, 30, "c")
    await _due(clock, rakeback, period)
    preview = await rakeback.preview("house", period)
    real_move = wallet.move
    calls = 0

    async def crashing_move(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the process died here")
        return await real_move(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(wallet, "move", crashing_move)
    with pytest.raises(RuntimeError):
        await rakeback.distribute("house", period, STAFF)
    stored = await store.run(lambda: rb_db.get_period("house", period.id))
    assert stored is not None and stored.state == "paying"
    monkeypatch.setattr(wallet, "move", real_move)
    done = await rakeback.distribute("house", period, STAFF)
    assert done.state == "closed"
    assert done.rakeback_paid == preview.paid
    keys = await _paid_keys(store)
    assert len(keys) == len(set(keys)) == 1 + sum(1 for a in preview.accruals if a.amount)
    assert (await rakeback.verify("house", period)).ok


async def test_a_frozen_period_cannot_change(
    store: Store, wallet: Wallet, rakeback: Rakeback, clock: ManualClock
) -> None:
    players = await _players(store, wallet, 3)
    period = await _day_of_hands(store, wallet, clock, players, 20, "f")
    await _due(clock, rakeback, period)
    await rakeback.distribute("house", period, STAFF)
    rewrites = [
        "UPDATE rakeback_accruals SET amount = amount + 1",
        "UPDATE rakeback_accruals SET transfer_id = NULL",
        "DELETE FROM rakeback_accruals",
        "UPDATE rakeback_periods SET paid = paid + 1",
        "UPDATE rakeback_periods SET state = 'paying'",
        "DELETE FROM rakeback_periods",
    ]
    for sql in rewrites:

        def unit(sql: str = sql) -> Work[None]:
            yield Query(sql)

        with pytest.raises(Exception, match="frozen"):
            await store.run(unit)
    # A hand stored late, inside the closed period: nothing more is paid, verify names it.
    rng = random.Random(1)
    await play_hand(store, wallet, rng, "pub-1", "late", players, period.end_ms - 1)
    again = await rakeback.distribute("house", period, STAFF)
    assert again.paid_now == 0
    check = await rakeback.verify("house", period)
    assert not check.ok and any("recomputed" in p for p in check.problems)


async def test_a_preview_writes_nothing_and_shows_what_a_run_pays(
    store: Store, wallet: Wallet, rakeback: Rakeback, clock: ManualClock
) -> None:
    players = await _players(store, wallet, 4)
    period = await _day_of_hands(store, wallet, clock, players, 25, "p")
    await _due(clock, rakeback, period)
    preview = await rakeback.preview("house", period)
    assert not preview.frozen and preview.state == "open"
    assert await _paid_keys(store) == []
    assert await store.run(lambda: rb_db.get_period("house", period.id)) is None
    done = await rakeback.distribute("house", period, STAFF)
    assert done.rakeback_paid == preview.paid
    frozen = await rakeback.preview("house", period)
    assert frozen.frozen and frozen.state == "closed"
    assert [a.amount for a in frozen.accruals] == [a.amount for a in preview.accruals]


async def test_every_run_is_audited(
    store: Store, wallet: Wallet, rakeback: Rakeback, clock: ManualClock
) -> None:
    players = await _players(store, wallet, 3)
    period = await _day_of_hands(store, wallet, clock, players, 10, "a")
    await _due(clock, rakeback, period)
    await rakeback.distribute("house", period, STAFF)
    await rakeback.distribute("house", period, STAFF)
    steps = [e.after["step"] for e in reversed(await store.list_audit(target="rakeback"))]
    assert steps == ["frozen", "closed", "resumed", "closed"]


async def test_periods_are_settled_in_order_after_they_end(
    store: Store, wallet: Wallet, rakeback: Rakeback, clock: ManualClock
) -> None:
    players = await _players(store, wallet, 3)
    period = await _day_of_hands(store, wallet, clock, players, 5, "o")
    with pytest.raises(PeriodNotOver):
        await rakeback.preview("house", period)
    await _due(clock, rakeback, period)
    with pytest.raises(WrongPeriodKind):
        await rakeback.preview("house", period_containing("week", period.start_ms))
    with pytest.raises(UnknownScope):
        await rakeback.preview("club:999", period)
    with pytest.raises(UnknownScope):
        await rakeback.preview("casino", period)
    await rakeback.distribute("house", period.previous().previous(), STAFF)
    with pytest.raises(PeriodOutOfOrder):
        await rakeback.distribute("house", period, STAFF)  # period.previous() was skipped
    await rakeback.distribute("house", period.previous(), STAFF)
    await rakeback.distribute("house", period, STAFF)


async def test_a_status_is_kept_a_period_and_drops_one_tier_at_a_time(
    store: Store, wallet: Wallet, rakeback: Rakeback, clock: ManualClock
) -> None:
    players = await _players(store, wallet, 2)
    day1 = await _day_of_hands(store, wallet, clock, players, 600, "s")
    await _due(clock, rakeback, day1)
    first = await rakeback.preview("house", day1)
    tiers = [a.paid_tier for a in first.accruals]
    assert max(tiers) >= 1, tiers  # enough rake for a tier above the first
    await rakeback.distribute("house", day1, STAFF)
    day2 = day1.following()
    clock.now_ms = day2.end_ms + rakeback.policy.settle_delay_ms  # a quiet day
    quiet = await rakeback.preview("house", day2)
    for before, after in zip(first.accruals, quiet.accruals, strict=True):
        assert after.status == before.next_status  # kept from the previous period
        assert after.paid_tier == after.status and after.amount == 0
        assert after.next_status == max(0, after.status - 1)  # grace: one tier down


async def test_tournament_fees_are_a_source_funded_from_the_fees(
    store: Store, wallet: Wallet, rakeback: Rakeback, clock: ManualClock
) -> None:
    (ann, ben) = await _players(store, wallet, 2)
    period = period_containing("day", clock.now_ms)
    await wallet.pay_entry_fee("t1:e1:fee", ann, 400, memo="tournament t1 entry 1")
    await wallet.pay_entry_fee("t1:e2:fee", ben, 300, memo="tournament t1 entry 2")
    fee = await wallet.pay_entry_fee("t2:e1:fee", ben, 100, memo="tournament t2 entry 1")
    await wallet.move("t2:e1:refund", "refund", house_account(FEES), fee.debit, 100)
    await _due(clock, rakeback, period)
    done = await rakeback.distribute("house", period, STAFF)
    rows = {a.beneficiary_id: a for a in (await rakeback.preview("house", period)).accruals}
    assert (rows[ann].rake_tournament, rows[ben].rake_tournament) == (400, 300)
    assert rows[ann].amount_tournament == 400 * rows[ann].rate_bp // 10_000
    assert done.rakeback_paid == rows[ann].amount + rows[ben].amount
    fees = await store.ledger_account(house_account(FEES))
    assert fees is not None and fees.balance == 700 - done.rakeback_paid
    traced = await rakeback.trace("house", period, ben)
    assert sorted(t.amount for t in traced) == [-100, 100, 300]
    fund = await store.ledger_account(rakeback_account(""))
    assert fund is not None and fund.balance == 0


async def test_the_dealt_method_splits_each_hands_rake_equally_among_the_players_dealt_in(
    store: Store, wallet: Wallet, rakeback: Rakeback, clock: ManualClock
) -> None:
    players = await _players(store, wallet, 5)
    period = period_containing("day", clock.now_ms)
    rng = random.Random("dealt")
    played: list[PlayedHand] = []
    for i in range(40):  # 2 to 5 players a hand, folding at random: shares are uneven
        seated = rng.sample(players, rng.randint(2, 5))
        at = period.start_ms + 1_000 * (i + 1)
        played.append(await play_hand(store, wallet, rng, "pub-1", f"d{i}", seated, at))
    await _due(clock, rakeback, period)
    dealt = Rakeback(store, wallet, RakebackPolicy(period_kind="day", method="dealt"))
    before = {p: (await wallet.balance(p)).balance for p in players}
    run = await dealt.distribute("house", period, STAFF)
    assert run.state == "closed"

    # The recompute: each hand's rake in equal parts, by seat (the list's order in
    # play_hand), the odd chips one each to the lowest seats; then the house's tiers.
    rake: dict[int, int] = {}
    weighted: dict[int, int] = {}
    for hand in played:
        part, odd = divmod(hand.rake, len(hand.players))
        for seat, (p, share) in enumerate(zip(hand.players, hand.shares, strict=True)):
            rake[p] = rake.get(p, 0) + part + (1 if seat < odd else 0)
            weighted[p] = weighted.get(p, 0) + share
    assert sum(rake.values()) == sum(weighted.values()) == sum(h.rake for h in played) > 0
    assert rake != weighted  # the two methods disagree on this period
    tiers = dealt.policy.house_tiers.tiers

    def rate(points: int) -> int:
        return max(t.rakeback_bp for t in tiers if points >= t.threshold_points)

    expected = {p: r * rate(r) // 10_000 for p, r in rake.items()}
    for p in players:
        assert (await wallet.balance(p)).balance - before[p] == expected.get(p, 0), p
    assert run.rakeback_paid == sum(expected.values()) > 0
    accrued = {
        a.beneficiary_id: a.rake_cash for a in (await dealt.preview("house", period)).accruals
    }
    assert {p: r for p, r in accrued.items() if r} == rake
    # Verify recomputes under the method stored with the period, whatever the server's now.
    for service in (dealt, rakeback):
        check = await service.verify("house", period)
        assert check.ok and check.paid == run.rakeback_paid, check.problems


def test_period_ids_round_trip() -> None:
    day = period_containing("day", 5 * DAY_MS)
    assert parse_period(day.id) == day


async def test_two_runs_at_once_pay_once(
    store: Store, wallet: Wallet, rakeback: Rakeback, clock: ManualClock
) -> None:
    players = await _players(store, wallet, 4)
    period = await _day_of_hands(store, wallet, clock, players, 25, "x")
    await _due(clock, rakeback, period)
    preview = await rakeback.preview("house", period)
    other = Rakeback(store, Wallet(store), rakeback.policy)  # a second process, say
    async with trio.open_nursery() as nursery:
        nursery.start_soon(rakeback.distribute, "house", period, STAFF)
        nursery.start_soon(other.distribute, "house", period, STAFF)
    keys = await _paid_keys(store)
    assert len(keys) == len(set(keys)) == 1 + sum(1 for a in preview.accruals if a.amount)
    check = await rakeback.verify("house", period)
    assert check.ok and check.paid == preview.paid


async def _rakeback_events(store: Store) -> list[OutboxEvent]:
    def unit() -> Work[list[OutboxEvent]]:
        found = yield from outbox.between(0, None, 10_000)
        return [e for e in found if e.type.startswith("rakeback.")]

    return await store.run(unit)


async def test_a_run_writes_its_domain_events_once_each(
    store: Store,
    wallet: Wallet,
    rakeback: Rakeback,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    players = await _players(store, wallet, 4)
    period = await _day_of_hands(store, wallet, clock, players, 30, "e")
    await _due(clock, rakeback, period)
    preview = await rakeback.preview("house", period)
    real_move = wallet.move
    calls = 0

    async def crashing_move(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 3:  # the fund and one payment made: the run dies, then resumes
            raise RuntimeError("the process died here")
        return await real_move(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(wallet, "move", crashing_move)
    with pytest.raises(RuntimeError):
        await rakeback.distribute("house", period, STAFF)
    monkeypatch.setattr(wallet, "move", real_move)
    await rakeback.distribute("house", period, STAFF)
    await rakeback.distribute("house", period, STAFF)  # repeated: no event
    found = await _rakeback_events(store)
    paid = [a for a in preview.accruals if a.amount]
    assert [e.type for e in found] == [
        "rakeback.period_frozen",
        *["rakeback.paid"] * len(paid),
        "rakeback.period_closed",
    ]
    assert {e.aggregate for e in found} == {f"rakeback:house:{period.id}"}
    assert [e.sequence for e in found] == list(range(1, len(found) + 1))
    frozen = decode_payload(found[0].type, found[0].payload)
    closed = decode_payload(found[-1].type, found[-1].payload)
    assert (frozen.payments, closed.payments) == (0, len(paid))
    assert frozen.paid == closed.paid == preview.paid
    payments = [decode_payload(e.type, e.payload) for e in found[1:-1]]
    assert sorted((p.player_id, p.amount) for p in payments) == sorted(
        (a.beneficiary_id, a.amount) for a in paid
    )
    rows = await store.run(lambda: rb_db.accruals("house", period.id))
    assert {p.transfer_id for p in payments} == {r.transfer_id for r in rows if r.amount}
