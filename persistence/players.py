"""Player statistics, experience, achievements and leaderboard scores, as stored.

``apply_hand`` counts one finished hand, exactly once (its id goes into
``player_stats_hands`` in the same transaction), from the pure rules in players/: it adds each
player's counters, experience and leaderboard scores, records level-ups and achievements, and
returns what changed (:class:`HandApplied`) so the caller can push level-ups to sessions and
mirror scores to Redis. Today the store runs it where hand histories are written
(Store.save_hand); the domain-events consumer can call the same unit later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final, final

import msgspec
import structlog

from persistence.events import NewEvent, PlayerLevelChanged
from persistence.hands import HandRecord, get_hand
from persistence.outbox import append
from persistence.work import Query, Row, Work
from players import progress
from players.stats import (
    STAT_FIELDS,
    FinishedHand,
    PlayerHandFacts,
    SeatOutcome,
    StakeKey,
    StatCounters,
    StatsInputError,
    TournamentCounters,
    TournamentResult,
    hand_facts,
)

log = structlog.get_logger("tablium.players")

LEADERBOARD_PAGE_MAX: Final = 100  # bound: a top-N beyond this is clamped
STATS_KEYS_MAX: Final = 500  # bound: a player's stake keys listed (beyond: the busiest first)


@final
class LevelUp(msgspec.Struct, frozen=True):
    player_id: int
    level: int
    xp: int
    reached_at_ms: int


@final
class Achievement(msgspec.Struct, frozen=True):
    player_id: int
    code: str
    earned_at_ms: int


@final
class ScoreRow(msgspec.Struct, frozen=True):
    board: str
    period: str
    player_id: int
    score: int
    version: int


@final
class HandApplied(msgspec.Struct, frozen=True):
    hand_id: str
    level_ups: tuple[LevelUp, ...]
    achievements: tuple[Achievement, ...]
    scores: tuple[ScoreRow, ...]


@final
class Progress(msgspec.Struct, frozen=True):
    player_id: int
    xp: int
    level: int
    hands: int
    xp_for_next_level: int | None  # total XP the next level starts at; None at the top


def finished_hand(record: HandRecord) -> FinishedHand:
    return FinishedHand(
        hand_id=record.hand_id,
        game=record.game,
        asset=record.asset,
        ended_at_ms=record.ended_at_ms,
        phh_text=record.phh,
        outcomes=tuple(SeatOutcome(p.player_id, p.net, p.rake_paid) for p in record.players),
    )


_STATS_COLUMNS = ", ".join(STAT_FIELDS)
_STATS_ARITY = 4 + len(STAT_FIELDS)
_STATS_UPSERT_HEAD = (
    f"INSERT INTO player_stats (player_id, asset, game, stake, {_STATS_COLUMNS}) VALUES "
)
_STATS_UPSERT_TAIL = " ON CONFLICT (player_id, asset, game, stake) DO UPDATE SET " + ", ".join(
    f"{f} = player_stats.{f} + excluded.{f}" for f in STAT_FIELDS
)


def apply_hand(record: HandRecord, now_ms: int) -> Work[HandApplied | None]:
    """Count ``record`` once; None if it was counted before (or cannot be read: logged)."""
    try:
        facts = hand_facts(finished_hand(record))
    except StatsInputError as exc:
        # The history is stored regardless; a hand our reader refuses is our bug, not a
        # reason to lose the hand. It stays uncounted (rebuild-stats retries it).
        log.error("hand not counted in statistics", hand=record.hand_id, error=str(exc))
        return None
    rows = yield Query(
        "INSERT INTO player_stats_hands (hand_id, applied_at_ms) VALUES ($1, $2)"
        " ON CONFLICT (hand_id) DO NOTHING RETURNING hand_id",
        (record.hand_id, now_ms),
    )
    if not rows:
        return None
    return (yield from _apply_facts(record.hand_id, record.asset, facts))


def _apply_facts(hand_id: str, asset: str, facts: Sequence[PlayerHandFacts]) -> Work[HandApplied]:
    """Four statements per hand whatever its players (stats, progress, scores, and the
    processed mark before): a level-up or an achievement adds its own, rarely."""
    if not facts:
        return HandApplied(hand_id, (), (), ())
    # Rows in one order (player id) in every transaction: two tables' hands sharing players
    # lock them in the same order and do not deadlock (PostgreSQL would retry, at a cost).
    facts = sorted(facts, key=lambda f: f.player_id)
    yield Query(
        _STATS_UPSERT_HEAD
        + ", ".join(_marks(i * _STATS_ARITY, _STATS_ARITY) for i in range(len(facts)))
        + _STATS_UPSERT_TAIL,
        tuple(
            value
            for f in facts
            for value in (f.player_id, f.key.asset, f.key.game, f.key.stake,
                          *(getattr(f.counters, name) for name in STAT_FIELDS))
        ),
    )  # fmt: skip
    xp_of = {f.player_id: progress.hand_xp(f.counters, asset) for f in facts}
    rows = yield Query(
        "INSERT INTO player_progress (player_id, xp, level, hands, won_hands,"
        " showdown_won_hands, updated_at_ms) VALUES "
        + ", ".join(_marks(i * 6, 6, "1") for i in range(len(facts)))
        + " ON CONFLICT (player_id) DO UPDATE SET xp = player_progress.xp + excluded.xp,"
        " hands = player_progress.hands + excluded.hands,"
        " won_hands = player_progress.won_hands + excluded.won_hands,"
        " showdown_won_hands = player_progress.showdown_won_hands + excluded.showdown_won_hands,"
        " updated_at_ms = excluded.updated_at_ms"
        " RETURNING player_id, xp, level, hands, won_hands, showdown_won_hands",
        tuple(
            value
            for f in facts
            for value in (f.player_id, xp_of[f.player_id], f.counters.hands,
                          f.counters.won_hands, f.counters.showdown_won_hands, f.ended_at_ms)
        ),
    )  # fmt: skip
    after = {int(r[0]): tuple(int(v) for v in r[1:]) for r in rows}
    level_ups: list[LevelUp] = []
    achievements: list[Achievement] = []
    deltas: list[progress.ScoreDelta] = []
    cause = f"hand:{hand_id}"
    for fact in facts:
        total_xp, old_level, hands, won, showdown_won = after[fact.player_id]
        level = progress.level_for_xp(total_xp)
        if level > old_level:
            raised = yield from _level_up(
                fact.player_id, level, total_xp, fact.ended_at_ms, cause, old_level
            )
            level_ups.append(raised)
        codes = progress.hand_achievements(
            fact.counters, progress.Totals(hands, won, showdown_won), old_level, level
        )
        if codes:
            achievements += yield from _earn(fact.player_id, codes, fact.ended_at_ms, cause)
        deltas += progress.score_deltas(
            progress.xp_board(), fact.player_id, xp_of[fact.player_id], fact.ended_at_ms
        )
        deltas += progress.score_deltas(
            progress.net_board(fact.key.asset, fact.key.game, fact.key.stake),
            fact.player_id,
            fact.counters.net_won,
            fact.ended_at_ms,
        )
    scores = yield from add_scores(deltas)
    return HandApplied(hand_id, tuple(level_ups), tuple(achievements), tuple(scores))


def _marks(offset: int, count: int, *literals: str) -> str:
    """``($1, $2, ...)`` for one row of a multi-row VALUES; ``literals`` go after the third
    placeholder (a constant column)."""
    marks = [f"${offset + i + 1}" for i in range(count)]
    if literals:
        marks[2:2] = list(literals)
    return "(" + ", ".join(marks) + ")"


def _level_up(
    player_id: int, level: int, xp: int, at_ms: int, cause: str, previous_level: int
) -> Work[LevelUp]:
    """Record the new level and its player.level_changed event (the outbox), in the
    transaction that counted what raised it."""
    yield Query("UPDATE player_progress SET level = $2 WHERE player_id = $1", (player_id, level))
    payload = PlayerLevelChanged(player_id=player_id, level=level, previous_level=previous_level)
    yield from append(NewEvent("player.level_changed", f"player:{player_id}", payload), at_ms)
    yield Query(
        "INSERT INTO player_level_ups (player_id, level, xp, reached_at_ms, cause)"
        " VALUES ($1, $2, $3, $4, $5)",
        (player_id, level, xp, at_ms, cause),
    )
    return LevelUp(player_id, level, xp, at_ms)


def _earn(player_id: int, codes: Iterable[str], at_ms: int, cause: str) -> Work[list[Achievement]]:
    earned: list[Achievement] = []
    for code in codes:
        rows = yield Query(
            "INSERT INTO player_achievements (player_id, code, earned_at_ms, cause)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (player_id, code) DO NOTHING RETURNING code",
            (player_id, code, at_ms, cause),
        )
        if rows:
            earned.append(Achievement(player_id, code, at_ms))
    return earned


def add_scores(deltas: Sequence[progress.ScoreDelta]) -> Work[list[ScoreRow]]:
    """Add each delta to its row (created at 0); the rows after, with their versions."""
    merged: dict[tuple[str, str, int], int] = {}
    for d in deltas:
        slot = (d.board, d.period, d.player_id)
        merged[slot] = merged.get(slot, 0) + d.delta
    if not merged:
        return []
    values: list[str] = []
    args: list[object] = []
    for (board, period, player_id), delta in sorted(merged.items()):  # one lock order
        n = len(args)
        values.append(f"(${n + 1}, ${n + 2}, ${n + 3}, ${n + 4}, 1)")
        args += [board, period, player_id, delta]
    rows = yield Query(
        "INSERT INTO leaderboard_scores (board, period, player_id, score, version) VALUES "
        + ", ".join(values)
        + " ON CONFLICT (board, period, player_id) DO UPDATE SET"
        " score = leaderboard_scores.score + excluded.score,"
        " version = leaderboard_scores.version + 1"
        " RETURNING board, period, player_id, score, version",
        tuple(args),
    )
    return [_score(row) for row in rows]


def _score(row: Row) -> ScoreRow:
    return ScoreRow(row[0], row[1], int(row[2]), int(row[3]), int(row[4]))


# --- reads ----------------------------------------------------------------------------------


def player_stats(player_id: int) -> Work[list[tuple[StakeKey, StatCounters]]]:
    rows = yield Query(
        f"SELECT asset, game, stake, {_STATS_COLUMNS} FROM player_stats WHERE player_id = $1"
        f" ORDER BY hands DESC, asset, game, stake LIMIT {STATS_KEYS_MAX}",
        (player_id,),
    )
    return [(StakeKey(r[0], r[1], r[2]), StatCounters(*(int(v) for v in r[3:]))) for r in rows]


def all_stats() -> Work[dict[tuple[int, StakeKey], StatCounters]]:
    """Every player's counters (tests and the rebuild check; unbounded: not for serving)."""
    rows = yield Query(f"SELECT player_id, asset, game, stake, {_STATS_COLUMNS} FROM player_stats")
    return {
        (int(r[0]), StakeKey(r[1], r[2], r[3])): StatCounters(*(int(v) for v in r[4:]))
        for r in rows
    }


