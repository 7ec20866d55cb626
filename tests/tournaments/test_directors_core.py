"""Directors' operations on the rules core (docs/tournaments.md, "Directors"): move an entry,
break a table, remove an entry with or without a refund. Each keeps the invariants (stacks
sum to the chips issued, one seat per entry), moves stacks exactly, and a refusal changes
nothing. Pure: no trio, seeded RNGs."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poker.tournament import (
    BountyKind,
    DealHand,
    EntryStatus,
    Tournament,
    TournamentConfig,
    TournamentRefused,
)
from poker.tournament import effects as fx
from tests.poker.tournament.test_tournament import bust, deal, end, started, structure


def _table_of(t: Tournament, entry: int) -> int:
    return t.entry(entry).table


def _chips(t: Tournament) -> int:
    return sum(e.stack for e in t.state.entries if e.status in _ALIVE)


_ALIVE = (EntryStatus.PLAYING, EntryStatus.AWAITING_REBUY)


def test_a_director_moves_an_entry_with_its_stack_exactly() -> None:
    rng = random.Random(1)
    t = started(8, rng)  # two tables of four (6-max)
    assert sorted(t.floor.tables) == [1, 2]
    mover = next(iter(t.table(1).seats.values()))
    stack, chips = t.entry(mover).stack, _chips(t)
    effects = t.move_entry(mover, 2, rng)
    first = effects[0]
    assert isinstance(first, fx.PlayerMoved)
    assert (first.entry, first.from_table, first.to_table, first.stack) == (mover, 1, 2, stack)
    assert str(first.reason) == "director"
    assert t.entry(mover).stack == stack and _chips(t) == chips
    t.check_invariants()
    assert t.floor.spread() <= 1  # balancing follows a director's move as any change
    assert t.entry(mover).table == 2  # ... moving someone else: the director's choice stands


@pytest.mark.parametrize("case", ["in_hand", "same_table", "full", "unknown", "not_playing"])
def test_a_refused_move_changes_nothing(case: str) -> None:
    rng = random.Random(2)
    t = started(12, rng)  # two full tables of six
    mover = next(iter(t.table(1).seats.values()))
    to_table = 2
    if case == "in_hand":
        deal(t, 1)
        t.table(2).seats.pop(next(iter(t.table(2).seats)))  # room at 2 (not the reason)
    elif case == "same_table":
        to_table = 1
    elif case == "unknown":
        to_table = 9
    elif case == "not_playing":
        bust(t, 1, [mover], rng)
    before = t.snapshot()
    with pytest.raises(TournamentRefused) as refused:
        t.move_entry(mover, to_table, rng)
    assert refused.value.code == "table_refused"
    assert t.snapshot() == before


def test_a_director_breaks_a_table_its_players_redrawn_with_their_stacks() -> None:
    rng = random.Random(3)
    t = started(9, rng, seats_per_table=4)  # three tables of three
    # A bust at table 1 while table 2 is in a hand: eight fit in two tables, and the core
    # marks the next table of its order to break; it waits for its hand if in one.
    first, *rest = t.floor.break_order
    hand = deal(t, first)
    bust(t, rest[0], None, rng)
    assert t.state.alive == 8 and t.table(first).breaking  # waits for its hand
    target = rest[1]  # the director breaks another table instead
    players = {e: t.entry(e).stack for e in t.table(target).seats.values()}
    chips = _chips(t)
    effects = t.break_table(target, rng)
    moved = [e for e in effects if isinstance(e, fx.PlayerMoved) and e.from_table == target]
    assert {m.entry: m.stack for m in moved} == players
    assert any(isinstance(e, fx.TableClosed) and e.table == target for e in effects)
    assert target not in t.floor.tables and _chips(t) == chips
    t.check_invariants()
    assert hand.table in t.floor.tables and not t.table(first).breaking


def test_a_table_the_others_cannot_hold_is_not_broken() -> None:
    rng = random.Random(4)
    t = started(12, rng)  # two full tables: nowhere to go
    before = t.snapshot()
    with pytest.raises(TournamentRefused):
        t.break_table(1, rng)
    assert t.snapshot() == before


def test_removing_before_the_start_without_a_refund_keeps_the_money_as_prizes() -> None:
    t = Tournament(TournamentConfig(structure=structure(), buy_in=100))
    for n in range(3):
        t.register(f"p{n}")
    collected = t.state.collected
    effects = t.remove_entry(2, refund=False, rng=random.Random(5))
    assert effects == [
        fx.EntryRemoved(entry=2, player_id="p1", table=0, refund=0, fee=0, op="remove:2")
    ]
    assert t.state.entry_count == 2 and t.state.collected == collected
    assert t.entry(2).status is EntryStatus.UNREGISTERED
    refund = t.remove_entry(3, refund=True, rng=random.Random(5))
    assert isinstance(refund[0], fx.EntryRefunded) and t.state.collected == collected - 100


def test_a_playing_entry_removed_with_a_refund_is_undone_while_prizes_are_open() -> None:
    rng = random.Random(6)
    t = started(8, rng, structure=structure(late_registration_levels=2), fee=10)
    assert not t.state.money_final
    entry = next(iter(t.table(1).seats.values()))
    chips, stack = _chips(t), t.entry(entry).stack
    effects = t.remove_entry(entry, refund=True, rng=rng)
    removed = effects[0]
    assert isinstance(removed, fx.EntryRemoved)
    assert (removed.refund, removed.fee, removed.table) == (100, 10, 1)
    assert t.entry(entry).status is EntryStatus.UNREGISTERED and t.entry(entry).table == 0
    assert _chips(t) == chips - stack and t.state.chips_in_play == chips - stack
    assert t.state.entry_count == 7 and t.state.collected == 700
    t.check_invariants()


def test_a_refund_is_refused_once_the_prizes_are_final() -> None:
    rng = random.Random(7)
    t = started(8, rng)
    assert t.state.money_final
    before = t.snapshot()
    with pytest.raises(TournamentRefused):
        t.remove_entry(1, refund=True, rng=rng)
    assert t.snapshot() == before


def test_a_disqualified_entry_is_out_now_and_takes_the_next_place() -> None:
    rng = random.Random(8)
    t = started(8, rng, bounty=50, bounty_kind=BountyKind.REGULAR)
    entry = next(iter(t.table(1).seats.values()))
    chips, stack = _chips(t), t.entry(entry).stack
    effects = t.remove_entry(entry, refund=False, rng=rng)
    assert any(isinstance(e, fx.Eliminated) and e.entry == entry for e in effects)
    own = [e for e in effects if isinstance(e, fx.BountyWon)]
    assert [(b.entry, b.knocked_out, b.cash) for b in own] == [(entry, entry, 50)]
    placed = [e for e in effects if isinstance(e, fx.PlaceAwarded)]
    assert [(p.entry, p.place) for p in placed] == [(entry, 8)]
    assert _chips(t) == chips - stack and t.entry(entry).status is EntryStatus.OUT
    t.check_invariants()


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    entrants=st.integers(4, 30),
    ops=st.lists(
        st.tuples(st.sampled_from(["move", "break", "remove", "bust"]), st.integers(0, 99)),
        max_size=25,
    ),
)
def test_directors_operations_keep_every_invariant(
    seed: int, entrants: int, ops: list[tuple[str, int]]
) -> None:
    """Chips change only by the stacks removed; a refused operation changes nothing."""
    rng = random.Random(seed)
    t = started(entrants, rng, structure=structure(late_registration_levels=1))
    for op, pick in ops:
        if t.state.alive < 2 or not t.floor.tables:
            break
        tables = sorted(t.floor.tables)
        table = tables[pick % len(tables)]
        seated = sorted(t.table(table).seats.values())
        before, chips = t.snapshot(), _chips(t)
        try:
            if op == "move" and seated:
                entry = seated[pick % len(seated)]
                t.move_entry(entry, tables[(pick // 7) % len(tables)], rng)
                assert _chips(t) == chips
            elif op == "break":
                t.break_table(table, rng)
                assert _chips(t) == chips
            elif op == "remove" and seated:
                entry = seated[pick % len(seated)]
                stack = t.entry(entry).stack
                t.remove_entry(entry, refund=pick % 2 == 0, rng=rng)
                assert _chips(t) == chips - stack
            elif op == "bust" and not t.table(table).in_hand:
                hand = t.next_hand(table)
                if isinstance(hand, DealHand):  # the last dealt in loses all to the first
                    loser, winner = hand.entries[-1], hand.entries[0]
                    total = t.entry(winner).stack + t.entry(loser).stack
                    end(t, hand, {loser: 0, winner: total}, rng)
        except TournamentRefused:
            assert t.snapshot() == before
        t.check_invariants()
        assert t.state.chips_in_play == _chips(t)
