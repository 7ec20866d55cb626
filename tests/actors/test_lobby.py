"""The lobby: listings with filters, live updates to subscribers as seats and tables change,
and quick-seat, which opens a new table of the same game when every matching one is full."""

from __future__ import annotations

import contextvars
import gc
import random
import weakref
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from actors import lobby as lobby_module
from actors import seat_matcher
from actors.addresses import TableAddress
from actors.lobby import ListAllTables
from actors.seat_matcher import quick_seat
from actors.table.admin import TableToOpen, open_table
from actors.table.deps import TableDeps
from actors.table.messages import (
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
from persistence import open_store
from poker import Variant
from protocol import game
from services.wallet import Wallet
from tests.actors.test_table_fakes import (
    RecordingChannel,
    game_tree,
    nlhe,
    running_game,
    sqlite_url,
)

SUBSCRIBER = 500


async def test_subscriber_sees_seats_and_tables_change(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=1) as session:
        lobby = session.runtime.registry.get("lobby")
        first = await session.open_table(nlhe("hold-1", between_hands_ms=60_000))
        listed = await lobby.ask(SubscribeListings(player_id=SUBSCRIBER, variant="NT"))
        assert [t.table_id for t in listed] == ["hold-1"]
        assert listed[0].seats_taken == 0 and listed[0].seats_total == 6

        registry = session.runtime.registry
        await open_table(registry, nlhe("hold-2", big_blind=4, small_blind=2))
        await open_table(registry, nlhe(
            "plo-1", variant=Variant.POT_LIMIT_OMAHA, between_hands_ms=60_000
        ))  # fmt: skip
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
            await quick_seat(
                session.runtime.registry,
                FindSeat(player_id=p, variant="NT", big_blind=2, buy_in=100),
            )
            for p in (1, 2, 3)
        ]
        assert all(isinstance(g, SeatGranted) for g in granted)
        assert [g.table_id for g in granted] == ["hu", "hu", "hu-q1"]
        # The next player joins the table that has room rather than opening a third one.
        fourth = await quick_seat(
            session.runtime.registry, FindSeat(player_id=4, variant="NT", big_blind=2, buy_in=100)
        )
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
        await session.open_table(nlhe("qs", between_hands_ms=60_000))
        await session.fund([1])
        find = FindSeat(player_id=1, variant="NT", big_blind=2, buy_in=100)
        first = await quick_seat(session.runtime.registry, find)
        again = await quick_seat(session.runtime.registry, find)
        assert isinstance(first, SeatGranted) and again == first
        assert (await session.wallet.balance(1)).balance == 1_000_000 - 100
        table = session.runtime.registry.get("table:qs")
        await session.assert_conserved(table)


async def test_quick_seat_refuses_unknown_games_and_bad_buy_ins(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=3) as session:
        await session.open_table(nlhe("only", between_hands_ms=60_000))
        await session.fund([1])
        with pytest.raises(GameRefused) as refused:
            await quick_seat(
                session.runtime.registry,
                FindSeat(player_id=1, variant="PO", big_blind=2, buy_in=100),
            )
        assert refused.value.code == "no_such_game"
        with pytest.raises(GameRefused) as refused:
            await quick_seat(
                session.runtime.registry,
                FindSeat(player_id=1, variant="NT", big_blind=2, buy_in=10_000),
            )
        assert refused.value.code == "no_such_game"  # no table takes that buy-in
        assert (await session.wallet.balance(1)).balance == 1_000_000


