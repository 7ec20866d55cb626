"""The table's pure core: who sits where, who is held a seat, who sits out; how a player
joins, plays or not, and leaves. No trio, no I/O, no clock (times come in as arguments).
Beside it, as functions of this core: the wait list and the watchers (waiting.py), the
status commands (status.py) and the end of a hand (between_hands.py).

Each command is a method that checks it (a refusal raises ``GameRefused`` with its stable
code, and changes nothing), changes the durable state (``TableState``) and returns the
effects the actor shell must run, in order: what to persist, push, tell, pay and schedule.
The write-ahead order of a command is therefore visible here, in one list. Dealing and the
button are poker/seating.py's (through actors/table/deal.py); the status lifecycle is the
transition table of actors/table/lifecycle.py; chips enter through the bankroll, which
calls :meth:`TableCore.funded` once they are in.

Invariants (tests/table_core asserts them after every command of random sequences): no
player holds two seats; a seat number is below ``config.seats``; nobody waits or watches
while seated, or waits twice; the wait list and the watchers stay within their bounds; a
held seat is an empty one; every chip that entered (``funded``, ``seat_for_owner``) is in a
stack or a pending top-up, or left in a ``CashOut`` (or ``remove_for_owner``'s answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, final

from actors.table.config import TableConfig, TableRules
from actors.table.effects import (
    Announce,
    Broadcast,
    CashOut,
    DealSoon,
    Effects,
    PayNow,
    Persist,
    Push,
    Seated,
    SendTable,
    ShowSeat,
    TellHand,
    WaitEnded,
    Watching,
)
from actors.table.lifecycle import DEALS
from actors.table.messages import GameRefused, SeatConnection, SeatGone
from actors.table.state import Funding, SeatRecord, TableState, shown_state
from poker import fairness
from poker.integrity import table_rules
from protocol import game
from protocol.limits import CHIPS_MAX

PLAYERS_TO_DEAL: Final = 2


@final
class TableCore:
    """One table's seating and status over its durable state (module docstring)."""

    def __init__(self, state: TableState, rules: TableRules | None = None) -> None:
        self.state = state
        self.rules = TableRules() if rules is None else rules

    @property
    def config(self) -> TableConfig:
        return self.state.config

    @property
    def table_id(self) -> str:
        return self.state.config.table_id

    # --- queries ----------------------------------------------------------------------------

    def seat_of(self, player_id: int) -> int:
        seat = self.find_seat(player_id)
        if seat is None:
            raise GameRefused("not_seated", f"player {player_id} has no seat at {self.table_id}")
        return seat

    def find_seat(self, player_id: int) -> int | None:
        for seat, record in self.state.seats.items():
            if record.player_id == player_id:
                return seat
        return None

    def ready_to_deal(self) -> bool:
        """A hand may start now: none runs, the status deals, and two players can play."""
        state = self.state
        if state.running is not None or state.lifecycle not in DEALS:
            return False
        ready = sum(
            1 for r in state.seats.values() if not r.sitting_out and not r.leaving and r.stack > 0
        )
        return ready >= PLAYERS_TO_DEAL

    def show(self, seat: int) -> ShowSeat:
        return ShowSeat(seat, tuple(self.audience()))

    def broadcast(self, body: game.GamePush) -> Broadcast:
        return Broadcast(body, tuple(self.audience()))

    def shown_states(self) -> dict[int, str]:
        """Each seat's state as players see it (playing, sitting out, waiting for the big
        blind, leaving)."""
        return {seat: shown_state(self.state, seat) for seat in self.state.seats}

    def audience(self) -> list[int]:
        """Everyone a broadcast reaches: the seated players, then the watchers."""
        ids = [r.player_id for r in self.state.seats.values()]
        ids.extend(w for w in self.state.watchers if w not in ids)
        return ids

    # --- joining --------------------------------------------------------------------------

    def seat_for_join(
        self, player_id: int, wanted: int | None, now_ms: int, *, same_if_seated: bool = False
    ) -> tuple[int, bool]:
        """The seat a joining player gets, and whether she has it already (``same_if_seated``:
        a quick-seat retried). Raises GameRefused (table_closing, already_seated, table_full,
        seat_taken)."""
        if self.state.closing:
            raise GameRefused("table_closing", f"{self.table_id} is closing")
        seat = self.find_seat(player_id)
        if seat is not None:
            if same_if_seated:
                return seat, True
            raise GameRefused("already_seated", f"already seated at {self.table_id}")
        if len(self.state.seats) >= self.config.seats:
            raise GameRefused("table_full", f"{self.table_id} is full")
        return self.state.choose_seat(player_id, wanted, now_ms), False

    def check_address(
        self, player_id: int, address: str | None, addresses: Mapping[int, str]
    ) -> None:
        """The one-address rule at a cash table (docs/integrity.md), before anything is stored
        or moved: a refusal is the rule's own code. ``addresses``: the seated players' client
        addresses (personal data: the shell keeps them in memory, never in the state)."""
        if self.config.bankroll != "cash":
            return  # a tournament seats its players itself
        joining = table_rules.SeatedSession(player_id, address)
        seated = [
            table_rules.SeatedSession(r.player_id, addresses.get(r.player_id))
            for r in self.state.seats.values()
        ]
        try:
            table_rules.verify_address(joining, seated, self.rules.address)
        except table_rules.TableRuleRefused as exc:
            raise GameRefused(exc.code, str(exc)) from exc

    def funded(self, funding: Funding) -> Effects:
        """A buy-in's or top-up's chips are in (the bankroll moved them): seat the player, or
        add to her stack (after the running hand, if she is in it)."""
        if funding.kind == "top_up":
            record = self.state.seats[funding.seat]
            assert record.player_id == funding.player_id, "a top-up for a seat someone left"
            if self.state.in_running_hand(funding.seat):
                record.pending_top_up += funding.amount
            else:
                record.stack += funding.amount
            return []
        return self._sit_down(
            funding.player_id, funding.seat, funding.amount, funding.post_to_enter
        )

    def _sit_down(self, player_id: int, seat: int, stack: int, post_to_enter: bool) -> Effects:
        state = self.state
        assert seat not in state.seats, "a seat for a seat someone else has"
        assert self.find_seat(player_id) is None, "a second seat for one player"
        state.holds.pop(seat, None)
        state.seats[seat] = SeatRecord(
            player_id=player_id,
            stack=stack,
            post_to_enter=post_to_enter,
            time_bank_ms=self.config.time_bank_ms,
        )
        effects: Effects = []
        if player_id in state.wait_list:
            state.wait_list.remove(player_id)
        effects.append(WaitEnded(player_id))
        if player_id in state.watchers:
            state.watchers.remove(player_id)
            effects.append(Watching(player_id, on=False))
        effects.append(Seated(player_id, on=True))
        return effects

    def profile(
        self,
        seat: int,
        *,
        display_name: str | None = None,
        auto_muck: bool | None = None,
        auto_post_blinds: bool | None = None,
    ) -> None:
        record = self.state.seats[seat]
        if display_name is not None:
            record.display_name = display_name[: game.DISPLAY_NAME_CHARS_MAX]
        if auto_muck is not None:
            record.auto_muck = auto_muck
        if auto_post_blinds is not None:
            record.auto_post_blinds = auto_post_blinds

    def seat_for_owner(
        self,
        player_id: int,
        stack: int,
        wanted: int | None,
        now_ms: int,
        *,
        display_name: str = "",
        auto_muck: bool = False,
    ) -> tuple[int, Effects]:
        """The owner (a tournament) seats a player with its chips."""
        if self.config.bankroll != "tournament":
            raise GameRefused("not_a_tournament_table", "players buy in at a cash table")
        if self.find_seat(player_id) is not None:
            raise GameRefused("already_seated", f"already seated at {self.table_id}")
        if len(self.state.seats) >= self.config.seats:
            raise GameRefused("table_full", f"{self.table_id} is full")
        if not 0 < stack <= CHIPS_MAX:
            raise GameRefused("invalid_stack", f"a stack is 1..{CHIPS_MAX} chips")
        seat = self.state.choose_seat(player_id, wanted, now_ms)
        effects = self._sit_down(player_id, seat, stack, post_to_enter=False)
        self.profile(seat, display_name=display_name, auto_muck=auto_muck)
        effects += [Persist(), self.show(seat), SendTable(player_id), DealSoon()]
        return seat, effects

    def welcome(self, seat: int, player_id: int) -> Effects:
        """A player who bought in is seated: everyone sees her, she sees the table."""
        return [Persist(), self.show(seat), SendTable(player_id), Announce(), DealSoon()]

    def topped_up(self, seat: int) -> Effects:
        return [Persist(), self.show(seat), DealSoon()]

    def update_profile(
        self,
        player_id: int,
        display_name: str | None,
        auto_muck: bool | None,
        auto_post_blinds: bool | None,
    ) -> Effects:
        """Her new name shows at once; a preference applies from the next hand dealt (the
        running hand keeps what it was dealt with)."""
        seat = self.find_seat(player_id)
        if seat is None:
            return []  # she left meanwhile
        self.profile(
            seat,
            display_name=display_name,
            auto_muck=auto_muck,
            auto_post_blinds=auto_post_blinds,
        )
        return [self.show(seat), Persist()] if display_name is not None else [Persist()]

    def choose_client_seed(self, player_id: int, seed: bytes) -> None:
        """Her seed for the hands dealt after it (docs/fairness.md). Not persisted now: the
        next persist (the next hand's start at the latest) takes it, and a restart before
        that deals from a default seed (which the reveal shows)."""
        self.seat_of(player_id)  # not_seated
        if not 1 <= len(seed) <= fairness.CLIENT_SEED_BYTES_MAX:
            raise GameRefused(
                "fairness_input_invalid",
                f"a client seed is 1..{fairness.CLIENT_SEED_BYTES_MAX} bytes",
            )
        self.state.client_seeds[player_id] = seed

    # --- playing or not -------------------------------------------------------------------

    def top_up_allowed(self, player_id: int, amount: int) -> int:
        """Her seat, if ``amount`` more keeps her stack within the table's maximum."""
        seat = self.seat_of(player_id)
        record = self.state.seats[seat]
        if amount <= 0 or record.stack + record.pending_top_up + amount > self.config.max_buy_in:
            raise GameRefused(
                "top_up_out_of_range",
                f"stack after top-up must stay at most {self.config.max_buy_in}",
            )
        return seat

    def sit_out(self, player_id: int) -> Effects:
        seat = self.seat_of(player_id)
        self.state.seats[seat].sitting_out = True
        return [self.show(seat), Persist()]

    def sit_in(self, player_id: int, post_now: bool) -> Effects:
        seat = self.seat_of(player_id)
        record = self.state.seats[seat]
        if record.stack + record.pending_top_up <= 0:
            raise GameRefused("no_chips", "top up before sitting in")
        record.sitting_out = False
        # A tournament deals its sitting-out players in (deal.py): nothing is owed to enter.
        record.post_to_enter = post_now and self.config.bankroll != "tournament"
        record.blind_consent = True  # sitting in agrees to the next blind due
        return [Persist(), self.show(seat), DealSoon()]

    def connection(self, player_id: int, connected: bool) -> Effects:
        seat = self.seat_of(player_id)
        self.state.seats[seat].connected = connected
        effects: Effects = []
        if self.state.in_running_hand(seat):
            effects.append(TellHand(SeatConnection(seat=seat, connected=connected)))
        effects.append(self.show(seat))
        if connected:
            # The hand follows (SeatConnection, told above): if it is their turn, it sends
            # the prompt again with the time left, after this snapshot.
            effects.append(SendTable(player_id))
        return effects

    # --- leaving --------------------------------------------------------------------------

    def stand_up(self, player_id: int, now_ms: int) -> tuple[int | None, Effects]:
        """Her chips (None: she is in the running hand, and leaves when it ends). A
        tournament's player keeps her seat until she busts or her tournament moves her: her
        chips are the tournament's, and standing up would take them off the table."""
        seat = self.seat_of(player_id)
        if self.config.bankroll == "tournament":
            raise GameRefused(
                "not_a_cash_table",
                "a tournament player keeps her seat (sit out: she is dealt in and folded)",
            )
        record = self.state.seats[seat]
        if self.state.in_running_hand(seat):
            record.leaving = True
            record.sitting_out = True
            # Nobody will answer for the seat any more: the hand acts for it at once.
            return None, [TellHand(SeatGone(seat=seat)), Persist(), self.show(seat)]
        amount, effects = self.release(seat, now_ms)
        # Paid before the reply: a client that reads its balance on left_table sees the
        # chips back (the debt is durable first; the bankroll pays it by key).
        return amount, [*effects, PayNow(), Announce()]

    def gone(self, player_id: int, now_ms: int) -> tuple[int | None, Effects]:
        """Her session ended: she stands up (after the hand she is in), disconnected. At a
        tournament's table she stays, sitting out: dealt in, blinded and folded at once
        (TDA: an absent player's chips stay in play), until she sits in again."""
        seat = self.find_seat(player_id)
        if seat is None:
            return None, []  # left already (a stand-up or a close got here first)
        record = self.state.seats[seat]
        record.connected = False
        if self.config.bankroll != "tournament":
            return self.stand_up(player_id, now_ms)
        record.sitting_out = True
        effects: Effects = []
        if self.state.in_running_hand(seat):
            effects.append(TellHand(SeatGone(seat=seat)))  # no one answers for the seat now
        return None, [*effects, Persist(), self.show(seat)]

    def remove_for_owner(self, player_id: int, now_ms: int) -> tuple[int, Effects]:
        """The owner takes a player (and her stack) away: between hands, or during a hand
        she is not dealt in (a busted player who declined a rebuy, a rebuy's new chips): her
        chips are not in it, and a seat left to her after the owner counts her gone gives
        the owner a table with fewer players and seats than it has (a move there refused)."""
        if self.config.bankroll != "tournament":
            raise GameRefused("not_a_tournament_table", "a cash player leaves by herself")
        seat = self.seat_of(player_id)
        if self.state.in_running_hand(seat):
            raise GameRefused("hand_running", "she is in the running hand: after it")
        stack, effects = self.release(seat, now_ms)  # the owner's chips: no cash-out moves
        return stack, [*effects, Persist()]

    def release(self, seat: int, now_ms: int) -> tuple[int, Effects]:
        """Remove the seat's player; her chips go back where they came from (the bankroll's
        cash-out). The first player waiting is held the seat for ``seat_hold_ms``."""
        state = self.state
        record = state.seats.pop(seat)
        amount = record.stack + record.pending_top_up
        state.client_seeds.pop(record.player_id, None)
        if self.config.bankroll == "cash":  # the rathole rule remembers what she took away
            left = table_rules.Departure(record.player_id, amount, now_ms)
            rathole = self.rules.rathole
            state.departures = table_rules.remember_departure(
                state.departures, left, now_ms, rathole
            )
        effects: Effects = [
            CashOut(record.player_id, amount),
            Seated(record.player_id, on=False),
            self.show(seat),
        ]
        if record.player_id not in state.watchers:
            # No longer in the audience, but her client still shows her seat ("leaving"
            # after a mid-hand stand-up): tell her it is empty now.
            gone = game.SeatChanged(table_id=self.table_id, seat=seat, view=None)
            effects.append(Push(record.player_id, gone))
        if state.wait_list:
            first = state.wait_list.pop(0)
            state.holds[seat] = (first, now_ms + self.config.seat_hold_ms)
            effects.append(Push(first, game.SeatAvailable(table_id=self.table_id, seat=seat)))
        return amount, effects
