"""``tablium bench chain``: gas per withdrawal in batches against single withdrawals, and the
deposit watcher's blocks/s.

On a local development node: Anvil when it is installed (``make chain-node``; the EVM of the
current fork), else py-evm in process (eth-tester); ``--node`` chooses. The contracts are
compiled from contracts/ and deployed fresh.

- gas: ``batch_withdraw`` paying 1, 10 and 50 recipients, to fresh addresses (the token's
  first write of their balance, 22,100 gas each, dominates) and to the same addresses again
  (returning players); against the same withdrawals sent one per transaction through the
  contract (a batch of one: what paying each withdrawal alone costs), and against a plain
  ERC-20 ``transfer`` per withdrawal from a hot wallet without any contract.
  Goal: a batch of 50 costs at most 25% of 50 single withdrawals.
- watcher: the deposit watcher catching up over ``--blocks`` blocks holding ``--deposits``
  deposits (SQLite ledger in a scratch directory): blocks/s and deposits credited/s.
"""

from __future__ import annotations

import argparse
import json
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BATCH_SIZES = (1, 10, 50)
GOAL_RATIO = 0.25
TX_GAS = 6_000_000  # named, so no estimate runs before each measured transaction
MINE_CHUNK = 200  # Anvil slows down as its chain grows: short calls stay within the timeout


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--node",
        choices=("auto", "anvil", "py-evm"),
        default="auto",
        help="auto: Anvil when installed (make chain-node), else py-evm in process",
    )
    parser.add_argument("--blocks", type=int, default=3_000, help="blocks the watcher reads")
    parser.add_argument("--deposits", type=int, default=100, help="deposits among them")


def run(args: argparse.Namespace) -> int:
    import trio

    with _node(args.node) as (w3, node_name, mine):
        results: dict[str, Any] = {"node": node_name}
        results.update(_gas(w3))
        results.update(trio.run(_watcher, w3, mine, args.blocks, args.deposits))
    if args.json:
        print(json.dumps(results, sort_keys=True))
        return 0
    print(f"node: {node_name}")
    for kind in ("fresh", "returning"):
        single = results[f"gas_single_{kind}"]
        plain = results[f"gas_erc20_transfer_{kind}"]
        print(f"{kind} recipients: single withdrawal {single:,.0f} gas; plain ERC-20 transfer"
              f" {plain:,.0f} gas")  # fmt: skip
        for n in BATCH_SIZES:
            per = results[f"gas_per_withdrawal_batch{n}_{kind}"]
            print(f"  batch of {n:>2}: {per:,.0f} gas per withdrawal = {100 * per / single:.1f}%"
                  f" of single, {100 * per / plain:.1f}% of a plain transfer")  # fmt: skip
    fresh, returning = results["batch50_vs_single_fresh"], results["batch50_vs_single_returning"]
    print(
        f"goal (batch of 50 <= {GOAL_RATIO:.0%} of single): fresh recipients {fresh:.1%}"
        f" ({'met' if fresh <= GOAL_RATIO else 'missed'}), returning recipients"
        f" {returning:.1%} ({'met' if returning <= GOAL_RATIO else 'missed'})"
    )
    if "gas_per_withdrawal_fresh_token_transfer" in results:
        print(
            f"a fresh withdrawal in a batch: {results['gas_per_withdrawal_fresh']:,} gas ="
            f" the token's transfer {results['gas_per_withdrawal_fresh_token_transfer']:,}"
            f" + calldata {results['gas_per_withdrawal_fresh_calldata']:,} + the cashier"
            f" {results['gas_per_withdrawal_fresh_cashier']:,}; fixed per transaction"
            f" {results['fixed_gas_per_transaction']:,}; the goal needs at most"
            f" {results['gas_per_withdrawal_fresh_goal_max']:,} per withdrawal"
        )
    print(
        f"watcher: {results['watcher_blocks']:,} blocks with {results['watcher_deposits']}"
        f" deposits in {results['watcher_seconds']:.2f} s = {results['watcher_blocks_per_s']:,.0f}"
        f" blocks/s, {results['watcher_deposits_per_s']:,.1f} deposits credited/s"
    )
    return 0


