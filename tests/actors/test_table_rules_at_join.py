"""The table rules against abuse where a cash table seats a player (docs/integrity.md, "Table
rules"): a player back within the window buys in for at least the stack she left with (and
may bring it even over the table's maximum); two sessions of one address cannot sit at one
table, but for staff's exceptions. A refusal has the rule's own code and changes nothing."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.seed_tables import start_tables
from actors.table.admin import PauseTable, ResumeTable
from actors.table.config import TableRules
from actors.table.deps import TableDeps
from actors.table.messages import (
    GameRefused,
    JoinSeat,
    SeatGranted,
    StandUp,
    TopUpChips,
)
from persistence import open_store
from persistence.snapshot_writer import SnapshotWriter
from poker.integrity.table_rules import (
    AddressRule,
    Departure,
    RatholeBuyInTooSmall,
    RatholeRule,
    buy_in_range,
    verify_rathole_buy_in,
)
from protocol import game
from services.ledger import wallet
from services.wallet import Wallet
from tests.actors.test_table_fakes import (
    FUNDS,
    Bots,
    Game,
    RecordingChannel,
    drive,
    game_tree,
    nlhe,
    running_game,
    sqlite_url,
)

HOUR_MS = 3_600_000


class SteppedClock:
    def __init__(self) -> None:
        self.now_ms = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now_ms


def use(session: Game, *, clock: SteppedClock | None = None, rules: TableRules | None = None):
    """Swap the (frozen) deps' clock or rules: a test-only change."""
    if clock is not None:
        object.__setattr__(session.deps, "clock_ms", clock)
    if rules is not None:
        object.__setattr__(session.deps, "rules", rules)


async def refused(table: object, message: object) -> str:
    with pytest.raises(GameRefused) as caught:
        await table.ask(message)  # type: ignore[attr-defined]
    return caught.value.code


async def balance(session: Game, player_id: int) -> int:
    account = await session.store.ledger_account(wallet(player_id))
    return account.balance if account else 0


async def test_a_player_back_within_the_hour_brings_the_stack_she_left_with(
    tmp_path: Path,
) -> None:
    async with running_game(sqlite_url(tmp_path), seed=51) as session:
        clock = SteppedClock()
        use(session, clock=clock)
        table = await session.open_table(nlhe("rat", between_hands_ms=60_000))  # buy-in 80..400
        await session.fund([1])
        await table.ask(JoinSeat(player_id=1, buy_in=100))
        await table.ask(TopUpChips(player_id=1, amount=250))
        assert await table.ask(StandUp(player_id=1)) == 350
        clock.now_ms += 59 * 60_000
        before = await balance(session, 1)
        assert await refused(table, JoinSeat(player_id=1, buy_in=200)) == (
            "rathole_buy_in_too_small"
        )
        assert await balance(session, 1) == before and not (await session.seats(table)).seats
        granted = await table.ask(JoinSeat(player_id=1, buy_in=350))
        assert isinstance(granted, SeatGranted) and granted.stack == 350
        await session.assert_conserved(table)
        # After the window, the table's own range again.
        assert await table.ask(StandUp(player_id=1)) == 350
        clock.now_ms += HOUR_MS
        granted = await table.ask(JoinSeat(player_id=1, buy_in=80))
        assert isinstance(granted, SeatGranted) and granted.stack == 80
        await session.assert_conserved(table)


async def test_a_winner_may_bring_back_more_than_the_maximum_and_no_more(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=52) as session:
        use(session, clock=SteppedClock())
        table = await session.open_table(nlhe("rich", between_hands_ms=10))
        await session.fund([1, 2, 3])
        stream = session.channel.stream()
        seats = await session.seat_all(table, [1, 2, 3], buy_in=400)
        bots = Bots(table, "rich", seats, random.Random(52), refill=400)

        def hand_ended(player_id: int, body: game.GamePush) -> bool:
            return isinstance(body, game.HandEnded) and player_id == 1

        for _ in range(200):  # play, paused between hands, until a stack is over 400
            await table.ask(PauseTable())  # the running hand (if any) finishes
            if (await session.seats(table)).hand_number:
                await drive(session, bots, stream, hand_ended)
            view = await session.seats(table)
            rich = max(view.seats, key=lambda s: s.stack)
            if rich.stack > 400:
                break
            await table.ask(ResumeTable())
            await drive(session, bots, stream, hand_ended)
        left = await table.ask(StandUp(player_id=rich.player_id))
        assert isinstance(left, int) and left > 400
        assert await refused(table, JoinSeat(player_id=rich.player_id, buy_in=400)) == (
            "rathole_buy_in_too_small"
        )
        assert await refused(table, JoinSeat(player_id=rich.player_id, buy_in=left + 1)) == (
            "buy_in_out_of_range"
        )
        granted = await table.ask(JoinSeat(player_id=rich.player_id, buy_in=left))
        assert isinstance(granted, SeatGranted) and granted.stack == left
        await session.assert_conserved(table)


