"""Integrity reports over stored hands: read a period, run the pure core (poker/integrity),
add the listed hands' patterns from their histories, and staff reviews of the flags.

The admin API (admin/integrity.py) and ``tablium integrity report`` both call these, so the
two doors give the same report. Limits: a period of at most PERIOD_MS_MAX and at most
HANDS_SCANNED_MAX hands; beyond either the report is refused (``period_too_large``: ask for a
shorter period), never silently cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from typing import Final, final

import msgspec

from persistence import Store
from persistence.accounts import Account
from persistence.audit import AuditStamp
from persistence.integrity import (
    HANDS_PAGE_ROWS,
    PHH_PAGE_ROWS,
    FlagKind,
    Review,
    ReviewRefused,
    ReviewStatus,
    count_hands,
    get_review,
    hands_page,
    histories,
    review_change,
    reviews,
)
from poker import phh
from poker.integrity import (
    CollusionReport,
    CollusionSignal,
    CollusionThresholds,
    DumpingFlag,
    DumpingReport,
    DumpingThresholds,
    SeatedHand,
    SeatedPlayer,
    big_blind_of,
    dumping_patterns,
    find_collusion,
    find_dumping,
    with_patterns,
)

DAY_MS: Final = 24 * 60 * 60 * 1000
PERIOD_MS_DEFAULT: Final = 30 * DAY_MS  # the last 30 days
PERIOD_MS_MAX: Final = 92 * DAY_MS  # a quarter
HANDS_SCANNED_MAX: Final = 500_000  # ~1 GB-free: a SeatedHand is a few hundred bytes
FLAG_ID_CHARS_MAX: Final = 100
# Canonical: no leading zeros, so one pair has one id (the reviews are kept by it).
_FLAG_ID: Final = re.compile(
    r"^(dumping|collusion):([a-z]{1,16}):([1-9][0-9]{0,17}):([1-9][0-9]{0,17})$"
)

__all__ = [
    "FlagName",
    "IntegrityRefused",
    "Period",
    "Review",
    "ReviewRefused",
    "collusion_report",
    "dumping_report",
    "find_flag",
    "parse_flag_id",
    "review_flag",
    "review_of",
    "reviews_of",
]


@final
class IntegrityRefused(Exception):
    """A report or a review the rules refuse; ``code`` is stable (docs/integrity.md)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@final
@dataclass(frozen=True, slots=True)
class Period:
    """Hands that ended in [from_ms, to_ms)."""

    from_ms: int
    to_ms: int

    @staticmethod
    def of(from_ms: int | None, to_ms: int | None, now_ms: int) -> Period:
        """The period a request names; the defaults: the PERIOD_MS_DEFAULT before ``to_ms``,
        which defaults to now. Refuses ``invalid_period`` and ``period_too_large``."""
        end = now_ms if to_ms is None else to_ms
        start = max(0, end - PERIOD_MS_DEFAULT) if from_ms is None else from_ms
        if start < 0 or start >= end:
            raise IntegrityRefused("invalid_period", "a period needs 0 <= from_ms < to_ms")
        if end - start > PERIOD_MS_MAX:
            raise IntegrityRefused(
                "period_too_large", f"a period is at most {PERIOD_MS_MAX // DAY_MS} days"
            )
        return Period(start, end)


@final
@dataclass(frozen=True, slots=True)
class FlagName:
    """What a flag id names: ``dumping:{asset}:{giver}:{receiver}`` or
    ``collusion:{asset}:{low}:{high}``."""

    kind: FlagKind
    asset: str
    first: int
    second: int


def parse_flag_id(flag_id: str) -> FlagName:
    found = _FLAG_ID.match(flag_id) if len(flag_id) <= FLAG_ID_CHARS_MAX else None
    if found is None:
        raise IntegrityRefused(
            "invalid_flag_id",
            "a flag id is dumping:{asset}:{giver}:{receiver} or collusion:{asset}:{low}:{high}",
        )
    kind, asset, first, second = found.groups()
    a, b = int(first), int(second)
    if a == b or (kind == "collusion" and a > b):
        raise IntegrityRefused("invalid_flag_id", "a collusion flag names the lower id first")
    return FlagName("dumping" if kind == "dumping" else "collusion", asset, a, b)


async def _hands(store: Store, period: Period) -> list[SeatedHand]:
    total = await store.run(partial(count_hands, period.from_ms, period.to_ms), read_only=True)
    if total > HANDS_SCANNED_MAX:
        raise IntegrityRefused(
            "period_too_large",
            f"{total} hands in the period; a report reads at most {HANDS_SCANNED_MAX}",
        )
    found: list[SeatedHand] = []
    after = 0
    while True:
        page = await store.run(
            partial(hands_page, period.from_ms, period.to_ms, after), read_only=True
        )
        found.extend(
            SeatedHand(
                hand_id=h.hand_id,
                table_id=h.table_id,
                game=h.game,
                asset=h.asset,
                ended_at_ms=h.ended_at_ms,
                players=tuple(SeatedPlayer(p.player_id, p.net) for p in h.players),
            )
            for h in page
        )
        if len(found) > HANDS_SCANNED_MAX:  # hands landed since the count
            raise IntegrityRefused("period_too_large", f"over {HANDS_SCANNED_MAX} hands")
        if len(page) < HANDS_PAGE_ROWS:
            return found
        after = page[-1].seq


