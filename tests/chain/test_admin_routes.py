"""The admin API's chain routes (admin/chain.py) over the cashier on a py-evm chain."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from admin.app import create_admin_app
from admin.auth import jwt_verifier
from admin.context import AdminContext
from persistence.ledger import AccountRef
from persistence.store import Store
from server.auth import TokenSigner
from server.config import Settings
from services.chain.cashier import ChainCashier
from services.chain.ledger_port import WalletCashierLedger
from services.wallet import Wallet
from tests.admin.conftest import SECRET, bearer
from tests.chain.evm import Evm

REASON = {"reason": "called the player back"}


@pytest.fixture
def cashier(evm: Evm, store: Store, wallet: Wallet) -> ChainCashier:
    settings = evm.settings(approval_threshold_chips=500)
    return ChainCashier(store, WalletCashierLedger(wallet), settings)


@pytest.fixture
def client(store: Store, wallet: Wallet, cashier: ChainCashier) -> Any:
    context = AdminContext(
        settings=Settings(),
        verify_token=jwt_verifier(TokenSigner(SECRET)),
        store=store,
        wallet=wallet,
        chains={cashier.settings.chain_id: cashier},
    )
    return create_admin_app(context).test_client()


async def _large(wallet: Wallet, cashier: ChainCashier) -> int:
    await wallet.adjust("fund", AccountRef("wallet", "1"), 1_000, "t")
    row = await cashier.request_withdrawal(1, "big", 800, "0x" + "34" * 20)
    assert row.state == "awaiting_approval"
    return row.id


async def test_staff_list_and_approve_a_large_withdrawal(
    client: Any, wallet: Wallet, cashier: ChainCashier
) -> None:
    chain = cashier.settings.chain_id
    withdrawal_id = await _large(wallet, cashier)
    response = await client.get(
        f"/chains/{chain}/withdrawals?state=awaiting_approval", headers=bearer("support")
    )
    assert response.status_code == 200
    (listed,) = await response.get_json()
    assert (listed["id"], listed["chips"], listed["address"]) == (
        withdrawal_id, 800, "0x" + "34" * 20,
    )  # fmt: skip
    response = await client.post(
        f"/chains/{chain}/withdrawals/{withdrawal_id}/approve", json=REASON,
        headers=bearer("support", subject="sam"),
    )  # fmt: skip
    assert response.status_code == 200
    assert (await response.get_json())["state"] == "queued"
    again = await client.post(
        f"/chains/{chain}/withdrawals/{withdrawal_id}/approve", json=REASON,
        headers=bearer("support"),
    )  # fmt: skip
    assert again.status_code == 409
    assert (await again.get_json())["error"] == "withdrawal_not_awaiting_approval"
    audit = await client.get(
        f"/audit?target=chain_withdrawal:{withdrawal_id}", headers=bearer("admin")
    )
    (entry,) = await audit.get_json()
    assert (entry["action"], entry["subject"], entry["reason"]) == (
        "chain.withdrawal.approve", "sam", "called the player back",
    )  # fmt: skip


async def test_rejecting_releases_the_chips(
    client: Any, wallet: Wallet, cashier: ChainCashier
) -> None:
    chain = cashier.settings.chain_id
    withdrawal_id = await _large(wallet, cashier)
    response = await client.post(
        f"/chains/{chain}/withdrawals/{withdrawal_id}/reject", json=REASON,
        headers=bearer("admin"),
    )  # fmt: skip
    assert response.status_code == 200
    assert (await response.get_json())["state"] == "rejected"
    assert (await wallet.balance(1)).reserved == 0


async def test_pausing_and_resuming_withdrawals(client: Any, cashier: ChainCashier) -> None:
    chain = cashier.settings.chain_id
    paused = await client.post(
        f"/chains/{chain}/withdrawals/pause", json=REASON, headers=bearer("support")
    )
    assert (await paused.get_json())["withdrawals_paused"] is True
    status = await client.get(f"/chains/{chain}", headers=bearer("support"))
    body = await status.get_json()
    assert (body["withdrawals_paused"], body["cashier"]) == (True, cashier.settings.cashier)
    resumed = await client.post(
        f"/chains/{chain}/withdrawals/resume", json=REASON, headers=bearer("support")
    )
    assert (await resumed.get_json())["withdrawals_paused"] is False
    audit = await client.get(f"/audit?target=chain:{chain}", headers=bearer("admin"))
    actions = [e["action"] for e in await audit.get_json()]
    assert actions == ["chain.withdrawals.resume", "chain.withdrawals.pause"]


async def test_deposits_are_listed_for_staff(client: Any, cashier: ChainCashier) -> None:
    chain = cashier.settings.chain_id
    response = await client.get(f"/chains/{chain}/deposits?limit=5", headers=bearer("support"))
    assert (response.status_code, await response.get_json()) == (200, [])


@pytest.mark.parametrize(
    ("method", "path", "role", "body", "status", "code"),
    [
        ("get", "/chains/{chain}/withdrawals", "director", None, 403, "forbidden"),
        ("post", "/chains/{chain}/withdrawals/pause", "director", REASON, 403, "forbidden"),
        ("get", "/chains/999/withdrawals", "support", None, 404, "not_found"),
        ("get", "/chains/{chain}/withdrawals?state=lost", "support", None, 400, "invalid_request"),
        ("post", "/chains/{chain}/withdrawals/77/approve", "support", REASON, 404,
         "unknown_withdrawal"),
        ("post", "/chains/{chain}/withdrawals/pause", "support", {"reason": ""}, 400,
         "invalid_request"),
        ("post", "/chains/{chain}/withdrawals/pause", "support", {"why": "x"}, 400,
         "invalid_request"),
    ],
)  # fmt: skip
async def test_refusals_have_stable_codes_and_change_nothing(
    client: Any,
    cashier: ChainCashier,
    method: str,
    path: str,
    role: str,
    body: Any,
    status: int,
    code: str,
) -> None:
    url = path.format(chain=cashier.settings.chain_id)
    send = getattr(client, method)
    response = await (send(url, json=body, headers=bearer(role)) if body is not None
                      else send(url, headers=bearer(role)))  # fmt: skip
    assert response.status_code == status
    assert (await response.get_json())["error"] == code
    assert await cashier.withdrawals_paused() is False


async def test_staff_list_every_chain_a_cashier_runs_on(
    store: Store, wallet: Wallet, cashier: ChainCashier
) -> None:
    other = ChainCashier(
        store,
        WalletCashierLedger(wallet),
        msgspec.structs.replace(cashier.settings, chain_id=10, cashier="0x" + "d0" * 20),
    )
    context = AdminContext(
        settings=Settings(),
        verify_token=jwt_verifier(TokenSigner(SECRET)),
        store=store,
        wallet=wallet,
        chains={cashier.settings.chain_id: cashier, 10: other},
    )
    client = create_admin_app(context).test_client()
    await client.post("/chains/10/withdrawals/pause", json=REASON, headers=bearer("support"))
    listed = await (await client.get("/chains", headers=bearer("support"))).get_json()
    assert [(c["chain_id"], c["withdrawals_paused"]) for c in listed] == [
        (cashier.settings.chain_id, False), (10, True)
    ]  # fmt: skip
    assert listed[1]["cashier"].lower() == "0x" + "d0" * 20
    refused = await client.get("/chains", headers=bearer("player"))
    assert refused.status_code in (401, 403)
