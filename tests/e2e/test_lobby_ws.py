"""A lobby subscriber on a real websocket sees tables open, seats change and tables close."""

from __future__ import annotations

from pathlib import Path

from actors.table_admin import close_table
from protocol import game
from tests.e2e.harness import running_server, table_config, wait_for


async def test_lobby_subscriber_sees_seats_and_tables_change(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server:
        frames = server.recorder.stream()
        watcher = await server.player("lobbyist", 1, funds=0, acting=False)
        listed = await watcher.client.request(
            game.SubscribeLobby(id=0, filter=game.LobbyFilter(variant="NT", big_blind=4))
        )
        assert isinstance(listed, game.TableList) and listed.tables == ()

        await server.open_table(table_config("lob-1", small_blind=2, big_blind=4))
        _, opened = await wait_for(
            frames, lambda p, b: p == watcher.player_id and isinstance(b, game.LobbyTableChanged)
        )
        assert isinstance(opened, game.LobbyTableChanged)
        assert opened.listing.table_id == "lob-1" and opened.listing.seats_taken == 0

        alice = await server.player("alice", 2)
        await alice.join("lob-1", 400)
        _, seated = await wait_for(
            frames,
            lambda p, b: (
                p == watcher.player_id
                and isinstance(b, game.LobbyTableChanged)
                and b.listing.seats_taken == 1
            ),
        )
        assert isinstance(seated, game.LobbyTableChanged) and seated.listing.table_id == "lob-1"

        # A table of other stakes does not reach this subscriber's filter.
        await server.open_table(table_config("lob-other", small_blind=1, big_blind=2))
        await alice.client.request(game.LeaveTable(id=0, table_id="lob-1"))
        _, left = await wait_for(
            frames,
            lambda p, b: (
                p == watcher.player_id
                and isinstance(b, game.LobbyTableChanged)
                and b.listing.seats_taken == 0
            ),
        )
        assert isinstance(left, game.LobbyTableChanged) and left.listing.table_id == "lob-1"

        await close_table(server.registry, "lob-1")
        _, removed = await wait_for(
            frames, lambda p, b: p == watcher.player_id and isinstance(b, game.LobbyTableRemoved)
        )
        assert removed == game.LobbyTableRemoved(table_id="lob-1")
        changes = watcher.recorder.of(watcher.player_id, game.LobbyTableChanged)
        assert {c.listing.table_id for c in changes} == {"lob-1"}
        assert (await alice.client.balance()).balance == 100_000  # cashed out in full
