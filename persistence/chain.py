"""The blockchain cashier's storage: the watcher's cursor, deposits, withdrawals and batches.

Only storage lives here; services/chain/ decides. Every state change is guarded by the state
it expects (``... WHERE state IN (...)``) and reports whether it happened, so a step retried
after a crash, or raced by a staff action, never moves a row twice. The ledger transfers that
go with these rows are written by the wallet service in transactions of their own; the rows
here are the write-ahead record that lets a restart finish what a crash interrupted (see
docs/chain.md, "Crash safety").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal, final

import msgspec

from persistence.audit import Change
from persistence.work import Query, Row, Work, one

CHAIN_PAGE_MAX = 200  # bound: list pages larger than this are clamped

DepositState = Literal["new", "pending", "held", "unmatched", "too_small", "reorged", "credited"]
WithdrawalState = Literal[
    "requested", "awaiting_approval", "queued", "batched", "paid", "voided", "rejected", "refused"
]
BatchState = Literal["signed", "sent", "confirmed", "reverted", "cancelled"]
TxKind = Literal["batch", "cancel"]
# Deposits not yet credited: a reorganisation may still take them away.
UNCREDITED: tuple[DepositState, ...] = ("new", "pending", "held", "unmatched", "too_small")
IN_FLIGHT: tuple[BatchState, ...] = ("signed", "sent")


@final
class Cursor(msgspec.Struct, frozen=True):
    chain_id: int
    scanned_to: int
    scanned_hash: str
    credited_to: int
    credited_hash: str


@final
class SeenDeposit(msgspec.Struct, frozen=True):
    """One Deposited log as the watcher read it (before the reference is resolved)."""

    tx_hash: str
    log_index: int
    block_number: int
    block_hash: str
    sender: str
    reference: str
    units: int
    chips: int  # units converted at the chain's rate, rounded down


@final
class Deposit(msgspec.Struct, frozen=True):
    id: int
    chain_id: int
    tx_hash: str
    log_index: int
    block_number: int
    block_hash: str
    sender: str
    reference: str
    player_id: int | None
    units: int
    chips: int
    state: DepositState
    hold_reason: str
    transfer_id: int | None
    attempt: int
    seen_at_ms: int
    updated_at_ms: int


@final
class Withdrawal(msgspec.Struct, frozen=True):
    id: int
    chain_id: int
    player_id: int
    request_key: str
    address: str
    chips: int
    units: int
    state: WithdrawalState
    transfer_id: int | None
    batch_id: int | None
    reason: str
    ledger_done: bool  # False: the ledger has yet to follow the state (post or void)
    created_at_ms: int
    updated_at_ms: int


@final
class BatchTx(msgspec.Struct, frozen=True):
    tx_hash: str
    batch_id: int
    kind: TxKind
    raw_tx: str
    max_fee_wei: int
    priority_fee_wei: int
    sent_at_ms: int


@final
class Batch(msgspec.Struct, frozen=True):
    id: int
    chain_id: int
    operator: str
    nonce: int
    state: BatchState
    count: int
    total_units: int
    mined_tx: str | None
    created_at_ms: int
    updated_at_ms: int
    txs: list[BatchTx] = []  # oldest first


# -- the watcher's cursor ----------------------------------------------------------------------


def get_cursor(chain_id: int) -> Work[Cursor | None]:
    rows = yield Query(
        "SELECT chain_id, scanned_to, scanned_hash, credited_to, credited_hash"
        " FROM chain_cursors WHERE chain_id = $1",
        (chain_id,),
    )
    if not rows:
        return None
    r = rows[0]
    return Cursor(int(r[0]), int(r[1]), r[2], int(r[3]), r[4])


def _put_cursor(cursor: Cursor, now_ms: int) -> Work[None]:
    yield Query(
        "INSERT INTO chain_cursors (chain_id, scanned_to, scanned_hash, credited_to,"
        " credited_hash, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (chain_id) DO UPDATE SET scanned_to = excluded.scanned_to,"
        " scanned_hash = excluded.scanned_hash, credited_to = excluded.credited_to,"
        " credited_hash = excluded.credited_hash, updated_at_ms = excluded.updated_at_ms",
        (
            cursor.chain_id, cursor.scanned_to, cursor.scanned_hash, cursor.credited_to,
            cursor.credited_hash, now_ms,
        ),
    )  # fmt: skip


def put_cursor(cursor: Cursor, now_ms: int) -> Work[None]:
    yield from _put_cursor(cursor, now_ms)


# -- deposit references ------------------------------------------------------------------------


def deposit_reference(player_id: int, candidate: str, now_ms: int) -> Work[str]:
    """The player's reference: the stored one, else ``candidate`` (random) stored now."""
    yield Query(
        "INSERT INTO chain_deposit_refs (reference, player_id, created_at_ms)"
        " VALUES ($1, $2, $3) ON CONFLICT (player_id) DO NOTHING",
        (candidate, player_id, now_ms),
    )
    rows = yield Query(
        "SELECT reference FROM chain_deposit_refs WHERE player_id = $1", (player_id,)
    )
    return str(one(rows)[0])


