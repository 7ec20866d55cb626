"""Rakeback's storage: the hands and fees of a period, frozen periods and their accruals.

A *scope* is a rakeback program: ``house`` (hands at tables that belong to no club, and
tournament fees) or ``club:<id>`` (hands at that club's tables, persistence/clubs.py). Only
real-money hands (asset ``chips``) count.

A period is frozen once (``freeze``: its row and every accrual in one transaction; a second
freeze of the same period writes nothing and returns False); afterwards the schema itself
refuses any change but an accrual's transfer id (written once) and the period's state
(``paying`` -> ``closed``): the ``clubs_rakeback`` migration's triggers.

Each step writes its domain event (persistence/events.py) in its own transaction, only when it
changed something (a repeated or racing run writes none): ``rakeback.period_frozen`` with the
freeze, ``rakeback.paid`` with each accrual's transfer id, ``rakeback.period_closed`` with the
close. Their aggregate is ``rakeback:<scope>:<period>``.
"""

from __future__ import annotations

from typing import Any, Final, final

import msgspec

from persistence.events import NewEvent, RakebackPaid, RakebackPeriodChanged
from persistence.hands import HandPlayer
from persistence.outbox import append
from persistence.work import Query, QueryMany, Row, Work, one

HANDS_PAGE: Final = 2_000  # hands read per round trip (services page through a period)
FEES_PAGE: Final = 2_000
STATEMENT_PERIODS_MAX: Final = 200  # bound: a statement lists at most this many periods
HOUSE_SCOPE: Final = "house"
_players = msgspec.json.Decoder(tuple[HandPlayer, ...])


@final
class StoredHand(msgspec.Struct, frozen=True):
    seq: int
    hand_id: str
    table_id: str
    rake: int
    players: tuple[HandPlayer, ...]


@final
class StoredFee(msgspec.Struct, frozen=True):
    transfer_id: int
    player_id: int
    amount: int  # > 0 a fee paid, < 0 a fee refunded
    tournament_id: int | None = None  # from the key tournament:<id>:... (None: another)


@final
class PeriodRow(msgspec.Struct, frozen=True):
    scope: str
    period: str
    state: str  # "paying" or "closed"
    from_ms: int
    to_ms: int
    program_json: str
    rake_cash: int
    rake_tournament: int
    funding_cash: int
    funding_tournament: int
    paid: int
    house_kept: int
    payer_kept: int
    frozen_at_ms: int
    closed_at_ms: int | None = None


@final
class AccrualRow(msgspec.Struct, frozen=True):
    scope: str
    period: str
    beneficiary_id: int
    kind: str  # "rakeback" or "commission"
    rake_cash: int  # rakeback: her rake; commission: her members' rake
    rake_tournament: int
    points: int
    status: int
    paid_tier: int
    rate_bp: int
    amount_cash: int
    amount_tournament: int
    amount: int
    remainder_units: int
    next_status: int
    agent_id: int | None
    members: int
    transfer_id: int | None = None


_PERIOD = (
    "scope, period, state, from_ms, to_ms, program_json, rake_cash, rake_tournament,"
    " funding_cash, funding_tournament, paid, house_kept, payer_kept, frozen_at_ms, closed_at_ms"
)
_ACCRUAL = (
    "scope, period, beneficiary_id, kind, rake_cash, rake_tournament, points, status,"
    " paid_tier, rate_bp, amount_cash, amount_tournament, amount, remainder_units,"
    " next_status, agent_id, members, transfer_id"
)
_INT_PERIOD = {3, 4, 6, 7, 8, 9, 10, 11, 12, 13}


def _period(row: Row) -> PeriodRow:
    values: list[Any] = [int(v) if i in _INT_PERIOD else v for i, v in enumerate(row)]
    values[14] = None if row[14] is None else int(row[14])
    return PeriodRow(*values)


def _accrual(row: Row) -> AccrualRow:
    values: list[Any] = [v if i in (0, 1, 3) or v is None else int(v) for i, v in enumerate(row)]
    return AccrualRow(*values)


