"""The schema guards the ledger even against SQL that bypasses the wallet (both backends)."""

from __future__ import annotations

import pytest

from persistence.ledger import AccountRef, TransferRequest, transfer
from persistence.store import Store
from persistence.work import Query, Work
from services.ledger import NEGATIVE_KINDS, check_transfer


def statement(sql: str) -> Work[None]:
    yield Query(sql)


async def posted_transfer(store: Store) -> int:
    request = TransferRequest(
        "k1", "adjustment", AccountRef("house"), AccountRef("wallet", "1"), 100
    )
    outcome = await store.run(
        lambda: transfer(request, store.clock_ms(), NEGATIVE_KINDS, check_transfer)
    )
    return outcome.record.id


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_transfers SET amount = 1 WHERE id = {id}",
        "UPDATE ledger_transfers SET credit_account_id = debit_account_id WHERE id = {id}",
        "UPDATE ledger_transfers SET state = 'voided' WHERE id = {id}",
        "DELETE FROM ledger_transfers WHERE id = {id}",
    ],
)
async def test_transfers_cannot_be_rewritten(store: Store, sql: str) -> None:
    transfer_id = await posted_transfer(store)
    with pytest.raises(Exception, match=r"ledger|violates|constraint"):
        await store.run(lambda: statement(sql.format(id=transfer_id)))
    audit = await store.ledger_audit()
    assert audit.consistent and audit.transfers == 1


async def test_an_overdraft_written_directly_is_refused_by_the_schema(store: Store) -> None:
    await posted_transfer(store)
    with pytest.raises(Exception, match=r"CHECK|check"):
        await store.run(
            lambda: statement(
                "UPDATE ledger_accounts SET reserved = balance + 1 WHERE kind = 'wallet'"
            )
        )
    assert (await store.ledger_audit()).consistent
