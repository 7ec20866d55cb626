"""A table id closed and opened again is a new table: nothing it does is answered as a replay
of what the closed one did under the same id (buy-ins, cash-outs, rake, hand histories), on
both backends, seen from real websockets."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from actors.table.admin import close_table, pause_table
from protocol import game
from services.ledger import RAKE, escrow, house_account
from tests.e2e.harness import Player, Server, check_down_one_hand, running_server, table_config
from tests.persistence.stores import BACKENDS, store_url

FUNDS = 1_000
BUY_IN = 200


async def _closed(server: Server, table_id: str) -> None:
    await close_table(server.registry, table_id)
    with trio.fail_after(5):
        while f"table:{table_id}" in server.registry:  # noqa: ASYNC110 (no event to wait on)
            await trio.sleep(0.01)


async def _leave(player: Player, table_id: str) -> None:
    reply = await player.client.request(game.LeaveTable(id=0, table_id=table_id))
    assert isinstance(reply, game.LeftTable) and reply.cashed_out == BUY_IN, reply


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_reopened_table_id_charges_and_pays_afresh(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    async with running_server(tmp_path, database_url) as server:
        x = await server.player("xavier", 1, funds=FUNDS, acting=False)
        y = await server.player("yvonne", 2, funds=FUNDS, acting=False)
        await server.open_table(table_config("again"))
        await x.join("again", BUY_IN)
        await _leave(x, "again")
        await _closed(server, "again")

        await server.open_table(table_config("again"))
        await pause_table(server.registry, "again")  # nobody plays: only buy-ins and leaves
        await x.join("again", BUY_IN)
        assert (await x.client.balance()).balance == FUNDS - BUY_IN  # charged again
        await y.join("again", BUY_IN)
        audit = await server.audit("again")
        assert audit.escrow_balance == 2 * BUY_IN
        await _leave(x, "again")
        await _leave(y, "again")
        await server.audit("again")

        assert (await x.client.balance()).balance == FUNDS
        assert (await y.client.balance()).balance == FUNDS
        account = await server.store.ledger_account(escrow("table:again"))
        assert account is not None and account.balance == 0
        assert (await server.wallet.audit()).consistent


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_reopened_table_id_takes_its_own_rake_and_keeps_its_own_histories(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url(backend, tmp_path, postgres_url)
    # Half of every pot; one hand per opening (closed well within the pause before the next).
    config = table_config("raked", rake_bp=5_000, between_hands_ms=1_000)
    async with running_server(tmp_path, database_url) as server:
        frames = server.recorder.stream()
        players = [
            await server.player(name, seed, funds=FUNDS, acting=False)
            for seed, name in enumerate(("rita", "sam"))
        ]
        rakes = []
        for _opening in range(2):
            await server.open_table(config)
            for player in players:
                await player.join("raked", BUY_IN)
            rakes.append(await check_down_one_hand(frames, players))
            await _closed(server, "raked")
        assert rakes[0] > 0 and rakes[1] > 0

        taken = await server.store.ledger_account(house_account(RAKE))
        assert taken is not None and taken.balance == sum(rakes)  # both hands' rake
        wallets = [(await p.client.balance()).balance for p in players]
        assert sum(wallets) + sum(rakes) == len(players) * FUNDS
        hands = await server.store.hands_by_table("raked", None, 10)
        assert len(hands) == 2 and len({h.hand_id for h in hands}) == 2  # both histories
        assert (await server.wallet.audit()).consistent
