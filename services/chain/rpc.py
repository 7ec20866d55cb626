"""The node, as the cashier needs it: the ``ChainClient`` protocol and its web3 implementation.

``Web3Client`` drives web3's *sync* provider (HTTP, or eth-tester in tests) in a worker thread
(``trio.to_thread``), never the asyncio one. Measured on this machine against Anvil on
loopback (1,000 ``eth_blockNumber`` calls each): sync in a worker thread 2.0 ms/call (1.7 ms
called directly: the thread hop costs ~0.3 ms), asyncio provider through trio-asyncio
3.3 ms/call, and that only after patching web3's private session pool, whose
``run_in_executor(ThreadPoolExecutor)`` trio-asyncio refuses; web3's aiohttp session also
opens a new connection per request (``force_close``). A watcher polling every few seconds
makes a handful of calls per poll, so the choice is about simplicity and the one asyncio
loop staying inside persistence/, and the thread wins both.

Errors: anything the node or the network does wrong (refused connection, timeout, a JSON-RPC
error) becomes :class:`ChainUnavailable`, counted by method in
``tablium_chain_rpc_errors``; the watcher and batcher log it and try again at their next
tick. A call the contract would revert becomes :class:`WouldRevert`. Anything else is our
bug and crashes the actor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal, Protocol, TypeVar, final

import msgspec
import requests
import trio
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import (
    ContractLogicError,
    ProviderConnectionError,
    TransactionNotFound,
    Web3RPCError,
)
from web3.providers import HTTPProvider

from services.chain.contract import CASHIER, DEPOSITED_SIGNATURE, compile_contract
from services.chain.metrics import RPC_ERRORS, RPC_SECONDS

T = TypeVar("T")
DEPOSITED_TOPIC: Final = "0x" + keccak(text=DEPOSITED_SIGNATURE).hex()
ZERO_ADDRESS: Final = "0x" + "0" * 40
BALANCE_OF_ABI: Final = [
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    }
]
# A send the node answers with one of these has nothing left to do: the same transaction is
# already in its pool, or its nonce is taken (by this transaction mined, or by its replacement).
# (The last one is eth-tester's wording.)
_ALREADY_SENT: Final = (
    "already known",
    "known transaction",
    "nonce too low",
    "already imported",
    "invalid transaction nonce",
)


class ChainUnavailable(Exception):
    """The node did not answer usefully (down, slow, an RPC error); try again later."""


@final
class WouldRevert(Exception):
    """The node's gas estimate says the contract would revert this call."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@final
class Head(msgspec.Struct, frozen=True):
    number: int
    hash: str


@final
class DepositLog(msgspec.Struct, frozen=True):
    tx_hash: str
    log_index: int
    block_number: int
    block_hash: str
    token: str
    sender: str
    reference: str  # 0x + 64 hex digits
    units: int


@final
class Receipt(msgspec.Struct, frozen=True):
    tx_hash: str
    status: int  # 1 success, 0 reverted
    block_number: int
    block_hash: str
    gas_used: int


@final
class FeeHistory(msgspec.Struct, frozen=True):
    base_fees: list[int]  # one per block asked, then the next block's
    rewards: list[list[int]]  # per block, the asked percentiles of priority fees paid


@final
class CashierState(msgspec.Struct, frozen=True):
    token: str  # the zero address: a native-coin cashier
    operator: str
    paused: bool
    cap_remaining: int


class ChainClient(Protocol):
    """What the watcher and the batcher ask of a node. Every method may raise
    ChainUnavailable."""

    label: str  # the chain id as metrics label it

    async def chain_id(self) -> int: ...
    async def head(self) -> Head: ...
    async def finalized(self) -> int | None: ...
    async def block_hashes(self, numbers: Sequence[int]) -> dict[int, str]: ...
    async def deposit_logs(self, first: int, last: int) -> list[DepositLog]: ...
    async def fee_history(self, blocks: int, percentile: float) -> FeeHistory: ...
    async def cashier_state(self) -> CashierState: ...
    async def hot_balance(self, token: str) -> int: ...
    async def gas_balance(self, address: str) -> int: ...
    async def nonce(self, address: str, *, pending: bool) -> int: ...
    async def estimate_gas(self, tx: dict[str, Any]) -> int: ...
    async def send_raw(self, raw: bytes) -> str: ...
    async def receipt(self, tx_hash: str) -> Receipt | None: ...
    def batch_calldata(
        self, batch_id: int, recipients: Sequence[str], amounts: Sequence[int]
    ) -> str: ...


