"""A whole tournament played in one process: the tournament core drives ``poker.Hand``
tables with random legal play (``poker.simulate.choose_action``), on a simulated clock.

Used by the tests (properties over whole events) and by ``tablium bench tournament``.
Deterministic for a seed: one RNG for the cards, the players' choices and the seat draws.
Time is simulated: a hand lasts ``hand_pause_ms`` plus ``decision_ms`` per decision, and
tables run side by side (the table whose next event is earliest goes next), so levels,
breaks, balancing and hand-for-hand happen as they would live.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from typing import Final

import msgspec

from poker.actions import AnyAction, BetOrRaiseTo, CheckOrCall, Fold, LegalActions, Muck, Show
from poker.cards import Deck
from poker.hand import Hand
from poker.showdown import HandResult
from poker.simulate import choose_action
from poker.tournament import effects as fx
from poker.tournament.errors import TournamentInvariantBroken
from poker.tournament.state import EntryStatus, Phase
from poker.tournament.structure import ClockReading, LevelUnit
from poker.tournament.tournament import Tournament

DECISIONS_PER_HAND_MAX: Final = 1_000
EVENTS_MAX: Final = 50_000_000  # policy: a run past it is a bug (raises)

_CLOCK: Final = 0  # event kinds, in the order they go at one instant
_HAND_END: Final = 1
_NEXT_HAND: Final = 2


class SimulationResult(msgspec.Struct, frozen=True):
    entries: int
    hands: int
    decisions: int
    simulated_ms: int
    winner: int | None
    places_given: int
    moves: int
    tables_broken: int
    hand_for_hand_periods: int
    effects: int


Policy = Callable[[LegalActions, random.Random], AnyAction]


def passive_action(legal: LegalActions, rng: random.Random) -> AnyAction:
    """A tighter, quieter random player than ``choose_action``: facing a bet it folds 45%,
    calls 50%, min-raises 5%; otherwise it checks 85% and min-bets 15%. All-ins come from
    short stacks and the blinds, so events run many more hands (closer to real play)."""
    seat = legal.seat
    if legal.show or legal.muck:
        return Show(seat=seat) if legal.show else Muck(seat=seat)
    roll = rng.random()
    can_raise = legal.min_raise_to is not None
    if not legal.check:
        if legal.fold and roll < 0.45:
            return Fold(seat=seat)
        if can_raise and roll > 0.95:
            assert legal.min_raise_to is not None
            return BetOrRaiseTo(seat=seat, amount=legal.min_raise_to)
        return CheckOrCall(seat=seat)
    if can_raise and roll > 0.85:
        assert legal.min_raise_to is not None
        return BetOrRaiseTo(seat=seat, amount=legal.min_raise_to)
    return CheckOrCall(seat=seat)


def play_hand(
    deal: fx.DealHand, rng: random.Random, policy: Policy = choose_action
) -> tuple[HandResult, int]:
    """One hand with random legal actions: its result and its number of decisions."""
    hand = Hand(deal.config, deal.seats, deal.button, Deck.shuffled(rng), deal.blinds)
    hand.start()
    decisions = 0
    while not hand.is_over:
        hand.apply(policy(hand.legal_actions(), rng))
        decisions += 1
        if decisions > DECISIONS_PER_HAND_MAX:
            raise TournamentInvariantBroken("a hand that does not end")
    return hand.result, decisions


def _over(tournament: Tournament) -> bool:
    return tournament.phase is Phase.FINISHED


def _reading(tournament: Tournament, now: int) -> ClockReading | None:
    structure = tournament.structure
    if structure.unit is not LevelUnit.MINUTES:
        return None
    return structure.clock_at(now, tournament.state.start_in_hour_ms)


def run(
    tournament: Tournament,
    rng: random.Random,
    *,
    decision_ms: int = 1_000,
    rebuy_chance: float = 0.5,  # of taking a rebuy offered, and the add-on
    late_entries: int = 0,  # players who register late, at random moments while it is open
    reentry_chance: float = 0.0,  # of a player out re-entering while registration is open
    policy: Policy = choose_action,
    on_step: Callable[[Tournament, list[fx.AnyEffect]], None] | None = None,
    # The chance that the live tables refuse a move (``move_refused``): the destination, or
    # (half the time, when it still stands) the source, which keeps her in her seat.
    refuse_moves: float = 0.0,
) -> SimulationResult:
    """Play a started tournament to its end. ``on_step`` sees every batch of effects."""
    if tournament.phase is not Phase.RUNNING:
        raise ValueError("start the tournament first")
    pause_ms = tournament.structure.hand_pause_ms
    events: list[tuple[int, int, int, int]] = []  # (time, kind, sequence, table)
    pending: dict[int, HandResult] = {}
    sequence = 0
    now = 0
    hands = decisions = moves = broken = rounds = effect_count = 0
    late_left = late_entries

    def push(at: int, kind: int, table: int) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(events, (at, kind, sequence, table))

    def handle(batch: list[fx.AnyEffect]) -> None:
        nonlocal moves, broken, rounds, effect_count
        effect_count += len(batch)
        if on_step is not None:
            on_step(tournament, batch)
        ending = any(isinstance(effect, fx.TournamentFinished) for effect in batch)
        for effect in batch:
            if isinstance(effect, fx.TablesMayDeal):
                for table in effect.tables:
                    push(now, _NEXT_HAND, table)
            elif isinstance(effect, fx.PlayerMoved):
                moves += 1
                if refuse_moves and rng.random() < refuse_moves:
                    kept = effect.from_table in tournament.floor.tables and rng.random() < 0.5
                    handle(tournament.move_refused(effect, rng, kept=kept))
            elif isinstance(effect, fx.TableClosed) and not ending:
                broken += 1  # a table broken, not the last one closing at the end
            elif isinstance(effect, fx.HandForHandStarted):
                rounds += 1
            elif isinstance(effect, fx.BreakStarted) and tournament.state.addon_open:
                for entry in tournament.state.entries:
                    if entry.status is EntryStatus.PLAYING and rng.random() < rebuy_chance:
                        handle(tournament.addon(entry.entry))
            elif isinstance(effect, fx.TableOpened):
                push(now, _NEXT_HAND, effect.table)
            elif isinstance(effect, fx.Eliminated) and tournament.state.registration_open:
                if rng.random() < reentry_chance and tournament.may_register(effect.player_id):
                    handle(tournament.register(effect.player_id, rng))
            elif isinstance(effect, fx.RebuyOffered):
                if rng.random() < rebuy_chance:
                    handle(tournament.rebuy(effect.entry))
                else:
                    handle(tournament.decline_rebuy(effect.entry, rng))

    for table_id in sorted(tournament.floor.tables):
        push(0, _NEXT_HAND, table_id)
    start = tournament.state.started_at_ms
    for _ in range(EVENTS_MAX):
        if _over(tournament):
            break
        if not events:
            # Every table waits (for late registrants, the end of registration...): the
            # clock is the only thing that can move the event on.
            reading = _reading(tournament, now)
            if reading is None or reading.remaining_ms < 0:
                raise TournamentInvariantBroken(f"the tournament is stuck at {now} ms")
            push(now + max(1, reading.remaining_ms), _CLOCK, 0)
        now, kind, _, table_id = heapq.heappop(events)
        handle(tournament.clock(start + now))
        if late_left and tournament.state.registration_open and rng.random() < 0.05:
            late_left -= 1
            handle(tournament.register(f"late-{late_entries - late_left}", rng))
        if _over(tournament):
            break
        if kind == _CLOCK:
            continue
        if kind == _HAND_END:
            result = pending.pop(table_id)
            handle(tournament.hand_ended(table_id, result, rng))
            push(now + pause_ms, _NEXT_HAND, table_id)
            continue
        if table_id not in tournament.floor.tables or tournament.table(table_id).in_hand:
            continue
        answer = tournament.next_hand(table_id)
        if isinstance(answer, fx.Wait):
            reading = _reading(tournament, now)
            if answer.reason is fx.WaitReason.BREAK and reading is not None:
                push(now + max(1, reading.remaining_ms), _CLOCK, table_id)
            continue
        result, count = play_hand(answer, rng, policy)
        hands += 1
        decisions += count
        pending[table_id] = result
        push(now + count * decision_ms, _HAND_END, table_id)
    else:
        raise TournamentInvariantBroken(f"no winner after {EVENTS_MAX} events")
    return SimulationResult(
        entries=len(tournament.state.entries),
        hands=hands,
        decisions=decisions,
        simulated_ms=now,
        winner=tournament.state.winner or None,
        places_given=sum(1 for e in tournament.state.entries if e.place),
        moves=moves,
        tables_broken=broken,
        hand_for_hand_periods=rounds,
        effects=effect_count,
    )
