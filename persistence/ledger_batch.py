"""Group commit for ledger transfers: concurrent transfers share one transaction.

Why: a transfer locks its two accounts until COMMIT, and COMMIT waits for the WAL flush. With
many concurrent clients and few hot accounts (a table escrow, the rake account), transfers
queue behind each other's locks and flushes, and throughput falls below one client's. Here
the first caller to find no batch running becomes the leader: it takes every transfer waiting
(up to ``batch_items_max``) and runs them, in order, in one unit of work -- one transaction,
one crossing, one flush -- while the others wait for their results. One batch runs at a time
per store, so batches never wait on each other's locks.

A transfer the rules refuse fails alone (the check runs before anything of it is written). If
the database fails the whole batch, each transfer is retried on its own, so one bad transfer
cannot fail its neighbours. Idempotency keys make every outcome safe to retry.

A transfer that finds itself alone in a batch may take the backend's shortcut instead
(``single``: on PostgreSQL one statement, see ledger_single.py); when the shortcut declines,
it runs the full unit of work like any batch.

Bound: the waiting line holds one entry per waiting caller (each caller waits for its own
result), so it is bounded by the number of callers; a batch holds at most ``batch_items_max``.
"""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import final

import trio

from persistence.ledger import (
    AccountRef,
    TransferCheck,
    TransferOutcome,
    TransferRequest,
    lock_in_id_order,
    transfer,
)
from persistence.work import Work, WorkFactory

TRANSFER_BATCH_ITEMS_MAX = 64

TransferItem = tuple[TransferRequest, frozenset[str], TransferCheck]
Runner = Callable[
    [WorkFactory[list[TransferOutcome | Exception]]], Awaitable[list[TransferOutcome | Exception]]
]
# A backend's shortcut for a transfer that has a batch to itself (ledger_single.py); None
# means "not this one": the batcher runs the full unit of work.
SingleRunner = Callable[[TransferItem, int], Awaitable[TransferOutcome | None]]


def transfer_batch(
    items: list[TransferItem], now_ms: int
) -> Work[list[TransferOutcome | Exception]]:
    """Run several transfers in one transaction; a refused one yields its exception only."""
    if len(items) > 1:
        yield lock_in_id_order(sorted({ref for r, _, _ in items for ref in (r.debit, r.credit)}))
    results: list[TransferOutcome | Exception] = []
    for request, negative_kinds, check in items:
        try:
            outcome = yield from transfer(request, now_ms, negative_kinds, check)
        except Exception as refused:  # raised by the rules or validation, before any write
            results.append(refused)
        else:
            results.append(outcome)
    return results


@final
class _Slot:
    __slots__ = ("done", "error", "item", "outcome", "taken")

    def __init__(self, item: TransferItem) -> None:
        self.item = item
        self.taken = False
        self.done = False
        self.outcome: TransferOutcome | None = None
        self.error: BaseException | None = None

    def finish(self, result: TransferOutcome | BaseException) -> None:
        if isinstance(result, BaseException):
            self.error = result
        else:
            self.outcome = result
        self.done = True


@final
class TransferBatcher:
    def __init__(
        self,
        run: Runner,
        clock_ms: Callable[[], int],
        batch_items_max: int = TRANSFER_BATCH_ITEMS_MAX,
        *,
        single: SingleRunner | None = None,
        moved: Callable[[Iterable[AccountRef]], None] = lambda refs: None,
    ) -> None:
        self._run = run
        self._single = single
        self._moved = moved  # told which accounts a full unit of work moved
        self._clock_ms = clock_ms
        self.batch_items_max = batch_items_max
        self._waiting: collections.deque[_Slot] = collections.deque()
        # Fair (FIFO): every waiter gets its turn to lead. Held by the batch in flight, and by
        # other ledger writes of this store (post, void), which would otherwise lock accounts
        # in a different order than a batch and wait for it in a cycle.
        self.lock = trio.Lock()
        self.batches = 0  # metrics: batches run and transfers in them
        self.batched_transfers = 0
        self.single_transfers = 0  # applied by the backend's shortcut

    async def transfer(
        self, request: TransferRequest, negative_kinds: frozenset[str], check: TransferCheck
    ) -> TransferOutcome:
        slot = _Slot((request, negative_kinds, check))
        self._waiting.append(slot)
        try:
            while not slot.done:
                async with self.lock:
                    if not slot.done:
                        await self._run_batch()
        except BaseException:
            if not slot.taken:  # cancelled while waiting: nobody will run it
                self._waiting.remove(slot)
            raise
        if slot.error is not None:
            raise slot.error
        assert slot.outcome is not None
        return slot.outcome

    async def _run_batch(self) -> None:
        count = min(len(self._waiting), self.batch_items_max)
        batch = [self._waiting.popleft() for _ in range(count)]
        for slot in batch:
            slot.taken = True
        try:
            # Shielded: the batch carries other callers' transfers, so the leader's own
            # cancellation must not abandon them; asyncpg's command timeout bounds the wait.
            with trio.CancelScope(shield=True):
                await self._run_and_deliver(batch)
        finally:
            for slot in batch:
                if not slot.done:
                    slot.finish(RuntimeError("transfer batch aborted"))

    async def _run_and_deliver(self, batch: list[_Slot]) -> None:
        items = [slot.item for slot in batch]
        if len(batch) == 1 and self._single is not None:
            try:
                outcome = await self._single(items[0], self._clock_ms())
            except Exception as failed:
                batch[0].finish(failed)
                return
            if outcome is not None:
                self.single_transfers += 1
                batch[0].finish(outcome)
                return
        self._moved(ref for r, _, _ in items for ref in (r.debit, r.credit))
        try:
            results = await self._run(partial(transfer_batch, items, self._clock_ms()))
        except Exception as failed:
            if len(batch) == 1:
                batch[0].finish(failed)
                return
            for slot in batch:  # isolate the transfer the database refused
                await self._run_and_deliver([slot])
            return
        self.batches += 1
        self.batched_transfers += len(batch)
        for slot, result in zip(batch, results, strict=True):
            slot.finish(result)
