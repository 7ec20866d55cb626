"""Rakeback periods: UTC days or ISO weeks (Monday to Monday), named by their first day.

A period's id is ``day:YYYY-MM-DD`` or ``week:YYYY-MM-DD`` (the Monday that starts it); it
covers the hands that *ended* in ``[start_ms, end_ms)``. Ids are compared as periods, never
as text: ``previous`` and ``following`` step by one period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal, final

PeriodKind = Literal["day", "week"]
PERIOD_KINDS: Final = ("day", "week")
DAY_MS: Final = 86_400_000
_EPOCH: Final = date(1970, 1, 1)
_ID: Final = re.compile(r"^(day|week):(\d{4})-(\d{2})-(\d{2})$")
PERIOD_ID_CHARS_MAX: Final = 15  # "week:2026-11-30"


class InvalidPeriodId(ValueError):
    """A period id that is malformed, names no real date, or a week not starting on Monday."""


@final
@dataclass(frozen=True, slots=True, order=True)
class Period:
    kind: PeriodKind
    first_day: int  # days since 1970-01-01 (UTC)

    @property
    def days(self) -> int:
        return 1 if self.kind == "day" else 7

    @property
    def start_ms(self) -> int:
        return self.first_day * DAY_MS

    @property
    def end_ms(self) -> int:
        return (self.first_day + self.days) * DAY_MS

    @property
    def id(self) -> str:
        return f"{self.kind}:{(_EPOCH + timedelta(days=self.first_day)).isoformat()}"

    def previous(self) -> Period:
        return Period(self.kind, self.first_day - self.days)

    def following(self) -> Period:
        return Period(self.kind, self.first_day + self.days)

    def __str__(self) -> str:
        return self.id


def period_containing(kind: PeriodKind, at_ms: int) -> Period:
    """The period of ``kind`` that contains the instant ``at_ms``."""
    day = at_ms // DAY_MS
    if kind == "day":
        return Period("day", day)
    # 1970-01-01 was a Thursday: day 0 is weekday 3 (Monday = 0).
    return Period("week", day - (day + 3) % 7)


def parse_period(text: str) -> Period:
    """A period from its id; raises InvalidPeriodId."""
    match = _ID.match(text)
    if match is None:
        raise InvalidPeriodId(f"a period id is day:YYYY-MM-DD or week:YYYY-MM-DD, not {text!r}")
    kind: PeriodKind = "day" if match.group(1) == "day" else "week"
    try:
        first = date(int(match.group(2)), int(match.group(3)), int(match.group(4)))
    except ValueError:
        raise InvalidPeriodId(f"{text!r} names no date") from None
    if kind == "week" and first.weekday() != 0:
        raise InvalidPeriodId(f"a week starts on a Monday; {first.isoformat()} is not one")
    return Period(kind, (first - _EPOCH).days)