def _scope_filter(scope: str) -> tuple[str, tuple[object, ...]]:
    """SQL (on hand_histories h) choosing the scope's tables, and its argument."""
    if scope == HOUSE_SCOPE:
        return "NOT EXISTS (SELECT 1 FROM club_tables ct WHERE ct.table_id = h.table_id)", ()
    if not scope.startswith("club:"):
        raise ValueError(f"unknown rakeback scope {scope!r}")
    return (
        "EXISTS (SELECT 1 FROM club_tables ct WHERE ct.table_id = h.table_id AND ct.club_id = $4)",
        (int(scope.removeprefix("club:")),),
    )


def hands_page(scope: str, from_ms: int, to_ms: int, after_seq: int) -> Work[list[StoredHand]]:
    """Real-money hands with rake that ended in [from_ms, to_ms) at the scope's tables, in
    seq order after ``after_seq``, at most HANDS_PAGE."""
    where, extra = _scope_filter(scope)
    rows = yield Query(
        "SELECT h.seq, h.hand_id, h.table_id, h.rake, h.players FROM hand_histories h"
        " WHERE h.ended_at_ms >= $1 AND h.ended_at_ms < $2 AND h.seq > $3 AND h.rake > 0"
        f" AND h.asset = 'chips' AND {where} ORDER BY h.seq LIMIT {HANDS_PAGE}",
        (from_ms, to_ms, after_seq, *extra),
    )
    return [StoredHand(int(r[0]), r[1], r[2], int(r[3]), _players.decode(r[4])) for r in rows]


def shares_by_player(scope: str, from_ms: int, to_ms: int) -> Work[dict[int, int]]:
    """Per player, the sum of her stored shares (hand_players.rake_paid) over the period's
    hands of the scope: the second copy of the shares, which ``verify`` checks against the
    hand records' own."""
    where, extra = _scope_filter(scope)
    rows = yield Query(
        "SELECT p.player_id, SUM(p.rake_paid) FROM hand_players p"
        " JOIN hand_histories h ON h.seq = p.hand_seq WHERE h.ended_at_ms >= $1"
        " AND h.ended_at_ms < $2 AND h.seq > $3 AND h.rake > 0 AND h.asset = 'chips'"
        f" AND {where} GROUP BY p.player_id",
        (from_ms, to_ms, 0, *extra),
    )
    return {int(r[0]): int(r[1]) for r in rows if int(r[1])}


def fees_page(from_ms: int, to_ms: int, after_id: int) -> Work[list[StoredFee]]:
    """Real-money tournament fees posted in [from_ms, to_ms) (entry_fee: wallet -> fees) and
    fee refunds (refund: fees -> wallet), in id order after ``after_id``."""
    rows = yield Query(
        "SELECT id, kind, debit_owner, credit_owner, amount, idempotency_key FROM ledger_transfers"
        " WHERE id > $1 AND state = 'posted' AND asset = 'chips'"
        " AND updated_at_ms >= $2 AND updated_at_ms < $3 AND ("
        " (kind = 'entry_fee' AND debit_kind = 'wallet' AND credit_kind = 'fees') OR"
        " (kind = 'refund' AND debit_kind = 'fees' AND credit_kind = 'wallet'))"
        f" ORDER BY id LIMIT {FEES_PAGE}",
        (after_id, from_ms, to_ms),
    )
    return [
        StoredFee(int(r[0]), int(r[2]), int(r[4]), _tournament_of(r[5]))
        if r[1] == "entry_fee"
        else StoredFee(int(r[0]), int(r[3]), -int(r[4]), _tournament_of(r[5]))
        for r in rows
    ]


def _tournament_of(key: str) -> int | None:
    """The tournament of a fee's key ``tournament:<id>:<op>:fee`` (services/tournaments.py)."""
    parts = key.split(":")
    if len(parts) > 2 and parts[0] == "tournament" and parts[1].isdigit():
        return int(parts[1])
    return None


