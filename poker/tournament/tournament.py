"""The tournament as a state machine: commands in, effects out (STYLE.md point 14).

The live system (the tournament actor and its tables) drives a ``Tournament``:

- ``register`` / ``unregister`` before the start, ``start(now_ms, rng)``; late registration
  and re-entries with ``register(player_id, rng)`` while it is open.
- ``clock(now_ms)`` whenever time passes (at least at each ``ClockReading.remaining_ms``):
  levels, breaks, registration and rebuy periods, the add-on window, the final prize pool.
- For each table, between hands: ``next_hand(table)`` answers ``DealHand`` (build
  ``poker.Hand`` from it and play it) or ``Wait(reason)`` (wait for ``TablesMayDeal``);
  then ``hand_ended(table, hand.result, rng)``.
- ``rebuy`` / ``decline_rebuy`` (after ``RebuyOffered``), ``addon``, ``deal``.

Every command returns the effects to perform, in order (money moves carry their ledger
``op``). The state is one msgspec Struct: ``snapshot()`` / ``Tournament.restore()``.

Invariants (``check_invariants``, asserted by the tests after every step): the stacks of the
players still in sum to the chips issued (entries, rebuys, add-ons); each entry sits in at
most one seat; places are given from the bottom, each once.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterator, Mapping
from typing import Final

import msgspec

from poker.config import BlindSeats, HandConfig, SeatSetup
from poker.showdown import HandResult
from poker.tournament import effects as fx
from poker.tournament.deals import chip_chop, icm_deal
from poker.tournament.errors import (
    AddOnRefused,
    DealRefused,
    RebuyRefused,
    RegistrationRefused,
    TableRefused,
    TournamentInvariantBroken,
)
from poker.tournament.payouts import payouts, prize_pool
from poker.tournament.places import (
    BountyKind,
    knockout_shares,
    order_busts,
    place_groups,
    settle_bounty,
)
from poker.tournament.state import (
    PLAYER_ID_CHARS_MAX,
    SNAPSHOT_VERSION,
    BustGroup,
    BustMember,
    DealKind,
    Entry,
    EntryStatus,
    Phase,
    TournamentConfig,
    TournamentState,
)
from poker.tournament.structure import ClockReading, LevelUnit, Structure
from poker.tournament.tables import (
    Floor,
    Move,
    MoveReason,
    Table,
    initial_seating,
    plan_hand,
    random_empty_seat,
)

_ENCODER: Final = msgspec.msgpack.Encoder()
_DECODER: Final = msgspec.msgpack.Decoder(TournamentState)
_ALIVE: Final = (EntryStatus.PLAYING, EntryStatus.AWAITING_REBUY)


class Tournament:
    """One tournament's rules. Not thread-safe; one actor owns it."""

    __slots__ = ("_by_player", "_configs", "_floor", "_resume_key", "state")

    def __init__(self, config: TournamentConfig) -> None:
        self.state = TournamentState(version=SNAPSHOT_VERSION, config=config)
        self._floor = Floor((), config.seats_per_table, ())
        self._configs: dict[int, HandConfig] = {}
        self._by_player: dict[str, list[int]] = {}  # player -> entry numbers (derived)
        # What the waiting tables were last checked against (derived; None: check them all).
        self._resume_key: tuple[object, ...] | None = None

    # ------------------------------------------------------------------ snapshots

    def snapshot(self) -> bytes:
        self._sync()
        return _ENCODER.encode(self.state)

    @classmethod
    def restore(cls, data: bytes) -> Tournament:
        try:
            state = _DECODER.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise TournamentInvariantBroken(f"not a tournament snapshot: {exc}") from None
        if state.version != SNAPSHOT_VERSION:
            raise TournamentInvariantBroken(f"snapshot version {state.version}")
        tournament = cls(state.config)
        tournament.state = state
        tournament._floor = Floor(state.tables, state.config.seats_per_table, state.break_order)
        for entry in state.entries:
            tournament._by_player.setdefault(entry.player_id, []).append(entry.entry)
        tournament.check_invariants()
        return tournament

    def _sync(self) -> None:
        self.state.tables = sorted(self._floor.tables.values(), key=lambda t: t.table_id)
        self.state.break_order = list(self._floor.break_order)

    # ------------------------------------------------------------------ views

    @property
    def config(self) -> TournamentConfig:
        return self.state.config

    @property
    def structure(self) -> Structure:
        return self.state.config.structure

    @property
    def phase(self) -> Phase:
        return self.state.phase

    @property
    def remaining(self) -> int:
        """Entries still in (seated, or deciding on a rebuy)."""
        return self.state.alive

    @property
    def floor(self) -> Floor:
        return self._floor

    def entry(self, entry: int) -> Entry:
        if not 1 <= entry <= len(self.state.entries):
            raise RegistrationRefused(f"no entry {entry}")
        return self.state.entries[entry - 1]

    def table(self, table_id: int) -> Table:
        try:
            return self._floor.tables[table_id]
        except KeyError:
            raise TableRefused(f"no table {table_id}") from None

    def prize_for(self, place: int) -> int:
        prizes = self.state.prizes
        return prizes[place - 1] if 1 <= place <= len(prizes) else 0

    def entries_of(self, player_id: str) -> list[Entry]:
        entries = (self.state.entries[n - 1] for n in self._by_player.get(player_id, ()))
        return [e for e in entries if e.status is not EntryStatus.UNREGISTERED]

    def check_invariants(self) -> None:
        """Chips conserved, one seat per entry, counts consistent (O(entries): tests)."""
        s = self.state
        alive = [e for e in s.entries if e.status in _ALIVE]
        if len(alive) != s.alive:
            raise TournamentInvariantBroken(f"{len(alive)} entries in, counted {s.alive}")
        if sum(e.stack for e in alive) != s.chips_in_play:
            raise TournamentInvariantBroken(
                f"stacks sum to {sum(e.stack for e in alive)}, issued {s.chips_in_play}"
            )
        seen: set[int] = set()
        for table in self._floor.tables.values():
            for entry in table.seats.values():
                if entry in seen or self.entry(entry).table != table.table_id:
                    raise TournamentInvariantBroken(f"entry {entry} seated wrongly")
                seen.add(entry)
        if s.phase is Phase.RUNNING and seen != {e.entry for e in alive}:
            raise TournamentInvariantBroken("the seated entries are not the entries still in")
        places = sorted(e.place for e in s.entries if e.place)
        if len(places) != s.placed + (1 if s.winner else 0) and s.phase is not Phase.FINISHED:
            raise TournamentInvariantBroken("places given do not match the count")

    # ------------------------------------------------------------------ registration

    def register(self, player_id: str, rng: random.Random | None = None) -> list[fx.AnyEffect]:
        """A new entry: before the start, or while late registration is open (then ``rng``
        draws the seat; a re-entry needs every earlier entry of the player out)."""
        s = self.state
        if not player_id or len(player_id) > PLAYER_ID_CHARS_MAX:
            raise RegistrationRefused("a player id of 1..200 characters")
        if s.phase is Phase.FINISHED:
            raise RegistrationRefused("the tournament is over")
        if s.entry_count >= self.config.entries_max:
            raise RegistrationRefused("the tournament is full")
        earlier = self.entries_of(player_id)
        if s.phase is Phase.REGISTERING:
            if earlier:
                raise RegistrationRefused(f"{player_id} is already registered")
        else:
            if not s.registration_open:
                raise RegistrationRefused("registration is closed")
            if any(e.status is not EntryStatus.OUT for e in earlier):
                raise RegistrationRefused("re-entry only with no chips left (WSOP rule 13)")
            if len(earlier) >= self.structure.entries_per_player_max:
                raise RegistrationRefused(
                    f"at most {self.structure.entries_per_player_max} entries per player"
                )
            if rng is None:
                raise TableRefused("late registration needs the RNG that draws the seat")
        number = len(s.entries) + 1
        entry = Entry(entry=number, player_id=player_id, number=len(earlier) + 1)
        s.entries.append(entry)
        self._by_player.setdefault(player_id, []).append(number)
        s.entry_count += 1
        s.collected += self.config.buy_in
        effects: list[fx.AnyEffect] = [
            fx.EntryBought(
                entry=number,
                player_id=player_id,
                prize_part=self.config.buy_in,
                bounty_part=self.config.bounty,
                fee=self.config.fee,
                op=f"entry:{number}",
            )
        ]
        if s.phase is Phase.RUNNING:
            assert rng is not None
            before = set(self._floor.tables)
            table_id, seat = self._floor.seat_newcomer(number, rng)
            if table_id not in before:
                effects.append(
                    fx.TableOpened(table=table_id, seat_count=self.config.seats_per_table)
                )
            self._enter(entry, table_id)
            effects.append(self._seated(entry, seat))
            effects += self._after_change((table_id,))
        return effects

    def may_register(self, player_id: str) -> bool:
        """Whether ``register`` would take this player now (a late entry or a re-entry)."""
        s = self.state
        if s.phase is Phase.FINISHED or s.entry_count >= self.config.entries_max:
            return False
        earlier = self.entries_of(player_id)
        if s.phase is Phase.REGISTERING:
            return not earlier
        return (
            s.registration_open
            and all(e.status is EntryStatus.OUT for e in earlier)
            and len(earlier) < self.structure.entries_per_player_max
        )

    def unregister(self, entry_number: int) -> list[fx.AnyEffect]:
        entry = self.entry(entry_number)
        if self.state.phase is not Phase.REGISTERING or entry.status is not EntryStatus.REGISTERED:
            raise RegistrationRefused("only before the start")
        entry.status = EntryStatus.UNREGISTERED
        self.state.entry_count -= 1
        self.state.collected -= self.config.buy_in
        amount = self.config.buy_in + self.config.bounty + self.config.fee
        return [
            fx.EntryRefunded(
                entry=entry.entry,
                player_id=entry.player_id,
                amount=amount,
                op=f"refund:{entry.entry}",
            )
        ]

    def _enter(self, entry: Entry, table_id: int) -> None:
        s = self.state
        entry.status = EntryStatus.PLAYING
        entry.stack = self.structure.starting_stack
        entry.table = table_id
        entry.head = self.config.bounty
        s.alive += 1
        s.chips_in_play += entry.stack

    def _seated(self, entry: Entry, seat: int) -> fx.Seated:
        return fx.Seated(
            entry=entry.entry,
            player_id=entry.player_id,
            table=entry.table,
            seat=seat,
            stack=entry.stack,
        )

    def start(
        self, now_ms: int, rng: random.Random, start_in_hour_ms: int = 0
    ) -> list[fx.AnyEffect]:
        """Seat every registered entry (tables filled evenly, seats drawn at random)."""
        s = self.state
        if s.phase is not Phase.REGISTERING:
            raise RegistrationRefused("the tournament has started")
        registered = [e for e in s.entries if e.status is EntryStatus.REGISTERED]
        if len(registered) < 2:
            raise RegistrationRefused("a tournament needs at least two entries")
        tables = initial_seating([e.entry for e in registered], self.config.seats_per_table, rng)
        # WSOP rule 35 / TDA 11C: a predetermined breaking order, the last table first.
        self._floor = Floor(
            tables, self.config.seats_per_table, [t.table_id for t in reversed(tables)]
        )
        s.phase = Phase.RUNNING
        s.started_at_ms = now_ms
        s.start_in_hour_ms = start_in_hour_ms
        effects: list[fx.AnyEffect] = [
            fx.TournamentStarted(entries=len(registered), tables=len(tables))
        ]
        for table in tables:
            effects.append(fx.TableOpened(table=table.table_id, seat_count=table.seat_count))
            for seat, number in sorted(table.seats.items()):
                entry = self.entry(number)
                self._enter(entry, table.table_id)
                effects.append(self._seated(entry, seat))
        level = self.structure.level(0)
        effects.append(
            fx.LevelStarted(
                level=1,
                small_blind=level.small_blind,
                big_blind=level.big_blind,
                ante=level.ante,
                ante_mode=level.ante_mode,
            )
        )
        s.rebuys_open = self.structure.rebuy_open(0)
        if len(tables) == 1:
            s.final_table = True
            effects.append(fx.FinalTable(table=tables[0].table_id, players=len(registered)))
        effects += self._read_clock(self._reading(now_ms))
        effects += self._after_change(())
        return effects

    # ------------------------------------------------------------------ the clock

    def _reading(self, now_ms: int) -> ClockReading:
        s = self.state
        if self.structure.unit is LevelUnit.MINUTES:
            return self.structure.clock_at(max(0, now_ms - s.started_at_ms), s.start_in_hour_ms)
        level = max(
            (self.structure.level_at_hands(t.hands_dealt) for t in self._floor.tables.values()),
            default=s.level,
        )
        return ClockReading(max(level, s.level), False, -1, 0, 0)

    def reading(self, now_ms: int) -> ClockReading:
        """The clock at ``now_ms``: the live system's timer calls ``clock`` again at the
        latest when ``remaining_ms`` has passed (-1: the last level, nothing to wait for)."""
        return self._reading(now_ms)

    def clock(self, now_ms: int) -> list[fx.AnyEffect]:
        """Time passed: levels, breaks, registration, rebuys, add-on, final prizes."""
        if self.state.phase is not Phase.RUNNING:
            return []
        effects = self._read_clock(self._reading(now_ms))
        return effects + self._after_change(())

    def _read_clock(self, reading: ClockReading) -> list[fx.AnyEffect]:
        s = self.state
        structure = self.structure
        effects: list[fx.AnyEffect] = []
        if reading.level != s.level:
            s.level = reading.level
            level = structure.level(reading.level)
            effects.append(
                fx.LevelStarted(
                    level=min(reading.level, len(structure.levels) - 1) + 1,
                    small_blind=level.small_blind,
                    big_blind=level.big_blind,
                    ante=level.ante,
                    ante_mode=level.ante_mode,
                )
            )
        if reading.on_break != s.on_break:
            s.on_break = reading.on_break
            if reading.on_break:
                effects.append(fx.BreakStarted(remaining_ms=reading.remaining_ms))
            else:
                effects.append(fx.BreakEnded())
        s.breaks_started = reading.breaks_started
        s.addon_open = structure.addon_open(reading)
        if s.registration_open and not structure.registration_open(reading):
            s.registration_open = False
            effects.append(fx.RegistrationClosed(entries=s.entry_count))
        if s.rebuys_open and not structure.rebuy_open(reading.level):
            s.rebuys_open = False
            effects.append(fx.RebuysClosed())
            for entry in s.entries:
                if entry.status is EntryStatus.AWAITING_REBUY:
                    effects += self._decided(entry, rebought=False)
        addon_done = structure.addon is None or (s.breaks_started >= 1 and not s.addon_open)
        if not s.money_final and not s.registration_open and not s.rebuys_open and addon_done:
            effects += self._finalize_prizes()
        return effects

    def _finalize_prizes(self) -> list[fx.AnyEffect]:
        s = self.state
        s.money_final = True
        pool = prize_pool(s.collected, self.config.guarantee)
        s.prizes = payouts(pool.pool, s.entry_count, self.config.payout)
        effects: list[fx.AnyEffect] = [
            fx.PrizesSet(
                pool=pool.pool,
                collected=pool.collected,
                overlay=pool.overlay,
                prizes=tuple(s.prizes),
            )
        ]
        if pool.overlay:
            effects.append(fx.OverlayAdded(amount=pool.overlay, op="overlay"))
        return effects

    # ------------------------------------------------------------------ hands

    def wait_reason(self, table_id: int) -> fx.WaitReason | None:
        """Why this table may not deal now, or None."""
        s = self.state
        table = self.table(table_id)
        if s.phase is not Phase.RUNNING or table.breaking:
            return fx.WaitReason.NOT_RUNNING
        if s.on_break:
            return fx.WaitReason.BREAK
        if s.h4h and table_id in s.h4h_done:
            return fx.WaitReason.HAND_FOR_HAND
        if self._floor.must_wait(table_id):
            return fx.WaitReason.BALANCING
        if sum(1 for e in table.seats.values() if self.entry(e).stack > 0) < 2:
            return fx.WaitReason.PLAYERS
        return None

    def next_hand(self, table_id: int) -> fx.DealHand | fx.Wait:
        """The table is between hands: deal this, or wait for ``TablesMayDeal``."""
        s = self.state
        table = self.table(table_id)
        if table.in_hand:
            raise TableRefused(f"table {table_id} is in a hand")
        reason = self.wait_reason(table_id)
        plan = None
        if reason is None:
            stacks = {e: self.entry(e).stack for e in table.seats.values()}
            plan = plan_hand(table, stacks)
            if plan is None:
                reason = fx.WaitReason.PLAYERS
        if reason is not None:
            if table_id not in s.waiting:
                s.waiting.append(table_id)
            return fx.Wait(reason)
        assert plan is not None
        if self.structure.unit is LevelUnit.HANDS:
            level = self.structure.level_at_hands(table.hands_dealt)
        else:
            level = s.level
        config = self._configs.get(level)
        if config is None:
            config = self.structure.level(level).hand_config(self.structure.variant)
            self._configs[level] = config
        seats = []
        entries = []
        for seat in plan.dealt_in:
            number = table.seats[seat]
            seats.append(
                SeatSetup(seat=seat, player_id=self.entry(number).player_id, stack=stacks[number])
            )
            entries.append(number)
        table.positions = (
            plan.positions.button,
            plan.positions.small_blind,
            plan.positions.big_blind,
        )
        table.in_hand = True
        table.dealt = entries
        dealt = set(entries)
        table.newcomers = [e for e in table.newcomers if e not in dealt]
        table.moved_in = [e for e in table.moved_in if e not in dealt]
        if table_id in s.waiting:
            s.waiting.remove(table_id)
        if s.h4h:
            s.h4h_done.append(table_id)
        table.hands_dealt += 1
        return fx.DealHand(
            table=table_id,
            hand_number=table.hands_dealt,
            level=min(level, len(self.structure.levels) - 1) + 1,
            config=config,
            seats=tuple(seats),
            entries=tuple(entries),
            button=plan.positions.button,
            blinds=BlindSeats(plan.small_blind_poster, plan.big_blind_poster),
        )

    def hand_ended(
        self, table_id: int, result: HandResult, rng: random.Random
    ) -> list[fx.AnyEffect]:
        """The hand dealt at this table is over: stacks, eliminations, bounties, places,
        then breaking, balancing and hand-for-hand. ``rng`` draws seats for moved players."""
        s = self.state
        table = self.table(table_id)
        if not table.in_hand:
            raise TableRefused(f"table {table_id} has no hand in progress")
        by_seat = {seat: table.seats[seat] for seat in result.seats if seat in table.seats}
        if sorted(by_seat.values()) != sorted(table.dealt) or len(by_seat) != len(result.seats):
            raise TournamentInvariantBroken(f"table {table_id}: the result is of other seats")
        before = sum(self.entry(e).stack for e in table.dealt)
        if result.rake or sum(result.stacks) != before:
            raise TournamentInvariantBroken(
                f"table {table_id}: {before} chips in, {sum(result.stacks)} out, rake {result.rake}"
            )
        table.in_hand = False
        table.dealt = []
        effects: list[fx.AnyEffect] = []
        busted: list[BustMember] = []
        for seat, stack in zip(result.seats, result.stacks, strict=True):
            entry = self.entry(by_seat[seat])
            start = entry.stack
            entry.stack = stack
            if stack == 0:
                knockers = [(by_seat[w], chips) for w, chips in knockout_shares(result.pots, seat)]
                busted.append(BustMember(entry.entry, start, table_id, knockers, False))
        if busted:
            group = self._group_for_busts()
            for member in busted:
                group.members.append(member)
                entry = self.entry(member.entry)
                if self._may_rebuy(entry):
                    member.pending = True
                    entry.status = EntryStatus.AWAITING_REBUY
                    effects.append(fx.RebuyOffered(entry=entry.entry, player_id=entry.player_id))
                else:
                    effects += self._eliminate(member)
        if s.h4h and table_id not in s.h4h_done:
            s.h4h_done.append(table_id)  # a hand in progress when hand-for-hand began
        if self.structure.unit is LevelUnit.HANDS:
            effects += self._read_clock(self._reading(0))
        return effects + self._after_change((table_id,), rng)

    def _group_for_busts(self) -> BustGroup:
        s = self.state
        if s.h4h:
            if s.groups and s.groups[-1].open and s.groups[-1].round == s.h4h_round:
                return s.groups[-1]
            group = BustGroup(members=[], round=s.h4h_round, open=True)
        else:
            group = BustGroup(members=[])
        s.groups.append(group)
        return group

    # ------------------------------------------------------------------ eliminations

    def _may_rebuy(self, entry: Entry) -> bool:
        rule = self.structure.rebuy
        return (
            rule is not None
            and self.state.rebuys_open
            and entry.rebuys < rule.per_entry_max
            and entry.stack <= rule.stack_at_most
        )

    def _eliminate(self, member: BustMember) -> list[fx.AnyEffect]:
        s = self.state
        entry = self.entry(member.entry)
        entry.status = EntryStatus.OUT
        self._floor.unseat(entry.table, entry.entry)
        table = entry.table
        entry.table = 0
        s.alive -= 1
        effects: list[fx.AnyEffect] = [
            fx.Eliminated(entry=entry.entry, player_id=entry.player_id, table=table)
        ]
        if self.config.bounty_kind is not BountyKind.NONE and entry.head:
            if not member.knockers:
                raise TournamentInvariantBroken(f"entry {entry.entry} out of no pot")
            for award in settle_bounty(self.config.bounty_kind, entry.head, member.knockers):
                winner = self.entry(award.winner)
                winner.head += award.head
                winner.bounties += award.cash
                effects.append(
                    fx.BountyWon(
                        entry=winner.entry,
                        player_id=winner.player_id,
                        knocked_out=entry.entry,
                        cash=award.cash,
                        head=award.head,
                        op=f"bounty:{entry.entry}:{winner.entry}",
                    )
                )
            entry.head = 0
        return effects

    def _decided(self, entry: Entry, *, rebought: bool) -> list[fx.AnyEffect]:
        """A pending rebuy decision was made: rebought (no longer out) or declined (out)."""
        for group in self.state.groups:
            for member in group.members:
                if member.entry == entry.entry and member.pending:
                    member.pending = False
                    if rebought:
                        group.members.remove(member)
                        if not group.members:
                            self.state.groups.remove(group)
                        return []
                    return self._eliminate(member)
        raise TournamentInvariantBroken(f"entry {entry.entry} had no pending rebuy")

    def _place(self) -> list[fx.AnyEffect]:
        """Give places to complete groups, in order, once the prizes are final."""
        s = self.state
        effects: list[fx.AnyEffect] = []
        if not s.money_final:
            return effects
        total = s.entry_count
        while s.groups:
            group = s.groups[0]
            if group.open or any(m.pending for m in group.members):
                break
            s.groups.pop(0)
            if group.round:  # hand-for-hand: everyone out in the round ties (TDA RP-8A)
                ranked = [[m.entry for m in group.members]]
            else:
                ranked = order_busts([(m.entry, m.start_stack) for m in group.members])
            # Tied players share equally; the odd chips go to the lowest entry numbers.
            ranked = [sorted(tied) for tied in ranked]
            for placed in place_groups(ranked, total - s.placed, s.prizes):
                entry = self.entry(placed.entry)
                entry.place, entry.tied = placed.place, placed.tied
                entry.prize += placed.prize
                effects.append(
                    fx.PlaceAwarded(
                        entry=entry.entry,
                        player_id=entry.player_id,
                        place=placed.place,
                        tied=placed.tied,
                        prize=placed.prize,
                        op=f"prize:{entry.entry}",
                    )
                )
            s.placed += len(group.members)
        return effects

    # ------------------------------------------------------------------ after every change

    def _after_change(
        self, sources: Collection[int], rng: random.Random | None = None
    ) -> list[fx.AnyEffect]:
        s = self.state
        effects = self._place()
        if s.phase is not Phase.RUNNING:
            return effects
        if not s.h4h and rng is not None:
            effects += self._break_and_balance(sources, rng)
        if s.h4h:
            effects += self._hand_for_hand_step(rng)
        elif self._hand_for_hand_wanted():
            s.h4h = True
            s.h4h_round = 1
            # Hands in progress finish as this round (TDA RP-8A): tables between hands
            # have played their part of it.
            s.h4h_done = [t.table_id for t in self._floor.tables.values() if not t.in_hand]
            effects.append(fx.HandForHandStarted(remaining=s.alive))
            effects += self._hand_for_hand_step(rng)
        if not s.final_table and self._floor.open_tables() == 1 and len(self._floor.tables) == 1:
            s.final_table = True
            (table,) = self._floor.tables.values()
            effects.append(fx.FinalTable(table=table.table_id, players=table.count))
        effects += self._finish_if_won()
        if s.phase is Phase.RUNNING:
            touched = set(sources)
            for effect in effects:
                if isinstance(effect, fx.PlayerMoved):
                    touched.update((effect.from_table, effect.to_table))
            effects += self._resume(touched)
        return effects

    def _break_and_balance(
        self, sources: Collection[int], rng: random.Random
    ) -> list[fx.AnyEffect]:
        floor = self._floor
        effects: list[fx.AnyEffect] = []
        floor.tables_to_break()
        for table_id in sorted(floor.breaking):
            if not floor.tables[table_id].in_hand:
                effects += self._moved(floor.plan_break(table_id, rng))
                effects.append(fx.TableClosed(table=table_id))
                if table_id in self.state.waiting:
                    self.state.waiting.remove(table_id)
        if floor.spread() >= 2:
            idle = [t for t in (*sources, *self.state.waiting) if t in floor.tables]
            idle = [t for t in idle if not floor.tables[t].in_hand]
            effects += self._moved(floor.plan_balancing(idle, _Stacks(self), rng))
        return effects

    def _moved(self, moves: list[Move]) -> list[fx.AnyEffect]:
        effects: list[fx.AnyEffect] = []
        for move in moves:
            entry = self.entry(move.entry)
            entry.table = move.to_table
            effects.append(
                fx.PlayerMoved(
                    entry=entry.entry,
                    player_id=entry.player_id,
                    from_table=move.from_table,
                    from_seat=move.from_seat,
                    to_table=move.to_table,
                    to_seat=move.to_seat,
                    stack=entry.stack,
                    reason=move.reason,
                )
            )
        return effects

    def move_refused(
        self, moved: fx.PlayerMoved, rng: random.Random, *, kept: bool = False
    ) -> list[fx.AnyEffect]:
        """A table refused ``moved`` (the live tables' seats were not the core's: a bug the
        live system survives rather than letting the core and its tables disagree): the
        entry sits at her source table again (``Floor.undo``; ``kept``: her table kept her
        in her seat), with her stack unchanged, and ``MoveUndone`` says where. Nothing
        changes when she is no longer there: moved on by the same step (its own move
        carries her on) or out since."""
        entry = self.entry(moved.entry)
        if entry.status not in _ALIVE or entry.table != moved.to_table:
            return []
        move = Move(
            moved.entry, moved.from_table, moved.from_seat, moved.to_table, moved.to_seat,
            moved.reason,
        )  # fmt: skip
        table_id, seat = self._floor.undo(move, rng, kept=kept)
        entry.table = table_id
        tables = self._floor.tables
        touched = [t for t in (moved.from_table, moved.to_table, table_id) if t in tables]
        undone: list[fx.AnyEffect] = [
            fx.MoveUndone(
                entry=entry.entry, player_id=entry.player_id, table=table_id, seat=seat,
                stack=entry.stack,
            )
        ]  # fmt: skip
        # An entry the same step moved into her seat, with no other seat free there, was
        # seated where the draw says (its own move, refused in turn, then changes nothing).
        displaced, self._floor.displaced = self._floor.displaced, []
        for number, at_table, at_seat in displaced:
            taker = self.entry(number)
            taker.table = at_table
            touched.append(at_table)
            undone.append(
                fx.MoveUndone(
                    entry=number, player_id=taker.player_id, table=at_table, seat=at_seat,
                    stack=taker.stack,
                )
            )  # fmt: skip
        return [*undone, *self._resume(touched)]

    def _resume(self, touched: Collection[int]) -> list[fx.AnyEffect]:
        """Tell waiting tables that may now deal. Only the tables this change touched are
        checked again, unless something every table waits on changed (the fullest table's
        size, a break, hand-for-hand, the phase): a 1,000-table event stays O(1) a hand."""
        s = self.state
        key = (self._floor.max_count(), s.on_break, s.h4h, s.h4h_round, s.phase, s.money_final)
        changed = key != self._resume_key
        self._resume_key = key  # kept even with nobody waiting: a later wait starts from here
        if not s.waiting:
            return []
        if changed:
            candidates: Collection[int] = s.waiting
        else:
            waiting = set(s.waiting)
            candidates = [t for t in touched if t in waiting]
        tables = self._floor.tables
        ready = [t for t in candidates if t in tables and self._can_deal(t)]
        if not ready:
            return []
        done = set(ready)
        s.waiting = [t for t in s.waiting if t not in done]
        return [fx.TablesMayDeal(tables=tuple(ready))]

    def _can_deal(self, table_id: int) -> bool:
        if self.wait_reason(table_id) is not None:
            return False
        table = self._floor.tables[table_id]
        stacks = {e: self.entry(e).stack for e in table.seats.values()}
        return plan_hand(table, stacks) is not None

    # ------------------------------------------------------------------ hand-for-hand

    def _hand_for_hand_wanted(self) -> bool:
        """TDA RP-8 / WSOP 126: from the bubble (and, if chosen, at each pay jump) while more
        than one table plays."""
        s = self.state
        if not s.money_final or len(self._floor.tables) < 2 or s.alive < 2 or s.groups:
            return False
        paid = len(s.prizes)
        if paid < s.alive <= paid + self.config.hand_for_hand_from_bubble:
            return True
        jump = self.prize_for(s.alive) < self.prize_for(s.alive - 1)
        return self.config.hand_for_hand_at_pay_jumps and jump

    def _hand_for_hand_step(self, rng: random.Random | None) -> list[fx.AnyEffect]:
        """End the round when every table has played its hand (or cannot play one)."""
        s = self.state
        tables = self._floor.tables
        if any(t.in_hand for t in tables.values()):
            return []
        done = set(s.h4h_done)
        for table_id in tables:
            if table_id not in done and self._can_deal(table_id):
                return []
        effects: list[fx.AnyEffect] = []
        for group in s.groups:
            group.open = False
        effects += self._place()
        if rng is not None:
            effects += self._break_and_balance(list(tables), rng)
        if self._hand_for_hand_wanted():
            s.h4h_round += 1
            s.h4h_done = []
        else:
            s.h4h = False
            s.h4h_done = []
            effects.append(fx.HandForHandEnded(remaining=s.alive))
        return effects

    # ------------------------------------------------------------------ the end

    def _finish_if_won(self) -> list[fx.AnyEffect]:
        s = self.state
        if s.alive != 1 or s.groups or not s.money_final or s.registration_open:
            return []
        (entry,) = [e for e in s.entries if e.status in _ALIVE]
        effects: list[fx.AnyEffect] = []
        if entry.status is EntryStatus.AWAITING_REBUY:
            return effects
        entry.place, entry.tied = 1, 1
        entry.prize += self.prize_for(1)
        s.winner = entry.entry
        effects.append(
            fx.PlaceAwarded(
                entry=entry.entry,
                player_id=entry.player_id,
                place=1,
                tied=1,
                prize=self.prize_for(1),
                op=f"prize:{entry.entry}",
            )
        )
        effects += self._own_bounty(entry)
        effects += self._close_tables()
        s.phase = Phase.FINISHED
        effects.append(fx.TournamentFinished(winner=entry.entry))
        return effects

    def _own_bounty(self, entry: Entry) -> list[fx.AnyEffect]:
        """The winner (or a player in a deal that ends the event) collects their own head."""
        if self.config.bounty_kind is BountyKind.NONE or not entry.head:
            return []
        cash, entry.head = entry.head, 0
        entry.bounties += cash
        return [
            fx.BountyWon(
                entry=entry.entry,
                player_id=entry.player_id,
                knocked_out=entry.entry,
                cash=cash,
                head=0,
                op=f"bounty:{entry.entry}:{entry.entry}",
            )
        ]

    def _close_tables(self) -> list[fx.AnyEffect]:
        effects: list[fx.AnyEffect] = []
        for table in list(self._floor.tables.values()):
            for number in list(table.seats.values()):
                self._floor.unseat(table.table_id, number)
                entry = self.entry(number)
                entry.table = 0
                if entry.status in _ALIVE:
                    entry.status = EntryStatus.OUT
                    self.state.alive -= 1
                    self.state.chips_in_play -= entry.stack
            self._floor.remove(table.table_id)
            effects.append(fx.TableClosed(table=table.table_id))
        self.state.waiting = []
        return effects

    # ------------------------------------------------------------------ rebuys, add-on

    def rebuy(self, entry_number: int) -> list[fx.AnyEffect]:
        """A rebuy between hands, while the stack is at or below the threshold."""
        entry = self.entry(entry_number)
        rule = self.structure.rebuy
        if rule is None or not self.state.rebuys_open:
            raise RebuyRefused("rebuys are closed")
        if entry.status not in _ALIVE:
            raise RebuyRefused("the entry is not in the tournament")
        if entry.rebuys >= rule.per_entry_max:
            raise RebuyRefused(f"at most {rule.per_entry_max} rebuys")
        if entry.stack > rule.stack_at_most:
            raise RebuyRefused(f"rebuys only at or below {rule.stack_at_most} chips")
        if entry.entry in self._floor.tables[entry.table].dealt:
            raise RebuyRefused("between hands only (TDA 27)")
        entry.rebuys += 1
        entry.stack += rule.chips
        self.state.chips_in_play += rule.chips
        self.state.collected += rule.price
        effects: list[fx.AnyEffect] = [
            fx.RebuyBought(
                entry=entry.entry,
                player_id=entry.player_id,
                chips=rule.chips,
                price=rule.price,
                fee=rule.fee,
                op=f"rebuy:{entry.entry}:{entry.rebuys}",
            )
        ]
        if entry.status is EntryStatus.AWAITING_REBUY:
            entry.status = EntryStatus.PLAYING
            effects += self._decided(entry, rebought=True)
        return effects + self._after_change((entry.table,))

    def decline_rebuy(self, entry_number: int, rng: random.Random) -> list[fx.AnyEffect]:
        entry = self.entry(entry_number)
        if entry.status is not EntryStatus.AWAITING_REBUY:
            raise RebuyRefused("no rebuy is offered to this entry")
        table = entry.table
        effects = self._decided(entry, rebought=False)
        return effects + self._after_change((table,), rng)

    def addon(self, entry_number: int) -> list[fx.AnyEffect]:
        entry = self.entry(entry_number)
        rule = self.structure.addon
        if rule is None or not self.state.addon_open:
            raise AddOnRefused("the add-on is taken at the first break")
        if entry.status is not EntryStatus.PLAYING:
            raise AddOnRefused("the entry is not in the tournament")
        if entry.addon:
            raise AddOnRefused("one add-on per entry")
        entry.addon = True
        entry.stack += rule.chips
        self.state.chips_in_play += rule.chips
        self.state.collected += rule.price
        return [
            fx.AddOnBought(
                entry=entry.entry,
                player_id=entry.player_id,
                chips=rule.chips,
                price=rule.price,
                fee=rule.fee,
                op=f"addon:{entry.entry}",
            )
        ]

    # ------------------------------------------------------------------ directors

    def _director_table(self, table_id: int) -> Table:
        if self.state.phase is not Phase.RUNNING:
            raise TableRefused("only while the tournament runs")
        if table_id not in self._floor.tables:
            raise TableRefused(f"no table {table_id}")
        table = self._floor.tables[table_id]
        if table.in_hand:
            raise TableRefused(f"table {table_id} is in a hand: between its hands only")
        return table

    def move_entry(
        self, entry_number: int, to_table: int, rng: random.Random
    ) -> list[fx.AnyEffect]:
        """A director moves a playing entry to a random empty seat of ``to_table``, between
        both tables' hands, with its stack exactly; then breaking and balancing follow as
        after any change (TDA 11 may move someone else)."""
        entry = self.entry(entry_number)
        if entry.status is not EntryStatus.PLAYING:
            raise TableRefused(f"entry {entry_number} is not playing")
        source = self._director_table(entry.table)
        target = self._director_table(to_table)
        if target is source:
            raise TableRefused(f"entry {entry_number} sits at table {to_table} already")
        if target.breaking or target.count >= target.seat_count:
            raise TableRefused(f"table {to_table} has no seat to give")
        seat = random_empty_seat(target, rng)
        move = Move(
            entry.entry, source.table_id, source.seat_of(entry.entry), to_table, seat,
            MoveReason.DIRECTOR,
        )  # fmt: skip
        self._floor.apply(move)
        return self._moved([move]) + self._after_change((source.table_id, to_table), rng)

    def break_table(self, table_id: int, rng: random.Random) -> list[fx.AnyEffect]:
        """A director breaks a table between its hands: its players are redrawn to the other
        tables exactly as for a table the core breaks (TDA 10B), stacks unchanged. Refused
        when the other tables lack the seats."""
        table = self._director_table(table_id)
        floor = self._floor
        others = [t for t in floor.tables.values() if t is not table]
        if not others or sum(t.seat_count - t.count for t in others) < table.count:
            raise TableRefused("the other tables have too few seats for its players")
        # The core breaks a table as soon as the players fit in one fewer, so a director's
        # break is the choice of which (a table the core marked waits in a hand: it is
        # spared and may take players now), or a break during hand-for-hand, when the core
        # breaks none. Tables the core still needs to break are marked again after.
        for other in others:
            floor.unmark_breaking(other.table_id)
        moves = floor.plan_break(table_id, rng)
        if table_id in self.state.waiting:
            self.state.waiting.remove(table_id)
        effects = self._moved(moves)
        effects.append(fx.TableClosed(table=table_id))
        return effects + self._after_change({m.to_table for m in moves}, rng)

    def remove_entry(
        self, entry_number: int, *, refund: bool, rng: random.Random
    ) -> list[fx.AnyEffect]:
        """A director takes an entry out (docs/tournaments.md, "Directors").

        Before the start: with ``refund`` it is unregistered (everything back); without,
        it is struck out and its buy-in and bounty stay in the prize pool as prize money
        (the fee stays with the house).
        Playing, with ``refund`` (only while the prizes are not final): undone as if it
        had never entered: its chips leave play; its buy-in, rebuys, add-on and the bounty
        on its head come back, and every fee it paid. Playing, without a refund
        (disqualified): out now, between its table's hands, as if it had busted alone:
        its chips leave play, it takes the next place to be decided (and that place's
        prize, if paid), and, nobody having knocked it out, it collects its own bounty."""
        s, config = self.state, self.config
        entry = self.entry(entry_number)
        if s.phase is Phase.REGISTERING:
            if entry.status is not EntryStatus.REGISTERED:
                raise RegistrationRefused(f"entry {entry_number} is not registered")
            if refund:
                return self.unregister(entry_number)
            entry.status = EntryStatus.UNREGISTERED
            s.entry_count -= 1
            s.collected += config.bounty  # the buy-in stays counted; the bounty joins it
            return [
                fx.EntryRemoved(
                    entry=entry.entry, player_id=entry.player_id, table=0, refund=0, fee=0,
                    op=f"remove:{entry.entry}",
                )
            ]  # fmt: skip
        if entry.status is not EntryStatus.PLAYING:
            raise TableRefused(f"entry {entry_number} is not playing")
        table = self._director_table(entry.table)
        if refund and s.money_final:
            raise TableRefused("the prizes are final: remove without a refund")
        chips, table_id = entry.stack, table.table_id
        s.chips_in_play -= chips
        entry.stack = 0
        if not refund:
            member = BustMember(entry.entry, chips, table_id, [], False)
            s.groups.append(BustGroup(members=[member]))
            out = self._own_bounty(entry) + self._eliminate(member)
            return out + self._after_change((table_id,), rng)
        rebuy, addon = self.structure.rebuy, self.structure.addon
        prize_parts, fees = config.buy_in, config.fee
        if rebuy is not None:
            prize_parts += entry.rebuys * rebuy.price
            fees += entry.rebuys * rebuy.fee
        if entry.addon and addon is not None:
            prize_parts += addon.price
            fees += addon.fee
        head, entry.head = entry.head, 0
        self._floor.unseat(table_id, entry.entry)
        entry.status, entry.table = EntryStatus.UNREGISTERED, 0
        s.alive -= 1
        s.entry_count -= 1
        s.collected -= prize_parts
        effects: list[fx.AnyEffect] = [
            fx.EntryRemoved(
                entry=entry.entry, player_id=entry.player_id, table=table_id,
                refund=prize_parts + head, fee=fees, op=f"remove:{entry.entry}",
            )
        ]  # fmt: skip
        return effects + self._after_change((table_id,), rng)

    # ------------------------------------------------------------------ deals

    def deal(self, kind: DealKind, agreed: Collection[int], keep: int = 0) -> list[fx.AnyEffect]:
        """A deal at the final table, between hands, when every remaining player agrees:
        ICM or chip-chop of the prizes still to be decided, less ``keep`` (played for)."""
        s = self.state
        if s.phase is not Phase.RUNNING or not s.money_final:
            raise DealRefused("deals once the prizes are final")
        if len(self._floor.tables) != 1 or s.groups or s.h4h:
            raise DealRefused("deals at the final table only")
        (table,) = self._floor.tables.values()
        if table.in_hand:
            raise DealRefused("between hands only")
        players = [self.entry(e) for e in sorted(table.seats.values())]
        if any(p.status is not EntryStatus.PLAYING for p in players):
            raise DealRefused("a player is deciding on a rebuy")
        if {p.entry for p in players} - set(agreed):
            raise DealRefused("every remaining player must agree")
        prizes = [self.prize_for(place) for place in range(1, len(players) + 1)]
        stacks = [p.stack for p in players]
        if kind is DealKind.ICM:
            amounts = icm_deal(stacks, prizes, keep)
        elif kind is DealKind.CHIP_CHOP:
            amounts = chip_chop(stacks, prizes, keep)
        else:
            raise DealRefused(f"no deal kind {kind!r}")
        effects: list[fx.AnyEffect] = [
            fx.DealMade(
                kind=str(kind),
                entries=tuple(p.entry for p in players),
                amounts=tuple(amounts),
                kept=keep,
            )
        ]
        for player, amount in zip(players, amounts, strict=True):
            player.prize += amount
            effects.append(
                fx.DealPaid(
                    entry=player.entry,
                    player_id=player.player_id,
                    amount=amount,
                    op=f"deal:{player.entry}",
                )
            )
        # What is left of these places: ``keep`` to the winner, nothing to the others.
        if keep:
            s.prizes = [keep] + [0] * (len(players) - 1)
            return effects
        # Nothing left to play for: the event ends, places by chips (equal stacks tie).
        ranked = order_busts([(p.entry, p.stack) for p in players])
        for placed in place_groups(ranked, len(players), [0] * len(players)):
            entry = self.entry(placed.entry)
            entry.place, entry.tied = placed.place, placed.tied
            effects.append(
                fx.PlaceAwarded(
                    entry=entry.entry,
                    player_id=entry.player_id,
                    place=placed.place,
                    tied=placed.tied,
                    prize=0,
                    op=f"prize:{entry.entry}",
                )
            )
        for player in players:
            effects += self._own_bounty(player)
        s.placed += len(players)
        effects += self._close_tables()
        s.phase = Phase.FINISHED
        effects.append(fx.TournamentFinished(winner=None))
        return effects


class _Stacks(Mapping[int, int]):
    """A read-only view entry -> stack for the table planners (no copy)."""

    __slots__ = ("_entries",)

    def __init__(self, tournament: Tournament) -> None:
        self._entries = tournament.state.entries

    def __getitem__(self, entry: int) -> int:
        return self._entries[entry - 1].stack

    def __iter__(self) -> Iterator[int]:
        return iter(range(1, len(self._entries) + 1))

    def __len__(self) -> int:
        return len(self._entries)