# -- deposits ----------------------------------------------------------------------------------

_DEPOSIT = (
    "id, chain_id, tx_hash, log_index, block_number, block_hash, sender, reference, player_id,"
    " units, chips, state, hold_reason, transfer_id, attempt, seen_at_ms, updated_at_ms"
)


def _deposit(r: Row) -> Deposit:
    return Deposit(
        id=int(r[0]), chain_id=int(r[1]), tx_hash=r[2], log_index=int(r[3]),
        block_number=int(r[4]), block_hash=r[5], sender=r[6], reference=r[7],
        player_id=None if r[8] is None else int(r[8]), units=int(r[9]), chips=int(r[10]),
        state=r[11], hold_reason=r[12], transfer_id=None if r[13] is None else int(r[13]),
        attempt=int(r[14]), seen_at_ms=int(r[15]), updated_at_ms=int(r[16]),
    )  # fmt: skip


def uncredited_from(chain_id: int, from_block: int) -> Work[list[Deposit]]:
    """Deposits at or above ``from_block`` that a reorganisation may still take away."""
    marks = ", ".join(f"'{s}'" for s in UNCREDITED)
    rows = yield Query(
        f"SELECT {_DEPOSIT} FROM chain_deposits WHERE chain_id = $1 AND block_number >= $2"
        f" AND state IN ({marks}) ORDER BY id",
        (chain_id, from_block),
    )
    return [_deposit(r) for r in rows]


