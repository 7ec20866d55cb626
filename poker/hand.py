"""The hand state machine.

A ``Hand`` is built from a config, the seats, the button and a deck; ``start()`` posts the
forced bets and deals; then each decision is verified (``verify_*`` raises a typed
``IllegalAction`` and changes nothing), tested (``can_*``) or applied (returns events).

Internally players are kept by *position*: position 0 is the first dealt-in seat clockwise
from the button, the button (when dealt in) is last. That is the dealing order, the order of
postflop action, and the odd-chip order (WSOP tournament rule 73).

Everything that moves the machine between phases lives in this module's tables
(``_PHASE_ACTIONS``, ``_NEXT_STREET``) and in ``_close_round``, the one place a betting
round ends (STYLE.md point 2).

Invariant (checked by the tests after every step, and by ``_assert_conserved``):
sum(stacks) + sum(committed) + dead == sum(starting stacks) until the pots are awarded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Final, final

import msgspec

from poker.actions import AgreeRunItTwice, AnyAction, BetOrRaiseTo, CheckOrCall, Fold, Muck, Show
from poker.betting import NOT_ACTED, betting_reopened, raise_bounds
from poker.cards import ALL_CARDS, Card, Deck
from poker.config import AnteMode, HandConfig, Limit, ReturningPost, SeatSetup
from poker.errors import (
    AlreadyDecided,
    AmountNotAllowed,
    AmountTooLarge,
    AmountTooSmall,
    CannotFold,
    CannotRaise,
    EngineInvariantBroken,
    HandAlreadyStarted,
    HandIsOver,
    HandNotStarted,
    IllegalAction,
    InvalidSetup,
    NotYourTurn,
    SnapshotInvalid,
    UnknownSeat,
    WrongPhase,
)
from poker.events import (
    ActionKind,
    ActionRequested,
    AntePosted,
    BlindKind,
    BlindPosted,
    BoardDealt,
    Event,
    HandEnded,
    HandMucked,
    HandShown,
    HandStarted,
    HoleCardsDealt,
    PlayerActed,
    PotsUpdated,
    PotView,
    RunItTwiceAnswered,
    RunItTwiceDecided,
    RunItTwiceOffered,
    ShowdownRequested,
    Street,
    UncalledBetReturned,
)
from poker.pots import build_pots
from poker.showdown import HandResult, PotResult, settle

SNAPSHOT_VERSION: Final = 1


class Phase(StrEnum):
    NOT_STARTED = "not_started"
    BETTING = "betting"
    RUN_IT_TWICE = "run_it_twice"  # all-in, action closed: waiting for every answer
    SHOWDOWN = "showdown"  # river betting closed, nobody all-in: show or muck in order
    OVER = "over"


class Decision(StrEnum):
    FOLD = "fold"
    CHECK_OR_CALL = "check_or_call"
    BET_OR_RAISE_TO = "bet_or_raise_to"
    SHOW = "show"
    MUCK = "muck"
    AGREE_RUN_IT_TWICE = "agree_run_it_twice"


# Which decisions each phase accepts; anything else raises WrongPhase.
_PHASE_ACTIONS: Final[dict[Phase, frozenset[Decision]]] = {
    Phase.NOT_STARTED: frozenset(),
    Phase.BETTING: frozenset({Decision.FOLD, Decision.CHECK_OR_CALL, Decision.BET_OR_RAISE_TO}),
    Phase.RUN_IT_TWICE: frozenset({Decision.AGREE_RUN_IT_TWICE}),
    Phase.SHOWDOWN: frozenset({Decision.SHOW, Decision.MUCK}),
    Phase.OVER: frozenset(),
}

_STREETS: Final = (Street.PREFLOP, Street.FLOP, Street.TURN, Street.RIVER)
# street index -> (next street index, board cards it deals); the river has no next street.
# Every board street is preceded by one burn card.
_NEXT_STREET: Final[dict[int, tuple[int, int]]] = {0: (1, 3), 1: (2, 1), 2: (3, 1)}
BOARD_CARDS: Final = 5
BURN_CARDS: Final = 1


class LegalActions(msgspec.Struct, frozen=True):
    """What ``seat`` may do now. Amounts are chips; ``None`` means not allowed.

    ``call`` is the chips a call adds (it may be an all-in for less). ``min_raise_to`` and
    ``max_raise_to`` bound ``bet_or_raise_to(amount)``: the total the bet becomes this street
    (fixed limit: both equal the one allowed amount, or the all-in).
    """

    seat: int
    fold: bool = False
    check: bool = False
    call: int | None = None
    min_raise_to: int | None = None
    max_raise_to: int | None = None
    show: bool = False
    muck: bool = False
    run_it_twice: bool = False


class BlindSeats(msgspec.Struct, frozen=True):
    """Who posts the blinds, as the table planned it (dead button / dead small blind rules
    live in the table's seating plan). ``small`` None: no small blind this hand."""

    small: int | None
    big: int


_NO_ACTIONS: Final = LegalActions(seat=-1)


@final
class Hand:
    """One hand of poker. Pure and deterministic: everything random comes in the deck."""

    __slots__ = (
        "_acted_at",
        "_actor",
        "_aggressor",
        "_all_in",
        "_all_in_count",
        "_bb_pos",
        "_bet_count",
        "_bets",
        "_board",
        "_board2",
        "_button",
        "_capped",
        "_committed",
        "_config",
        "_dead",
        "_deck",
        "_folded",
        "_full_to",
        "_high",
        "_hole",
        "_limit",
        "_live_count",
        "_mucked",
        "_n",
        "_phase",
        "_player_ids",
        "_pos_of",
        "_posts",
        "_pot_results",
        "_raise_size",
        "_rake",
        "_rit_pending",
        "_runs",
        "_sb_pos",
        "_seats",
        "_showdown_queue",
        "_shown",
        "_stacks",
        "_starting",
        "_street",
    )

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
        ordered = sorted(seats, key=lambda s: (s.seat - button - 1) % 10)
        self._seats: tuple[int, ...] = tuple(s.seat for s in ordered)
        if len(set(self._seats)) != n:
            raise InvalidSetup("two players in one seat")
        self._pos_of: dict[int, int] = {seat: pos for pos, seat in enumerate(self._seats)}
        needed = n * config.variant.hole_cards + BOARD_CARDS + 3 * BURN_CARDS
        if deck.remaining < needed:
            raise InvalidSetup(f"the deck holds {deck.remaining} cards, a deal needs {needed}")
        self._config = config
        self._limit: Limit = config.variant.limit
        self._n = n
        self._button = button
        self._deck = deck
        self._player_ids: tuple[str, ...] = tuple(s.player_id for s in ordered)
        self._posts: tuple[ReturningPost, ...] = tuple(s.posts for s in ordered)
        self._starting: tuple[int, ...] = tuple(s.stack for s in ordered)
        if blinds is None:
            if n == 2:
                button_pos = self._pos_of.get(button, 1)
                self._sb_pos, self._bb_pos = button_pos, 1 - button_pos
            else:
                self._sb_pos, self._bb_pos = 0, 1
        else:
            if blinds.big not in self._pos_of or (
                blinds.small is not None and blinds.small not in self._pos_of
            ):
                raise InvalidSetup("the blinds must be posted by dealt-in seats")
            if blinds.small == blinds.big:
                raise InvalidSetup("one seat cannot post both blinds")
            self._sb_pos = -1 if blinds.small is None else self._pos_of[blinds.small]
            self._bb_pos = self._pos_of[blinds.big]
        self._stacks: list[int] = list(self._starting)
        self._bets: list[int] = [0] * n
        self._committed: list[int] = [0] * n
        self._dead = 0
        self._folded: list[bool] = [False] * n
        self._all_in: list[bool] = [False] * n
        self._acted_at: list[int] = [NOT_ACTED] * n
        self._hole: list[list[Card]] = [[] for _ in range(n)]
        self._board: list[Card] = []
        self._board2: list[Card] = []
        self._phase = Phase.NOT_STARTED
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
        self._rit_pending: list[int] = []
        self._runs = 1
        self._showdown_queue: list[int] = []
        self._shown: list[bool] = [False] * n
        self._mucked: list[bool] = [False] * n
        self._pot_results: list[PotResult] = []
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
        return _STREETS[self._street]

    @property
    def actor(self) -> int | None:
        """The seat whose decision the hand waits for, or None (over / not started)."""
        return None if self._actor < 0 else self._seats[self._actor]

    @property
    def is_over(self) -> bool:
        return self._phase is Phase.OVER

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
        if self._phase is not Phase.OVER:
            raise HandIsOver("the hand has no result before it is over")
        return HandResult(
            seats=self._seats,
            starting_stacks=self._starting,
            stacks=tuple(self._stacks),
            pots=tuple(self._pot_results),
            rake=self._rake,
            board=tuple(card.code for card in self._board),
            second_board=tuple(card.code for card in self._board2),
        )

    def legal_actions(self) -> LegalActions:
        """What the current actor may do (an empty record when nobody is to act)."""
        pos = self._actor
        if pos < 0:
            return _NO_ACTIONS
        seat = self._seats[pos]
        phase = self._phase
        if phase is Phase.SHOWDOWN:
            return LegalActions(seat=seat, show=True, muck=True)
        if phase is Phase.RUN_IT_TWICE:
            return LegalActions(seat=seat, run_it_twice=True)
        to_call = self._high - self._bets[pos]
        stack = self._stacks[pos]
        bounds = self._raise_bounds(pos)
        if to_call > 0:
            return LegalActions(
                seat=seat,
                fold=True,
                call=to_call if to_call < stack else stack,
                min_raise_to=None if bounds is None else bounds[0],
                max_raise_to=None if bounds is None else bounds[1],
            )
        return LegalActions(
            seat=seat,
            check=True,
            min_raise_to=None if bounds is None else bounds[0],
            max_raise_to=None if bounds is None else bounds[1],
        )

    # ------------------------------------------------------------------ start

    def start(self) -> list[Event]:
        """Post antes and blinds, deal hole cards; the first betting round opens.

        Order of forced bets: antes (``each``), small blind, big blind, the big blind's ante
        (``big_blind`` mode: blind first, ante from what is left), returning players' posts,
        straddle. Dealing: one card at a time to every position, starting with the first
        seat left of the button, as many rounds as the variant has hole cards.
        """
        if self._phase is not Phase.NOT_STARTED:
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
        if config.ante_mode is AnteMode.EACH:
            for pos in range(n):
                amount = self._take(pos, config.ante)
                self._committed[pos] += amount
                events.append(
                    AntePosted(seat=self._seats[pos], amount=amount, all_in=self._all_in[pos])
                )
        if self._sb_pos >= 0:
            events.append(self._post_live(self._sb_pos, config.small_blind, BlindKind.SMALL))
        events.append(self._post_live(self._bb_pos, config.big_blind, BlindKind.BIG))
        if config.ante_mode is AnteMode.BIG_BLIND:
            # The blind comes first: it is live and decides the action; the ante is dead.
            amount = self._take(self._bb_pos, config.ante)
            self._dead += amount
            events.append(
                AntePosted(
                    seat=self._seats[self._bb_pos], amount=amount, all_in=self._all_in[self._bb_pos]
                )
            )
        straddle_pos = -1
        if config.straddle and n > 2:
            straddle_pos = (self._bb_pos + 1) % n
        for pos in range(n):
            post = self._posts[pos]
            if post is ReturningPost.NONE or pos in (self._sb_pos, self._bb_pos, straddle_pos):
                continue
            events.append(self._post_live(pos, config.big_blind, BlindKind.POSTED_BIG))
            if post is ReturningPost.BIG_BLIND_AND_DEAD_SMALL:
                amount = self._take(pos, config.small_blind)
                self._dead += amount
                events.append(
                    BlindPosted(
                        seat=self._seats[pos],
                        kind=BlindKind.DEAD_SMALL,
                        amount=amount,
                        all_in=self._all_in[pos],
                    )
                )
        self._raise_size = config.big_blind
        if straddle_pos >= 0:
            events.append(self._post_live(straddle_pos, config.straddle, BlindKind.STRADDLE))
            if self._bets[straddle_pos] == config.straddle:
                # Live rule 11: the straddle acts as a raise; the next raise is to 3 big
                # blinds for a 2-big-blind straddle.
                self._raise_size = max(config.big_blind, config.straddle - config.big_blind)
        # A short blind does not lower the price: the others still call the full blind.
        self._high = max(config.big_blind, max(self._bets))
        if self._limit is Limit.FIXED_LIMIT:
            self._raise_size = config.small_bet
            self._full_to = config.big_blind
            self._bet_count = 1  # the big blind is the bet
        self._deal_hole_cards(events)
        self._phase = Phase.BETTING
        self._capped = self._live_count - self._all_in_count > 2
        first = ((straddle_pos if straddle_pos >= 0 else self._bb_pos) + 1) % n
        self._open_round(first, events)
        return events

    def _take(self, pos: int, amount: int) -> int:
        """Move up to ``amount`` from the stack (all-in when short); returns what moved."""
        stack = self._stacks[pos]
        if amount >= stack:
            amount = stack
            if not self._all_in[pos]:
                self._all_in[pos] = True
                self._all_in_count += 1
        self._stacks[pos] = stack - amount
        return amount

    def _post_live(self, pos: int, amount: int, kind: BlindKind) -> BlindPosted:
        posted = self._take(pos, amount)
        self._bets[pos] += posted
        self._committed[pos] += posted
        return BlindPosted(
            seat=self._seats[pos], kind=kind, amount=posted, all_in=self._all_in[pos]
        )

    def _deal_hole_cards(self, events: list[Event]) -> None:
        n = self._n
        per = self._config.variant.hole_cards
        drawn = self._deck.draw(n * per)
        for pos in range(n):
            cards = drawn[pos::n]
            self._hole[pos] = cards
            events.append(HoleCardsDealt(seat=self._seats[pos], cards=tuple(c.code for c in cards)))

    # ------------------------------------------------------------------ turn checks

    def _position(self, seat: int) -> int:
        try:
            return self._pos_of[seat]
        except KeyError:
            raise UnknownSeat(f"seat {seat} is not dealt in") from None

    def _check_turn(self, seat: int, decision: Decision) -> int:
        phase = self._phase
        if decision not in _PHASE_ACTIONS[phase]:
            if phase is Phase.NOT_STARTED:
                raise HandNotStarted("the hand has not started")
            if phase is Phase.OVER:
                raise HandIsOver("the hand is over")
            raise WrongPhase(f"{decision} is not allowed during {phase}")
        pos = self._position(seat)
        if pos != self._actor:
            raise NotYourTurn(f"seat {seat} is not to act")
        return pos

    def _raise_bounds(self, pos: int) -> tuple[int, int] | None:
        """Raise-to bounds for the player to act, or None when raising is not allowed."""
        stack = self._stacks[pos]
        bet = self._bets[pos]
        high = self._high
        if bet + stack <= high:
            return None  # calling is all they can do
        if self._live_count - self._all_in_count < 2:
            return None  # everyone else is all-in: nobody could call a raise
        limit = self._limit
        if not betting_reopened(limit, high, self._acted_at[pos], self._raise_size):
            return None
        if (
            limit is Limit.FIXED_LIMIT
            and self._capped
            and self._bet_count > self._config.raises_cap
        ):
            return None
        return raise_bounds(
            limit,
            high=high,
            bet=bet,
            stack=stack,
            raise_size=self._raise_size,
            full_to=self._full_to,
            pot_after_call=sum(self._committed) + self._dead + high - bet,
        )

    # ------------------------------------------------------------------ fold

    def verify_fold(self, seat: int) -> None:
        pos = self._check_turn(seat, Decision.FOLD)
        if self._bets[pos] >= self._high:
            raise CannotFold("nothing to call: check instead")

    def can_fold(self, seat: int) -> bool:
        return _can(self.verify_fold, seat)

    def fold(self, seat: int) -> list[Event]:
        self.verify_fold(seat)
        pos = self._pos_of[seat]
        self._folded[pos] = True
        self._live_count -= 1
        events: list[Event] = [
            PlayerActed(
                seat=seat, action=ActionKind.FOLD, amount=0, bet_to=self._bets[pos], all_in=False
            )
        ]
        if self._live_count == 1:
            self._close_round(events)
        else:
            self._advance(pos, events)
        return events

    # ------------------------------------------------------------------ check or call

    def verify_check_or_call(self, seat: int) -> None:
        self._check_turn(seat, Decision.CHECK_OR_CALL)

    def can_check_or_call(self, seat: int) -> bool:
        return _can(self.verify_check_or_call, seat)

    def check_or_call(self, seat: int) -> list[Event]:
        pos = self._check_turn(seat, Decision.CHECK_OR_CALL)
        high = self._high
        to_call = high - self._bets[pos]
        if to_call > 0:
            added = self._take(pos, to_call)
            self._bets[pos] += added
            self._committed[pos] += added
            kind = ActionKind.CALL
        else:
            added = 0
            kind = ActionKind.CHECK
        self._acted_at[pos] = high
        events: list[Event] = [
            PlayerActed(
                seat=seat,
                action=kind,
                amount=added,
                bet_to=self._bets[pos],
                all_in=self._all_in[pos],
            )
        ]
        self._advance(pos, events)
        return events

    # ------------------------------------------------------------------ bet or raise

    def verify_bet_or_raise_to(self, seat: int, amount: int) -> None:
        pos = self._check_turn(seat, Decision.BET_OR_RAISE_TO)
        bounds = self._raise_bounds(pos)
        if bounds is None:
            raise CannotRaise(f"seat {seat} may not bet or raise now")
        low, high = bounds
        if self._limit is Limit.FIXED_LIMIT and amount != low:
            raise AmountNotAllowed(f"fixed limit: the bet must be exactly {low}")
        if amount < low:
            raise AmountTooSmall(f"the minimum is {low}")
        if amount > high:
            raise AmountTooLarge(f"the maximum is {high}")

    def can_bet_or_raise_to(self, seat: int, amount: int) -> bool:
        return _can(self.verify_bet_or_raise_to, seat, amount)

    def bet_or_raise_to(self, seat: int, amount: int) -> list[Event]:
        self.verify_bet_or_raise_to(seat, amount)
        pos = self._pos_of[seat]
        previous_high = self._high
        added = self._take(pos, amount - self._bets[pos])
        self._bets[pos] = amount
        self._committed[pos] += added
        if self._limit is Limit.FIXED_LIMIT:
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
        kind = ActionKind.BET if previous_high == 0 else ActionKind.RAISE
        events: list[Event] = [
            PlayerActed(
                seat=seat, action=kind, amount=added, bet_to=amount, all_in=self._all_in[pos]
            )
        ]
        self._advance(pos, events)
        return events

    # ------------------------------------------------------------------ betting flow

    def _next_to_act(self, start: int) -> int:
        """The first position from ``start`` clockwise that owes a decision, or -1."""
        can_act = self._live_count - self._all_in_count
        if can_act == 0:
            return -1
        folded = self._folded
        all_in = self._all_in
        bets = self._bets
        high = self._high
        n = self._n
        if can_act == 1:
            # Alone with chips: only a bet to match needs an answer.
            for pos in range(n):
                if not folded[pos] and not all_in[pos]:
                    return pos if bets[pos] < high else -1
        acted_at = self._acted_at
        pos = start
        for _ in range(n):
            if (
                not folded[pos]
                and not all_in[pos]
                and (acted_at[pos] == NOT_ACTED or bets[pos] < high)
            ):
                return pos
            pos += 1
            if pos == n:
                pos = 0
        return -1

    def _open_round(self, first: int, events: list[Event]) -> None:
        actor = self._next_to_act(first)
        if actor < 0:
            self._actor = -1
            self._close_round(events)
        else:
            self._actor = actor
            events.append(ActionRequested(seat=self._seats[actor]))

    def _advance(self, pos: int, events: list[Event]) -> None:
        nxt = pos + 1
        self._open_round(0 if nxt == self._n else nxt, events)

    def _close_round(self, events: list[Event]) -> None:
        """End the betting round: return the uncalled bet, collect, then go on to the next
        street, the all-in runout, the showdown, or award the pot uncontested."""
        self._actor = -1
        bets = self._bets
        top = max(bets)
        top_pos = bets.index(top)
        second = max(b for p, b in enumerate(bets) if p != top_pos)
        if top > second:
            refund = top - second
            bets[top_pos] = second
            self._committed[top_pos] -= refund
            self._stacks[top_pos] += refund
            if self._all_in[top_pos]:
                self._all_in[top_pos] = False
                self._all_in_count -= 1
            events.append(UncalledBetReturned(seat=self._seats[top_pos], amount=refund))
        self._bets = [0] * self._n
        live = [not f for f in self._folded]
        events.append(
            PotsUpdated(
                pots=tuple(
                    PotView(amount=amount, eligible=tuple(self._seats[p] for p in eligible))
                    for amount, eligible in build_pots(self._committed, live, self._dead)
                )
            )
        )
        if self._live_count == 1:
            self._finish(events)
            return
        can_act = self._live_count - self._all_in_count
        if can_act <= 1 or (self._street == 3 and self._all_in_count > 0):
            self._face_up_all(events)
            if self._config.allow_run_it_twice and self._second_run_fits():
                self._phase = Phase.RUN_IT_TWICE
                self._rit_pending = self._showdown_order()
                self._actor = self._rit_pending[0]
                events.append(
                    RunItTwiceOffered(seats=tuple(self._seats[p] for p in self._rit_pending))
                )
                return
            self._run_out_and_finish(events)
            return
        if self._street == 3:
            self._phase = Phase.SHOWDOWN
            self._showdown_queue = self._showdown_order()
            self._actor = self._showdown_queue[0]
            events.append(ShowdownRequested(seat=self._seats[self._actor]))
            return
        self._street, dealt = _NEXT_STREET[self._street]
        self._deal_board(self._board, dealt, 0, events)
        self._high = 0
        self._raise_size = self._config.big_blind
        if self._limit is Limit.FIXED_LIMIT:
            self._raise_size = self._config.small_bet if self._street < 2 else self._config.big_bet
            self._full_to = 0
            self._bet_count = 0
        self._acted_at = [NOT_ACTED] * self._n
        self._aggressor = -1
        self._capped = can_act > 2
        self._open_round(0, events)

    def _deal_board(self, board: list[Card], count: int, run: int, events: list[Event]) -> None:
        # The second run burns nothing, as WSOP double-board games deal their second board.
        drawn = self._deck.draw(count) if run else self._deck.draw(BURN_CARDS + count)[BURN_CARDS:]
        board.extend(drawn)
        street = _STREETS[{3: 1, 4: 2, 5: 3}[len(board)]]
        events.append(BoardDealt(street=street, cards=tuple(c.code for c in drawn), run=run))

    def _second_run_fits(self) -> bool:
        """Run it twice is offered only with board cards to come and a deck that holds
        both runs (ten-handed Omaha all-in preflop does not)."""
        missing = BOARD_CARDS - len(self._board)
        if missing == 0:
            return False
        burns = {5: 3, 2: 2, 1: 1}[missing] * BURN_CARDS
        return self._deck.remaining >= burns + 2 * missing

    def _showdown_order(self) -> list[int]:
        """Live positions in showdown order: the last aggressor of the final betting round
        first, else the first seat left of the button (tournament rule 72; live rule 145)."""
        n = self._n
        first = self._aggressor if self._aggressor >= 0 else 0
        return [(first + i) % n for i in range(n) if not self._folded[(first + i) % n]]

    def _face_up_all(self, events: list[Event]) -> None:
        """Tournament rule 70: all hands face up once a player is all-in and action is over."""
        for pos in self._showdown_order():
            if not self._shown[pos]:
                self._shown[pos] = True
                events.append(
                    HandShown(seat=self._seats[pos], cards=tuple(c.code for c in self._hole[pos]))
                )

    def _run_out_and_finish(self, events: list[Event]) -> None:
        shared = len(self._board)
        while len(self._board) < BOARD_CARDS:
            self._deal_board(self._board, 3 if not self._board else 1, 0, events)
        if self._runs == 2:
            self._board2 = self._board[:shared]
            while len(self._board2) < BOARD_CARDS:
                self._deal_board(self._board2, 3 if not self._board2 else 1, 1, events)
        self._street = 3
        self._finish(events)

    # ------------------------------------------------------------------ run it twice

    def verify_agree_run_it_twice(self, seat: int, agree: bool) -> None:
        phase = self._phase
        if Decision.AGREE_RUN_IT_TWICE not in _PHASE_ACTIONS[phase]:
            self._check_turn(seat, Decision.AGREE_RUN_IT_TWICE)
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
        self._check_turn(seat, Decision.SHOW)

    def can_show(self, seat: int) -> bool:
        return _can(self.verify_show, seat)

    def show(self, seat: int) -> list[Event]:
        pos = self._check_turn(seat, Decision.SHOW)
        self._shown[pos] = True
        events: list[Event] = [HandShown(seat=seat, cards=tuple(c.code for c in self._hole[pos]))]
        self._next_showdown(events)
        return events

    def verify_muck(self, seat: int) -> None:
        # Whoever is asked may muck: the last live hand is never asked (it wins unshown,
        # tournament rule 72), and all-in hands are face up, never asked (rule 70).
        self._check_turn(seat, Decision.MUCK)

    def can_muck(self, seat: int) -> bool:
        return _can(self.verify_muck, seat)

    def muck(self, seat: int) -> list[Event]:
        pos = self._check_turn(seat, Decision.MUCK)
        self._mucked[pos] = True
        events: list[Event] = [HandMucked(seat=seat)]
        self._next_showdown(events)
        return events

    def _next_showdown(self, events: list[Event]) -> None:
        queue = self._showdown_queue
        queue.pop(0)
        unmucked = sum(1 for p in range(self._n) if not self._folded[p] and not self._mucked[p])
        if queue and unmucked > 1:
            self._actor = queue[0]
            events.append(ShowdownRequested(seat=self._seats[self._actor]))
            return
        self._showdown_queue = []
        self._actor = -1
        self._finish(events)

    # ------------------------------------------------------------------ the end

    def _finish(self, events: list[Event]) -> None:
        contenders = [not self._folded[p] and not self._mucked[p] for p in range(self._n)]
        boards = [self._board] if self._runs == 1 else [self._board, self._board2]
        config = self._config
        rake_allowed = len(self._board) >= 3 or not config.no_flop_no_drop
        self._pot_results, self._rake = settle(
            config=config,
            seats=self._seats,
            committed=self._committed,
            contenders=contenders,
            dead=self._dead,
            hole=self._hole,
            boards=boards,
            rake_allowed=rake_allowed,
            stacks=self._stacks,
            events=events,
        )
        self._committed = [0] * self._n
        self._dead = 0
        self._phase = Phase.OVER
        self._actor = -1
        if sum(self._stacks) + self._rake != sum(self._starting):
            raise EngineInvariantBroken("chips not conserved at the end of the hand")
        events.append(HandEnded(seats=self._seats, stacks=tuple(self._stacks), rake=self._rake))

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
        state = _SnapshotState(
            version=SNAPSHOT_VERSION,
            config=self._config,
            seats=self._seats,
            player_ids=self._player_ids,
            posts=self._posts,
            starting=self._starting,
            button=self._button,
            sb_pos=self._sb_pos,
            bb_pos=self._bb_pos,
            deck=[card.index for card in self._deck.cards],
            deck_position=self._deck.position,
            stacks=self._stacks,
            bets=self._bets,
            committed=self._committed,
            dead=self._dead,
            folded=self._folded,
            all_in=self._all_in,
            acted_at=self._acted_at,
            hole=[[card.index for card in cards] for cards in self._hole],
            board=[card.index for card in self._board],
            board2=[card.index for card in self._board2],
            phase=self._phase,
            street=self._street,
            actor=self._actor,
            high=self._high,
            raise_size=self._raise_size,
            full_to=self._full_to,
            bet_count=self._bet_count,
            capped=self._capped,
            aggressor=self._aggressor,
            rit_pending=self._rit_pending,
            runs=self._runs,
            showdown_queue=self._showdown_queue,
            shown=self._shown,
            mucked=self._mucked,
            pot_results=self._pot_results,
            rake=self._rake,
        )
        return _ENCODER.encode(state)

    @classmethod
    def restore(cls, data: bytes) -> Hand:
        try:
            state = _DECODER.decode(data)
        except msgspec.DecodeError as exc:
            raise SnapshotInvalid(f"not a hand snapshot: {exc}") from None
        if state.version != SNAPSHOT_VERSION:
            raise SnapshotInvalid(f"snapshot version {state.version}, expected {SNAPSHOT_VERSION}")
        hand = cls.__new__(cls)
        hand._config = state.config
        hand._limit = state.config.variant.limit
        hand._seats = tuple(state.seats)
        hand._n = len(hand._seats)
        hand._pos_of = {seat: pos for pos, seat in enumerate(hand._seats)}
        hand._player_ids = tuple(state.player_ids)
        hand._posts = tuple(state.posts)
        hand._starting = tuple(state.starting)
        hand._button = state.button
        hand._sb_pos = state.sb_pos
        hand._bb_pos = state.bb_pos
        hand._deck = Deck([ALL_CARDS[i] for i in state.deck], state.deck_position)
        hand._stacks = list(state.stacks)
        hand._bets = list(state.bets)
        hand._committed = list(state.committed)
        hand._dead = state.dead
        hand._folded = list(state.folded)
        hand._all_in = list(state.all_in)
        hand._acted_at = list(state.acted_at)
        hand._hole = [[ALL_CARDS[i] for i in cards] for cards in state.hole]
        hand._board = [ALL_CARDS[i] for i in state.board]
        hand._board2 = [ALL_CARDS[i] for i in state.board2]
        hand._phase = state.phase
        hand._street = state.street
        hand._actor = state.actor
        hand._high = state.high
        hand._raise_size = state.raise_size
        hand._full_to = state.full_to
        hand._bet_count = state.bet_count
        hand._capped = state.capped
        hand._aggressor = state.aggressor
        hand._live_count = hand._folded.count(False)
        hand._all_in_count = sum(
            1 for f, a in zip(hand._folded, hand._all_in, strict=True) if a and not f
        )
        hand._rit_pending = list(state.rit_pending)
        hand._runs = state.runs
        hand._showdown_queue = list(state.showdown_queue)
        hand._shown = list(state.shown)
        hand._mucked = list(state.mucked)
        hand._pot_results = list(state.pot_results)
        hand._rake = state.rake
        return hand


class _SnapshotState(msgspec.Struct, array_like=True):
    version: int
    config: HandConfig
    seats: tuple[int, ...]
    player_ids: tuple[str, ...]
    posts: tuple[ReturningPost, ...]
    starting: tuple[int, ...]
    button: int
    sb_pos: int
    bb_pos: int
    deck: list[int]
    deck_position: int
    stacks: list[int]
    bets: list[int]
    committed: list[int]
    dead: int
    folded: list[bool]
    all_in: list[bool]
    acted_at: list[int]
    hole: list[list[int]]
    board: list[int]
    board2: list[int]
    phase: Phase
    street: int
    actor: int
    high: int
    raise_size: int
    full_to: int
    bet_count: int
    capped: bool
    aggressor: int
    rit_pending: list[int]
    runs: int
    showdown_queue: list[int]
    shown: list[bool]
    mucked: list[bool]
    pot_results: list[PotResult]
    rake: int


_ENCODER: Final = msgspec.msgpack.Encoder()
_DECODER: Final = msgspec.msgpack.Decoder(_SnapshotState)


def _can(verify: Callable[..., None], *args: object) -> bool:
    try:
        verify(*args)
    except IllegalAction:
        return False
    return True
