"""A deployed cashier on some node (eth-tester in process, or Anvil over HTTP), for tests.

Accounts are the node's unlocked development accounts: ``owner`` deploys (and owns) the
contracts, ``users`` hold test tokens and deposit; the operator is a fresh key funded with
gas money, as in production (the server signs its transactions itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.contract import Contract

from services.chain.deploy import deploy_cashier, deploy_test_token
from services.chain.rpc import Web3Client
from services.chain.settings import ChainSettings

CAP_UNLIMITED = 10**30
USER_UNITS = 10**15
# Test transactions name their gas: web3 would otherwise estimate each one, which on py-evm
# is a binary search costing several executions.
GAS = 300_000


@dataclass
class Evm:
    w3: Web3
    owner: str
    operator_key: str
    operator: str
    token: Contract
    cashier: Contract
    users: list[str]
    tester: Any = None  # eth_tester.EthereumTester when in process

    @property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    @property
    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def mine(self, blocks: int = 1) -> None:
        if self.tester is not None:
            self.tester.mine_blocks(blocks)
        else:
            self.w3.provider.make_request("anvil_mine", [hex(blocks)])  # type: ignore[arg-type]

    def deposit(self, user: str, reference: str, units: int) -> str:
        """Approve and deposit in two transactions; the deposit's hash."""
        self.token.functions.approve(self.cashier.address, units).transact(
            {"from": user, "gas": GAS}
        )
        tx = self.cashier.functions.deposit(units, bytes.fromhex(reference[2:])).transact(
            {"from": user, "gas": GAS}
        )
        return "0x" + bytes(tx).hex()

    def balance(self, address: str) -> int:
        return int(self.token.functions.balanceOf(Web3.to_checksum_address(address)).call())

    def fund_cashier(self, units: int) -> None:
        self.token.functions.mint(self.cashier.address, units).transact(
            {"from": self.owner, "gas": GAS}
        )

    def client(self, *, concurrency: int = 1) -> Web3Client:
        return Web3Client(
            self.w3, self.cashier.address, label=str(self.chain_id), concurrency=concurrency
        )

    def settings(self, **overrides: Any) -> ChainSettings:
        values: dict[str, Any] = {
            "chain_id": self.chain_id,
            "rpc_url": "http://127.0.0.1:1",  # unused: tests hand the client in
            "cashier": self.cashier.address,
            "token": self.token.address,
            "confirmations": 3,
            "rate": "1/100",  # one chip per 100 units
            "batch_interval_s": 60.0,
            "approval_threshold_chips": 1_000_000,
        }
        values.update(overrides)
        return ChainSettings.from_mapping(values)


def deploy(w3: Web3, *, tester: Any = None, fee_bps: int = 0, cap: int = CAP_UNLIMITED) -> Evm:
    accounts = [Web3.to_checksum_address(a) for a in w3.eth.accounts]
    owner = accounts[0]
    operator = Account.create()
    w3.eth.send_transaction({"from": owner, "to": operator.address, "value": 10**20, "gas": 21_000})
    token = deploy_test_token(w3, owner, fee_bps=fee_bps)
    cashier = deploy_cashier(
        w3, owner, token=token.address, operator=operator.address, cap=cap, cap_period_s=86_400
    )
    users = accounts[1:6]
    for user in users:
        token.functions.mint(user, USER_UNITS).transact({"from": owner, "gas": GAS})
    return Evm(
        w3=w3,
        owner=owner,
        operator_key="0x" + bytes(operator.key).hex(),
        operator=operator.address,
        token=token,
        cashier=cashier,
        users=users,
        tester=tester,
    )


def in_process(**kwargs: Any) -> Evm:
    """A fresh py-evm chain (eth-tester) with the contracts deployed."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3.providers.eth_tester import EthereumTesterProvider

    tester = EthereumTester(PyEVMBackend())
    return deploy(Web3(EthereumTesterProvider(tester)), tester=tester, **kwargs)
