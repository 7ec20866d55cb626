"""Seating, breaking and balancing (TDA rules 7, 8A, 10, 11; WSOP tournament rules 35, 65-67)."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from poker.tournament import (
    Floor,
    Move,
    MoveReason,
    Table,
    initial_seating,
    next_big_blind,
    plan_balancing,
    plan_hand,
    tables_needed,
    worst_seat,
)

STACK = 1_000


def stacks_for(*tables: Table) -> dict[int, int]:
    return {entry: STACK for table in tables for entry in table.seats.values()}


def table(
    table_id: int, seats: list[int], positions: tuple[int, int, int] | None, base: int
) -> Table:
    return Table(
        table_id=table_id,
        seat_count=9,
        seats={seat: base + seat for seat in seats},
        positions=positions,
    )


def test_tables_needed_and_filled_evenly_with_random_seats_tda_7() -> None:
    assert tables_needed(19, 9) == 3
    tables = initial_seating(list(range(1, 20)), 9, random.Random(7))
    assert sorted(t.count for t in tables) == [6, 6, 7]
    assert sorted(e for t in tables for e in t.seats.values()) == list(range(1, 20))
    other = initial_seating(list(range(1, 20)), 9, random.Random(8))
    assert [t.seats for t in tables] != [t.seats for t in other]  # the draw is the RNG's


def test_player_to_be_big_blind_next_moves_to_the_worst_position_tda_11a() -> None:
    full = table(1, list(range(9)), (0, 1, 2), base=100)  # next big blind: seat 3
    short = table(2, [0, 1, 2, 3, 5, 7, 8], (1, 2, 3), base=200)  # 4 and 6 empty
    stacks = stacks_for(full, short)
    assert next_big_blind(full, stacks) == 103
    moves = plan_balancing([full, short], stacks, random.Random(1))
    assert moves == [Move(103, 1, 3, 2, 4, MoveReason.BALANCE)]
    # Seat 4 is the first seat after the last big blind: a single big blind next hand.
    short.seats[4] = 103
    short.newcomers.append(103)
    plan = plan_hand(short, {**stacks, 103: STACK})
    assert plan is not None and plan.big_blind_poster == 4


def test_worst_position_is_never_the_small_blind_tda_11a() -> None:
    # The last big blind (seat 3) busted: that seat is the next small blind, never chosen.
    short = table(2, [0, 1, 2, 4, 6, 7, 8], (1, 2, 3), base=200)
    assert worst_seat(short) == 5


def test_a_table_three_or_more_short_waits_until_balanced_tda_11d() -> None:
    tables = [table(1, list(range(9)), None, 100), table(2, [0, 1, 2, 3, 4, 5], None, 200)]
    floor = Floor(tables, 9, [1, 2])
    assert floor.must_wait(2) and not floor.must_wait(1)
    floor.unseat(1, 100)
    assert not floor.must_wait(2)  # 8 and 6: two short plays on


def test_tables_break_in_the_predetermined_order_when_players_fit_one_fewer() -> None:
    tables = [table(t, [0, 1, 2, 3, 4, 5], None, 100 * t) for t in (1, 2, 3)]
    floor = Floor(tables, 9, [3, 2, 1])  # the last table breaks first (WSOP rule 35)
    assert floor.tables_to_break() == [3]  # 18 players fit in two tables
    assert floor.tables_to_break() == []


def test_a_broken_tables_players_draw_seats_at_random_keeping_balance_tda_10b() -> None:
    tables = [table(t, [0, 1, 2, 3, 4, 5], (0, 1, 2), 100 * t) for t in (1, 2, 3)]
    floor = Floor(tables, 9, [3, 2, 1])
    moves = floor.plan_break(3, random.Random(3))
    assert {m.entry for m in moves} == {300, 301, 302, 303, 304, 305}
    assert all(m.reason is MoveReason.BREAK for m in moves)
    assert sorted(t.count for t in floor.tables.values()) == [9, 9]
    again = Floor(
        [table(t, [0, 1, 2, 3, 4, 5], (0, 1, 2), 100 * t) for t in (1, 2, 3)], 9, [3, 2, 1]
    )
    assert again.plan_break(3, random.Random(4)) != moves


def test_newcomer_between_small_blind_and_button_is_not_dealt_in_tda_10a() -> None:
    # Last hand: button 0, small blind 2, big blind 4 (seats 1 and 3 empty). Next hand the
    # button is 2 and the small blind 4: seat 3 lies between them, seat 1 does not.
    t = table(1, [0, 2, 4, 5, 6], (0, 2, 4), base=100)
    t.seats[3] = 103
    t.seats[1] = 101
    t.newcomers += [103, 101]
    plan = plan_hand(t, stacks_for(t))
    assert plan is not None
    assert 3 not in plan.dealt_in
    assert 1 in plan.dealt_in
    assert plan.positions.button == 2 and plan.positions.small_blind == 4


def test_the_same_player_is_not_moved_twice_in_a_row_when_another_choice_exists() -> None:
    a = table(1, list(range(9)), (0, 1, 2), base=100)
    b = table(2, list(range(9)), (0, 1, 2), base=200)
    short = table(3, [0, 1, 2, 3, 4, 5, 6], (0, 1, 2), base=300)
    a.moved_in.append(103)  # a's next big blind just arrived by balancing
    floor = Floor([a, b, short], 9, [1, 2, 3])
    (move,) = floor.plan_balancing([1, 2], stacks_for(a, b, short), random.Random(1))
    assert move.entry == 203 and move.from_table == 2
    # With a as the only source, the next in big-blind order moves instead.
    a2 = table(1, list(range(9)), (0, 1, 2), base=100)
    a2.moved_in.append(103)
    short2 = table(3, [0, 1, 2, 3, 4, 5, 6], (0, 1, 2), base=300)
    floor2 = Floor([a2, short2], 9, [1, 3])
    (move2,) = floor2.plan_balancing([1], stacks_for(a2, short2), random.Random(1))
    assert move2.entry == 104


def test_tables_in_a_hand_are_never_a_source() -> None:
    full = table(1, list(range(9)), (0, 1, 2), base=100)
    full.in_hand = True
    short = table(2, [0, 1, 2, 3, 4, 5], (0, 1, 2), base=200)
    assert plan_balancing([full, short], stacks_for(full, short), random.Random(1)) == []


def test_planning_does_not_change_the_tables_given() -> None:
    full = table(1, list(range(9)), (0, 1, 2), base=100)
    short = table(2, [0, 1, 2, 3, 4, 5], (0, 1, 2), base=200)
    plan_balancing([full, short], stacks_for(full, short), random.Random(1))
    assert full.count == 9 and short.count == 6


@st.composite
def floors(draw: st.DrawFn) -> list[Table]:
    count = draw(st.integers(2, 12))
    tables = []
    for t in range(1, count + 1):
        seats = draw(st.sets(st.integers(0, 8), min_size=2, max_size=9))
        positions = None
        if draw(st.booleans()):
            seat_list = sorted(seats)
            b = draw(st.sampled_from(seat_list))
            positions = (b, (b + 1) % 9, (b + 2) % 9)
        tables.append(table(t, sorted(seats), positions, base=100 * t))
    return tables


@settings(deadline=None)
@given(floors(), st.integers(0, 2**32))
def test_after_balancing_every_table_is_within_one_player(tables: list[Table], seed: int) -> None:
    stacks = stacks_for(*tables)
    before = Counter(e for t in tables for e in t.seats.values())
    floor = Floor(tables, 9, [t.table_id for t in tables])
    moves = floor.plan_balancing(list(floor.tables), stacks, random.Random(seed))
    assert floor.spread() <= 1
    after = Counter(e for t in floor.tables.values() for e in t.seats.values())
    assert before == after  # nobody lost or seated twice
    assert all(m.from_table != m.to_table for m in moves)


@settings(deadline=None)
@given(floors(), st.integers(0, 2**32))
def test_breaking_then_balancing_keeps_everyone_seated_once(tables: list[Table], seed: int) -> None:
    rng = random.Random(seed)
    stacks = stacks_for(*tables)
    floor = Floor(tables, 9, [t.table_id for t in tables])
    for table_id in floor.tables_to_break():
        floor.plan_break(table_id, rng)
    floor.plan_balancing(list(floor.tables), stacks, rng)
    seated = [e for t in floor.tables.values() for e in t.seats.values()]
    assert sorted(seated) == sorted(stacks)
    assert floor.open_tables() == tables_needed(len(seated), 9)
    assert floor.spread() <= 1


def test_a_refused_move_puts_the_player_back_in_her_seat_at_the_source() -> None:
    a = table(1, list(range(9)), (0, 1, 2), base=100)
    short = table(2, [0, 1, 2, 3, 4, 5, 6], (0, 1, 2), base=200)
    floor = Floor([a, short], 9, [1, 2])
    (move,) = floor.plan_balancing([1], stacks_for(a, short), random.Random(1))
    assert floor.undo(move, random.Random(2)) == (1, move.from_seat)
    assert floor.tables[1].seats[move.from_seat] == move.entry
    assert floor.tables[2].count == 7 and move.entry not in floor.tables[2].moved_in
    assert move.entry not in floor.tables[1].newcomers  # back, not new: dealt in at once
    assert floor.spread() == 2  # balanced again after a later hand


def test_a_refused_move_whose_seat_was_given_since_takes_another_seat_there() -> None:
    a = table(1, [0, 1, 2, 3, 4, 5, 6, 7], (0, 1, 2), base=100)
    b = table(2, [0, 1, 2, 3, 4, 5], (0, 1, 2), base=200)
    floor = Floor([a, b], 9, [1, 2])
    move = Move(107, 1, 7, 2, 6, MoveReason.DIRECTOR)
    floor.apply(move)
    floor.seat(1, 7, 999)  # the seat she left, taken in the same step
    table_id, seat = floor.undo(move, random.Random(3))
    assert table_id == 1 and seat == 8 and floor.tables[1].seats[8] == 107


def test_a_source_that_kept_the_player_gives_her_seat_back_and_its_taker_another() -> None:
    a = table(1, [0, 1, 2, 3, 4, 5, 6, 7], (0, 1, 2), base=100)
    b = table(2, [0, 1, 2, 3, 4, 5], (0, 1, 2), base=200)
    floor = Floor([a, b], 9, [1, 2])
    move = Move(107, 1, 7, 2, 6, MoveReason.DIRECTOR)
    floor.apply(move)
    floor.apply(Move(205, 2, 5, 1, 7, MoveReason.BALANCE))  # into her seat, same step
    assert floor.undo(move, random.Random(3), kept=True) == (1, 7)
    assert floor.tables[1].seats[7] == 107 and floor.tables[1].seats[8] == 205
    assert floor.tables[2].count == 5 and floor.tables[1].count == 9


def test_a_full_source_that_kept_the_player_seats_its_taker_at_the_shortest_other_table() -> None:
    """Her table kept her and is full: the entry moved into her seat in the same step sits
    at the shortest other table (found by hypothesis: the draw used to find no seat)."""
    a = table(1, [0, 1, 2, 3, 4, 5, 6, 7, 8], (0, 1, 2), base=100)
    b = table(2, [0, 1, 2, 3, 4, 5, 6], (0, 1, 2), base=200)
    c = table(3, [0, 1, 2, 3, 4], (0, 1, 2), base=300)
    everyone = sorted(stacks_for(a, b, c))
    floor = Floor([a, b, c], 9, [1, 2, 3])
    move = Move(107, 1, 7, 2, 7, MoveReason.BALANCE)
    floor.apply(move)
    floor.apply(Move(304, 3, 4, 1, 7, MoveReason.BALANCE))  # into her seat, same step
    assert floor.undo(move, random.Random(3), kept=True) == (1, 7)
    assert floor.tables[1].seats[7] == 107 and floor.tables[1].count == 9
    ((taker, at_table, at_seat),) = floor.displaced
    assert taker == 304 and at_table == 3 and floor.tables[3].seats[at_seat] == 304
    assert sorted(e for t in floor.tables.values() for e in t.seats.values()) == everyone


def test_a_refused_move_off_a_broken_table_draws_a_seat_at_another_short_table() -> None:
    tables = [table(t, [0, 1, 2, 3, 4], (0, 1, 2), base=100 * t) for t in (1, 2, 3)]
    tables.append(table(4, [0, 1, 2, 3], (0, 1, 2), base=400))
    everyone = sorted(stacks_for(*tables))
    floor = Floor(tables, 9, [4, 3, 2, 1])
    refused = floor.plan_break(4, random.Random(4))[0]
    assert 4 not in floor.tables
    others = {t.table_id: t.count for t in floor.tables.values() if t.table_id != refused.to_table}
    table_id, seat = floor.undo(refused, random.Random(5))
    assert table_id != refused.to_table and floor.tables[table_id].seats[seat] == refused.entry
    assert others[table_id] == min(others.values())  # a table with the fewest (TDA 10B)
    assert refused.entry in floor.tables[table_id].newcomers  # new there
    assert sorted(e for t in floor.tables.values() for e in t.seats.values()) == everyone


def test_the_source_among_equally_full_tables_is_first_in_the_breaking_order_wsop_67() -> None:
    a = table(1, list(range(9)), (0, 1, 2), base=100)
    b = table(2, list(range(9)), (0, 1, 2), base=200)
    short = table(3, [0, 1, 2, 3, 4, 5, 6], (0, 1, 2), base=300)
    floor = Floor([a, b, short], 9, [2, 1, 3])  # table 2 breaks first
    (move,) = floor.plan_balancing([1, 2], stacks_for(a, b, short), random.Random(1))
    assert move.from_table == 2


def test_heads_up_newcomers_are_both_dealt_in() -> None:
    t = table(1, [0, 6], None, base=100)
    t.newcomers += [100, 106]
    plan = plan_hand(t, stacks_for(t))
    assert plan is not None and sorted(plan.dealt_in) == [0, 6]


def test_newcomers_between_the_blinds_are_dealt_in_when_no_hand_could_go_without_them() -> None:
    # As in the TDA 10A test, seat 3 lies between the button and the small blind; here the
    # only other player is at seat 4: without the newcomer no hand could be dealt.
    t = table(1, [4], (0, 2, 4), base=100)
    t.seats[3] = 103
    t.newcomers.append(103)
    plan = plan_hand(t, stacks_for(t))
    assert plan is not None and sorted(plan.dealt_in) == [3, 4]


def test_a_late_registrant_keeps_a_table_due_to_break_when_the_others_would_be_full() -> None:
    # 18 players on three 9-seat tables of 6: table 3 is due to break (it is in a hand).
    tables = [table(t, [0, 1, 2, 3, 4, 5], (0, 1, 2), 100 * t) for t in (1, 2, 3)]
    tables[2].in_hand = True
    floor = Floor(tables, 9, [3, 2, 1])
    assert floor.tables_to_break() == [3]
    # A 19th player would leave table 3's players no seat: table 3 stays.
    floor.seat_newcomer(999, random.Random(1))
    assert not floor.tables[3].breaking and floor.open_tables() == 3
    assert floor.tables_to_break() == []
