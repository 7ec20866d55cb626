"""The core and the live tables agree on who sits where, with what chips (issue 15).

A 1,000-bot hyper MTT on PostgreSQL crashed its tournament: a balancing move was refused by
its source table (``hand_running``), then by destinations (``table_full``), and a hand then
ended with 20 chips more than the core had at that table. The cause: a tournament's table
opened able to deal, so a table seated early dealt its first hand on its own while the
tournament still seated the rest of the field (slow writes); when that hand's report came,
the core counted it as the hand it had released meanwhile, took the table for one between
hands while it dealt the next, and moved players off it and removed busted players from it
mid-hand. Here one table's writes are slow, so its seats take seconds while the others are
seated at once: every table must wait for its release, and the event plays to a winner with
no refused table operation and no hand the core did not deal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import structlog
import trio
import trio.testing

from actors.table.core import TableCore
from actors.table.messages import (
    GameRefused,
    GetSeats,
    RemovePlayer,
    SeatPlayer,
    TableHandEnded,
    TableSeats,
)
from actors.tournament_messages import (
    GetResults,
    GetTournament,
    MoveEntry,
    RegisterPlayer,
    RemoveEntry,
    Results,
    ResumeClock,
    StartTournament,
    TournamentAddress,
    TournamentDetails,
    TournamentSpec,
)
from actors.tournament_tables import TournamentTables
from persistence.snapshots import Snapshot
from protocol import game
from protocol import tournaments as wire
from tests.actors.test_table_fakes import sqlite_url
from tests.e2e.clock import autojump_between_threads
from tests.tournaments.harness import (
    hold_between_hands,
    standings_lines,
    tables_agree,
    tournament_room,
)

PLAYERS = range(1, 37)  # 4 tables of 9
SLOW_WRITE_S = 0.5  # each snapshot of the slow table: its 9 seats take 4.5 s


class SlowTableWrites:
    """The tables' snapshot writer, slow for one table (a full writer on a busy database):
    whatever that table persists makes it wait, so its seats come late."""

    def __init__(self) -> None:
        self.slow_table = ""

    async def submit(self, snapshot: Snapshot) -> None:
        if snapshot.actor_id == self.slow_table:
            await trio.sleep(SLOW_WRITE_S)

    async def flush(self) -> None:
        return None


def spec() -> TournamentSpec:
    """A freeroll (no wallets to fund) on the hyper structure, its 200 ms pause included."""
    return TournamentSpec(
        name="Slow seats", kind="mtt", preset="hyper", guarantee=3_600,
        entries_max=len(PLAYERS), starts_at_ms=2**62, action_timeout_ms=5_000,
    )  # fmt: skip


async def test_tables_seated_early_wait_for_their_release_and_the_event_plays_to_a_winner(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    writes = SlowTableWrites()
    async with tournament_room(sqlite_url(tmp_path), seed=15, snapshots=writes) as room:
        tid = await room.create(spec())
        writes.slow_table = f"t{tid}-4"
        actor = room.tournament(tid)
        for player in PLAYERS:
            await actor.ask(RegisterPlayer(player_id=player))
        stream = room.channel.stream()
        seated: list[float] = []  # trio time of each start seat's push
        started: dict[str, float] = {}  # table -> trio time its first hand started
        finished: list[int] = []

        def until(player: int, body: object) -> bool:
            if isinstance(body, wire.TournamentSeated):
                seated.append(trio.current_time())
            if isinstance(body, game.HandStarted) and body.hand_number == 1:
                started.setdefault(body.table_id, trio.current_time())
            if isinstance(body, wire.TournamentStateChanged) and body.event == "finished":
                finished.append(player)
                return True
            return False

        with structlog.testing.capture_logs() as logged:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(room.play, stream, until)
                await actor.ask(StartTournament(), timeout_s=60.0)
        assert finished
        # The slow table's seats took seconds; no table dealt before the whole field sat
        # (a table is released only then), the early ones included.
        field_seated = max(seated[: len(PLAYERS)])
        assert field_seated >= 8 * SLOW_WRITE_S
        assert sorted(started) == [f"t{tid}-{n}" for n in range(1, 5)]
        assert min(started.values()) >= field_seated, f"dealt before released: {started}"
        warnings = [
            (e["event"], e.get("code")) for e in logged if e["log_level"] in ("warning", "error")
        ]
        assert [w for w in warnings if "refused" in w[0] or "not seated" in w[0]] == []
        stale = [e for e in logged if e["event"] == "stale hand report"]
        assert stale == []
        assert room.checks.failures == []
        assert room.checks.moves > 0
        tournaments = room.runtime.root.child("tournaments").supervisor
        assert tournaments is not None
        assert tournaments.child(TournamentAddress(tid).actor_name).restarts == 0
        results = await actor.ask(GetResults())
        assert isinstance(results, Results) and results.state == "finished"


class RefuseOnce:
    """The next table operation of one kind refused, once armed, as a table whose seats are
    not the core's would refuse it."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.armed = False
        self.refused: list[int] = []  # the player refused

    def check(self, player_id: int) -> None:
        if self.armed:
            self.armed = False
            self.refused.append(player_id)
            raise GameRefused(self.code, "refused by the test")


