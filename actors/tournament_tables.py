"""The tournament actor's tables (actors/tournament.py): opening and closing them, seating
and moving players as the core's effects say, releasing a table for each hand the core
allows, turning a table's hand report into the core's view of the hand, and, after a
restart, making every table hold what the core holds."""

from __future__ import annotations

import contextlib
from functools import partial
from typing import Any, Final, cast

import structlog
import trio

from actors.addresses import TableAddress
from actors.runtime import ActorContext
from actors.table.actor import table_spec
from actors.table.config import TableConfig
from actors.table.messages import (
    GameRefused,
    GetSeats,
    OwnerDeal,
    Release,
    RemovePlayer,
    SeatGranted,
    SeatPlayer,
    SetStakes,
    SitIn,
    TableHandEnded,
    TableSeats,
)
from actors.tournament_messages import (
    TournamentRefusal,
    VoidUnreported,
)
from actors.tournament_state import (
    _player,
)
from actors.tournament_views import TournamentViews
from persistence.leases import take_fence
from poker import HandResult, Variant
from poker.events import PotShare
from poker.showdown import Award, PotResult
from poker.tournament import (
    EntryStatus,
)
from poker.tournament import effects as fx
from poker.tournament.structure import CHIPS_MAX
from protocol import tournaments as wire

log = structlog.get_logger("tablium.tournament")

TABLE_ASK_TIMEOUT_S: Final = 10.0


