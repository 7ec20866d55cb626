"""Periodic checks that operators alert on: are the dependencies up, does the ledger audit.

``/readyz`` answers an orchestrator when it asks. Prometheus needs the same answers as time
series whether or not anyone asks, so this service asks on a schedule and keeps the answers
in metrics (registered on the default registry, served on ``/metrics``):

- ``tablium_dependency_up{dependency}``: 1 if the last probe of the dependency (``database``,
  ``redis`` when configured) answered within PROBE_TIMEOUT_S, else 0.
- ``tablium_ledger_audit_consistent``: 1 if the last completed ledger audit found the ledger
  consistent (sums to zero, nothing overdrawn, balances equal their transfers), 0 if not,
  NaN until an audit completes (so "== 0" never pages for an audit that has not run).
- ``tablium_ledger_audits_total{result}``: audits by result: ``consistent``,
  ``inconsistent``, or ``error`` (the audit itself failed, e.g. the database was down).
- ``tablium_ledger_audit_duration_seconds``: how long the last audit took. It reads every
  account and transfer; on SQLite it holds the process's one connection meanwhile.

The first round runs as the service starts, so the series have samples within a second.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, final

import structlog
import trio
from prometheus_client import Counter, Gauge

from persistence.ledger import LedgerAudit

PROBE_INTERVAL_S: Final = 10.0
PROBE_TIMEOUT_S: Final = 2.0  # as /readyz: a dependency slower than this counts as down
LEDGER_AUDIT_INTERVAL_S: Final = 300.0  # a full scan of the ledger: not every scrape

DEPENDENCY_UP: Final = Gauge(
    "tablium_dependency_up",
    "1 if the last probe of a dependency answered in time, else 0.",
    ["dependency"],
)
LEDGER_AUDIT_CONSISTENT: Final = Gauge(
    "tablium_ledger_audit_consistent",
    "1 if the last completed ledger audit found the ledger consistent, else 0.",
)
LEDGER_AUDITS: Final = Counter("tablium_ledger_audits", "Ledger audits run, by result.", ["result"])
LEDGER_AUDIT_SECONDS: Final = Gauge(
    "tablium_ledger_audit_duration_seconds", "How long the last ledger audit took."
)
AUDIT_RESULTS: Final = ("consistent", "inconsistent", "error")
LEDGER_AUDIT_CONSISTENT.set(math.nan)  # no verdict yet
LEDGER_AUDIT_SECONDS.set(math.nan)

Probe = tuple[str, Callable[[], Awaitable[None]]]  # (dependency, raises when it is down)
log = structlog.get_logger("tablium.health")


@final
class HealthChecks:
    """Probes every dependency each PROBE_INTERVAL_S and audits the ledger each
    LEDGER_AUDIT_INTERVAL_S; never raises for a failed check (the metric says it)."""

    def __init__(
        self,
        probes: Sequence[Probe],
        audit: Callable[[], Awaitable[LedgerAudit]],
        *,
        probe_interval_s: float = PROBE_INTERVAL_S,
        audit_interval_s: float = LEDGER_AUDIT_INTERVAL_S,
    ) -> None:
        self._probes = tuple(probes)
        self._audit = audit
        self._probe_interval_s = probe_interval_s
        self._audit_interval_s = audit_interval_s
        for result in AUDIT_RESULTS:
            LEDGER_AUDITS.labels(result)  # every result has a series from the start

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()  # the first round runs now, without holding up start-up
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._every, self._probe_interval_s, self.probe_all)
            nursery.start_soon(self._every, self._audit_interval_s, self.audit_ledger)

    @staticmethod
    async def _every(interval_s: float, check: Callable[[], Awaitable[None]]) -> None:
        while True:
            await check()
            await trio.sleep(interval_s)

    async def probe_all(self) -> None:
        for name, probe in self._probes:
            up = True
            try:
                with trio.fail_after(PROBE_TIMEOUT_S):
                    await probe()
            except Exception as exc:  # any failure of a probe means "down", as in /readyz
                up = False
                log.warning("dependency down", dependency=name, error=f"{type(exc).__name__}")
            DEPENDENCY_UP.labels(name).set(1 if up else 0)

    async def audit_ledger(self) -> None:
        started = time.perf_counter()
        try:
            audit = await self._audit()
        except Exception as exc:  # the database may be down: counted, alerted on separately
            LEDGER_AUDITS.labels("error").inc()
            log.warning("ledger audit failed to run", error=f"{type(exc).__name__}: {exc}")
            return
        LEDGER_AUDIT_SECONDS.set(time.perf_counter() - started)
        LEDGER_AUDIT_CONSISTENT.set(1 if audit.consistent else 0)
        if audit.consistent:
            LEDGER_AUDITS.labels("consistent").inc()
        else:
            LEDGER_AUDITS.labels("inconsistent").inc()
            log.error(
                "ledger audit found the ledger inconsistent",
                total_balance=audit.total_balance,
                overdrawn_accounts=audit.overdrawn_accounts,
                mismatched_accounts=audit.mismatched_accounts,
            )