def record_scan(
    chain_id: int,
    seen: Sequence[SeenDeposit],
    vanished_ids: Sequence[int],
    cursor: Cursor,
    now_ms: int,
) -> Work[None]:
    """One scanned block range, in one transaction: new deposits, moved ones, vanished ones,
    and the cursor that says how far this is true.

    A deposit seen again in another block (re-mined after a reorganisation) takes the new
    block; one that had vanished comes back as ``new`` with its ``attempt`` raised, so its
    next ledger transfer gets a key of its own. Credited deposits are never touched.
    """
    for d in seen:
        yield Query(
            "INSERT INTO chain_deposits (chain_id, tx_hash, log_index, block_number, block_hash,"
            " sender, reference, player_id, units, chips, state, hold_reason, transfer_id,"
            " attempt, seen_at_ms, updated_at_ms)"
            " SELECT CAST($1 AS BIGINT), CAST($2 AS TEXT), CAST($3 AS BIGINT),"
            "  CAST($4 AS BIGINT), CAST($5 AS TEXT), CAST($6 AS TEXT), CAST($7 AS TEXT),"
            "  r.player_id, CAST($8 AS TEXT), CAST($9 AS BIGINT),"
            "  CASE WHEN r.player_id IS NULL THEN 'unmatched'"
            "   WHEN CAST($9 AS BIGINT) = 0 THEN 'too_small' ELSE 'new' END, '', NULL, 0,"
            "  CAST($10 AS BIGINT), CAST($10 AS BIGINT)"
            " FROM (SELECT 1 AS one) o"
            " LEFT JOIN chain_deposit_refs r ON r.reference = CAST($7 AS TEXT)"
            " WHERE true"  # SQLite: an upsert's SELECT needs a WHERE (parsing ambiguity)
            " ON CONFLICT (chain_id, tx_hash, log_index) DO UPDATE SET"
            " block_number = excluded.block_number, block_hash = excluded.block_hash,"
            " state = CASE WHEN chain_deposits.state = 'reorged' THEN"
            "  (CASE WHEN chain_deposits.player_id IS NULL THEN 'unmatched'"
            "   WHEN chain_deposits.chips = 0 THEN 'too_small' ELSE 'new' END)"
            "  ELSE chain_deposits.state END,"
            " attempt = CASE WHEN chain_deposits.state = 'reorged'"
            "  THEN chain_deposits.attempt + 1 ELSE chain_deposits.attempt END,"
            " transfer_id = CASE WHEN chain_deposits.state = 'reorged'"
            "  THEN NULL ELSE chain_deposits.transfer_id END,"
            " updated_at_ms = excluded.updated_at_ms"
            " WHERE chain_deposits.state <> 'credited'",
            (
                chain_id, d.tx_hash, d.log_index, d.block_number, d.block_hash, d.sender,
                d.reference, str(d.units), d.chips, now_ms,
            ),
        )  # fmt: skip
    marks = ", ".join(f"'{s}'" for s in UNCREDITED)
    for deposit_id in vanished_ids:
        yield Query(
            "UPDATE chain_deposits SET state = 'reorged', updated_at_ms = $2"
            f" WHERE id = $1 AND state IN ({marks})",
            (deposit_id, now_ms),
        )
    yield from _put_cursor(cursor, now_ms)


def deposits_to_settle(chain_id: int, limit: int) -> Work[list[Deposit]]:
    """Deposits whose ledger transfer is not open yet: new ones first (held ones, refused
    before and tried again, must not starve them), then held, each oldest first."""
    rows = yield Query(
        f"SELECT {_DEPOSIT} FROM chain_deposits WHERE chain_id = $1"
        " AND state IN ('new', 'held')"
        " ORDER BY CASE WHEN state = 'new' THEN 0 ELSE 1 END, id LIMIT $2",
        (chain_id, limit),
    )
    return [_deposit(r) for r in rows]


def deposits_to_credit(chain_id: int, line: int, limit: int) -> Work[list[Deposit]]:
    """Deposits with an open transfer whose block is at or below the confirmation line."""
    rows = yield Query(
        f"SELECT {_DEPOSIT} FROM chain_deposits WHERE chain_id = $1 AND state = 'pending'"
        " AND block_number <= $2 ORDER BY block_number, id LIMIT $3",
        (chain_id, line, limit),
    )
    return [_deposit(r) for r in rows]


def set_deposit_state(
    deposit_id: int,
    expected: Sequence[DepositState],
    state: DepositState,
    now_ms: int,
    *,
    transfer_id: int | None = None,
    hold_reason: str = "",
    attempt: int | None = None,
) -> Work[bool]:
    """Move one deposit if it is still in one of the ``expected`` states."""
    marks = ", ".join(f"'{s}'" for s in expected)
    rows = yield Query(
        "UPDATE chain_deposits SET state = $2, hold_reason = $3,"
        " transfer_id = COALESCE($4, transfer_id), attempt = COALESCE($5, attempt),"
        f" updated_at_ms = $6 WHERE id = $1 AND state IN ({marks}) RETURNING id",
        (deposit_id, state, hold_reason, transfer_id, attempt, now_ms),
    )
    return bool(rows)


def count_deposits(chain_id: int, state: DepositState) -> Work[int]:
    rows = yield Query(
        "SELECT COUNT(*) FROM chain_deposits WHERE chain_id = $1 AND state = $2",
        (chain_id, state),
    )
    return int(one(rows)[0])


