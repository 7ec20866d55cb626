"""Contract additions for the admin API: account search, ping, and the append-only audit log.
Every test runs on SQLite and PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

import pytest

from persistence import audit
from persistence.audit import AuditStamp
from persistence.store import Store
from persistence.work import Query


async def test_search_finds_names_by_prefix_ignoring_case_in_id_order(store: Store) -> None:
    for name in ("Alice", "alfred", "Bob", "al_x", "al%y"):
        await store.create_account(name, "h", "player")
    found = await store.search_accounts("AL")
    assert [a.name for a in found] == ["Alice", "alfred", "al_x", "al%y"]
    # LIKE wildcards in the prefix are literal characters.
    assert [a.name for a in await store.search_accounts("al_")] == ["al_x"]
    assert [a.name for a in await store.search_accounts("al%")] == ["al%y"]


async def test_search_pages_by_id(store: Store) -> None:
    for index in range(5):
        await store.create_account(f"p{index}", "h", "player")
    first = await store.search_accounts("p", limit=2)
    second = await store.search_accounts("p", after_id=first[-1].id, limit=2)
    assert [a.name for a in first + second] == ["p0", "p1", "p2", "p3"]


async def test_ping_answers(store: Store) -> None:
    await store.ping()


async def test_audit_entries_round_trip_newest_first_and_filter_by_target(store: Store) -> None:
    first = await store.append_audit(
        AuditStamp(
            subject="sam",
            role="support",
            action="players.ban",
            target="player:1",
            reason="chip dumping",
            request_id="r1",
        ),
        before={"banned": False},
        after={"banned": True},
    )
    second = await store.append_audit(
        AuditStamp(
            subject="ann",
            role="admin",
            action="wallet.adjust",
            target="player:2",
            reason="refund",
            request_id="r2",
        ),
        before={"balance": 10},
        after={"balance": 60},
    )
    assert [e.id for e in await store.list_audit()] == [second.id, first.id]
    only_first = await store.list_audit(target="player:1")
    assert only_first == [first]
    assert only_first[0].before == {"banned": False} and only_first[0].after == {"banned": True}
    assert await store.list_audit(before_id=second.id) == [first]


async def test_audit_log_refuses_rewrites(store: Store) -> None:
    entry = await store.append_audit(
        AuditStamp(
            subject="sam",
            role="support",
            action="players.ban",
            target="player:1",
            reason="r",
            request_id="r1",
        ),
        before=None,
        after=None,
    )

    def rewrite():  # type: ignore[no-untyped-def]
        yield Query("UPDATE audit_log SET reason = $1 WHERE id = $2", ("edited", entry.id))

    def remove():  # type: ignore[no-untyped-def]
        yield Query("DELETE FROM audit_log WHERE id = $1", (entry.id,))

    for work in (rewrite, remove):
        with pytest.raises(Exception, match="append-only"):
            await store.run(work)
    assert await store.list_audit() == [entry]


async def test_audit_text_over_the_bound_is_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        await store.append_audit(
            AuditStamp(
                subject="s",
                role="admin",
                action="x",
                target="t",
                reason="r" * (audit.AUDIT_TEXT_CHARS_MAX + 1),
                request_id="r",
            ),
            before=None,
            after=None,
        )
    assert await store.list_audit() == []
