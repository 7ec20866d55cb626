"""An operator's change and its audit entry are one unit of work: both land or neither does.
Every test runs on SQLite and PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

import sqlite3
from typing import Any

import asyncpg
import pytest

from persistence import audit
from persistence.audit import AuditStamp, Change
from persistence.ledger import AccountRef, TransferRequest
from persistence.store import Store
from persistence.work import Query, Work
from services.ledger import NEGATIVE_KINDS, InsufficientFunds, check_transfer, wallet
from services.wallet import Wallet
from tests.persistence.stores import ManualClock

HOUSE = AccountRef("house")
# What each backend raises for the NOT NULL violation _refused_by_the_database() causes.
NOT_NULL_REFUSED = (sqlite3.IntegrityError, asyncpg.NotNullViolationError)


def _stamp(action: str = "players.ban", target: str = "player:1", **fields: Any) -> AuditStamp:
    values = {
        "subject": "sam",
        "role": "support",
        "action": action,
        "target": target,
        "reason": "chip dumping",
        "request_id": "r1",
        **fields,
    }
    return AuditStamp(**values)


def _refused_by_the_database() -> AuditStamp:
    # NOT NULL on audit_log.subject: a refusal from the database itself, after the change's
    # own statements have run in the same transaction.
    return _stamp(subject=None)


async def test_a_ban_and_its_entry_commit_together(store: Store, clock: ManualClock) -> None:
    alice = await store.create_account("alice", "h", "player")
    banned = await store.set_account_banned(alice.id, True, audit_as=_stamp())
    assert banned is not None and banned.banned
    (entry,) = await store.list_audit()
    assert (entry.action, entry.subject, entry.reason, entry.at_ms) == (
        "players.ban",
        "sam",
        "chip dumping",
        clock.now_ms,
    )
    assert entry.before == {
        "id": alice.id,
        "name": "alice",
        "role": "player",
        "banned": False,
        "created_at": entry.before["created_at"],
    }
    assert entry.after["banned"] is True
    assert "password_hash" not in entry.before


async def test_a_ban_whose_entry_the_database_refuses_is_rolled_back(store: Store) -> None:
    alice = await store.create_account("alice", "h", "player")
    with pytest.raises(NOT_NULL_REFUSED):
        await store.set_account_banned(alice.id, True, audit_as=_refused_by_the_database())
    account = await store.get_account(alice.id)
    assert account is not None and not account.banned
    assert await store.list_audit() == []


async def test_a_ban_whose_entry_is_too_large_is_rolled_back(store: Store) -> None:
    alice = await store.create_account("alice", "h", "player")
    with pytest.raises(ValueError, match="audit action"):
        await store.set_account_banned(alice.id, True, audit_as=_stamp(action="x" * 2_000))
    account = await store.get_account(alice.id)
    assert account is not None and not account.banned


async def test_a_ban_of_no_account_writes_no_entry(store: Store) -> None:
    assert await store.set_account_banned(999, True, audit_as=_stamp()) is None
    assert await store.list_audit() == []


def _insert_marker() -> Work[Change[str]]:
    yield Query(
        "INSERT INTO snapshots (actor_id, kind, version, data, updated_at_ms)"
        " VALUES ($1, $2, $3, $4, $5)",
        ("marker", "test", 1, b"", 0),
    )
    return Change("changed", before=None, after={"marker": 1})


async def test_any_change_run_audited_rolls_back_with_its_entry(store: Store) -> None:
    with pytest.raises(NOT_NULL_REFUSED):
        await store.run_audited(_refused_by_the_database(), _insert_marker)
    assert await store.load_snapshot("marker") is None
    result, entry = await store.run_audited(_stamp(action="test.mark"), _insert_marker)
    assert result == "changed" and entry is not None and entry.after == {"marker": 1}
    assert await store.load_snapshot("marker") is not None


async def _adjust(store: Store, amount: int, key: str, stamp: AuditStamp) -> Any:
    kind, debit, credit = (
        ("adjustment", HOUSE, wallet(1))
        if amount > 0
        else ("adjustment_reversal", wallet(1), HOUSE)
    )
    request = TransferRequest(key, kind, debit, credit, abs(amount), memo="goodwill")
    return await store.ledger_transfer_audited(
        request, NEGATIVE_KINDS, check_transfer, audit_as=stamp, watch=wallet(1)
    )


async def test_an_adjustment_and_its_entry_record_the_balances_around_it(store: Store) -> None:
    stamp = _stamp(action="wallet.adjust")
    await _adjust(store, 500, "a1", stamp)
    outcome = await _adjust(store, -200, "a2", stamp)
    second, first = await store.list_audit()
    assert first.before == {"balance": 0, "reserved": 0, "available": 0}
    assert first.after["balance"] == 500 and first.after["amount"] == 500
    assert second.before["balance"] == 500
    assert second.after == {
        "balance": 300,
        "reserved": 0,
        "available": 300,
        "transfer_id": outcome.record.id,
        "amount": -200,
    }
    assert (await store.ledger_audit()).consistent


async def test_an_adjustment_whose_entry_the_database_refuses_moves_no_money(
    store: Store,
) -> None:
    with pytest.raises(NOT_NULL_REFUSED):
        await _adjust(store, 500, "a1", _refused_by_the_database())
    assert (await Wallet(store).balance(1)).balance == 0
    assert await store.ledger_history(wallet(1)) == []
    assert await store.list_audit() == []
    # The key was not spent: the same adjustment, properly audited, goes through.
    await _adjust(store, 500, "a1", _stamp(action="wallet.adjust"))
    assert (await Wallet(store).balance(1)).balance == 500


async def test_a_refused_adjustment_writes_no_entry(store: Store) -> None:
    with pytest.raises(InsufficientFunds):
        await _adjust(store, -10, "a1", _stamp(action="wallet.adjust"))
    assert await store.list_audit() == []


async def test_a_replayed_adjustment_is_logged_again_and_a_conflicting_one_not(
    store: Store,
) -> None:
    stamp = _stamp(action="wallet.adjust")
    first = await _adjust(store, 500, "a1", stamp)
    again = await _adjust(store, 500, "a1", stamp)
    assert again.record == first.record
    conflict = await _adjust(store, 700, "a1", stamp)
    assert conflict.record == first.record and type(conflict).__name__ == "KeyConflict"
    assert len(await store.list_audit()) == 2  # the attempt and its retry, not the conflict
    assert (await Wallet(store).balance(1)).balance == 500


async def test_wallet_adjust_with_an_audit_stamp_is_one_unit(store: Store) -> None:
    w = Wallet(store)
    await w.adjust("k1", wallet(1), 50, "goodwill", audit_as=_stamp(action="wallet.adjust"))
    with pytest.raises(NOT_NULL_REFUSED):
        await w.adjust("k2", wallet(1), 70, "goodwill", audit_as=_refused_by_the_database())
    assert (await w.balance(1)).balance == 50
    assert [e.action for e in await store.list_audit()] == ["wallet.adjust"]


async def test_an_entry_on_its_own_records_its_stamp(store: Store, clock: ManualClock) -> None:
    entry = await store.append_audit(
        _stamp(action="tables.pause", target="table:t-1"),
        before={"status": "open"},
        after={"outcome": "requested"},
    )
    assert await store.list_audit() == [entry]
    assert (entry.target, entry.at_ms, entry.after) == (
        "table:t-1",
        clock.now_ms,
        {"outcome": "requested"},
    )


def test_audited_is_a_unit_of_work_over_the_change() -> None:
    # Sans-IO: drive the generator by hand, as a backend would.
    unit = audit.audited(_insert_marker, _stamp(), at_ms=7)
    first = next(unit)
    assert isinstance(first, Query) and first.sql.startswith("INSERT INTO snapshots")
    second = unit.send([])
    assert isinstance(second, Query) and second.sql.startswith("INSERT INTO audit_log")