def list_deposits(
    chain_id: int | None,
    state: DepositState | None,
    player_id: int | None,
    before_id: int | None,
    limit: int,
) -> Work[list[Deposit]]:
    where, args = _filters(chain_id, state, player_id, before_id)
    args.append(max(1, min(limit, CHAIN_PAGE_MAX)))
    rows = yield Query(
        f"SELECT {_DEPOSIT} FROM chain_deposits{where} ORDER BY id DESC LIMIT ${len(args)}",
        tuple(args),
    )
    return [_deposit(r) for r in rows]


def _filters(
    chain_id: int | None, state: str | None, player_id: int | None, before_id: int | None
) -> tuple[str, list[int | str]]:
    conditions: list[str] = []
    args: list[int | str] = []
    for column, value in (
        ("chain_id", chain_id), ("state", state), ("player_id", player_id), ("id <", before_id)
    ):  # fmt: skip
        if value is not None:
            args.append(value)
            op = "" if column.endswith("<") else " ="
            conditions.append(f"{column}{op} ${len(args)}")
    return (f" WHERE {' AND '.join(conditions)}" if conditions else ""), args


# -- withdrawals -------------------------------------------------------------------------------

_WITHDRAWAL = (
    "id, chain_id, player_id, request_key, address, chips, units, state, transfer_id, batch_id,"
    " reason, ledger_done, created_at_ms, updated_at_ms"
)
# The states whose ledger transfer must be resolved: posted when paid, voided otherwise.
FINAL_WITH_TRANSFER: tuple[WithdrawalState, ...] = ("paid", "voided", "rejected")


def _withdrawal(r: Row) -> Withdrawal:
    return Withdrawal(
        id=int(r[0]), chain_id=int(r[1]), player_id=int(r[2]), request_key=r[3], address=r[4],
        chips=int(r[5]), units=int(r[6]), state=r[7],
        transfer_id=None if r[8] is None else int(r[8]),
        batch_id=None if r[9] is None else int(r[9]), reason=r[10], ledger_done=bool(r[11]),
        created_at_ms=int(r[12]), updated_at_ms=int(r[13]),
    )  # fmt: skip


def insert_withdrawal(
    chain_id: int, player_id: int, request_key: str, address: str, chips: int, units: int,
    now_ms: int,
) -> Work[Withdrawal]:  # fmt: skip
    """The write-ahead record of a player's request (state ``requested``); a retry with the same
    key gets the row it made the first time, whatever its state is now."""
    yield Query(
        "INSERT INTO chain_withdrawals (chain_id, player_id, request_key, address, chips,"
        " units, state, transfer_id, batch_id, reason, ledger_done, created_at_ms,"
        " updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, 'requested', NULL, NULL, '', TRUE,"
        " $7, $7)"
        " ON CONFLICT (request_key) DO NOTHING",
        (chain_id, player_id, request_key, address, chips, str(units), now_ms),
    )
    rows = yield Query(
        f"SELECT {_WITHDRAWAL} FROM chain_withdrawals WHERE request_key = $1", (request_key,)
    )
    return _withdrawal(one(rows))


def get_withdrawal(withdrawal_id: int) -> Work[Withdrawal | None]:
    rows = yield Query(
        f"SELECT {_WITHDRAWAL} FROM chain_withdrawals WHERE id = $1", (withdrawal_id,)
    )
    return _withdrawal(rows[0]) if rows else None


