"""The table's running hand: when the next one starts, the hand actor it starts, what the hand
tells back, and the player's action on its way in. A field of the table actor (``hands``).

One hand at a time, a TRANSIENT child of the table (actors/hand.py). It is started
``between_hands_ms`` after the core asks for it (``DealSoon``) when two or more can play; the
state is durable before the first card (a restart from the store then voids the hand). The
hand tells ``HandProgress`` (typed engine events and the wire pushes with their audience) and
``HandFinished``; the table learns the board and pots from the typed events (``LiveHand``),
never by parsing its pushes again.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Final, Protocol, final

from actors.addresses import HandAddress
from actors.game_metrics import ACTION_TO_BROADCAST_SECONDS
from actors.hand import HandActor, engine_action
from actors.runtime import ActorDead, ActorRef, ChildSpec, Restart, TargetError, Timer
from actors.table.deal import deal_next_hand
from actors.table.delivery import TableDelivery
from actors.table.fairness import FairDealer, with_commitment, with_reveal
from actors.table.host import TableHost
from actors.table.lifecycle import DEALS
from actors.table.messages import (
    GameRefused,
    HandAct,
    HandMessage,
    HandProgress,
    PlayerAct,
    StartNextHand,
)
from actors.table.state import LiveHand
from protocol import game

ACT_ASK_TIMEOUT_S: Final = 5.0  # the hand answers at once unless it is restarting
EVENTS_PER_HAND_MAX: Final = 4_000  # bound: a hand with more events is a bug (crash)


class HandsHost(TableHost, Protocol):
    """What the running hand needs of its table (the table actor)."""

    @property
    def delivery(self) -> TableDelivery: ...

    async def persist(self, *, durable: bool = False) -> None: ...


@final
class RunningHands:
    """The hand actor, its start timer, what the table saw of it, and its fair deck."""

    def __init__(self, host: HandsHost) -> None:
        self.host = host
        self.ref: ActorRef[object] | None = None
        self.live: LiveHand | None = None
        self.start_timer: Timer | None = None
        # The next hand's secret server seed: in memory only (actors/table/fairness.py).
        self.dealer = FairDealer(host.deps.rng)
        self.action_taken_at: float | None = None  # perf_counter of the action in flight

    @property
    def table_id(self) -> str:
        return self.host.core.table_id

    def tell(self, message: HandMessage) -> None:
        if self.ref is not None:
            self.ref.tell(message)

    def ended(self) -> LiveHand | None:
        """The hand is over (finished or voided): what the table saw of it."""
        live, self.ref, self.live = self.live, None, None
        return live

    # --- starting ---------------------------------------------------------------------------

    def schedule(self) -> None:
        if self.start_timer is None and self.host.core.ready_to_deal():
            delay_s = self.host.core.config.between_hands_ms / 1000
            self.start_timer = self.host.context.send_after(delay_s, StartNextHand())

    def cancel(self) -> None:
        if self.start_timer is not None:
            self.start_timer.cancel()
            self.start_timer = None

    def commit_next_deal(self, hand_number: int | None = None) -> None:
        """Draw the server seed of the next hand (unless drawn) and tell everyone at the
        table its commitment, before any client seed for that hand can arrive."""
        state = self.host.core.state
        number = state.next_hand_number if hand_number is None else hand_number
        announce = self.dealer.draw(self.table_id, number)
        if announce is not None and not state.closing:
            self.host.delivery.broadcast(announce)

    async def start(self) -> None:
        self.start_timer = None
        host, core = self.host, self.host.core
        state = core.state
        if state.lifecycle not in DEALS:
            return  # a timer set before the table was paused, held or closed
        shown_before = core.shown_states()
        setup = deal_next_hand(state, host.deps.clock_ms(), host.stakes.hand_config())
        if setup is None:
            return
        # Dealing settles what players owed (a waiting big blind dealt in now plays): tell
        # everyone of each seat whose shown state changed, or their views stay stale.
        for seat, shown in core.shown_states().items():
            if shown_before.get(seat) != shown:
                host.delivery.show_seat(seat)
        number = setup.hand_number
        # Durable before the first card: a restart from the store then voids this hand.
        await host.persist()
        # The seeds in force now deal this hand; one set later applies to the next.
        dealt = tuple(seat.seat for seat in setup.seats)
        chosen = {
            seat: seed
            for seat in dealt
            if (seed := state.client_seeds.get(state.seats[seat].player_id))
        }
        self.commit_next_deal(number)  # announced before hand_started if not yet drawn
        seeds = self.dealer.deal(self.table_id, number, dealt, chosen)
        self.live = LiveHand(seeds=seeds)
        deck = seeds.deck()
        context = host.context
        spec = ChildSpec.worker(
            HandAddress(self.table_id, number).actor_name,
            partial(HandActor, setup, deck, context.ref, host.deps.clock_ms),
            restart=Restart.TRANSIENT,
        )
        self.ref = await context.children.start_actor(spec)

    # --- while it runs ----------------------------------------------------------------------

    def progress(self, message: HandProgress) -> None:
        state, live = self.host.core.state, self.live
        running = state.running
        if running is None or live is None or message.hand_number != running.hand_number:
            return  # a voided hand's last words
        live.events.extend(message.events)
        for event in message.events:
            live.observe(event)
        if message.prompt is not None:
            live.prompt = message.prompt
        if len(live.events) > EVENTS_PER_HAND_MAX:
            raise RuntimeError(f"{self.table_id}: more than {EVENTS_PER_HAND_MAX} hand events")
        for audience, push in message.pushes:
            body = self._with_fairness(push, live)
            if audience is None:
                self.host.delivery.broadcast(body)
            else:
                record = state.seats.get(audience)
                if record is not None:
                    self.host.deps.channel.deliver(record.player_id, body)
        if self.action_taken_at is not None:
            ACTION_TO_BROADCAST_SECONDS.observe(time.perf_counter() - self.action_taken_at)
            self.action_taken_at = None

    def _with_fairness(self, body: game.GamePush, live: LiveHand) -> game.GamePush:
        """``hand_started`` gets the commitment, ``hand_ended`` the reveal (its proof is
        made from the hand's events, all in ``live`` by then, and kept for the history)."""
        seeds = live.seeds
        if seeds is None:
            return body
        if isinstance(body, game.HandStarted):
            return with_commitment(body, seeds)
        if isinstance(body, game.HandEnded):
            live.proof = seeds.proof(live.events)
            return with_reveal(body, live.proof)
        return body

    async def act(self, message: PlayerAct) -> None:
        """A player's action, typed for the engine, to the running hand (one ask)."""
        core = self.host.core
        seat = core.seat_of(message.player_id)
        running = core.state.running
        if running is None or self.ref is None:
            raise GameRefused("no_hand_running", f"no hand is running at {self.table_id}")
        if message.hand_number != running.hand_number:
            raise GameRefused("wrong_hand", f"hand {running.hand_number} is running")
        if seat not in running.seats:
            raise GameRefused("not_in_hand", "you are not dealt in this hand")
        action = engine_action(seat, message.action, message.amount, message.agree)
        act = HandAct(action=action, decision_id=message.decision_id)
        self.action_taken_at = time.perf_counter()  # HandProgress broadcasts what it changed
        try:
            await self.ref.ask(act, timeout_s=ACT_ASK_TIMEOUT_S)
        except ActorDead as exc:
            # The hand ended (it tells HandFinished, then stops) after this action was sent:
            # its result is already on the way to the player.
            raise GameRefused("no_hand_running", "the hand is over") from exc
        except TargetError as exc:  # the hand crashed on it or is restarting: try again
            raise GameRefused("hand_restarting", "the hand is resuming; act again") from exc