async def test_a_departure_is_remembered_across_a_process_restart(tmp_path: Path) -> None:
    async with open_store(sqlite_url(tmp_path)) as store:
        writer = SnapshotWriter(store, flush_interval_ms=1)
        clock = SteppedClock()
        deps = TableDeps(
            store=store, wallet=Wallet(store), channel=RecordingChannel(),
            rng=random.Random(53), snapshots=writer, clock_ms=clock,
        )  # fmt: skip
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.run)
            async with game_tree(deps) as session:
                table = await session.open_table(nlhe("kept", between_hands_ms=60_000))
                await session.fund([1])
                await table.ask(JoinSeat(player_id=1, buy_in=300))
                assert await table.ask(StandUp(player_id=1)) == 300
            await writer.flush()
            clock.now_ms += 30 * 60_000
            async with game_tree(deps) as session:
                tables = session.runtime.registry.supervisor("tables")
                assert await start_tables(tables, deps, seeds=()) == ["kept"]
                table = session.runtime.registry.get("table:kept")
                small = JoinSeat(player_id=1, buy_in=100)
                assert await refused(table, small) == "rathole_buy_in_too_small"
                await table.ask(JoinSeat(player_id=1, buy_in=300))
                await session.assert_conserved(table)
            nursery.cancel_scope.cancel()


@settings(max_examples=30, deadline=None)
@given(stack=st.integers(80, 400), back=st.integers(0, 2 * HOUR_MS), buy_in=st.integers(1, 500))
def test_the_join_range_is_the_rules_range(stack: int, back: int, buy_in: int) -> None:
    """What the table takes at a join is exactly the pure rule's range (fuzzed)."""
    left = Departure(1, stack, 0)
    allowed = buy_in_range(80, 400, left, back, RatholeRule())
    try:
        verify_rathole_buy_in(buy_in, 80, 400, left, back, RatholeRule())
        too_small = False
    except RatholeBuyInTooSmall:
        too_small = True
    taken = not too_small and allowed.minimum <= buy_in <= allowed.maximum
    assert taken == (buy_in >= (stack if back < HOUR_MS else 80) and buy_in <= 400)


async def test_a_second_session_from_one_address_cannot_sit_at_the_table(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=54) as session:
        table = await session.open_table(nlhe("addr", between_hands_ms=60_000))
        await session.fund([1, 2, 3, 4])
        await table.ask(JoinSeat(player_id=1, buy_in=100, address="203.0.113.7"))
        same = JoinSeat(player_id=2, buy_in=100, address="203.0.113.7")
        assert await refused(table, same) == "same_address_at_table"
        assert await balance(session, 2) == FUNDS  # nothing moved
        v6 = JoinSeat(player_id=3, buy_in=100, address="2001:db8:1:2::10")
        await table.ask(v6)
        neighbour = JoinSeat(player_id=4, buy_in=100, address="2001:db8:1:2::99")  # same /64
        assert await refused(table, neighbour) == "same_address_at_table"
        await table.ask(JoinSeat(player_id=4, buy_in=100, address="2001:db8:1:3::99"))
        await table.ask(JoinSeat(player_id=2, buy_in=100))  # address unknown: no conflict
        assert sorted(s.player_id for s in (await session.seats(table)).seats) == [1, 2, 3, 4]
        # Once the first one left, the other may take a seat from that address.
        await table.ask(StandUp(player_id=2))
        await table.ask(StandUp(player_id=1))
        await table.ask(JoinSeat(player_id=2, buy_in=100, address="203.0.113.7"))
        await session.assert_conserved(table)


async def test_staff_exceptions_and_the_switch(tmp_path: Path) -> None:
    async with running_game(sqlite_url(tmp_path), seed=55) as session:
        household = AddressRule(allowed_groups=(frozenset({1, 2}),))
        use(session, rules=TableRules(address=household))
        table = await session.open_table(nlhe("home", between_hands_ms=60_000))
        await session.fund([1, 2, 3])
        await table.ask(JoinSeat(player_id=1, buy_in=100, address="198.51.100.4"))
        await table.ask(JoinSeat(player_id=2, buy_in=100, address="198.51.100.4"))
        third = JoinSeat(player_id=3, buy_in=100, address="198.51.100.4")
        assert await refused(table, third) == "same_address_at_table"
        use(session, rules=TableRules(address=AddressRule(enabled=False)))
        await table.ask(third)
        assert len((await session.seats(table)).seats) == 3