def set_withdrawal_state(
    withdrawal_id: int,
    expected: Sequence[WithdrawalState],
    state: WithdrawalState,
    now_ms: int,
    *,
    transfer_id: int | None = None,
    reason: str = "",
) -> Work[Withdrawal | None]:
    """Move one withdrawal if it is still in one of the ``expected`` states; the row after.

    Moving into paid, voided or rejected leaves ``ledger_done`` FALSE when there is a ledger
    transfer to resolve (``finish_ledger`` in services/chain/cashier.py does it)."""
    marks = ", ".join(f"'{s}'" for s in expected)
    rows = yield Query(
        "UPDATE chain_withdrawals SET state = $2, transfer_id = COALESCE($3, transfer_id),"
        " reason = $4, updated_at_ms = $5, ledger_done = CASE WHEN $6"
        " AND COALESCE($3, transfer_id) IS NOT NULL THEN FALSE ELSE TRUE END"
        f" WHERE id = $1 AND state IN ({marks}) RETURNING {_WITHDRAWAL}",
        (withdrawal_id, state, transfer_id, reason, now_ms, state in FINAL_WITH_TRANSFER),
    )
    return _withdrawal(rows[0]) if rows else None


def withdrawals_to_finish(chain_id: int, limit: int) -> Work[list[Withdrawal]]:
    """Final withdrawals whose ledger transfer is still to be posted or voided."""
    rows = yield Query(
        f"SELECT {_WITHDRAWAL} FROM chain_withdrawals WHERE chain_id = $1"
        " AND ledger_done = FALSE ORDER BY id LIMIT $2",
        (chain_id, limit),
    )
    return [_withdrawal(r) for r in rows]


def mark_ledger_done(withdrawal_id: int, now_ms: int) -> Work[None]:
    yield Query(
        "UPDATE chain_withdrawals SET ledger_done = TRUE, updated_at_ms = $2 WHERE id = $1",
        (withdrawal_id, now_ms),
    )


def withdrawals_in_state(
    chain_id: int, state: WithdrawalState, limit: int, *, created_before_ms: int | None = None
) -> Work[list[Withdrawal]]:
    """Oldest first."""
    rows = yield Query(
        f"SELECT {_WITHDRAWAL} FROM chain_withdrawals WHERE chain_id = $1 AND state = $2"
        " AND created_at_ms < $3 ORDER BY id LIMIT $4",
        (chain_id, state, created_before_ms if created_before_ms is not None else 2**62, limit),
    )
    return [_withdrawal(r) for r in rows]


FROZEN_FOR_BAN: Final = "frozen: the player is banned; approve or reject"


def freeze_banned_withdrawals(chain_id: int, now_ms: int) -> Work[list[int]]:
    """Hold every queued withdrawal of a banned player for staff (awaiting_approval): a ban
    freezes the player's pending withdrawals rather than letting the next batch pay them.
    The ids held."""
    rows = yield Query(
        "UPDATE chain_withdrawals SET state = 'awaiting_approval', reason = $2,"
        " updated_at_ms = $3 WHERE chain_id = $1 AND state = 'queued'"
        " AND player_id IN (SELECT id FROM accounts WHERE banned) RETURNING id",
        (chain_id, FROZEN_FOR_BAN, now_ms),
    )
    return [int(r[0]) for r in rows]


def withdrawal_counts(chain_id: int) -> Work[dict[str, int]]:
    rows = yield Query(
        "SELECT state, COUNT(*) FROM chain_withdrawals WHERE chain_id = $1 AND state IN"
        " ('requested', 'awaiting_approval', 'queued', 'batched') GROUP BY state",
        (chain_id,),
    )
    return {r[0]: int(r[1]) for r in rows}


def list_withdrawals(
    chain_id: int | None,
    state: WithdrawalState | None,
    player_id: int | None,
    before_id: int | None,
    limit: int,
) -> Work[list[Withdrawal]]:
    where, args = _filters(chain_id, state, player_id, before_id)
    args.append(max(1, min(limit, CHAIN_PAGE_MAX)))
    rows = yield Query(
        f"SELECT {_WITHDRAWAL} FROM chain_withdrawals{where} ORDER BY id DESC LIMIT ${len(args)}",
        tuple(args),
    )
    return [_withdrawal(r) for r in rows]


# -- batches -----------------------------------------------------------------------------------

_BATCH = (
    "id, chain_id, operator, nonce, state, count, total_units, mined_tx, created_at_ms,"
    " updated_at_ms"
)
_TX = "tx_hash, batch_id, kind, raw_tx, max_fee_wei, priority_fee_wei, sent_at_ms"


