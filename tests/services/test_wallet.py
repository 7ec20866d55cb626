"""The wallet's behaviour, on both backends. After every test the ledger must audit clean."""

from __future__ import annotations

import pytest

from persistence.ledger import AccountRef, PlayerLimits
from persistence.store import Store
from services.ledger import (
    HOUSE,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    LimitExceeded,
    TransferNotAllowed,
    TransferNotPending,
    TransferToSelf,
    UnknownPlayer,
    UnknownTransfer,
    escrow,
    house_account,
    wallet,
)
from services.wallet import Balance, Wallet
from tests.persistence.stores import DAY_MS, ManualClock
from tests.services.wallet_store import clock, funded, player, store, w

__all__ = ["clock", "store", "w"]  # fixtures


# -- deposits and withdrawals (pending, then posted or voided) ---------------------------


async def test_deposit_request_is_pending_until_posted(store: Store, w: Wallet) -> None:
    alice = await player(store, "alice")
    request = await w.request_deposit("d1", alice, 500)
    assert request.state == "pending"
    assert await w.balance(alice) == Balance(alice, 0, 0, 0)
    posted = await w.post(request.id)
    assert (posted.id, posted.state) == (request.id, "posted")
    assert await w.balance(alice) == Balance(alice, 500, 0, 500)


async def test_posting_twice_is_a_retry_and_voiding_a_posted_transfer_is_refused(
    store: Store, w: Wallet
) -> None:
    alice = await player(store, "alice")
    request = await w.request_deposit("d1", alice, 500)
    first = await w.post(request.id)
    assert await w.post(request.id) == first
    with pytest.raises(TransferNotPending) as raised:
        await w.void(request.id)
    assert raised.value.code == "transfer_not_pending"
    assert (await w.balance(alice)).balance == 500


async def test_withdrawal_reserves_funds_and_void_releases_them(store: Store, w: Wallet) -> None:
    alice = await funded(store, w, "alice", 1000)
    request = await w.request_withdrawal("w1", alice, 700)
    assert await w.balance(alice) == Balance(alice, 1000, 700, 300)
    with pytest.raises(InsufficientFunds):
        await w.transfer_to_player("t1", alice, await player(store, "bob"), 301)
    await w.void(request.id)
    assert await w.balance(alice) == Balance(alice, 1000, 0, 1000)


async def test_posted_withdrawal_leaves_the_wallet(store: Store, w: Wallet) -> None:
    alice = await funded(store, w, "alice", 1000)
    request = await w.request_withdrawal("w1", alice, 600)
    await w.post(request.id)
    assert await w.balance(alice) == Balance(alice, 400, 0, 400)
    outside = await store.ledger_account(house_account("external"))
    assert outside is not None and outside.balance == -400  # 1000 in, 600 out


async def test_resolving_an_unknown_transfer_is_refused(w: Wallet) -> None:
    with pytest.raises(UnknownTransfer) as raised:
        await w.post(987654)
    assert raised.value.code == "unknown_transfer"


# -- transfers between players and idempotency -------------------------------------------


async def test_transfer_moves_chips_between_players(store: Store, w: Wallet) -> None:
    alice = await funded(store, w, "alice", 1000)
    bob = await player(store, "bob")
    await w.transfer_to_player("t1", alice, bob, 250, memo="for the dinner")
    assert (await w.balance(alice)).balance == 750
    assert (await w.balance(bob)).balance == 250


async def test_retried_key_returns_the_original_and_applies_once(store: Store, w: Wallet) -> None:
    alice = await funded(store, w, "alice", 1000)
    bob = await player(store, "bob")
    first = await w.transfer_to_player("t1", alice, bob, 250)
    assert await w.transfer_to_player("t1", alice, bob, 250) == first
    assert (await w.balance(bob)).balance == 250


async def test_same_key_with_other_content_is_a_conflict(store: Store, w: Wallet) -> None:
    alice = await funded(store, w, "alice", 1000)
    bob = await player(store, "bob")
    first = await w.transfer_to_player("t1", alice, bob, 250)
    with pytest.raises(IdempotencyConflict) as raised:
        await w.transfer_to_player("t1", alice, bob, 251)
    assert raised.value.code == "idempotency_conflict"
    assert raised.value.original == first
    assert (await w.balance(bob)).balance == 250


