"""The tournament scenario's figures: bot tallies add up across processes, and the report's
``tournament`` section says what the swarm and the server saw."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from loadtest.stats import Interval, Totals, TournamentTally, merge_intervals
from loadtest.tournament import TournamentWatch, tournament_section
from protocol.tournaments import StandingEntry, TableLine, TournamentLine, TournamentView

_tallies = st.builds(
    TournamentTally,
    registered=st.integers(0, 100),
    reentries=st.integers(0, 10),
    moves=st.dictionaries(st.sampled_from(["balance", "break", "director"]), st.integers(0, 50)),
    paid=st.integers(0, 10**9),
    hand_for_hand_hands=st.dictionaries(
        st.sampled_from(["t1-1", "t1-2", "t1-3"]), st.integers(0, 9)
    ),
)


@given(tallies=st.lists(_tallies, max_size=6))
def test_tallies_add_up_the_same_over_intervals_totals_and_the_wire(
    tallies: list[TournamentTally],
) -> None:
    # Each crosses a worker's stdout as JSON, then is merged twice (timeline and totals).
    decoded = [msgspec.json.decode(msgspec.json.encode(Interval(tournament=t)), type=Interval)
               for t in tallies]  # fmt: skip
    merged = merge_intervals(decoded).tournament
    totals = Totals()
    for interval in decoded:
        totals.add(interval)
    for combined in (merged, totals.tournament):
        assert combined.registered == sum(t.registered for t in tallies)
        assert combined.paid == sum(t.paid for t in tallies)
        assert sum(combined.moves.values()) == sum(sum(t.moves.values()) for t in tallies)
        for table in ("t1-1", "t1-2", "t1-3"):
            assert combined.hand_for_hand_hands.get(table, 0) == sum(
                t.hand_for_hand_hands.get(table, 0) for t in tallies
            )


def _view(state: str, players: list[int], entries: int = 27) -> TournamentView:
    line = TournamentLine(
        tournament_id=5, name="x", kind="mtt", state=state, asset="chips",  # type: ignore[arg-type]
        buy_in=100, fee=10, bounty=50, bounty_kind="progressive", guarantee=0,
        entries=entries, players_left=sum(players), entries_max=100, starts_at_ms=None,
        prize_pool=4_050, level=3,
    )  # fmt: skip
    tables = tuple(TableLine(table_id=f"t5-{n}", players=p, in_hand=False)
                   for n, p in enumerate(players, 1))  # fmt: skip
    return TournamentView(
        line=line, structure="hyper", unit="minutes", starting_stack=500, levels=(),
        late_registration_levels=1, entries_per_player_max=2, payouts=(), prizes_final=True,
        level=None, on_break=False, clock_paused=False, level_remaining_ms=-1,
        next_break_in_ms=-1, average_stack=500, players_left=sum(players),
        hand_for_hand=False, final_table=len(players) == 1, tables=tables,
    )  # fmt: skip


def test_the_section_reports_the_winner_money_tables_and_hand_for_hand_rounds() -> None:
    watch = TournamentWatch(5)
    # What polls saw: three tables (a spread of 2 right after one opened is not counted),
    # then balanced ones, then the final table.
    for seen in ([9, 9, 7], [9, 8, 8], [8, 7, 7], [7, 6, 7], [9]):
        watch.observe(_view("running", seen), now=1.0)
    watch.observe(_view("finished", [1]), now=61.5)
    standings = [
        StandingEntry(entry=1, player_id=11, status="playing", stack=13_500, table_id="t5-1",
                      place=1, tied=0, prize=2_000, bounties=300, head=0),
        StandingEntry(entry=2, player_id=12, status="out", stack=0, table_id=None,
                      place=2, tied=0, prize=1_200, bounties=100, head=0),
        StandingEntry(entry=3, player_id=13, status="out", stack=0, table_id=None,
                      place=3, tied=0, prize=850, bounties=0, head=0),
    ]  # fmt: skip
    tally = TournamentTally(
        registered=27,
        reentries=3,
        moves={"balance": 4, "break": 9},
        hand_for_hand_hands={"t5-1": 2, "t5-2": 3},
        winner="bot00004",
    )
    section = tournament_section(watch, standings, tally, hands=120, created=True)
    assert section["finished"] is True and section["state"] == "finished"
    assert section["winner"] == {"player_id": 11, "entry": 1, "name": "bot00004"}
    assert section["entrants"] == 27 and section["prize_pool"] == 4_050
    assert section["payouts_total"] == 4_450  # prizes and bounties
    assert section["balancing_moves"] == 4
    assert section["tables_max"] == 3
    assert section["table_spread_max"] == 1  # the first poll has no poll before it
    assert section["hand_for_hand_rounds"] == 3
    assert section["duration_s"] == 60.5
    assert section["hands"] == 120