def _tx(r: Row) -> BatchTx:
    return BatchTx(r[0], int(r[1]), r[2], r[3], int(r[4]), int(r[5]), int(r[6]))


def _batch(r: Row, txs: list[BatchTx]) -> Batch:
    return Batch(
        id=int(r[0]), chain_id=int(r[1]), operator=r[2], nonce=int(r[3]), state=r[4],
        count=int(r[5]), total_units=int(r[6]), mined_tx=r[7], created_at_ms=int(r[8]),
        updated_at_ms=int(r[9]), txs=txs,
    )  # fmt: skip


def _insert_tx(tx: BatchTx) -> Work[None]:
    yield Query(
        f"INSERT INTO chain_batch_txs ({_TX}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (tx_hash) DO NOTHING",
        (
            tx.tx_hash, tx.batch_id, tx.kind, tx.raw_tx, str(tx.max_fee_wei),
            str(tx.priority_fee_wei), tx.sent_at_ms,
        ),
    )  # fmt: skip


def create_batch(batch: Batch, tx: BatchTx, withdrawal_ids: Sequence[int]) -> Work[bool]:
    """Write a signed batch before it is sent: the batch, its transaction, and its withdrawals
    moved queued -> batched, in one transaction. False (nothing written) if any withdrawal
    is no longer queued (a staff action won the race), its player was banned meanwhile
    (freeze_banned_withdrawals holds it for staff next), or a batch is already in flight."""
    marks = ", ".join(f"'{s}'" for s in IN_FLIGHT)
    rows = yield Query(
        f"SELECT id FROM chain_batches WHERE chain_id = $1 AND state IN ({marks})",
        (batch.chain_id,),
    )
    if rows:
        return False
    ids = sorted(set(withdrawal_ids))
    rows = yield Query(
        "SELECT w.id FROM chain_withdrawals w WHERE w.state = 'queued' AND NOT EXISTS"
        " (SELECT 1 FROM accounts a WHERE a.id = w.player_id AND a.banned)"
        f" AND w.id IN ({', '.join(f'${i}' for i in range(1, len(ids) + 1))})",
        tuple(ids),
        lock="w",
    )
    if len(rows) != len(ids) or len(ids) != len(withdrawal_ids):
        return False
    yield Query(
        f"INSERT INTO chain_batches ({_BATCH}) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $8)",
        (
            batch.id, batch.chain_id, batch.operator, batch.nonce, batch.state, batch.count,
            str(batch.total_units), batch.created_at_ms,
        ),
    )  # fmt: skip
    yield from _insert_tx(tx)
    for withdrawal_id in ids:
        yield Query(
            "UPDATE chain_withdrawals SET state = 'batched', batch_id = $2, updated_at_ms = $3"
            " WHERE id = $1",
            (withdrawal_id, batch.id, batch.created_at_ms),
        )
    return True


def add_batch_tx(tx: BatchTx) -> Work[None]:
    yield from _insert_tx(tx)


def set_batch_state(
    batch_id: int,
    expected: Sequence[BatchState],
    state: BatchState,
    now_ms: int,
    *,
    mined_tx: str | None = None,
) -> Work[bool]:
    marks = ", ".join(f"'{s}'" for s in expected)
    rows = yield Query(
        "UPDATE chain_batches SET state = $2, mined_tx = COALESCE($3, mined_tx),"
        f" updated_at_ms = $4 WHERE id = $1 AND state IN ({marks}) RETURNING id",
        (batch_id, state, mined_tx, now_ms),
    )
    return bool(rows)


