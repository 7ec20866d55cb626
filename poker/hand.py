"""The hand state machine.

A ``Hand`` is built from a config, the seats, the button and a deck; ``start()`` posts the
forced bets and deals; then each decision is verified (``verify_*`` raises a typed
``IllegalAction`` and changes nothing), tested (``can_*``) or applied (returns events).

Internally players are kept by *position*: position 0 is the first dealt-in seat clockwise
from the button, the button (when dealt in) is last. That is the dealing order, the order of
postflop action, and the odd-chip order (WSOP tournament rule 73).

What moves the machine between phases is data in ``poker/phases.py`` plus
``HandFlow._close_round`` (poker/flow.py), the one place a betting round ends (STYLE.md
point 2). ``HandFlow`` also holds the state; this module is the public API over it.

Invariant (asserted by the property tests after every step; the end of every hand checks
stacks + rake == starting stacks and raises ``EngineInvariantBroken`` otherwise):
sum(stacks) + sum(committed) + dead == sum(starting stacks) until the pots are awarded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, final

from poker.actions import (
    AgreeRunItTwice,
    AnyAction,
    BetOrRaiseTo,
    CheckOrCall,
    Fold,
    LegalActions,
    Muck,
    Show,
)
from poker.betting import NOT_ACTED
from poker.cards import ALL_CARDS, Card, Deck
from poker.config import SEATS_MAX, BlindSeats, HandConfig, Limit, SeatSetup, Variant
from poker.errors import (
    AlreadyDecided,
    AmountNotAllowed,
    AmountTooLarge,
    AmountTooSmall,
    CannotFold,
    CannotRaise,
    HandAlreadyStarted,
    HandIsOver,
    HandNotStarted,
    IllegalAction,
    InvalidSetup,
    NotYourTurn,
    UnknownSeat,
    WrongPhase,
)
from poker.events import (
    ActionKind,
    AntePosted,
    BlindPosted,
    Event,
    HandMucked,
    HandShown,
    HandStarted,
    HoleCardsDealt,
    PlayerActed,
    RunItTwiceAnswered,
    RunItTwiceDecided,
    Street,
)
from poker.flow import HandFlow
from poker.forced_bets import NO_STRADDLE, Placement, plan_forced_bets
from poker.phases import (
    BOARD_CARDS,
    BURN_CARDS,
    PHASE_ACTIONS,
    STREETS,
    Decision,
    Phase,
)
from poker.showdown import HandResult, PotResult
from poker.snapshot import decode_into, encode_hand

# Re-exported: the first interface version defined these records here.
__all__ = ["BlindSeats", "Hand", "HandResult", "LegalActions", "PotResult"]

# Enum members bound once: an attribute lookup on an Enum class costs ~70 ns, and the
# hot path of every decision makes several.
_ACT_BET: Final = ActionKind.BET
_ACT_CALL: Final = ActionKind.CALL
_ACT_CHECK: Final = ActionKind.CHECK
_ACT_FOLD: Final = ActionKind.FOLD
_ACT_RAISE: Final = ActionKind.RAISE
_ANTE: Final = Placement.ANTE
_BETTING: Final = Phase.BETTING
_DO_AGREE_RUN_IT_TWICE: Final = Decision.AGREE_RUN_IT_TWICE
_DO_BET_OR_RAISE_TO: Final = Decision.BET_OR_RAISE_TO
_DO_CHECK_OR_CALL: Final = Decision.CHECK_OR_CALL
_DO_FOLD: Final = Decision.FOLD
_DO_MUCK: Final = Decision.MUCK
_DO_SHOW: Final = Decision.SHOW
_FIXED_LIMIT: Final = Limit.FIXED_LIMIT
_NO_LIMIT: Final = Limit.NO_LIMIT
_LIVE: Final = Placement.LIVE
_NOT_STARTED: Final = Phase.NOT_STARTED
_OVER: Final = Phase.OVER
_RUN_IT_TWICE: Final = Phase.RUN_IT_TWICE
_SHOWDOWN: Final = Phase.SHOWDOWN

_NO_ACTIONS: Final = LegalActions(seat=-1)
# Hand.restore builds on these, then overwrites every field from the snapshot.
_BLANK_CONFIG: Final = HandConfig(variant=Variant.NO_LIMIT_HOLDEM, small_blind=1, big_blind=2)
_BLANK_SEATS: Final = (
    SeatSetup(seat=0, player_id="", stack=1),
    SeatSetup(seat=1, player_id="", stack=1),
)


@final
class Hand(HandFlow):
    """One hand of poker. Pure and deterministic: everything random comes in the deck."""

    __slots__ = ()

    def __init__(
        self,
        config: HandConfig,
        seats: Sequence[SeatSetup],
        button: int,
        deck: Deck,
        blinds: BlindSeats | None = None,
    ) -> None:
        """``button`` may be an empty seat (dead button). ``blinds`` None: heads-up the
        button posts the small blind, otherwise the next two dealt-in seats clockwise."""
        n = len(seats)
        if not 2 <= n <= 10:
            raise InvalidSetup(f"a hand needs 2 to 10 players, got {n}")
        if not 0 <= button < 10:
            raise InvalidSetup(f"button {button} out of 0..9")
        # Dealing order without a sort: a table of the ten seats, read from the button's
        # left (the same order as ``dealing_order``).
        by_seat: list[SeatSetup | None] = [None] * SEATS_MAX
        for setup in seats:
            if by_seat[setup.seat] is not None:
                raise InvalidSetup("two players in one seat")
            by_seat[setup.seat] = setup
        # One comprehension, transposed by zip(): each comprehension is a call in 3.11.
        # (strict=False: every row is a 4-tuple, and the strict check costs ~40% of the zip.)
        seat_ids, player_ids, posts, starting = zip(
            *[
                (s.seat, s.player_id, s.posts, s.stack)
                for s in by_seat[button + 1 :] + by_seat[: button + 1]
                if s is not None
            ],
            strict=False,
        )
        self._seats = seat_ids
        self._pos_of = {seat: pos for pos, seat in enumerate(seat_ids)}
        needed = n * config.variant.hole_cards + BOARD_CARDS + 3 * BURN_CARDS
        if deck.remaining < needed:
            raise InvalidSetup(f"the deck holds {deck.remaining} cards, a deal needs {needed}")
        self._config = config
        self._limit = config.variant.limit
        self._n = n
        self._button = button
        self._deck = deck
        self._player_ids = player_ids
        self._posts = posts
        self._starting = starting
        if blinds is None:
            # Heads-up the button (position 1, last) posts the small blind (live rule 153).
            self._sb_pos, self._bb_pos = (1, 0) if n == 2 else (0, 1)
        else:
            if blinds.big not in self._pos_of or (
                blinds.small is not None and blinds.small not in self._pos_of
            ):
                raise InvalidSetup("the blinds must be posted by dealt-in seats")
            if blinds.small == blinds.big:
                raise InvalidSetup("one seat cannot post both blinds")
            self._sb_pos = -1 if blinds.small is None else self._pos_of[blinds.small]
            self._bb_pos = self._pos_of[blinds.big]
        self._stacks = list(starting)
        self._bets = [0] * n
        self._committed = [0] * n
        self._dead = 0
        self._folded = [False] * n
        self._all_in = [False] * n
        self._acted_at = [NOT_ACTED] * n
        self._hole = [[] for _ in range(n)]
        self._board = []
        self._board2 = []
        self._phase = _NOT_STARTED
        self._street = 0
        self._actor = -1
        self._high = 0
        self._raise_size = 0
        self._full_to = 0
        self._bet_count = 0
        self._capped = False
        self._aggressor = -1
        self._live_count = n
        self._all_in_count = 0
        self._rit_pending = []
        self._runs = 1
        self._showdown_queue = []
        self._shown = [False] * n
        self._mucked = [False] * n
        self._pot_results = []
        self._rake = 0

    @staticmethod
    def dealing_order(seats: Sequence[int], button: int) -> tuple[int, ...]:
        """Seats in the engine's order: first seat clockwise from the button first, the
        button last. Hole cards are dealt one at a time in this order."""
        return tuple(sorted(seats, key=lambda seat: (seat - button - 1) % 10))

    # ------------------------------------------------------------------ views

    @property
    def config(self) -> HandConfig:
        return self._config

    @property
    def seats(self) -> tuple[int, ...]:
        """Dealt-in seats in dealing order (first left of the button first)."""
        return self._seats

    @property
    def button(self) -> int:
        return self._button

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def street(self) -> Street:
        return STREETS[self._street]

    @property
    def actor(self) -> int | None:
        """The seat whose decision the hand waits for, or None (over / not started)."""
        return None if self._actor < 0 else self._seats[self._actor]

    @property
    def is_over(self) -> bool:
        return self._phase is _OVER

    @property
    def stacks(self) -> dict[int, int]:
        """Chips behind (not in front of the player) by seat, now."""
        return dict(zip(self._seats, self._stacks, strict=True))

    @property
    def bets(self) -> dict[int, int]:
        """Chips in front of each seat on this street."""
        return dict(zip(self._seats, self._bets, strict=True))

    @property
    def pot_total(self) -> int:
        """Every chip in the middle: collected pots, dead money and this street's bets."""
        return sum(self._committed) + self._dead

    @property
    def board(self) -> tuple[Card, ...]:
        return tuple(self._board)

    @property
    def second_board(self) -> tuple[Card, ...]:
        """The second run's full board when the hand was run twice, else ()."""
        return tuple(self._board2)

    def hole_cards(self, seat: int) -> tuple[Card, ...]:
        return tuple(self._hole[self._position(seat)])

    def player_id(self, seat: int) -> str:
        return self._player_ids[self._position(seat)]

    def is_folded(self, seat: int) -> bool:
        return self._folded[self._position(seat)]

    def is_all_in(self, seat: int) -> bool:
        return self._all_in[self._position(seat)]

    @property
    def result(self) -> HandResult:
        """Once over: finishing stacks, pots with winners, rake."""
        if self._phase is not _OVER:
            raise WrongPhase("the hand has no result before it is over")
        return HandResult(
            seats=self._seats,
            starting_stacks=self._starting,
            stacks=tuple(self._stacks),
            pots=tuple(self._pot_results),
            rake=self._rake,
            board=tuple([card.code for card in self._board]),
            second_board=tuple([card.code for card in self._board2]),
        )

    def legal_actions(self) -> LegalActions:
        """What the current actor may do (an empty record when nobody is to act)."""
        pos = self._actor
        if pos < 0:
            return _NO_ACTIONS
        seat = self._seats[pos]
        phase = self._phase
        if phase is not _BETTING:
            if phase is _SHOWDOWN:
                return LegalActions(seat=seat, show=True, muck=True)
            return LegalActions(seat=seat, run_it_twice=True)
        high = self._high
        bet = self._bets[pos]
        stack = self._stacks[pos]
        to_call = high - bet
        facing_bet = to_call > 0
        call = (to_call if to_call < stack else stack) if facing_bet else None
        # Positional fields (seat, fold, check, call, min_raise_to, max_raise_to): the
        # hottest record of the engine, built once per decision.
        if self._limit is _NO_LIMIT:
            # ``_raise_bounds`` inlined for no-limit, the hot path (same rules, same order).
            all_in_to = bet + stack
            if all_in_to > high and self._live_count - self._all_in_count >= 2:
                acted_at = self._acted_at[pos]
                raise_size = self._raise_size
                if acted_at == NOT_ACTED or high - acted_at >= raise_size:
                    min_to = high + raise_size
                    if min_to > all_in_to:
                        min_to = all_in_to
                    return LegalActions(seat, facing_bet, not facing_bet, call, min_to, all_in_to)
            return LegalActions(seat, facing_bet, not facing_bet, call)
        bounds = self._raise_bounds(pos)
        if bounds is None:
            return LegalActions(seat, facing_bet, not facing_bet, call)
        return LegalActions(seat, facing_bet, not facing_bet, call, bounds[0], bounds[1])

    # ------------------------------------------------------------------ start

    def start(self) -> list[Event]:
        """Post antes and blinds, deal hole cards; the first betting round opens.

        Order of forced bets: antes (``each``), small blind, big blind, the big blind's ante
        (``big_blind`` mode: blind first, ante from what is left), returning players' posts,
        straddle. Dealing: one card at a time to every position, starting with the first
        seat left of the button, as many rounds as the variant has hole cards.
        """
        if self._phase is not _NOT_STARTED:
            raise HandAlreadyStarted("start() was already called")
        config = self._config
        n = self._n
        events: list[Event] = [
            HandStarted(
                button=self._button,
                seats=self._seats,
                stacks=self._starting,
                small_blind_seat=None if self._sb_pos < 0 else self._seats[self._sb_pos],
                big_blind_seat=self._seats[self._bb_pos],
            )
        ]
        plan, straddle_pos = plan_forced_bets(config, self._sb_pos, self._bb_pos, self._posts)
        for pos, kind, owed, placement in plan:
            amount = self._take(pos, owed)
            if placement is _LIVE:
                self._bets[pos] += amount
                self._committed[pos] += amount
            elif placement is _ANTE:
                self._committed[pos] += amount
            else:
                self._dead += amount
            seat = self._seats[pos]
            all_in = self._all_in[pos]
            if kind is None:
                events.append(AntePosted(seat, amount, all_in))
            else:
                events.append(BlindPosted(seat, kind, amount, all_in))
        self._raise_size = config.big_blind
        if straddle_pos != NO_STRADDLE and self._bets[straddle_pos] == config.straddle:
            # Live rule 11: the straddle acts as a raise over the big blind; the next raise
            # is to three big blinds after a two-big-blind straddle.
            self._raise_size = max(config.big_blind, config.straddle - config.big_blind)
        # A short blind does not lower the price: the others still call the full blind.
        self._high = max(config.big_blind, max(self._bets))
        if self._limit is _FIXED_LIMIT:
            self._raise_size = config.small_bet
            self._full_to = config.big_blind
            self._bet_count = 1  # the big blind is the bet
        self._deal_hole_cards(events)
        self._phase = _BETTING
        self._capped = self._live_count - self._all_in_count > 2
        first = ((straddle_pos if straddle_pos != NO_STRADDLE else self._bb_pos) + 1) % n
        self._ask_next(first, events)
        return events

    def _deal_hole_cards(self, events: list[Event]) -> None:
        n = self._n
        per = self._config.variant.hole_cards
        drawn = self._deck.draw(n * per)
        codes = [card.code for card in drawn]
        seats = self._seats
        hole = self._hole
        append = events.append
        for pos in range(n):
            # One card at a time around the table: a player's cards are every n-th card.
            hole[pos] = drawn[pos::n]
            append(HoleCardsDealt(seats[pos], tuple(codes[pos::n])))

    # ------------------------------------------------------------------ turn checks

    def _position(self, seat: int) -> int:
        try:
            return self._pos_of[seat]
        except KeyError:
            raise UnknownSeat(f"seat {seat} is not dealt in") from None

    def _betting_turn(self, seat: int, decision: Decision) -> int:
        """The position of ``seat`` if it is to make a betting decision now (the hot path:
        one lookup and two comparisons), else raises as ``_check_turn`` does."""
        pos = self._pos_of.get(seat, -1)
        if pos == self._actor and pos >= 0 and self._phase is _BETTING:
            return pos
        return self._check_turn(seat, decision)

    def _check_turn(self, seat: int, decision: Decision) -> int:
        pos = self._pos_of.get(seat, -1)
        if pos == self._actor and pos >= 0 and decision in PHASE_ACTIONS[self._phase]:
            return pos  # the common case, decided with two lookups
        phase = self._phase
        if decision not in PHASE_ACTIONS[phase]:
            if phase is _NOT_STARTED:
                raise HandNotStarted("the hand has not started")
            if phase is _OVER:
                raise HandIsOver("the hand is over")
            raise WrongPhase(f"{decision} is not allowed during {phase}")
        if pos < 0:
            raise UnknownSeat(f"seat {seat} is not dealt in")
        raise NotYourTurn(f"seat {seat} is not to act")

    # ------------------------------------------------------------------ fold

    def verify_fold(self, seat: int) -> None:
        self._verified_fold(seat)

    def _verified_fold(self, seat: int) -> int:
        """``verify_fold``, returning the position (the do-path needs it)."""
        pos = self._betting_turn(seat, _DO_FOLD)
        if self._bets[pos] >= self._high:
            raise CannotFold("nothing to call: check instead")
        return pos

    def can_fold(self, seat: int) -> bool:
        return _can(self.verify_fold, seat)

    def fold(self, seat: int) -> list[Event]:
        pos = self._verified_fold(seat)
        self._folded[pos] = True
        self._live_count -= 1
        events: list[Event] = [PlayerActed(seat, _ACT_FOLD, 0, self._bets[pos], False)]
        if self._live_count == 1:
            self._close_round(events)
        else:
            self._ask_next(pos + 1, events)
        return events

    # ------------------------------------------------------------------ check or call

    def verify_check_or_call(self, seat: int) -> None:
        self._betting_turn(seat, _DO_CHECK_OR_CALL)

    def can_check_or_call(self, seat: int) -> bool:
        return _can(self.verify_check_or_call, seat)

    def check_or_call(self, seat: int) -> list[Event]:
        # ``_betting_turn`` inlined: the engine's most common decision.
        pos = self._pos_of.get(seat, -1)
        if pos != self._actor or pos < 0 or self._phase is not _BETTING:
            pos = self._check_turn(seat, _DO_CHECK_OR_CALL)  # raises: not this seat's turn
        high = self._high
        bet = self._bets[pos]
        self._acted_at[pos] = high
        if high > bet:
            added = self._take(pos, high - bet)
            bet += added
            self._bets[pos] = bet
            self._committed[pos] += added
            # PlayerActed's fields in order: seat, action, amount, bet_to, all_in.
            events: list[Event] = [PlayerActed(seat, _ACT_CALL, added, bet, self._all_in[pos])]
        else:
            events = [PlayerActed(seat, _ACT_CHECK, 0, bet, False)]  # an actor has chips
        self._ask_next(pos + 1, events)
        return events

    # ------------------------------------------------------------------ bet or raise

    # ``amount: object``: a compiled (mypyc) method would refuse a float with a TypeError
    # before the hand could answer AmountNotAllowed; the type check is ours, below.
    def verify_bet_or_raise_to(self, seat: int, amount: object) -> None:
        self._verified_bet_or_raise_to(seat, amount)

    def _verified_bet_or_raise_to(self, seat: int, amount: object) -> int:
        """``verify_bet_or_raise_to``, returning the position (the do-path needs it)."""
        pos = self._betting_turn(seat, _DO_BET_OR_RAISE_TO)
        if type(amount) is not int:  # not a float, not a bool: chips are whole numbers
            raise AmountNotAllowed(f"a bet is a whole number of chips, not {amount!r}")
        bounds = self._raise_bounds(pos)
        if bounds is None:
            raise CannotRaise(f"seat {seat} may not bet or raise now")
        low, high = bounds
        if self._limit is _FIXED_LIMIT and amount != low:
            raise AmountNotAllowed(f"fixed limit: the bet must be exactly {low}")
        if amount < low:
            raise AmountTooSmall(f"the minimum is {low}")
        if amount > high:
            raise AmountTooLarge(f"the maximum is {high}")
        return pos

    def can_bet_or_raise_to(self, seat: int, amount: object) -> bool:
        return _can(self.verify_bet_or_raise_to, seat, amount)

    def bet_or_raise_to(self, seat: int, amount: object) -> list[Event]:
        pos = self._verified_bet_or_raise_to(seat, amount)
        assert type(amount) is int  # verified above; narrows for mypy
        previous_high = self._high
        added = self._take(pos, amount - self._bets[pos])
        self._bets[pos] = amount
        self._committed[pos] += added
        if self._limit is _FIXED_LIMIT:
            # A completion or full raise, or a short all-in of at least half a bet (live
            # rule 129), sets the level the next raise builds on and counts toward the cap.
            if (amount - self._full_to) * 2 >= self._raise_size:
                self._full_to = amount
                self._bet_count += 1
        elif amount - previous_high >= self._raise_size:
            self._raise_size = amount - previous_high  # a full raise (rule 96)
        self._high = amount
        self._acted_at[pos] = amount
        self._aggressor = pos
        kind = _ACT_BET if previous_high == 0 else _ACT_RAISE
        events: list[Event] = [PlayerActed(seat, kind, added, amount, self._all_in[pos])]
        self._ask_next(pos + 1, events)
        return events

    # ------------------------------------------------------------------ run it twice

    def verify_agree_run_it_twice(self, seat: int, agree: bool) -> None:
        phase = self._phase
        if _DO_AGREE_RUN_IT_TWICE not in PHASE_ACTIONS[phase]:
            self._check_turn(seat, _DO_AGREE_RUN_IT_TWICE)
        pos = self._position(seat)
        if pos not in self._rit_pending:
            if self._folded[pos]:
                raise NotYourTurn(f"seat {seat} is not in the hand")
            raise AlreadyDecided(f"seat {seat} already answered")

    def can_agree_run_it_twice(self, seat: int, agree: bool) -> bool:
        return _can(self.verify_agree_run_it_twice, seat, agree)

    def agree_run_it_twice(self, seat: int, agree: bool) -> list[Event]:
        """Any player still asked may answer, in any order; one "no" runs it once."""
        self.verify_agree_run_it_twice(seat, agree)
        pos = self._pos_of[seat]
        events: list[Event] = [RunItTwiceAnswered(seat=seat, agree=agree)]
        self._rit_pending.remove(pos)
        if agree and self._rit_pending:
            self._actor = self._rit_pending[0]
            return events
        self._rit_pending = []
        self._runs = 2 if agree else 1
        events.append(RunItTwiceDecided(runs=self._runs))
        self._actor = -1
        self._run_out_and_finish(events)
        return events

    # ------------------------------------------------------------------ showdown

    def verify_show(self, seat: int) -> None:
        self._check_turn(seat, _DO_SHOW)

    def can_show(self, seat: int) -> bool:
        return _can(self.verify_show, seat)

    def show(self, seat: int) -> list[Event]:
        pos = self._check_turn(seat, _DO_SHOW)
        self._shown[pos] = True
        events: list[Event] = [HandShown(seat=seat, cards=tuple([c.code for c in self._hole[pos]]))]
        self._next_showdown(events)
        return events

    def verify_muck(self, seat: int) -> None:
        # Whoever is asked may muck: the last live hand is never asked (it wins unshown,
        # tournament rule 72), and all-in hands are face up, never asked (rule 70).
        self._check_turn(seat, _DO_MUCK)

    def can_muck(self, seat: int) -> bool:
        return _can(self.verify_muck, seat)

    def muck(self, seat: int) -> list[Event]:
        pos = self._check_turn(seat, _DO_MUCK)
        self._mucked[pos] = True
        events: list[Event] = [HandMucked(seat=seat)]
        self._next_showdown(events)
        return events

    # ------------------------------------------------------------------ apply

    def apply(self, action: AnyAction) -> list[Event]:
        """Apply a typed action record (PHH replay, the wire)."""
        kind = type(action)
        if kind is CheckOrCall:
            return self.check_or_call(action.seat)
        if kind is BetOrRaiseTo:
            assert isinstance(action, BetOrRaiseTo)
            return self.bet_or_raise_to(action.seat, action.amount)
        if kind is Fold:
            return self.fold(action.seat)
        if kind is Show:
            return self.show(action.seat)
        if kind is Muck:
            return self.muck(action.seat)
        if kind is AgreeRunItTwice:
            assert isinstance(action, AgreeRunItTwice)
            return self.agree_run_it_twice(action.seat, action.agree)
        raise TypeError(f"not an action: {action!r}")

    # ------------------------------------------------------------------ snapshot

    def snapshot(self) -> bytes:
        """The whole state as msgpack; ``Hand.restore`` gives back an identical hand."""
        return encode_hand(self)

    @classmethod
    def restore(cls, data: bytes) -> Hand:
        """The hand a ``snapshot()`` was taken of (raises ``SnapshotInvalid``)."""
        # A placeholder hand whose every field decode_into replaces: mypyc-compiled classes
        # have no bare cls.__new__ (their __new__ runs __init__).
        hand = cls(_BLANK_CONFIG, _BLANK_SEATS, 0, Deck(ALL_CARDS))
        decode_into(hand, data)
        return hand


def _can(verify: Callable[..., None], *args: object) -> bool:
    try:
        verify(*args)
    except IllegalAction:
        return False
    return True
