"""Withdrawal requests, staff actions and the batcher, on a py-evm chain and the real ledger."""

from __future__ import annotations

import itertools
from functools import partial
from typing import Any

import pytest

from persistence import chain as db
from persistence.ledger import AccountRef
from persistence.store import Store
from services.chain.batcher import WithdrawalBatcher
from services.chain.cashier import (
    ChainCashier,
    StaffAction,
    UnknownWithdrawal,
    WithdrawalConflict,
    WithdrawalNotAwaitingApproval,
    WithdrawalRefused,
)
from services.chain.ledger_port import WalletCashierLedger
from services.chain.units import InvalidAddress
from services.ledger import InsufficientFunds, InvalidAmount
from services.wallet import Wallet
from tests.chain.conftest import assert_ledger_consistent
from tests.chain.evm import Evm
from tests.persistence.stores import ManualClock

STAFF = StaffAction(subject="sam", role="support", reason="checked the player", request_id="r1")
RECIPIENT = "0x" + "12" * 20


class Crash(Exception):
    """Stands for the process dying at a crash point."""


def crash_at(name: str) -> Any:
    def point(reached: str) -> None:
        if reached == name:
            raise Crash(reached)

    return point


async def _fund(wallet: Wallet, player: int, chips: int) -> None:
    await wallet.adjust(f"fund:{player}", AccountRef("wallet", str(player)), chips, "test funds")


def _parts(
    evm: Evm, store: Store, ledger: WalletCashierLedger, **settings: Any
) -> tuple[ChainCashier, WithdrawalBatcher]:
    chosen = evm.settings(**settings)
    cashier = ChainCashier(store, ledger, chosen)
    ids = itertools.count(1)
    batcher = WithdrawalBatcher(
        store, evm.client(), cashier, chosen, evm.operator_key, new_batch_id=lambda: next(ids)
    )
    return cashier, batcher


async def _withdrawal(store: Store, withdrawal_id: int) -> db.Withdrawal:
    row = await store.run(partial(db.get_withdrawal, withdrawal_id))
    assert row is not None
    return row