def settle_batch(
    batch_id: int,
    state: BatchState,
    withdrawal_state: WithdrawalState,
    reason: str,
    now_ms: int,
    *,
    mined_tx: str | None = None,
) -> Work[bool]:
    """Decide an in-flight batch and all its withdrawals in one transaction (paid, or voided
    with ``reason``); their ledger transfers follow (``ledger_done`` FALSE). False if the
    batch was no longer in flight."""
    moved = yield from set_batch_state(batch_id, IN_FLIGHT, state, now_ms, mined_tx=mined_tx)
    if not moved:
        return False
    yield Query(
        "UPDATE chain_withdrawals SET state = $2, reason = $3, updated_at_ms = $4,"
        " ledger_done = FALSE WHERE batch_id = $1 AND state = 'batched'",
        (batch_id, withdrawal_state, reason, now_ms),
    )
    return True


def batch_in_flight(chain_id: int) -> Work[Batch | None]:
    """The one batch of this chain that is signed or sent and not yet settled, with its txs."""
    marks = ", ".join(f"'{s}'" for s in IN_FLIGHT)
    rows = yield Query(
        f"SELECT {_BATCH} FROM chain_batches WHERE chain_id = $1 AND state IN ({marks})",
        (chain_id,),
    )
    if not rows:
        return None
    found = yield from get_batch(int(one(rows)[0]))
    return found


def get_batch(batch_id: int) -> Work[Batch | None]:
    rows = yield Query(f"SELECT {_BATCH} FROM chain_batches WHERE id = $1", (batch_id,))
    if not rows:
        return None
    tx_rows = yield Query(
        f"SELECT {_TX} FROM chain_batch_txs WHERE batch_id = $1 ORDER BY sent_at_ms, tx_hash",
        (batch_id,),
    )
    return _batch(rows[0], [_tx(r) for r in tx_rows])


def batch_withdrawals(batch_id: int) -> Work[list[Withdrawal]]:
    rows = yield Query(
        f"SELECT {_WITHDRAWAL} FROM chain_withdrawals WHERE batch_id = $1 ORDER BY id",
        (batch_id,),
    )
    return [_withdrawal(r) for r in rows]


# -- controls ----------------------------------------------------------------------------------


def withdrawals_paused(chain_id: int) -> Work[bool]:
    rows = yield Query(
        "SELECT withdrawals_paused FROM chain_controls WHERE chain_id = $1", (chain_id,)
    )
    return bool(rows[0][0]) if rows else False


def set_withdrawals_paused(chain_id: int, paused: bool, now_ms: int) -> Work[bool]:
    """Set the flag; returns what it was before."""
    before = yield from withdrawals_paused(chain_id)
    yield Query(
        "INSERT INTO chain_controls (chain_id, withdrawals_paused, updated_at_ms)"
        " VALUES ($1, $2, $3) ON CONFLICT (chain_id) DO UPDATE SET"
        " withdrawals_paused = excluded.withdrawals_paused,"
        " updated_at_ms = excluded.updated_at_ms",
        (chain_id, paused, now_ms),
    )
    return before


# --- staff changes, each with its audit entry in one transaction (Store.run_audited) ---------


def set_withdrawals_paused_change(chain_id: int, paused: bool, now_ms: int) -> Work[Change[bool]]:
    """set_withdrawals_paused as an audited change: the flag before and after."""
    before = yield from set_withdrawals_paused(chain_id, paused, now_ms)
    return Change(
        before, before={"withdrawals_paused": before}, after={"withdrawals_paused": paused}
    )


def decide_withdrawal_change(
    chain_id: int, withdrawal_id: int, state: WithdrawalState, now_ms: int, reason: str
) -> Work[Change[tuple[Withdrawal, Withdrawal] | None]]:
    """Approve (queued) or reject a withdrawal awaiting approval, as an audited change; None
    (and no entry) when it is not on this chain or not awaiting approval."""
    before = yield from get_withdrawal(withdrawal_id)
    if before is None or before.chain_id != chain_id:
        return Change(None, logged=False)
    after = yield from set_withdrawal_state(
        withdrawal_id, ("awaiting_approval",), state, now_ms, reason=reason
    )
    if after is None:
        return Change(None, logged=False)
    return Change(
        (before, after), before=msgspec.to_builtins(before), after=msgspec.to_builtins(after)
    )
