"""The rakeback job: when a period is due (it ended ``settle_delay_ms`` ago), distribute it for
the house and every club, in order, without anyone asking.

Off unless the operator turns it on (``TABLIUM_RAKEBACK_AUTO_DISTRIBUTE``): by default staff
preview each period and pay it themselves (admin API, ``tablium rakeback distribute``). The
job pays exactly what they would: the same ``Rakeback.distribute``, audited as the subject
``rakeback-job``, idempotent per (period, player), so it and staff may both run a period.

A program that has never been distributed starts at the period now due (history is not paid
by surprise: staff distribute older periods by hand if they want them). A program behind by
several periods catches up in order, at most CATCH_UP_PERIODS_MAX per round. A refusal (the
house's rake account cannot fund it: ``insufficient_funds``) is logged and retried next round;
anything else is our bug and crashes the service (its supervisor restarts it).
"""

from __future__ import annotations

from functools import partial
from typing import Final, final

import structlog
import trio

from persistence import rakeback as db
from persistence.audit import AuditStamp
from rakeback.periods import Period, parse_period, period_containing
from services.ledger import WalletError
from services.rakeback import Rakeback, RakebackError

CATCH_UP_PERIODS_MAX: Final = 8  # bound per program per round; the rest wait a round
RETRY_S: Final = 600.0  # after a refused run, and the longest sleep between rounds
log = structlog.get_logger("tablium.rakeback")


@final
class RakebackJob:
    def __init__(self, rakeback: Rakeback) -> None:
        self._rakeback = rakeback

    def due(self, now_ms: int) -> Period:
        """The latest period whose end plus the settle delay has passed."""
        policy = self._rakeback.policy
        return period_containing(policy.period_kind, now_ms - policy.settle_delay_ms).previous()

    async def run_round(self, now_ms: int) -> list[tuple[str, str]]:
        """Distribute what is due for every program; the (scope, period) pairs paid now."""
        due = self.due(now_ms)
        paid: list[tuple[str, str]] = []
        store = self._rakeback.store
        for scope in await self._rakeback.scopes():
            last = await store.run(partial(db.last_period, scope, due.kind), read_only=True)
            period = due if last is None else parse_period(last.period)
            if last is not None and last.state == "closed":
                period = period.following()
            for _ in range(CATCH_UP_PERIODS_MAX):
                if period > due:
                    break
                stamp = AuditStamp(
                    subject="rakeback-job", role="admin", action="rakeback.distribute",
                    target=f"rakeback:{scope}:{period.id}", reason="the period is due",
                    request_id=f"job:{now_ms}",
                )  # fmt: skip
                try:
                    await self._rakeback.distribute(scope, period, stamp)
                except (RakebackError, WalletError) as exc:
                    log.warning("rakeback_refused", scope=scope, period=period.id,
                                code=exc.code, error=str(exc))  # fmt: skip
                    break
                paid.append((scope, period.id))
                period = period.following()
        return paid

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            now_ms = self._rakeback.store.clock_ms()
            await self.run_round(now_ms)
            following = self.due(now_ms).following()
            wait_ms = following.end_ms + self._rakeback.policy.settle_delay_ms - now_ms
            await trio.sleep(min(RETRY_S, max(1.0, wait_ms / 1000)))
