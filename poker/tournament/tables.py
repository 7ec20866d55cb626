"""Seating, breaking and balancing tables (TDA rules 7, 8A, 10, 11; WSOP tournament rules
65-67): pure decisions over the tables' seats, with an injected RNG for the draws.

- Tables needed = ceil(entrants / seats), filled evenly; seats drawn at random (TDA 7).
- Tables break in a predetermined order (``Floor.break_order``, the last-added table first,
  WSOP rule 35) as soon as the players fit in one table fewer; a broken table's players draw
  new seats at random (TDA 10B) at the tables with the fewest players.
- Balancing (TDA 11A, WSOP 67a): when the fullest and the shortest table differ by two or
  more, the player who would be big blind next at a fullest table that is between hands
  moves to the worst position at the shortest table: the empty seat that takes the big
  blind soonest, a single big blind when it is free, never the small blind. A table moves
  only between its hands; the chosen source among equally full tables is the first in the
  breaking order (WSOP 67), the destination the shortest table that breaks last.
- A table three or more players short of the fullest waits until it is balanced (TDA 11D).
- Who is big blind next, and where the blinds are, comes from ``poker.seating`` (the cash
  tables' dead-button planner): tournaments play a dead button too (TDA 32).

``Floor`` holds the tables and keeps counts by size so each decision costs O(1) per table
looked at, however many tables there are: a 10,000-player event stays fast.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Final

import msgspec

from poker.config import SEATS_MAX
from poker.seating import HandPlan, Positions, SeatedPlayer, plan_next_hand
from poker.tournament.errors import TournamentInvariantBroken

HALT_SHORT_BY: Final = 3  # TDA 11D: a table this many players short of the fullest waits


class Table(msgspec.Struct):
    """One tournament table. ``positions``: button, small blind and big blind seats of the
    hand in progress or the last one played (None before the first hand)."""

    table_id: int
    seat_count: int
    seats: dict[int, int] = msgspec.field(default_factory=dict)  # seat -> entry
    positions: tuple[int, int, int] | None = None
    hands_dealt: int = 0
    in_hand: bool = False
    dealt: list[int] = msgspec.field(default_factory=list)  # entries in the hand in progress
    breaking: bool = False
    # Seated since the table's last deal: not dealt in between the small blind and the
    # button (TDA 10A, 8A).
    newcomers: list[int] = msgspec.field(default_factory=list)
    # Moved here by balancing and not dealt a hand since (not moved again when avoidable).
    moved_in: list[int] = msgspec.field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.seats)

    def seat_of(self, entry: int) -> int:
        for seat, seated in self.seats.items():
            if seated == entry:
                return seat
        raise TournamentInvariantBroken(f"entry {entry} is not at table {self.table_id}")


class MoveReason(StrEnum):
    BALANCE = "balance"
    BREAK = "break"
    DIRECTOR = "director"  # a director's move or table break (Tournament.move_entry, ...)


class Move(msgspec.Struct, frozen=True):
    """A player changes tables between hands, with their stack exactly as it is."""

    entry: int
    from_table: int
    from_seat: int
    to_table: int
    to_seat: int
    reason: MoveReason


def tables_needed(players: int, seat_count: int) -> int:
    return -(-players // seat_count)


def even_counts(players: int, tables: int) -> list[int]:
    base, extra = divmod(players, tables)
    return [base + 1 if index < extra else base for index in range(tables)]


def initial_seating(
    entries: Sequence[int], seat_count: int, rng: random.Random, first_table_id: int = 1
) -> list[Table]:
    """Tables filled evenly, each entry drawn to a random table and seat (TDA 7)."""
    if not 2 <= seat_count <= SEATS_MAX:
        raise ValueError(f"tables have 2..{SEATS_MAX} seats")
    order = list(entries)
    rng.shuffle(order)
    counts = even_counts(len(order), tables_needed(len(order), seat_count))
    tables: list[Table] = []
    drawn = iter(order)
    for index, count in enumerate(counts):
        seats = sorted(rng.sample(range(seat_count), count))
        table = Table(table_id=first_table_id + index, seat_count=seat_count)
        for seat in seats:
            entry = next(drawn)
            table.seats[seat] = entry
            table.newcomers.append(entry)
        tables.append(table)
    return tables


def _seated(table: Table, stacks: Mapping[int, int], out: Iterable[int] = ()) -> list[SeatedPlayer]:
    skip = set(out)
    return [
        SeatedPlayer(seat, str(entry), stacks[entry], sitting_out=entry in skip)
        for seat, entry in table.seats.items()
    ]


def _previous(table: Table) -> Positions | None:
    return None if table.positions is None else Positions(*table.positions)


def plan_hand(table: Table, stacks: Mapping[int, int]) -> HandPlan | None:
    """The next hand at this table (``poker.seating``'s plan), or None when fewer than two
    players can play. Newcomers seated between the small blind and the button sit this
    hand out (TDA 10A): anywhere else they are dealt in at once, blinds included."""
    plan = plan_next_hand(_seated(table, stacks), table.seat_count, _previous(table))
    if plan is None or not table.newcomers:
        return plan
    zone = _between_button_and_small_blind(plan, table.seat_count)
    waiting = [entry for entry in table.newcomers if table.seat_of(entry) in zone]
    if not waiting:
        return plan
    # Without them a hand needs two others; with fewer, no hand would ever move the button
    # past them: they are dealt in (the table starts again around them).
    without = plan_next_hand(_seated(table, stacks, waiting), table.seat_count, _previous(table))
    return plan if without is None else without


def _between_button_and_small_blind(plan: HandPlan, seat_count: int) -> set[int]:
    button, small = plan.positions.button, plan.positions.small_blind
    zone: set[int] = set()
    if button == small:  # heads-up: the button is the small blind, nothing lies between
        return zone
    seat = (button + 1) % seat_count
    while seat != small and seat != button:
        zone.add(seat)
        seat = (seat + 1) % seat_count
    return zone


def big_blind_order(table: Table, stacks: Mapping[int, int]) -> list[int]:
    """Entries in the order they would take the big blind from the next hand on (players
    with chips only)."""
    order: list[int] = []
    out: list[int] = []
    players = sum(1 for entry in table.seats.values() if stacks[entry] > 0)
    while len(order) < players:
        if players - len(order) < 2:
            order.extend(e for e in table.seats.values() if stacks[e] > 0 and e not in order)
            break
        plan = plan_next_hand(_seated(table, stacks, out), table.seat_count, _previous(table))
        if plan is None:
            break
        entry = table.seats[plan.big_blind_poster]
        order.append(entry)
        out.append(entry)
    return order


def next_big_blind(table: Table, stacks: Mapping[int, int]) -> int | None:
    plan = plan_next_hand(_seated(table, stacks), table.seat_count, _previous(table))
    return None if plan is None else table.seats[plan.big_blind_poster]


def worst_seat(table: Table) -> int | None:
    """The empty seat that takes the big blind soonest: the first clockwise after the last
    big blind (a single big blind when free), never the next small blind (TDA 11A). None
    when the table has not dealt yet (the caller draws a seat) or is full."""
    if table.positions is None:
        return None
    big_blind = table.positions[2]
    for step in range(1, table.seat_count):
        seat = (big_blind + step) % table.seat_count
        if seat not in table.seats:
            return seat
    return None


def random_empty_seat(table: Table, rng: random.Random) -> int:
    empty = [seat for seat in range(table.seat_count) if seat not in table.seats]
    if not empty:
        raise TournamentInvariantBroken(f"table {table.table_id} has no empty seat")
    return empty[rng.randrange(len(empty))]


class Floor:
    """The tables of one tournament and the indexes decisions need. Derived state only: the
    tables themselves (msgspec Structs) are what a snapshot keeps."""

    __slots__ = (
        "break_order",
        "breaking",
        "by_count",
        "displaced",
        "players",
        "rank",
        "seat_count",
        "tables",
    )

    def __init__(self, tables: Iterable[Table], seat_count: int, break_order: Sequence[int]):
        self.seat_count = seat_count
        self.tables: dict[int, Table] = {t.table_id: t for t in tables}
        self.break_order: list[int] = list(break_order)
        # Position in the breaking order (lower breaks first), kept without renumbering.
        self.rank: dict[int, int] = {table_id: i for i, table_id in enumerate(self.break_order)}
        self.breaking: set[int] = {t.table_id for t in self.tables.values() if t.breaking}
        # Tables that are not breaking, by how many players sit there.
        self.by_count: list[set[int]] = [set() for _ in range(SEATS_MAX + 1)]
        self.players = sum(table.count for table in self.tables.values())  # breaking ones too
        # (entry, table, seat) of entries an undo moved on to make room (Floor.undo, kept):
        # read and cleared by the tournament, which tells the live tables.
        self.displaced: list[tuple[int, int, int]] = []
        for table in self.tables.values():
            if not table.breaking:
                self.by_count[table.count].add(table.table_id)

    # ------------------------------------------------------------------ counts

    def open_tables(self) -> int:
        return sum(len(bucket) for bucket in self.by_count)

    def seated(self) -> int:
        return sum(count * len(bucket) for count, bucket in enumerate(self.by_count))

    def max_count(self) -> int:
        for count in range(SEATS_MAX, -1, -1):
            if self.by_count[count]:
                return count
        return 0

    def min_count(self) -> int:
        for count, bucket in enumerate(self.by_count):
            if bucket:
                return count
        return 0

    def spread(self) -> int:
        return self.max_count() - self.min_count()

    def must_wait(self, table_id: int) -> bool:
        """TDA 11D: three or more players short of the fullest table waits to be balanced."""
        table = self.tables[table_id]
        return not table.breaking and table.count <= self.max_count() - HALT_SHORT_BY

    # ------------------------------------------------------------------ changes

    def _reindex(self, table: Table, before: int) -> None:
        if not table.breaking:
            self.by_count[before].discard(table.table_id)
            self.by_count[table.count].add(table.table_id)

    def seat(self, table_id: int, seat: int, entry: int, *, newcomer: bool = True) -> None:
        table = self.tables[table_id]
        if seat in table.seats or not 0 <= seat < table.seat_count:
            raise TournamentInvariantBroken(f"seat {seat} at table {table_id} is not free")
        before = table.count
        table.seats[seat] = entry
        self.players += 1
        if newcomer:
            table.newcomers.append(entry)
        self._reindex(table, before)

    def unseat(self, table_id: int, entry: int) -> int:
        table = self.tables[table_id]
        seat = table.seat_of(entry)
        before = table.count
        del table.seats[seat]
        self.players -= 1
        if entry in table.newcomers:
            table.newcomers.remove(entry)
        if entry in table.moved_in:
            table.moved_in.remove(entry)
        self._reindex(table, before)
        return seat

    def _free_tables(self) -> list[Table]:
        return [t for t in self.tables.values() if not t.breaking and t.count < t.seat_count]

    def _seat_at_shortest(
        self, entry: int, rng: random.Random, candidates: list[Table]
    ) -> tuple[int, int]:
        """A random empty seat of one of the ``candidates`` (tables with a free seat) with
        the fewest players, drawn among them (TDA 10B)."""
        if not candidates:
            raise TournamentInvariantBroken(f"no seat for entry {entry}")
        fewest = min(t.count for t in candidates)
        shortest = sorted(t.table_id for t in candidates if t.count == fewest)
        table = self.tables[shortest[rng.randrange(len(shortest))]]
        seat = random_empty_seat(table, rng)
        self.seat(table.table_id, seat, entry)
        return table.table_id, seat

    def apply(self, move: Move) -> None:
        self.unseat(move.from_table, move.entry)
        self.seat(move.to_table, move.to_seat, move.entry)
        if move.reason in (MoveReason.BALANCE, MoveReason.DIRECTOR):
            # Not moved on again while another choice exists (a director's choice stands).
            self.tables[move.to_table].moved_in.append(move.entry)

    def undo(self, move: Move, rng: random.Random, *, kept: bool = False) -> tuple[int, int]:
        """A move the live tables refused: the entry leaves the destination and sits at the
        source again. ``kept``: her table kept her, in her seat: she has that seat again,
        and an entry the same step moved into it since takes another free seat there (its
        own move, to her seat, is then refused at the table in turn). Else her seat if it is
        free, another free seat there if not, and, when the source broke meanwhile, a random
        empty seat of a table with the fewest players other than the one that refused (TDA
        10B's draw; that one only when no other has a seat). Returns (table, seat)."""
        self.unseat(move.to_table, move.entry)
        source = self.tables.get(move.from_table)
        seat = move.from_seat
        if kept:
            if source is None:
                raise TournamentInvariantBroken(f"table {move.from_table} broke with a player")
            taker = source.seats.get(seat)
            if taker is not None and source.count < source.seat_count:
                source.seats[random_empty_seat(source, rng)] = taker
                del source.seats[seat]
            elif taker is not None:  # no other seat there: the taker sits where the draw says
                self.unseat(source.table_id, taker)
                others = [t for t in self._free_tables() if t.table_id != source.table_id]
                self.displaced.append((taker, *self._seat_at_shortest(taker, rng, others)))
            self.seat(source.table_id, seat, move.entry, newcomer=False)  # back, not new
            return source.table_id, seat
        if source is not None and source.count < source.seat_count:
            if seat in source.seats:
                seat = random_empty_seat(source, rng)
            self.seat(source.table_id, seat, move.entry, newcomer=False)
            return source.table_id, seat
        free = self._free_tables()
        others = [t for t in free if t.table_id != move.to_table] or free
        return self._seat_at_shortest(move.entry, rng, others)

    def add_table(self, table_id: int) -> Table:
        """A table opened for late registrants: first in the breaking order (WSOP rule 35)."""
        table = Table(table_id=table_id, seat_count=self.seat_count)
        self.tables[table_id] = table
        self.rank[table_id] = min(self.rank.values(), default=0) - 1
        self.break_order.insert(0, table_id)
        self.by_count[0].add(table_id)
        return table

    def mark_breaking(self, table_id: int) -> None:
        table = self.tables[table_id]
        if not table.breaking:
            self.by_count[table.count].discard(table_id)
            table.breaking = True
            self.breaking.add(table_id)

    def unmark_breaking(self, table_id: int) -> None:
        table = self.tables[table_id]
        if table.breaking:
            table.breaking = False
            self.breaking.discard(table_id)
            self.by_count[table.count].add(table_id)

    def remove(self, table_id: int) -> None:
        table = self.tables.pop(table_id)
        if table.seats:
            raise TournamentInvariantBroken(f"table {table_id} removed with players seated")
        self.by_count[table.count].discard(table_id)
        self.break_order.remove(table_id)
        del self.rank[table_id]
        self.breaking.discard(table_id)

    # ------------------------------------------------------------------ decisions

    def tables_to_break(self) -> list[int]:
        """Mark (and return) the tables to break now: while the players fit in one table
        fewer, the next open table in the breaking order."""
        marked: list[int] = []
        for table_id in self.break_order:
            tables = self.open_tables()
            if tables <= 1 or self.players > (tables - 1) * self.seat_count:
                break
            if not self.tables[table_id].breaking:
                self.mark_breaking(table_id)
                marked.append(table_id)
        return marked

    def seat_newcomer(self, entry: int, rng: random.Random) -> tuple[int, int]:
        """A late registrant or re-entry draws a seat at a table with the fewest players
        (TDA 8A); a new table opens when every table is full."""
        if self.breaking and self.players + 1 > self.open_tables() * self.seat_count:
            # A table waiting to break (in a hand) is needed again: it stays.
            self.unmark_breaking(max(self.breaking, key=self.rank.__getitem__))
        low = self.min_count()
        if not self.open_tables() or low >= self.seat_count:
            table_id = max(self.tables, default=0) + 1
            self.add_table(table_id)
        else:
            shortest = sorted(self.by_count[low])
            table_id = shortest[rng.randrange(len(shortest))]
        seat = random_empty_seat(self.tables[table_id], rng)
        self.seat(table_id, seat, entry)
        return table_id, seat

    def plan_break(self, table_id: int, rng: random.Random) -> list[Move]:
        """Break a table between its hands: each player, in random order, draws a random
        empty seat at one of the tables with the fewest players (TDA 10B's two-step draw:
        random players, random seats). The moves are applied."""
        table = self.tables[table_id]
        if table.in_hand:
            raise TournamentInvariantBroken(f"table {table_id} broken during a hand")
        self.mark_breaking(table_id)
        players = list(table.seats.items())
        rng.shuffle(players)
        moves: list[Move] = []
        for from_seat, entry in players:
            low = self.min_count()
            shortest = sorted(self.by_count[low])
            if not shortest or low >= self.seat_count:
                raise TournamentInvariantBroken("no empty seat for a player of a broken table")
            to_table = shortest[rng.randrange(len(shortest))]
            to_seat = random_empty_seat(self.tables[to_table], rng)
            move = Move(entry, table_id, from_seat, to_table, to_seat, MoveReason.BREAK)
            self.apply(move)
            moves.append(move)
        self.remove(table_id)
        return moves

    def plan_balancing(
        self, sources: Iterable[int], stacks: Mapping[int, int], rng: random.Random
    ) -> list[Move]:
        """Balance from the given tables (they must be between hands) into the shortest
        tables until the spread is at most one or no given table is a fullest one. The
        moves are applied."""
        position = self.rank
        candidates = sorted(
            (t for t in set(sources) if t in self.tables and not self.tables[t].breaking),
            key=position.__getitem__,
        )
        moves: list[Move] = []
        while self.spread() >= 2:
            top = self.max_count()
            fullest = [t for t in candidates if self.tables[t].count == top]
            if not fullest:
                break
            source, mover = self._choose_mover(fullest, stacks)
            if mover is None:
                break
            low = self.min_count()
            destination = max(self.by_count[low], key=position.__getitem__)
            target = self.tables[destination]
            to_seat = worst_seat(target)
            if to_seat is None:
                to_seat = random_empty_seat(target, rng)
            from_seat = self.tables[source].seat_of(mover)
            move = Move(mover, source, from_seat, destination, to_seat, MoveReason.BALANCE)
            self.apply(move)
            moves.append(move)
        return moves

    def _choose_mover(
        self, fullest: Sequence[int], stacks: Mapping[int, int]
    ) -> tuple[int, int | None]:
        """The next big blind of the first fullest table whose next big blind was not just
        moved here; else, at the first table, the next in big-blind order not just moved;
        else its next big blind all the same."""
        for table_id in fullest:
            table = self.tables[table_id]
            entry = next_big_blind(table, stacks)
            if entry is not None and entry not in table.moved_in:
                return table_id, entry
        first = self.tables[fullest[0]]
        order = big_blind_order(first, stacks)
        for entry in order:
            if entry not in first.moved_in:
                return first.table_id, entry
        return first.table_id, (order[0] if order else None)


def plan_balancing(
    tables: Sequence[Table], stacks: Mapping[int, int], rng: random.Random
) -> list[Move]:
    """The balancing moves for these tables, every table between hands a possible source;
    the tables given are not changed (the moves are planned on copies)."""
    copies = [
        msgspec.structs.replace(
            t, seats=dict(t.seats), moved_in=list(t.moved_in), newcomers=list(t.newcomers)
        )
        for t in tables
    ]
    seat_count = max((t.seat_count for t in tables), default=SEATS_MAX)
    floor = Floor(copies, seat_count, [t.table_id for t in tables])
    idle = [t.table_id for t in copies if not t.in_hand]
    return floor.plan_balancing(idle, stacks, rng)
