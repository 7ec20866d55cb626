"""What the tournament actor shows (actors/tournament.py): its state accessors, the views
asked of it (summary, details, standings, results) and the state pushes to its players.
Read-only: nothing here changes the tournament."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, cast

import msgspec
import trio

from actors import tournament_metrics
from actors.table.messages import (
    SeatProfile,
)
from actors.table.requests import seat_profile
from actors.tournament_messages import (
    STANDINGS_MAX,
    LevelInfo,
    ResultLine,
    Results,
    StandingLine,
    Standings,
    TableInfo,
    TournamentAddress,
    TournamentDetails,
    TournamentSpec,
    TournamentSummary,
)
from actors.tournament_state import LiveState, TournamentDeps, _player
from poker.tournament import (
    EntryStatus,
    LevelUnit,
    Phase,
    Tournament,
)
from protocol import tournaments as wire
from services import profiles


class TournamentViews:
    """Mixed into TournamentActor: the views, over the attributes it sets.

    Reads are cheap at any size (a 1,000-entry event's players poll them): what they show is
    built once per change and kept (``view_version``, bumped by every message that is not a
    read), the standings order once per change in O(entries log entries), each page then in
    O(page), a player's own lines in O(her entries); the clock's fields are read fresh.
    ``tournament_metrics.VIEW_ROWS`` counts the rows these builds visit."""

    tournament_id: int
    address: TournamentAddress
    deps: TournamentDeps
    live: LiveState | None
    core: Tournament | None
    clock_since: float
    profiles: dict[int, SeatProfile]
    view_version: int = 0  # bumped by every message that is not a read (actors/tournament.py)
    _order_cache: tuple[int, list[int]] | None = None  # version, entries in standings order
    _details_cache: tuple[int, TournamentDetails] | None = None
    _results_cache: tuple[int, Results] | None = None
    # Its node drains (HoldForDrain): no table is released for another hand here, and once
    # the step is stored for the move the clock stands (the next node goes on from it).
    held_for_drain: bool = False
    stored_for_drain: bool = False
    # player -> (trio time read, display name): the standings' names, bounded by the field
    names: dict[int, tuple[float, str]]

    @property
    def spec(self) -> TournamentSpec:
        assert self.live is not None
        return self.live.spec

    def _core(self) -> Tournament:
        assert self.core is not None
        return self.core

    def _live(self) -> LiveState:
        assert self.live is not None
        return self.live

    def play_ms(self) -> int:
        """Play time: rounded, not truncated. Every step stores it (``_freeze_clock``), and
        the clock's timer fires when the level has ``remaining_ms`` left: truncating lost up
        to 1 ms a step, so a level could keep 1 ms left and a timer of 1 ms (0.999... ms in
        floating point) add nothing: ticks without end at one instant (the autojump clock
        stands still while each tick's step is stored; the MTT over the wire never ended)."""
        live = self._live()
        if live.paused or live.state != "running" or self.stored_for_drain:
            return live.elapsed_ms
        return live.elapsed_ms + round((trio.current_time() - self.clock_since) * 1000)

    async def _profile(self, player_id: int, *, fresh: bool = False) -> SeatProfile:
        """Her display name and auto-muck, read from her profile when she registers or
        sits down (``fresh``) and kept for the standings (bounded: one per entrant)."""
        known = self.profiles.get(player_id)
        if known is None or fresh:
            known = await seat_profile(self.deps.store, player_id)
            self.profiles[player_id] = known
        return known

    async def _names(self, player_ids: list[int]) -> dict[int, str]:
        """Display names for a page of standings: each as read at most NAME_FRESH_S ago, so
        a player who renames herself shows the new name within that time, with one store
        read for the page's stale names (at most STANDINGS_MAX ids)."""
        now = trio.current_time()
        stale = [
            p for p in player_ids if now - self.names.get(p, (-NAME_FRESH_S, ""))[0] >= NAME_FRESH_S
        ]
        if stale:
            found = await profiles.display_names(self.deps.store, stale)
            for player in stale:
                self.names[player] = (now, found.get(player, ""))
        return {p: self.names[p][1] for p in player_ids}

    def _deliver(self, player_id: int, body: Any) -> None:
        self.deps.channel.deliver(player_id, body)

    def _audience(self) -> Iterable[int]:
        seen: set[str] = set()
        for entry in self._core().state.entries:
            if entry.status in (EntryStatus.UNREGISTERED,) or entry.player_id in seen:
                continue
            over = self.live is not None and self.live.state in ("finished", "cancelled")
            if entry.status is EntryStatus.OUT and entry.place and not over:
                continue
            seen.add(entry.player_id)
            yield _player(entry.player_id)

    def _push_state(self, event: str) -> None:
        live, core = self._live(), self._core()
        reading_ms = -1
        if live.state == "running" and core.structure.unit is LevelUnit.MINUTES:
            reading_ms = core.reading(self.play_ms()).remaining_ms
        body = wire.TournamentStateChanged(
            tournament_id=self.tournament_id, event=cast(Any, event), state=live.state,
            level=self._level_line(), on_break=core.state.on_break,
            level_remaining_ms=reading_ms, players_left=core.remaining,
            prize_pool=self._prize_pool(),
        )  # fmt: skip
        for player in self._audience():
            self._deliver(player, body)

    def _level_line(self) -> wire.LevelLine | None:
        info = self._level_info()
        if info is None:
            return None
        return wire.LevelLine(
            level=info.level, small_blind=info.small_blind, big_blind=info.big_blind,
            ante=info.ante, ante_mode=cast(Any, info.ante_mode), duration=info.duration,
        )  # fmt: skip

    def _level_info(self) -> LevelInfo | None:
        core = self._core()
        if core.phase is Phase.REGISTERING:
            return None
        index = min(core.state.level, len(core.structure.levels) - 1)
        return _level(index, core.structure.levels[index])

    def _prize_pool(self) -> int:
        core = self._core()
        if core.state.money_final:
            return sum(core.state.prizes)
        return max(core.state.collected, core.config.guarantee)

    def summary(self) -> TournamentSummary:
        live, core, spec = self._live(), self._core(), self.spec
        return TournamentSummary(
            tournament_id=self.tournament_id, name=spec.name, kind=spec.kind, state=live.state,
            asset=spec.asset, buy_in=spec.buy_in, fee=spec.fee, bounty=spec.bounty,
            bounty_kind=str(spec.bounty_kind), guarantee=spec.guarantee,
            entries=core.state.entry_count, players_left=core.remaining,
            entries_max=spec.entries_max, starts_at_ms=spec.starts_at_ms,
            prize_pool=self._prize_pool(),
            level=0 if core.phase is Phase.REGISTERING else core.state.level + 1,
            club_id=spec.club_id,
        )  # fmt: skip

    def details(self) -> TournamentDetails:
        """What changes with the tournament is kept per change; the clock is read now."""
        live, core = self._live(), self._core()
        cached = self._details_cache
        if cached is None or cached[0] != self.view_version:
            cached = (self.view_version, self._build_details())
            self._details_cache = cached
        details = cached[1]
        if live.state == "running" and core.structure.unit is LevelUnit.MINUTES:
            details = msgspec.structs.replace(
                details, level_remaining_ms=core.reading(self.play_ms()).remaining_ms,
                next_break_in_ms=_next_break_ms(core, self.play_ms()),
            )  # fmt: skip
        return details

    def _build_details(self) -> TournamentDetails:
        live, core = self._live(), self._core()
        structure = core.structure
        remaining = next_break = -1
        alive = [e for e in core.state.entries if e.status in _ALIVE]
        tournament_metrics.VIEW_ROWS.inc(len(core.state.entries) + len(core.floor.tables))
        from poker.tournament import payouts as make_payouts
        from poker.tournament import prize_pool

        if core.state.money_final:
            prizes = tuple(core.state.prizes)
        elif core.state.entry_count >= 2:
            pool = prize_pool(core.state.collected, core.config.guarantee)
            prizes = tuple(make_payouts(pool.pool, core.state.entry_count, core.config.payout))
        else:
            prizes = ()
        overlay = max(0, sum(prizes) - core.state.collected) if prizes else 0
        return TournamentDetails(
            summary=self.summary(),
            structure_name=structure.name,
            unit=str(structure.unit),
            starting_stack=structure.starting_stack,
            levels=tuple(_level(i, lv) for i, lv in enumerate(structure.levels)),
            breaks=tuple((b.after_level, b.minutes) for b in structure.breaks),
            late_registration_levels=structure.late_registration_levels,
            entries_per_player_max=structure.entries_per_player_max,
            payouts=prizes,
            prizes_final=core.state.money_final,
            collected=core.state.collected,
            overlay=overlay,
            level=self._level_info(),
            on_break=core.state.on_break,
            clock_paused=live.paused,
            level_remaining_ms=remaining,
            next_break_in_ms=next_break,
            average_stack=sum(e.stack for e in alive) // len(alive) if alive else 0,
            players_left=core.remaining,
            hand_for_hand=core.state.h4h,
            final_table=core.state.final_table,
            tables=tuple(
                TableInfo(
                    table=t.table_id,
                    table_id=self.address.table_id(t.table_id),
                    players=t.count,
                    in_hand=t.in_hand,
                    hands_dealt=t.hands_dealt,
                )
                for t in sorted(core.floor.tables.values(), key=lambda t: t.table_id)
            ),
        )

    def standing_order(self) -> list[int]:
        """The entries in standings order (in by stack, largest first; out and not yet placed
        and registered; placed by place), built once per change."""
        cached = self._order_cache
        if cached is not None and cached[0] == self.view_version:
            return cached[1]
        entries = self._core().state.entries
        tournament_metrics.VIEW_ROWS.inc(len(entries))
        alive = [e for e in entries if e.status in _ALIVE]
        alive.sort(key=lambda e: (-e.stack, e.entry))
        placed = [e for e in entries if e.place]
        placed.sort(key=lambda e: (e.place, e.entry))
        waiting = [
            e
            for e in entries
            if (e.status is EntryStatus.OUT and not e.place) or e.status is EntryStatus.REGISTERED
        ]
        order = [e.entry for e in (*alive, *waiting, *placed)]
        self._order_cache = (self.view_version, order)
        return order

    def _standing_line(self, number: int) -> StandingLine:
        e = self._core().entry(number)
        return StandingLine(
            entry=e.entry, player_id=_player(e.player_id), status=str(e.status), stack=e.stack,
            table_id=self.address.table_id(e.table) if e.table else None, place=e.place,
            tied=e.tied, prize=e.prize, bounties=e.bounties, head=e.head,
        )  # fmt: skip

    def standing_lines(self) -> list[StandingLine]:
        return [self._standing_line(n) for n in self.standing_order()]

    async def standings(self, offset: int, limit: int, player_id: int | None = None) -> Standings:
        """A page of the standings, or (``player_id``) that player's own lines."""
        if player_id is not None:
            mine = self._core().entries_of(str(player_id))
            entries = [e.entry for e in mine if e.status is not EntryStatus.UNREGISTERED]
            total = len(entries)
            page = [self._standing_line(n) for n in entries]
        else:
            order = self.standing_order()
            limit = max(1, min(limit, STANDINGS_MAX))
            total = len(order)
            page = [self._standing_line(n) for n in order[offset : offset + limit]]
        tournament_metrics.VIEW_ROWS.inc(len(page))
        names = await self._names([line.player_id for line in page])
        named = [
            msgspec.structs.replace(line, display_name=names.get(line.player_id, ""))
            for line in page
        ]
        return Standings(tournament_id=self.tournament_id, total=total, lines=tuple(named))

    def results(self) -> Results:
        cached = self._results_cache
        if cached is None or cached[0] != self.view_version:
            cached = (self.view_version, self._build_results())
            self._results_cache = cached
        return cached[1]

    def _build_results(self) -> Results:
        core, live = self._core(), self._live()
        tournament_metrics.VIEW_ROWS.inc(len(core.state.entries))
        entries = [e for e in core.state.entries if e.status is not EntryStatus.UNREGISTERED]
        lines = tuple(
            ResultLine(
                entry=e.entry,
                player_id=_player(e.player_id),
                place=e.place,
                tied=e.tied,
                prize=e.prize,
                bounties=e.bounties,
                rebuys=e.rebuys,
                addon=e.addon,
            )
            for e in sorted(entries, key=lambda e: (e.place or 10**9, e.entry))
        )
        fees = sum(core.config.fee for _ in entries)
        return Results(
            tournament_id=self.tournament_id, state=live.state, entries=len(entries),
            prize_pool=self._prize_pool(),
            paid=sum(e.prize + e.bounties for e in entries), fees=fees, lines=lines,
        )  # fmt: skip


_ALIVE: Final = (EntryStatus.PLAYING, EntryStatus.AWAITING_REBUY)
NAME_FRESH_S: Final = 10.0  # a renamed player's standings show the new name within this


def _level(index: int, level: Any) -> LevelInfo:
    return LevelInfo(
        level=index + 1, small_blind=level.small_blind, big_blind=level.big_blind,
        ante=level.ante, ante_mode=str(level.ante_mode), duration=level.duration,
    )  # fmt: skip


def _next_break_ms(core: Tournament, play_ms: int) -> int:
    """Play time until the next break begins (-1: none ahead), by stepping the clock."""
    reading = core.reading(play_ms)
    if reading.on_break:
        return 0
    at = play_ms
    for _ in range(len(core.structure.levels) + 2):
        if reading.remaining_ms < 0:
            return -1
        at += reading.remaining_ms
        reading = core.reading(at)
        if reading.on_break:
            return at - play_ms
    return -1