async def _with_patterns(store: Store, flag: DumpingFlag) -> DumpingFlag:
    """The flag's listed hands with their patterns, from their stored histories."""
    ids = [hand.hand_id for hand in flag.hands]
    texts: dict[str, str] = {}
    for start in range(0, len(ids), PHH_PAGE_ROWS):
        chunk = ids[start : start + PHH_PAGE_ROWS]
        texts.update(await store.run(partial(histories, chunk), read_only=True))
    found: dict[str, tuple[str, ...]] = {}
    for hand in flag.hands:
        text = texts.get(hand.hand_id)
        if text is None or hand.chips == 0:
            continue
        try:
            history = phh.loads(text)
        except phh.PhhError:
            continue  # an unreadable history shows no patterns; the flag stands on the flows
        # What the giver paid in this hand, in big blinds (negative: she was paid).
        paid = Fraction(hand.chips, big_blind_of(hand.game))
        found[hand.hand_id] = dumping_patterns(history, flag.giver, flag.receiver, paid)
    return with_patterns(flag, found)


def _without_hands(flag: DumpingFlag) -> DumpingFlag:
    return msgspec.structs.replace(flag, hands=())


async def dumping_report(
    store: Store,
    period: Period,
    thresholds: DumpingThresholds | None = None,
    *,
    list_hands: bool = False,
) -> DumpingReport:
    """The chip-dumping flags of the period. ``list_hands``: each flag with its hands and
    their patterns (reads their histories); else the figures only (a list page)."""
    report = find_dumping(await _hands(store, period), thresholds)
    if not list_hands:
        return msgspec.structs.replace(report, flags=tuple(_without_hands(f) for f in report.flags))
    flags = [await _with_patterns(store, flag) for flag in report.flags]
    return msgspec.structs.replace(report, flags=tuple(flags))


def _without_hand_ids(signal: CollusionSignal) -> CollusionSignal:
    return msgspec.structs.replace(signal, hand_ids=())


async def collusion_report(
    store: Store,
    period: Period,
    thresholds: CollusionThresholds | None = None,
    *,
    list_hands: bool = False,
) -> CollusionReport:
    report = find_collusion(await _hands(store, period), thresholds)
    if list_hands:
        return report
    return msgspec.structs.replace(
        report, signals=tuple(_without_hand_ids(s) for s in report.signals)
    )


async def find_flag(
    store: Store, name: FlagName, period: Period
) -> DumpingFlag | CollusionSignal | None:
    """The flag (with its hands, and a dumping flag's patterns) if the period's report raises
    it with the default thresholds; None when it does not."""
    if name.kind == "dumping":
        hands = await _hands(store, period)
        wanted = f"dumping:{name.asset}:{name.first}:{name.second}"
        for flag in find_dumping(hands).flags:
            if flag.flag_id == wanted:
                return await _with_patterns(store, flag)
        return None
    wanted = f"collusion:{name.asset}:{name.first}:{name.second}"
    for signal in find_collusion(await _hands(store, period)).signals:
        if signal.flag_id == wanted:
            return signal
    return None


async def reviews_of(store: Store, flag_ids: list[str]) -> dict[str, Review]:
    found: dict[str, Review] = {}
    for start in range(0, len(flag_ids), 1_000):
        chunk = flag_ids[start : start + 1_000]
        found.update(await store.run(partial(reviews, chunk), read_only=True))
    return found


async def review_of(store: Store, flag_id: str) -> Review | None:
    return await store.run(partial(get_review, flag_id), read_only=True)


async def review_flag(
    store: Store,
    name: FlagName,
    flag_id: str,
    status: ReviewStatus,
    stamp: AuditStamp,
    *,
    ban_player_id: int | None = None,
) -> tuple[Review, Account | None]:
    """Record staff's decision on a raised flag (and a ban), audited in one transaction.
    Refuses ``player_not_in_flag`` for a ban of someone the flag does not name; the store's
    refusals (ReviewRefused) pass through."""
    if ban_player_id is not None and ban_player_id not in (name.first, name.second):
        raise IntegrityRefused(
            "player_not_in_flag", f"flag {flag_id} names players {name.first} and {name.second}"
        )
    change = partial(
        review_change, flag_id, name.kind, status, stamp.reason, stamp.subject,
        store.clock_ms(), ban_player_id,
    )  # fmt: skip
    result, _ = await store.run_audited(stamp, change)
    return result
