"""The periodic health checks turn probes and ledger audits into the metrics alerts read."""

from __future__ import annotations

import math

import trio
from prometheus_client import REGISTRY

from persistence.ledger import LedgerAudit
from services.health import (
    LEDGER_AUDIT_CONSISTENT,
    LEDGER_AUDIT_INTERVAL_S,
    PROBE_INTERVAL_S,
    PROBE_TIMEOUT_S,
    HealthChecks,
)

CLEAN = LedgerAudit(
    total_balance=0, accounts=3, transfers=9, overdrawn_accounts=0, mismatched_accounts=0
)
BROKEN = LedgerAudit(
    total_balance=5, accounts=3, transfers=9, overdrawn_accounts=0, mismatched_accounts=1
)


def _up(dependency: str) -> float | None:
    return REGISTRY.get_sample_value("tablium_dependency_up", {"dependency": dependency})


def _audits(result: str) -> float:
    value = REGISTRY.get_sample_value("tablium_ledger_audits_total", {"result": result})
    return value or 0.0


def _consistent() -> float | None:
    return REGISTRY.get_sample_value("tablium_ledger_audit_consistent")


async def test_probes_set_up_or_down_and_follow_a_dependency_that_comes_back(
    autojump_clock: trio.testing.MockClock,
) -> None:
    redis_down = True

    async def database() -> None:
        return None

    async def redis() -> None:
        if redis_down:
            raise ConnectionError("refused")

    async def hangs() -> None:
        await trio.sleep_forever()

    async def audit() -> LedgerAudit:
        return CLEAN

    checks = HealthChecks([("database", database), ("redis", redis), ("hanging", hangs)], audit)
    async with trio.open_nursery() as nursery:
        await nursery.start(checks.run)
        await trio.sleep(PROBE_TIMEOUT_S + 0.5)  # the first round, the hanging probe timed out
        assert (_up("database"), _up("redis"), _up("hanging")) == (1, 0, 0)
        redis_down = False
        await trio.sleep(PROBE_INTERVAL_S)
        assert _up("redis") == 1
        nursery.cancel_scope.cancel()


async def test_ledger_audit_results_are_counted_and_the_last_one_is_kept(
    autojump_clock: trio.testing.MockClock,
) -> None:
    results: list[LedgerAudit | Exception] = [CLEAN, BROKEN, OSError("database down"), CLEAN]

    async def audit() -> LedgerAudit:
        result = results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    before = {result: _audits(result) for result in ("consistent", "inconsistent", "error")}
    checks = HealthChecks([], audit)
    LEDGER_AUDIT_CONSISTENT.set(math.nan)  # as at import: no verdict before the first audit
    assert math.isnan(_consistent() or 0.0)
    async with trio.open_nursery() as nursery:
        await nursery.start(checks.run)
        await trio.sleep(1)
        assert _consistent() == 1
        await trio.sleep(LEDGER_AUDIT_INTERVAL_S)
        assert _consistent() == 0
        await trio.sleep(LEDGER_AUDIT_INTERVAL_S)
        assert _consistent() == 0  # a failed run leaves the last verdict standing
        await trio.sleep(LEDGER_AUDIT_INTERVAL_S)
        assert _consistent() == 1
        nursery.cancel_scope.cancel()
    assert _audits("consistent") - before["consistent"] == 2
    assert _audits("inconsistent") - before["inconsistent"] == 1
    assert _audits("error") - before["error"] == 1
