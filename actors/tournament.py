"""The tournament actor ``tournament:<id>``: the live shell around the rules core
(poker/tournament/, docs/tournaments.md "Live system").

It feeds the core commands (registrations, the clock, each table's hands) and performs the
effects the core returns, in order: tables opened, players seated, moved and removed
through the ordinary table actors (``TableConfig(owner=<this actor>, bankroll="tournament")``),
stakes set per level, money through the ledger (services/tournaments.py), players told over
their sessions (protocol/tournaments.py pushes), every step stored with its domain events
(persistence/tournaments.py).

This module is the shell: messages, registration and money in, directors' operations, deals,
and one step (store, tables, money, players). Beside it: actors/tournament_state.py (what is
stored: ``LiveState``, the spec and the core's config), actors/tournament_tables.py (the
tables: seating, moves, releasing hands, aligning after a restart) and
actors/tournament_views.py (what it shows: details, standings, results, state pushes).

Tables hold from their opening and after every hand (actors/table/ does this for a
tournament's table) and deal the next only when this actor releases them, after the core's
``next_hand`` said ``DealHand``: the core decides every hand and every wait (breaks,
hand-for-hand, TDA 11D).
The table's ``TableHandEnded`` feeds ``hand_ended`` with the stacks the table reports for
the players the core has there (a table may leave a newcomer out of a hand, or a player who
timed out: their stacks did not change, so the core sees them as dealt in and unchanged).

Write-ahead: a step's payouts (prizes, bounties, deal money, overlay) are stored as owed
with the step, then paid by key; a restart pays what is still owed again (a replay when it
was paid). Money in (an entry, re-entry, rebuy or add-on) is stored as an intent
(``PayIn``) with the core as it was, then transferred by key, then the step (the entry or
the chips) is stored without the intent: a restart that finds the intent completes it (the
transfer again by key: a replay) or, when the core or the ledger refuses it now, refunds
what landed under the intent's own keys. A refused buy-in registers nobody.

The level clock is this actor's elapsed play time (``LiveState.elapsed_ms``), advanced by
trio time only while running and not paused: the core is started at 0 and read at it. A
restart resumes from the stored elapsed time, so the level goes on with the time it had.
"""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Any, Final, cast, final

import msgspec
import structlog
import trio

from actors import tournament_metrics
from actors.runtime import Actor, Overflow, Timer
from actors.table.messages import (
    GameRefused,
    RemovePlayer,
    SeatProfile,
    TableHandEnded,
)
from actors.tournament_messages import (
    AdjustStack,
    AnyTournamentMessage,
    BreakTable,
    BuyAddOn,
    BuyRebuy,
    CancelTournament,
    ClockTick,
    DealLapsed,
    DealProposal,
    DeclineRebuy,
    DrainHold,
    EntryAccepted,
    GetResults,
    GetStandings,
    GetTournament,
    HoldForDrain,
    MoveEntry,
    PauseClock,
    ProposeDeal,
    RebuyLapsed,
    RegisterPlayer,
    RemoveEntry,
    RescheduleStart,
    ResumeClock,
    StartTournament,
    SummaryChanged,
    TournamentAddress,
    TournamentRefusal,
    TournamentState,
    UnregisterPlayer,
    VoidUnreported,
    VoteDeal,
)
from actors.tournament_state import (
    _LIVE_DECODER,
    _LIVE_ENCODER,
    LIVE_VERSION,
    LiveState,
    Owed,
    PayIn,
    PendingDeal,
    TournamentDeps,
    _player,
    check_spec,
    core_config,
    decode_spec,
    encode_spec,
)
from actors.tournament_tables import TournamentTables
from actors.tournament_views import _ALIVE
from persistence import tournaments as stored
from persistence.events import NewEvent
from persistence.leases import Fenced, fenced_unit
from persistence.work import WorkFactory
from players.stats import TournamentResult
from poker.integrity.table_rules import SeatedSession, address_conflict
from poker.tournament import (
    DealKind,
    EntryStatus,
    LevelUnit,
    Phase,
    Tournament,
    TournamentRefused,
)
from poker.tournament import effects as fx
from poker.tournament.places import split_by_weight
from poker.tournament.structure import CHIPS_MAX
from protocol import tournaments as wire
from services.ledger import WalletError
from services.player_stats import record_tournament_result
from services.tournaments import TournamentMoney, payout_of

log = structlog.get_logger("tablium.tournament")

_READS: Final = (GetTournament, GetStandings, GetResults)  # change nothing: views stay built


