"""Deploying the contracts with web3 (sync): the runbook's first step, the tests and the bench.

``deploy_cashier`` sends from ``owner``, which becomes the contract's owner; the node must
hold that account's key (a development node's unlocked account, or a local signer
middleware). Production deployments are usually done from a hardware wallet with the ABI and
bytecode of ``make contracts``; this is the same transaction.
"""

from __future__ import annotations

from typing import Any, cast

from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract import Contract

from services.chain.contract import CASHIER, TEST_TOKEN, compile_contract

DEPLOY_GAS = 3_000_000  # both contracts deploy under it (Cashier ~1.4M); no estimate round


def _deploy(w3: Web3, name: str, sender: str, *args: Any) -> Contract:
    compiled = compile_contract(name)
    factory = w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    tx_hash = factory.constructor(*args).transact(
        {"from": to_checksum_address(sender), "gas": DEPLOY_GAS}
    )
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    if receipt["status"] != 1:
        raise RuntimeError(f"deploying {name} reverted")
    return cast(Contract, w3.eth.contract(address=receipt["contractAddress"], abi=compiled.abi))


def deploy_cashier(
    w3: Web3, owner: str, *, token: str, operator: str, cap: int, cap_period_s: int
) -> Contract:
    """A Cashier for ``token`` (the zero address: the native coin) paying through
    ``operator``, at most ``cap`` per ``cap_period_s`` seconds."""
    return _deploy(
        w3, CASHIER, owner, to_checksum_address(token), to_checksum_address(operator), cap,
        cap_period_s,
    )  # fmt: skip


def deploy_test_token(
    w3: Web3, owner: str, *, decimals: int = 6, fee_bps: int = 0, symbol: str = "TST"
) -> Contract:
    """The tests' minimal ERC-20 (contracts/test/TestToken.vy): anyone may mint."""
    return _deploy(w3, TEST_TOKEN, owner, f"Test {symbol}", symbol, decimals, fee_bps)
