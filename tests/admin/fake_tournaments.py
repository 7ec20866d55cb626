"""A stand-in tournament directory and tournament for the admin API's own tests.

They answer the messages of actors/tournament_messages.py with the contract's shapes and
keep just enough state to show a change (state, clock, stacks, tables), so the routes'
translation, statuses and write-ahead audit are tested apart from the live runtime (which
tests/e2e/test_tournaments_ws.py drives through the same routes).
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from actors.actor import Actor
from actors.tournament_messages import (
    AdjustStack,
    BreakTable,
    CancelTournament,
    CreateTournament,
    GetResults,
    GetStandings,
    GetTournament,
    LevelInfo,
    ListTournaments,
    MoveEntry,
    PauseClock,
    RemoveEntry,
    ResultLine,
    Results,
    ResumeClock,
    StandingLine,
    Standings,
    StartTournament,
    TableInfo,
    TournamentAddress,
    TournamentCreated,
    TournamentDetails,
    TournamentRefusal,
    TournamentSummary,
)

TOURNAMENT_ID: Final = 7  # the fake tournament's id
TABLES: Final = (1, 2)
ENTRIES: Final = (1, 2, 3)  # entries 1-3, players 11-13, on tables 1, 2, 1
LEVEL: Final = LevelInfo(
    level=1, small_blind=10, big_blind=20, ante=0, ante_mode="none", duration=1
)


def summary(state: str = "registering", tournament_id: int = TOURNAMENT_ID) -> TournamentSummary:
    return TournamentSummary(
        tournament_id=tournament_id, name="Fake MTT", kind="mtt", state=state,  # type: ignore[arg-type]
        asset="chips", buy_in=100, fee=10, bounty=0, bounty_kind="none", guarantee=0,
        entries=len(ENTRIES), players_left=len(ENTRIES), entries_max=100, starts_at_ms=None,
        prize_pool=300, level=1 if state == "running" else 0,
    )  # fmt: skip


class FakeDirectory(Actor[Any]):
    kind = "tournament-directory"
    reply_errors = (TournamentRefusal,)

    latest: FakeDirectory | None = None  # the running one, for the tests to look into

    def __init__(self) -> None:
        self.created: list[CreateTournament] = []
        FakeDirectory.latest = self

    async def handle(self, message: Any) -> object:
        if isinstance(message, CreateTournament):
            if message.spec.buy_in == 13:  # the tests' way to be refused
                raise TournamentRefusal("payout_invalid", "thirteen is unlucky")
            self.created.append(message)
            return TournamentCreated(tournament_id=TOURNAMENT_ID)
        if isinstance(message, ListTournaments):
            wanted = message.filter.state
            return tuple(s for s in (summary(),) if wanted in (None, s.state))
        raise TypeError(message)


class FakeTournament(Actor[Any]):
    kind = "tournament"
    reply_errors = (TournamentRefusal,)

    def __init__(self) -> None:
        self.state = "registering"
        self.paused = False
        self.stacks = {entry: 500 for entry in ENTRIES}
        self.tables = {1: 1, 2: 2, 3: 1}  # entry -> table
        self.open_tables = set(TABLES)
        self.places: dict[int, int] = {}

    def _running(self) -> None:
        if self.state != "running":
            raise TournamentRefusal("tournament_not_running", f"it is {self.state}")

    def _entry(self, entry: int) -> None:
        if entry not in self.stacks or entry in self.places:
            raise TournamentRefusal("not_registered", f"no entry {entry} in play")

    async def handle(self, message: Any) -> object:
        address = TournamentAddress(TOURNAMENT_ID)
        if isinstance(message, GetTournament):
            return TournamentDetails(
                summary=summary(self.state), structure_name="hyper", unit="minutes",
                starting_stack=500, levels=(LEVEL,), breaks=(), late_registration_levels=0,
                entries_per_player_max=1, payouts=(300,), prizes_final=False, collected=300,
                overlay=0, level=LEVEL if self.state == "running" else None, on_break=False,
                clock_paused=self.paused, level_remaining_ms=-1, next_break_in_ms=-1,
                average_stack=500, players_left=len(self.stacks) - len(self.places),
                hand_for_hand=False, final_table=False,
                tables=tuple(
                    TableInfo(table=t, table_id=address.table_id(t),
                              players=sum(1 for v in self.tables.values() if v == t),
                              in_hand=False, hands_dealt=0)
                    for t in sorted(self.open_tables)
                ),
            )  # fmt: skip
        if isinstance(message, GetStandings):
            lines = tuple(
                StandingLine(entry=e, player_id=10 + e, status="playing", stack=s,
                             table_id=address.table_id(self.tables[e]), place=0, tied=0,
                             prize=0, bounties=0, head=0)
                for e, s in sorted(self.stacks.items())
            )  # fmt: skip
            page = lines[message.offset : message.offset + message.limit]
            return Standings(tournament_id=TOURNAMENT_ID, total=len(lines), lines=page)
        if isinstance(message, GetResults):
            lines = tuple(
                ResultLine(entry=e, player_id=10 + e, place=self.places.get(e, 0), tied=0,
                           prize=300 if self.places.get(e) == 1 else 0, bounties=0, rebuys=0,
                           addon=False)
                for e in ENTRIES
            )  # fmt: skip
            return Results(
                tournament_id=TOURNAMENT_ID, state=self.state,  # type: ignore[arg-type]
                entries=len(ENTRIES), prize_pool=300, paid=0, fees=30, lines=lines,
            )  # fmt: skip
        if isinstance(message, StartTournament):
            if self.state != "registering":
                raise TournamentRefusal("tournament_not_running", "already started")
            self.state = "running"
        elif isinstance(message, CancelTournament):
            if self.state in ("finished", "cancelled"):
                raise TournamentRefusal("tournament_not_running", f"it is {self.state}")
            self.state = "cancelled"
        elif isinstance(message, PauseClock):
            self._running()
            self.paused = True
        elif isinstance(message, ResumeClock):
            self._running()
            self.paused = False
        elif isinstance(message, RemoveEntry):
            self._running()
            self._entry(message.entry)
            self.places[message.entry] = len(ENTRIES) - len(self.places)
        elif isinstance(message, AdjustStack):
            self._running()
            self._entry(message.entry)
            if self.stacks[message.entry] + message.chips <= 0:
                raise TournamentRefusal("table_refused", "a stack stays above zero")
            self.stacks[message.entry] += message.chips
            return self.stacks[message.entry]
        elif isinstance(message, MoveEntry):
            self._running()
            self._entry(message.entry)
            if message.table not in self.open_tables:
                raise TournamentRefusal("table_refused", f"no table {message.table}")
            self.tables[message.entry] = message.table
        elif isinstance(message, BreakTable):
            self._running()
            if message.table not in self.open_tables or len(self.open_tables) == 1:
                raise TournamentRefusal("table_refused", f"table {message.table} cannot break")
            self.open_tables.discard(message.table)
            rest = min(self.open_tables)
            self.tables = {e: (rest if t == message.table else t) for e, t in self.tables.items()}
        else:
            raise TypeError(message)
        return None


def last_spec() -> dict[str, Any]:
    """The last spec the running directory was asked to create, as plain values."""
    assert FakeDirectory.latest is not None
    result: dict[str, Any] = msgspec.to_builtins(FakeDirectory.latest.created[-1].spec)
    return result
