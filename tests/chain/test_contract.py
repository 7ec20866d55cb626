"""The Cashier contract itself, compiled from contracts/ and run on py-evm (eth-tester)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account
from eth_tester.exceptions import TransactionFailed
from web3 import Web3

from services.chain import contract
from services.chain.contract import CASHIER, compile_contract
from services.chain.deploy import deploy_cashier, deploy_test_token
from services.chain.rpc import decode_deposit
from tests.chain.evm import Evm, in_process

REF = "0x" + "42" * 32


def _deposits(evm: Evm) -> list[tuple[str, str, int]]:
    logs = evm.cashier.events.Deposited().get_logs(from_block=0)
    return [
        (log["args"]["sender"], "0x" + log["args"]["reference"].hex(), log["args"]["amount"])
        for log in logs
    ]


def test_the_abi_names_what_the_service_calls() -> None:
    names = {entry.get("name") for entry in compile_contract(CASHIER).abi}
    assert {"deposit", "deposit_native", "batch_withdraw", "pause", "unpause", "Deposited",
            "cap_remaining", "TOKEN", "operator", "paused"} <= names  # fmt: skip


def test_a_deposit_logs_the_sender_the_reference_and_the_amount(evm: Evm) -> None:
    tx = evm.deposit(evm.users[0], REF, 5_000)
    assert _deposits(evm) == [(evm.users[0], REF, 5_000)]
    assert evm.balance(evm.cashier.address) == 5_000
    receipt = evm.w3.eth.get_transaction_receipt(tx)  # type: ignore[arg-type]
    (log,) = [g for g in receipt["logs"] if g["address"] == evm.cashier.address]
    decoded = decode_deposit(log)
    assert (decoded.reference, decoded.units, decoded.token) == (REF, 5_000, evm.token.address)


def test_a_fee_on_transfer_token_credits_what_arrived() -> None:
    evm = in_process(fee_bps=100)  # the token keeps 1% of every transfer
    evm.deposit(evm.users[0], REF, 10_000)
    assert _deposits(evm)[0][2] == 9_900
    assert evm.balance(evm.cashier.address) == 9_900


def _deposit_call(evm: Evm, units: int) -> None:
    """The deposit as an eth_call: a refusal raises with the contract's reason."""
    evm.cashier.functions.deposit(units, bytes.fromhex(REF[2:])).call({"from": evm.users[0]})


def test_a_zero_deposit_is_refused(evm: Evm) -> None:
    with pytest.raises(TransactionFailed, match="zero amount"):
        _deposit_call(evm, 0)


def test_only_the_operator_pays_batches(evm: Evm) -> None:
    evm.fund_cashier(1_000)
    with pytest.raises(TransactionFailed, match="not operator"):
        evm.cashier.functions.batch_withdraw(1, [evm.users[1]], [10]).transact({"from": evm.owner})


def _operator_tx(evm: Evm, function: object) -> None:
    """Send ``function`` signed by the operator's own key, as the server does."""
    account = Account.from_key(evm.operator_key)
    tx = function.build_transaction(  # type: ignore[attr-defined]
        {"from": account.address, "nonce": evm.w3.eth.get_transaction_count(account.address)}
    )
    signed = account.sign_transaction(tx)
    evm.w3.eth.send_raw_transaction(signed.raw_transaction)


def test_a_batch_pays_every_recipient_and_its_id_only_once(evm: Evm) -> None:
    evm.fund_cashier(1_000)
    recipients = [f"0x{i:040x}" for i in range(1, 4)]
    checksummed = [Web3.to_checksum_address(r) for r in recipients]
    _operator_tx(evm, evm.cashier.functions.batch_withdraw(7, checksummed, [10, 20, 30]))
    assert [evm.balance(r) for r in recipients] == [10, 20, 30]
    assert evm.cashier.functions.batch_used(7).call()
    with pytest.raises(TransactionFailed, match="batch used"):
        _operator_tx(evm, evm.cashier.functions.batch_withdraw(7, checksummed, [10, 20, 30]))
    assert [evm.balance(r) for r in recipients] == [10, 20, 30]