def get_period(scope: str, period: str) -> Work[PeriodRow | None]:
    rows = yield Query(
        f"SELECT {_PERIOD} FROM rakeback_periods WHERE scope = $1 AND period = $2",
        (scope, period),
    )
    return _period(rows[0]) if rows else None


def last_period(scope: str, kind: str) -> Work[PeriodRow | None]:
    """The scope's latest frozen period of ``kind`` ("day" or "week"), by start."""
    rows = yield Query(
        f"SELECT {_PERIOD} FROM rakeback_periods WHERE scope = $1 AND period LIKE $2"
        " ORDER BY from_ms DESC LIMIT 1",
        (scope, f"{kind}:%"),
    )
    return _period(rows[0]) if rows else None


def periods(scope: str, limit: int) -> Work[list[PeriodRow]]:
    page = max(1, min(limit, STATEMENT_PERIODS_MAX))
    rows = yield Query(
        f"SELECT {_PERIOD} FROM rakeback_periods WHERE scope = $1"
        f" ORDER BY from_ms DESC LIMIT {page}",
        (scope,),
    )
    return [_period(r) for r in rows]


def accruals(scope: str, period: str) -> Work[list[AccrualRow]]:
    rows = yield Query(
        f"SELECT {_ACCRUAL} FROM rakeback_accruals WHERE scope = $1 AND period = $2"
        " ORDER BY kind DESC, beneficiary_id",
        (scope, period),
    )
    return [_accrual(r) for r in rows]


def statuses(scope: str, period: str) -> Work[dict[int, int]]:
    """Each player's status for the period after ``period`` (its accruals' next_status)."""
    rows = yield Query(
        "SELECT beneficiary_id, next_status FROM rakeback_accruals WHERE scope = $1"
        " AND period = $2 AND kind = 'rakeback' AND next_status > 0",
        (scope, period),
    )
    return {int(r[0]): int(r[1]) for r in rows}


def _aggregate(scope: str, period: str) -> str:
    return f"rakeback:{scope}:{period}"


def _period_event(kind: str, row: PeriodRow, payments: int, now_ms: int) -> Work[int]:
    payload = RakebackPeriodChanged(
        scope=row.scope, period=row.period, rake_cash=row.rake_cash,
        rake_tournament=row.rake_tournament, funding_cash=row.funding_cash,
        funding_tournament=row.funding_tournament, paid=row.paid, house_kept=row.house_kept,
        payer_kept=row.payer_kept, payments=payments,
    )  # fmt: skip
    return (yield from append(NewEvent(kind, _aggregate(row.scope, row.period), payload), now_ms))


def freeze(period: PeriodRow, rows: list[AccrualRow]) -> Work[bool]:
    """Write the period and its accruals once; False (nothing written) if it was frozen."""
    inserted = yield Query(
        f"INSERT INTO rakeback_periods ({_PERIOD}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
        " $10, $11, $12, $13, $14, $15) ON CONFLICT (scope, period) DO NOTHING RETURNING scope",
        tuple(msgspec.structs.astuple(period)),
    )
    if not inserted:
        return False
    if rows:
        yield QueryMany(
            f"INSERT INTO rakeback_accruals ({_ACCRUAL}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
            " $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            [tuple(msgspec.structs.astuple(r)) for r in rows],
        )
    yield from _period_event("rakeback.period_frozen", period, 0, period.frozen_at_ms)
    return True


def mark_paid(
    scope: str, period: str, beneficiary: int, kind: str, transfer_id: int, now_ms: int
) -> Work[bool]:
    """Record the accrual's transfer (once: False when it was recorded already)."""
    rows = yield Query(
        "UPDATE rakeback_accruals SET transfer_id = $5 WHERE scope = $1 AND period = $2"
        " AND beneficiary_id = $3 AND kind = $4 AND transfer_id IS NULL RETURNING amount",
        (scope, period, beneficiary, kind, transfer_id),
    )
    if not rows:
        return False
    payload = RakebackPaid(
        scope=scope, period=period, player_id=beneficiary, kind=kind, amount=int(rows[0][0]),
        transfer_id=transfer_id,
    )  # fmt: skip
    yield from append(NewEvent("rakeback.paid", _aggregate(scope, period), payload), now_ms)
    return True


