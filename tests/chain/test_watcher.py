"""The deposit watcher on a py-evm chain (eth-tester) and the real ledger (SQLite)."""

from __future__ import annotations

from functools import partial

from persistence import chain as db
from persistence.ledger import PlayerLimits
from persistence.store import Store
from services.chain.cashier import ChainCashier
from services.chain.ledger_port import WalletCashierLedger
from services.chain.watcher import DepositWatcher
from services.wallet import Wallet
from tests.chain.conftest import assert_ledger_consistent
from tests.chain.evm import Evm
from tests.persistence.stores import DAY_MS, ManualClock

PLAYER = 7


async def _setup(
    evm: Evm, store: Store, ledger: WalletCashierLedger, **settings: object
) -> tuple[DepositWatcher, str]:
    chosen = evm.settings(**settings)
    cashier = ChainCashier(store, ledger, chosen)
    reference = (await cashier.deposit_instructions(PLAYER)).reference
    return DepositWatcher(store, evm.client(), ledger, chosen), reference


async def _deposits(store: Store, chain_id: int) -> list[db.Deposit]:
    return await store.run(partial(db.list_deposits, chain_id, None, None, None, 50))


async def test_a_deposit_is_pending_until_its_confirmations_then_credited(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    watcher, reference = await _setup(evm, store, ledger, confirmations=3)
    evm.deposit(evm.users[0], reference, 12_345)  # 123 chips at 1/100; 45 units of dust
    report = await watcher.poll_once()
    assert (report.seen, report.opened, report.credited) == (1, 1, 0)
    assert (await wallet.balance(PLAYER)).balance == 0
    (history,) = (await wallet.history(PLAYER)).entries
    assert (history.state, history.amount) == ("pending", 123)
    evm.mine(1)  # two confirmations
    assert (await watcher.poll_once()).credited == 0
    evm.mine(1)  # three
    assert (await watcher.poll_once()).credited == 1
    assert (await wallet.balance(PLAYER)).balance == 123
    (deposit,) = await _deposits(store, evm.chain_id)
    assert (deposit.state, deposit.units, deposit.chips) == ("credited", 12_345, 123)
    evm.mine(5)
    assert (await watcher.poll_once()).credited == 0  # credited once, however long we poll
    assert (await wallet.balance(PLAYER)).balance == 123
    await assert_ledger_consistent(wallet)


async def test_with_finalized_the_finalized_block_is_the_line(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    # eth-tester finalizes every block at once: the deposit counts in the first poll even
    # though 100 confirmations are set.
    watcher, reference = await _setup(evm, store, ledger, confirmations=100, use_finalized=True)
    evm.deposit(evm.users[0], reference, 500)
    report = await watcher.poll_once()
    assert report.line == report.head
    assert report.credited == 1
    assert (await wallet.balance(PLAYER)).balance == 5


async def test_a_reorganisation_before_the_line_voids_the_pending_credit(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    watcher, reference = await _setup(evm, store, ledger, confirmations=5)
    snapshot = evm.tester.take_snapshot()
    evm.deposit(evm.users[0], reference, 1_000)
    await watcher.poll_once()
    assert (await wallet.history(PLAYER)).entries[0].state == "pending"
    evm.tester.revert_to_snapshot(snapshot)
    evm.mine(8)  # a longer chain without the deposit
    report = await watcher.poll_once()
    assert report.reorg
    assert report.reorged == 1
    (entry,) = (await wallet.history(PLAYER)).entries
    assert entry.state == "voided"
    (deposit,) = await _deposits(store, evm.chain_id)
    assert deposit.state == "reorged"
    evm.mine(10)
    assert (await watcher.poll_once()).credited == 0
    assert (await wallet.balance(PLAYER)).balance == 0
    await assert_ledger_consistent(wallet)


async def test_a_deposit_mined_again_after_a_reorganisation_is_credited_once(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    watcher, reference = await _setup(evm, store, ledger, confirmations=3)
    snapshot = evm.tester.take_snapshot()
    evm.deposit(evm.users[0], reference, 1_000)
    await watcher.poll_once()
    evm.tester.revert_to_snapshot(snapshot)
    evm.mine(3)
    await watcher.poll_once()  # vanished: voided
    # The same signed transaction (same nonce, same fields: same hash) is mined again, as
    # it is when a node puts a reorganised-away transaction back in its pool.
    evm.deposit(evm.users[0], reference, 1_000)
    evm.mine(3)
    await watcher.poll_once()
    assert (await wallet.balance(PLAYER)).balance == 10
    (deposit,) = await _deposits(store, evm.chain_id)
    assert (deposit.state, deposit.attempt) == ("credited", 1)
    states = sorted(e.state for e in (await wallet.history(PLAYER)).entries)
    assert states == ["posted", "voided"]  # the first attempt's credit, the second's
    await assert_ledger_consistent(wallet)


async def test_an_unknown_reference_credits_nobody_and_is_kept_for_staff(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    watcher, _ = await _setup(evm, store, ledger)
    evm.deposit(evm.users[0], "0x" + "ab" * 32, 5_000)
    evm.mine(5)
    await watcher.poll_once()
    (deposit,) = await _deposits(store, evm.chain_id)
    assert (deposit.state, deposit.player_id, deposit.transfer_id) == ("unmatched", None, None)
    assert (await wallet.audit()).transfers == 0


async def test_a_deposit_worth_less_than_a_chip_is_too_small(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    watcher, reference = await _setup(evm, store, ledger)
    evm.deposit(evm.users[0], reference, 99)
    evm.mine(5)
    await watcher.poll_once()
    (deposit,) = await _deposits(store, evm.chain_id)
    assert (deposit.state, deposit.chips) == ("too_small", 0)
    assert (await wallet.audit()).transfers == 0


async def test_a_deposit_over_the_daily_limit_is_held_until_the_limit_allows_it(
    evm: Evm,
    store: Store,
    ledger: WalletCashierLedger,
    wallet: Wallet,
    clock: ManualClock,
) -> None:
    watcher, reference = await _setup(evm, store, ledger)
    await wallet.set_limits(PLAYER, PlayerLimits(daily_deposit_max=50))
    evm.deposit(evm.users[0], reference, 10_000)  # 100 chips
    evm.mine(5)
    await watcher.poll_once()
    (deposit,) = await _deposits(store, evm.chain_id)
    assert (deposit.state, deposit.hold_reason) == ("held", "limit_exceeded")
    assert (await wallet.balance(PLAYER)).balance == 0
    await wallet.set_limits(PLAYER, PlayerLimits(daily_deposit_max=100))
    clock.advance(DAY_MS)
    await watcher.poll_once()
    (deposit,) = await _deposits(store, evm.chain_id)
    assert deposit.state == "credited"
    assert (await wallet.balance(PLAYER)).balance == 100
    await assert_ledger_consistent(wallet)


async def test_a_restarted_watcher_resumes_without_crediting_twice(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    watcher, reference = await _setup(evm, store, ledger, confirmations=10)
    for units in (1_000, 2_000, 3_000):
        evm.deposit(evm.users[1], reference, units)
    assert (await watcher.poll_once()).opened == 3
    restarted = DepositWatcher(store, evm.client(), ledger, evm.settings(confirmations=10))
    evm.mine(10)
    report = await restarted.poll_once()
    assert report.seen == 0  # the cursor was kept: nothing read twice
    assert report.credited == 3
    assert (await restarted.poll_once()).credited == 0
    assert (await wallet.balance(PLAYER)).balance == 60
    await assert_ledger_consistent(wallet)


async def test_catching_up_reads_in_bounded_ranges_and_polls(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    watcher, reference = await _setup(
        evm, store, ledger, log_range_blocks_max=3, poll_blocks_max=10
    )
    for _ in range(4):
        evm.deposit(evm.users[2], reference, 100)
        evm.mine(4)
    head = evm.head
    reads = []
    while True:
        report = await watcher.poll_once()
        reads.append(report.read_to - report.read_from + 1)
        if report.read_to == head:
            break
    assert max(reads) <= 10
    assert len(reads) >= head // 10
    assert (await wallet.balance(PLAYER)).balance == 4
    await assert_ledger_consistent(wallet)


async def test_deposits_of_several_players_go_to_each_one(
    evm: Evm, store: Store, ledger: WalletCashierLedger, wallet: Wallet
) -> None:
    settings = evm.settings()
    cashier = ChainCashier(store, ledger, settings)
    watcher = DepositWatcher(store, evm.client(), ledger, settings)
    references = {p: (await cashier.deposit_instructions(p)).reference for p in (1, 2, 3)}
    assert len(set(references.values())) == 3
    assert (await cashier.deposit_instructions(2)).reference == references[2]  # one each
    for player, reference in references.items():
        evm.deposit(evm.users[player], reference, player * 1_000)
    evm.mine(5)
    await watcher.poll_once()
    assert [(await wallet.balance(p)).balance for p in (1, 2, 3)] == [10, 20, 30]
    await assert_ledger_consistent(wallet)