def test_a_batch_with_mismatched_lists_is_refused(evm: Evm) -> None:
    evm.fund_cashier(1_000)
    with pytest.raises(TransactionFailed, match="bad batch"):
        _operator_tx(evm, evm.cashier.functions.batch_withdraw(1, [evm.users[1]], [1, 2]))


def test_the_cap_bounds_what_leaves_in_a_period() -> None:
    evm = in_process(cap=100)
    evm.fund_cashier(1_000)
    assert evm.cashier.functions.cap_remaining().call() == 100
    user = evm.users[1]
    _operator_tx(evm, evm.cashier.functions.batch_withdraw(1, [user], [60]))
    assert evm.cashier.functions.cap_remaining().call() == 40
    with pytest.raises(TransactionFailed, match="over cap"):
        _operator_tx(evm, evm.cashier.functions.batch_withdraw(2, [user], [41]))
    evm.tester.time_travel(evm.w3.eth.get_block("latest")["timestamp"] + 86_400)
    evm.mine(1)
    assert evm.cashier.functions.cap_remaining().call() == 100  # a new period
    _operator_tx(evm, evm.cashier.functions.batch_withdraw(2, [user], [41]))


def test_a_paused_cashier_refuses_deposits_and_withdrawals(evm: Evm) -> None:
    evm.fund_cashier(1_000)
    _operator_tx(evm, evm.cashier.functions.pause())  # the operator may pause ...
    evm.token.functions.approve(evm.cashier.address, 10).transact({"from": evm.users[0]})
    with pytest.raises(TransactionFailed, match="paused"):
        _deposit_call(evm, 10)
    with pytest.raises(TransactionFailed, match="paused"):
        _operator_tx(evm, evm.cashier.functions.batch_withdraw(1, [evm.users[1]], [1]))
    with pytest.raises(TransactionFailed, match="not owner"):
        _operator_tx(evm, evm.cashier.functions.unpause())  # ... only the owner unpauses
    evm.cashier.functions.unpause().transact({"from": evm.owner})
    evm.deposit(evm.users[0], REF, 10)


def test_owner_and_operator_are_separate_roles(evm: Evm) -> None:
    new_operator = evm.users[3]
    with pytest.raises(TransactionFailed, match="not owner"):
        _operator_tx(evm, evm.cashier.functions.set_operator(new_operator))
    with pytest.raises(TransactionFailed, match="not owner"):
        _operator_tx(evm, evm.cashier.functions.sweep(evm.users[3], 1))
    with pytest.raises(TransactionFailed, match="not owner"):
        _operator_tx(evm, evm.cashier.functions.set_cap(1, 1))
    evm.cashier.functions.set_operator(new_operator).transact({"from": evm.owner})
    assert evm.cashier.functions.operator().call() == new_operator
    # Ownership moves in two steps: the new owner must accept.
    evm.cashier.functions.transfer_ownership(evm.users[4]).transact({"from": evm.owner})
    assert evm.cashier.functions.owner().call() == evm.owner
    with pytest.raises(TransactionFailed, match="not pending owner"):
        evm.cashier.functions.accept_ownership().transact({"from": evm.users[2]})
    evm.cashier.functions.accept_ownership().transact({"from": evm.users[4]})
    assert evm.cashier.functions.owner().call() == evm.users[4]


def test_the_owner_sweeps_to_cold_storage(evm: Evm) -> None:
    evm.fund_cashier(1_000)
    cold = "0x" + "c0" * 20
    evm.cashier.functions.sweep(Web3.to_checksum_address(cold), 600).transact({"from": evm.owner})
    assert evm.balance(cold) == 600
    assert evm.balance(evm.cashier.address) == 400