class TournamentTables(TournamentViews):
    """Mixed into TournamentActor: its tables, over the attributes it sets."""

    context: ActorContext[Any]
    # Players whose rebuy, add-on or elimination came while their table dealt them in a
    # hand (table -> players): the table catches up before its next hand. A player not in
    # the running hand is taken off or reseated at once (RemovePlayer allows it).
    restack: dict[int, set[int]]

    async def _step(
        self,
        effects: list[fx.AnyEffect],
        *,
        paid: bool = False,
        ended: int | None = None,
        events: list[Any] | None = None,
    ) -> None:
        raise NotImplementedError  # the actor's own (actors/tournament.py)

    def _table_number(self, table_id: str) -> int:
        prefix = f"t{self.tournament_id}-"
        if not table_id.startswith(prefix):
            raise TournamentRefusal("table_refused", f"{table_id} is not this tournament's")
        return int(table_id[len(prefix) :])

    async def _hand_ended(self, message: TableHandEnded) -> None:
        core = self._core()
        number = self._table_number(message.table_id)
        if number not in core.floor.tables or not core.table(number).in_hand:
            log.info("stale hand report", table=message.table_id, hand=message.hand_number)
            if number in core.floor.tables:
                await self._void_stale(number)
            return
        result = self._result_for(number, dict(message.stacks), message.result)
        await self._step(core.hand_ended(number, result, self.deps.rng), ended=number)

    async def _void_stale(self, number: int) -> None:
        """A hand the core did not release (released by an incarnation whose step was never
        stored, then reported to this one): void, as at cash tables; the table, held again
        after it, takes the core's seats and stacks, or it would deal the next hand with
        chips the core does not count."""
        seats = await self._ask_table(number, GetSeats())
        assert isinstance(seats, TableSeats)
        if seats.hand_number == 0:  # held (a hand running here is not the core's either)
            await self._align(number, seats)

    def _result_for(
        self, number: int, reported: dict[int, int], real: HandResult | None
    ) -> HandResult:
        """The core's view of the hand: every player it has at the table that the table
        reports, with the stacks reported (players the table left out: unchanged)."""
        core = self._core()
        table = core.table(number)
        seats = sorted(
            (seat, entry)
            for seat, entry in table.seats.items()
            if _player(core.entry(entry).player_id) in reported
        )
        table.dealt = [entry for _, entry in seats]
        starting = tuple(core.entry(entry).stack for _, entry in seats)
        stacks = tuple(reported[_player(core.entry(entry).player_id)] for _, entry in seats)
        seat_numbers = tuple(seat for seat, _ in seats)
        if real is not None:  # players the table left out of its hand: the core's stack stands
            stacks = tuple(
                after if seat in real.seats else before
                for seat, before, after in zip(seat_numbers, starting, stacks, strict=True)
            )
        if real is not None and set(real.seats) <= set(seat_numbers):
            pots = real.pots
        else:  # a voided or unreported hand: whoever gained took the chips
            gains = [
                Award(run=0, share=PotShare.WHOLE, seat=seat, amount=after - before)
                for seat, before, after in zip(seat_numbers, starting, stacks, strict=True)
                if after > before
            ]
            pot = PotResult(
                amount=sum(a.amount for a in gains), rake=0, eligible=seat_numbers,
                awards=tuple(gains),
            )  # fmt: skip
            pots = (pot,) if gains else ()
        return HandResult(
            seats=seat_numbers, starting_stacks=starting, stacks=stacks, pots=pots, rake=0,
            board=(), second_board=(),
        )  # fmt: skip

    async def _deal(self, number: int) -> None:
        """Between hands: ask the core, and release the table for one hand if it may."""
        core, live = self._core(), self._live()
        if live.state != "running" or live.paused or number not in core.floor.tables:
            return
        if self.held_for_drain:  # its node drains: the next hand is dealt on the next node
            return
        table = core.table(number)
        if table.in_hand:
            return
        ref = self._table_ref(number)
        if ref is None:
            raise RuntimeError(f"table {number} of tournament {self.tournament_id} is gone")
        # Players whose seat changed while the table played a hand they were in (a rebuy or
        # add-on bought, an elimination): the table, held between hands, takes the core's
        # view now, before the core plans a hand with them.
        try:
            await self._restack(number, ref)
        except GameRefused as exc:
            # Its seats are not the core's (a bug, but one the live system survives): the
            # core is the truth, the table is made to hold exactly what it holds, and this
            # step's other tables are still released. A refusal while aligning crashes the
            # actor (the restart aligns every table to the stored core).
            log.warning("table operation refused", tournament=self.tournament_id,
                        effect="SeatPlayer", table=number, code=exc.code)  # fmt: skip
            seats = await ref.ask(GetSeats(), timeout_s=TABLE_ASK_TIMEOUT_S)
            assert isinstance(seats, TableSeats)
            await self._align(number, seats)
        answer = core.next_hand(number)
        if isinstance(answer, fx.Wait):
            return
        if live.stakes.get(number) != answer.level:
            level = answer.config
            ref.tell(
                SetStakes(small_blind=level.small_blind, big_blind=level.big_blind,
                          ante=level.ante)
            )  # fmt: skip
            live.stakes[number] = answer.level
        # Players the table sat out (timed out: the table's rule for cash games) are dealt
        # in again: in a tournament everyone with chips plays (blinded off when away).
        seats = await ref.ask(GetSeats(), timeout_s=TABLE_ASK_TIMEOUT_S)
        assert isinstance(seats, TableSeats)
        for info in seats.seats:
            if info.sitting_out and info.stack > 0:
                ref.tell(SitIn(player_id=info.player_id, post_now=True))
        # The table deals the core's plan: its own would keep a newcomer waiting for the
        # big blind (the cash rule) or deal in one the core left out (TDA 10A), and the
        # core's chip count of the hand would then be of other players.
        assert table.positions is not None  # next_hand set them
        button, small, big = table.positions
        deal = OwnerDeal(
            button=button,
            small_blind=small,
            big_blind=big,
            small_blind_poster=answer.blinds.small,
            big_blind_poster=answer.blinds.big,
            dealt=tuple((s.seat, _player(s.player_id)) for s in answer.seats),
        )
        ref.tell(Release(deal=deal))

    async def _restack(self, number: int, ref: Any) -> None:
        """The players of ``restack`` at this held table: off it, and on again with the
        core's stack in the core's seat when the core still seats them. Raises the table's
        GameRefused when it will not seat one (its seats are not the core's)."""
        core = self._core()
        table = core.table(number)
        for player in sorted(self.restack.pop(number, set())):
            with contextlib.suppress(GameRefused):  # not seated (any more)
                await ref.ask(RemovePlayer(player_id=player), timeout_s=TABLE_ASK_TIMEOUT_S)
            for seat, entry in table.seats.items():
                record = core.entry(entry)
                if _player(record.player_id) == player and record.stack > 0:
                    await ref.ask(
                        await self._seat_message(player, record.stack, seat),
                        timeout_s=TABLE_ASK_TIMEOUT_S,
                    )

    async def _seat_message(
        self, player_id: int, stack: int, seat: int | None, *, fresh: bool = True
    ) -> SeatPlayer:
        """``fresh``: her profile read again (a reseat shows a name changed meanwhile); a
        first seat takes the one read when she registered."""
        profile = await self._profile(player_id, fresh=fresh)
        return SeatPlayer(player_id=player_id, stack=stack, seat=seat, profile=profile)

    def _table_ref(self, number: int) -> Any:
        return self.context.registry.resolve(TableAddress(self.address.table_id(number)))

    def _table_config(self, number: int) -> TableConfig:
        core, spec = self._core(), self.spec
        level = core.structure.level(0)
        between = spec.between_hands_ms
        if between is None:
            between = core.structure.hand_pause_ms
        return TableConfig(
            table_id=self.address.table_id(number),
            name=f"{spec.name[:40]} #{number}",
            variant=Variant.NO_LIMIT_HOLDEM,
            small_blind=level.small_blind,
            big_blind=level.big_blind,
            seats=core.config.seats_per_table,
            rake_bp=0,
            ante=0,
            buy_in_min=1,
            buy_in_max=CHIPS_MAX,
            action_timeout_ms=spec.action_timeout_ms,
            time_bank_ms=0,
            time_bank_max_ms=0,
            time_bank_refill_ms=0,
            between_hands_ms=between,
            allow_run_it_twice=False,
            asset=spec.asset,
            owner=self.address.actor_name,
            bankroll="tournament",
        )

    async def _open_table(self, number: int, recovered: bytes | None = None) -> None:
        if self._table_ref(number) is not None:
            return
        tables = self.context.registry.supervisor(self.deps.tables_supervisor)
        lease = self.deps.lease
        if lease is not None:
            # Several nodes: the table opens here, on the tournament's node, under a fence
            # of its own taken now (the tournament's lease held): its snapshots and hands
            # written by a node that ran it before are refused from now on.
            table_id = self.address.table_id(number)
            epoch = await self.deps.store.run(
                partial(take_fence, table_id, lease.node, self.deps.clock_ms())
            )
            lease.fences.hold(table_id, epoch)
        spec = table_spec(self._table_config(number), self.deps.table_deps, recovered)
        await tables.start_actor(spec)
        self._live().stakes.pop(number, None)

    async def _close_table(self, number: int) -> None:
        from actors.table.admin import CloseTable

        ref = self._table_ref(number)
        if ref is not None:
            await ref.ask(CloseTable(), timeout_s=TABLE_ASK_TIMEOUT_S)
        self._live().stakes.pop(number, None)

    async def _ask_table(self, number: int, message: Any) -> Any:
        ref = self._table_ref(number)
        if ref is None:
            await self._open_table(number)
            ref = self._table_ref(number)
        return await ref.ask(message, timeout_s=TABLE_ASK_TIMEOUT_S)

    async def _table_ops(self, effects: list[fx.AnyEffect]) -> set[int]:
        """The step's table operations in order; a run of players seated (the start seats
        the whole field) goes to its tables side by side, in order at each table: a
        1,000-entry start is 112 tables' worth of asks at once, not 1,000 one after another.
        Returns the tables a refused move's correction told to deal (the step deals them)."""
        deal: set[int] = set()
        run: list[fx.Seated] = []
        for effect in [*effects, None]:
            if isinstance(effect, fx.Seated):
                run.append(effect)
                continue
            if len(run) > 1:
                by_table: dict[int, list[fx.Seated]] = {}
                for seated in run:
                    by_table.setdefault(seated.table, []).append(seated)
                async with trio.open_nursery() as nursery:
                    for table_effects in by_table.values():
                        nursery.start_soon(self._seat_in_order, table_effects)
            elif run:
                await self._guarded_op(run[0])
            run = []
            if isinstance(effect, fx.PlayerMoved):
                deal |= await self._move(effect)
            elif effect is not None:
                await self._guarded_op(effect)
        return deal

    async def _seat_in_order(self, effects: list[fx.Seated]) -> None:
        for effect in effects:
            await self._guarded_op(effect)

    async def _guarded_op(self, effect: fx.AnyEffect) -> None:
        """One table operation; a table's refusal is logged and the step goes on (its other
        tables, money, pushes and deals): a refusal here stopped the whole step once it was
        stored, and every table then waited for a release that never came."""
        try:
            await self._table_op(effect)
        except GameRefused as exc:
            log.warning("table operation refused", tournament=self.tournament_id,
                        effect=type(effect).__name__, code=exc.code)  # fmt: skip

    async def _move(self, effect: fx.PlayerMoved) -> set[int]:
        """A move, her stack exactly: off her table (held between hands: only a released
        table deals, and the core moves players of tables it has not released), then onto
        the new one. A table that refuses leaves her where she was, or puts her back there,
        and the core is told (``move_refused``), so it stays the truth: a refusal left her
        counted at the destination by the core while still dealt in at her old table, or
        at no table, and the next hand broke the chip count (issue 15). Returns the tables
        the core then lets deal."""
        player = _player(effect.player_id)
        try:
            stack = await self._ask_table(effect.from_table, RemovePlayer(player_id=player))
        except GameRefused as exc:
            if exc.code != "not_seated":  # still seated there (in its hand): she stays
                return await self._move_refused(effect, exc.code, at_source=True)
            # The table let her seat go (a restart left her out): the core's stack is the
            # truth; she is seated where it says.
            log.warning("moved player was not seated", table=effect.from_table,
                        player=player)  # fmt: skip
            stack = effect.stack
        if stack != effect.stack:
            raise RuntimeError(f"moved with {stack}, the core says {effect.stack}")
        try:
            granted = await self._ask_table(
                effect.to_table, await self._seat_message(player, effect.stack, effect.to_seat)
            )
        except GameRefused as exc:
            return await self._move_refused(effect, exc.code, at_source=False)
        self._deliver(
            player,
            wire.TournamentMoved(
                tournament_id=self.tournament_id, entry=effect.entry,
                from_table_id=self.address.table_id(effect.from_table),
                table_id=granted.table_id, seat=granted.seat, stack=effect.stack,
                reason=cast(Any, str(effect.reason)),
            ),
        )  # fmt: skip
        return set()

    async def _move_refused(
        self, effect: fx.PlayerMoved, code: str, *, at_source: bool
    ) -> set[int]:
        """``at_source``: her table kept her (she is still in her seat there); else the
        destination refused her after her table let her go (she is at no table now)."""
        follows = self._core().move_refused(effect, self.deps.rng, kept=at_source)
        back = [f for f in follows if isinstance(f, fx.MoveUndone)]
        log.warning("move refused", tournament=self.tournament_id, entry=effect.entry,
                    from_table=effect.from_table, to_table=effect.to_table, code=code,
                    back_to=[(f.table, f.seat) for f in back])  # fmt: skip
        deal = {t for f in follows if isinstance(f, fx.TablesMayDeal) for t in f.tables}
        if at_source:
            if [(f.table, f.seat) for f in back] != [(effect.from_table, effect.from_seat)]:
                raise RuntimeError(
                    f"entry {effect.entry} kept in her seat at table {effect.from_table}, "
                    "the core seats her elsewhere"
                )
            return deal  # she never left: nothing to tell her
        player = _player(effect.player_id)
        for undone in back:  # none when this step moves her on from the destination
            try:
                granted = await self._ask_table(
                    undone.table, await self._seat_message(player, undone.stack, undone.seat)
                )
            except GameRefused as exc:
                raise RuntimeError(
                    f"entry {effect.entry} refused again at table {undone.table}: {exc.code}"
                ) from exc
            assert isinstance(granted, SeatGranted)
            self._deliver(
                player,
                wire.TournamentSeated(
                    tournament_id=self.tournament_id, entry=undone.entry,
                    table_id=granted.table_id, seat=granted.seat, stack=undone.stack,
                ),
            )  # fmt: skip
        return deal

    async def _table_op(self, effect: fx.AnyEffect) -> None:
        core, tid = self._core(), self.tournament_id
        match effect:
            case fx.TableOpened(table=number):
                await self._open_table(number)
            case fx.TableClosed(table=number):
                await self._close_table(number)
            case fx.Seated(player_id=who, table=number, seat=seat, stack=stack, entry=entry):
                granted = await self._ask_table(
                    number, await self._seat_message(_player(who), stack, seat, fresh=False)
                )
                assert isinstance(granted, SeatGranted)
                self._deliver(
                    _player(who),
                    wire.TournamentSeated(
                        tournament_id=tid, entry=entry, table_id=granted.table_id,
                        seat=granted.seat, stack=stack,
                    ),
                )  # fmt: skip
            case fx.PlayerMoved():
                raise TypeError("a move is _move's: its refusal is the core's to know")
            case (
                fx.Eliminated(player_id=who, table=number)
                | fx.EntryRemoved(player_id=who, table=number)
            ):
                if self._table_ref(number) is not None:
                    try:
                        await self._ask_table(number, RemovePlayer(player_id=_player(who)))
                    except GameRefused as exc:
                        if exc.code == "hand_running":  # dealt in the running hand: after it
                            self.restack.setdefault(number, set()).add(_player(who))
                        elif exc.code != "not_seated":
                            raise
            case fx.RebuyBought(entry=entry) | fx.AddOnBought(entry=entry):
                # New chips: the table gets the new stack (out and in again, same seat).
                record = core.entry(entry)
                if record.status not in (EntryStatus.PLAYING, EntryStatus.AWAITING_REBUY):
                    return
                number = record.table
                seat = next(s for s, e in core.table(number).seats.items() if e == entry)
                player = _player(record.player_id)
                try:
                    await self._ask_table(number, RemovePlayer(player_id=player))
                except GameRefused as exc:
                    if exc.code == "hand_running":  # dealt in the running hand: after it (_deal)
                        self.restack.setdefault(number, set()).add(player)
                        return
                    if exc.code != "not_seated":  # not seated: a restart left her out
                        raise
                await self._ask_table(number, await self._seat_message(player, record.stack, seat))
            case _:
                pass

    async def _resume_tables(self) -> None:
        """After a restart: every table open (from its stored snapshot when it has one) and
        made to hold what the core holds (the core is the truth between hands: a table
        snapshot may be older or newer than the last stored step); a hand the core thought
        running is void (its stacks stand, as at cash tables), then the tables deal."""
        core = self._core()
        for number in self._live_tables() - set(core.floor.tables):
            # Closed in the core by a step whose table operations a crash cut short (a
            # broken table): its actor would stay open, players seated, for good.
            log.warning("table the core closed still open", tournament=self.tournament_id,
                        table=number)  # fmt: skip
            await self._close_table(number)
        for number in sorted(core.floor.tables):
            if self._table_ref(number) is None:
                snapshot = await self.deps.store.load_snapshot(self.address.table_id(number))
                await self._open_table(number, None if snapshot is None else snapshot.data)
        for number in sorted(core.floor.tables):
            seats = await self._ask_table(number, GetSeats())
            assert isinstance(seats, TableSeats)
            if seats.hand_number != 0:
                continue  # still running here (this actor alone restarted): it will report
            if core.table(number).in_hand:
                # Over at the table: its report may wait in the mailbox (told while this
                # actor restarted alone; the mailbox outlives a restart). It is read first;
                # a hand still unreported after it is void (_void_unreported).
                self.context.ref.tell(VoidUnreported(number))
                continue
            await self._align(number, seats)
        for number in sorted(core.floor.tables):  # players' clients follow again
            for seat, entry in sorted(core.table(number).seats.items()):
                record = core.entry(entry)
                self._deliver(
                    _player(record.player_id),
                    wire.TournamentSeated(
                        tournament_id=self.tournament_id, entry=entry,
                        table_id=self.address.table_id(number), seat=seat, stack=record.stack,
                    ),
                )  # fmt: skip
        for number in sorted(core.floor.tables):
            await self._deal(number)

    def _live_tables(self) -> set[int]:
        """The numbers of this tournament's table actors open here (registry names
        ``table:t<id>-<n>``), whether or not the core still has them."""
        prefix = TableAddress(self.address.table_id(0).removesuffix("0")).actor_name
        return {
            int(tail)
            for name in self.context.registry.names(prefix)
            if (tail := name.removeprefix(prefix)).isascii() and tail.isdigit()
        }

    async def _void_unreported(self, number: int) -> None:
        """After a restart: the table finished a hand the core thought running and no report
        came (a process restart, or the report was the message the actor crashed on): the
        hand is void, as at cash tables; the table takes the core's stacks again."""
        core = self._core()
        if number not in core.floor.tables or not core.table(number).in_hand:
            return  # its report came first
        seats = await self._ask_table(number, GetSeats())
        assert isinstance(seats, TableSeats)
        if seats.hand_number != 0:
            return  # dealing again (it was released meanwhile): it will report
        log.warning("unreported hand voided", tournament=self.tournament_id, table=number)
        await self._align(number, seats)
        table = core.table(number)
        unchanged = {
            _player(core.entry(e).player_id): core.entry(e).stack for e in table.seats.values()
        }
        result = self._result_for(number, unchanged, None)
        await self._step(core.hand_ended(number, result, self.deps.rng), ended=number)

    async def _align(self, number: int, seats: TableSeats) -> None:
        """Seat at the table exactly who the core has there, with the core's stacks."""
        core = self._core()
        want = {seat: core.entry(entry) for seat, entry in core.table(number).seats.items()}
        have = {info.seat: info for info in seats.seats}
        for seat, held in have.items():
            entry = want.get(seat)
            if (
                entry is None
                or _player(entry.player_id) != held.player_id
                or (entry.stack != held.stack)
            ):
                await self._ask_table(number, RemovePlayer(player_id=held.player_id))
        for seat, entry in want.items():
            info = have.get(seat)
            player = _player(entry.player_id)
            same = info is not None and info.player_id == player and info.stack == entry.stack
            if not same and entry.stack > 0:
                await self._ask_table(number, await self._seat_message(player, entry.stack, seat))
