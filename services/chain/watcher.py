"""The deposit watcher: reads the cashier's Deposited logs and moves them through the ledger.

One ``poll_once`` (the actor in actors/chain.py calls it every ``poll_interval_s``):

1. Ask the node for its head (and its finalized block where the chain is set to use it); the
   confirmation line follows (services/chain/confirmations.py).
2. Reorganisation check: the hash of the last block we read must still be the canonical
   one. A block's hash commits to all its ancestors, so when it matches, everything we read
   below it stands. When it does not, we read again from just above the last confirmation
   line: every uncredited deposit lies there.
3. Read the logs of the new (or re-read) blocks, in ranges of ``log_range_blocks_max``.
   Deposits not seen before are recorded as ``new``; on a re-read, uncredited deposits that
   did not come back have vanished: their pending ledger credit is voided (state
   ``reorged``). A deposit that comes back later is opened again under a new ledger key
   (``attempt`` + 1). Recording the deposits and moving the cursor is one transaction.
4. Open a pending ledger transfer for each new deposit (``held`` with the refusal's code when
   the ledger refuses, e.g. the player's daily deposit limit; retried every poll).
5. Credit (post) every pending deposit at or below the confirmation line whose block is
   still canonical, and remember the line and its hash.

Credited deposits are never taken back: a reorganisation deeper than the confirmation depth
is counted in ``tablium_chain_deep_reorgs`` and logged as an error for people to handle;
that is what the depth is for. Every step is idempotent by (chain id, transaction hash, log
index) and by the ledger's keys, so a crash anywhere is finished by the next poll.
"""

from __future__ import annotations

from functools import partial
from typing import Final, final

import msgspec
import structlog

from persistence import chain as db
from persistence.chain import Cursor, Deposit, SeenDeposit
from persistence.store import Store
from services.chain.confirmations import block_ranges, confirmation_line, vanished
from services.chain.ledger_port import CashierLedger
from services.chain.metrics import (
    AWAITING_CONFIRMATION,
    DEEP_REORGS,
    DEPOSITS,
    HEAD_BLOCK,
    LAG_BLOCKS,
    REORGS,
)
from services.chain.rpc import ChainClient, DepositLog
from services.chain.settings import ChainSettings
from services.ledger import TransferNotPending, WalletError

log = structlog.get_logger("tablium.chain")

STALE_HASH: Final = "0x"  # a cursor hash no block has: forces a re-read at the next poll


@final
class PollReport(msgspec.Struct, frozen=True):
    head: int
    line: int  # deposits at or below this block are credited
    read_from: int
    read_to: int  # the cursor after this poll
    reorg: bool
    seen: int  # deposit logs read
    opened: int  # pending credits opened
    credited: int
    reorged: int  # pending credits withdrawn


def ledger_key(chain_id: int, deposit: Deposit) -> str:
    """One deposit's credit, forever: a vanished deposit that comes back gets a new attempt."""
    return f"chain:{chain_id}:{deposit.tx_hash}:{deposit.log_index}:{deposit.attempt}"


