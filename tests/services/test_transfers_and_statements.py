"""Transfers between players (by name, enabled by the operator, limited per day) and
statements (opening and closing balance, totals by kind, every entry, CSV), on both
backends."""

from __future__ import annotations

import csv
import io

import pytest

from persistence.store import Store
from services.ledger import (
    PLAY,
    TransferLimitExceeded,
    TransfersDisabled,
    TransferToSelf,
    UnknownPlayer,
)
from services.statements import statement_csv
from services.wallet import InvalidPeriod, Wallet, WalletPolicy
from tests.persistence.stores import DAY_MS, ManualClock
from tests.services.wallet_store import clock, funded, player, store, w

__all__ = ["clock", "store", "w"]  # fixtures


# -- transfers ---------------------------------------------------------------------------------


async def test_transfers_are_refused_until_the_operator_enables_them(store: Store) -> None:
    closed = Wallet(store, WalletPolicy(transfers_enabled=False))
    alice = await funded(store, closed, "alice", 100)
    await player(store, "bob")
    for name in ("bob", "nobody"):
        with pytest.raises(TransfersDisabled) as raised:
            await closed.send_to_player("t1", alice, name, 10)
        assert raised.value.code == "transfers_disabled"
    assert (await closed.balance(alice)).balance == 100


async def test_a_transfer_by_name_is_in_both_histories_and_idempotent(
    store: Store, w: Wallet
) -> None:
    alice = await funded(store, w, "alice", 100)
    bob = await player(store, "Bob")
    sent = await w.send_to_player("t1", alice, "bob", 30, memo="lunch")  # names ignore case
    assert await w.send_to_player("t1", alice, "BOB", 30, memo="lunch") == sent
    [out] = (await w.history(alice, limit=1)).entries
    [into] = (await w.history(bob)).entries
    assert (out.transfer_id, out.amount, into.transfer_id, into.amount) == (
        sent.id, -30, sent.id, 30,
    )  # fmt: skip
    assert into.memo == "lunch"


async def test_who_cannot_receive_gets_one_answer(store: Store, w: Wallet) -> None:
    alice = await funded(store, w, "alice", 100)
    banned = await player(store, "mallory")
    await store.set_account_banned(banned, True)
    excluded = await player(store, "carol")
    await w.exclude(excluded, "cool_off", 3)
    codes = set()
    for name in ("nobody", "mallory", "carol"):
        with pytest.raises(UnknownPlayer) as raised:
            await w.send_to_player(f"t-{name}", alice, name, 10)
        codes.add(raised.value.code)
    assert codes == {"unknown_player"}
    with pytest.raises(TransferToSelf):
        await w.send_to_player("t-self", alice, "ALICE", 10)
    assert (await w.balance(alice)).balance == 100


async def test_the_daily_transfer_limit_counts_what_a_player_sent_today(
    store: Store, clock: ManualClock
) -> None:
    capped = Wallet(store, WalletPolicy(transfer_daily_max=100))
    alice = await funded(store, capped, "alice", 1_000)
    await player(store, "bob")
    await player(store, "carol")
    await capped.send_to_player("t1", alice, "bob", 60)
    with pytest.raises(TransferLimitExceeded) as raised:
        await capped.send_to_player("t2", alice, "carol", 41)
    assert (raised.value.code, raised.value.used, raised.value.maximum) == (
        "transfer_limit_exceeded", 60, 100,
    )  # fmt: skip
    assert (await capped.balance(alice)).balance == 940
    await capped.send_to_player("t3", alice, "carol", 40)
    clock.advance(DAY_MS)
    await capped.send_to_player("t4", alice, "carol", 100)
    assert (await capped.limits(alice)).today.transferred == 100


# -- statements --------------------------------------------------------------------------------


