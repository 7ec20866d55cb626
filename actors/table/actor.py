"""The table actor: the shell around the table's pure core, for every game mode.

A table is a TRANSIENT child of the ``tables`` supervisor (or of its tournament): a crash
restarts it, and only an operator's close ends it normally, for good. It is composed of:

- ``core`` (actors/table/core.py, with waiting.py, status.py, between_hands.py): seats,
  wait list, held seats, sit-out, the status lifecycle. Pure: each command returns the
  effects this shell runs, in order (``run``: actors/table/runner.py).
- ``bankroll`` (actors/table/bankroll.py): where chips come from and go to. Buy-in,
  top-up, cash-out and rake are written there, once: a cash table's wallets and escrow, or
  a tournament's chips.
- ``stakes`` (actors/table/stakes.py): the terms of the next hand: fixed for a cash table,
  supplied per level by a tournament (``SetStakes``).
- ``hands`` (actors/table/hands.py): the running hand, its start timer and its fair deck.
- ``delivery`` (actors/table/delivery.py), ``writer`` (actors/table/durable.py), ``waits``
  (actors/table/seat_waits.py): pushes and the listing, the state to the store, the
  seat-wait analytics.
- ``closing`` (actors/table/closing.py): an operator's close, and the detail view.

Invariant (``AuditEscrow``; the tests assert it after every hand): the sum of stacks and
pending top-ups plus what is owed (cash-outs, rake not yet paid) equals the escrow balance.
Stacks change only when a hand ends; what the hand owes is paid by a later message, after the
state that lists it is durably in the store (write-ahead), so a process killed at any point
restarts with every chip either still at the table or already paid, never both. Buy-ins and
top-ups are write-ahead too, the other way round (the bankroll).

Recovery: a table restarted while a hand ran (its own crash, the hand's escalation, or a new
process loading its stored snapshot) voids that hand: stacks are still those it started with.
"""

from __future__ import annotations

from functools import partial
from typing import Final, final

import structlog

from actors.addresses import TableAddress
from actors.game_metrics import HANDS
from actors.runtime import Actor, ChildSpec, Overflow, Restart, SupervisionPolicy
from actors.table import effects as fx
from actors.table import status, waiting
from actors.table.admin import (
    CloseTable,
    FinishClose,
    GetTableDetail,
    PauseTable,
    ResumeTable,
    next_epoch,
)
from actors.table.bankroll import Bankroll, new_bankroll
from actors.table.between_hands import hand_finished, hand_voided
from actors.table.closing import TableClosing
from actors.table.config import TableConfig
from actors.table.core import TableCore
from actors.table.delivery import TableDelivery
from actors.table.deps import TableDeps
from actors.table.durable import StateWriter
from actors.table.fairness import FairDealer
from actors.table.hands import RunningHands
from actors.table.history import finished_hand
from actors.table.lifecycle import Event
from actors.table.messages import (
    AddWatcher,
    AuditEscrow,
    ChooseClientSeed,
    ConnectionChanged,
    GameRefused,
    GetListing,
    GetSeats,
    HandFinished,
    HandProgress,
    HoldAfterHand,
    JoinSeat,
    JoinWaiting,
    LeaveWaiting,
    PlayerAct,
    PlayerGone,
    Release,
    RemovePlayer,
    RemoveWatcher,
    SeatGranted,
    SeatPlayer,
    SetStakes,
    SettleOwed,
    SitIn,
    SitOutNext,
    StandUp,
    StartNextHand,
    TableMessage,
    TopUpChips,
    UpdateSeatProfile,
)
from actors.table.runner import run_effects
from actors.table.seat_waits import SeatWaits
from actors.table.stakes import Stakes, stakes_for
from actors.table.state import (
    Funding,
    LiveHand,
    TableState,
    decode_table_state,
    encode_table_state,
    new_table_state,
    seats_of,
)
from poker import IllegalAction
from services.ledger import WalletError

