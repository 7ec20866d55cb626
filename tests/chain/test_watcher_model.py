"""The watcher against a model chain that hypothesis drives through deposits, blocks, polls
and reorganisations shallower than the confirmation depth: every deposit on the final
canonical chain is credited once, nothing else is, and the ledger audit holds.

The chain is an in-memory ``ChainClient`` (no threads), the ledger real (SQLite)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persistence import chain as db
from persistence.store import open_store
from services.chain.cashier import ChainCashier
from services.chain.ledger_port import WalletCashierLedger
from services.chain.rpc import DepositLog, Head
from services.chain.settings import ChainSettings
from services.chain.watcher import DepositWatcher
from services.wallet import Wallet

CONFIRMATIONS = 3
PLAYERS = 3
TOKEN = "0x" + "77" * 20
CASHIER = "0x" + "66" * 20


@dataclass
class Block:
    hash: str
    deposits: list[tuple[str, int, int]]  # (tx hash, player, units)


@dataclass
class ModelChain:
    """Blocks 0..head; a reorganisation replaces the top blocks by a longer fork."""

    references: dict[int, str] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=lambda: [Block("0x" + "00" * 32, [])])
    pending: list[tuple[str, int, int]] = field(default_factory=list)
    counter: int = 0
    label: str = "1"

    def _hash(self) -> str:
        self.counter += 1
        return f"0x{self.counter:064x}"

    def deposit(self, player: int, units: int) -> None:
        self.counter += 1
        self.pending.append((f"0x{self.counter:062x}aa", player, units))

    def mine(self, count: int) -> None:
        for _ in range(count):
            self.blocks.append(Block(self._hash(), self.pending))
            self.pending = []

    def reorg(self, depth: int, reinclude: bool) -> None:
        depth = min(depth, len(self.blocks) - 1)
        dropped = self.blocks[len(self.blocks) - depth :]
        del self.blocks[len(self.blocks) - depth :]
        if reinclude:  # the node puts the lost transactions back in its pool
            self.pending = [d for b in dropped for d in b.deposits] + self.pending
        self.mine(depth + 1)

    def canonical(self) -> list[tuple[str, int, int]]:
        return [d for b in self.blocks for d in b.deposits]

    # -- the ChainClient methods the watcher uses --

    async def head(self) -> Head:
        return Head(len(self.blocks) - 1, self.blocks[-1].hash)

    async def finalized(self) -> int | None:
        return None

    async def block_hashes(self, numbers: Sequence[int]) -> dict[int, str]:
        return {n: self.blocks[n].hash for n in numbers if 0 <= n < len(self.blocks)}

    async def deposit_logs(self, first: int, last: int) -> list[DepositLog]:
        logs = []
        for number in range(max(first, 0), min(last, len(self.blocks) - 1) + 1):
            block = self.blocks[number]
            for tx, player, units in block.deposits:
                logs.append(
                    DepositLog(
                        tx,
                        0,
                        number,
                        block.hash,
                        TOKEN,
                        "0x" + "55" * 20,
                        self.references[player],
                        units,
                    )
                )
        return logs


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("deposit"), st.integers(0, PLAYERS - 1), st.integers(1, 50)),
        st.tuples(st.just("mine"), st.integers(1, 3)),
        st.tuples(st.just("reorg"), st.integers(1, CONFIRMATIONS - 1), st.booleans()),
        st.tuples(st.just("poll")),
    ),
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS)
def test_shallow_reorganisations_never_cost_or_duplicate_a_credit(steps: list[Any]) -> None:
    trio.run(_run, steps)


async def _run(steps: list[Any]) -> None:
    chain = ModelChain()
    config = ChainSettings(
        chain_id=1, rpc_url="http://127.0.0.1:1", cashier=CASHIER, token=TOKEN,
        confirmations=CONFIRMATIONS, rate="1/1",
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        async with open_store(f"sqlite:///{Path(scratch) / 'm.sqlite3'}") as store:
            wallet = Wallet(store)
            ledger = WalletCashierLedger(wallet)
            cashier = ChainCashier(store, ledger, config)
            for player in range(PLAYERS):
                chain.references[player] = (await cashier.deposit_instructions(player)).reference
            watcher = DepositWatcher(store, chain, ledger, config)  # type: ignore[arg-type]
            credited_ever: set[str] = set()
            for step in steps:
                if step[0] == "deposit":
                    chain.deposit(step[1], step[2])
                elif step[0] == "mine":
                    chain.mine(step[1])
                elif step[0] == "reorg":
                    chain.reorg(step[1], step[2])
                else:
                    await watcher.poll_once()
                    rows = await store.run(
                        partial(db.list_deposits, 1, "credited", None, None, 200)
                    )
                    credited_ever |= {r.tx_hash for r in rows}
            chain.mine(len(chain.pending) and 1)  # what is still in the pool goes in a block
            chain.mine(CONFIRMATIONS)
            await watcher.poll_once()
            await watcher.poll_once()
            final = chain.canonical()
            rows = await store.run(partial(db.list_deposits, 1, "credited", None, None, 200))
            assert sorted(r.tx_hash for r in rows) == sorted(tx for tx, _, _ in final)
            assert credited_ever <= {tx for tx, _, _ in final}  # nothing credited vanished
            everything = await store.run(partial(db.list_deposits, 1, None, None, None, 200))
            assert {r.state for r in everything} <= {"credited", "reorged"}
            for player in range(PLAYERS):
                expected = sum(units for _, p, units in final if p == player)
                assert (await wallet.balance(player)).balance == expected
                history = (await wallet.history(player)).entries
                assert "pending" not in {e.state for e in history}  # each voided or posted
            audit = await wallet.audit()
            assert audit.consistent, audit