def player_tournaments(player_id: int) -> Work[list[tuple[str, TournamentCounters]]]:
    rows = yield Query(
        "SELECT asset, entries, cashes, buy_ins_paid, prizes_won, best_finish, points"
        " FROM player_tournaments WHERE player_id = $1 ORDER BY asset",
        (player_id,),
    )
    return [
        (r[0], TournamentCounters(int(r[1]), int(r[2]), int(r[3]), int(r[4]),
                                  None if r[5] is None else int(r[5]), int(r[6])))
        for r in rows
    ]  # fmt: skip


def get_progress(player_id: int) -> Work[Progress]:
    rows = yield Query(
        "SELECT xp, level, hands FROM player_progress WHERE player_id = $1", (player_id,)
    )
    xp, level, hands = (int(v) for v in rows[0]) if rows else (0, 1, 0)
    following = progress.xp_for_level(level + 1) if level < progress.LEVEL_MAX else None
    return Progress(player_id, xp, level, hands, following)


def achievements(player_id: int) -> Work[list[Achievement]]:
    rows = yield Query(
        "SELECT code, earned_at_ms FROM player_achievements WHERE player_id = $1"
        " ORDER BY earned_at_ms, code",
        (player_id,),
    )
    return [Achievement(player_id, r[0], int(r[1])) for r in rows]


