"""The chain's actors: the deposit watcher and the withdrawal batcher, under ``services``.

```
services (one_for_one)
├── chain-watcher:<chain id>   polls the node every poll_interval_s (services/chain/watcher.py)
└── chain-batcher:<chain id>   ticks every batch_tick_s, and when a withdrawal is queued
                               (services/chain/batcher.py); only with an operator key
```

Both are timer-driven workers with a small mailbox that drops the oldest message (a tick is
a tick: two queued ticks do what one does). A node that does not answer (ChainUnavailable)
is logged and retried with a growing delay, up to ``RETRY_DELAY_MAX_S``; it never crashes
the actor. A node or contract other than the settings name (ChainMisconfigured) stops the
actor for good (TRANSIENT children: a normal stop is not restarted) with an error in the log,
so that a misconfigured cashier cannot take the poker server down with it. Anything else is
a bug: the actor crashes and ``services`` restarts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Final, final

import msgspec
import structlog

from actors.runtime import (
    Actor,
    ChildSpec,
    Overflow,
    Registry,
    Restart,
    Strategy,
    SupervisionPolicy,
)
from persistence.store import Store
from services.chain.batcher import WithdrawalBatcher
from services.chain.cashier import ChainCashier
from services.chain.checks import ChainMisconfigured, verify_chain
from services.chain.ledger_port import WalletCashierLedger
from services.chain.rpc import ChainClient, ChainUnavailable, Web3Client
from services.chain.settings import ChainSettings, read_operator_key
from services.chain.watcher import DepositWatcher, PollReport
from services.wallet import Wallet

log = structlog.get_logger("tablium.chain")

RETRY_DELAY_MAX_S: Final = 60.0  # bound: a failing node is retried at least this often
SERVICES_RESTARTS_MAX: Final = 5  # the services supervisor tolerates this many restarts ...
SERVICES_RESTARTS_PERIOD_S: Final = 60.0  # ... in this window before escalating


class Tick(msgspec.Struct, frozen=True, tag=True):
    """Time to look again (from the actor's own timer)."""


class Nudge(msgspec.Struct, frozen=True, tag=True):
    """A withdrawal was queued: a full batch need not wait for the next tick."""


def retry_delay_s(interval_s: float, failures: int) -> float:
    """The delay after ``failures`` failed looks in a row: doubling, bounded."""
    return float(min(RETRY_DELAY_MAX_S, interval_s * 2.0 ** min(failures, 16)))


@final
class ChainWatcherActor(Actor[Tick]):
    kind = "chain_watcher"
    mailbox_capacity = 4
    mailbox_overflow = Overflow.DROP_OLDEST

    def __init__(self, client: ChainClient, watcher: DepositWatcher, settings: ChainSettings):
        self._client = client
        self._watcher = watcher
        self._settings = settings
        self._checked = False
        self.failures = 0
        self.last: PollReport | None = None

    async def started(self) -> None:
        self.context.send_after(0.0, Tick())

    async def handle(self, message: Tick) -> object:
        interval = self._settings.poll_interval_s
        try:
            if not self._checked:
                await verify_chain(self._client, self._settings)
                self._checked = True
            self.last = await self._watcher.poll_once()
            self.failures = 0
        except ChainUnavailable as exc:
            self.failures += 1
            log.warning("chain node unavailable", chain=self._settings.chain_id, error=str(exc))
        except ChainMisconfigured as exc:
            log.error("chain watcher stopped", chain=self._settings.chain_id, error=str(exc))
            self.context.stop()
            return None
        self.context.send_after(retry_delay_s(interval, self.failures), Tick())
        return self.last


@final
class WithdrawalBatcherActor(Actor[Tick | Nudge]):
    kind = "chain_batcher"
    mailbox_capacity = 8
    mailbox_overflow = Overflow.DROP_OLDEST

    def __init__(self, batcher: WithdrawalBatcher, settings: ChainSettings) -> None:
        self._batcher = batcher
        self._settings = settings
        self._checked = False
        self.failures = 0
        self.last = ""

    async def started(self) -> None:
        self.context.send_after(0.0, Tick())

    async def handle(self, message: Tick | Nudge) -> object:
        try:
            if not self._checked:
                await self._batcher.check_contract()
                self._checked = True
            self.last = await self._batcher.tick()
            self.failures = 0
        except ChainUnavailable as exc:
            self.failures += 1
            log.warning("chain node unavailable", chain=self._settings.chain_id, error=str(exc))
        except ChainMisconfigured as exc:
            log.error("withdrawal batcher stopped", chain=self._settings.chain_id, error=str(exc))
            self.context.stop()
            return None
        if isinstance(message, Tick):  # a nudge does not start a second timer
            delay = retry_delay_s(self._settings.batch_tick_s, self.failures)
            self.context.send_after(delay, Tick())
        return self.last


def watcher_name(chain_id: int) -> str:
    return f"chain-watcher:{chain_id}"


def batcher_name(chain_id: int) -> str:
    return f"chain-batcher:{chain_id}"


@dataclass(frozen=True, slots=True)
class ChainService:
    """One chain's cashier, built for the supervision tree (see ``chain_service``)."""

    cashier: ChainCashier  # for the gateway's wallet requests and the admin routes
    children: list[ChildSpec]  # to go under the ``services`` supervisor


def chain_service(
    store: Store,
    wallet: Wallet,
    settings: ChainSettings,
    registry: Registry,
    *,
    operator_key: str | None,
    client: ChainClient | None = None,
) -> ChainService:
    """The cashier and its actors for one chain; the batcher only with an operator key."""
    if client is None:
        client = Web3Client.over_http(
            settings.rpc_url,
            settings.cashier_address,
            label=str(settings.chain_id),
            timeout_s=settings.rpc_timeout_s,
        )
    ledger = WalletCashierLedger(wallet)
    name = batcher_name(settings.chain_id)

    def nudge() -> None:
        ref = registry.lookup(name)
        if ref is not None:
            ref.tell(Nudge())

    cashier = ChainCashier(store, ledger, settings, on_queued=nudge)
    watcher = DepositWatcher(store, client, ledger, settings, expected_token=settings.token_address)
    children = [
        ChildSpec.worker(
            watcher_name(settings.chain_id),
            partial(ChainWatcherActor, client, watcher, settings),
            restart=Restart.TRANSIENT,
        )
    ]
    if operator_key:
        batcher = WithdrawalBatcher(store, client, cashier, settings, operator_key)
        children.append(
            ChildSpec.worker(
                name, partial(WithdrawalBatcherActor, batcher, settings), restart=Restart.TRANSIENT
            )
        )
    return ChainService(cashier, children)


def services_supervisor(children: list[ChildSpec]) -> ChildSpec:
    """The ``services`` supervisor of ARCHITECTURE.md's tree (chain watcher, batcher, ...)."""
    return ChildSpec.supervisor(
        "services",
        children,
        policy=SupervisionPolicy(
            strategy=Strategy.ONE_FOR_ONE,
            intensity=SERVICES_RESTARTS_MAX,
            period_s=SERVICES_RESTARTS_PERIOD_S,
        ),
    )


def configured_chain(
    store: Store, wallet: Wallet, settings: ChainSettings, registry: Registry
) -> ChainService:
    """The cashier the server's ``[chain]`` settings ask for, over the node they name; the
    batcher when ``operator_key_file`` names a key. Raises ValueError (naming the setting)
    for an operator key file that is missing, readable by others or not a key."""
    operator_key = None
    if settings.operator_key_file:
        try:
            operator_key = read_operator_key(settings.operator_key_file)
        except OSError as exc:
            raise ValueError(f"operator_key_file: {exc}") from None
    return chain_service(store, wallet, settings, registry, operator_key=operator_key)
