"""House bots: the server's own players sit down at a play-money table and deal hands, with
accounts nobody can log in to by password and names nobody can register."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from protocol import game
from protocol.client import ServerError, open_client
from protocol.errors import ErrorCode
from protocol.messages import Event
from server.house_bots import NO_PASSWORD, house_accounts
from services.wallet import Wallet
from tests.e2e.harness import PASSWORD, running_server

BOTS = 3


async def test_house_bots_sit_at_one_play_money_table_and_deal(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path, house_bots=BOTS) as server,
        open_client(server.listening.ws_url) as watcher,
    ):
        await watcher.register("watcher", PASSWORD)
        listed = await watcher.request(
            game.SubscribeLobby(id=0, filter=game.LobbyFilter(asset="play"))
        )
        assert isinstance(listed, game.TableList)
        taken = {t.table_id: t.seats_taken for t in listed.tables}
        with trio.fail_after(60):
            while sum(taken.values()) < BOTS:  # the lobby's pushes, until all are seated
                event = await watcher.next_event()
                if isinstance(event, Event) and isinstance(event.body, game.LobbyTableChanged):
                    taken[event.body.listing.table_id] = event.body.listing.seats_taken
        # Quick-seat fills the fullest table first: they sit together, and play.
        (table_id,) = [t for t, n in taken.items() if n]
        assert table_id.startswith("play-")
        await watcher.request(game.Watch(id=0, table_id=table_id))
        with trio.fail_after(60):
            while True:
                event = await watcher.next_event()
                if isinstance(event, Event) and isinstance(event.body, game.HandStarted):
                    assert len(event.body.seats) >= 2
                    break
        for index in range(1, BOTS + 1):
            account = await server.store.get_account_by_name(f"house-bot-{index:05d}")
            assert account is not None and account.password_hash == NO_PASSWORD
            # Real money untouched: only play chips.
            assert (await server.wallet.balance(account.id)).balance == 0
        async with open_client(server.listening.ws_url) as intruder:
            with pytest.raises(ServerError) as refused:
                await intruder.login("house-bot-00001", NO_PASSWORD)  # no password verifies
            assert refused.value.code == ErrorCode.BAD_CREDENTIALS


async def test_no_one_can_register_a_house_bots_name_and_a_taken_name_is_skipped(
    tmp_path: Path,
) -> None:
    async with running_server(tmp_path) as server:
        async with open_client(server.listening.ws_url) as client:
            with pytest.raises(ServerError) as refused:
                await client.register("house-bot-00002", PASSWORD)
            assert refused.value.code == ErrorCode.INVALID_NAME
        # An account of a bot's name made some other way (say, before the name was
        # reserved) is never played by the house.
        await server.store.create_account("house-bot-00001", "$argon2id$someone", "player")
        names = await house_accounts(server.store, Wallet(server.store), 2)
        assert names == ["house-bot-00002"]