def _hex(value: Any) -> str:
    text = value.hex() if isinstance(value, bytes | bytearray) else str(value)
    return text if text.startswith("0x") else "0x" + text


def decode_deposit(log: Any) -> DepositLog:
    """A Deposited log (topics: signature, token, sender, reference; data: amount)."""
    topics = log["topics"]
    data = bytes(log["data"])
    return DepositLog(
        tx_hash=_hex(log["transactionHash"]),
        log_index=int(log["logIndex"]),
        block_number=int(log["blockNumber"]),
        block_hash=_hex(log["blockHash"]),
        token=to_checksum_address(bytes(topics[1])[-20:]),
        sender=to_checksum_address(bytes(topics[2])[-20:]),
        reference=_hex(bytes(topics[3])),
        units=int.from_bytes(data[:32], "big"),
    )


@final
class Web3Client:
    """A ``ChainClient`` over a sync ``Web3`` (HTTP or eth-tester), one worker thread per call.

    ``concurrency`` bounds calls in flight (1 for eth-tester, which is not thread-safe).
    """

    def __init__(self, w3: Web3, cashier: str, *, label: str, concurrency: int = 1) -> None:
        self.label = label
        self._w3 = w3
        self._cashier_address = to_checksum_address(cashier)
        self._cashier = w3.eth.contract(
            address=self._cashier_address, abi=compile_contract(CASHIER).abi
        )
        self._limiter = trio.CapacityLimiter(concurrency)
        self._batches = isinstance(w3.provider, HTTPProvider)

    @classmethod
    def over_http(cls, url: str, cashier: str, *, label: str, timeout_s: float) -> Web3Client:
        w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout_s}))
        return cls(w3, cashier, label=label, concurrency=4)

    @property
    def w3(self) -> Web3:
        return self._w3

    async def _call(self, method: str, fn: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return await trio.to_thread.run_sync(fn, limiter=self._limiter)
        except (
            requests.RequestException,
            ProviderConnectionError,
            Web3RPCError,
            OSError,
            TimeoutError,
        ) as exc:
            RPC_ERRORS.labels(self.label, method).inc()
            raise ChainUnavailable(f"{method}: {type(exc).__name__}: {exc}") from exc
        finally:
            RPC_SECONDS.labels(self.label, method).observe(time.perf_counter() - started)

    async def chain_id(self) -> int:
        return await self._call("eth_chainId", lambda: int(self._w3.eth.chain_id))

    async def head(self) -> Head:
        block = await self._call("eth_getBlockByNumber", lambda: self._w3.eth.get_block("latest"))
        return Head(int(block["number"]), _hex(block["hash"]))

    async def finalized(self) -> int | None:
        """The node's finalized block, or None where it has no such notion (or fails)."""
        try:
            block = await self._call(
                "eth_getBlockByNumber", lambda: self._w3.eth.get_block("finalized")
            )
        except ChainUnavailable:
            return None
        return int(block["number"])

    async def block_hashes(self, numbers: Sequence[int]) -> dict[int, str]:
        """Canonical hashes of these blocks; a block the node does not have is left out."""
        wanted = sorted(set(numbers))
        if not wanted:
            return {}

        def fetch() -> dict[int, str]:
            found: dict[int, str] = {}
            if self._batches and len(wanted) > 1:
                with self._w3.batch_requests() as batch:
                    for n in wanted:
                        batch.add(self._w3.eth.get_block(n))
                    blocks: list[Any] = list(batch.execute())
                for n, block in zip(wanted, blocks, strict=True):
                    if block is not None and not isinstance(block, Exception):
                        found[n] = _hex(block["hash"])
                return found
            for n in wanted:
                try:
                    found[n] = _hex(self._w3.eth.get_block(n)["hash"])
                except Exception as exc:  # web3's BlockNotFound, or eth-tester's own
                    if "not found" not in str(exc).lower() and "BlockNotFound" not in repr(exc):
                        raise
            return found

        return await self._call("eth_getBlockByNumber", fetch)

    async def deposit_logs(self, first: int, last: int) -> list[DepositLog]:
        query = {
            "address": self._cashier_address,
            "fromBlock": first,
            "toBlock": last,
            "topics": [DEPOSITED_TOPIC],
        }
        logs = await self._call("eth_getLogs", lambda: self._w3.eth.get_logs(query))  # type: ignore[arg-type]
        return [decode_deposit(log) for log in logs]

    async def fee_history(self, blocks: int, percentile: float) -> FeeHistory:
        history = await self._call(
            "eth_feeHistory", lambda: self._w3.eth.fee_history(blocks, "latest", [percentile])
        )
        return FeeHistory(
            [int(b) for b in history["baseFeePerGas"]],
            [[int(x) for x in r] for r in history.get("reward", [])],
        )

    async def cashier_state(self) -> CashierState:
        functions = self._cashier.functions

        def read() -> CashierState:
            return CashierState(
                token=to_checksum_address(functions.TOKEN().call()),
                operator=to_checksum_address(functions.operator().call()),
                paused=bool(functions.paused().call()),
                cap_remaining=int(functions.cap_remaining().call()),
            )

        return await self._call("eth_call", read)

    async def hot_balance(self, token: str) -> int:
        """What the cashier holds of its asset: token units, or wei of the native coin."""
        if int(token, 16) == 0:
            return await self.gas_balance(self._cashier_address)
        erc20 = self._w3.eth.contract(address=to_checksum_address(token), abi=BALANCE_OF_ABI)
        return await self._call(
            "eth_call", lambda: int(erc20.functions.balanceOf(self._cashier_address).call())
        )

    async def gas_balance(self, address: str) -> int:
        return await self._call(
            "eth_getBalance", lambda: int(self._w3.eth.get_balance(to_checksum_address(address)))
        )

    async def nonce(self, address: str, *, pending: bool) -> int:
        tag: Literal["pending", "latest"] = "pending" if pending else "latest"
        return await self._call(
            "eth_getTransactionCount",
            lambda: int(self._w3.eth.get_transaction_count(to_checksum_address(address), tag)),
        )

    async def estimate_gas(self, tx: dict[str, Any]) -> int:
        def estimate() -> int:
            try:
                return int(self._w3.eth.estimate_gas(tx))  # type: ignore[arg-type]
            except ContractLogicError as exc:
                raise WouldRevert(str(exc.message or exc)) from None
            except Exception as exc:
                # eth-tester raises its own TransactionFailed for a revert.
                if type(exc).__name__ == "TransactionFailed":
                    raise WouldRevert(str(exc)) from None
                raise

        return await self._call("eth_estimateGas", estimate)

    async def send_raw(self, raw: bytes) -> str:
        """Broadcast a signed transaction; its hash. Sending one the node already has (or
        whose nonce is already used) is not an error: receipts tell what happened."""
        tx_hash = "0x" + keccak(raw).hex()

        def send() -> str:
            try:
                self._w3.eth.send_raw_transaction(raw)
            except Exception as exc:
                message = str(exc).lower()
                if not any(text in message for text in _ALREADY_SENT):
                    raise
            return tx_hash

        return await self._call("eth_sendRawTransaction", send)

    async def receipt(self, tx_hash: str) -> Receipt | None:
        def read() -> Receipt | None:
            try:
                r = self._w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return None
            if r is None or r["blockNumber"] is None:
                return None
            return Receipt(
                tx_hash=tx_hash,
                status=int(r["status"]),
                block_number=int(r["blockNumber"]),
                block_hash=_hex(r["blockHash"]),
                gas_used=int(r["gasUsed"]),
            )

        return await self._call("eth_getTransactionReceipt", read)

    def batch_calldata(
        self, batch_id: int, recipients: Sequence[str], amounts: Sequence[int]
    ) -> str:
        return str(
            self._cashier.encode_abi(
                "batch_withdraw",
                args=[batch_id, [to_checksum_address(r) for r in recipients], list(amounts)],
            )
        )
