"""Responsible gaming over the whole server: a player who cools off or excludes herself is
refused a real-money seat with her own code (the ledger refuses the buy-in), and nothing
moves; the ledger audit for staff stays consistent."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol import game
from protocol.client import ServerError
from protocol.errors import ErrorCode
from services.ledger_audit import audit_ledger
from tests.e2e.harness import FUNDS, running_server, table_config


@pytest.mark.parametrize(
    ("kind", "days", "code"),
    [("cool_off", 1, ErrorCode.COOLING_OFF), ("self_exclusion", 183, ErrorCode.SELF_EXCLUDED)],
)
async def test_an_excluded_player_is_refused_a_real_money_seat_with_her_code(
    tmp_path: Path, kind: str, days: int, code: ErrorCode
) -> None:
    async with running_server(tmp_path) as server:
        await server.open_table(table_config("rg-1"))
        alice = await server.player("alice", 1, acting=False)
        await alice.client.self_exclude(kind, days)  # type: ignore[arg-type]
        for request in (
            game.JoinTable(id=0, table_id="rg-1", buy_in=200),
            game.QuickSeat(id=0, variant="NT", big_blind=2, buy_in=200),
        ):
            with pytest.raises(ServerError) as refused:
                await alice.client.request(request)
            assert refused.value.code == code
        assert (await server.wallet.balance(alice.player_id)).balance == FUNDS
        seats = await server.seats("rg-1")
        assert seats.seats == ()
        report = await audit_ledger(server.wallet)
        assert report.consistent, report.violations