async def test_players_keys_do_not_collide(store: Store, w: Wallet) -> None:
    alice = await funded(store, w, "alice", 1000)
    bob = await funded(store, w, "bob", 1000)
    carol = await player(store, "carol")
    await w.transfer_to_player("same-key", alice, carol, 10)
    await w.transfer_to_player("same-key", bob, carol, 20)
    assert (await w.balance(carol)).balance == 30


async def test_overdraft_is_refused_and_stores_nothing(store: Store, w: Wallet) -> None:
    alice = await funded(store, w, "alice", 100)
    bob = await player(store, "bob")
    with pytest.raises(InsufficientFunds) as raised:
        await w.transfer_to_player("t1", alice, bob, 101)
    assert (raised.value.code, raised.value.available) == ("insufficient_funds", 100)
    assert len((await w.history(alice)).entries) == 1  # only the deposit
    # A refused transfer is not remembered: the same key may be used once funds arrive.
    await w.transfer_to_player("t1", alice, bob, 100)
    assert (await w.balance(bob)).balance == 100


async def test_transfers_to_self_unknown_or_banned_players_are_refused(
    store: Store, w: Wallet
) -> None:
    alice = await funded(store, w, "alice", 100)
    banned = await player(store, "mallory")
    await store.set_account_banned(banned, True)
    with pytest.raises(TransferToSelf) as raised:
        await w.transfer_to_player("t1", alice, alice, 10)
    assert raised.value.code == "transfer_to_self"
    with pytest.raises(UnknownPlayer):
        await w.transfer_to_player("t2", alice, 999_999, 10)
    with pytest.raises(UnknownPlayer):
        await w.transfer_to_player("t3", alice, banned, 10)
    assert (await w.balance(alice)).balance == 100


@pytest.mark.parametrize("amount", [0, -5, 2.5, 10**16])
async def test_amounts_must_be_positive_bounded_integers(
    store: Store, w: Wallet, amount: int
) -> None:
    alice = await funded(store, w, "alice", 100)
    bob = await player(store, "bob")
    with pytest.raises(InvalidAmount):
        await w.transfer_to_player("t1", alice, bob, amount)


# -- the rules table ----------------------------------------------------------------------


async def test_transfer_kinds_only_move_between_their_accounts(store: Store, w: Wallet) -> None:
    alice = await funded(store, w, "alice", 100)
    with pytest.raises(TransferNotAllowed):  # cash-out must come from a table escrow
        await w.move("k1", "cash_out", wallet(alice), escrow("table:1"), 10)
    with pytest.raises(TransferNotAllowed):  # player transfers cannot be pending
        await w.move("k2", "player_transfer", wallet(alice), wallet(alice + 1), 10, pending=True)
    with pytest.raises(TransferNotAllowed):
        await w.move("k3", "no_such_kind", wallet(alice), escrow("table:1"), 10)


async def test_table_round_trip_with_rake(store: Store, w: Wallet) -> None:
    alice = await funded(store, w, "alice", 1000)
    bob = await funded(store, w, "bob", 1000)
    await w.buy_in("seat:alice", alice, "table:1", 400)
    await w.buy_in("seat:bob", bob, "table:1", 400)
    await w.take_rake("rake:hand1", "table:1", 5)
    await w.cash_out("leave:alice", "table:1", alice, 595)
    await w.cash_out("leave:bob", "table:1", bob, 200)
    table = await store.ledger_account(escrow("table:1"))
    assert table is not None and table.balance == 0
    assert (await w.balance(alice)).balance == 1195
    assert (await w.balance(bob)).balance == 800
    rake = await store.ledger_account(house_account("rake"))
    assert rake is not None and rake.balance == 5
    with pytest.raises(InsufficientFunds):  # an escrow never pays out chips it does not hold
        await w.cash_out("leave:again", "table:1", bob, 1)


async def test_pending_buy_in_posts_into_escrow(store: Store, w: Wallet) -> None:
    alice = await funded(store, w, "alice", 1000)
    seat = await w.buy_in("seat:1", alice, "table:9", 300, pending=True)
    assert await w.balance(alice) == Balance(alice, 1000, 300, 700)
    await w.post(seat.id)
    assert await w.balance(alice) == Balance(alice, 700, 0, 700)
    table = await store.ledger_account(escrow("table:9"))
    assert table is not None and table.balance == 300


