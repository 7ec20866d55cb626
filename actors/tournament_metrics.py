"""Prometheus metrics of tournaments (registered on the default registry).

Per-tournament series exist while a tournament is registering or running and are removed
when it ends, so their number is bounded by the live tournaments.
"""

from __future__ import annotations

import contextlib
from collections import Counter as Tally
from collections.abc import Iterable
from typing import Final

from prometheus_client import Counter, Gauge

from actors.tournament_messages import TOURNAMENT_STATES, TournamentSummary

TOURNAMENTS: Final = Gauge(
    "tablium_tournaments", "Tournaments the directory lists, by state.", ["state"]
)
ENTRANTS: Final = Gauge(
    "tablium_tournament_entrants",
    "Entries of a live tournament (re-entries count).",
    ["tournament"],
)
PLAYERS_LEFT: Final = Gauge(
    "tablium_tournament_players_left", "Entries still in a running tournament.", ["tournament"]
)
TABLES: Final = Gauge(
    "tablium_tournament_tables", "Tables of a running tournament.", ["tournament"]
)
LEVEL: Final = Gauge(
    "tablium_tournament_level",
    "The blind level a running tournament plays (1-based).",
    ["tournament"],
)
VIEW_ROWS: Final = Counter(
    "tablium_tournament_view_rows",
    "Entries and tables visited to build what tournaments show (details, standings, results).",
)
MOVES: Final = Counter(
    "tablium_tournament_moves", "Players moved between tables (balancing and broken tables)."
)


for _state in TOURNAMENT_STATES:  # every state has a series (0) before any tournament
    TOURNAMENTS.labels(_state)


def count_states(summaries: Iterable[TournamentSummary]) -> None:
    tally = Tally(s.state for s in summaries)
    for state in TOURNAMENT_STATES:
        TOURNAMENTS.labels(state).set(tally.get(state, 0))


def observe(summary: TournamentSummary, tables: int) -> None:
    label = str(summary.tournament_id)
    if summary.state in ("finished", "cancelled"):
        for gauge in (ENTRANTS, PLAYERS_LEFT, TABLES, LEVEL):
            with contextlib.suppress(KeyError):  # never observed live
                gauge.remove(label)
        return
    ENTRANTS.labels(label).set(summary.entries)
    PLAYERS_LEFT.labels(label).set(summary.players_left)
    TABLES.labels(label).set(tables)
    LEVEL.labels(label).set(summary.level)