@final
class DepositWatcher:
    def __init__(
        self,
        store: Store,
        client: ChainClient,
        ledger: CashierLedger,
        settings: ChainSettings,
        *,
        expected_token: str | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._ledger = ledger
        self._settings = settings
        self._rate = settings.exchange_rate
        self._chain = settings.chain_id
        self._label = str(settings.chain_id)
        # Logs of the cashier only carry its own token; kept as a guard all the same.
        self._expected_token = expected_token

    async def poll_once(self) -> PollReport:
        s = self._settings
        store = self._store
        cursor = await store.run(partial(db.get_cursor, self._chain), read_only=True)
        if cursor is None:
            before = s.start_block - 1
            cursor = Cursor(self._chain, before, "", before, "")
        head = await self._client.head()
        finalized = await self._client.finalized() if s.use_finalized else None
        line = confirmation_line(
            head.number, finalized, confirmations=s.confirmations, use_finalized=s.use_finalized
        )
        read_from, reorg = await self._check_reorg(cursor)
        last = min(head.number, read_from + s.poll_blocks_max - 1)
        logs: list[DepositLog] = []
        for first, end in block_ranges(read_from, last, s.log_range_blocks_max):
            logs += await self._client.deposit_logs(first, end)
        read_to = max(last, read_from - 1)
        hashes = await self._client.block_hashes([read_to]) if read_to >= s.start_block else {}
        read_to_hash = hashes.get(read_to, "")
        if read_to >= s.start_block and not read_to_hash:
            return self._report(head.number, line, read_from, cursor.scanned_to, reorg, 0)
        if any(g.block_number == read_to and g.block_hash != read_to_hash for g in logs):
            # The chain moved between the two calls: read again at the next poll.
            return self._report(head.number, line, read_from, cursor.scanned_to, reorg, 0)
        gone = await self._withdraw_vanished(read_from, logs) if reorg else []
        seen = [self._seen(g) for g in logs if self._token_ok(g)]
        moved = Cursor(
            self._chain, read_to, read_to_hash, min(cursor.credited_to, read_to),
            cursor.credited_hash if cursor.credited_to <= read_to else "",
        )  # fmt: skip
        await store.run(partial(db.record_scan, self._chain, seen, gone, moved, store.clock_ms()))
        if seen:
            DEPOSITS.labels(self._label, "seen").inc(len(seen))
        opened = await self._open_new()
        credited = await self._credit(min(line, read_to), moved)
        pending = await store.run(
            partial(db.count_deposits, self._chain, "pending"), read_only=True
        )
        HEAD_BLOCK.labels(self._label).set(head.number)
        LAG_BLOCKS.labels(self._label).set(max(0, head.number - read_to))
        AWAITING_CONFIRMATION.labels(self._label).set(pending)
        return PollReport(
            head.number, line, read_from, read_to, reorg, len(logs), opened, credited, len(gone)
        )

    def _report(
        self, head: int, line: int, read_from: int, read_to: int, reorg: bool, seen: int
    ) -> PollReport:
        return PollReport(head, line, read_from, read_to, reorg, seen, 0, 0, 0)

    def _token_ok(self, entry: DepositLog) -> bool:
        return self._expected_token is None or entry.token == self._expected_token

    def _seen(self, entry: DepositLog) -> SeenDeposit:
        return SeenDeposit(
            tx_hash=entry.tx_hash,
            log_index=entry.log_index,
            block_number=entry.block_number,
            block_hash=entry.block_hash,
            sender=entry.sender,
            reference=entry.reference,
            units=entry.units,
            chips=self._rate.chips_for(entry.units),
        )

    async def _check_reorg(self, cursor: Cursor) -> tuple[int, bool]:
        """Where to read from, and whether the chain we read before has changed."""
        if not cursor.scanned_hash:
            return cursor.scanned_to + 1, False
        wanted = [cursor.scanned_to]
        if cursor.credited_hash:
            wanted.append(cursor.credited_to)
        hashes = await self._client.block_hashes(wanted)
        if hashes.get(cursor.scanned_to) == cursor.scanned_hash:
            return cursor.scanned_to + 1, False
        REORGS.labels(self._label).inc()
        if cursor.credited_hash and hashes.get(cursor.credited_to) != cursor.credited_hash:
            DEEP_REORGS.labels(self._label).inc()
            log.error(
                "reorganisation below the confirmation line: credited deposits may be gone",
                chain=self._chain,
                block=cursor.credited_to,
            )
        else:
            log.warning("reorganisation", chain=self._chain, since_block=cursor.credited_to + 1)
        return cursor.credited_to + 1, True

    async def _withdraw_vanished(self, read_from: int, logs: list[DepositLog]) -> list[int]:
        """Void the pending credit of every uncredited deposit the re-read did not find."""
        stored = await self._store.run(
            partial(db.uncredited_from, self._chain, read_from), read_only=True
        )
        gone: list[int] = []
        for deposit in vanished(stored, ((g.tx_hash, g.log_index) for g in logs), read_from):
            if deposit.state == "pending" and deposit.transfer_id is not None:
                try:
                    await self._ledger.void(deposit.transfer_id)
                except TransferNotPending as exc:
                    # Posted before a crash let us record it: credited is credited.
                    log.error("vanished deposit was already credited", deposit=deposit.id)
                    await self._store.run(
                        partial(
                            db.set_deposit_state, deposit.id, ("pending",), "credited",
                            self._store.clock_ms(), transfer_id=exc.record.id,
                        )
                    )  # fmt: skip
                    continue
            gone.append(deposit.id)
            DEPOSITS.labels(self._label, "reorged").inc()
            log.warning("deposit vanished", deposit=deposit.id, tx=deposit.tx_hash)
        return gone

    async def _open_new(self) -> int:
        store = self._store
        rows = await store.run(
            partial(db.deposits_to_settle, self._chain, self._settings.settle_rows_max),
            read_only=True,
        )
        opened = 0
        for deposit in rows:
            assert deposit.player_id is not None, "a deposit without a player is unmatched"
            memo = f"chain {self._chain} tx {deposit.tx_hash} log {deposit.log_index}"
            try:
                record = await self._ledger.open_deposit(
                    ledger_key(self._chain, deposit), deposit.player_id, deposit.chips, memo
                )
            except WalletError as exc:
                if deposit.state != "held" or deposit.hold_reason != exc.code:
                    log.warning("deposit held", deposit=deposit.id, reason=exc.code)
                    DEPOSITS.labels(self._label, "held").inc()
                await store.run(
                    partial(
                        db.set_deposit_state, deposit.id, ("new", "held"), "held",
                        store.clock_ms(), hold_reason=exc.code,
                    )
                )  # fmt: skip
                continue
            await store.run(
                partial(
                    db.set_deposit_state, deposit.id, ("new", "held"), "pending",
                    store.clock_ms(), transfer_id=record.id,
                )
            )  # fmt: skip
            opened += 1
        return opened

    async def _credit(self, line: int, cursor: Cursor) -> int:
        store = self._store
        due = await store.run(
            partial(db.deposits_to_credit, self._chain, line, self._settings.settle_rows_max),
            read_only=True,
        )
        blocks = {d.block_number for d in due}
        if line >= self._settings.start_block:
            blocks.add(line)
        canonical = await self._client.block_hashes(sorted(blocks))
        credited = 0
        stale = False
        for deposit in due:
            if canonical.get(deposit.block_number) != deposit.block_hash:
                stale = True  # read from a fork that lost: the next poll reads it again
                continue
            assert deposit.transfer_id is not None
            try:
                await self._ledger.post(deposit.transfer_id)
            except TransferNotPending:
                # Voided when it vanished, and back since: open it again, as a new attempt.
                await store.run(
                    partial(
                        db.set_deposit_state, deposit.id, ("pending",), "new", store.clock_ms(),
                        attempt=deposit.attempt + 1,
                    )
                )  # fmt: skip
                continue
            await store.run(
                partial(
                    db.set_deposit_state, deposit.id, ("pending",), "credited", store.clock_ms()
                )
            )
            credited += 1
            DEPOSITS.labels(self._label, "credited").inc()
        line_hash = canonical.get(line, "")
        if stale or line_hash:
            await store.run(
                partial(
                    db.put_cursor,
                    msgspec.structs.replace(
                        cursor,
                        scanned_hash=STALE_HASH if stale else cursor.scanned_hash,
                        credited_to=line if line_hash else cursor.credited_to,
                        credited_hash=line_hash or cursor.credited_hash,
                    ),
                    store.clock_ms(),
                )
            )
        return credited