async def test_a_request_reserves_the_chips_and_queues_them(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    cashier, _ = _parts(evm, store, ledger)
    await _fund(wallet, 1, 1_000)
    row = await cashier.request_withdrawal(1, "w1", 400, RECIPIENT)
    assert (row.state, row.chips, row.units) == ("queued", 400, 40_000)
    assert row.address == "0x" + "12" * 20
    balance = await wallet.balance(1)
    assert (balance.balance, balance.reserved, balance.available) == (1_000, 400, 600)
    again = await cashier.request_withdrawal(1, "w1", 400, RECIPIENT)
    assert again.id == row.id
    assert (await wallet.balance(1)).reserved == 400  # a retry reserves nothing more
    with pytest.raises(WithdrawalConflict):
        await cashier.request_withdrawal(1, "w1", 401, RECIPIENT)
    await assert_ledger_consistent(wallet)


async def test_a_request_beyond_the_balance_is_refused_and_reserves_nothing(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    cashier, _ = _parts(evm, store, ledger)
    await _fund(wallet, 1, 100)
    with pytest.raises(InsufficientFunds):
        await cashier.request_withdrawal(1, "w1", 101, RECIPIENT)
    with pytest.raises(WithdrawalRefused) as refused:
        await cashier.request_withdrawal(1, "w1", 101, RECIPIENT)  # the retry says so again
    assert "insufficient_funds" in str(refused.value)
    assert (await wallet.balance(1)).reserved == 0
    await assert_ledger_consistent(wallet)


@pytest.mark.parametrize(
    "address",
    [
        "0x" + "0" * 40,
        "0x1234",
        "12" * 20,
        "0x" + "zz" * 20,
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
    ],  # fmt: skip  (bad checksum)
)
async def test_a_bad_address_is_refused(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet, address: str
) -> None:
    cashier, _ = _parts(evm, store, ledger)
    await _fund(wallet, 1, 100)
    with pytest.raises(InvalidAddress):
        await cashier.request_withdrawal(1, "w1", 10, address)
    assert (await wallet.audit()).transfers == 1  # only the funding


@pytest.mark.parametrize("chips", [0, -5, 10**16, 1.5])
async def test_a_bad_amount_is_refused(
    evm: Evm, store: Store, ledger: WalletCashierLedger, chips: Any
) -> None:
    cashier, _ = _parts(evm, store, ledger)
    with pytest.raises(InvalidAmount):
        await cashier.request_withdrawal(1, "w1", chips, RECIPIENT)


async def test_queued_withdrawals_go_out_in_one_batch_and_post_at_the_line(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    cashier, batcher = _parts(evm, store, ledger, batch_size_max=5, confirmations=3)
    evm.fund_cashier(10**9)
    recipients = [f"0x{i:040x}" for i in range(1, 6)]
    for player, address in enumerate(recipients, start=1):
        await _fund(wallet, player, 1_000)
        await cashier.request_withdrawal(player, "out", 100 * player, address)
    assert await batcher.tick() == "sent"  # five queued: a full batch goes at once
    batch = await store.run(partial(db.get_batch, 1))
    assert batch is not None and (batch.state, batch.count) == ("sent", 5)
    assert [evm.balance(a) for a in recipients] == [10_000 * p for p in range(1, 6)]
    assert await batcher.tick() == "mined"  # one confirmation: not yet
    assert (await wallet.balance(1)).reserved == 100
    evm.mine(2)
    assert await batcher.tick() == "confirmed"
    for player in range(1, 6):
        balance = await wallet.balance(player)
        assert (balance.balance, balance.reserved) == (1_000 - 100 * player, 0)
    rows = await cashier.list_withdrawals()
    assert {r.state for r in rows} == {"paid"}
    assert all(r.ledger_done for r in rows)
    assert await batcher.tick() == "idle"
    await assert_ledger_consistent(wallet)


async def test_a_batch_waits_for_its_interval_unless_full(
    evm: Evm,
    store: Store,
    ledger: WalletCashierLedger,
    wallet: Wallet,
    clock: ManualClock,
) -> None:
    cashier, batcher = _parts(evm, store, ledger, batch_size_max=10, batch_interval_s=60)
    evm.fund_cashier(10**9)
    await _fund(wallet, 1, 1_000)
    await cashier.request_withdrawal(1, "a", 10, RECIPIENT)
    assert await batcher.tick() == "not_due"
    clock.advance(60_000)
    assert await batcher.tick() == "sent"


async def test_a_large_withdrawal_waits_for_approval_and_approving_is_audited(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    cashier, batcher = _parts(evm, store, ledger, approval_threshold_chips=500, batch_size_max=1)
    evm.fund_cashier(10**9)
    await _fund(wallet, 1, 1_000)
    row = await cashier.request_withdrawal(1, "big", 500, RECIPIENT)
    assert row.state == "awaiting_approval"
    assert (await wallet.balance(1)).reserved == 500
    assert await batcher.tick() == "idle"
    approved = await cashier.approve(row.id, STAFF)
    assert approved.state == "queued"
    with pytest.raises(WithdrawalNotAwaitingApproval):
        await cashier.approve(row.id, STAFF)
    (entry,) = await store.list_audit(f"chain_withdrawal:{row.id}")
    assert (entry.action, entry.subject, entry.reason) == (
        "chain.withdrawal.approve", "sam", "checked the player",
    )  # fmt: skip
    assert (entry.before["state"], entry.after["state"]) == ("awaiting_approval", "queued")
    assert await batcher.tick() == "sent"
    with pytest.raises(UnknownWithdrawal):
        await cashier.approve(9_999, STAFF)


async def test_a_rejected_withdrawal_releases_the_chips(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    cashier, _ = _parts(evm, store, ledger, approval_threshold_chips=500)
    await _fund(wallet, 1, 1_000)
    row = await cashier.request_withdrawal(1, "big", 800, RECIPIENT)
    rejected = await cashier.reject(row.id, STAFF)
    assert (rejected.state, rejected.ledger_done) == ("rejected", True)
    assert rejected.reason == "rejected: checked the player"
    balance = await wallet.balance(1)
    assert (balance.balance, balance.reserved) == (1_000, 0)
    (entry,) = await store.list_audit(f"chain_withdrawal:{row.id}")
    assert entry.action == "chain.withdrawal.reject"
    await assert_ledger_consistent(wallet)


async def test_a_banned_players_queued_withdrawal_is_held_for_staff_not_paid(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    cashier, batcher = _parts(evm, store, ledger, batch_size_max=1)
    evm.fund_cashier(10**9)
    account = await store.create_account("banned-one", "hash", "player")
    await _fund(wallet, account.id, 1_000)
    row = await cashier.request_withdrawal(account.id, "out", 300, RECIPIENT)
    assert row.state == "queued"
    await store.set_account_banned(account.id, True)
    assert await batcher.tick() == "idle"  # frozen, not batched
    held = await _withdrawal(store, row.id)
    assert (held.state, held.reason) == ("awaiting_approval", db.FROZEN_FOR_BAN)
    assert evm.balance(RECIPIENT) == 0
    assert (await wallet.balance(account.id)).reserved == 300  # still reserved, for staff
    rejected = await cashier.reject(row.id, STAFF)
    assert rejected.state == "rejected"
    assert (await wallet.balance(account.id)).reserved == 0
    await assert_ledger_consistent(wallet)


async def test_paused_withdrawals_queue_but_are_not_sent(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    cashier, batcher = _parts(evm, store, ledger, batch_size_max=1)
    evm.fund_cashier(10**9)
    await _fund(wallet, 1, 1_000)
    assert await cashier.set_withdrawals_paused(True, STAFF) is False
    row = await cashier.request_withdrawal(1, "w", 10, RECIPIENT)
    assert row.state == "queued"
    assert await batcher.tick() == "paused"
    (entry,) = await store.list_audit(f"chain:{evm.chain_id}")
    assert entry.action == "chain.withdrawals.pause"
    assert await cashier.set_withdrawals_paused(False, STAFF) is True
    assert await batcher.tick() == "sent"


async def test_a_paused_contract_holds_the_batch_back(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    cashier, batcher = _parts(evm, store, ledger, batch_size_max=1)
    evm.fund_cashier(10**9)
    await _fund(wallet, 1, 1_000)
    await cashier.request_withdrawal(1, "w", 10, RECIPIENT)
    evm.cashier.functions.pause().transact({"from": evm.owner})
    assert await batcher.tick() == "waiting:contract_paused"
    evm.cashier.functions.unpause().transact({"from": evm.owner})
    assert await batcher.tick() == "sent"


async def test_fees_above_the_maximum_hold_the_batch_back(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    cashier, batcher = _parts(evm, store, ledger, batch_size_max=1, max_fee_gwei=0.000001)
    evm.fund_cashier(10**9)
    await _fund(wallet, 1, 1_000)
    await cashier.request_withdrawal(1, "w", 10, RECIPIENT)
    assert await batcher.tick() == "waiting:fees"
    assert (await wallet.balance(1)).reserved == 10  # still reserved, still queued


async def test_the_hot_wallet_balance_and_the_cap_limit_a_batch(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    cashier, batcher = _parts(evm, store, ledger, batch_size_max=3)
    evm.fund_cashier(25_000)  # room for 250 chips
    for player, chips in ((1, 200), (2, 100), (3, 50)):
        await _fund(wallet, player, 1_000)
        await cashier.request_withdrawal(player, "w", chips, f"0x{player:040x}")
    assert await batcher.tick() == "sent"
    batch = await store.run(partial(db.get_batch, 1))
    assert batch is not None and batch.count == 2  # 200 and 50 fit; 100 waits
    assert [r.state for r in await cashier.list_withdrawals()] == ["batched", "queued", "batched"]


async def test_a_batch_that_reverts_is_voided_and_released(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    cashier, batcher = _parts(evm, store, ledger, batch_size_max=2, confirmations=1)
    evm.fund_cashier(10**9)
    for player in (1, 2):
        await _fund(wallet, player, 1_000)
        await cashier.request_withdrawal(player, "w", 100, f"0x{player:040x}")

    def pause_after_estimate(point: str) -> None:
        if point == "batch_written":  # estimated fine, then paused before it is mined
            evm.cashier.functions.pause().transact({"from": evm.owner})

    batcher._crash_point = pause_after_estimate
    assert await batcher.tick() == "sent"
    assert await batcher.tick() == "reverted"
    for player in (1, 2):
        balance = await wallet.balance(player)
        assert (balance.balance, balance.reserved) == (1_000, 0)
        assert evm.balance(f"0x{player:040x}") == 0
    assert {(r.state, r.reason) for r in await cashier.list_withdrawals()} == {
        ("voided", "reverted")
    }
    await assert_ledger_consistent(wallet)


async def test_a_request_not_batched_in_time_expires_and_is_released(
    evm: Evm,
    store: Store,
    ledger: WalletCashierLedger,
    wallet: Wallet,
    clock: ManualClock,
) -> None:
    cashier, batcher = _parts(evm, store, ledger, withdrawal_expiry_s=3600)
    await _fund(wallet, 1, 1_000)
    await cashier.set_withdrawals_paused(True, STAFF)
    row = await cashier.request_withdrawal(1, "w", 10, RECIPIENT)
    clock.advance(3_600_001)
    await batcher.tick()
    expired = await _withdrawal(store, row.id)
    assert (expired.state, expired.reason) == ("voided", "expired")
    assert (await wallet.balance(1)).reserved == 0
    await assert_ledger_consistent(wallet)


async def test_a_request_interrupted_before_its_reservation_is_finished_by_the_batcher(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    cashier, batcher = _parts(evm, store, ledger)
    await _fund(wallet, 1, 1_000)
    # What a crash right after writing the request leaves behind:
    row = await store.run(
        partial(
            db.insert_withdrawal, evm.chain_id, 1, "player:1:w", RECIPIENT, 30, 3_000,
            store.clock_ms(),
        )
    )  # fmt: skip
    assert row.state == "requested"
    await batcher.tick()
    finished = await _withdrawal(store, row.id)
    assert finished.state == "queued"
    assert (await wallet.balance(1)).reserved == 30
    # ... and the player's retry now finds it done, under the same ledger key.
    again = await cashier.request_withdrawal(1, "w", 30, RECIPIENT)
    assert (again.id, again.transfer_id) == (row.id, finished.transfer_id)


@pytest.mark.parametrize("point", ["batch_written", "batch_sent", "batch_settled"])
async def test_a_crash_anywhere_in_a_batch_pays_each_player_once(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet, point: str
) -> None:
    cashier, batcher = _parts(evm, store, ledger, batch_size_max=3, confirmations=1)
    batcher._crash_point = crash_at(point)
    evm.fund_cashier(10**9)
    for player in (1, 2, 3):
        await _fund(wallet, player, 1_000)
        await cashier.request_withdrawal(player, "w", 100, f"0x{player:040x}")
    for _ in range(3):
        try:
            await batcher.tick()
        except Crash:
            break
    _, restarted = _parts(evm, store, ledger, batch_size_max=3, confirmations=1)
    for _ in range(4):
        await restarted.tick()
    for player in (1, 2, 3):
        assert evm.balance(f"0x{player:040x}") == 10_000
        balance = await wallet.balance(player)
        assert (balance.balance, balance.reserved) == (900, 0)
    await assert_ledger_consistent(wallet)