def test_a_token_that_calls_back_cannot_reenter_the_cashier() -> None:
    """A hostile token whose transfer calls back into the cashier. To show that the lock, and
    nothing else, stops it, this cashier's operator is the token itself: the inner
    batch_withdraw would pass every other check."""
    evm = in_process()
    cashier = deploy_cashier(
        evm.w3, evm.owner, token=evm.token.address, operator=evm.token.address, cap=10**30,
        cap_period_s=3_600,
    )  # fmt: skip
    evm.token.functions.mint(cashier.address, 10_000).transact({"from": evm.owner})
    user = evm.users[1]
    reference = bytes.fromhex(REF[2:])

    def hook(call: object) -> None:
        data = call._encode_transaction_data()  # type: ignore[attr-defined]
        evm.token.functions.set_hook(cashier.address, bytes.fromhex(data[2:])).transact(
            {"from": evm.owner}
        )

    evm.token.functions.approve(cashier.address, 10**6).transact({"from": user})
    # Control: a callback the lock does not guard (pause, which the operator may call) works.
    hook(cashier.functions.pause())
    cashier.functions.deposit(100, reference).transact({"from": user})
    assert cashier.functions.paused().call()
    cashier.functions.unpause().transact({"from": evm.owner})
    # Without the lock this pays the user 50 from inside the deposit (checked by hand by
    # compiling the contract without @nonreentrant); with it, the whole deposit reverts.
    hook(cashier.functions.batch_withdraw(99, [user], [50]))
    with pytest.raises(TransactionFailed):  # the lock's bare revert
        cashier.functions.deposit(10_000, reference).transact({"from": user})
    assert not cashier.functions.batch_used(99).call()
    assert evm.token.functions.balanceOf(cashier.address).call() == 10_100  # nothing left


def test_a_native_cashier_takes_and_pays_the_native_coin() -> None:
    evm = in_process()
    w3 = evm.w3
    native = deploy_cashier(
        w3, evm.owner, token="0x" + "0" * 40, operator=evm.operator, cap=10**30,
        cap_period_s=3_600,
    )  # fmt: skip
    native.functions.deposit_native(bytes.fromhex(REF[2:])).transact(
        {"from": evm.users[0], "value": 10**18}
    )
    (log,) = native.events.Deposited().get_logs(from_block=0)
    assert (log["args"]["token"], log["args"]["amount"]) == ("0x" + "0" * 40, 10**18)
    with pytest.raises(TransactionFailed, match="native cashier"):
        native.functions.deposit(1, bytes.fromhex(REF[2:])).transact({"from": evm.users[0]})
    with pytest.raises(TransactionFailed, match="use deposit_native"):
        w3.eth.send_transaction({"from": evm.users[0], "to": native.address, "value": 1})
    recipient = Web3.to_checksum_address("0x" + "ab" * 20)
    _operator_tx(evm, native.functions.batch_withdraw(1, [recipient], [12345]))
    assert w3.eth.get_balance(recipient) == 12345


def test_a_token_cashier_refuses_native_deposits() -> None:
    evm = in_process()
    with pytest.raises(TransactionFailed, match="token cashier"):
        evm.cashier.functions.deposit_native(bytes.fromhex(REF[2:])).transact(
            {"from": evm.users[0], "value": 1}
        )


def test_the_test_token_deploys_with_its_knobs() -> None:
    evm = in_process()
    token = deploy_test_token(evm.w3, evm.owner, decimals=18, fee_bps=25, symbol="FEE")
    assert (token.functions.decimals().call(), token.functions.fee_bps().call()) == (18, 25)


def test_the_compile_cache_follows_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contract, "CONTRACTS_DIR", tmp_path)
    monkeypatch.setattr(contract, "CACHE_DIR", tmp_path / "cache")
    source = tmp_path / "Tiny.vy"
    body = "# pragma version ~=0.4.3\n@external\n@pure\ndef f() -> uint256:\n    return {}\n"
    try:
        source.write_text(body.format(1))
        first = contract.compile_contract("Tiny.vy")
        contract.compile_contract.cache_clear()
        assert contract.compile_contract("Tiny.vy") == first  # from the disk cache
        source.write_text(body.format(2))
        contract.compile_contract.cache_clear()
        assert contract.compile_contract("Tiny.vy").bytecode != first.bytecode
        assert len(list((tmp_path / "cache").glob("*.json"))) == 2
    finally:
        contract.compile_contract.cache_clear()
