"""A tournament's writes carry its fencing epoch (docs/scaling.md, "Tournaments"): with a
lease (several nodes), the actor takes the next epoch of ``tournament:<id>`` as it starts,
and each of its tables gets a fence of its own as it opens. Once another node has taken a
newer epoch (it took the lease over while this owner was paused), this owner's next step is
refused in the transaction that would have stored it, nothing of it lands, the actor
stops, and a transfer of the tournament's money under the old epoch
is refused too."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import msgspec
import pytest
import trio
import trio.testing

from actors.tournament_messages import (
    GetTournament,
    PauseClock,
    RegisterPlayer,
    StartTournament,
    TournamentAddress,
    TournamentDetails,
    TournamentRefusal,
    TournamentSpec,
)
from persistence import tournaments as stored
from persistence.leases import Fenced, NodeFences, current_fence, take_fence
from persistence.store import Store
from poker.tournament import preset
from services.tournaments import TournamentMoney
from tests.actors.test_table_fakes import sqlite_url
from tests.e2e.clock import autojump_between_threads
from tests.tournaments.harness import tournament_room

BUY_IN, FEE = 100, 10


class Lease:
    """This node's side of the leases, without Redis: ``ensure`` always wins the lease
    (the test plays the other node by taking the fence itself)."""

    def __init__(self, store: list[Store]) -> None:
        self._store = store
        self.node = "node-a"
        self.fences = NodeFences()

    async def ensure(self, table_id: str) -> bool:
        store = self._store[0]
        epoch = await store.run(partial(take_fence, table_id, self.node, store.clock_ms()))
        self.fences.hold(table_id, epoch)
        return True


def _spec() -> TournamentSpec:
    structure = msgspec.structs.replace(preset("hyper"), name="fenced", starting_stack=1_000)
    return TournamentSpec(
        name="Fenced", kind="mtt", structure=structure, buy_in=BUY_IN, fee=FEE,
        seats_per_table=6, starts_at_ms=2**62, action_timeout_ms=5_000,
    )  # fmt: skip


async def test_an_owner_fenced_off_by_another_node_stores_no_step_and_moves_no_chip(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    stores: list[Store] = []
    lease = Lease(stores)
    async with tournament_room(sqlite_url(tmp_path), seed=71, lease=lease) as room:
        stores.append(room.store)
        await room.fund([1, 2])
        tid = await room.create(_spec())
        name = TournamentAddress(tid).actor_name
        actor = room.tournament(tid)
        for player in (1, 2):
            await actor.ask(RegisterPlayer(player_id=player))
        await actor.ask(StartTournament())
        table_id = TournamentAddress(tid).table_id(1)
        assert lease.fences.epoch(name) == 1
        assert lease.fences.epoch(table_id) == await room.store.run(
            partial(current_fence, table_id), read_only=True
        )
        details = await actor.ask(GetTournament())
        assert isinstance(details, TournamentDetails) and len(details.tables) == 1
        row = await room.store.run(partial(stored.load_tournament, tid))
        assert row is not None
        pool = await room.pool(tid)

        # Another node takes the tournament over (its lease and the next epoch).
        now = room.store.clock_ms()
        assert await room.store.run(partial(take_fence, name, "node-b", now)) == 2
        with pytest.raises(TournamentRefusal) as refused:
            await actor.ask(PauseClock())  # a step: stored before anything else
        assert refused.value.code == "tournament_not_found"
        after = await room.store.run(partial(stored.load_tournament, tid))
        assert after is not None and after.version == row.version and after.live == row.live
        assert await room.pool(tid) == pool
        await trio.testing.wait_all_tasks_blocked()  # it stops after the refused message
        assert room.runtime.registry.lookup(name) is None
        # Its money too: a prize under the old epoch is refused, nothing moves.
        money = TournamentMoney(room.wallet, tid, "chips")
        with pytest.raises(Fenced):
            await money.pay_out("prize:1", 1, 10)
        assert await room.pool(tid) == pool
        audit = await room.wallet.audit()
        assert audit.consistent, audit
