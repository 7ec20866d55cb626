"""The hand actor: runs one ``poker.Hand`` for its table, with the action clock.

A hand is a TRANSIENT child of its table (``context.children``) that keeps a snapshot: if it
crashes, the runtime restarts it from the state before the message that crashed it, and
``started()`` prompts the player to act again. The snapshot is the engine's actions so far
(and the clock's bookkeeping), not the engine's state: a restart deals the same deck again and
replays them. Taking it after every message is then a few tuples, where encoding the engine
cost about 3% of the server's CPU per action (docs/loadtest.md). When the hand is over it
reports the result to the table and stops (a normal exit removes it).

The clock: the player to act has ``action_timeout_ms``; then their time bank runs (a
``TimeBankStarted`` push); then the hand acts for them (check if free, else fold; show at a
showdown; one run when offered to run it twice) and reports them as timed out: the table sits
them out after the hand. A disconnected player's seat is held: their time bank starts at once
instead of the action time. A player who left during the hand (stood up, or their session
ended: ``SeatGone``) has neither: the hand acts for them at once on each of their turns, as the
clock would. Time comes from trio's clock, so tests run on ``autojump_clock``.

Every prompt names its decision (``decision``, counting the hand's prompts; a restart skips
one, so no number ever names two decisions). An act that names another decision is refused
(``stale_decision``); a player back on their turn is asked again with the same number and
what is left of their clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, final

import msgspec
import trio

from actors.runtime import Actor, ActorRef, Timer
from actors.table.messages import (
    Audience,
    DecisionTimeout,
    HandAct,
    HandFinished,
    HandMessage,
    HandProgress,
    HandSetup,
    SeatConnection,
    SeatGone,
    TableMessage,
)
from actors.table.pushes import action_required, pushes_for
from persistence.store import wall_clock_ms
from poker import (
    AgreeRunItTwice,
    AnyAction,
    BetOrRaiseTo,
    CheckOrCall,
    Deck,
    Event,
    Fold,
    Hand,
    IllegalAction,
    Muck,
    Show,
)
from poker.cards import Card
from poker.evaluation import holdem_high, omaha_high
from poker.events import AnyEvent, HandShown
from protocol.game import ActionRequired, GamePush, TimeBankStarted

# A hand that goes on for more prompts than this is a bug (a 10-handed hand needs < 200).
DECISIONS_PER_HAND_MAX: Final = 2_000


@final
class HandState(msgspec.Struct, frozen=True):
    """The snapshot: the engine's actions since the deal, plus the clock's bookkeeping."""

    actions: tuple[AnyAction, ...]
    decision: int
    time_banks_ms: tuple[tuple[int, int], ...]
    disconnected: tuple[int, ...]
    timed_out: tuple[int, ...]
    gone: tuple[int, ...] = ()
    shown: tuple[int, ...] = ()


def engine_action(seat: int, action: str, amount: int, agree: bool) -> AnyAction:
    """A wire action name as the engine's typed action (the table makes it: the hand gets a
    typed action, no string); an unknown name is the player's mistake."""
    match action:
        case "fold":
            return Fold(seat=seat)
        case "check_or_call":
            return CheckOrCall(seat=seat)
        case "bet_or_raise_to":
            return BetOrRaiseTo(seat=seat, amount=amount)
        case "show":
            return Show(seat=seat)
        case "muck":
            return Muck(seat=seat)
        case "run_it_twice":
            return AgreeRunItTwice(seat=seat, agree=agree)
    raise UnknownAction(f"unknown action {action!r}")


def cannot_win(hand: Hand, seat: int, shown: list[int]) -> bool:
    """Whether ``seat``, asked to show or muck at the showdown, holds a hand that wins no
    share of any pot: a hand already shown beats it, by a player who is not all in (so she
    is in every pot ``seat`` is in). High games only: in hi-lo a beaten high may take the
    low, so nothing is mucked for the player there. Ties split: not beaten."""
    legal = hand.legal_actions()
    variant = hand.config.variant
    if not (legal.show and legal.muck) or variant.is_hi_lo:
        return False
    board = list(hand.board)
    if len(board) < 5 or hand.second_board:
        return False
    value = omaha_high if variant.is_omaha else _holdem_high

    def strength(of: int) -> int:
        return value(list(hand.hole_cards(of)), board)

    mine = strength(seat)
    return any(
        other != seat and not hand.is_all_in(other) and strength(other) > mine for other in shown
    )


def _holdem_high(hole: list[Card], board: list[Card]) -> int:
    return holdem_high(hole, board)


class UnknownAction(IllegalAction):
    code = "illegal_action"


class StaleDecision(IllegalAction):
    """An act that names a decision which is no longer current: refused, nothing applied."""

    code = "stale_decision"