async def test_a_statement_has_opening_and_closing_balances_totals_and_entries(
    store: Store, w: Wallet, clock: ManualClock
) -> None:
    alice = await funded(store, w, "alice", 1_000)  # before the period
    bob = await player(store, "bob")
    start_ms = clock.now_ms + 1
    clock.advance(10)
    pending = await w.request_deposit("d1", alice, 500)  # posted inside the period
    await w.transfer_to_player("t1", alice, bob, 200)
    await w.buy_in("b1", alice, "table:1", 300)
    await w.buy_in("b0", bob, "table:1", 100)  # alice wins 50 of bob's
    await w.cash_out("c1", "table:1", alice, 350)
    clock.advance(10)
    await w.post(pending.id)
    withdrawal = await w.request_withdrawal("w1", alice, 100)  # still pending at the end
    end_ms = clock.now_ms + 1
    clock.advance(10)
    await w.transfer_to_player("t2", alice, bob, 1)  # after the period
    statement = await w.statement(alice, start_ms, end_ms)
    assert (statement.opening_balance, statement.closing_balance) == (1_000, 1_350)
    totals = {t.kind: (t.count, t.credited, t.debited) for t in statement.totals}
    assert totals == {
        "buy_in": (1, 0, 300),
        "cash_out": (1, 350, 0),
        "deposit": (1, 500, 0),
        "player_transfer": (1, 0, 200),
    }
    assert [(e.kind, e.amount) for e in statement.entries] == [
        ("deposit", 500),
        ("player_transfer", -200),
        ("buy_in", -300),
        ("cash_out", 350),
    ]
    assert withdrawal.id not in {e.transfer_id for e in statement.entries}
    assert statement.next_after_id is None
    # The closing balance is the opening of the next period, and the balance the wallet had.
    after = await w.statement(alice, end_ms, clock.now_ms + 1)
    assert after.opening_balance == statement.closing_balance


async def test_statement_entries_are_paged(store: Store, w: Wallet, clock: ManualClock) -> None:
    alice = await funded(store, w, "alice", 1_000)
    bob = await player(store, "bob")
    for n in range(5):
        await w.transfer_to_player(f"t{n}", alice, bob, 1 + n)
    start_ms, end_ms = clock.now_ms - DAY_MS, clock.now_ms + 1
    first = await w.statement(alice, start_ms, end_ms, limit=4)
    assert len(first.entries) == 4 and first.next_after_id is not None
    rest = await w.statement(alice, start_ms, end_ms, after_id=first.next_after_id, limit=4)
    assert [e.amount for e in first.entries] == [1_000, -1, -2, -3]  # the deposit first
    assert [e.amount for e in rest.entries] == [-4, -5]
    assert rest.next_after_id is None


async def test_a_play_money_statement_is_its_own(
    store: Store, w: Wallet, clock: ManualClock
) -> None:
    alice = await funded(store, w, "alice", 1_000)
    await w.grant_starting_play_chips(alice)
    statement = await w.statement(alice, clock.now_ms - DAY_MS, clock.now_ms + 1, asset=PLAY)
    assert [(t.kind, t.credited) for t in statement.totals] == [("play_grant", 10_000)]
    assert statement.closing_balance == 10_000


@pytest.mark.parametrize(("from_ms", "to_ms"), [(5, 5), (6, 5), (-1, 5), (0, 400 * DAY_MS)])
async def test_a_statement_of_a_bad_period_is_refused(
    store: Store, w: Wallet, from_ms: int, to_ms: int
) -> None:
    with pytest.raises(InvalidPeriod) as raised:
        await w.statement(1, from_ms, to_ms)
    assert raised.value.code == "invalid_period"


async def test_the_csv_export_holds_every_entry_and_defuses_formulas(
    store: Store, w: Wallet, clock: ManualClock
) -> None:
    alice = await funded(store, w, "alice", 1_000)
    bob = await player(store, "bob")
    await w.transfer_to_player("t1", alice, bob, 7, memo="=HYPERLINK(1)")
    text = "".join(
        [
            piece
            async for piece in statement_csv(w, alice, clock.now_ms - 1, clock.now_ms + 1, "chips")
        ]
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["row", "transfer_id"]
    assert rows[1][0] == "opening" and rows[1][5] == "0"
    entries = [row for row in rows if row[0] == "entry"]
    assert [(r[4], r[5], r[8]) for r in entries] == [
        ("deposit", "1000", ""),
        ("player_transfer", "-7", "'=HYPERLINK(1)"),
    ]
    assert rows[-1][0] == "closing" and rows[-1][5] == "993"