log = structlog.get_logger("tablium.table")

# Bound: more finished hands waiting for the database means it is down; the table crashes
# (its supervisor decides) rather than piling histories up in memory and in its snapshot.
HISTORIES_UNWRITTEN_MAX: Final = 1_000


@final
class TableActor(Actor[TableMessage]):
    kind = "table"
    mailbox_capacity = 1024
    mailbox_overflow = Overflow.STOP  # a flooded table is broken: restart (voids the hand)
    keeps_snapshot = True
    # A hand's progress and a player's act only relay (the hand holds the hand's state; what
    # the table sees of it, ``LiveHand``, is not in TableState), and the reads read: the state
    # is as after the message before, so encoding it again (twice per action) is skipped.
    snapshot_unchanged_by = (HandProgress, PlayerAct, GetListing, GetSeats)
    reply_errors = (GameRefused, WalletError, IllegalAction)
    child_supervision = SupervisionPolicy(intensity=3, period_s=30.0)

    def __init__(self, config: TableConfig, deps: TableDeps, recovered: bytes | None = None):
        self.deps = deps
        state = decode_table_state(recovered) if recovered is not None else new_table_state(config)
        self.core = TableCore(state, deps.rules)
        # Where the chips come from and go to, and the next hand's terms; both read the
        # core's state, which a restart replaces.
        self.bankroll: Bankroll = new_bankroll(self)
        self.stakes: Stakes = stakes_for(state.config)
        self.hands = RunningHands(self)
        self.delivery = TableDelivery(self)
        self.writer = StateWriter(deps)
        self.waits = SeatWaits()  # the seat-wait analytics (in memory)
        # Player id -> the client address she sat down from (JoinSeat), for the one-address
        # rule. Personal data: in memory only, never in the stored state; after a restart a
        # seated player's address is unknown (never conflicts) until she sits down again.
        self.addresses: dict[int, str] = {}
        self.closing = TableClosing(self)  # an operator's close (actors/table/closing.py)

    @property
    def state(self) -> TableState:
        return self.core.state

    @property
    def config(self) -> TableConfig:
        return self.core.state.config

    @property
    def table_id(self) -> str:
        return self.core.table_id

    # --- lifecycle --------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        return encode_table_state(self.state)

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, bytes)
        self.core = TableCore(decode_table_state(snapshot), self.deps.rules)
        self.stakes = stakes_for(self.config)

    async def started(self) -> None:
        lease = self.deps.lease
        if lease is not None and self.config.bankroll == "cash" and not await lease(self.table_id):
            log.warning("table owned by another node: not opened here", table=self.table_id)
            self.closing.closed = True
            self.context.stop()  # a transient child: removed, never restarted
            return
        first_open = self.state.epoch == 0
        if first_open:  # new, or stored before epochs: keys from now on carry one
            self.state.epoch = await next_epoch(self.deps.store, self.table_id, self.config)
        # Her sessions hear again that she sits or watches here (a restart from the store, or
        # a session opened since): telling a session what it knows already changes nothing.
        seated = [fx.Seated(record.player_id, on=True) for record in self.state.seats.values()]
        await self.run([*seated, *(fx.Watching(p, on=True) for p in self.state.watchers)])
        await self.bankroll.resume()
        if self.state.running is not None:
            log.warning("hand voided", table=self.table_id, hand=self.state.running.hand_number)
            self.hands.ended()
            await self.run(hand_voided(self.core, self.deps.clock_ms()))
        # A new table is stored before whoever opened it hears that it is open: a restart,
        # or another node taking its lease over, finds it from then on (batched, the first
        # snapshot of a table whose node died or lost its lease at once was never written).
        await self.persist(durable=first_open)
        if self.state.closing:  # closed by an operator before the restart: finish the job
            self.closing.soon()
            return
        self.delivery.announce()
        self.hands.commit_next_deal()
        self.hands.schedule()
        self.bankroll.settle_soon()  # what a crash interrupted is paid (again, by key) now

    # --- messages ---------------------------------------------------------------------------

    async def handle(self, message: TableMessage) -> object:
        core, now_ms = self.core, self.deps.clock_ms()
        core.rules = self.deps.rules  # the process's settings, as they are now
        match message:
            case HandProgress():
                self.hands.progress(message)
            case PlayerAct():
                await self.hands.act(message)
            case HandFinished():
                await self._on_finished(message)
            case StartNextHand():
                await self.hands.start()
            case SettleOwed():
                await self.bankroll.settle()
            case JoinSeat():
                return await self._join(message)
            case TopUpChips(player_id=player_id, amount=amount):
                seat = core.top_up_allowed(player_id, amount)
                await self.bankroll.top_up(player_id, seat, amount)
                await self.run(core.topped_up(seat))
            case SitOutNext(player_id=player_id):
                await self.run(core.sit_out(player_id))
            case SitIn(player_id=player_id, post_now=post_now):
                await self.run(core.sit_in(player_id, post_now))
            case StandUp(player_id=player_id):
                cashed, effects = core.stand_up(player_id, now_ms)
                await self.run(effects)
                return cashed
            case JoinWaiting(player_id=player_id):
                await self.run(waiting.join_wait_list(core, player_id))
            case LeaveWaiting(player_id=player_id):
                self.waits.left(player_id)
                await self.run(waiting.leave_wait_list(core, player_id))
            case AddWatcher(player_id=player_id):
                await self.run(waiting.watch(core, player_id))
            case RemoveWatcher(player_id=player_id):
                await self.run(waiting.unwatch(core, player_id))
            case ChooseClientSeed(player_id=player_id, seed=seed):
                core.choose_client_seed(player_id, seed)
            case UpdateSeatProfile(player_id, display_name, auto_muck, auto_post_blinds):
                change = core.update_profile(player_id, display_name, auto_muck, auto_post_blinds)
                await self.run(change)
            case ConnectionChanged(player_id=player_id, connected=connected):
                await self.run(core.connection(player_id, connected))
            case PlayerGone(player_id=player_id):
                await self.run(core.gone(player_id, now_ms)[1])
            case GetListing():
                return self.delivery.listing()
            case GetSeats():
                return seats_of(self.state)
            case AuditEscrow():
                return await self.bankroll.audit()
            case PauseTable() | ResumeTable():
                pause = isinstance(message, PauseTable)
                await self.run(status.change_status(core, Event.PAUSE if pause else Event.RESUME))
                return await self.closing.detail()
            case HoldAfterHand():
                await self.run(status.change_status(core, Event.HOLD))
            case Release(deal=deal):
                await self.run(status.release(core, deal))
            case SetStakes():
                await self._set_stakes(message)
            case SeatPlayer():
                return await self._seat_for_owner(message, now_ms)
            case RemovePlayer(player_id=player_id):
                stack, effects = core.remove_for_owner(player_id, now_ms)
                await self.run(effects)
                return stack
            case CloseTable():
                return await self.closing.close()
            case FinishClose():
                if not self.closing.closed:
                    await self.closing.finish()
            case GetTableDetail():
                return await self.closing.detail()
            case _:
                raise TypeError(f"table: unexpected message {message!r}")
        return None

    # --- effects ----------------------------------------------------------------------------

    async def run(self, effects: fx.Effects) -> None:
        """Perform what the core decided, in its order (actors/table/runner.py)."""
        await run_effects(self, effects)

    async def funded(self, funding: Funding) -> None:
        """The bankroll's word that a buy-in's or top-up's chips are in."""
        await self.run(self.core.funded(funding))

    # --- seats ------------------------------------------------------------------------------

    async def _join(self, message: JoinSeat) -> SeatGranted:
        """A player's buy-in: the core picks the seat, the bankroll checks and moves the
        chips (write-ahead) and calls ``funded``, which seats her."""
        now_ms = self.deps.clock_ms()
        seat, already = self.core.seat_for_join(
            message.player_id, message.seat, now_ms, same_if_seated=message.same_if_seated
        )
        if already:
            return SeatGranted(self.table_id, seat, self.state.seats[seat].stack)
        try:
            self.core.check_address(message.player_id, message.address, self.addresses)
        except GameRefused as refused:  # for staff: no address in the line (none in the clear)
            log.info("table rule refused a seat", table=self.table_id,
                     player=message.player_id, code=refused.code)  # fmt: skip
            raise
        await self.bankroll.buy_in(message, seat, now_ms)
        profile = message.profile
        self.core.profile(
            seat,
            display_name=profile.display_name,
            auto_muck=profile.auto_muck,
            auto_post_blinds=profile.auto_post_blinds,
        )
        if message.address:
            self.addresses[message.player_id] = message.address
        await self.run(self.core.welcome(seat, message.player_id))
        return SeatGranted(table_id=self.table_id, seat=seat, stack=message.buy_in)

    async def _seat_for_owner(self, message: SeatPlayer, now_ms: int) -> SeatGranted:
        profile = message.profile
        seat, effects = self.core.seat_for_owner(
            message.player_id,
            message.stack,
            message.seat,
            now_ms,
            display_name=profile.display_name,
            auto_muck=profile.auto_muck,
        )
        await self.run(effects)
        return SeatGranted(table_id=self.table_id, seat=seat, stack=message.stack)

    async def _set_stakes(self, message: SetStakes) -> None:
        config = self.stakes.set(message.small_blind, message.big_blind, message.ante)
        self.state.config = config  # the next hand is dealt with it; the running one is not
        await self.persist()
        self.delivery.announce()

    # --- hands ------------------------------------------------------------------------------

    async def _on_finished(self, message: HandFinished) -> None:
        running = self.state.running
        if running is None or message.hand_number != running.hand_number:
            return
        result = message.result
        players = {seat: self.state.seats[seat].player_id for seat in running.seats}
        # No I/O in this message: the rake and the history are recorded as owed and paid by
        # SettleOwed, so a database failure there can never undo this hand's result.
        self.bankroll.rake(running.hand_number, result.rake)
        now_ms = self.deps.clock_ms()
        banks, timed_out = message.time_banks_ms, message.timed_out
        effects = hand_finished(self.core, result, banks, timed_out, now_ms)
        HANDS.labels(self.config.variant.value).inc()
        live = self.hands.ended()
        if len(self.state.histories) >= HISTORIES_UNWRITTEN_MAX:
            raise RuntimeError(f"{self.table_id}: {HISTORIES_UNWRITTEN_MAX} histories unwritten")
        terms = self.stakes.hand_config()
        record = finished_hand(self.state, running, players, live, result, terms, now_ms)
        self.state.histories.append(record)
        self.bankroll.settle_soon()
        await self.run(effects)

    # --- what the parts read ---------------------------------------------------------------

    @property
    def live(self) -> LiveHand | None:
        return self.hands.live

    @property
    def dealer(self) -> FairDealer:
        return self.hands.dealer

    async def persist(self, *, durable: bool = False) -> None:
        """The state to the store: soon, or with ``durable`` now (actors/table/durable.py)."""
        await self.writer.save(self.state, self.context.checkpoint, durable=durable)


def table_spec(config: TableConfig, deps: TableDeps, recovered: bytes | None = None) -> ChildSpec:
    """The child spec of a table under the ``tables`` supervisor (name ``table:<id>``)."""
    # Transient: a crash restarts the table; only a close stops it normally, for good.
    return ChildSpec.worker(
        TableAddress(config.table_id).actor_name,
        partial(TableActor, config, deps, recovered),
        restart=Restart.TRANSIENT,
    )
