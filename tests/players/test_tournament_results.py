"""Tournament results counted once: record, ROI and in-the-money figures, points board, XP;
a rebuild from the stored hands keeps them."""

from __future__ import annotations

from functools import partial

from persistence import players as stored
from persistence.store import Store
from players.stats import TournamentResult
from services.leaderboards import Leaderboards
from services.player_stats import rebuild_stats, record_tournament_result, stats_view
from tests.persistence.stores import ManualClock


def _result(tournament: str, place: int, prize: int, at_ms: int) -> TournamentResult:
    return TournamentResult(tournament, 1, "chips", 100, place, 110, prize, at_ms)


async def test_results_count_once_and_survive_a_rebuild(store: Store, clock: ManualClock) -> None:
    await store.create_account("alice", "x", "player")
    now = clock.now_ms
    assert await record_tournament_result(store, _result("t1", 1, 500, now)) is True
    assert await record_tournament_result(store, _result("t1", 1, 500, now)) is False
    assert await record_tournament_result(store, _result("t2", 40, 0, now + 1)) is True
    view = await stats_view(store, 1, audience="self")
    figures = view.tournaments["chips"]
    assert (figures.entries, figures.best_finish, figures.prizes_won) == (2, 1, 500)
    assert figures.in_the_money_pct == 50.0
    assert figures.roi_pct == round(100 * (500 - 220) / 220, 2)
    assert figures.points == 1000
    assert [a.code for a in view.achievements] == ["first_tournament_cashed"]
    assert view.xp == 50 + 1000 + 50
    boards = Leaderboards(store)
    top = await boards.top("points", "daily", 10, now)
    assert [(e.player_id, e.score) for e in top.entries] == [(1, 1000)]
    before = (
        await store.run(partial(stored.get_progress, 1)),
        await boards.top("xp", "weekly", 10, now),
        await boards.top("points", "monthly", 10, now),
        await store.run(partial(stored.achievements, 1)),
    )
    await rebuild_stats(store)
    after = (
        await store.run(partial(stored.get_progress, 1)),
        await boards.top("xp", "weekly", 10, now),
        await boards.top("points", "monthly", 10, now),
        await store.run(partial(stored.achievements, 1)),
    )
    assert after == before
