"""The cash table actor: seats, buy-ins and cash-outs, the button, and one hand at a time.

A table is a TRANSIENT child of the ``tables`` supervisor: a crash restarts it, and only an
operator's close (actors/table/controls.py) ends it normally, for good. It keeps a snapshot
(its state as msgpack bytes: the same bytes go to the store for recovery after a process
restart) and owns its running hand as a TRANSIENT child (actors/hand.py). Between hands
``poker.seating`` plans
who is dealt in and who posts (dead button, missed blinds, entry posts); a new hand starts
``between_hands_ms`` after the last one whenever two or more players can play.

Money: every chip at the table is in its escrow account (``escrow:table:<id>``). Buy-ins and
top-ups move wallet -> escrow, cash-outs escrow -> wallet, rake escrow -> house, each with an
idempotency key built from the table id, its epoch (which opening of the id this table is)
and the table's own counters (seat events, hand numbers), so a retried transfer never moves
money twice and a table reopened under an old id never replays the closed one's.

Invariant (``AuditEscrow``; the tests assert it after every hand): the sum of stacks and
pending top-ups plus what is owed (cash-outs, rake not yet paid) equals the escrow balance.
Stacks change only when a hand ends; what the hand owes is paid by a later message, after the
state that lists it is durably in the store (write-ahead), so a process killed at any point
restarts with every chip either still at the table or already paid, never both. Buy-ins and
top-ups are write-ahead too, the other way round (actors/table/bankroll.py).

Recovery: a table restarted while a hand ran (its own crash, the hand's escalation, or a new
process loading its stored snapshot) voids that hand: stacks are still those it started with.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Final, final

import msgspec
import structlog

from actors.addresses import HandAddress, TableAddress
from actors.game_metrics import ACTION_TO_BROADCAST_SECONDS, HANDS
from actors.hand import HandActor, engine_action
from actors.runtime import (
    Actor,
    ActorDead,
    ActorRef,
    ChildSpec,
    Overflow,
    Restart,
    SupervisionPolicy,
    TargetError,
    Timer,
)
from actors.table.admin import (
    CloseTable,
    FinishClose,
    GetTableDetail,
    PauseTable,
    ResumeTable,
    next_epoch,
)
from actors.table.bankroll import Bankroll, new_bankroll
from actors.table.controls import TableOperatorControls
from actors.table.deal import deal_next_hand
from actors.table.fairness import FairDealer, with_commitment, with_reveal
from actors.table.history import hand_record
from actors.table.lifecycle import DEALS, Event, transition
from actors.table.messages import (
    AddWatcher,
    AuditEscrow,
    ChooseClientSeed,
    ConnectionChanged,
    GameRefused,
    GetListing,
    GetSeats,
    HandAct,
    HandFinished,
    HandProgress,
    HoldAfterHand,
    JoinSeat,
    JoinWaiting,
    LeaveWaiting,
    ListingChanged,
    PlayerAct,
    PlayerGone,
    Release,
    RemovePlayer,
    RemoveWatcher,
    SeatConnection,
    SeatGone,
    SeatGranted,
    SeatPlayer,
    SetStakes,
    SettleOwed,
    SitIn,
    SitOutNext,
    StandUp,
    StartNextHand,
    TableConfig,
    TableDeps,
    TableHandEnded,
    TableMessage,
    TableSeats,
    TopUpChips,
    UpdateSeatProfile,
)
from actors.table.state import (
    STATS_HANDS_MAX,
    Funding,
    LiveHand,
    RunningHand,
    SeatRecord,
    TableState,
    decode_table_state,
    encode_table_state,
    listing_of,
    seat_view,
    seats_of,
    snapshot_for,
)
from persistence.snapshots import Snapshot
from poker import HandResult, IllegalAction, fairness
from poker.integrity import table_rules
from protocol import game
from protocol.limits import CHIPS_MAX
from services.ledger import WalletError
from services.lobby_analytics import Game, observe_seat_wait

log = structlog.get_logger("tablium.table")

ACT_ASK_TIMEOUT_S: Final = 5.0  # the hand answers at once unless it is restarting
EVENTS_PER_HAND_MAX: Final = 4_000  # bound: a hand with more events is a bug (crash)
# Bound: more finished hands waiting for the database means it is down; the table crashes
# (its supervisor decides) rather than piling histories up in memory and in its snapshot.
HISTORIES_UNWRITTEN_MAX: Final = 1_000
SNAPSHOT_KIND: Final = "table"


@final
class TableActor(TableOperatorControls, Actor[TableMessage]):
    kind = "table"
    mailbox_capacity = 1024
    mailbox_overflow = Overflow.STOP  # a flooded table is broken: restart (voids the hand)
    keeps_snapshot = True
    reply_errors = (GameRefused, WalletError, IllegalAction)
    child_supervision = SupervisionPolicy(intensity=3, period_s=30.0)

    def __init__(self, config: TableConfig, deps: TableDeps, recovered: bytes | None = None):
        self.deps = deps
        self.state = (
            decode_table_state(recovered) if recovered is not None else TableState(config=config)
        )
        self.hand_ref: ActorRef[object] | None = None
        self.live: LiveHand | None = None
        self.start_timer: Timer | None = None
        # Where the chips come from and go to (a cash table's wallets and escrow, or a
        # tournament's chips); it reads self.state, which a restart replaces.
        self.bankroll: Bankroll = new_bankroll(self)
        # The next hand's secret server seed: in memory only (actors/table/fairness.py).
        self.dealer = FairDealer(deps.rng)
        # When each wait-listed player joined the list (clock ms), for the seat-wait
        # analytics (services/lobby_analytics.py); in memory: a restart forgets the waits.
        self.wait_since_ms: dict[int, int] = {}
        # Player id -> the client address she sat down from (JoinSeat), for the one-address
        # rule. Personal data: in memory only, never in the stored state; after a restart a
        # seated player's address is unknown (never conflicts) until she sits down again.
        self.addresses: dict[int, str] = {}
        self.action_taken_at: float | None = None  # perf_counter of the action in flight
        self.close_requested = False  # a FinishClose is in the mailbox
        self.closed = False  # stopped for good after this message

    @property
    def config(self) -> TableConfig:
        return self.state.config

    @property
    def table_id(self) -> str:
        return self.state.config.table_id

    # --- lifecycle --------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        return encode_table_state(self.state)

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, bytes)
        self.state = decode_table_state(snapshot)

    async def started(self) -> None:
        lease = self.deps.lease
        if lease is not None and self.config.bankroll == "cash" and not await lease(self.table_id):
            log.warning("table owned by another node: not opened here", table=self.table_id)
            self.closed = True
            self.context.stop()  # a transient child: removed, never restarted
            return
        if self.state.epoch == 0:  # new, or stored before epochs: keys from now on carry one
            self.state.epoch = await next_epoch(self.deps.store, self.table_id, self.config)
        index = self.deps.player_tables  # rebuilt after a restart from the store
        for record in self.state.seats.values():
            index.seated(record.player_id, self.table_id, on=True)
        for player_id in self.state.watchers:
            index.watching(player_id, self.table_id, on=True)
        await self.bankroll.resume()
        if self.state.running is not None:
            await self._void_running_hand()
        await self._persist()
        if self.state.closing:  # closed by an operator before the restart: finish the job
            self._close_soon()
            return
        self._announce()
        self._commit_next_deal()
        self._schedule_start()
        self.bankroll.settle_soon()  # what a crash interrupted is paid (again, by key) now

    # --- messages ---------------------------------------------------------------------------

    async def handle(self, message: TableMessage) -> object:
        match message:
            case HandProgress():
                self._on_progress(message)
            case PlayerAct():
                await self._act(message)
            case HandFinished():
                await self._on_finished(message)
            case StartNextHand():
                self.start_timer = None
                await self._start_hand()
            case SettleOwed():
                await self.bankroll.settle()
            case JoinSeat():
                return await self._join(message)
            case TopUpChips(player_id=player_id, amount=amount):
                await self._top_up(player_id, amount)
            case SitOutNext(player_id=player_id):
                record = self._record_of(player_id)
                record.sitting_out = True
                self._seat_changed(self._seat_of(player_id))
                await self._persist()
            case SitIn(player_id=player_id, post_now=post_now):
                await self._sit_in(player_id, post_now)
            case StandUp(player_id=player_id):
                return await self._stand_up(player_id)
            case JoinWaiting(player_id=player_id):
                self._join_wait_list(player_id)
            case LeaveWaiting(player_id=player_id):
                self.wait_since_ms.pop(player_id, None)
                if player_id in self.state.wait_list:
                    self.state.wait_list.remove(player_id)
                    self._announce()
            case AddWatcher(player_id=player_id):
                self._watch(player_id)
            case RemoveWatcher(player_id=player_id):
                if player_id in self.state.watchers:
                    self.state.watchers.remove(player_id)
                    self.deps.player_tables.watching(player_id, self.table_id, on=False)
            case ChooseClientSeed(player_id=player_id, seed=seed):
                self._choose_client_seed(player_id, seed)
            case UpdateSeatProfile():
                await self._update_seat_profile(message)
            case ConnectionChanged(player_id=player_id, connected=connected):
                self._connection(player_id, connected)
            case PlayerGone(player_id=player_id):
                await self._gone(player_id)
            case GetListing():
                return self.listing()
            case GetSeats():
                return self.seats_view()
            case AuditEscrow():
                return await self.bankroll.audit()
            case PauseTable() | ResumeTable():
                pause = isinstance(message, PauseTable)
                await self._change_status(Event.PAUSE if pause else Event.RESUME)
                return await self._detail()
            case HoldAfterHand():
                await self._change_status(Event.HOLD)
            case Release():
                await self._change_status(Event.RELEASE)
            case SetStakes():
                await self._set_stakes(message)
            case SeatPlayer():
                return await self._seat_for_owner(message)
            case RemovePlayer(player_id=player_id):
                return await self._remove_for_owner(player_id)
            case CloseTable():
                return await self._close()
            case FinishClose():
                if not self.closed:
                    await self._finish_close()
            case GetTableDetail():
                return await self._detail()
            case _:
                raise TypeError(f"table: unexpected message {message!r}")
        return None

    # --- seats ------------------------------------------------------------------------------

    def _seat_of(self, player_id: int) -> int:
        for seat, record in self.state.seats.items():
            if record.player_id == player_id:
                return seat
        raise GameRefused("not_seated", f"player {player_id} has no seat at {self.table_id}")

    def _record_of(self, player_id: int) -> SeatRecord:
        return self.state.seats[self._seat_of(player_id)]

    def _funded(self, funding: Funding) -> None:
        """A buy-in's or top-up's chips are in (the bankroll moved them): seat the player, or
        add to her stack (after the running hand, if she is in it)."""
        if funding.kind == "top_up":
            record = self.state.seats[funding.seat]
            assert record.player_id == funding.player_id, "a top-up for a seat someone left"
            if self._in_running_hand(funding.seat):
                record.pending_top_up += funding.amount
            else:
                record.stack += funding.amount
            return
        self._seat_player(funding.player_id, funding.seat, funding.amount, funding.post_to_enter)

    def _seat_player(self, player_id: int, seat: int, stack: int, post_to_enter: bool) -> None:
        assert seat not in self.state.seats, "a seat for a seat someone else has"
        self.state.holds.pop(seat, None)
        self.state.seats[seat] = SeatRecord(
            player_id=player_id,
            stack=stack,
            post_to_enter=post_to_enter,
            time_bank_ms=self.config.time_bank_ms,
        )
        if player_id in self.state.wait_list:
            self.state.wait_list.remove(player_id)
        since_ms = self.wait_since_ms.pop(player_id, None)
        if since_ms is not None:  # seated after waiting for this table
            observe_seat_wait(Game.of(self.listing()), self.deps.clock_ms() - since_ms)
        if player_id in self.state.watchers:
            self.state.watchers.remove(player_id)
            self.deps.player_tables.watching(player_id, self.table_id, on=False)
        self.deps.player_tables.seated(player_id, self.table_id, on=True)

    def _in_running_hand(self, seat: int) -> bool:
        return self.state.in_running_hand(seat)

    async def _join(self, message: JoinSeat) -> SeatGranted:
        config, seats = self.config, self.state.seats
        if self.state.closing:
            raise GameRefused("table_closing", f"{self.table_id} is closing")
        for seat_no, record in seats.items():
            if record.player_id != message.player_id:
                continue
            if message.same_if_seated:
                return SeatGranted(table_id=self.table_id, seat=seat_no, stack=record.stack)
            raise GameRefused("already_seated", f"already seated at {self.table_id}")
        if len(seats) >= config.seats:
            raise GameRefused("table_full", f"{self.table_id} is full")
        now_ms = self.deps.clock_ms()
        seat = self.state.choose_seat(message.player_id, message.seat, now_ms)
        self._check_table_rules(message, now_ms)
        allowed = self._buy_in_range(message.player_id, now_ms)
        if not allowed.minimum <= message.buy_in <= allowed.maximum:
            raise GameRefused(
                "buy_in_out_of_range",
                f"buy-in must be {allowed.minimum}..{allowed.maximum}, got {message.buy_in}",
            )
        # Responsible gaming, before any intent is stored: a real-money seat is refused to a
        # player cooling off, self-excluded or past her session time (WalletError, her code).
        await self.deps.wallet.check_may_play(
            message.player_id, config.asset, message.session_started_ms
        )
        # A refused transfer (WalletError) seats nobody and moves nothing.
        await self.bankroll.fund(
            "buy_in", message.player_id, seat, message.buy_in, message.post_to_enter
        )
        record = self.state.seats[seat]
        profile = message.profile
        record.display_name = profile.display_name[: game.DISPLAY_NAME_CHARS_MAX]
        record.auto_muck, record.auto_post_blinds = profile.auto_muck, profile.auto_post_blinds
        await self._persist()
        self._seat_changed(seat)
        if message.address:
            self.addresses[message.player_id] = message.address
        self.deps.channel.deliver(message.player_id, self.table_snapshot(message.player_id))
        self._announce()
        self._schedule_start()
        return SeatGranted(table_id=self.table_id, seat=seat, stack=message.buy_in)

    def _buy_in_range(self, player_id: int, now_ms: int) -> table_rules.BuyInRange:
        """The table's buy-in range, raised by the rathole rule for a player who left this
        cash table within its window with more than the minimum."""
        config = self.config
        if config.bankroll != "cash":
            return table_rules.BuyInRange(config.min_buy_in, config.max_buy_in)
        departure = self.state.departures.get(player_id)
        rule = self.deps.rules.rathole
        return table_rules.buy_in_range(
            config.min_buy_in, config.max_buy_in, departure, now_ms, rule
        )

    def _check_table_rules(self, message: JoinSeat, now_ms: int) -> None:
        """The rules against abuse (docs/integrity.md), before anything is stored or moved:
        a refusal is the rule's own error code."""
        rules, config = self.deps.rules, self.config
        if config.bankroll != "cash":
            return  # a tournament seats its players itself (SeatPlayer): no JoinSeat is taken
        joining = table_rules.SeatedSession(message.player_id, message.address)
        seated = [
            table_rules.SeatedSession(r.player_id, self.addresses.get(r.player_id))
            for r in self.state.seats.values()
        ]
        try:
            table_rules.verify_address(joining, seated, rules.address)
            table_rules.verify_rathole_buy_in(
                message.buy_in,
                config.min_buy_in,
                config.max_buy_in,
                self.state.departures.get(message.player_id),
                now_ms,
                rules.rathole,
            )
        except table_rules.TableRuleRefused as exc:
            # For staff (no address in the line: logs carry none in the clear).
            log.info("table rule refused a seat", table=self.table_id,
                     player=message.player_id, code=exc.code)  # fmt: skip
            raise GameRefused(exc.code, str(exc)) from exc

    async def _update_seat_profile(self, message: UpdateSeatProfile) -> None:
        """Her new name shows at once; a preference applies from the next hand dealt (the
        running hand keeps what it was dealt with)."""
        seat = next(
            (s for s, r in self.state.seats.items() if r.player_id == message.player_id), None
        )
        if seat is None:
            return  # she left meanwhile
        record = self.state.seats[seat]
        if message.auto_muck is not None:
            record.auto_muck = message.auto_muck
        if message.auto_post_blinds is not None:
            record.auto_post_blinds = message.auto_post_blinds
        if message.display_name is not None:
            record.display_name = message.display_name[: game.DISPLAY_NAME_CHARS_MAX]
            self._seat_changed(seat)
        await self._persist()

    def _choose_client_seed(self, player_id: int, seed: bytes) -> None:
        self._seat_of(player_id)  # not_seated
        if not 1 <= len(seed) <= fairness.CLIENT_SEED_BYTES_MAX:
            raise GameRefused(
                "fairness_input_invalid",
                f"a client seed is 1..{fairness.CLIENT_SEED_BYTES_MAX} bytes",
            )
        # Not persisted now: the next _persist (the next hand's start at the latest) takes it,
        # and a restart before that deals from a default seed (which the reveal shows).
        self.state.client_seeds[player_id] = seed

    async def _top_up(self, player_id: int, amount: int) -> None:
        seat = self._seat_of(player_id)
        record = self.state.seats[seat]
        total = record.stack + record.pending_top_up + amount
        if amount <= 0 or total > self.config.max_buy_in:
            raise GameRefused(
                "top_up_out_of_range",
                f"stack after top-up must stay at most {self.config.max_buy_in}",
            )
        await self.bankroll.fund("top_up", player_id, seat, amount)
        await self._persist()
        self._seat_changed(seat)
        self._schedule_start()

    async def _sit_in(self, player_id: int, post_now: bool) -> None:
        seat = self._seat_of(player_id)
        record = self.state.seats[seat]
        if record.stack + record.pending_top_up <= 0:
            raise GameRefused("no_chips", "top up before sitting in")
        record.sitting_out = False
        record.post_to_enter = post_now
        record.blind_consent = True  # sitting in agrees to the next blind due
        await self._persist()
        self._seat_changed(seat)
        self._schedule_start()

    async def _stand_up(self, player_id: int) -> int | None:
        seat = self._seat_of(player_id)
        record = self.state.seats[seat]
        if self._in_running_hand(seat):
            record.leaving = True
            record.sitting_out = True
            if self.hand_ref is not None:  # nobody will answer for the seat any more
                self.hand_ref.tell(SeatGone(seat=seat))
            await self._persist()
            self._seat_changed(seat)
            return None
        amount = self._release_seat(seat)
        # Paid before the reply: a client that reads its balance on left_table sees the
        # chips back (the debt is durable first; _settle pays it by key, a retry replays).
        await self.bankroll.settle()
        self._announce()
        return amount

    async def _gone(self, player_id: int) -> None:
        """Their session ended: stand them up (after the hand they are in), disconnected."""
        if not any(r.player_id == player_id for r in self.state.seats.values()):
            return  # left already (a stand-up or a close got here first)
        self._record_of(player_id).connected = False
        await self._stand_up(player_id)

    def _release_seat(self, seat: int) -> int:
        """Remove the player; their chips go back where they came from (the bankroll's
        cash-out: owed to her wallet, paid by SettleOwed, at a cash table)."""
        record = self.state.seats[seat]
        amount = record.stack + record.pending_top_up
        self.bankroll.cash_out(record.player_id, amount)
        del self.state.seats[seat]
        self.state.client_seeds.pop(record.player_id, None)
        self.addresses.pop(record.player_id, None)
        if self.config.bankroll == "cash":  # the rathole rule remembers what she took away
            now_ms = self.deps.clock_ms()
            left = table_rules.Departure(record.player_id, amount, now_ms)
            rule = self.deps.rules.rathole
            departures = table_rules.remember_departure(self.state.departures, left, now_ms, rule)
            self.state.departures = departures
        self.deps.player_tables.seated(record.player_id, self.table_id, on=False)
        self._seat_changed(seat)
        if record.player_id not in self.state.watchers:
            # No longer in the audience, but her client still shows her seat ("leaving"
            # after a mid-hand stand-up): tell her it is empty now.
            gone = game.SeatChanged(table_id=self.table_id, seat=seat, view=None)
            self.deps.channel.deliver(record.player_id, gone)
        if self.state.wait_list:
            first = self.state.wait_list.pop(0)
            until_ms = self.deps.clock_ms() + self.config.seat_hold_ms
            self.state.holds[seat] = (first, until_ms)  # nobody else takes it meanwhile
            self.deps.channel.deliver(first, game.SeatAvailable(table_id=self.table_id, seat=seat))
        return amount

    def _join_wait_list(self, player_id: int) -> None:
        if any(r.player_id == player_id for r in self.state.seats.values()):
            raise GameRefused("already_seated", f"already seated at {self.table_id}")
        if player_id in self.state.wait_list:
            return
        if len(self.state.wait_list) >= self.config.wait_list_max:
            raise GameRefused("wait_list_full", f"{self.config.wait_list_max} already waiting")
        self.state.wait_list.append(player_id)
        # Bounded by the wait list and the seats held: forget the waits that ended
        # without a seat (a hold that lapsed, a player who left).
        holders = {held for held, _ in self.state.holds.values()}
        for waiting in [p for p in self.wait_since_ms if p not in holders]:
            if waiting not in self.state.wait_list:
                del self.wait_since_ms[waiting]
        self.wait_since_ms[player_id] = self.deps.clock_ms()
        self._announce()

    def _watch(self, player_id: int) -> None:
        if player_id not in self.state.watchers:
            if len(self.state.watchers) >= self.config.watchers_max:
                raise GameRefused("watchers_full", f"{self.config.watchers_max} already watching")
            self.state.watchers.append(player_id)
            self.deps.player_tables.watching(player_id, self.table_id, on=True)
        self.deps.channel.deliver(player_id, self.table_snapshot(player_id))

    def _connection(self, player_id: int, connected: bool) -> None:
        seat = self._seat_of(player_id)
        self.state.seats[seat].connected = connected
        if self.hand_ref is not None and self._in_running_hand(seat):
            self.hand_ref.tell(SeatConnection(seat=seat, connected=connected))
        self._seat_changed(seat)
        if connected:
            # The hand follows (SeatConnection, told above): if it is their turn, it sends
            # the prompt again with the time left, after this snapshot.
            self.deps.channel.deliver(player_id, self.table_snapshot(player_id))

    # --- hands ------------------------------------------------------------------------------

    def _schedule_start(self) -> None:
        state = self.state
        if state.running is not None or self.start_timer is not None:
            return
        if state.lifecycle not in DEALS:
            return
        ready = sum(
            1
            for r in self.state.seats.values()
            if not r.sitting_out and not r.leaving and r.stack > 0
        )
        if ready >= 2:
            delay_s = self.config.between_hands_ms / 1000
            self.start_timer = self.context.send_after(delay_s, StartNextHand())

    async def _start_hand(self) -> None:
        if self.state.lifecycle not in DEALS:
            return  # a timer set before the table was paused, held or closed
        shown_before = self._shown_states()
        setup = deal_next_hand(self.state, self.deps.clock_ms())
        if setup is None:
            return
        # Dealing settles what players owed (a waiting big blind dealt in now plays): tell
        # everyone of each seat whose shown state changed, or their views stay stale.
        for seat, shown in self._shown_states().items():
            if shown_before.get(seat) != shown:
                self._seat_changed(seat)
        number = setup.hand_number
        # Durable before the first card: a restart from the store then voids this hand.
        await self._persist()
        # The seeds in force now deal this hand; one set later applies to the next.
        dealt = tuple(seat.seat for seat in setup.seats)
        chosen = {
            seat: seed
            for seat in dealt
            if (seed := self.state.client_seeds.get(self.state.seats[seat].player_id))
        }
        self._commit_next_deal(number)  # announced before hand_started if not yet drawn
        seeds = self.dealer.deal(self.table_id, number, dealt, chosen)
        self.live = LiveHand(seeds=seeds)
        deck = seeds.deck()
        spec = ChildSpec.worker(
            HandAddress(self.table_id, number).actor_name,
            partial(HandActor, setup, deck, self.context.ref, self.deps.clock_ms),
            restart=Restart.TRANSIENT,
        )
        self.hand_ref = await self.context.children.start_actor(spec)

    def _on_progress(self, message: HandProgress) -> None:
        running, live = self.state.running, self.live
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
                self._broadcast(body)
            else:
                record = self.state.seats.get(audience)
                if record is not None:
                    self.deps.channel.deliver(record.player_id, body)
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

    def _commit_next_deal(self, hand_number: int | None = None) -> None:
        """Draw the server seed of the next hand (unless drawn) and tell everyone at the
        table its commitment, before any client seed for that hand can arrive."""
        number = self.state.next_hand_number if hand_number is None else hand_number
        announce = self.dealer.draw(self.table_id, number)
        if announce is not None and not self.state.closing:
            self._broadcast(announce)

    async def _act(self, message: PlayerAct) -> None:
        seat = self._seat_of(message.player_id)
        running = self.state.running
        if running is None or self.hand_ref is None:
            raise GameRefused("no_hand_running", f"no hand is running at {self.table_id}")
        if message.hand_number != running.hand_number:
            raise GameRefused("wrong_hand", f"hand {running.hand_number} is running")
        if seat not in running.seats:
            raise GameRefused("not_in_hand", "you are not dealt in this hand")
        action = engine_action(seat, message.action, message.amount, message.agree)
        act = HandAct(action=action, decision_id=message.decision_id)
        self.action_taken_at = time.perf_counter()  # HandProgress broadcasts what it changed
        try:
            await self.hand_ref.ask(act, timeout_s=ACT_ASK_TIMEOUT_S)
        except ActorDead as exc:
            # The hand ended (it tells HandFinished, then stops) after this action was sent:
            # its result is already on the way to the player.
            raise GameRefused("no_hand_running", "the hand is over") from exc
        except TargetError as exc:  # the hand crashed on it or is restarting: try again
            raise GameRefused("hand_restarting", "the hand is resuming; act again") from exc

    async def _on_finished(self, message: HandFinished) -> None:
        running, live = self.state.running, self.live
        if running is None or message.hand_number != running.hand_number:
            return
        result = message.result
        players = {seat: self.state.seats[seat].player_id for seat in running.seats}
        # No I/O in this message: the rake and the history are recorded as owed and paid by
        # SettleOwed, so a database failure there can never undo this hand's result.
        self.bankroll.rake(running.hand_number, result.rake)
        for seat in result.seats:
            record = self.state.seats[seat]
            record.stack = result.stack_of(seat)
        for seat, bank_ms in message.time_banks_ms:
            record = self.state.seats[seat]
            refill = self.config.time_bank_refill_ms
            record.time_bank_ms = min(self.config.time_bank_max_ms, bank_ms + refill)
        for seat in message.timed_out:
            self.state.seats[seat].sitting_out = True  # silent: sat out until they return
            self.state.seats[seat].post_to_enter = False
        self.state.running = None
        self.state.hands_played += 1
        HANDS.labels(self.config.variant.value).inc()
        self.hand_ref = None
        self.live = None
        recent = self.state.recent_pots
        recent.append((self.deps.clock_ms(), sum(p.amount for p in result.pots)))
        del recent[:-STATS_HANDS_MAX]
        self._record_history(running, players, live, result)
        if self.config.bankroll == "tournament":  # its owner deals each hand (Release)
            self.state.enter(transition(self.state.lifecycle, Event.HOLD))
        self._report_to_owner(running.hand_number, result)
        await self._after_hand()

    def _record_history(
        self,
        running: RunningHand,
        players: dict[int, int],
        live: LiveHand | None,
        result: HandResult,
    ) -> None:
        if len(self.state.histories) >= HISTORIES_UNWRITTEN_MAX:
            raise RuntimeError(f"{self.table_id}: {HISTORIES_UNWRITTEN_MAX} histories unwritten")
        record = hand_record(
            config=self.config.hand_config(),
            table_id=self.table_id,
            table_name=self.config.name,
            hand_id=self.state.hand_id(running.hand_number),
            hand_number=running.hand_number,
            seat_count=self.config.seats,
            players=players,
            events=live.events if live is not None else [],
            result=result,
            started_at_ms=running.started_at_ms,
            ended_at_ms=self.deps.clock_ms(),
            asset=self.config.asset,
            proof=live.proof if live is not None else None,
        )
        self.state.histories.append(record)
        self.bankroll.settle_soon()

    async def _after_hand(self) -> None:
        for seat, record in list(self.state.seats.items()):
            record.stack += record.pending_top_up
            record.pending_top_up = 0
            if record.leaving:
                self._release_seat(seat)
                continue
            if record.stack == 0:
                record.sitting_out = True  # busted: top up, then sit in
            self._seat_changed(seat)
        await self._persist()
        if self.state.closing:
            self._close_soon()
            return
        self._announce()
        self._commit_next_deal()
        self._schedule_start()

    async def _seat_for_owner(self, message: SeatPlayer) -> SeatGranted:
        if self.config.bankroll != "tournament":
            raise GameRefused("not_a_tournament_table", "players buy in at a cash table")
        if any(r.player_id == message.player_id for r in self.state.seats.values()):
            raise GameRefused("already_seated", f"already seated at {self.table_id}")
        if len(self.state.seats) >= self.config.seats:
            raise GameRefused("table_full", f"{self.table_id} is full")
        if not 0 < message.stack <= CHIPS_MAX:
            raise GameRefused("invalid_stack", f"a stack is 1..{CHIPS_MAX} chips")
        seat = self.state.choose_seat(message.player_id, message.seat, self.deps.clock_ms())
        self._seat_player(message.player_id, seat, message.stack, post_to_enter=False)
        record = self.state.seats[seat]
        record.display_name = message.profile.display_name[: game.DISPLAY_NAME_CHARS_MAX]
        record.auto_muck = message.profile.auto_muck
        await self._persist()
        self._seat_changed(seat)
        self.deps.channel.deliver(message.player_id, self.table_snapshot(message.player_id))
        self._schedule_start()
        return SeatGranted(table_id=self.table_id, seat=seat, stack=message.stack)

    async def _remove_for_owner(self, player_id: int) -> int:
        if self.config.bankroll != "tournament":
            raise GameRefused("not_a_tournament_table", "a cash player leaves by herself")
        seat = self._seat_of(player_id)
        if self.state.running is not None:
            raise GameRefused("hand_running", "between hands only: hold the table first")
        stack = self._release_seat(seat)  # the tournament bankroll owes nobody: it is ours
        await self._persist()
        return stack

    def _report_to_owner(self, hand_number: int, result: HandResult | None) -> None:
        """Tell the owner (a tournament) the stacks after the hand and who reached zero."""
        owner_name = self.config.owner
        if owner_name is None:
            return
        owner = self.context.registry.lookup(owner_name)
        if owner is None:
            return  # a dead owner learns nothing (its successor asks the table)
        seats = sorted(self.state.seats.items())
        stacks = tuple((r.player_id, r.stack + r.pending_top_up) for _, r in seats)
        busted = tuple(player for player, stack in stacks if stack == 0)
        owner.tell(
            TableHandEnded(
                table_id=self.table_id,
                hand_number=hand_number,
                stacks=stacks,
                busted=busted,
                result=result,
            )
        )

    async def _set_stakes(self, message: SetStakes) -> None:
        try:
            config = msgspec.structs.replace(
                self.config,
                small_blind=message.small_blind,
                big_blind=message.big_blind,
                ante=message.ante,
            )
        except ValueError as exc:  # the config's checks, the engine's (InvalidSetup) among them
            raise GameRefused("invalid_stakes", str(exc)) from exc
        self.state.config = config  # the next hand is dealt with it; the running one is not
        await self._persist()
        self._announce()

    async def _void_running_hand(self) -> None:
        running = self.state.running
        assert running is not None
        log.warning("hand voided", table=self.table_id, hand=running.hand_number)
        # Stacks were never changed by the hand (they change when it ends), so every chip is
        # back where it was when it started; escrow was never touched either.
        self.state.running = None
        self.live = None
        self._broadcast(
            game.HandVoided(
                table_id=self.table_id,
                hand_number=running.hand_number,
                seats=running.seats,
                stacks=tuple(self.state.seats[s].stack for s in running.seats),
            )
        )
        if self.config.bankroll == "tournament":  # the owner decides the next hand
            self.state.enter(transition(self.state.lifecycle, Event.HOLD))
            self._report_to_owner(running.hand_number, None)
        await self._after_hand()

    # --- views and delivery -----------------------------------------------------------------

    def _audience(self) -> list[int]:
        ids = [r.player_id for r in self.state.seats.values()]
        ids.extend(w for w in self.state.watchers if w not in ids)
        return ids

    def _broadcast(self, body: game.GamePush) -> None:
        deliver = self.deps.channel.deliver
        for player_id in self._audience():
            deliver(player_id, body)

    def _shown_states(self) -> dict[int, str]:
        return {
            seat: seat_view(self.state, seat, record).state
            for seat, record in self.state.seats.items()
        }

    def _seat_changed(self, seat: int) -> None:
        record = self.state.seats.get(seat)
        view = None if record is None else seat_view(self.state, seat, record)
        self._broadcast(game.SeatChanged(table_id=self.table_id, seat=seat, view=view))

    def listing(self) -> game.TableListing:
        recent = ((at_ms / 1000, pot) for at_ms, pot in self.state.recent_pots)
        return listing_of(self.state, recent, self.deps.clock_ms() / 1000)

    def table_snapshot(self, player_id: int) -> game.TableSnapshot:
        commitment = self.dealer.commitment(self.state.next_hand_number)
        return snapshot_for(self.state, self.live, player_id, self.listing(), commitment)

    def seats_view(self) -> TableSeats:
        return seats_of(self.state)

    def _announce(self) -> None:
        if self.state.closing:
            return  # the lobby has dropped the listing: it must not come back
        if self.config.owner is not None:
            return  # an owner's table (a tournament's) is not a cash game to list
        lobby = self.context.registry.lookup(self.deps.lobby_name)
        if lobby is not None:
            lobby.tell(ListingChanged(listing=self.listing(), config=self.config))

    async def _persist(self, *, durable: bool = False) -> None:
        """Hand the durable state to the snapshot writer (waits only when it is full), or
        with ``durable`` write it now and return once it is in the store. A durable state is
        also what an in-process restart resumes from, not the one from before this message."""
        writer = self.deps.snapshots
        if writer is None and not durable:
            return
        # Wall-clock microseconds keep versions moving forward across restarts, even when an
        # in-process restart went back to an older runtime snapshot.
        self.state.version = max(self.state.version + 1, self.deps.clock_ms() * 1000)
        data = encode_table_state(self.state)
        if durable:
            self.context.checkpoint(data)
        if writer is None:
            return
        snapshot = Snapshot(
            kind=SNAPSHOT_KIND, actor_id=self.table_id, version=self.state.version, data=data
        )
        if durable:
            # Older versions still queued in the writer are refused as stale when it runs.
            (landed,) = await self.deps.store.save_snapshots([snapshot])
            assert landed, f"{self.table_id}: a newer snapshot than ours is stored"
        else:
            await writer.submit(snapshot)


def table_spec(config: TableConfig, deps: TableDeps, recovered: bytes | None = None) -> ChildSpec:
    """The child spec of a table under the ``tables`` supervisor (name ``table:<id>``)."""
    # Transient: a crash restarts the table; only a close stops it normally, for good.
    return ChildSpec.worker(
        TableAddress(config.table_id).actor_name,
        partial(TableActor, config, deps, recovered),
        restart=Restart.TRANSIENT,
    )
