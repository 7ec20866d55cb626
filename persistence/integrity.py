"""Integrity reports' storage: the hands of a period (summaries, then the PHH of the few a
report lists) and staff reviews of flags. Units of work (persistence/work.py), both backends.

A review changes only through :func:`review_change`, an audited change (persistence/audit.py):
the review row and its audit entry land in one transaction, or neither does.
"""

from __future__ import annotations

from typing import Any, Final, Literal, final

import msgspec

from persistence.accounts import Account, account_record, set_banned_change
from persistence.audit import Change
from persistence.hands import HandPlayer
from persistence.work import Query, Row, Work

HANDS_PAGE_ROWS: Final = 5_000  # rows per statement when a report reads a period
PHH_PAGE_ROWS: Final = 200  # histories per statement when a report reads patterns
REVIEWS_PAGE_MAX: Final = 1_000  # bound: reviews read at once (by flag ids of one report)

ReviewStatus = Literal["dismissed", "confirmed"]
FlagKind = Literal["dumping", "collusion"]


@final
class PeriodHand(msgspec.Struct, frozen=True):
    seq: int
    hand_id: str
    table_id: str
    game: str
    asset: str
    ended_at_ms: int
    players: tuple[HandPlayer, ...]


@final
class Review(msgspec.Struct, frozen=True):
    flag_id: str
    kind: str
    status: str  # "dismissed" | "confirmed"
    reason: str
    reviewed_by: str  # the staff token's subject
    updated_at_ms: int
    banned_player_id: int | None = None


_players_decoder = msgspec.json.Decoder(tuple[HandPlayer, ...])
_REVIEW = "flag_id, kind, status, reason, reviewed_by, updated_at_ms, banned_player_id"


def _review(row: Row) -> Review:
    return Review(
        flag_id=row[0], kind=row[1], status=row[2], reason=row[3], reviewed_by=row[4],
        updated_at_ms=int(row[5]), banned_player_id=None if row[6] is None else int(row[6]),
    )  # fmt: skip


def hands_page(from_ms: int, to_ms: int, after_seq: int) -> Work[list[PeriodHand]]:
    """Up to HANDS_PAGE_ROWS hands that ended in [from_ms, to_ms), by seq after ``after_seq``."""
    rows = yield Query(
        "SELECT seq, hand_id, table_id, game, asset, ended_at_ms, players FROM hand_histories"
        " WHERE ended_at_ms >= $1 AND ended_at_ms < $2 AND seq > $3"
        f" ORDER BY seq LIMIT {HANDS_PAGE_ROWS}",
        (from_ms, to_ms, after_seq),
    )
    return [
        PeriodHand(
            seq=int(r[0]),
            hand_id=r[1],
            table_id=r[2],
            game=r[3],
            asset=r[4],
            ended_at_ms=int(r[5]),
            players=_players_decoder.decode(r[6]),
        )
        for r in rows
    ]


def count_hands(from_ms: int, to_ms: int) -> Work[int]:
    rows = yield Query(
        "SELECT COUNT(*) FROM hand_histories WHERE ended_at_ms >= $1 AND ended_at_ms < $2",
        (from_ms, to_ms),
    )
    return int(rows[0][0])


def histories(hand_ids: list[str]) -> Work[dict[str, str]]:
    """The PHH text of each hand id found (at most PHH_PAGE_ROWS ids a call)."""
    if len(hand_ids) > PHH_PAGE_ROWS:
        raise ValueError(f"at most {PHH_PAGE_ROWS} hand ids a call")
    if not hand_ids:
        return {}
    marks = ", ".join(f"${i + 1}" for i in range(len(hand_ids)))
    rows = yield Query(
        f"SELECT hand_id, phh FROM hand_histories WHERE hand_id IN ({marks})", tuple(hand_ids)
    )
    return {row[0]: row[1] for row in rows}


def reviews(flag_ids: list[str]) -> Work[dict[str, Review]]:
    if len(flag_ids) > REVIEWS_PAGE_MAX:
        raise ValueError(f"at most {REVIEWS_PAGE_MAX} flag ids a call")
    if not flag_ids:
        return {}
    marks = ", ".join(f"${i + 1}" for i in range(len(flag_ids)))
    rows = yield Query(
        f"SELECT {_REVIEW} FROM integrity_reviews WHERE flag_id IN ({marks})", tuple(flag_ids)
    )
    return {row[0]: _review(row) for row in rows}


def get_review(flag_id: str) -> Work[Review | None]:
    found = yield from reviews([flag_id])
    return found.get(flag_id)


@final
class ReviewRefused(Exception):
    """Staff asked for a review change the rules refuse; ``code`` is stable (docs/admin.md)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _review_record(review: Review | None) -> dict[str, Any] | None:
    return None if review is None else msgspec.to_builtins(review)


def review_change(
    flag_id: str,
    kind: FlagKind,
    status: ReviewStatus,
    reason: str,
    reviewed_by: str,
    now_ms: int,
    ban_player_id: int | None = None,
) -> Work[Change[tuple[Review, Account | None]]]:
    """Set a flag's review (and, with ``ban_player_id``, ban that player in the same
    transaction), as an audited change: before and after are the review (and the account).

    Refuses (ReviewRefused, which rolls everything back): ``review_unchanged`` when the flag
    already has this status and no ban is asked; ``unknown_player`` for a ban of no account;
    ``player_already_banned``."""
    rows = yield Query(
        f"SELECT {_REVIEW} FROM integrity_reviews r WHERE flag_id = $1", (flag_id,), lock="r"
    )
    before = _review(rows[0]) if rows else None
    if ban_player_id is None and before is not None and before.status == status:
        raise ReviewRefused("review_unchanged", f"flag {flag_id} is already {status}")
    account_before: dict[str, Any] | None = None
    account: Account | None = None
    if ban_player_id is not None:
        banned = yield from set_banned_change(ban_player_id, True)
        if not banned.logged or banned.result is None:
            raise ReviewRefused("unknown_player", f"no player {ban_player_id}")
        if banned.before is not None and banned.before.get("banned"):
            raise ReviewRefused("player_already_banned", f"player {ban_player_id} is banned")
        account_before, account = banned.before, banned.result
    banned_id = ban_player_id
    if banned_id is None and before is not None:
        banned_id = before.banned_player_id  # a later dismissal keeps the record of the ban
    rows = yield Query(
        f"INSERT INTO integrity_reviews ({_REVIEW}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (flag_id) DO UPDATE SET status = excluded.status,"
        " reason = excluded.reason, reviewed_by = excluded.reviewed_by,"
        " updated_at_ms = excluded.updated_at_ms, banned_player_id = excluded.banned_player_id"
        f" RETURNING {_REVIEW}",
        (flag_id, kind, status, reason, reviewed_by, now_ms, banned_id),
    )
    after = _review(rows[0])
    before_record: dict[str, Any] = {"review": _review_record(before)}
    after_record: dict[str, Any] = {"review": _review_record(after)}
    if account is not None:
        before_record["account"] = account_before
        after_record["account"] = account_record(account)
    return Change((after, account), before=before_record, after=after_record)
