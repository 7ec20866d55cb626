"""The lobby: listings with filters, live updates to subscribers as seats and tables change,
and quick-seat, which opens a new table of the same game when every matching one is full."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.table_messages import (
    FindSeat,
    GameRefused,
    JoinSeat,
    ListTablesQuery,
    OpenTable,
    SeatGranted,
    StandUp,
    SubscribeListings,
    UnsubscribeListings,
)
from poker import Variant
from protocol import game
from tests.actors.test_table_fakes import nlhe, running_game, sqlite_url

SUBSCRIBER = 500


async def test_subscriber_sees_seats_and_tables_change(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=1) as session:
        lobby = session.runtime.registry.get("lobby")
        first = await session.open_table(nlhe("hold-1", between_hands_ms=60_000))
        listed = await lobby.ask(SubscribeListings(player_id=SUBSCRIBER, variant="NT"))
        assert [t.table_id for t in listed] == ["hold-1"]
        assert listed[0].seats_taken == 0 and listed[0].seats_total == 6

        await lobby.ask(OpenTable(config=nlhe("hold-2", big_blind=4, small_blind=2)))
        await lobby.ask(OpenTable(config=nlhe(
            "plo-1", variant=Variant.POT_LIMIT_OMAHA, between_hands_ms=60_000
        )))  # fmt: skip
        await session.fund([1, 2])
        await first.ask(JoinSeat(player_id=1, buy_in=100))
        await first.ask(JoinSeat(player_id=2, buy_in=150))
        await first.ask(StandUp(player_id=2))
        await lobby.ask(ListTablesQuery())  # every tell before it has been handled

        changes = session.channel.of(SUBSCRIBER, game.LobbyTableChanged)
        ids = {change.listing.table_id for change in changes}
        assert ids == {"hold-1", "hold-2"}  # the Omaha table does not match the filter
        taken = [c.listing.seats_taken for c in changes if c.listing.table_id == "hold-1"]
        assert taken[-3:] == [1, 2, 1]  # sat down, sat down, stood up

        everything = await lobby.ask(ListTablesQuery())
        assert [t.table_id for t in everything] == ["hold-1", "hold-2", "plo-1"]
        by_stakes = await lobby.ask(ListTablesQuery(variant="NT", big_blind=4))
        assert [t.table_id for t in by_stakes] == ["hold-2"]

        await lobby.ask(UnsubscribeListings(player_id=SUBSCRIBER))
        before = len(session.channel.bodies[SUBSCRIBER])
        await first.ask(StandUp(player_id=1))
        await lobby.ask(ListTablesQuery())
        assert len(session.channel.bodies[SUBSCRIBER]) == before


async def test_quick_seat_fills_tables_then_opens_a_new_one(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=2) as session:
        lobby = session.runtime.registry.get("lobby")
        await session.open_table(nlhe("hu", seats=2, between_hands_ms=60_000))
        await lobby.ask(SubscribeListings(player_id=SUBSCRIBER))
        await session.fund([1, 2, 3, 4])
        granted = [
            await lobby.ask(FindSeat(player_id=p, variant="NT", big_blind=2, buy_in=100))
            for p in (1, 2, 3)
        ]
        assert all(isinstance(g, SeatGranted) for g in granted)
        assert [g.table_id for g in granted] == ["hu", "hu", "hu-q1"]
        # The next player joins the table that has room rather than opening a third one.
        fourth = await lobby.ask(FindSeat(player_id=4, variant="NT", big_blind=2, buy_in=100))
        assert fourth.table_id == "hu-q1"
        listed = await lobby.ask(ListTablesQuery())
        assert [(t.table_id, t.seats_taken) for t in listed] == [("hu", 2), ("hu-q1", 2)]
        opened = [
            c for c in session.channel.of(SUBSCRIBER, game.LobbyTableChanged)
            if c.listing.table_id == "hu-q1"
        ]  # fmt: skip
        assert opened and opened[0].listing.seats_taken == 0
        table = session.runtime.registry.get("table:hu-q1")
        await session.assert_conserved(table)


async def test_quick_seat_again_returns_the_seat_already_taken_without_a_second_buy_in(
    tmp_path: Path,
) -> None:
    # A quick-seat whose answer reached the player too late (the gateway gave up waiting)
    # is retried: the player gets the same seat back and pays for it once.
    async with running_game(sqlite_url(tmp_path), seed=4) as session:
        lobby = session.runtime.registry.get("lobby")
        await session.open_table(nlhe("qs", between_hands_ms=60_000))
        await session.fund([1])
        find = FindSeat(player_id=1, variant="NT", big_blind=2, buy_in=100)
        first = await lobby.ask(find)
        again = await lobby.ask(find)
        assert isinstance(first, SeatGranted) and again == first
        assert (await session.wallet.balance(1)).balance == 1_000_000 - 100
        table = session.runtime.registry.get("table:qs")
        await session.assert_conserved(table)


async def test_quick_seat_refuses_unknown_games_and_bad_buy_ins(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=3) as session:
        lobby = session.runtime.registry.get("lobby")
        await session.open_table(nlhe("only", between_hands_ms=60_000))
        await session.fund([1])
        with pytest.raises(GameRefused) as refused:
            await lobby.ask(FindSeat(player_id=1, variant="PO", big_blind=2, buy_in=100))
        assert refused.value.code == "no_such_game"
        with pytest.raises(GameRefused) as refused:
            await lobby.ask(FindSeat(player_id=1, variant="NT", big_blind=2, buy_in=10_000))
        assert refused.value.code == "no_such_game"  # no table takes that buy-in
        assert (await session.wallet.balance(1)).balance == 1_000_000