async def test_house_adjustments_may_take_the_house_negative(store: Store, w: Wallet) -> None:
    alice = await player(store, "alice")
    await w.adjust("fix-1", wallet(alice), 50, memo="goodwill")
    await w.adjust("fix-2", wallet(alice), -20, memo="correction")
    assert (await w.balance(alice)).balance == 30
    house = await store.ledger_account(AccountRef(HOUSE))
    assert house is not None and house.balance == -30


# -- limits --------------------------------------------------------------------------------


async def test_daily_deposit_limit_counts_requests_and_resets_next_day(
    store: Store, w: Wallet, clock: ManualClock
) -> None:
    alice = await player(store, "alice")
    await w.set_limits(alice, PlayerLimits(daily_deposit_max=1000))
    first = await w.request_deposit("d1", alice, 700)
    with pytest.raises(LimitExceeded) as raised:
        await w.request_deposit("d2", alice, 301)
    assert (raised.value.code, raised.value.limit) == ("limit_exceeded", "daily_deposit")
    assert (raised.value.maximum, raised.value.used) == (1000, 700)
    await w.void(first.id)  # a voided request gives its allowance back
    await w.request_deposit("d3", alice, 1000)
    clock.advance(DAY_MS)
    await w.request_deposit("d4", alice, 1000)
    assert (await w.limits(alice)).today.deposited == 1000


async def test_daily_loss_limit_counts_buy_ins_net_of_cash_outs(
    store: Store, w: Wallet, clock: ManualClock
) -> None:
    alice = await funded(store, w, "alice", 10_000)
    await w.set_limits(alice, PlayerLimits(daily_loss_max=500))
    await w.buy_in("b1", alice, "table:1", 400)
    with pytest.raises(LimitExceeded) as raised:
        await w.buy_in("b2", alice, "table:2", 200)
    assert raised.value.limit == "daily_loss"
    await w.cash_out("c1", "table:1", alice, 150)  # net loss today: 250
    await w.buy_in("b3", alice, "table:2", 250)
    clock.advance(DAY_MS)
    await w.buy_in("b4", alice, "table:3", 500)


async def test_a_limit_set_during_the_day_counts_what_that_day_already_spent(
    store: Store, w: Wallet
) -> None:
    alice = await funded(store, w, "alice", 10_000)
    await w.buy_in("b0", alice, "table:1", 100)
    await w.buy_in("b1", alice, "table:1", 300)  # the escrow exists now: a plain transfer
    await w.set_limits(alice, PlayerLimits(daily_loss_max=500))
    with pytest.raises(LimitExceeded) as raised:
        await w.buy_in("b2", alice, "table:1", 101)
    assert (raised.value.used, raised.value.maximum) == (400, 500)
    await w.buy_in("b3", alice, "table:1", 100)


async def test_table_buy_in_maximum(store: Store, w: Wallet) -> None:
    alice = await funded(store, w, "alice", 10_000)
    await w.set_limits(alice, PlayerLimits(table_buy_in_max=1000))
    with pytest.raises(LimitExceeded) as raised:
        await w.buy_in("b1", alice, "table:1", 1001)
    assert raised.value.limit == "table_buy_in"
    await w.buy_in("b2", alice, "table:1", 1000)


async def test_negative_limits_are_refused(store: Store, w: Wallet) -> None:
    with pytest.raises(InvalidAmount):
        await w.set_limits(1, PlayerLimits(daily_loss_max=-1))


# -- history ----------------------------------------------------------------------------------


async def test_history_is_paged_newest_first_with_signed_amounts(store: Store, w: Wallet) -> None:
    alice = await funded(store, w, "alice", 1000)
    bob = await player(store, "bob")
    for n in range(5):
        await w.transfer_to_player(f"t{n}", alice, bob, 10 + n)
    page = await w.history(alice, limit=4)
    assert [e.amount for e in page.entries] == [-14, -13, -12, -11]
    assert page.entries[0].counterparty == wallet(bob)
    assert page.next_before_id is not None
    rest = await w.history(alice, before_id=page.next_before_id, limit=4)
    assert [(e.kind, e.amount) for e in rest.entries] == [
        ("player_transfer", -10),
        ("deposit", 1000),
    ]
    assert rest.next_before_id is None
    assert [e.amount for e in (await w.history(bob)).entries] == [14, 13, 12, 11, 10]
    assert (await w.history(999)).entries == []