@contextmanager
def _node(choice: str) -> Iterator[tuple[Any, str, Any]]:
    from web3 import Web3
    from web3.providers import HTTPProvider

    from services.chain.devnode import anvil, anvil_binary

    use_anvil = choice == "anvil"
    if choice == "auto":
        try:
            anvil_binary()
            use_anvil = True
        except RuntimeError:
            use_anvil = False
    if use_anvil:
        with anvil() as url:
            w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 60}))

            def mine_anvil(blocks: int) -> None:
                for start in range(0, blocks, MINE_CHUNK):  # one call per chunk: within timeout
                    count = min(MINE_CHUNK, blocks - start)
                    w3.provider.make_request("anvil_mine", [hex(count)])  # type: ignore[arg-type]

            yield w3, "anvil", mine_anvil
        return
    from eth_tester import EthereumTester, PyEVMBackend
    from web3.providers.eth_tester import EthereumTesterProvider

    tester = EthereumTester(PyEVMBackend())
    yield Web3(EthereumTesterProvider(tester)), "py-evm (eth-tester)", tester.mine_blocks


def _deployed(w3: Any) -> tuple[Any, Any, list[str]]:
    from services.chain.deploy import deploy_cashier, deploy_test_token

    accounts = list(w3.eth.accounts)
    owner, operator = accounts[0], accounts[1]
    token = deploy_test_token(w3, owner)
    cashier = deploy_cashier(
        w3, owner, token=token.address, operator=operator, cap=10**30, cap_period_s=86_400
    )
    return token, cashier, accounts


def _gas_used(w3: Any, tx_hash: Any) -> int:
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
    assert receipt["status"] == 1, "a measured transaction reverted"
    return int(receipt["gasUsed"])


def _gas(w3: Any) -> dict[str, Any]:
    from web3 import Web3

    token, cashier, accounts = _deployed(w3)
    owner, operator, hot = accounts[0], accounts[1], accounts[2]
    token.functions.mint(cashier.address, 10**24).transact({"from": owner, "gas": TX_GAS})
    token.functions.mint(hot, 10**24).transact({"from": owner, "gas": TX_GAS})
    # Open the cap period and warm the token's balance of the cashier, as in steady state.
    warm = Web3.to_checksum_address("0x" + "ee" * 20)
    cashier.functions.batch_withdraw(0, [warm], [1]).transact({"from": operator, "gas": TX_GAS})
    batch_ids = iter(range(1, 10**6))
    results: dict[str, Any] = {}

    def fresh(n: int) -> list[str]:
        return [Web3.to_checksum_address(secrets.token_bytes(20)) for _ in range(n)]

    batch50_fresh_tx: list[Any] = []

    def batch(recipients: list[str]) -> float:
        tx = cashier.functions.batch_withdraw(
            next(batch_ids), recipients, [1_000] * len(recipients)
        ).transact({"from": operator, "gas": TX_GAS})
        if len(recipients) == 50 and not batch50_fresh_tx:
            batch50_fresh_tx.append(tx)
        return _gas_used(w3, tx) / len(recipients)

    singles = fresh(10)
    results["gas_single_fresh"] = sum(batch([r]) for r in singles) / len(singles)
    results["gas_single_returning"] = sum(batch([r]) for r in singles) / len(singles)
    for n in BATCH_SIZES:
        recipients = fresh(n)
        results[f"gas_per_withdrawal_batch{n}_fresh"] = batch(recipients)
        results[f"gas_per_withdrawal_batch{n}_returning"] = batch(recipients)
    plain = fresh(10)
    for kind in ("fresh", "returning"):
        spent = [
            _gas_used(w3, token.functions.transfer(r, 1_000).transact({"from": hot, "gas": TX_GAS}))
            for r in plain
        ]
        results[f"gas_erc20_transfer_{kind}"] = sum(spent) / len(spent)
    for kind in ("fresh", "returning"):
        results[f"batch50_vs_single_{kind}"] = (
            results[f"gas_per_withdrawal_batch50_{kind}"] / results[f"gas_single_{kind}"]
        )
        results[f"batch50_vs_erc20_transfer_{kind}"] = (
            results[f"gas_per_withdrawal_batch50_{kind}"] / results[f"gas_erc20_transfer_{kind}"]
        )
    for kind in ("fresh", "returning"):
        results[f"goal_met_{kind}"] = results[f"batch50_vs_single_{kind}"] <= GOAL_RATIO
    results.update(_where_the_gas_goes(w3, results, batch50_fresh_tx[0]))
    return results


