"""A player's statistics, experience and achievements as every door shows them; the rebuild.

The counting itself happens in the store, in the transaction that stores a hand
(persistence/players.py, from the pure rules in players/). Who may see what (the player's
``stats_privacy`` preference; staff see everything) is decided here once.
"""

from __future__ import annotations

from functools import partial
from typing import Final, Literal, final

import msgspec

from persistence import players as stored
from persistence.players import Achievement, HandApplied, Progress
from persistence.store import Store
from players.progress import ACHIEVEMENTS
from players.stats import (
    StatFigures,
    TournamentFigures,
    TournamentResult,
    figures,
    tournament_figures,
)

REBUILD_PAGE_HANDS: Final = 200  # hands per transaction while rebuilding

Audience = Literal["self", "staff", "public"]


@final
class StakeStats(msgspec.Struct, frozen=True):
    asset: str
    game: str
    stake: str
    figures: StatFigures


@final
class AchievementView(msgspec.Struct, frozen=True):
    code: str
    title: str
    earned_at_ms: int


@final
class PlayerStatsView(msgspec.Struct, frozen=True):
    player_id: int
    level: int
    xp: int
    xp_for_next_level: int | None
    hands: int
    # Empty when the player keeps her statistics private from this viewer.
    stakes: list[StakeStats]
    tournaments: dict[str, TournamentFigures]
    achievements: list[AchievementView]
    private: bool  # True: the statistics are hidden from this viewer by the player's choice


def achievement_view(a: Achievement) -> AchievementView:
    return AchievementView(a.code, ACHIEVEMENTS.get(a.code, a.code), a.earned_at_ms)


async def stats_view(
    store: Store, player_id: int, *, audience: Audience, stats_privacy: str = "public"
) -> PlayerStatsView:
    """``stats_privacy`` (a preference): ``public`` (anyone), ``private`` (the player and
    staff). Level, XP and achievements are always public. Read with ``run_may_lag``: a read
    replica, when configured, may show the last hands a moment late."""
    prog: Progress = await store.run_may_lag(partial(stored.get_progress, player_id))
    earned = await store.run_may_lag(partial(stored.achievements, player_id))
    hidden = audience == "public" and stats_privacy == "private"
    stakes: list[StakeStats] = []
    tournaments: dict[str, TournamentFigures] = {}
    if not hidden:
        rows = await store.run_may_lag(partial(stored.player_stats, player_id))
        stakes = [StakeStats(k.asset, k.game, k.stake, figures(c)) for k, c in rows]
        trows = await store.run_may_lag(partial(stored.player_tournaments, player_id))
        tournaments = {asset: tournament_figures(c) for asset, c in trows}
    return PlayerStatsView(
        player_id=player_id,
        level=prog.level,
        xp=prog.xp,
        xp_for_next_level=prog.xp_for_next_level,
        hands=prog.hands,
        stakes=stakes,
        tournaments=tournaments,
        achievements=[achievement_view(a) for a in earned],
        private=hidden,
    )


@final
class RebuildReport(msgspec.Struct, frozen=True):
    hands_read: int
    hands_counted: int


async def rebuild_stats(store: Store) -> RebuildReport:
    """Empty the derived tables, then count every stored hand again, oldest first,
    ``REBUILD_PAGE_HANDS`` per transaction. Interrupted, it can simply run again."""
    await store.run(stored.clear_derived)
    after_seq, read, counted = 0, 0, 0
    while True:
        page = await store.run(
            partial(stored.stored_hands_page, after_seq, REBUILD_PAGE_HANDS), read_only=True
        )
        if not page:
            break

        applied: list[HandApplied] = await store.run(
            partial(stored.apply_hands, page, store.clock_ms())
        )
        read += len(page)
        counted += len(applied)
        after_seq = page[-1].seq
    # Then the tournament entries counted (their records stay; what they added is redone).
    done: tuple[int, str, int] | None = None
    while True:
        done = await store.run(partial(stored.reapply_tournaments, done, REBUILD_PAGE_HANDS))
        if done is None:
            return RebuildReport(read, counted)


async def record_tournament_result(store: Store, result: TournamentResult) -> bool:
    """Count a finished tournament entry (once: False if counted before); the store's hooks
    then hear of it as of a hand (level-ups to sessions, scores to Redis)."""
    applied = await store.run(partial(stored.apply_tournament_result, result))
    if applied is None:
        return False
    for hook in store.hand_hooks:
        await hook(applied)
    return True
