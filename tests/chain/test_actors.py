"""The chain's actors under a ``services`` supervisor: timers, retries, nudges, and a
misconfigured chain. The node is py-evm behind worker threads, so these run on trio's real
clock (an autojump clock would jump while a thread works) and wait for what the actors do,
observed through the client, never for a length of time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio
import trio.testing

from actors.chain import (
    ChainService,
    Tick,
    batcher_name,
    chain_service,
    retry_delay_s,
    services_supervisor,
    watcher_name,
)
from actors.runtime import ChildSpec, Registry, Runtime
from persistence.ledger import AccountRef
from persistence.store import Store
from services.chain.rpc import ChainUnavailable, Head, Web3Client
from services.chain.settings import ChainSettings
from services.wallet import Wallet
from tests.chain.evm import Evm

WAIT_S = 30.0  # bound: an actor that has not done it by then has failed the test


class SpyClient:
    """A Web3Client that counts calls by method (and fails ``head`` ``failures`` times
    first, as a node that is down), with an event per count reached."""

    def __init__(self, inner: Web3Client, *, failures: int = 0) -> None:
        self._inner = inner
        self.failures = failures
        self.label = inner.label
        self.calls: dict[str, int] = {}
        self._waiters: list[tuple[str, int, trio.Event]] = []

    def _count(self, method: str) -> None:
        self.calls[method] = self.calls.get(method, 0) + 1
        for name, count, event in self._waiters:
            if name == method and self.calls[method] >= count:
                event.set()

    async def wait_for(self, method: str, count: int) -> None:
        event = trio.Event()
        self._waiters.append((method, count, event))
        if self.calls.get(method, 0) >= count:
            event.set()
        with trio.fail_after(WAIT_S):
            await event.wait()

    async def head(self) -> Head:
        if self.failures > 0:
            self.failures -= 1
            self._count("head_failed")
            raise ChainUnavailable("eth_getBlockByNumber: connection refused")
        head = await self._inner.head()
        self._count("head")
        return head

    async def chain_id(self) -> int:
        value = await self._inner.chain_id()
        self._count("chain_id")
        return value

    async def send_raw(self, raw: bytes) -> str:
        tx = await self._inner.send_raw(raw)
        self._count("send_raw")
        return tx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def _idle(*, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
    task_status.started("up")
    await trio.sleep_forever()


@asynccontextmanager
async def _running(
    store: Store, settings: ChainSettings, client: SpyClient, *, key: str | None = None
) -> AsyncIterator[tuple[Runtime, ChainService]]:
    registry = Registry()
    service = chain_service(
        store, Wallet(store), settings, registry, operator_key=key, client=client
    )
    runtime = Runtime(
        [ChildSpec.service("bystander", _idle), services_supervisor(service.children)],
        registry=registry,
        metrics_registry=None,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(runtime.run)
        yield runtime, service
        runtime.stop()


async def test_the_watcher_polls_on_its_own_timer_and_credits(
    evm: Evm, store: Store, wallet: Wallet
) -> None:
    settings = evm.settings(confirmations=2, poll_interval_s=0.01)
    spy = SpyClient(evm.client())
    async with _running(store, settings, spy) as (runtime, service):
        reference = (await service.cashier.deposit_instructions(3)).reference
        evm.deposit(evm.users[0], reference, 700)
        evm.mine(2)
        start = spy.calls.get("head", 0)
        await spy.wait_for("head", start + 3)  # three more polls, nobody asked for them
        assert (await wallet.balance(3)).balance == 7
        assert runtime.lookup(watcher_name(evm.chain_id)) is not None


async def test_an_unreachable_node_is_retried_without_crashing(evm: Evm, store: Store) -> None:
    settings = evm.settings(poll_interval_s=0.01)
    spy = SpyClient(evm.client(), failures=3)
    async with _running(store, settings, spy) as (runtime, _):
        await spy.wait_for("head_failed", 3)
        await spy.wait_for("head", 1)  # then it came back
        ref = runtime.lookup(watcher_name(evm.chain_id))
        assert ref is not None
        report = await ref.ask(Tick())
        assert report is not None and report.head == evm.head
        assert runtime.root.child("services").restarts == 0


def test_the_retry_delay_doubles_up_to_a_bound() -> None:
    assert [retry_delay_s(5, n) for n in (0, 1, 2, 3)] == [5, 10, 20, 40]
    assert retry_delay_s(5, 50) == 60


async def test_a_misconfigured_chain_stops_its_actors_and_nothing_else(
    evm: Evm, store: Store
) -> None:
    wrong = evm.settings(chain_id=evm.chain_id + 1)
    spy = SpyClient(evm.client())
    async with _running(store, wrong, spy, key=evm.operator_key) as (runtime, _):
        await spy.wait_for("chain_id", 2)  # both actors asked, both were told another id
        await trio.testing.wait_all_tasks_blocked()
        assert runtime.lookup(watcher_name(evm.chain_id + 1)) is None
        assert runtime.lookup(batcher_name(evm.chain_id + 1)) is None
        assert runtime.root.child("bystander").started_value == "up"
        assert runtime.root.child("services").restarts == 0


async def test_a_queued_withdrawal_nudges_the_batcher(
    evm: Evm, store: Store, wallet: Wallet
) -> None:
    settings = evm.settings(batch_size_max=1, batch_tick_s=3_600, confirmations=1)
    evm.fund_cashier(10**9)
    await wallet.adjust("fund", AccountRef("wallet", "1"), 500, "t")
    spy = SpyClient(evm.client())
    async with _running(store, settings, spy, key=evm.operator_key) as (_, service):
        await spy.wait_for("chain_id", 2)  # both started; the batcher's next tick is an hour off
        address = "0x" + "77" * 20
        await service.cashier.request_withdrawal(1, "w", 100, address)  # tells the batcher
        await spy.wait_for("send_raw", 1)
        assert evm.balance(address) == 10_000
