"""How a hand moves on between decisions: who acts next, the end of a betting round, the
all-in runout, run it twice, settlement.

``HandFlow`` holds the state and these transitions; ``Hand`` (poker/hand.py), its only
subclass, adds the public API: setup, views, and verify/can/do for every decision. The
phase tables live in poker/phases.py; ``_close_round`` is the one place a betting round
ends and the next phase is chosen.

Positions, not seats: position 0 is the first dealt-in seat clockwise from the button.
"""

from __future__ import annotations

from typing import Final

from poker.betting import NOT_ACTED, betting_reopened, raise_bounds
from poker.cards import Card, Deck
from poker.config import SEATS_MAX, HandConfig, Limit, ReturningPost
from poker.errors import EngineInvariantBroken
from poker.events import (
    ActionRequested,
    BoardDealt,
    Event,
    HandEnded,
    HandShown,
    PotsUpdated,
    PotView,
    RunItTwiceOffered,
    ShowdownRequested,
    UncalledBetReturned,
)
from poker.phases import (
    BOARD_CARDS,
    BURN_CARDS,
    NEXT_STREET,
    RIVER,
    STREET_OF_BOARD,
    Phase,
)
from poker.pots import build_pots
from poker.showdown import PotResult, settle

# Enum members bound once: an attribute lookup on an Enum class costs ~70 ns, and the
# hot path of every decision makes several.
_FIXED_LIMIT: Final = Limit.FIXED_LIMIT
_NO_LIMIT: Final = Limit.NO_LIMIT
_POT_LIMIT: Final = Limit.POT_LIMIT
_OVER: Final = Phase.OVER
_RUN_IT_TWICE: Final = Phase.RUN_IT_TWICE
_SHOWDOWN: Final = Phase.SHOWDOWN
# Frozen events are safe to share: one per seat, built once, saves an allocation per decision.
_ACTION_REQUESTED: Final = tuple(ActionRequested(seat=seat) for seat in range(SEATS_MAX))
_SHOWDOWN_REQUESTED: Final = tuple(ShowdownRequested(seat=seat) for seat in range(SEATS_MAX))
# _CLOCKWISE[n][start]: the n positions in turn from ``start`` (``start == n`` wraps to 0),
# precomputed so the search for the next player to act is one loop over a tuple.
_CLOCKWISE: Final = tuple(
    tuple(tuple((start + i) % n for i in range(n)) if n else () for start in range(n + 1))
    for n in range(SEATS_MAX + 1)
)