def _where_the_gas_goes(w3: Any, results: dict[str, Any], tx: Any) -> dict[str, Any]:
    """Split the gas of a withdrawal in a batch of 50 (fresh recipients) into the fixed part
    of a transaction and the part per withdrawal, and that part into the token's own
    transfer (its call frames, from the node's call trace), calldata and the cashier's own
    work; and the part per withdrawal the goal would allow, given the fixed part: with fixed
    F and per-withdrawal p, (F + 50p) / 50 <= 0.25 (F + p) holds when p <= F (0.25 - 1/50) /
    0.75. Empty when the node has no call tracer (py-evm)."""
    per_10 = results["gas_per_withdrawal_batch10_fresh"] * 10
    per_50 = results["gas_per_withdrawal_batch50_fresh"] * 50
    per_item = (per_50 - per_10) / 40
    fixed = per_10 - 10 * per_item
    try:
        trace = w3.provider.make_request(
            "debug_traceTransaction", [w3.to_hex(tx), {"tracer": "callTracer"}]
        )["result"]
    except (KeyError, ValueError, NotImplementedError):  # no tracer: no split, the rest stands
        return {}
    calls = [int(call["gasUsed"], 16) for call in trace.get("calls", [])]
    if len(calls) != 50:
        return {}
    data = bytes(w3.eth.get_transaction(tx)["input"])
    # The calldata ends with the 50 addresses, the amounts' length and the 50 amounts: 16 gas
    # a nonzero byte, 4 a zero byte.
    items = data[-101 * 32 : -51 * 32] + data[-50 * 32 :]
    item_calldata = sum(16 if byte else 4 for byte in items) / 50
    token = sum(calls[1:]) / len(calls[1:])  # the first pays the cold accesses: fixed part
    return {
        "fixed_gas_per_transaction": round(fixed),
        "gas_per_withdrawal_fresh": round(per_item),
        "gas_per_withdrawal_fresh_token_transfer": round(token),
        "gas_per_withdrawal_fresh_calldata": round(item_calldata),
        "gas_per_withdrawal_fresh_cashier": round(per_item - token - item_calldata),
        "gas_per_withdrawal_fresh_goal_max": round(
            fixed * (GOAL_RATIO - 1 / 50) / (1 - GOAL_RATIO)
        ),
    }


async def _watcher(w3: Any, mine: Any, blocks: int, deposits: int) -> dict[str, Any]:
    import trio

    from persistence.store import open_store
    from services.chain.cashier import ChainCashier
    from services.chain.ledger_port import WalletCashierLedger
    from services.chain.rpc import Web3Client
    from services.chain.settings import ChainSettings
    from services.chain.watcher import DepositWatcher
    from services.wallet import Wallet

    token, cashier, accounts = _deployed(w3)
    start_block = int(w3.eth.block_number)
    settings = ChainSettings(
        chain_id=int(w3.eth.chain_id), rpc_url="http://127.0.0.1:1", cashier=cashier.address,
        token=token.address, start_block=start_block, confirmations=1, rate="1/100",
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="tablium-bench-chain-") as scratch:
        async with open_store(f"sqlite:///{Path(scratch) / 'bench.sqlite3'}") as store:
            wallet = Wallet(store)
            ledger = WalletCashierLedger(wallet)
            chain_cashier = ChainCashier(store, ledger, settings)
            references = [
                (await chain_cashier.deposit_instructions(p)).reference for p in range(1, 11)
            ]
            user = accounts[3]
            token.functions.mint(user, 10**24).transact({"from": user, "gas": TX_GAS})
            token.functions.approve(cashier.address, 10**24).transact({"from": user, "gas": TX_GAS})
            gap = max(1, blocks // max(1, deposits))
            for i in range(deposits):
                reference = bytes.fromhex(references[i % len(references)][2:])
                cashier.functions.deposit(1_000, reference).transact({"from": user, "gas": TX_GAS})
                if gap > 1:
                    mine(gap - 1)
            left = start_block + blocks - int(w3.eth.block_number)
            if left > 0:
                mine(left)
            head = int(w3.eth.block_number)
            client = Web3Client(
                w3, cashier.address, label=str(settings.chain_id),
                concurrency=4 if hasattr(w3.provider, "endpoint_uri") else 1,
            )  # fmt: skip
            watcher = DepositWatcher(store, client, ledger, settings)
            started = time.perf_counter()
            credited = 0
            while True:
                report = await watcher.poll_once()
                credited += report.credited
                if report.read_to >= head:
                    break
            seconds = time.perf_counter() - started
            audit = await wallet.audit()
            assert audit.consistent, audit
            await trio.lowlevel.checkpoint()
    read = head - start_block
    return {
        "watcher_blocks": read,
        "watcher_deposits": credited,
        "watcher_seconds": seconds,
        "watcher_blocks_per_s": read / seconds,
        "watcher_deposits_per_s": credited / seconds,
    }
