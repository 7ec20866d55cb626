"""A native-coin cashier end to end, the network metrics, and an unreachable node."""

from __future__ import annotations

import itertools

import pytest
from prometheus_client import REGISTRY
from web3 import Web3

from persistence.ledger import AccountRef
from persistence.store import Store
from services.chain.batcher import WithdrawalBatcher
from services.chain.cashier import ChainCashier
from services.chain.deploy import deploy_cashier
from services.chain.ledger_port import WalletCashierLedger
from services.chain.rpc import ChainUnavailable, Web3Client
from services.chain.watcher import DepositWatcher
from services.wallet import Wallet
from tests.chain.conftest import assert_ledger_consistent
from tests.chain.evm import Evm

GWEI = 10**9


def _metric(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_a_native_coin_cashier_credits_and_pays_the_coin(
    evm: Evm, store: Store, wallet: Wallet
) -> None:
    native = deploy_cashier(
        evm.w3, evm.owner, token="0x" + "0" * 40, operator=evm.operator, cap=10**30,
        cap_period_s=86_400,
    )  # fmt: skip
    settings = evm.settings(
        cashier=native.address, token="", rate=f"1/{10**13}", confirmations=1, batch_size_max=1
    )  # one chip per 0.00001 coin
    client = Web3Client(evm.w3, native.address, label=str(evm.chain_id))
    ledger = WalletCashierLedger(wallet)
    cashier = ChainCashier(store, ledger, settings)
    ids = itertools.count(1)
    batcher = WithdrawalBatcher(
        store, client, cashier, settings, evm.operator_key, new_batch_id=lambda: next(ids)
    )
    await batcher.check_contract()
    reference = (await cashier.deposit_instructions(4)).reference
    native.functions.deposit_native(bytes.fromhex(reference[2:])).transact(
        {"from": evm.users[0], "value": 10**18, "gas": 100_000}
    )
    await DepositWatcher(store, client, ledger, settings).poll_once()
    assert (await wallet.balance(4)).balance == 100_000  # 1 coin = 100,000 chips
    recipient = Web3.to_checksum_address("0x" + "99" * 20)
    await cashier.request_withdrawal(4, "out", 25_000, recipient)
    assert await batcher.tick() == "sent"
    assert evm.w3.eth.get_balance(recipient) == 25 * 10**16
    assert await batcher.tick() == "confirmed"
    assert (await wallet.balance(4)).balance == 75_000
    label = str(evm.chain_id)
    assert _metric("tablium_chain_hot_wallet_balance", chain=label, asset="token") == 75 * 10**16
    await assert_ledger_consistent(wallet)


async def test_the_network_metrics_follow_the_chain(evm: Evm, store: Store, wallet: Wallet) -> None:
    settings = evm.settings(confirmations=5, batch_size_max=2)
    ledger = WalletCashierLedger(wallet)
    cashier = ChainCashier(store, ledger, settings)
    client = evm.client()
    label = str(evm.chain_id)
    reference = (await cashier.deposit_instructions(1)).reference
    evm.deposit(evm.users[0], reference, 1_000)
    await DepositWatcher(store, client, ledger, settings).poll_once()
    assert _metric("tablium_chain_head_block", chain=label) == evm.head
    assert _metric("tablium_chain_lag_blocks", chain=label) == 0
    assert _metric("tablium_chain_deposits_awaiting_confirmation", chain=label) == 1
    await wallet.adjust("fund", AccountRef("wallet", "2"), 1_000, "t")
    await cashier.request_withdrawal(2, "w", 10, "0x" + "31" * 20)
    batcher = WithdrawalBatcher(store, client, cashier, settings, evm.operator_key)
    evm.fund_cashier(10**6)
    assert await batcher.tick() == "not_due"
    assert _metric("tablium_chain_withdrawals_queued", chain=label, state="queued") == 1
    assert _metric("tablium_chain_hot_wallet_balance", chain=label, asset="token") == 10**6 + 1_000
    assert _metric("tablium_chain_hot_wallet_balance", chain=label, asset="gas") == (
        evm.w3.eth.get_balance(evm.operator)
    )
    await cashier.request_withdrawal(2, "w2", 10, "0x" + "32" * 20)
    assert await batcher.tick() == "sent"
    assert _metric("tablium_chain_withdrawals_in_flight", chain=label) == 2
    base = _metric("tablium_chain_base_fee_wei", chain=label)
    assert base is not None and 0 < base < 10 * GWEI
    assert _metric("tablium_chain_priority_fee_wei", chain=label) == settings.priority_floor_wei
    calls = _metric("tablium_chain_rpc_seconds_count", chain=label, method="eth_feeHistory")
    assert calls is not None and calls >= 1


async def test_an_unreachable_node_is_chain_unavailable_and_counted() -> None:
    client = Web3Client.over_http(
        "http://127.0.0.1:9", "0x" + "11" * 20, label="down", timeout_s=2
    )  # port 9 (discard): nothing listens there
    before = _metric("tablium_chain_rpc_errors_total", chain="down", method="eth_getBlockByNumber")
    with pytest.raises(ChainUnavailable, match="eth_getBlockByNumber"):
        await client.head()
    after = _metric("tablium_chain_rpc_errors_total", chain="down", method="eth_getBlockByNumber")
    assert (after or 0) == (before or 0) + 1
