"""The money for staff: the ledger audit, statements (JSON and CSV), limits and rake paid."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from persistence import HandPlayer, HandRecord, Store
from persistence.work import Query, Work
from services.ledger import escrow, prize_pool
from services.wallet import Wallet
from tests.admin.conftest import TABLE_ID, bearer

SUPPORT = bearer("support", subject="sam")
DIRECTOR = bearer("director", subject="dee")
DAY_MS = 86_400_000


async def funded(store: Store, name: str, amount: int) -> int:
    account = await store.create_account(name, "hash", "player")
    w = Wallet(store)
    deposit = await w.request_deposit(f"fund-{name}", account.id, amount)
    await w.post(deposit.id)
    return account.id


async def test_the_audit_of_a_clean_ledger_is_consistent_and_checks_the_live_tables(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await funded(store, "alice", 1_000)
    w = Wallet(store)
    await w.tournament_buy_in("entry:1", alice, "tournament:7", 100)
    await w.pay_prize("prize:1", "tournament:7", alice, 60)
    await w.grant_starting_play_chips(alice)
    response = await make_client().get("/ledger/audit", headers=SUPPORT)
    assert response.status_code == 200
    report = await response.get_json()
    assert report["consistent"] is True, report
    assert report["violations"] == []
    assert report["ledger"]["balance_by_asset"] == {"chips": 0, "play": 0}
    assert report["tables_checked"] is True
    assert [t["table_id"] for t in report["tables"]] == [TABLE_ID]
    [pool] = report["prize_pools"]
    assert (pool["owner"], pool["entries"], pool["payouts"], pool["balance"]) == (
        "tournament:7", 100, 60, 40,
    )  # fmt: skip


async def test_the_audit_names_an_escrow_that_disagrees_with_its_table(
    make_client: Callable[..., Any], store: Store
) -> None:
    # Chips put in the live table's escrow behind its back: the table does not count them.
    await Wallet(store).adjust("stray", escrow(f"table:{TABLE_ID}"), 25, memo="stray chips")
    report = await (await make_client().get("/ledger/audit", headers=SUPPORT)).get_json()
    assert report["consistent"] is False
    assert [(v["code"], v["subject"]) for v in report["violations"]] == [
        ("escrow_vs_seats", TABLE_ID)
    ]


async def test_the_audit_names_a_tampered_balance(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await funded(store, "alice", 1_000)
    await Wallet(store).tournament_buy_in("entry:1", alice, "tournament:7", 100)

    def tamper() -> Work[None]:  # what no code path does: a balance written by hand
        yield Query(
            "UPDATE ledger_accounts SET balance = balance + 5 WHERE kind = 'prize_pool'", ()
        )

    await store.run(tamper)
    report = await (await make_client().get("/ledger/audit", headers=SUPPORT)).get_json()
    codes = {(v["code"], v["subject"]) for v in report["violations"]}
    assert report["consistent"] is False
    assert codes == {
        ("asset_sum", "chips"),
        ("mismatched", f"prize_pool:{prize_pool('tournament:7').owner}@chips"),
        ("prize_pool", "tournament:7"),
    }


async def test_directors_may_not_read_the_ledger_audit(make_client: Callable[..., Any]) -> None:
    response = await make_client().get("/ledger/audit", headers=DIRECTOR)
    assert response.status_code == 403


async def test_a_players_statement_as_json_and_as_csv(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await funded(store, "alice", 1_000)
    bob = (await store.create_account("bob", "hash", "player")).id
    await Wallet(store).transfer_to_player("t1", alice, bob, 250, memo="@SUM(A1)")
    now_ms = store.clock_ms()
    client = make_client()
    query = f"from_ms={now_ms - DAY_MS}&to_ms={now_ms + 1}"
    statement = await (
        await client.get(f"/players/{alice}/statement?{query}", headers=SUPPORT)
    ).get_json()
    assert (statement["opening_balance"], statement["closing_balance"]) == (0, 750)
    assert [e["amount"] for e in statement["entries"]] == [1_000, -250]
    response = await client.get(f"/players/{alice}/statement.csv?{query}", headers=SUPPORT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO((await response.get_data()).decode())))
    assert [r[5] for r in rows if r[0] == "entry"] == ["1000", "-250"]
    assert [r[8] for r in rows if r[0] == "entry"][1] == "'@SUM(A1)"
    assert rows[-1][:1] == ["closing"] and rows[-1][5] == "750"


async def test_a_statement_of_a_bad_period_or_unknown_player_is_refused(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await funded(store, "alice", 10)
    client = make_client()
    bad = await client.get(f"/players/{alice}/statement?from_ms=5&to_ms=5", headers=SUPPORT)
    assert (bad.status_code, (await bad.get_json())["error"]) == (400, "invalid_period")
    bad_csv = await client.get(f"/players/{alice}/statement.csv?from_ms=9&to_ms=5", headers=SUPPORT)
    assert bad_csv.status_code == 400
    unknown = await client.get("/players/9999/statement?from_ms=0&to_ms=5", headers=SUPPORT)
    assert unknown.status_code == 404


async def test_staff_see_a_players_limits_and_cannot_change_them(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = await funded(store, "alice", 10)
    w = Wallet(store)
    await w.set_limits(alice, {"daily_loss_max": 50})
    await w.set_limits(alice, {"daily_loss_max": 80})
    await w.exclude(alice, "cool_off", 3)
    client = make_client()
    view = await (await client.get(f"/players/{alice}/limits", headers=SUPPORT)).get_json()
    assert view["limits"]["daily_loss_max"] == 50
    assert view["pending"]["daily_loss_max"]["value"] == 80
    assert view["exclusion"]["kind"] == "cool_off"
    for method in (client.post, client.put, client.delete):
        response = await method(f"/players/{alice}/limits", headers=SUPPORT, json={})
        assert response.status_code == 405


async def test_the_rake_a_player_paid_over_a_period(
    make_client: Callable[..., Any], store: Store
) -> None:
    alice = (await store.create_account("alice", "hash", "player")).id
    await store.save_hand(
        HandRecord(
            hand_id="h1", table_id=TABLE_ID, game="NLHE 1/2", started_at_ms=1_000,
            ended_at_ms=2_000, pot_total=100, rake=5,
            players=(HandPlayer(alice, 0, 40, rake_paid=3), HandPlayer(alice + 1, 1, -45, 2)),
            phh="",
        )
    )  # fmt: skip
    response = await make_client().get(
        f"/players/{alice}/rake?from_ms=0&to_ms=10000", headers=SUPPORT
    )
    assert await response.get_json() == {
        "player_id": alice, "asset": "chips", "hands": 1, "raked_hands": 1, "rake_paid": 3,
    }  # fmt: skip