@final
class TournamentActor(TournamentTables, Actor[Any]):
    kind = "tournament"
    mailbox_capacity = 4096
    mailbox_overflow = Overflow.STOP  # a flooded tournament is broken: restart from the store
    reply_errors = (TournamentRefusal, WalletError, GameRefused)

    def __init__(self, tournament_id: int, deps: TournamentDeps) -> None:
        self.tournament_id = tournament_id
        self.address = TournamentAddress(tournament_id)
        self.deps = deps
        self.live: LiveState | None = None
        self.core: Tournament | None = None
        self.money: TournamentMoney | None = None
        self.clock_since = 0.0  # trio time the running clock last started from
        self.clock_timer: Timer | None = None
        self.clock_generation = 0
        # Players whose rebuy, add-on or elimination came while their table dealt them in a
        # hand (table -> players): the table catches up before its next hand.
        self.restack: dict[int, set[int]] = {}
        self.start_timer: Timer | None = None
        self.profiles: dict[int, SeatProfile] = {}  # player -> profile (bound: the field)
        self.names: dict[int, tuple[float, str]] = {}  # the standings' names (views)
        # Several nodes: the fencing epoch this node holds of the tournament (None: alone).
        self.epoch: int | None = None
        # The core's bytes as last stored (None: none yet): a step that leaves them as they
        # are writes only the live state (_persist).
        self.stored_core: bytes | None = None

    # --- lifecycle --------------------------------------------------------------------------

    async def started(self) -> None:
        lease = self.deps.lease
        if lease is not None:
            name = self.address.actor_name
            if not await lease.ensure(name):
                # Another node runs it (or Redis does not answer): the lease's owner opens
                # it here once that lease lapses (docs/scaling.md, "Tournaments").
                log.warning("tournament owned by another node: not opened here",
                            tournament=self.tournament_id)  # fmt: skip
                self.context.stop()  # a transient child: removed, never restarted
                return
            self.epoch = lease.fences.epoch(name)
        try:
            await self._open()
        except Fenced as exc:
            self._fenced(exc)

    def _fenced(self, exc: Fenced) -> None:
        """Another node took this tournament (its epoch is newer than ours): nothing more
        is written from here; the actor stops (the lease's renewal stops its tables)."""
        log.warning("tournament fenced off: another node owns it", tournament=self.tournament_id,
                    error=str(exc))  # fmt: skip
        self.live = None
        self.context.stop()

    async def _open(self) -> None:
        row = await self.deps.store.run(lambda: stored.load_tournament(self.tournament_id))
        if row is None:
            raise RuntimeError(f"tournament {self.tournament_id} is not in the store")
        spec = decode_spec(row.spec)
        if row.live is not None:
            self.live = _LIVE_DECODER.decode(row.live)
        else:
            self.live = LiveState(version=LIVE_VERSION, tournament_id=row.id, spec=spec)
        self.live.steps = max(self.live.steps, row.version)
        self.stored_core = row.core
        if row.core is not None:
            self.core = Tournament.restore(row.core)
        else:
            self.core = Tournament(core_config(spec))
        self.money = TournamentMoney(self.deps.wallet, self.tournament_id, spec.asset)
        self.clock_since = trio.current_time()
        self._note_entrants()
        if self.live.state == "running":
            await self._resume_tables()
        await self._pay_owed()
        await self._resume_paying()
        self._schedule()
        self._announce()

    def _note_entrants(self) -> None:
        """Opened on this node (a start, a drain's hand-over, a takeover): its players still
        in are this node's entrants, so their pushes follow them to whichever node their
        sessions resume or log in on (docs/scaling.md, "Tournaments across nodes")."""
        room = self.deps.room
        if room is None:
            return
        for entry in self._core().state.entries:
            if entry.status in (EntryStatus.REGISTERED, *_ALIVE):
                room.came_with(self.tournament_id, _player(entry.player_id))

    # --- the clock --------------------------------------------------------------------------

    def _freeze_clock(self) -> None:
        live = self._live()
        live.elapsed_ms = self.play_ms()
        self.clock_since = trio.current_time()

    def _schedule(self) -> None:
        """The next clock tick (levels, breaks) and, before the start, the start time."""
        live, core = self._live(), self._core()
        if self.clock_timer is not None:
            self.clock_timer.cancel()
            self.clock_timer = None
        self.clock_generation += 1
        if live.state == "registering" and self.spec.kind == "mtt":
            if self.start_timer is None and self.spec.starts_at_ms is not None:
                delay_ms = max(0, self.spec.starts_at_ms - self.deps.clock_ms())
                self.start_timer = self.context.send_after(delay_ms / 1000, StartTournament())
            return
        if live.state != "running" or live.paused or self.stored_for_drain:
            return
        if core.structure.unit is not LevelUnit.MINUTES:
            return
        reading = core.reading(self.play_ms())
        if reading.remaining_ms < 0:
            return
        delay_s = max(1, reading.remaining_ms) / 1000
        self.clock_timer = self.context.send_after(delay_s, ClockTick(self.clock_generation))

    # --- messages ---------------------------------------------------------------------------

    async def handle(self, message: AnyTournamentMessage | TableHandEnded) -> object:
        if self.live is None:  # not opened here (another node's), or fenced off: stopping
            raise TournamentRefusal("tournament_not_found", "the tournament runs on another node")
        if not isinstance(message, _READS):
            self.view_version += 1  # what the views show may change: built again when read
        try:
            return await self._handle(message)
        except TournamentRefused as exc:
            raise TournamentRefusal(exc.code, str(exc)) from None
        except Fenced as exc:
            self._fenced(exc)
            raise TournamentRefusal(
                "tournament_not_found", "the tournament runs on another node"
            ) from None

    async def _handle(self, message: Any) -> object:
        match message:
            case TableHandEnded():
                await self._hand_ended(message)
            case ClockTick(generation=generation):
                if generation == self.clock_generation and self._live().state == "running":
                    await self._step(self._core().clock(self.play_ms()))
                else:
                    return None
            case RegisterPlayer(player_id=player_id, address=address):
                return await self._register(player_id, address)
            case UnregisterPlayer(player_id=player_id):
                await self._unregister(player_id)
            case BuyRebuy(player_id=player_id):
                await self._rebuy(player_id)
            case DeclineRebuy(player_id=player_id):
                entry = self._entry_of(player_id, EntryStatus.AWAITING_REBUY)
                await self._step(self._core().decline_rebuy(entry, self.deps.rng))
            case VoidUnreported(table=table):
                await self._void_unreported(table)
            case RebuyLapsed(entry=entry, offer=offer):
                if self._live().offers.get(entry) == offer:
                    core = self._core()
                    if core.entry(entry).status is EntryStatus.AWAITING_REBUY:
                        await self._step(core.decline_rebuy(entry, self.deps.rng))
            case BuyAddOn(player_id=player_id):
                await self._addon(player_id)
            case GetTournament():
                return self.details()
            case GetStandings(offset=offset, limit=limit, player_id=player_id):
                return await self.standings(offset, limit, player_id)
            case GetResults():
                return self.results()
            case StartTournament():
                self.start_timer = None
                await self._start(by_director=True)
            case RescheduleStart(starts_at_ms=starts_at_ms):
                await self._reschedule(starts_at_ms)
            case CancelTournament():
                await self._cancel()
            case PauseClock():
                await self._pause(True)
            case ResumeClock():
                await self._pause(False)
            case ProposeDeal():
                return await self._propose_deal(message)
            case VoteDeal(player_id=player_id, accept=accept, deal_id=deal_id):
                deal = self._live().deal
                if deal is None or deal_id not in (None, deal.deal_id):
                    raise TournamentRefusal("no_deal_proposed", "no such deal is proposed")
                await self._vote_deal(player_id, accept)
            case DealLapsed(deal_id=deal_id):
                deal = self._live().deal
                if deal is not None and deal.deal_id == deal_id:
                    await self._drop_deal()
            case AdjustStack(entry=entry, chips=chips):
                return await self._adjust(entry, chips)
            case RemoveEntry(entry=entry, refund=refund):
                await self._remove(entry, refund)
            case MoveEntry(entry=entry, table=table):
                self._require("running")
                await self._step(self._core().move_entry(entry, table, self.deps.rng))
            case BreakTable(table=table):
                self._require("running")
                await self._step(self._core().break_table(table, self.deps.rng))
            case HoldForDrain(now=now):
                return await self._hold_for_drain(now)
            case _:
                raise TypeError(f"tournament: unexpected message {message!r}")
        return None

    # --- registration -----------------------------------------------------------------------

    def _entry_of(self, player_id: int, *statuses: EntryStatus) -> int:
        entries = self._core().entries_of(str(player_id))
        for entry in reversed(entries):
            if not statuses or entry.status in statuses:
                return entry.entry
        raise TournamentRefusal("not_registered", f"player {player_id} has no such entry")

    def _require(self, *states: TournamentState) -> None:
        if self._live().state not in states:
            raise TournamentRefusal("tournament_not_running", f"the tournament is {self.live}")

    def _check_address(self, player_id: int, address: str | None) -> None:
        """The one-address rule (poker/integrity/table_rules.py, the tables' settings): no
        two accounts still in the tournament (registered, playing, offered a rebuy) from
        one address, unless staff allowed the address or named the players together."""
        core, live = self._core(), self._live()
        others = {
            _player(e.player_id)
            for e in core.state.entries
            if e.status in (EntryStatus.REGISTERED, *_ALIVE)
        }
        seated = [SeatedSession(p, live.addresses.get(p)) for p in sorted(others)]
        joining = SeatedSession(player_id, address)
        other = address_conflict(joining, seated, self.deps.table_deps.rules.address)
        if other is not None:
            raise TournamentRefusal(
                "same_address_in_tournament",
                "another player in this tournament connects from your address",
            )

    async def _register(self, player_id: int, address: str | None = None) -> EntryAccepted:
        self._require("registering", "running")
        core, money = self._core(), self.money
        assert money is not None
        if not core.may_register(str(player_id)):
            raise TournamentRefusal("registration_refused", "registration is not open to you")
        self._check_address(player_id, address)
        if address:  # the address of her latest registration (unknown: none kept)
            self._live().addresses[player_id] = address
        else:
            self._live().addresses.pop(player_id, None)
        await money.check_may_play(player_id)
        await self._profile(player_id, fresh=True)
        reentry = bool(core.entries_of(str(player_id)))
        before = core.snapshot()
        effects = core.register(str(player_id), self.deps.rng)
        bought = effects[0]
        assert isinstance(bought, fx.EntryBought)
        intent = PayIn(
            bought.op, "entry", player_id, bought.prize_part + bought.bounty_part, bought.fee,
            bought.entry,
        )  # fmt: skip
        await self._buy(intent, effects, before)
        core = self._core()
        table_id = None
        if core.entry(bought.entry).table:
            table_id = self.address.table_id(core.entry(bought.entry).table)
        await self._start_if_full()
        return EntryAccepted(
            tournament_id=self.tournament_id, entry=bought.entry, reentry=reentry,
            table_id=table_id,
        )  # fmt: skip

    async def _start_if_full(self) -> None:
        if (
            self._live().state == "registering"
            and self.spec.kind == "sng"
            and self._core().state.entry_count >= self.spec.entries_max
        ):
            await self._start(by_director=False)

    async def _buy(self, intent: PayIn, effects: list[fx.AnyEffect], before: bytes) -> None:
        """Money in, write-ahead: the intent is stored with the core as it was ``before``,
        then the transfer is made by key, then the step (``effects``, already applied to the
        core) is stored without the intent. Refused (WalletError, raised): the core is as
        it was, what landed is given back, the intent is dropped."""
        live, money = self._live(), self.money
        assert money is not None
        if not intent.ledger_op:
            retries = live.undone.get(intent.op, 0)
            named = intent.op if not retries else f"{intent.op}:retry{retries}"
            intent = msgspec.structs.replace(intent, ledger_op=named)
        live.paying.append(intent)
        await self._persist([], core_bytes=before)  # the core as it was: stored once, if not yet
        try:
            await money.pay_in(intent.ledger_op, intent.player_id, intent.to_pool, intent.fee,
                               intent.entry)  # fmt: skip
        except WalletError:
            self.core = Tournament.restore(before)  # nothing changed
            await self._undo(intent)
            raise
        live.paying.remove(intent)
        await self._step(effects, paid=True)

    async def _undo(self, intent: PayIn) -> None:
        """Give back what landed of ``intent`` under its own keys, then drop it, durably;
        the next attempt at the same op goes by new keys (``PayIn.ledger_op``)."""
        money, live = self.money, self._live()
        assert money is not None
        name = intent.ledger_op or intent.op
        landed = await money.landed(name)
        await money.refund(
            f"{name}:undo", intent.player_id, intent.to_pool if landed[0] else 0,
            intent.fee if landed[1] else 0,
        )  # fmt: skip
        if intent in live.paying:
            live.paying.remove(intent)
        live.undone[intent.op] = live.undone.get(intent.op, 0) + 1
        await self._persist([])

    async def _resume_paying(self) -> None:
        """After a restart: each money-in intent stored without its step is completed (the
        core takes it again as it did: the same operation; the transfer again by key) or,
        refused now by the core or the ledger, undone (what landed is refunded)."""
        live, core = self._live(), self._core()
        for intent in list(live.paying):
            live.paying.remove(intent)
            before = core.snapshot()
            who = str(intent.player_id)
            effects: list[fx.AnyEffect] = []
            try:
                if intent.kind == "entry" and core.may_register(who):
                    effects = core.register(who, self.deps.rng)
                elif intent.kind == "rebuy":
                    effects = core.rebuy(intent.entry)
                elif intent.kind == "addon":
                    effects = core.addon(intent.entry)
            except TournamentRefused:
                effects = []
            op = getattr(effects[0], "op", None) if effects else None
            if op != intent.op:
                self.core = core = Tournament.restore(before)
                live.paying.append(intent)
                await self._undo(intent)
                log.warning("interrupted buy-in refunded", tournament=self.tournament_id,
                            op=intent.op)  # fmt: skip
                continue
            try:
                await self._buy(intent, effects, before)  # stores it again, then the step
            except WalletError as exc:
                log.warning("interrupted buy-in refused", tournament=self.tournament_id,
                            op=intent.op, error=exc.code)  # fmt: skip
            else:
                log.warning("interrupted buy-in completed", tournament=self.tournament_id,
                            op=intent.op)  # fmt: skip
                await self._start_if_full()
            core = self._core()

    async def _unregister(self, player_id: int) -> None:
        self._require("registering")
        entry = self._entry_of(player_id, EntryStatus.REGISTERED)
        await self._step(self._core().unregister(entry))

    async def _rebuy(self, player_id: int) -> None:
        self._require("running")
        core, money = self._core(), self.money
        assert money is not None
        entry = self._entry_of(player_id, EntryStatus.PLAYING, EntryStatus.AWAITING_REBUY)
        before = core.snapshot()
        effects = core.rebuy(entry)
        bought = effects[0]
        assert isinstance(bought, fx.RebuyBought)
        await self._buy(
            PayIn(bought.op, "rebuy", player_id, bought.price, bought.fee, entry), effects, before
        )

    async def _addon(self, player_id: int) -> None:
        self._require("running")
        core, money = self._core(), self.money
        assert money is not None
        entry = self._entry_of(player_id, EntryStatus.PLAYING)
        record = core.entry(entry)
        if record.table and entry in core.table(record.table).dealt:
            # The break began while her table finished a hand she is in: after it.
            raise TournamentRefusal("addon_refused", "between your hands only: try again")
        before = core.snapshot()
        effects = core.addon(entry)
        bought = effects[0]
        assert isinstance(bought, fx.AddOnBought)
        await self._buy(
            PayIn(bought.op, "addon", player_id, bought.price, bought.fee, entry), effects, before
        )

    async def _adjust(self, number: int, chips: int) -> int:
        """A director's correction of a stack, between the entry's hands (chips issued or
        withdrawn: the core's count of chips in play follows, so the invariants hold)."""
        self._require("running")
        core = self._core()
        entry = core.entry(number)
        if entry.status is not EntryStatus.PLAYING:
            raise TournamentRefusal("table_refused", f"entry {number} is not playing")
        if core.table(entry.table).in_hand:
            raise TournamentRefusal("table_refused", "between the entry's hands only")
        if not 0 < entry.stack + chips <= CHIPS_MAX:
            raise TournamentRefusal("table_refused", f"a stack stays 1..{CHIPS_MAX} chips")
        entry.stack += chips
        core.state.chips_in_play += chips
        seat = next(s for s, e in core.table(entry.table).seats.items() if e == number)
        player = _player(entry.player_id)
        await self._persist([])
        with contextlib.suppress(GameRefused):  # not seated there: a restart aligns it
            await self._ask_table(entry.table, RemovePlayer(player_id=player))
        await self._ask_table(entry.table, await self._seat_message(player, entry.stack, seat))
        return entry.stack

    async def _remove(self, number: int, refund: bool) -> None:
        """A director takes an entry out (the core's ``remove_entry`` says what happens to
        its chips, place and money; docs/tournaments.md, "Directors")."""
        self._require("registering", "running")
        core = self._core()
        if not 0 < number <= len(core.state.entries):
            raise TournamentRefusal("not_registered", f"no entry {number}")
        playing = core.entry(number).status is EntryStatus.PLAYING
        effects = core.remove_entry(number, refund=refund, rng=self.deps.rng)
        if not refund and core.phase is Phase.REGISTERING:
            self._live().forfeited.append(number)
        back = 0
        for effect in effects:
            if isinstance(effect, fx.EntryRemoved) and effect.entry == number:
                back += effect.refund + effect.fee
            elif isinstance(effect, fx.EntryRefunded) and effect.entry == number:
                config = core.config  # unregistered: everything it paid comes back
                back += config.buy_in + config.bounty + config.fee
        player = _player(core.entry(number).player_id)
        removed = stored.player_removed(
            self.tournament_id, player, number, back, playing and not refund
        )
        await self._step(effects, events=[removed])

    async def _start(self, *, by_director: bool) -> None:
        live, core = self._live(), self._core()
        if live.state != "registering":
            if by_director:
                raise TournamentRefusal("tournament_not_running", "it has started already")
            return
        if core.state.entry_count < self.spec.entries_min:
            if by_director:
                raise TournamentRefusal("registration_refused", "too few entries to start")
            await self._cancel()  # its time came without enough players
            return
        live.state = "running"
        live.elapsed_ms = 0
        self.clock_since = trio.current_time()
        await self._step(core.start(0, self.deps.rng))

    async def _reschedule(self, starts_at_ms: int) -> None:
        """A director moves the start of an MTT still registering: the new time is stored
        with the step (``tournament.rescheduled``), the start timer set again, the lobby told."""
        live = self._live()
        if live.state != "registering" or self.spec.kind != "mtt":
            raise TournamentRefusal(
                "tournament_not_running", "only a multi-table tournament not started yet"
            )
        live.spec = msgspec.structs.replace(live.spec, starts_at_ms=starts_at_ms)
        if self.start_timer is not None:
            self.start_timer.cancel()
            self.start_timer = None
        event = stored.rescheduled(self.tournament_id, starts_at_ms)
        await self._persist([event])
        self._schedule()
        self._announce()

    async def _pause(self, paused: bool) -> None:
        self._require("running")
        live = self._live()
        if live.paused == paused:
            return
        self._freeze_clock()
        live.paused = paused
        await self._persist([])
        core = self._core()
        for table in core.floor.tables:
            if not paused:
                await self._deal(table)
        self._push_state("clock_paused" if paused else "clock_resumed")
        self._schedule()

    async def _hold_for_drain(self, now: bool) -> DrainHold:
        """Its node drains (docs/scaling.md, "Draining a node"): no table deals another hand
        here (``_deal``). Once none runs, or ``now`` (the drain's bound passed: a hand still
        running is voided on the next node, as after a crash), the step is stored with the
        play time as it stands and the clock stops: the next node opens it from that step,
        so the level loses no time and gains only what the move takes. Idempotent."""
        live, core = self._live(), self._core()
        self.held_for_drain = True
        running = sum(1 for table in core.floor.tables.values() if table.in_hand)
        unfinished = live.state in ("registering", "running")
        if unfinished and not self.stored_for_drain and (running == 0 or now):
            await self._persist([])
            self.stored_for_drain = True  # play_ms stands from here (_freeze_clock kept it)
            self.clock_generation += 1  # a tick already on its way is stale
            if self.clock_timer is not None:
                self.clock_timer.cancel()
                self.clock_timer = None
            log.info("tournament held for its node's drain", tournament=self.tournament_id,
                     play_ms=live.elapsed_ms, hands_running=running)  # fmt: skip
        return DrainHold(state=live.state, hands_running=running, stored=self.stored_for_drain)

    async def _cancel(self) -> None:
        """Before the start: every entry gets back all it paid. Once running: places already
        decided keep their prizes and bounties; the rest of the pool goes to the entries
        still in, in proportion to their chips (a chip chop); every fee paid comes back."""
        live, core = self._live(), self._core()
        if live.state in ("finished", "cancelled"):
            raise TournamentRefusal("tournament_not_running", f"the tournament is {live.state}")
        await self._pay_owed()  # what was decided is paid first
        config, structure = core.config, core.structure
        shares: dict[int, int] = {}
        if core.phase is Phase.RUNNING:
            alive = [e for e in core.state.entries if e.status in _ALIVE and e.stack > 0]
            balance = await self._pool_balance()
            if alive and balance:
                weights = [(e.entry, e.stack) for e in alive]
                shares = dict(split_by_weight(balance, weights))
        for entry in core.state.entries:
            if entry.entry in live.forfeited and core.phase is Phase.REGISTERING:
                live.owed.append(
                    Owed(f"cancel:{entry.entry}", _player(entry.player_id),
                         config.buy_in + config.bounty, "refund", entry.entry)
                )  # fmt: skip
            if entry.status is EntryStatus.UNREGISTERED:
                continue
            fee = config.fee
            if structure.rebuy is not None:
                fee += entry.rebuys * structure.rebuy.fee
            if entry.addon and structure.addon is not None:
                fee += structure.addon.fee
            if core.phase is Phase.REGISTERING:
                back = config.buy_in + config.bounty
            else:
                back = shares.get(entry.entry, 0)
            live.owed.append(
                Owed(f"cancel:{entry.entry}", _player(entry.player_id), back, "refund",
                     entry.entry, fee)
            )  # fmt: skip
        live.state = "cancelled"
        self._freeze_clock()
        events = [stored.changed("tournament.finished", self.tournament_id, "cancelled", None)]
        await self._persist(events)
        for table in list(core.floor.tables):
            await self._close_table(table)
        await self._pay_owed()
        self._push_state("cancelled")
        self._announce()
        self._schedule()

    async def _pool_balance(self) -> int:
        from services.ledger import prize_pool

        assert self.money is not None
        account = await self.deps.store.ledger_account(prize_pool(self.money.pool, self.spec.asset))
        return 0 if account is None else account.balance

    # --- deals ------------------------------------------------------------------------------

    async def _propose_deal(self, message: ProposeDeal) -> DealProposal:
        self._require("running")
        live, core = self._live(), self._core()
        if live.deal is not None:
            raise TournamentRefusal("deal_refused", "a deal is already proposed")
        proposer = self._entry_of(message.player_id, EntryStatus.PLAYING)
        # A dry run on a copy: the core checks the final table, between hands, prizes final.
        trial = Tournament.restore(core.snapshot())
        seated = [e.entry for e in core.state.entries if e.status is EntryStatus.PLAYING]
        effects = trial.deal(DealKind(message.kind), seated, message.keep)
        made = next(e for e in effects if isinstance(e, fx.DealMade))
        live.deals_proposed += 1
        live.deal = PendingDeal(
            deal_id=live.deals_proposed, kind=str(message.kind), keep=message.keep,
            entries=list(made.entries), amounts=list(made.amounts), accepted=[proposer],
            expires_at_play_ms=self.play_ms() + self.spec.deal_vote_ms,
        )  # fmt: skip
        self.context.send_after(self.spec.deal_vote_ms / 1000, DealLapsed(live.deals_proposed))
        await self._persist([])
        self._push_deal()
        return self._proposal()

    def _proposal(self) -> DealProposal:
        deal = self._live().deal
        assert deal is not None
        return DealProposal(
            deal_id=deal.deal_id, kind=deal.kind, keep=deal.keep, entries=tuple(deal.entries),
            amounts=tuple(deal.amounts), accepted=tuple(deal.accepted),
            expires_in_ms=max(0, deal.expires_at_play_ms - self.play_ms()),
        )  # fmt: skip

    def _push_deal(self) -> None:
        p = self._proposal()
        body = wire.TournamentDealProposed(
            tournament_id=self.tournament_id, deal_id=p.deal_id, kind=cast(Any, p.kind),
            keep=p.keep, entries=p.entries, amounts=p.amounts, accepted=p.accepted,
            expires_in_ms=p.expires_in_ms,
        )  # fmt: skip
        for entry in p.entries:
            self._deliver(_player(self._core().entry(entry).player_id), body)

    async def _vote_deal(self, player_id: int, accept: bool) -> None:
        live, core = self._live(), self._core()
        deal = live.deal
        if deal is None:
            raise TournamentRefusal("no_deal_proposed", "no deal is proposed")
        entry = self._entry_of(player_id, EntryStatus.PLAYING)
        if entry not in deal.entries:
            raise TournamentRefusal("not_registered", "you are not in this deal")
        if not accept:
            await self._drop_deal()
            return
        if entry not in deal.accepted:
            deal.accepted.append(entry)
        if set(deal.accepted) != set(deal.entries):
            await self._persist([])
            self._push_deal()
            return
        effects = core.deal(DealKind(deal.kind), deal.accepted, deal.keep)
        live.deal = None
        self._decided(deal, True)
        await self._step(effects)

    async def _drop_deal(self) -> None:
        live = self._live()
        deal = live.deal
        assert deal is not None
        live.deal = None
        await self._persist([])
        self._decided(deal, False)

    def _decided(self, deal: PendingDeal, made: bool) -> None:
        body = wire.TournamentDealDecided(
            tournament_id=self.tournament_id, deal_id=deal.deal_id, made=made
        )
        for entry in deal.entries:
            self._deliver(_player(self._core().entry(entry).player_id), body)

    # --- hands ------------------------------------------------------------------------------

    # --- one step: state, store, tables, money, players ------------------------------------

    async def _step(
        self,
        effects: list[fx.AnyEffect],
        *,
        paid: bool = False,
        ended: int | None = None,
        events: list[NewEvent] | None = None,
    ) -> None:
        """Perform ``effects`` in order: store the step (with payouts owed and events, and
        ``events`` of the caller's own), then the tables, the money, the players; then let
        tables that may deal, deal."""
        live, core = self._live(), self._core()
        events = list(events or ())
        to_deal: set[int] = set() if ended is None else {ended}
        table_ops: list[fx.AnyEffect] = []
        pushes: list[tuple[int, Any]] = []
        tid = self.tournament_id
        for effect in effects:
            payout = payout_of(effect)
            if payout is not None:
                op, player, amount = payout
                kind = "prize" if isinstance(effect, fx.PlaceAwarded) else "deal"
                if isinstance(effect, fx.BountyWon):
                    kind = "bounty"
                knocked = effect.knocked_out if isinstance(effect, fx.BountyWon) else 0
                live.owed.append(
                    Owed(op, player, amount, kind, getattr(effect, "entry", 0), 0, knocked)
                )
            match effect:
                case fx.EntryBought(entry=entry, player_id=who):
                    events.append(
                        stored.player_changed(
                            "tournament.player_registered", tid, _player(who), entry
                        )
                    )
                case fx.EntryRefunded(entry=entry, player_id=who, op=op):
                    config = core.config
                    live.owed.append(
                        Owed(op, _player(who), config.buy_in + config.bounty, "refund",
                             entry, config.fee)
                    )  # fmt: skip
                case fx.EntryRemoved(entry=entry, player_id=who, table=number):
                    if effect.refund or effect.fee:
                        live.owed.append(
                            Owed(effect.op, _player(who), effect.refund, "refund", entry,
                                 effect.fee)
                        )  # fmt: skip
                    if number:
                        table_ops.append(effect)
                        to_deal.add(number)
                    pushes.append(
                        (
                            _player(who),
                            wire.TournamentEliminated(
                                tournament_id=tid, entry=entry,
                                may_reenter=core.may_register(who),
                            ),
                        )
                    )  # fmt: skip
                case fx.OverlayAdded(amount=amount, op=op):
                    live.owed.insert(0, Owed(op, 0, amount, "overlay"))
                case fx.TournamentStarted():
                    live.state = "running"
                    events.append(stored.changed("tournament.started", tid, "running", 1))
                    pushes.append((0, "started"))
                case fx.LevelStarted(level=level):
                    events.append(stored.changed("tournament.level_started", tid, "running", level))
                    pushes.append((0, "level"))
                case fx.BreakStarted():
                    events.append(stored.changed("tournament.break_started", tid, "running", None))
                    pushes.append((0, "break_started"))
                case fx.BreakEnded():
                    pushes.append((0, "break_ended"))
                case fx.RegistrationClosed():
                    pushes.append((0, "registration_closed"))
                case fx.PrizesSet():
                    pushes.append((0, "prizes_set"))
                case fx.HandForHandStarted():
                    live.hand_for_hand_rounds += 1
                    pushes.append((0, "hand_for_hand_started"))
                case fx.HandForHandEnded():
                    pushes.append((0, "hand_for_hand_ended"))
                case fx.FinalTable():
                    pushes.append((0, "final_table"))
                case fx.TournamentFinished():
                    live.state = "finished"
                    events.append(stored.changed("tournament.finished", tid, "finished", None))
                    pushes.append((0, "finished"))
                case fx.Eliminated(entry=entry, player_id=who):
                    events.append(
                        stored.player_changed(
                            "tournament.player_eliminated", tid, _player(who), entry
                        )
                    )
                    table_ops.append(effect)
                    pushes.append(
                        (
                            _player(who),
                            wire.TournamentEliminated(
                                tournament_id=tid, entry=entry,
                                may_reenter=core.may_register(who),
                            ),
                        )
                    )  # fmt: skip
                case fx.PlaceAwarded(entry=entry, player_id=who, place=place, prize=prize):
                    events.append(
                        stored.player_changed(
                            "tournament.place_paid", tid, _player(who), entry, place, prize
                        )
                    )
                    pushes.append(
                        (
                            _player(who),
                            wire.TournamentPlaced(
                                tournament_id=tid, entry=entry, place=place,
                                tied=effect.tied, prize=prize,
                            ),
                        )
                    )  # fmt: skip
                case fx.RebuyOffered(entry=entry, player_id=who):
                    live.offers_made += 1
                    live.offers[entry] = live.offers_made
                    self.context.send_after(
                        self.spec.rebuy_decision_ms / 1000, RebuyLapsed(entry, live.offers_made)
                    )
                    rule = core.structure.rebuy
                    assert rule is not None
                    pushes.append(
                        (
                            _player(who),
                            wire.TournamentRebuyOffered(
                                tournament_id=tid, entry=entry, chips=rule.chips,
                                price=rule.price, fee=rule.fee,
                                expires_in_ms=self.spec.rebuy_decision_ms,
                            ),
                        )
                    )  # fmt: skip
                case fx.RebuyBought() | fx.AddOnBought():
                    table_ops.append(effect)
                case fx.Seated() | fx.PlayerMoved() | fx.TableOpened() | fx.TableClosed():
                    table_ops.append(effect)
                    if isinstance(effect, fx.PlayerMoved):
                        live.moves += 1
                        tournament_metrics.MOVES.inc()
                        to_deal.update((effect.from_table, effect.to_table))
                    if isinstance(effect, fx.TableOpened):
                        to_deal.add(effect.table)
                    if isinstance(effect, fx.Seated):
                        to_deal.add(effect.table)
                case fx.TablesMayDeal(tables=tables):
                    to_deal.update(tables)
                case _:
                    pass
        await self._persist(events)
        to_deal |= await self._table_ops(table_ops)  # a refused move may let tables deal
        for player, body in pushes:
            if player != 0:
                self._deliver(player, body)
        await self._pay_owed()
        for effect in effects:
            if isinstance(effect, fx.PlaceAwarded):
                await self._record_result(effect)
        for player, body in pushes:  # last: "finished" comes after every payment
            if player == 0:
                self._push_state(cast(str, body))
        if self.deps.on_effects is not None:
            self.deps.on_effects(tid, core, effects)
        if live.state == "running":
            for number in sorted(to_deal):
                await self._deal(number)
            await self._persist([])
        self._schedule()
        self._announce()

    async def _record_result(self, placed: fx.PlaceAwarded) -> None:
        """The player's finished entry for her statistics (players/stats.py: counted once
        per tournament and player; a re-entry's later finish is not counted again)."""
        core = self._core()
        entry = core.entry(placed.entry)
        paid_in = core.config.buy_in + core.config.bounty + core.config.fee
        rebuy, addon = core.structure.rebuy, core.structure.addon
        if rebuy is not None:
            paid_in += entry.rebuys * (rebuy.price + rebuy.fee)
        if entry.addon and addon is not None:
            paid_in += addon.price + addon.fee
        result = TournamentResult(
            tournament_id=str(self.tournament_id), player_id=_player(entry.player_id),
            asset=self.spec.asset, entrants=core.state.entry_count, place=placed.place,
            buy_in_paid=paid_in, prize=entry.prize + entry.bounties,
            finished_at_ms=self.deps.clock_ms(),
        )  # fmt: skip
        await record_tournament_result(self.deps.store, result)

    async def _persist(self, events: list[NewEvent], *, core_bytes: bytes | None = None) -> None:
        """Store a step: the live state, and the core (``core_bytes``, else the core as it
        is now) unless the stored one is the same (then only the live state is written:
        a registration's intent, stored before its transfer with the core as it was, does
        not write the whole core again)."""
        live, core = self._live(), self._core()
        self._freeze_clock()
        live.steps += 1
        if core_bytes is None:
            core_bytes = core.snapshot()
        new_core = None if core_bytes == self.stored_core else core_bytes
        live_bytes = _LIVE_ENCODER.encode(live)
        now_ms = self.deps.clock_ms()
        tid, state, version = self.tournament_id, live.state, live.steps
        work: WorkFactory[bool] = partial(
            stored.save_step, tid, state, new_core, live_bytes, version, events, now_ms
        )
        if self.epoch is not None:  # several nodes: only while this node's epoch is current
            work = partial(fenced_unit, self.address.actor_name, self.epoch, work)
        written = await self.deps.store.run(work)
        if not written:
            raise RuntimeError(f"tournament {tid}: a newer step is stored (another owner?)")
        self.stored_core = core_bytes

    async def _pay_owed(self) -> None:
        live, money = self._live(), self.money
        assert money is not None
        while live.owed:
            owed = live.owed[0]
            if owed.kind == "overlay":
                await money.overlay(owed.op, owed.amount)
            elif owed.kind == "refund":
                await money.refund(owed.op, owed.player_id, owed.amount, owed.fee)
            else:
                await money.pay_out(owed.op, owed.player_id, owed.amount)
            live.owed.pop(0)
            if owed.kind != "overlay" and (owed.amount or owed.fee):
                self._deliver(
                    owed.player_id,
                    wire.TournamentPaid(
                        tournament_id=self.tournament_id, entry=max(1, owed.entry),
                        kind=cast(Any, owed.kind), amount=owed.amount + owed.fee,
                        asset=cast(Any, self.spec.asset),
                        knocked_out=owed.knocked_out or None,
                    ),
                )  # fmt: skip

    # --- tables -----------------------------------------------------------------------------

    # --- players ----------------------------------------------------------------------------

    # --- views ------------------------------------------------------------------------------

    def _announce(self) -> None:
        summary = self.summary()
        tournament_metrics.observe(summary, len(self._core().floor.tables))
        directory = self.context.registry.lookup(self.deps.directory_name)
        if directory is not None:
            directory.tell(SummaryChanged(summary=summary))


# The actor's module is where the rest of the server finds it and what it is made from.
__all__ = [
    "LiveState",
    "Owed",
    "PayIn",
    "PendingDeal",
    "TournamentActor",
    "TournamentDeps",
    "check_spec",
    "core_config",
    "decode_spec",
    "encode_spec",
]