def level_ups(player_id: int, limit: int = 50) -> Work[list[LevelUp]]:
    rows = yield Query(
        "SELECT level, xp, reached_at_ms FROM player_level_ups WHERE player_id = $1"
        f" ORDER BY id DESC LIMIT {max(1, min(limit, 200))}",
        (player_id,),
    )
    return [LevelUp(player_id, int(r[0]), int(r[1]), int(r[2])) for r in rows]


# --- leaderboards (the database's answers; persistence/leaderboards_redis.py mirrors them) --


@final
class RankedScore(msgspec.Struct, frozen=True):
    rank: int  # 1 = first; ties: the higher player id ranks first (as Redis orders them)
    player_id: int
    score: int


# Banned players keep their rows but are left out of tops and ranks (docs/players.md): an
# unban shows them again. A row without an account (a benchmark's) counts.
_NOT_BANNED = (
    "NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = leaderboard_scores.player_id AND a.banned)"
)


def top_scores(board: str, period: str, limit: int) -> Work[list[RankedScore]]:
    n = max(1, min(limit, LEADERBOARD_PAGE_MAX))
    rows = yield Query(
        "SELECT player_id, score FROM leaderboard_scores WHERE board = $1 AND period = $2"
        f" AND {_NOT_BANNED} ORDER BY score DESC, player_id DESC LIMIT {n}",
        (board, period),
    )
    return [RankedScore(i + 1, int(r[0]), int(r[1])) for i, r in enumerate(rows)]


