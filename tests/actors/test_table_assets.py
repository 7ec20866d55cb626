"""A table's asset: a play-money table moves play money only (buy-ins, top-ups, cash-outs,
rake, its escrow), its hands are recorded with their asset and each player's share of the
rake, the lobby seats a player at a table of the asset she asked for, and a real-money seat
is refused to a cooling-off player before the table writes anything."""

from __future__ import annotations

import random
from pathlib import Path

import msgspec
import pytest
import trio

from actors.seat_matcher import quick_seat
from actors.table.admin import PauseTable
from actors.table.config import TableConfig
from actors.table.messages import (
    AddWatcher,
    FindSeat,
    JoinSeat,
    ListTablesQuery,
    SeatGranted,
    StandUp,
)
from protocol import game
from services.ledger import CHIPS, PLAY, RAKE, WalletError, escrow, house_account, wallet
from tests.actors.test_table_fakes import FUNDS, Bots, Game, nlhe, running_game, sqlite_url

WATCHER = 999


async def fund_play(session: Game, player_ids: list[int]) -> None:
    for player_id in player_ids:
        key = f"fund-play:{player_id}"
        await session.wallet.adjust(key, wallet(player_id, PLAY), FUNDS, "test play money")


async def test_a_play_money_table_moves_play_money_only_and_records_who_paid_the_rake(
    tmp_path: Path,
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=41) as session:
        config = nlhe("fun", asset="play", rake_bp=1_000, between_hands_ms=10)
        table = await session.open_table(config)
        players = [1, 2, 3]
        await fund_play(session, players)
        await session.fund([1])  # real money beside it, which the table must never touch
        stream = session.channel.stream()
        seats = await session.seat_all(table, players, buy_in=200)
        await table.ask(AddWatcher(player_id=WATCHER))
        bots = Bots(table, "fun", seats, random.Random(41), refill=200)
        ended = 0
        async with trio.open_nursery() as nursery:
            async for player_id, body in stream:
                if player_id == WATCHER and isinstance(body, game.HandStarted) and ended >= 11:
                    await table.ask(PauseTable())  # this hand is the last: no hand runs after
                elif player_id == WATCHER and isinstance(body, game.HandEnded):
                    ended += 1
                    if ended >= 12:
                        nursery.cancel_scope.cancel()
                        break
                elif bots.wants(body):
                    nursery.start_soon(bots.act_on, player_id, body)
        audit = await session.assert_conserved(table)  # reads the play-money escrow
        assert audit.escrow_balance > 0
        for player_id in players:
            await table.ask(StandUp(player_id=player_id))
        assert (await session.assert_conserved(table)).escrow_balance == 0

        assert (await session.wallet.balance(1, CHIPS)).balance == FUNDS  # untouched
        assert await session.store.ledger_account(escrow("table:fun", CHIPS)) is None
        assert await session.store.ledger_account(house_account(RAKE, CHIPS)) is None
        rake = await session.store.ledger_account(house_account(RAKE, PLAY))
        assert rake is not None and rake.balance > 0
        play = [(await session.wallet.balance(p, PLAY)).balance for p in players]
        assert sum(play) + rake.balance == len(players) * FUNDS

        summaries = await session.store.hands_by_table("fun", limit=50)
        assert summaries and {s.asset for s in summaries} == {"play"}
        assert sum(s.rake for s in summaries) == rake.balance
        for summary in summaries:
            assert sum(p.rake_paid for p in summary.players) == summary.rake
        paid = await session.store.rake_paid(1, 0, 2**62, asset=PLAY)
        assert paid.rake_paid > 0 and paid.rake_paid == sum(
            p.rake_paid for s in summaries for p in s.players if p.player_id == 1
        )


async def test_quick_seat_finds_a_table_of_the_asset_asked_for(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=42) as session:
        await session.open_table(nlhe("real", between_hands_ms=60_000))
        await session.open_table(nlhe("fun", asset="play", between_hands_ms=60_000))
        await session.fund([1])
        await fund_play(session, [2])
        lobby = session.runtime.registry.get("lobby")
        with trio.fail_after(5):
            while len(await lobby.ask(ListTablesQuery())) < 2:  # noqa: ASYNC110 (listings)
                await trio.sleep(0.01)
        play_only = await lobby.ask(ListTablesQuery(asset="play"))
        assert [t.table_id for t in play_only] == ["fun"] and play_only[0].asset == "play"
        find = FindSeat(player_id=2, variant="NT", big_blind=2, buy_in=100, asset="play")
        granted = await quick_seat(session.runtime.registry, find)
        assert isinstance(granted, SeatGranted) and granted.table_id == "fun"
        granted = await quick_seat(
            session.runtime.registry, FindSeat(player_id=1, variant="NT", big_blind=2, buy_in=100)
        )
        assert isinstance(granted, SeatGranted) and granted.table_id == "real"
        assert (await session.wallet.balance(2, PLAY)).balance == FUNDS - 100
        assert (await session.wallet.balance(2, CHIPS)).balance == 0


async def test_a_cooling_off_player_is_refused_a_real_money_seat_before_any_write(
    tmp_path: Path,
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=43) as session:
        real = await session.open_table(nlhe("real", between_hands_ms=60_000))
        fun = await session.open_table(nlhe("fun", asset="play", between_hands_ms=60_000))
        await session.fund([1])
        await fund_play(session, [1])
        await session.wallet.exclude(1, "cool_off", 1)
        with pytest.raises(WalletError) as refused:
            await real.ask(JoinSeat(player_id=1, buy_in=100))
        assert refused.value.code == "cooling_off"
        assert (await session.seats(real)).seats == ()
        assert (await session.wallet.balance(1)).balance == FUNDS
        granted = await fun.ask(JoinSeat(player_id=1, buy_in=100))  # play money: allowed
        assert isinstance(granted, SeatGranted)


def test_a_table_config_takes_only_a_known_asset() -> None:
    with pytest.raises(ValueError, match="asset"):
        nlhe("odd", asset="gold")
    stored = msgspec.msgpack.decode(msgspec.msgpack.encode(nlhe("old")))
    del stored["asset"]  # a table stored before assets
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(stored), type=TableConfig).asset == "chips"