async def move_refused_then_play_on(
    tmp_path: Path, refusal: RefuseOnce
) -> tuple[list[dict[str, Any]], Any, Any]:
    """Sixteen players on tables of six, 6, 5 and 5; the clock paused at once, so each
    table plays its first hand (nobody acts: the action clock folds them, nobody busts)
    and holds; a director moves an entry from the full table to another with ``refusal``
    armed. The live tables must then seat exactly what the core holds, and the event
    plays on to its winner. Returns the log and the entry's line before and after."""
    async with tournament_room(sqlite_url(tmp_path), seed=16) as room:
        room.think_s = 1.0
        spec = TournamentSpec(
            name="Refused", kind="mtt", preset="hyper", guarantee=1_600, entries_max=16,
            seats_per_table=6, starts_at_ms=2**62, action_timeout_ms=5_000, between_hands_ms=0,
        )  # fmt: skip
        tid = await room.create(spec)
        actor = room.tournament(tid)
        for player in range(1, 17):
            await actor.ask(RegisterPlayer(player_id=player))
        stream = room.channel.stream()
        await actor.ask(StartTournament())
        await hold_between_hands(room, actor, stream, bots=False)
        details = await actor.ask(GetTournament())
        assert isinstance(details, TournamentDetails)
        assert sorted(t.players for t in details.tables) == [5, 5, 6]
        (full,) = [t.table_id for t in details.tables if t.players == 6]
        to = min(t.table for t in details.tables if t.players == 5)
        lines = await standings_lines(actor)
        entry = min(e for e, line in lines.items() if line.table_id == full)
        with structlog.testing.capture_logs() as logged:
            refusal.armed = True
            await actor.ask(MoveEntry(entry=entry, table=to))
            assert refusal.refused == [lines[entry].player_id]
            after = await standings_lines(actor)
            await tables_agree(room, tid, actor)

            def until(player: int, body: object) -> bool:
                return isinstance(body, wire.TournamentStateChanged) and body.event == "finished"

            async with trio.open_nursery() as nursery:
                nursery.start_soon(room.play, stream, until)
                await actor.ask(ResumeClock())
        assert room.checks.failures == []
        tournaments = room.runtime.root.child("tournaments").supervisor
        assert tournaments is not None
        assert tournaments.child(TournamentAddress(tid).actor_name).restarts == 0
        results = await actor.ask(GetResults())
        assert isinstance(results, Results) and results.state == "finished"
        unexpected = ("table operation refused", "stale hand report", "moved player was not seated")
        assert [e for e in logged if e["event"] in unexpected] == []
        return logged, lines[entry], after[entry]