def rank_of(board: str, period: str, player_id: int) -> Work[RankedScore | None]:
    rows = yield Query(
        "SELECT score FROM leaderboard_scores WHERE board = $1 AND period = $2 AND player_id = $3"
        f" AND {_NOT_BANNED}",
        (board, period, player_id),
    )
    if not rows:
        return None
    score = int(rows[0][0])
    above = yield Query(
        "SELECT COUNT(*) FROM leaderboard_scores WHERE board = $1 AND period = $2"
        " AND (score, player_id) > ($3, $4)",  # a range of the rank index, not an OR
        (board, period, score, player_id),
    )
    # Less the banned players above her: few, found by their index (migration 0018), each
    # looked up by the board's primary key, rather than a test on every row of the range
    # (CROSS JOIN: SQLite keeps that order; PostgreSQL plans it by cost).
    banned_above = yield Query(
        "SELECT COUNT(*) FROM accounts a CROSS JOIN leaderboard_scores s WHERE a.banned"
        " AND s.board = $1 AND s.period = $2 AND s.player_id = a.id"
        " AND (s.score, s.player_id) > ($3, $4)",
        (board, period, score, player_id),
    )
    return RankedScore(int(above[0][0]) - int(banned_above[0][0]) + 1, player_id, score)


def banned_player_ids() -> Work[list[int]]:
    """Every banned account (the Redis mirror's banned set is loaded from it)."""
    rows = yield Query("SELECT id FROM accounts WHERE banned ORDER BY id")
    return [int(r[0]) for r in rows]


def scores_page(after: tuple[str, str, int] | None, limit: int) -> Work[list[ScoreRow]]:
    """Every score row in key order, a page at a time (the Redis mirror's full resync)."""
    board, period, player_id = after or ("", "", -1)
    rows = yield Query(
        "SELECT board, period, player_id, score, version FROM leaderboard_scores"
        " WHERE (board, period, player_id) > ($1, $2, $3)"
        f" ORDER BY board, period, player_id LIMIT {max(1, min(limit, 10_000))}",
        (board, period, player_id),
    )
    return [_score(r) for r in rows]


def period_scores_page(
    period: str, after: tuple[str, int] | None, limit: int
) -> Work[list[ScoreRow]]:
    """One period's score rows (every board), a page at a time in (board, player) order."""
    board, player_id = after or ("", -1)
    rows = yield Query(
        "SELECT board, period, player_id, score, version FROM leaderboard_scores"
        " WHERE period = $1 AND (board, player_id) > ($2, $3)"
        f" ORDER BY board, player_id LIMIT {max(1, min(limit, 10_000))}",
        (period, board, player_id),
    )
    return [_score(r) for r in rows]


# --- rebuild --------------------------------------------------------------------------------

DERIVED_TABLES: Final = (
    "player_stats", "player_stats_hands", "player_progress", "player_level_ups",
    "player_achievements", "leaderboard_scores",
)  # fmt: skip


def clear_derived() -> Work[None]:
    """Empty what the hands derive (rebuild-stats applies every stored hand again after).
    player_tournaments is not derived from hands and stays."""
    for table in DERIVED_TABLES:
        yield Query(f"DELETE FROM {table}")


def stored_hands_page(after_seq: int, limit: int) -> Work[list[HandRecord]]:
    rows = yield Query(
        f"SELECT hand_id FROM hand_histories WHERE seq > $1 ORDER BY seq LIMIT {limit}",
        (after_seq,),
    )
    found: list[HandRecord] = []
    for row in rows:
        hand = yield from get_hand(row[0])
        if hand is not None:
            found.append(hand)
    return found


def apply_hands(records: Sequence[HandRecord], now_ms: int) -> Work[list[HandApplied]]:
    applied: list[HandApplied] = []
    for record in records:
        result = yield from apply_hand(record, now_ms)
        if result is not None:
            applied.append(result)
    return applied


# --- tournaments ----------------------------------------------------------------------------