async def test_seat_matching_answers_while_a_buy_in_waits_on_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The buy-in's ledger transfer happens in the table's turn and the requester's wait: the
    # matcher and the lobby answer others meanwhile (they used to wait on each join in turn).
    async with running_game(sqlite_url(tmp_path), seed=5) as session:
        await session.open_table(nlhe("slow", between_hands_ms=60_000))
        await session.open_table(nlhe("other", big_blind=4, small_blind=2))
        await session.fund([1, 2])
        registry = session.runtime.registry
        reached, release = trio.Event(), trio.Event()
        real_buy_in = session.wallet.buy_in

        async def gated_buy_in(*args: Any, **kwargs: Any) -> Any:
            if args[1] == 1:  # player 1's buy-in hangs until released
                reached.set()
                await release.wait()
            return await real_buy_in(*args, **kwargs)

        monkeypatch.setattr(session.wallet, "buy_in", gated_buy_in)
        async with trio.open_nursery() as nursery:
            first = FindSeat(player_id=1, variant="NT", big_blind=2, buy_in=100)
            nursery.start_soon(quick_seat, registry, first)
            await reached.wait()
            with trio.fail_after(1):
                second = FindSeat(player_id=2, variant="NT", big_blind=4, buy_in=200)
                granted = await quick_seat(registry, second)
                listed = await registry.get("lobby").ask(ListTablesQuery())
            assert granted.table_id == "other" and len(listed) == 2
            release.set()
        assert [s.player_id for s in (await session.seats(registry.get("table:slow"))).seats] == [1]


async def test_a_full_seat_matcher_answers_server_busy_and_moves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=6) as session:
        await session.open_table(nlhe("busy", between_hands_ms=60_000))
        await session.fund([1])
        monkeypatch.setattr(seat_matcher, "SEAT_REQUESTS_QUEUED_MAX", 0)
        find = FindSeat(player_id=1, variant="NT", big_blind=2, buy_in=100)
        with pytest.raises(GameRefused) as refused:
            await quick_seat(session.runtime.registry, find)
        assert refused.value.code == "server_busy" and refused.value.retry_after_ms == 1_000
        assert (await session.wallet.balance(1)).balance == 1_000_000


async def test_tables_past_the_process_bound_are_refused_and_a_players_listing_is_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bound on tables one process runs (TABLES_OPEN_MAX, 2,000) is apart from the cut of
    # a player's listing (TABLES_LISTED_MAX, 500); here both are made small.
    monkeypatch.setattr(lobby_module, "TABLES_OPEN_MAX", 3)
    monkeypatch.setattr(seat_matcher, "TABLES_OPEN_MAX", 3)
    monkeypatch.setattr(game, "TABLES_LISTED_MAX", 2)
    async with running_game(sqlite_url(tmp_path), seed=7) as session:
        lobby = session.runtime.registry.get("lobby")
        for n in (1, 2, 3):
            await open_table(
                session.runtime.registry, nlhe(f"hu{n}", seats=2, between_hands_ms=60_000)
            )
        assert len(await lobby.ask(ListTablesQuery())) == 2  # a player's: cut
        assert len(await lobby.ask(ListAllTables())) == 3  # staff's: every table
        with pytest.raises(GameRefused) as refused:
            await open_table(session.runtime.registry, nlhe("hu4", seats=2))
        assert refused.value.code == "too_many_tables"
        # Quick seat fills the three tables, then may not open a fourth.
        await session.fund(range(1, 8))
        for player_id in range(1, 7):
            find = FindSeat(player_id=player_id, variant="NT", big_blind=2, buy_in=100)
            assert isinstance(await quick_seat(session.runtime.registry, find), SeatGranted)
        with pytest.raises(GameRefused) as refused:
            find = FindSeat(player_id=7, variant="NT", big_blind=2, buy_in=100)
            await quick_seat(session.runtime.registry, find)
        assert refused.value.code == "too_many_tables"
        assert (await session.wallet.balance(7)).balance == 1_000_000
        assert "table:hu4" not in session.runtime.registry
        assert len(await lobby.ask(ListAllTables())) == 3