async def test_a_destination_that_refuses_a_moved_player_gets_her_seated_back_at_her_table(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    refusal = RefuseOnce("table_full")
    seat_for_owner = TableCore.seat_for_owner

    def refusing(core: TableCore, player_id: int, *args: Any, **kwargs: Any) -> Any:
        refusal.check(player_id)
        return seat_for_owner(core, player_id, *args, **kwargs)

    monkeypatch.setattr(TableCore, "seat_for_owner", refusing)
    logged, before, after = await move_refused_then_play_on(tmp_path, refusal)
    # Off her table, refused at the new one, seated at her own again (the core too).
    (refused, *_) = [e for e in logged if e["event"] == "move refused"]
    assert refused["code"] == "table_full"
    assert [t for t, _ in refused["back_to"]] == [refused["from_table"]]
    assert (after.table_id, after.stack) == (before.table_id, before.stack)


async def test_a_source_that_keeps_a_moved_player_keeps_her_in_the_core_too(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    refusal = RefuseOnce("hand_running")
    remove_for_owner = TableCore.remove_for_owner

    def refusing(core: TableCore, player_id: int, now_ms: int) -> Any:
        refusal.check(player_id)
        return remove_for_owner(core, player_id, now_ms)

    monkeypatch.setattr(TableCore, "remove_for_owner", refusing)
    logged, before, after = await move_refused_then_play_on(tmp_path, refusal)
    (refused, *_) = [e for e in logged if e["event"] == "move refused"]
    assert refused["code"] == "hand_running"
    assert [t for t, _ in refused["back_to"]] == [refused["from_table"]]
    assert (after.table_id, after.stack) == (before.table_id, before.stack)


async def test_a_hand_the_core_did_not_release_is_void_and_its_table_takes_the_cores_stacks(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table released by an incarnation whose step was never stored reports to the next
    one a hand its core never dealt: the report is stale, and the table is aligned to the
    core (it kept the hand's stacks before, and dealt its next hand with them)."""
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=18) as room:
        spec = TournamentSpec(
            name="Stale", kind="mtt", preset="hyper", guarantee=800, entries_max=8,
            seats_per_table=4, starts_at_ms=2**62, action_timeout_ms=5_000, between_hands_ms=0,
        )  # fmt: skip
        tid = await room.create(spec)
        actor = room.tournament(tid)
        for player in range(1, 9):
            await actor.ask(RegisterPlayer(player_id=player))
        stream = room.channel.stream()
        await actor.ask(StartTournament())
        await hold_between_hands(room, actor, stream, bots=False)
        lines = await standings_lines(actor)
        (a, b) = sorted(e for e, line in lines.items() if line.table_id == f"t{tid}-1")[:2]
        winner, loser = lines[a].player_id, lines[b].player_id
        table = room.runtime.registry.lookup(f"table:t{tid}-1")
        assert table is not None
        # The hand nobody stored: 100 chips from one player to the other.
        for player, change in ((winner, 100), (loser, -100)):
            seat = (await table.ask(GetSeats())).seats
            (info,) = [s for s in seat if s.player_id == player]
            await table.ask(RemovePlayer(player_id=player))
            await table.ask(SeatPlayer(player_id=player, stack=info.stack + change, seat=info.seat))
        seats = await table.ask(GetSeats())
        assert isinstance(seats, TableSeats)
        stacks = tuple((s.player_id, s.stack) for s in seats.seats)
        with structlog.testing.capture_logs() as logged:
            actor.tell(TableHandEnded(table_id=f"t{tid}-1", hand_number=99, stacks=stacks,
                                      busted=()))  # fmt: skip
            assert await standings_lines(actor) == lines  # read after the report
        assert [e["event"] for e in logged if e["event"] == "stale hand report"] == [
            "stale hand report"
        ]
        await tables_agree(room, tid, actor)
        assert room.checks.failures == []


async def test_a_reseat_a_table_refuses_before_its_hand_aligns_it_and_every_table_deals(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A player whose seat changed during a hand she was in (a rebuy, an add-on) is seated
    again before her table's next hand; that seat refused escaped the step, and the tables
    after hers were never released. Now the table is aligned to the core and every table
    deals, with no restart."""
    autojump_between_threads(autojump_clock, monkeypatch)
    refusal = RefuseOnce("seat_taken")
    seat_for_owner = TableCore.seat_for_owner

    def refusing(core: TableCore, player_id: int, *args: Any, **kwargs: Any) -> Any:
        refusal.check(player_id)
        return seat_for_owner(core, player_id, *args, **kwargs)

    monkeypatch.setattr(TableCore, "seat_for_owner", refusing)
    actors: list[TournamentTables] = []  # the tournament actor, as it deals
    deal = TournamentTables._deal

    async def capturing(self: TournamentTables, number: int) -> None:
        if not actors:
            actors.append(self)
        await deal(self, number)

    monkeypatch.setattr(TournamentTables, "_deal", capturing)
    async with tournament_room(sqlite_url(tmp_path), seed=19) as room:
        room.think_s = 1.0
        spec = TournamentSpec(
            name="Reseat", kind="mtt", preset="hyper", guarantee=800, entries_max=8,
            seats_per_table=4, starts_at_ms=2**62, action_timeout_ms=5_000, between_hands_ms=0,
        )  # fmt: skip
        tid = await room.create(spec)
        actor = room.tournament(tid)
        for player in range(1, 9):
            await actor.ask(RegisterPlayer(player_id=player))
        stream = room.channel.stream()
        await actor.ask(StartTournament())
        await hold_between_hands(room, actor, stream, bots=False)
        lines = await standings_lines(actor)
        first = min(e for e, line in lines.items() if line.table_id == f"t{tid}-1")
        player = lines[first].player_id
        (tournament,) = actors
        tournament.restack[1] = {player}  # as a rebuy bought during her hand leaves it
        with structlog.testing.capture_logs() as logged:
            refusal.armed = True
            released: list[str] = []

            def until(_: int, body: object) -> bool:
                if isinstance(body, game.HandStarted) and body.hand_number == 2:
                    released.append(body.table_id)
                done = isinstance(body, wire.TournamentStateChanged) and body.event == "finished"
                return done

            async with trio.open_nursery() as nursery:
                nursery.start_soon(room.play, stream, until)
                await actor.ask(ResumeClock())
        assert refusal.refused == [player]
        refused = [e for e in logged if e["event"] == "table operation refused"]
        assert [(e["effect"], e["code"], e["table"]) for e in refused] == [
            ("SeatPlayer", "seat_taken", 1)
        ]
        assert {f"t{tid}-1", f"t{tid}-2"} <= set(released)  # the table after hers dealt too
        assert room.checks.failures == []
        tournaments = room.runtime.root.child("tournaments").supervisor
        assert tournaments is not None
        assert tournaments.child(TournamentAddress(tid).actor_name).restarts == 0
        results = await actor.ask(GetResults())
        assert isinstance(results, Results) and results.state == "finished"


async def test_a_table_the_core_broke_before_a_crash_is_closed_by_the_restart(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that broke a table is stored before its table operations; a crash before
    the table's close left its actor open for good: the restart aligned only the tables
    the core has. Now it closes every table of the tournament the core no longer has."""
    autojump_between_threads(autojump_clock, monkeypatch)
    close_table = TournamentTables._close_table
    crash = [True]

    async def crashing(self: TournamentTables, number: int) -> None:
        if crash:
            crash.clear()
            raise RuntimeError("crashed by the test before the close")
        await close_table(self, number)

    monkeypatch.setattr(TournamentTables, "_close_table", crashing)
    async with tournament_room(sqlite_url(tmp_path), seed=20) as room:
        room.think_s = 1.0
        spec = TournamentSpec(
            name="Broken", kind="mtt", preset="hyper", guarantee=800, entries_max=8,
            seats_per_table=6, starts_at_ms=2**62, action_timeout_ms=5_000, between_hands_ms=0,
        )  # fmt: skip
        tid = await room.create(spec)
        actor = room.tournament(tid)
        for player in range(1, 9):
            await actor.ask(RegisterPlayer(player_id=player))
        stream = room.channel.stream()
        await actor.ask(StartTournament())
        await hold_between_hands(room, actor, stream, bots=False)
        details = await actor.ask(GetTournament())
        assert isinstance(details, TournamentDetails) and len(details.tables) == 2
        before = {t.table_id: t.table for t in details.tables}
        lines = await standings_lines(actor)
        seated = [e for e, line in lines.items() if line.table_id == details.tables[0].table_id]
        tournaments = room.runtime.root.child("tournaments").supervisor
        assert tournaments is not None
        slot = tournaments.child(TournamentAddress(tid).actor_name)
        with structlog.testing.capture_logs() as logged:
            # Two left there: the core breaks the table (the other has their seats).
            for entry in seated[2:]:
                actor.tell(RemoveEntry(entry=entry, refund=False))
            while slot.restarts == 0:  # noqa: ASYNC110 (the supervisor has no event for it)
                await trio.sleep(0.1)
            details = await actor.ask(GetTournament(), timeout_s=600)
        assert isinstance(details, TournamentDetails)
        (kept,) = details.tables
        (gone,) = set(before) - {kept.table_id}
        assert room.runtime.registry.lookup(f"table:{gone}") is None
        closed = [e["table"] for e in logged if e["event"] == "table the core closed still open"]
        assert closed == [before[gone]]
        await tables_agree(room, tid, actor)
        finished: list[int] = []

        def until(player: int, body: object) -> bool:
            if isinstance(body, wire.TournamentStateChanged) and body.event == "finished":
                finished.append(player)
                return True
            return False

        async with trio.open_nursery() as nursery:
            nursery.start_soon(room.play, stream, until)
            await actor.ask(ResumeClock())
        results = await actor.ask(GetResults())
        assert isinstance(results, Results) and results.state == "finished"
        assert room.checks.failures == []