def apply_tournament_result(result: TournamentResult) -> Work[HandApplied | None]:
    """Count one finished tournament entry once (by tournament and player): the player's
    tournament record, XP (players/progress.py), the ``points`` and ``xp`` boards, a level-up
    and ``first_tournament_cashed``. None if counted before."""
    points = progress.tournament_points(result)
    rows = yield Query(
        "INSERT INTO player_tournament_results (tournament_id, player_id, place, prize, points,"
        " finished_at_ms) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (tournament_id, player_id) DO NOTHING RETURNING player_id",
        (result.tournament_id, result.player_id, result.place, result.prize, points,
         result.finished_at_ms),
    )  # fmt: skip
    if not rows:
        return None
    cashed = int(result.prize > 0)
    rows = yield Query(
        "INSERT INTO player_tournaments (player_id, asset, entries, cashes, buy_ins_paid,"
        " prizes_won, best_finish, points) VALUES ($1, $2, 1, $3, $4, $5, $6, $7)"
        " ON CONFLICT (player_id, asset) DO UPDATE SET"
        " entries = player_tournaments.entries + 1,"
        " cashes = player_tournaments.cashes + excluded.cashes,"
        " buy_ins_paid = player_tournaments.buy_ins_paid + excluded.buy_ins_paid,"
        " prizes_won = player_tournaments.prizes_won + excluded.prizes_won,"
        " best_finish = CASE WHEN player_tournaments.best_finish IS NULL"
        " OR excluded.best_finish < player_tournaments.best_finish"
        " THEN excluded.best_finish ELSE player_tournaments.best_finish END,"
        " points = player_tournaments.points + excluded.points RETURNING cashes",
        (result.player_id, result.asset, cashed, result.buy_in_paid, result.prize,
         result.place, points),
    )  # fmt: skip
    cashes_after = int(rows[0][0])
    first_cash = progress.crossed(cashes_after - cashed, cashes_after, 1)
    return (
        yield from _tournament_progress(
            result.tournament_id, result.player_id, points, first_cash, result.finished_at_ms
        )
    )


def _tournament_progress(
    tournament_id: str, player_id: int, points: int, first_cash: bool, at_ms: int
) -> Work[HandApplied]:
    """What a finished entry adds beyond the player's tournament record (which a rebuild
    keeps): XP, a level-up, achievements, the xp and points boards."""
    xp = progress.tournament_xp(points)
    rows = yield Query(
        "INSERT INTO player_progress (player_id, xp, level, hands, won_hands,"
        " showdown_won_hands, updated_at_ms) VALUES ($1, $2, 1, 0, 0, 0, $3)"
        " ON CONFLICT (player_id) DO UPDATE SET xp = player_progress.xp + excluded.xp,"
        " updated_at_ms = excluded.updated_at_ms RETURNING xp, level",
        (player_id, xp, at_ms),
    )
    total_xp, old_level = (int(v) for v in rows[0])
    level = progress.level_for_xp(total_xp)
    cause = f"tournament:{tournament_id}"
    level_ups: list[LevelUp] = []
    if level > old_level:
        level_ups.append(
            (yield from _level_up(player_id, level, total_xp, at_ms, cause, old_level))
        )
    codes = ["first_tournament_cashed"] if first_cash else []
    if progress.crossed(old_level, level, 10):
        codes.append("level_10")
    earned: list[Achievement] = []
    if codes:
        earned = yield from _earn(player_id, codes, at_ms, cause)
    deltas = progress.score_deltas(progress.xp_board(), player_id, xp, at_ms)
    if points:
        deltas += progress.score_deltas(progress.points_board(), player_id, points, at_ms)
    scores = yield from add_scores(deltas)
    return HandApplied(cause, tuple(level_ups), tuple(earned), tuple(scores))


def reapply_tournaments(
    after: tuple[int, str, int] | None, limit: int
) -> Work[tuple[int, str, int] | None]:
    """Rebuild: the XP, achievements and boards of the counted tournament entries after
    ``after`` (finish time, tournament, player), ``limit`` of them; the last one done, or
    None when there are no more. A cash earns first_tournament_cashed once (by its key)."""
    at_ms, tournament_id, player_id = after or (-1, "", -1)
    rows = yield Query(
        "SELECT finished_at_ms, tournament_id, player_id, points, prize"
        " FROM player_tournament_results"
        " WHERE (finished_at_ms, tournament_id, player_id) > ($1, $2, $3)"
        f" ORDER BY finished_at_ms, tournament_id, player_id LIMIT {max(1, min(limit, 1000))}",
        (at_ms, tournament_id, player_id),
    )
    for row in rows:
        yield from _tournament_progress(row[1], int(row[2]), int(row[3]), int(row[4]) > 0,
                                        int(row[0]))  # fmt: skip
    return (int(rows[-1][0]), rows[-1][1], int(rows[-1][2])) if rows else None