async def test_a_table_that_ends_without_a_word_leaves_the_listings(tmp_path: Path) -> None:
    # The lobby monitors every table it lists: a table stopped by its supervisor (no
    # TableClosed told) is dropped from the listings and subscribers are told.
    async with running_game(sqlite_url(tmp_path), seed=7) as session:
        lobby = session.runtime.registry.get("lobby")
        await session.open_table(nlhe("quiet", between_hands_ms=60_000))
        listed = await lobby.ask(SubscribeListings(player_id=SUBSCRIBER))
        while not listed:
            await trio.sleep(0.01)
            listed = await lobby.ask(ListTablesQuery())
        await session.runtime.registry.supervisor("tables").stop_child("table:quiet")
        await trio.testing.wait_all_tasks_blocked()
        assert await lobby.ask(ListTablesQuery()) == ()
        removed = session.channel.of(SUBSCRIBER, game.LobbyTableRemoved)
        assert removed == [game.LobbyTableRemoved(table_id="quiet")]


async def test_an_operators_table_opens_outside_the_lobbys_turn_under_a_reservation(
    tmp_path: Path,
) -> None:
    """OpenTable reserves the id and hands the opening back: while the asker opens the
    table (a lease, an epoch, a durable write), the lobby answers others; the id is refused
    to a second asker until the first is done; a reservation nobody finished lapses."""
    now_ms = [1_000_000]
    async with open_store(sqlite_url(tmp_path)) as store:
        deps = TableDeps(
            store=store,
            wallet=Wallet(store),
            channel=RecordingChannel(),
            rng=random.Random(3),
            clock_ms=lambda: now_ms[0],
        )
        async with game_tree(deps) as session:
            lobby = session.runtime.registry.get("lobby")
            reserved = await lobby.ask(OpenTable(config=nlhe("op-1", between_hands_ms=60_000)))
            assert isinstance(reserved, TableToOpen) and reserved.table_id == "op-1"
            assert session.runtime.registry.resolve(TableAddress("op-1")) is None  # not yet
            assert await lobby.ask(ListAllTables()) == ()  # the lobby answers meanwhile
            with pytest.raises(GameRefused) as refused:
                await lobby.ask(OpenTable(config=nlhe("op-1")))
            assert refused.value.code == "table_exists"
            await reserved.open()
            await lobby.ask(ListAllTables())  # OpeningEnded and the listing are in
            assert [t.table_id for t in await lobby.ask(ListAllTables())] == ["op-1"]
            with pytest.raises(GameRefused) as refused:
                await open_table(session.runtime.registry, nlhe("op-1"))
            assert refused.value.code == "table_exists"  # listed now

            # An asker that reserved and vanished: the id is free once the reservation lapses.
            await lobby.ask(OpenTable(config=nlhe("op-2")))
            with pytest.raises(GameRefused):
                await lobby.ask(OpenTable(config=nlhe("op-2")))
            now_ms[0] += lobby_module.OPENING_MS_MAX
            assert await open_table(session.runtime.registry, nlhe("op-2")) == "op-2"


async def test_a_table_opened_from_a_request_keeps_nothing_of_the_requests_context(
    tmp_path: Path,
) -> None:
    """open_table starts the table from an empty context: an admin or API request's
    context (the request itself, its log fields) is not copied into the table's tasks,
    where it lived as long as the table (16 KB an idle table, and the request's id in the
    table's logs)."""
    request_var: contextvars.ContextVar[object] = contextvars.ContextVar("request")

    class Request:
        pass

    request = Request()
    gone = weakref.ref(request)
    async with open_store(sqlite_url(tmp_path)) as store:
        deps = TableDeps(
            store=store, wallet=Wallet(store), channel=RecordingChannel(), rng=random.Random(3)
        )
        async with game_tree(deps) as session:
            token = request_var.set(request)
            assert await open_table(session.runtime.registry, nlhe("op-1")) == "op-1"
            request_var.reset(token)
            del request
            gc.collect()
            assert gone() is None  # no task of the table holds the request
            assert session.runtime.registry.resolve(TableAddress("op-1")) is not None
