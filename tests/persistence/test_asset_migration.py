"""The assets migration (ledger_assets) on a ledger written before assets existed, on both
backends: every account and transfer becomes real money (chips), nothing else changes, and
the old data keeps working (balances, retries of old keys, new accounts of both assets)."""

from __future__ import annotations

from pathlib import Path

import pytest

import persistence.postgres
import persistence.sqlite
from persistence.ledger import AccountRef
from persistence.migrations import Migration, migrations_for
from persistence.store import open_store
from persistence.work import Query, Work
from services.ledger import PLAY, wallet
from services.wallet import Wallet
from tests.persistence.stores import BACKENDS, ManualClock, store_url

ASSETS_MIGRATION = "ledger_assets"  # by name: the number may change when branches merge


def _old_ledger() -> Work[None]:
    """Rows as the code before assets wrote them: two wallets, the outside world, a posted
    deposit and a pending withdrawal (the trigger of 0002 moves the balances)."""
    for kind, owner, negative, player in (  # ids 1, 2, 3 in a fresh schema
        ("external", "", True, None),
        ("wallet", "7", False, 7),
        ("wallet", "8", False, 8),
    ):
        yield Query(
            "INSERT INTO ledger_accounts (kind, owner, balance, reserved, may_go_negative,"
            " player_id, created_at_ms) VALUES ($1, $2, 0, 0, $3, $4, 0)",
            (kind, owner, negative, player),
        )
    for key, kind, debit, credit, amount, state in (
        ("player:7:dep", "deposit", (1, "external", ""), (2, "wallet", "7"), 500, "posted"),
        ("player:7:wd", "withdrawal", (2, "wallet", "7"), (1, "external", ""), 200, "pending"),
    ):
        yield Query(
            "INSERT INTO ledger_transfers (idempotency_key, content_hash, kind,"
            " debit_account_id, credit_account_id, debit_kind, debit_owner, credit_kind,"
            " credit_owner, amount, state, memo, created_at_ms, updated_at_ms)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '', 0, 0)",
            (
                key, _old_hash(kind, debit, credit, amount), kind, debit[0], credit[0],
                debit[1], debit[2], credit[1], credit[2], amount, state,
            ),
        )  # fmt: skip


def _old_hash(
    kind: str, debit: tuple[int, str, str], credit: tuple[int, str, str], amount: int
) -> str:
    from persistence.ledger import TransferRequest

    return TransferRequest(
        "k", kind, AccountRef(debit[1], debit[2]), AccountRef(credit[1], credit[2]), amount,
        kind != "player_transfer", "",
    ).content_hash()  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
async def test_old_ledger_data_becomes_real_money_and_keeps_working(
    backend: str, tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await store_url(backend, tmp_path, postgres_url)
    module = persistence.sqlite if backend == "sqlite" else persistence.postgres

    def before_assets(dialect: str) -> list[Migration]:
        every = migrations_for(dialect)  # type: ignore[arg-type]
        return every[: next(i for i, m in enumerate(every) if m.name == ASSETS_MIGRATION)]

    with monkeypatch.context() as patch:
        patch.setattr(module, "migrations_for", before_assets)
        async with open_store(url) as old:
            await old.run(_old_ledger)
    async with open_store(url, clock_ms=ManualClock()) as store:
        w = Wallet(store)
        audit = await store.ledger_audit()
        assert audit.consistent and audit.balance_by_asset == {"chips": 0}, audit
        assert (await w.balance(7)).balance == 500
        assert (await w.balance(7)).reserved == 200
        # A retry of the old deposit (same key, same content) is still a retry.
        again = await w.request_deposit("dep", 7, 500)
        assert (again.id, again.asset) == (1, "chips")
        # New accounts of either asset beside the old ones; ids go on after the old ones.
        await w.buy_in("b1", 7, "table:1", 100)
        await w.grant_starting_play_chips(7)
        play = await store.ledger_account(wallet(7, PLAY))
        assert play is not None and play.id > 3
        history = (await w.history(7)).entries
        assert [e.kind for e in history] == ["buy_in", "withdrawal", "deposit"]
        audit = await store.ledger_audit()
        assert audit.consistent and set(audit.balance_by_asset) == {"chips", "play"}, audit
