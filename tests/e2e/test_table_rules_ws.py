"""The table rules over real websockets (issue 26, docs/integrity.md "Table rules"): every
player here connects from 127.0.0.1, which the server's default exempts (loopback: local
tests, or a proxy missing from trusted_proxies); with that exception removed, a second player
from the address is refused at the table (``same_address_at_table``) and quick-seat takes
her to another table; a player back at the table within the hour must bring the stack she
left with (``rathole_buy_in_too_small``). A refusal leaves the wallet as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol import game
from protocol.client import ServerError
from tests.e2e.harness import FUNDS, running_server, table_config


async def test_one_address_per_table_over_websockets(tmp_path: Path) -> None:
    async with running_server(tmp_path, table_address_allowed_networks=()) as server:
        await server.open_table(table_config("one-addr", between_hands_ms=60_000))
        first, second = [await server.player(f"addr{i}", 300 + i) for i in range(2)]
        await first.join("one-addr", 200)
        with pytest.raises(ServerError) as refused:
            await second.client.request(game.JoinTable(id=0, table_id="one-addr", buy_in=200))
        assert refused.value.code == "same_address_at_table"
        assert (await second.client.balance()).balance == FUNDS  # nothing moved
        # Quick seat does not stop there: the table that refuses her is skipped.
        seated = await second.client.request(
            game.QuickSeat(id=0, variant="NT", big_blind=2, buy_in=200)
        )
        assert isinstance(seated, game.Seated) and seated.table_id != "one-addr"


async def test_loopback_is_exempt_by_default(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server:
        await server.open_table(table_config("home", between_hands_ms=60_000))
        for i in range(3):
            await (await server.player(f"home{i}", 310 + i)).join("home", 200)
        assert len((await server.seats("home")).seats) == 3


async def test_ratholing_is_refused_over_websockets(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server:
        await server.open_table(table_config("rat-ws", between_hands_ms=60_000))
        player = await server.player("rat", 320)
        await player.join("rat-ws", 100)
        await player.client.request(game.TopUp(id=0, table_id="rat-ws", amount=200))
        left = await player.client.request(game.LeaveTable(id=0, table_id="rat-ws"))
        assert isinstance(left, game.LeftTable) and left.cashed_out == 300
        with pytest.raises(ServerError) as refused:
            await player.client.request(game.JoinTable(id=0, table_id="rat-ws", buy_in=100))
        assert refused.value.code == "rathole_buy_in_too_small"
        assert "300" in refused.value.message
        assert (await player.client.balance()).balance == FUNDS
        assert (await player.join("rat-ws", 300)).stack == 300
