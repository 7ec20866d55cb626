"""Fencing under any interleaving (hypothesis): two nodes take a table's fence in turn and
write its snapshots in any order, on one SQLite store. A write lands if and only if its
writer holds the current epoch (or nobody ever fenced the table) and its version is newer
than the stored one; the stored snapshot is always the last one that landed. The same for
the table's ledger transfers (buy-ins, cash-outs)."""

from __future__ import annotations

import tempfile
from functools import partial

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from persistence.leases import Fenced, NodeFences, take_fence
from persistence.snapshots import Snapshot
from persistence.store import open_store
from services.ledger import WalletError, escrow, wallet
from services.wallet import Wallet
from tests.persistence.stores import ManualClock

TABLE = "t"
NODES = ("a", "b")

# ("take", node) or ("write", node, version)
Op = tuple[str, str] | tuple[str, str, int]
ops_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("take"), st.sampled_from(NODES)),
        st.tuples(st.just("write"), st.sampled_from(NODES), st.integers(1, 30)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(ops=ops_strategy)
def test_only_the_current_epoch_holder_writes_and_versions_only_move_forward(
    ops: list[Op],
) -> None:
    async def main() -> None:
        with tempfile.TemporaryDirectory() as scratch:
            async with open_store(
                f"sqlite:///{scratch}/f.sqlite3", clock_ms=ManualClock()
            ) as store:
                fences = {node: NodeFences() for node in NODES}
                current = 0  # the model: the epoch in the database
                held: dict[str, int] = {}
                stored: tuple[int, bytes] | None = None
                for op in ops:
                    node = op[1]
                    if op[0] == "take":
                        epoch = await store.run(partial(take_fence, TABLE, node, 0))
                        current += 1
                        assert epoch == current
                        held[node] = epoch
                        fences[node].hold(TABLE, epoch)
                        continue
                    assert len(op) == 3
                    version = op[2]
                    data = f"{node}{version}".encode()
                    store.fences = fences[node]
                    (landed,) = await store.save_snapshots(
                        [Snapshot(kind="table", actor_id=TABLE, version=version, data=data)]
                    )
                    # Never fenced (0): anyone writes; else only the current epoch's holder.
                    may = held.get(node, 0) == current
                    newer = stored is None or version > stored[0]
                    assert landed == (may and newer), (op, held, current, stored)
                    if landed:
                        stored = (version, data)
                    found = await store.load_snapshot(TABLE)
                    assert (found.version, found.data) == stored if found else stored is None

    trio.run(main)


# ("take", node) or ("move", node, amount): amount > 0 a buy-in, < 0 a cash-out of -amount.
MoveOp = tuple[str, str] | tuple[str, str, int]
moves_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("take"), st.sampled_from(NODES)),
        st.tuples(st.just("move"), st.sampled_from(NODES), st.integers(-60, 60).filter(bool)),
    ),
    max_size=25,
)
FUNDS = 100


@settings(max_examples=40, deadline=None)
@given(ops=moves_strategy)
def test_only_the_current_epoch_holder_moves_the_tables_chips(ops: list[MoveOp]) -> None:
    """Buy-ins and cash-outs of one table's escrow from two nodes taking its fence in turn:
    one lands exactly when its node holds the current epoch (or holds none: a node that
    never owned the table is not fenced), and the rules allow it; a fenced one raises
    Fenced and moves nothing; the balances always follow the model and the ledger audits."""

    async def main() -> None:
        with tempfile.TemporaryDirectory() as scratch:
            async with open_store(
                f"sqlite:///{scratch}/f.sqlite3", clock_ms=ManualClock()
            ) as store:
                fences = {node: NodeFences() for node in NODES}
                wallets = Wallet(store)
                owner = f"table:{TABLE}"
                await wallets.adjust("fund", wallet(1), FUNDS, "fuzz funds")
                current = 0
                held: dict[str, int] = {}
                in_wallet, in_escrow = FUNDS, 0
                for n, op in enumerate(ops):
                    node = op[1]
                    if op[0] == "take":
                        held[node] = await store.run(partial(take_fence, TABLE, node, 0))
                        current += 1
                        fences[node].hold(TABLE, held[node])
                        continue
                    assert len(op) == 3
                    amount = op[2]
                    store.fences = fences[node]
                    may = node not in held or held[node] == current
                    enough = amount <= in_wallet if amount > 0 else -amount <= in_escrow
                    try:
                        if amount > 0:
                            await wallets.buy_in(f"in-{n}", 1, owner, amount)
                        else:
                            await wallets.cash_out(f"out-{n}", owner, 1, -amount)
                    except Fenced:
                        assert not may, (op, held, current)
                    except WalletError:
                        assert may and not enough, (op, in_wallet, in_escrow)
                    else:
                        assert may and enough, (op, held, current, in_wallet, in_escrow)
                        in_wallet, in_escrow = in_wallet - amount, in_escrow + amount
                    assert (await wallets.balance(1)).balance == in_wallet
                    account = await store.ledger_account(escrow(owner))
                    assert (account.balance if account else 0) == in_escrow
                assert (await store.ledger_audit()).consistent

    trio.run(main)