def close(scope: str, period: str, now_ms: int) -> Work[PeriodRow]:
    changed = yield Query(
        "UPDATE rakeback_periods SET state = 'closed', closed_at_ms = $3 WHERE scope = $1"
        " AND period = $2 AND state = 'paying' RETURNING scope",
        (scope, period, now_ms),
    )
    found = yield from get_period(scope, period)
    assert found is not None
    if changed:
        rows = yield Query(
            "SELECT COUNT(*) FROM rakeback_accruals WHERE scope = $1 AND period = $2"
            " AND transfer_id IS NOT NULL",
            (scope, period),
        )
        payments = int(one(rows)[0])
        yield from _period_event("rakeback.period_closed", found, payments, now_ms)
    return found


def accruals_of(beneficiary: int, limit: int) -> Work[list[AccrualRow]]:
    """A player's accruals (rakeback and commission) in every scope, newest period first."""
    page = max(1, min(limit, STATEMENT_PERIODS_MAX))
    rows = yield Query(
        f"SELECT {', '.join(f'a.{c.strip()}' for c in _ACCRUAL.split(','))}"
        " FROM rakeback_accruals a JOIN rakeback_periods p ON p.scope = a.scope"
        " AND p.period = a.period WHERE a.beneficiary_id = $1"
        f" ORDER BY p.from_ms DESC, a.scope, a.kind LIMIT {page}",
        (beneficiary,),
    )
    return [_accrual(r) for r in rows]


def scope_activity(scope: str, from_ms: int, to_ms: int) -> Work[tuple[int, int, int]]:
    """(hands, distinct players, rake) of the scope's real-money hands in the period."""
    where, extra = _scope_filter(scope)
    rows = yield Query(
        "SELECT COUNT(*), COALESCE(SUM(h.rake), 0) FROM hand_histories h"
        " WHERE h.ended_at_ms >= $1 AND h.ended_at_ms < $2 AND h.seq > $3"
        f" AND h.asset = 'chips' AND {where}",
        (from_ms, to_ms, 0, *extra),
    )
    hands, rake = one(rows)
    rows = yield Query(
        "SELECT COUNT(DISTINCT p.player_id) FROM hand_players p"
        " JOIN hand_histories h ON h.seq = p.hand_seq WHERE h.ended_at_ms >= $1"
        f" AND h.ended_at_ms < $2 AND h.seq > $3 AND h.asset = 'chips' AND {where}",
        (from_ms, to_ms, 0, *extra),
    )
    return int(hands), int(one(rows)[0]), int(rake)


@final
class KeyedTransfer(msgspec.Struct, frozen=True):
    id: int
    key: str
    kind: str
    debit: tuple[str, str]  # (kind, owner)
    credit: tuple[str, str]
    amount: int
    state: str


KEYS_PER_QUERY: Final = 500


def transfers_by_keys(keys: list[str]) -> Work[dict[str, KeyedTransfer]]:
    """The ledger transfers made under these idempotency keys (verify)."""
    found: dict[str, KeyedTransfer] = {}
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]
        marks = ", ".join(f"${i + 1}" for i in range(len(chunk)))
        rows = yield Query(
            "SELECT id, idempotency_key, kind, debit_kind, debit_owner, credit_kind,"
            " credit_owner, amount, state FROM ledger_transfers"
            f" WHERE idempotency_key IN ({marks})",
            tuple(chunk),
        )
        for r in rows:
            found[r[1]] = KeyedTransfer(
                int(r[0]), r[1], r[2], (r[3], r[4]), (r[5], r[6]), int(r[7]), r[8]
            )
    return found