class HandFlow:
    """The state of a hand and how it moves on. Base of ``Hand`` only."""

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

    # Lists are per position. Invariant: sum(_stacks) + sum(_committed) + _dead equals
    # sum(_starting) until the pots are awarded; _live_count == _folded.count(False);
    # _all_in_count counts live all-in players.
    _config: HandConfig
    _limit: Limit
    _n: int
    _seats: tuple[int, ...]
    _pos_of: dict[int, int]
    _player_ids: tuple[str, ...]
    _posts: tuple[ReturningPost, ...]
    _starting: tuple[int, ...]
    _button: int
    _sb_pos: int  # -1: no small blind
    _bb_pos: int
    _deck: Deck
    _stacks: list[int]
    _bets: list[int]  # this street
    _committed: list[int]  # this hand: antes, live blinds, bets
    _dead: int  # big-blind ante and dead small blinds: main pot money under nobody's name
    _folded: list[bool]
    _all_in: list[bool]
    _acted_at: list[int]  # the bet level when the player last acted this street
    _hole: list[list[Card]]
    _board: list[Card]
    _board2: list[Card]  # the second run's full board
    _phase: Phase
    _street: int
    _actor: int  # position, -1: nobody
    _high: int  # the bet to call this street
    _raise_size: int  # no/pot limit: last full raise; fixed limit: the street's bet
    _full_to: int  # fixed limit: the level of the last full bet or raise
    _bet_count: int  # fixed limit: bets and raises this street
    _capped: bool  # fixed limit: the round began with three or more players with chips
    _aggressor: int  # the last bettor or raiser this street, -1: none
    _live_count: int
    _all_in_count: int
    _rit_pending: list[int]
    _runs: int
    _showdown_queue: list[int]
    _shown: list[bool]
    _mucked: list[bool]
    _pot_results: list[PotResult]
    _rake: int

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
        if limit is _NO_LIMIT:
            # ``betting_reopened`` and ``raise_bounds`` inlined for no-limit, the hot path.
            acted_at = self._acted_at[pos]
            raise_size = self._raise_size
            if acted_at != NOT_ACTED and high - acted_at < raise_size:
                return None
            min_to = high + raise_size
            all_in_to = bet + stack
            return (min_to if min_to < all_in_to else all_in_to), all_in_to
        if not betting_reopened(limit, high, self._acted_at[pos], self._raise_size):
            return None
        if limit is _FIXED_LIMIT and self._capped and self._bet_count > self._config.raises_cap:
            return None
        return raise_bounds(
            limit,
            high=high,
            bet=bet,
            stack=stack,
            raise_size=self._raise_size,
            full_to=self._full_to,
            pot_after_call=(
                sum(self._committed) + self._dead + high - bet if limit is _POT_LIMIT else 0
            ),
        )

    # ------------------------------------------------------------------ betting flow

    def _ask_next(self, start: int, events: list[Event]) -> None:
        """Ask the first position from ``start`` clockwise (``start`` may be ``n``: wraps)
        that owes a decision; when nobody does, the betting round is over.

        A player owes a decision when live, not all-in, and either has not acted this
        street (posting a blind is not acting: the big blind's option) or is below the
        bet. One function for opening a round and for moving on after every decision:
        it runs once per decision, the engine's hottest path.
        """
        can_act = self._live_count - self._all_in_count
        if can_act > 1:
            folded = self._folded
            all_in = self._all_in
            acted_at = self._acted_at
            high = self._high
            # Owing a decision is "not acted, or below the bet". A player who acted and is
            # not all-in has exactly the bet they acted at (acted_at == bets), and NOT_ACTED
            # (-1) is below every bet, so one comparison says it.
            for pos in _CLOCKWISE[self._n][start]:
                if acted_at[pos] < high and not folded[pos] and not all_in[pos]:
                    self._actor = pos
                    events.append(_ACTION_REQUESTED[self._seats[pos]])
                    return
        elif can_act == 1:
            # Alone with chips: only a bet to match needs an answer (nobody could call a
            # raise, and there is nothing to check for).
            folded = self._folded
            all_in = self._all_in
            for pos in range(self._n):
                if not folded[pos] and not all_in[pos]:
                    if self._bets[pos] < self._high:
                        self._actor = pos
                        events.append(_ACTION_REQUESTED[self._seats[pos]])
                        return
                    break
        self._actor = -1
        self._close_round(events)

    def _close_round(self, events: list[Event]) -> None:
        """End the betting round: return the uncalled bet, collect, then go on to the next
        street, the all-in runout, the showdown, or award the pot uncontested."""
        self._actor = -1
        self._return_uncalled_bet(events)
        n = self._n
        self._bets = [0] * n
        events.append(PotsUpdated(self._pot_views()))
        if self._live_count == 1:
            self._finish(events)
            return
        can_act = self._live_count - self._all_in_count
        street = self._street
        if can_act <= 1 or (street == RIVER and self._all_in_count > 0):
            self._face_up_all(events)
            if self._config.allow_run_it_twice and self._second_run_fits():
                self._phase = _RUN_IT_TWICE
                self._rit_pending = self._showdown_order()
                self._actor = self._rit_pending[0]
                events.append(
                    RunItTwiceOffered(seats=tuple([self._seats[p] for p in self._rit_pending]))
                )
                return
            self._run_out_and_finish(events)
            return
        if street == RIVER:
            self._phase = _SHOWDOWN
            self._showdown_queue = self._showdown_order()
            self._actor = self._showdown_queue[0]
            events.append(_SHOWDOWN_REQUESTED[self._seats[self._actor]])
            return
        self._street, dealt = NEXT_STREET[street]
        self._deal_board(self._board, dealt, 0, events)
        self._high = 0
        config = self._config
        self._raise_size = config.big_blind
        if self._limit is _FIXED_LIMIT:
            self._raise_size = config.small_bet if self._street < 2 else config.big_bet
            self._full_to = 0
            self._bet_count = 0
        self._acted_at = [NOT_ACTED] * n
        self._aggressor = -1
        self._capped = can_act > 2
        self._ask_next(0, events)

    def _return_uncalled_bet(self, events: list[Event]) -> None:
        """The highest bet above the second-highest comes back to its owner (who is then no
        longer all-in: the chips are behind again)."""
        bets = self._bets
        # Builtins instead of a loop: this runs at the end of every betting round.
        top = max(bets)
        if top == 0 or bets.count(top) > 1:
            return  # nothing bet, or the top bet was called
        top_pos = bets.index(top)
        second = max(bets[:top_pos] + bets[top_pos + 1 :])  # below top: it is unique
        refund = top - second
        bets[top_pos] = second
        self._committed[top_pos] -= refund
        self._stacks[top_pos] += refund
        if self._all_in[top_pos]:
            self._all_in[top_pos] = False
            self._all_in_count -= 1
        events.append(UncalledBetReturned(seat=self._seats[top_pos], amount=refund))

    def _pot_views(self) -> tuple[PotView, ...]:
        seats = self._seats
        folded = self._folded
        if self._all_in_count == 0:
            # Nobody live is all-in, so every live player has put in the same: one pot
            # (build_pots would say the same, at several times the cost every street).
            if self._live_count == self._n:
                live_seats = seats
            else:
                live_seats = tuple([seats[p] for p in range(self._n) if not folded[p]])
            return (PotView(sum(self._committed) + self._dead, live_seats),)
        live = [not f for f in folded]
        return tuple(
            [
                PotView(amount=amount, eligible=tuple([seats[p] for p in eligible]))
                for amount, eligible in build_pots(self._committed, live, self._dead)
            ]
        )

    def _deal_board(self, board: list[Card], count: int, run: int, events: list[Event]) -> None:
        # The second run burns nothing, as WSOP double-board games deal their second board.
        drawn = self._deck.draw(count) if run else self._deck.draw(BURN_CARDS + count)[BURN_CARDS:]
        board.extend(drawn)
        street = STREET_OF_BOARD[len(board)]
        events.append(BoardDealt(street, tuple([c.code for c in drawn]), run))

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
        folded = self._folded
        first = self._aggressor if self._aggressor >= 0 else 0
        return [pos for pos in _CLOCKWISE[self._n][first] if not folded[pos]]

    def _face_up_all(self, events: list[Event]) -> None:
        """Tournament rule 70: all hands face up once a player is all-in and action is over."""
        shown = self._shown
        for pos in self._showdown_order():
            if not shown[pos]:
                shown[pos] = True
                events.append(HandShown(self._seats[pos], tuple([c.code for c in self._hole[pos]])))

    def _run_out_and_finish(self, events: list[Event]) -> None:
        shared = len(self._board)
        while len(self._board) < BOARD_CARDS:
            self._deal_board(self._board, 3 if not self._board else 1, 0, events)
        if self._runs == 2:
            self._board2 = self._board[:shared]
            while len(self._board2) < BOARD_CARDS:
                self._deal_board(self._board2, 3 if not self._board2 else 1, 1, events)
        self._street = RIVER
        self._finish(events)

    def _next_showdown(self, events: list[Event]) -> None:
        queue = self._showdown_queue
        queue.pop(0)
        unmucked = self._live_count - self._mucked.count(True)  # only live hands muck
        if queue and unmucked > 1:
            self._actor = queue[0]
            events.append(_SHOWDOWN_REQUESTED[self._seats[self._actor]])
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
        self._phase = _OVER
        self._actor = -1
        if sum(self._stacks) + self._rake != sum(self._starting):
            raise EngineInvariantBroken("chips not conserved at the end of the hand")
        events.append(HandEnded(self._seats, tuple(self._stacks), self._rake))
