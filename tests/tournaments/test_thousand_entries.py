"""A 1,000-entry tournament's reads stay cheap (issue 15: a read left unanswered for 10 s).

The work is counted, not timed: ``tablium_tournament_view_rows`` counts the entries and
tables visited to build what the tournament shows. A page of standings asked again while
nothing changed visits only its own lines; the first read after a change builds the order
once (one pass over the entries), not once per line; a player's own entries (what
``get_tournament`` over the websocket shows her) visit only hers; the details are built once
per change whatever the number of readers."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing
from prometheus_client import REGISTRY

from actors.tournament_messages import (
    GetStandings,
    GetTournament,
    RegisterPlayer,
    Standings,
    StartTournament,
    TournamentDetails,
    TournamentSpec,
)
from tests.actors.test_table_fakes import sqlite_url
from tests.e2e.clock import autojump_between_threads
from tests.tournaments.harness import tournament_room

ENTRIES = 1_000
PAGE = 100


def rows() -> float:
    value = REGISTRY.get_sample_value("tablium_tournament_view_rows_total")
    assert value is not None
    return value


def spec() -> TournamentSpec:
    """A freeroll with a guarantee (no wallet to fund per player), 112 tables of 9."""
    return TournamentSpec(
        name="Thousand", kind="mtt", preset="hyper", guarantee=10_000, entries_max=ENTRIES,
        starts_at_ms=2**62, action_timeout_ms=5_000,
    )  # fmt: skip


async def test_reads_of_a_thousand_entry_tournament_cost_a_page_not_the_field(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    autojump_between_threads(autojump_clock, monkeypatch)
    async with tournament_room(sqlite_url(tmp_path), seed=1000) as room:
        tid = await room.create(spec())
        actor = room.tournament(tid)
        for player in range(1, ENTRIES + 1):
            await actor.ask(RegisterPlayer(player_id=player))
        await actor.ask(StartTournament())

        # The first page after a change: the order once (1,000 entries), then its lines.
        before = rows()
        first = await actor.ask(GetStandings(offset=0, limit=PAGE))
        assert isinstance(first, Standings)
        assert first.total == ENTRIES and len(first.lines) == PAGE
        assert rows() - before <= ENTRIES + PAGE
        # Every further page while nothing changed: its lines only, however deep.
        before = rows()
        for offset in range(PAGE, ENTRIES, PAGE):
            page = await actor.ask(GetStandings(offset=offset, limit=PAGE))
            assert isinstance(page, Standings) and page.total == ENTRIES
        pages = ENTRIES // PAGE - 1
        assert rows() - before <= pages * PAGE  # 900: was 9 x 1,000 sorted, plus the pages

        # A player's own line (get_tournament over the websocket): hers only.
        before = rows()
        mine = await actor.ask(GetStandings(player_id=ENTRIES // 2))
        assert isinstance(mine, Standings)
        assert [line.player_id for line in mine.lines] == [ENTRIES // 2] and mine.total == 1
        assert rows() - before <= 1

        # The details: one build per change, then free for every reader, clock read fresh.
        details = await actor.ask(GetTournament())
        assert isinstance(details, TournamentDetails) and details.players_left == ENTRIES
        assert len(details.tables) == 112
        before = rows()
        for _ in range(50):
            again = await actor.ask(GetTournament())
            assert isinstance(again, TournamentDetails)
        assert rows() - before == 0

        # Play moves on (tables deal, players time out): each read after a change builds
        # at most once, never once per line or per reader.
        await trio.sleep(30)
        before = rows()
        for _ in range(20):
            await actor.ask(GetStandings(offset=0, limit=PAGE))
            await actor.ask(GetTournament())
        assert rows() - before <= 20 * (2 * ENTRIES + 112 + PAGE)
