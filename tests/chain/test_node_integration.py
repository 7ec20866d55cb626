"""The cashier against a real JSON-RPC node over HTTP, Anvil on loopback
(services/chain/devnode.py), with PostgreSQL behind the ledger as in production. The ledger
audit holds after each scenario."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.providers import HTTPProvider

from persistence import chain as db
from persistence.ledger import AccountRef
from persistence.store import Store
from services.chain.batcher import WithdrawalBatcher
from services.chain.cashier import ChainCashier
from services.chain.devnode import anvil
from services.chain.ledger_port import WalletCashierLedger
from services.chain.rpc import Web3Client
from services.chain.settings import ChainSettings
from services.chain.watcher import DepositWatcher
from services.wallet import Wallet
from tests.chain.conftest import assert_ledger_consistent
from tests.chain.evm import GAS, Evm, deploy
from tests.persistence.stores import ManualClock, fresh_store

pytestmark = pytest.mark.slow


@pytest.fixture
def node() -> Iterator[str]:
    with anvil() as url:
        yield url


@pytest.fixture
def chain(node: str) -> Evm:
    return deploy(Web3(HTTPProvider(node, request_kwargs={"timeout": 10})))


@pytest.fixture
async def pg_store(tmp_path: Path, postgres_url: str, clock: ManualClock) -> AsyncIterator[Store]:
    async with fresh_store("postgres", tmp_path, postgres_url, clock) as opened:
        yield opened


@dataclass
class Cashier:
    evm: Evm
    settings: ChainSettings
    client: Web3Client
    wallet: Wallet
    cashier: ChainCashier
    watcher: DepositWatcher
    batcher: WithdrawalBatcher

    def rpc(self, method: str, *params: Any) -> Any:
        return self.evm.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]


def _cashier(evm: Evm, node: str, store: Store, **overrides: Any) -> Cashier:
    settings = evm.settings(rpc_url=node, **overrides)
    client = Web3Client.over_http(node, evm.cashier.address, label=str(evm.chain_id), timeout_s=10)
    wallet = Wallet(store)
    ledger = WalletCashierLedger(wallet)
    cashier = ChainCashier(store, ledger, settings)
    ids = itertools.count(1)
    batcher = WithdrawalBatcher(
        store, client, cashier, settings, evm.operator_key, new_batch_id=lambda: next(ids)
    )
    watcher = DepositWatcher(store, client, ledger, settings)
    return Cashier(evm, settings, client, wallet, cashier, watcher, batcher)


async def _queue(c: Cashier, players: range, chips: int) -> list[str]:
    addresses = []
    for player in players:
        address = Web3.to_checksum_address(f"0x{0xA000 + player:040x}")
        await c.wallet.adjust(f"fund:{player}", AccountRef("wallet", str(player)), 10_000, "t")
        await c.cashier.request_withdrawal(player, "out", chips, address)
        addresses.append(address)
    return addresses


async def test_a_deposit_is_credited_only_after_n_confirmations(
    chain: Evm, node: str, pg_store: Store
) -> None:
    c = _cashier(chain, node, pg_store, confirmations=4)
    reference = (await c.cashier.deposit_instructions(1)).reference
    chain.deposit(chain.users[0], reference, 50_000)
    for confirmations in (1, 2, 3):
        report = await c.watcher.poll_once()
        assert report.credited == 0, confirmations
        assert (await c.wallet.balance(1)).balance == 0
        chain.mine(1)
    assert (await c.watcher.poll_once()).credited == 1  # the fourth confirmation
    assert (await c.wallet.balance(1)).balance == 500
    await assert_ledger_consistent(c.wallet)


async def test_a_reorganisation_removes_an_unconfirmed_deposit_and_credits_nothing(
    chain: Evm, node: str, pg_store: Store
) -> None:
    c = _cashier(chain, node, pg_store, confirmations=6)
    reference = (await c.cashier.deposit_instructions(1)).reference
    snapshot = c.rpc("evm_snapshot")["result"]
    chain.deposit(chain.users[0], reference, 50_000)
    chain.mine(2)
    assert (await c.watcher.poll_once()).opened == 1
    assert c.rpc("evm_revert", snapshot)["result"] is True  # the fork without the deposit ...
    chain.mine(10)  # ... grows longer and wins
    report = await c.watcher.poll_once()
    assert (report.reorg, report.reorged, report.credited) == (True, 1, 0)
    chain.mine(10)
    assert (await c.watcher.poll_once()).credited == 0
    assert (await c.wallet.balance(1)).balance == 0
    (entry,) = (await c.wallet.history(1)).entries
    assert entry.state == "voided"
    await assert_ledger_consistent(c.wallet)


async def test_fifty_withdrawals_go_out_in_one_transaction(
    chain: Evm, node: str, pg_store: Store
) -> None:
    c = _cashier(chain, node, pg_store, batch_size_max=50, confirmations=2)
    chain.fund_cashier(10**12)
    addresses = await _queue(c, range(1, 51), 100)
    head_before = chain.head
    assert await c.batcher.tick() == "sent"
    batch = await pg_store.run(partial(db.get_batch, 1))
    assert batch is not None and (batch.count, len(batch.txs)) == (50, 1)
    assert chain.head == head_before + 1  # one transaction, one block (Anvil mines each)
    receipt = chain.w3.eth.get_transaction_receipt(batch.txs[0].tx_hash)  # type: ignore[arg-type]
    assert receipt["status"] == 1
    assert all(chain.balance(a) == 10_000 for a in addresses)
    chain.mine(1)
    assert await c.batcher.tick() == "confirmed"
    for player in range(1, 51):
        balance = await c.wallet.balance(player)
        assert (balance.balance, balance.reserved) == (9_900, 0)
    await assert_ledger_consistent(c.wallet)


async def test_a_stuck_transaction_is_replaced_and_pays_once(
    chain: Evm, node: str, pg_store: Store, clock: ManualClock
) -> None:
    c = _cashier(chain, node, pg_store, batch_size_max=3, confirmations=1, replace_after_s=60)
    chain.fund_cashier(10**12)
    addresses = await _queue(c, range(1, 4), 100)
    c.rpc("evm_setAutomine", False)  # nothing gets mined: the batch is stuck
    assert await c.batcher.tick() == "sent"
    assert await c.batcher.tick() == "in_flight"
    clock.advance(60_000)
    assert await c.batcher.tick() == "replaced"
    batch = await pg_store.run(partial(db.get_batch, 1))
    assert batch is not None and len(batch.txs) == 2
    first, second = batch.txs
    assert second.max_fee_wei * 8 >= first.max_fee_wei * 9
    assert second.priority_fee_wei * 8 >= first.priority_fee_wei * 9
    c.rpc("evm_mine")
    assert await c.batcher.tick() == "confirmed"
    settled = await pg_store.run(partial(db.get_batch, 1))
    assert settled is not None and settled.mined_tx == second.tx_hash
    assert chain.w3.eth.get_transaction_receipt(second.tx_hash)["status"] == 1  # type: ignore[arg-type]
    assert [chain.balance(a) for a in addresses] == [10_000] * 3
    await assert_ledger_consistent(c.wallet)


async def test_a_batch_not_mined_before_expiry_is_cancelled_and_released(
    chain: Evm, node: str, pg_store: Store, clock: ManualClock
) -> None:
    c = _cashier(chain, node, pg_store, batch_size_max=2, confirmations=1, batch_expiry_s=600)
    chain.fund_cashier(10**12)
    addresses = await _queue(c, range(1, 3), 100)
    c.rpc("evm_setAutomine", False)
    assert await c.batcher.tick() == "sent"
    clock.advance(600_000)
    assert await c.batcher.tick() == "cancelling"
    c.rpc("evm_mine")
    assert await c.batcher.tick() == "cancelled"
    assert [chain.balance(a) for a in addresses] == [0, 0]
    for player in (1, 2):
        assert (await c.wallet.balance(player)).reserved == 0
    await assert_ledger_consistent(c.wallet)


async def test_a_paused_contract_refuses_and_nothing_is_lost(
    chain: Evm, node: str, pg_store: Store
) -> None:
    c = _cashier(chain, node, pg_store, batch_size_max=1, confirmations=1)
    chain.fund_cashier(10**12)
    reference = (await c.cashier.deposit_instructions(9)).reference
    chain.cashier.functions.pause().transact({"from": chain.owner, "gas": GAS})
    refused = chain.deposit(chain.users[0], reference, 1_000)  # sent without an estimate
    assert chain.w3.eth.get_transaction_receipt(refused)["status"] == 0  # type: ignore[arg-type]
    assert chain.cashier.events.Deposited().get_logs(from_block=0) == []
    operator = chain.w3.eth.contract(address=chain.cashier.address, abi=chain.cashier.abi)
    with pytest.raises(ContractLogicError, match="paused"):
        operator.functions.batch_withdraw(1, [chain.users[1]], [1]).call({"from": chain.operator})
    (address,) = await _queue(c, range(1, 2), 100)
    assert await c.batcher.tick() == "waiting:contract_paused"
    assert (await c.wallet.balance(1)).reserved == 100  # still reserved, still queued
    chain.cashier.functions.unpause().transact({"from": chain.owner, "gas": GAS})
    assert await c.batcher.tick() == "sent"
    assert await c.batcher.tick() == "confirmed"
    assert chain.balance(address) == 10_000
    await assert_ledger_consistent(c.wallet)
