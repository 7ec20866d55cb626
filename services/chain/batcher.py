"""The withdrawal batcher: pays queued withdrawals in batches, one transaction in flight.

One ``tick`` (the actor in actors/chain.py calls it every ``batch_tick_s``, and when told a
withdrawal was queued):

- finish what a crash interrupted (requests not yet reserved, ledger follow-ups), release
  requests older than ``withdrawal_expiry_s``;
- with a batch in flight, follow it: broadcast it again if a crash came between writing and
  sending it; once one of its transactions is mined and at the confirmation line, settle it
  (paid and posted on success; voided and released on revert or when the cancel won);
  replace it with higher fees when not mined after ``replace_after_s``; after
  ``batch_expiry_s``, replace it by a cancel (a zero-value transaction to ourselves with the
  same nonce). Never a second batch while one is in flight: one nonce, one key.
- without one, when ``batch_size_max`` are queued or the oldest waited ``batch_interval_s``:
  check the contract (paused?), the fees (above ``max_fee_gwei``: wait), the hot wallet's
  balance and the contract's cap for the period, pick what fits (oldest first), estimate the
  gas (a revert found here costs nothing), sign, *write the batch and its raw transaction*,
  then send it.

Crash safety (docs/chain.md): the batch, its nonce, its withdrawals and its signed bytes are
written before anything is sent, and the contract pays a batch id once; so a restart after a
``kill -9`` anywhere sends the same bytes again or finds them mined, and nobody is paid twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from functools import partial
from typing import Final, final

import structlog
from eth_account import Account
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from persistence import chain as db
from persistence.chain import Batch, BatchTx, TxKind, Withdrawal
from persistence.store import Store
from services.chain.cashier import ChainCashier
from services.chain.checks import verify_chain
from services.chain.confirmations import confirmation_line
from services.chain.fees import FeeQuote, TooExpensive, quote, replacement
from services.chain.metrics import (
    BASE_FEE,
    BATCH_WAITS,
    BATCHES,
    HOT_BALANCE,
    PRIORITY_FEE,
    REPLACEMENTS,
    WITHDRAWALS_IN_FLIGHT,
    WITHDRAWALS_QUEUED,
)
from services.chain.rpc import ChainClient, WouldRevert
from services.chain.settings import ChainSettings

log = structlog.get_logger("tablium.chain")

GAS_MARGIN_NUM, GAS_MARGIN_DEN = 5, 4  # gas limit = estimate + 25%
CANCEL_GAS: Final = 21_000
BATCH_ID_BITS: Final = 62  # random batch ids; the contract refuses one used before


def no_crash(point: str) -> None:
    """The default crash point: nothing (tests inject a kill -9 at a named point)."""


@final
class WithdrawalBatcher:
    def __init__(
        self,
        store: Store,
        client: ChainClient,
        cashier: ChainCashier,
        settings: ChainSettings,
        operator_key: str,
        *,
        crash_point: Callable[[str], None] = no_crash,
        new_batch_id: Callable[[], int] | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._cashier = cashier
        self._settings = settings
        self._chain = settings.chain_id
        self._label = str(settings.chain_id)
        self._account = Account.from_key(operator_key)
        self.operator: Final = to_checksum_address(self._account.address)
        self._crash_point = crash_point
        self._new_batch_id = new_batch_id or (lambda: secrets.randbits(BATCH_ID_BITS) + 1)

    async def check_contract(self) -> None:
        """Refuse (ChainMisconfigured) the wrong chain, token or operator."""
        await verify_chain(self._client, self._settings, self.operator)

    async def tick(self) -> str:
        """One look; returns what it did (for logs and tests)."""
        cashier = self._cashier
        await cashier.complete_requested()
        await cashier.finish_ledger()
        await cashier.expire_stale()
        batch = await self._store.run(partial(db.batch_in_flight, self._chain), read_only=True)
        outcome = await (self._follow(batch) if batch is not None else self._maybe_send())
        await self._update_metrics()
        return outcome

    # -- a batch in flight -------------------------------------------------------------------

    async def _follow(self, batch: Batch) -> str:
        store = self._store
        if batch.state == "signed":
            # Written, maybe sent, before a crash: the same bytes again are harmless.
            for tx in batch.txs:
                await self._client.send_raw(bytes.fromhex(tx.raw_tx[2:]))
            self._crash_point("batch_sent")
            await store.run(
                partial(db.set_batch_state, batch.id, ("signed",), "sent", store.clock_ms())
            )
        for tx in batch.txs:
            receipt = await self._client.receipt(tx.tx_hash)
            if receipt is not None:
                return await self._settle(batch, tx, receipt.status, receipt.block_number,
                                          receipt.block_hash)  # fmt: skip
        confirmed_nonce = await self._client.nonce(self.operator, pending=False)
        if confirmed_nonce > batch.nonce:
            # Mined, but by none of our transactions: someone else uses this key, or the node
            # lost the receipt. Never guess about money: people must look.
            BATCH_WAITS.labels(self._label, "nonce_taken").inc()
            log.error("batch nonce used by an unknown transaction", batch=batch.id)
            return "nonce_taken"
        now = store.clock_ms()
        last = batch.txs[-1]
        cancelling = any(t.kind == "cancel" for t in batch.txs)
        if not cancelling and now - batch.created_at_ms >= self._settings.batch_expiry_s * 1000:
            return await self._replace(batch, last, "cancel")
        if now - last.sent_at_ms >= self._settings.replace_after_s * 1000:
            return await self._replace(batch, last, last.kind)
        return "in_flight"

    async def _settle(
        self, batch: Batch, tx: BatchTx, status: int, block: int, block_hash: str
    ) -> str:
        head = await self._client.head()
        s = self._settings
        finalized = await self._client.finalized() if s.use_finalized else None
        line = confirmation_line(
            head.number, finalized, confirmations=s.confirmations, use_finalized=s.use_finalized
        )
        if block > line:
            return "mined"
        canonical = await self._client.block_hashes([block])
        if canonical.get(block) != block_hash:
            return "mined"  # its block was replaced; its receipt will tell where it went
        if tx.kind == "batch" and status == 1:
            outcome, state, reason = "confirmed", "paid", ""
        elif tx.kind == "batch":
            outcome, state, reason = "reverted", "voided", "reverted"
        else:
            outcome, state, reason = "cancelled", "voided", "expired"
        store = self._store
        await store.run(
            partial(
                db.settle_batch, batch.id, outcome, state, reason, store.clock_ms(),  # type: ignore[arg-type]
                mined_tx=tx.tx_hash,
            )
        )  # fmt: skip
        self._crash_point("batch_settled")
        await self._cashier.finish_ledger()
        BATCHES.labels(self._label, outcome).inc()
        if outcome != "confirmed":
            log.warning("batch not paid", batch=batch.id, outcome=outcome)
        return outcome

    async def _replace(self, batch: Batch, last: BatchTx, kind: TxKind) -> str:
        s = self._settings
        previous = FeeQuote(last.max_fee_wei, last.priority_fee_wei, 0)
        fees = replacement(previous, await self._quote(), max_fee_cap_wei=s.max_fee_wei)
        if fees is None:
            BATCH_WAITS.labels(self._label, "replacement_over_max_fee").inc()
            return "waiting:fees"
        if kind == "cancel":
            fields = {"to": self.operator, "data": "0x", "gas": CANCEL_GAS}
        else:
            original = next(t for t in batch.txs if t.kind == "batch")
            decoded = TypedTransaction.from_bytes(HexBytes(original.raw_tx)).as_dict()
            fields = {
                "to": to_checksum_address(decoded["to"]),
                "data": "0x" + bytes(decoded["data"]).hex(),
                "gas": int(decoded["gas"]),
            }
        raw, tx_hash = self._sign(batch.nonce, fields, fees)
        now = self._store.clock_ms()
        tx = BatchTx(tx_hash, batch.id, kind, raw, fees.max_fee_wei, fees.priority_fee_wei, now)
        await self._store.run(partial(db.add_batch_tx, tx))
        await self._client.send_raw(bytes.fromhex(raw[2:]))
        REPLACEMENTS.labels(self._label, kind).inc()
        log.warning("transaction replaced", batch=batch.id, kind=kind, tx=tx_hash)
        return "cancelling" if kind == "cancel" else "replaced"

    # -- a new batch -------------------------------------------------------------------------

    async def _maybe_send(self) -> str:
        s = self._settings
        store = self._store
        if await self._cashier.withdrawals_paused():
            return "paused"
        frozen = await store.run(
            partial(db.freeze_banned_withdrawals, self._chain, store.clock_ms())
        )
        if frozen:
            log.warning("withdrawals of banned players held for staff", ids=frozen)
        queued = await store.run(
            partial(db.withdrawals_in_state, self._chain, "queued", s.batch_size_max),
            read_only=True,
        )
        if not queued:
            return "idle"
        oldest_ms = min(w.updated_at_ms for w in queued)
        now = store.clock_ms()
        if len(queued) < s.batch_size_max and now - oldest_ms < s.batch_interval_s * 1000:
            return "not_due"
        state = await self._client.cashier_state()
        if state.paused:
            return self._wait("contract_paused")
        fees = await self._quote()
        if isinstance(fees, TooExpensive):
            return self._wait("fees")
        balance = await self._client.hot_balance(state.token)
        chosen = _fitting(queued, min(balance, state.cap_remaining))
        if not chosen:
            return self._wait("cap" if state.cap_remaining < balance else "balance")
        batch_id = self._new_batch_id()
        recipients = [w.address for w in chosen]
        amounts = [w.units for w in chosen]
        data = self._client.batch_calldata(batch_id, recipients, amounts)
        call = {"from": self.operator, "to": self._settings.cashier_address, "data": data}
        try:
            gas = await self._client.estimate_gas(call)
        except WouldRevert as exc:
            log.warning("batch would revert", reason=exc.reason)
            return self._wait("would_revert")
        nonce = await self._client.nonce(self.operator, pending=True)
        fields = {
            "to": self._settings.cashier_address,
            "data": data,
            "gas": gas * GAS_MARGIN_NUM // GAS_MARGIN_DEN,
        }
        raw, tx_hash = self._sign(nonce, fields, fees)
        batch = Batch(
            id=batch_id, chain_id=self._chain, operator=self.operator, nonce=nonce,
            state="signed", count=len(chosen), total_units=sum(amounts), mined_tx=None,
            created_at_ms=now, updated_at_ms=now,
        )  # fmt: skip
        tx = BatchTx(tx_hash, batch_id, "batch", raw, fees.max_fee_wei, fees.priority_fee_wei, now)
        written = await store.run(partial(db.create_batch, batch, tx, [w.id for w in chosen]))
        if not written:
            return "raced"
        self._crash_point("batch_written")
        await self._client.send_raw(bytes.fromhex(raw[2:]))
        self._crash_point("batch_sent")
        await store.run(partial(db.set_batch_state, batch_id, ("signed",), "sent", now))
        BATCHES.labels(self._label, "sent").inc()
        log.info("batch sent", batch=batch_id, withdrawals=len(chosen), tx=tx_hash)
        return "sent"

    def _wait(self, reason: str) -> str:
        BATCH_WAITS.labels(self._label, reason).inc()
        return f"waiting:{reason}"

    async def _quote(self) -> FeeQuote | TooExpensive:
        s = self._settings
        history = await self._client.fee_history(s.fee_history_blocks, s.fee_percentile)
        fees = quote(
            history.base_fees,
            history.rewards,
            max_fee_cap_wei=s.max_fee_wei,
            priority_floor_wei=s.priority_floor_wei,
        )
        BASE_FEE.labels(self._label).set(fees.base_fee_wei)
        PRIORITY_FEE.labels(self._label).set(fees.priority_fee_wei)
        return fees

    def _sign(self, nonce: int, fields: dict[str, object], fees: FeeQuote) -> tuple[str, str]:
        tx = {
            "type": 2,
            "chainId": self._chain,
            "nonce": nonce,
            "value": 0,
            "maxFeePerGas": fees.max_fee_wei,
            "maxPriorityFeePerGas": fees.priority_fee_wei,
            **fields,
        }
        signed = self._account.sign_transaction(tx)
        return "0x" + bytes(signed.raw_transaction).hex(), "0x" + bytes(signed.hash).hex()

    async def _update_metrics(self) -> None:
        counts = await self._store.run(partial(db.withdrawal_counts, self._chain), read_only=True)
        for state in ("queued", "awaiting_approval"):
            WITHDRAWALS_QUEUED.labels(self._label, state).set(counts.get(state, 0))
        WITHDRAWALS_IN_FLIGHT.labels(self._label).set(counts.get("batched", 0))
        HOT_BALANCE.labels(self._label, "token").set(
            await self._client.hot_balance(self._settings.token_address)
        )
        HOT_BALANCE.labels(self._label, "gas").set(await self._client.gas_balance(self.operator))


def _fitting(queued: Sequence[Withdrawal], budget: int) -> list[Withdrawal]:
    """Oldest first, every withdrawal that still fits the budget (a large one that does not
    fit is skipped this time rather than holding up those behind it)."""
    chosen: list[Withdrawal] = []
    left = budget
    for w in queued:
        if w.units <= left:
            chosen.append(w)
            left -= w.units
    return chosen
