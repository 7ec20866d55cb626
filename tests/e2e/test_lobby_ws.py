"""A lobby subscriber on a real websocket sees tables open, seats change and tables close."""

from __future__ import annotations

from pathlib import Path

from actors.table.admin import close_table, table_detail
from poker import phh
from protocol import game
from tests.e2e.harness import check_down_one_hand, running_server, table_config, wait_for


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


async def test_listings_carry_the_bet_sizes_and_the_rake_the_hands_are_played_with(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path) as server:
        lobbyist = await server.player("lobbyist", 1, funds=0, acting=False)
        listed = await lobbyist.client.request(
            game.ListTables(id=0, filter=game.LobbyFilter(variant="FT", big_blind=2))
        )
        assert isinstance(listed, game.TableList)
        (limit,) = [t for t in listed.tables if t.name == "Limit Hold'em 2/4"]
        assert (limit.small_blind, limit.big_blind) == (1, 2)
        assert (limit.small_bet, limit.big_bet) == (2, 4)  # what "2/4" means
        assert (limit.rake_bp, limit.rake_cap, limit.rake_no_flop_no_drop) == (500, 6, True)
        detail = await table_detail(server.registry, limit.table_id)
        assert detail.config.rake_cap == limit.rake_cap  # the admin API says the same

        # A raked table opened with the default cap: its hands are raked as it is listed.
        frames = server.recorder.stream()
        await server.open_table(table_config("raked", rake_bp=5_000))
        players = [await server.player(f"raker{i}", 10 + i, acting=False) for i in range(2)]
        for player in players:
            await player.join("raked", 200)
        listed = await lobbyist.client.request(game.ListTables(id=0))
        assert isinstance(listed, game.TableList)
        (raked,) = [t for t in listed.tables if t.table_id == "raked"]
        assert raked.small_bet is None and raked.big_bet is None  # no limit
        assert (raked.rake_bp, raked.rake_cap) == (5_000, 6)
        assert await check_down_one_hand(frames, players) > 0
        await server.audit("raked")  # settles: the history is stored
        (hand,) = await server.store.hands_by_table("raked", None, 10)
        record = await server.store.get_hand(hand.hand_id)
        assert record is not None
        extra = dict(phh.loads(record.phh).extra)
        assert (extra["_rake_bp"], extra["_rake_cap"]) == (raked.rake_bp, raked.rake_cap)
        assert extra["_no_flop_no_drop"] == raked.rake_no_flop_no_drop