@final
class HandActor(Actor[HandMessage]):
    kind = "hand"
    mailbox_capacity = 256  # a hand gets one act per prompt plus its timers
    # A flooded hand is a broken table: crash it, the table's supervisor decides.
    keeps_snapshot = True
    reply_errors = (IllegalAction,)

    def __init__(
        self,
        setup: HandSetup,
        deck: Deck,
        table: ActorRef[TableMessage],
        clock_ms: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.setup = setup
        self.table = table
        self.clock_ms = clock_ms  # server time, for the prompts' deadlines only
        # A copy: a restart must deal from the same full deck.
        self.hand = Hand(setup.config, setup.seats, setup.button, deck.copy(), setup.blinds)
        self.actions: list[AnyAction] = []  # every action the engine took, in order
        self.decision = 0
        self.time_banks_ms = dict(setup.time_banks_ms)
        self.disconnected = set(setup.disconnected)
        self.gone: set[int] = set()  # left the table during the hand: acted for at once
        self.shown: list[int] = []  # seats that showed at the showdown, in order
        self.timed_out: list[int] = []
        self.restored = False
        self.timer: Timer | None = None
        self.act_until_s: float | None = None  # trio time the action time ends, if it runs
        self.bank_started_s: float | None = None  # trio time the time bank began, if running

    # --- lifecycle --------------------------------------------------------------------------

    async def started(self) -> None:
        if not self.restored:
            self._report(self.hand.start())
        # After a crash restart the player is prompted again, with a fresh action clock.
        self._prompt_or_finish()

    def snapshot(self) -> HandState:
        return HandState(
            actions=tuple(self.actions),
            decision=self.decision,
            time_banks_ms=tuple(self.time_banks_ms.items()),
            disconnected=tuple(sorted(self.disconnected)),
            timed_out=tuple(self.timed_out),
            gone=tuple(sorted(self.gone)),
            shown=tuple(self.shown),
        )

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, HandState)
        # The same deal and the same actions: the engine is deterministic given its deck.
        self.hand.start()
        for action in snapshot.actions:
            self._apply(action)
        self.time_banks_ms = dict(snapshot.time_banks_ms)
        self.disconnected = set(snapshot.disconnected)
        self.timed_out = list(snapshot.timed_out)
        self.gone = set(snapshot.gone)
        self.shown = list(snapshot.shown)
        # Skip one: a prompt the crashing message may have sent before it crashed had the
        # next number, and must not name the decision asked again after the restart.
        self.decision = snapshot.decision + 1
        self.restored = True

    def _apply(self, action: AnyAction) -> list[Event]:
        """The engine takes ``action`` (IllegalAction: nothing changed, nothing recorded)."""
        events = self.hand.apply(action)
        self.actions.append(action)
        return events

    # --- messages ---------------------------------------------------------------------------

    async def handle(self, message: HandMessage) -> object:
        match message:
            case HandAct(action=action, decision_id=wanted):
                if wanted is not None and wanted != self.decision:
                    raise StaleDecision(f"decision {wanted} is over (now {self.decision})")
                events = self._apply(action)  # IllegalAction: the player's, nothing changed
                self._spend_time_bank(action.seat)
                self._report(events)
                self._prompt_or_finish()
            case DecisionTimeout(decision=decision, time_bank=time_bank):
                if decision == self.decision and not self.hand.is_over:
                    self._on_timeout(time_bank)
            case SeatConnection(seat=seat, connected=connected):
                if connected:
                    self.disconnected.discard(seat)
                    if seat == self.hand.actor and not self.hand.is_over:
                        # Back on their turn: ask again, privately, with the time left.
                        prompt = self._prompt(seat)
                        self._send((), [(seat, prompt)], prompt)
                else:
                    self.disconnected.add(seat)
            case SeatGone(seat=seat):
                self.gone.add(seat)
                if seat == self.hand.actor and not self.hand.is_over:
                    self._on_timeout(time_bank=True)  # their turn now: nobody will answer
            case _:
                raise TypeError(f"hand: unexpected message {message!r}")
        return None

    # --- the clock --------------------------------------------------------------------------

    def _prompt_or_finish(self) -> None:
        if self.hand.is_over:
            self._finish()
            return
        seat = self.hand.actor
        assert seat is not None, "a hand that is not over waits for someone"
        if seat in self.setup.auto_muck and cannot_win(self.hand, seat, self.shown):
            # Her preference: a losing hand is mucked at once, never shown, never waited on.
            self._report(self._apply(Muck(seat=seat)))
            self._prompt_or_finish()  # bounded: one muck per seat in the showdown
            return
        self.decision += 1
        if self.decision > DECISIONS_PER_HAND_MAX:
            raise RuntimeError(f"hand {self.setup.hand_number}: more than the decisions bound")
        if self.timer is not None:
            self.timer.cancel()
        self.bank_started_s = None
        gone = seat in self.gone
        away = gone or seat in self.disconnected
        act_ms = 0 if away else self.setup.action_timeout_ms
        self.act_until_s = trio.current_time() + act_ms / 1000 if act_ms > 0 else None
        prompt = self._prompt(seat)
        self._send((), [(None, prompt)], prompt)
        if gone:
            # Acted for at once, through the mailbox like any timer.
            self.timer = self.context.send_after(
                0, DecisionTimeout(decision=self.decision, time_bank=True)
            )
        elif act_ms > 0:
            self.timer = self.context.send_after(
                act_ms / 1000, DecisionTimeout(decision=self.decision, time_bank=False)
            )
        else:
            self._start_time_bank(seat)

    def _prompt(self, seat: int) -> ActionRequired:
        """The current decision's prompt, with what is left of its clock now."""
        now_s = trio.current_time()
        if seat in self.gone:
            act_ms, bank_ms = 0, 0
        elif self.bank_started_s is not None:
            used_ms = int((now_s - self.bank_started_s) * 1000)
            act_ms, bank_ms = 0, max(0, self.time_banks_ms.get(seat, 0) - used_ms)
        else:
            until_s = self.act_until_s
            act_ms = 0 if until_s is None else max(0, int((until_s - now_s) * 1000))
            bank_ms = self.time_banks_ms.get(seat, 0)
        return action_required(
            self.setup.table_id,
            self.setup.hand_number,
            self.hand.legal_actions(),
            decision_id=self.decision,
            act_within_ms=act_ms,
            time_bank_ms=bank_ms,
            now_ms=self.clock_ms(),
        )

    def _start_time_bank(self, seat: int) -> None:
        self.act_until_s = None
        bank_ms = self.time_banks_ms.get(seat, 0)
        if bank_ms <= 0:
            # Nothing in reserve: the timeout is now (through the mailbox, like any timer).
            self.timer = self.context.send_after(
                0, DecisionTimeout(decision=self.decision, time_bank=True)
            )
            return
        self.bank_started_s = trio.current_time()
        body = TimeBankStarted(
            table_id=self.setup.table_id,
            hand_number=self.setup.hand_number,
            seat=seat,
            time_bank_ms=bank_ms,
        )
        self._send((), [(None, body)])
        self.timer = self.context.send_after(
            bank_ms / 1000, DecisionTimeout(decision=self.decision, time_bank=True)
        )

    def _spend_time_bank(self, seat: int) -> None:
        if self.bank_started_s is None:
            return
        used_ms = int((trio.current_time() - self.bank_started_s) * 1000)
        self.time_banks_ms[seat] = max(0, self.time_banks_ms.get(seat, 0) - used_ms)
        self.bank_started_s = None

    def _on_timeout(self, time_bank: bool) -> None:
        seat = self.hand.actor
        assert seat is not None
        if not time_bank:
            self._start_time_bank(seat)
            return
        self.time_banks_ms[seat] = 0
        self.bank_started_s = None
        legal = self.hand.legal_actions()
        record: AnyAction
        if legal.show:
            record = Show(seat=seat)  # never forfeit a pot for the player by mucking
        elif legal.run_it_twice:
            record = AgreeRunItTwice(seat=seat, agree=False)
        elif legal.check:
            record = CheckOrCall(seat=seat)
        else:
            record = Fold(seat=seat)
        if seat not in self.timed_out:
            self.timed_out.append(seat)
        self._report(self._apply(record), timed_out_seat=seat)
        self._prompt_or_finish()

    # --- reporting --------------------------------------------------------------------------

    def _report(self, events: list[Event], timed_out_seat: int | None = None) -> None:
        self.shown.extend(e.seat for e in events if isinstance(e, HandShown))
        pushes = pushes_for(self.setup.table_id, self.setup.hand_number, events, timed_out_seat)
        self._send(tuple(events), pushes)  # type: ignore[arg-type]  # engine events only

    def _send(
        self,
        events: tuple[AnyEvent, ...],
        pushes: list[tuple[Audience, GamePush]],
        prompt: ActionRequired | None = None,
    ) -> None:
        progress = HandProgress(
            hand_number=self.setup.hand_number, events=events, pushes=tuple(pushes), prompt=prompt
        )
        self.table.tell(progress)

    def _finish(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.table.tell(
            HandFinished(
                hand_number=self.setup.hand_number,
                result=self.hand.result,
                time_banks_ms=tuple(self.time_banks_ms.items()),
                timed_out=tuple(self.timed_out),
            )
        )
        self.context.stop()
