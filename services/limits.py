"""Responsible gaming, pure: the limits a player sets on herself, cool-off and self-exclusion.

No I/O here. The wallet service reads a player's stored ``PlayerRules`` under a row lock, lets
these functions decide, and stores what they return (persistence/ledger.py ``change_rules``);
a refusal raises a :class:`services.ledger.WalletError` with a stable code and changes nothing.

The rules (those of regulated markets, e.g. the UK Gambling Commission's):

- **Limits** (``persistence.ledger.PlayerLimits``): deposits and losses per day, per 7 days and
  per 30 days, one table buy-in, and a session's play time. *Lowering* a limit (or setting one
  where there was none) takes effect at once; *raising* it (or removing it) only after
  ``RAISE_WAIT_MS`` (24 hours): the raise waits in ``PlayerRules.pending`` and is in force
  from then on. A second, different raise of a limit whose raise is waiting is refused
  (``limit_raise_pending``, with the time left); the same raise again is a retry and changes
  nothing; lowering the limit meanwhile cancels the waiting raise.
- **Cool-off**: 1 to 42 days (24 hours to 6 weeks) without real-money play.
- **Self-exclusion**: 183 days (6 months) to 10 years. Neither can be shortened or lifted:
  while one is in force a new one must end later (a cool-off may become a self-exclusion, not
  the other way round), else ``exclusion_cannot_be_shortened``.
- While either is in force the player may not deposit, buy in at a real-money table, enter a
  real-money tournament or receive a transfer (``self_excluded`` / ``cooling_off``; the
  ledger's rules refuse the transfers, services/ledger.py); she may still withdraw and play
  for play money.
- **Session time**: a session may play real money for ``session_minutes_max`` minutes from its
  login; after that, joining a real-money table is refused (``session_time_limit_reached``).

Staff can read all of it (the admin API) and cannot change it: no route writes these rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, final

import msgspec

from persistence.ledger import (
    DAY_MS,
    LIMIT_NAMES,
    DailyTotals,
    Exclusion,
    ExclusionKind,
    PendingRaise,
    PlayerLimits,
    PlayerRules,
    PlayerState,
)
from protocol.limits import CHIPS_MAX
from services.ledger import InvalidAmount, WalletError, exclusion_error

RAISE_WAIT_MS: Final = DAY_MS  # a raised (or removed) limit is in force after this long
COOL_OFF_DAYS: Final = (1, 42)  # 24 hours to 6 weeks
SELF_EXCLUSION_DAYS: Final = (183, 3653)  # 6 months to 10 years
LIMIT_VALUE_MAX: Final = CHIPS_MAX  # the ledger's largest amount
SESSION_MINUTES: Final = (1, 24 * 60)  # a session limit is 1 minute to 24 hours


@final
class LimitRaisePending(WalletError):
    """A different raise of a limit whose raise is still waiting its 24 hours."""

    code = "limit_raise_pending"

    def __init__(self, limit: str, waiting: PendingRaise, now_ms: int) -> None:
        super().__init__(
            f"a raise of {limit} to {waiting.value} is waiting until {waiting.effective_at_ms};"
            " lower the limit, or ask again after that"
        )
        self.limit = limit
        self.retry_after_ms = max(1, waiting.effective_at_ms - now_ms)


@final
class ExclusionCannotBeShortened(WalletError):
    code = "exclusion_cannot_be_shortened"


@final
class InvalidExclusion(WalletError):
    """A cool-off or self-exclusion of a length outside its bounds."""

    code = "invalid_exclusion"


@final
class SessionTimeLimitReached(WalletError):
    code = "session_time_limit_reached"


@final
class LimitsView(msgspec.Struct, frozen=True):
    """A player's limits as she and staff see them."""

    limits: PlayerLimits  # in force now
    pending: dict[str, PendingRaise]  # raises waiting for their time
    exclusion: Exclusion | None  # in force now
    today: DailyTotals
    week: DailyTotals  # the last 7 UTC days
    month: DailyTotals  # the last 30 UTC days
    updated_at_ms: int  # 0: never set


def settled(rules: PlayerRules, now_ms: int) -> PlayerRules:
    """The same rules with every raise whose time has come moved into the limits."""
    due = [name for name, p in rules.pending.items() if p.effective_at_ms <= now_ms]
    if not due:
        return rules
    pending = {name: p for name, p in rules.pending.items() if name not in due}
    return msgspec.structs.replace(rules, limits=rules.effective(now_ms), pending=pending)


def change_limits(
    rules: PlayerRules, changes: Mapping[str, int | None], now_ms: int
) -> PlayerRules:
    """Apply a player's limit changes (``None``: remove the limit): lowerings at once,
    raises after RAISE_WAIT_MS. Refuses the whole request (raises) on any bad change."""
    rules = settled(rules, now_ms)
    limits: dict[str, int | None] = msgspec.structs.asdict(rules.limits)
    pending = dict(rules.pending)
    for name, value in changes.items():
        _check_value(name, value)
        current = limits[name]
        if value == current:
            pending.pop(name, None)  # keep the limit as it is: a waiting raise is dropped
        elif value is not None and (current is None or value < current):
            limits[name] = value  # lowering: at once
            pending.pop(name, None)
        else:
            waiting = pending.get(name)
            if waiting is not None and waiting.value != value:
                raise LimitRaisePending(name, waiting, now_ms)
            if waiting is None:
                pending[name] = PendingRaise(value, now_ms + RAISE_WAIT_MS)
    return msgspec.structs.replace(rules, limits=PlayerLimits(**limits), pending=pending)


def _check_value(name: str, value: int | None) -> None:
    if name not in LIMIT_NAMES:
        raise ValueError(f"no limit named {name!r}")
    if value is None:
        return
    low, high = SESSION_MINUTES if name == "session_minutes_max" else (0, LIMIT_VALUE_MAX)
    if type(value) is not int or not low <= value <= high:
        raise InvalidAmount(f"{name} must be an integer in {low}..{high} or None, got {value!r}")


def exclude(rules: PlayerRules, kind: ExclusionKind, days: int, now_ms: int) -> PlayerRules:
    """Start (or extend) a cool-off or self-exclusion of ``days`` from now."""
    low, high = COOL_OFF_DAYS if kind == "cool_off" else SELF_EXCLUSION_DAYS
    if type(days) is not int or not low <= days <= high:
        raise InvalidExclusion(f"a {kind.replace('_', '-')} lasts {low} to {high} days, not {days}")
    until_ms = now_ms + days * DAY_MS
    current = rules.excluded(now_ms)
    since_ms = now_ms
    if current is not None:
        if until_ms < current.until_ms or (current.kind == "self_exclusion" and kind == "cool_off"):
            raise ExclusionCannotBeShortened(
                f"a {current.kind.replace('_', '-')} is in force until {current.until_ms};"
                " it can be extended, not shortened or lifted"
            )
        since_ms = current.since_ms
    return msgspec.structs.replace(rules, exclusion=Exclusion(kind, since_ms, until_ms))


def view(rules: PlayerRules | None, state: PlayerState, now_ms: int) -> LimitsView:
    found = settled(rules or PlayerRules(), now_ms)
    return LimitsView(
        limits=found.limits, pending=found.pending, exclusion=found.excluded(now_ms),
        today=state.today, week=state.week, month=state.month,
        updated_at_ms=found.updated_at_ms,
    )  # fmt: skip


def check_may_play_real_money(
    player_id: int, rules: PlayerRules | None, now_ms: int, session_started_ms: int | None
) -> None:
    """Refuse a real-money seat or tournament entry: an exclusion in force
    (``self_excluded`` / ``cooling_off``) or a session past its time limit
    (``session_time_limit_reached``). ``session_started_ms``: the session's login (None: no
    session, e.g. the public API, and no session limit applies)."""
    if rules is None:
        return
    exclusion = rules.excluded(now_ms)
    if exclusion is not None:
        raise exclusion_error(player_id, exclusion)
    minutes = rules.effective(now_ms).session_minutes_max
    if minutes is not None and session_started_ms is not None:
        ends_ms = session_started_ms + minutes * 60_000
        if now_ms >= ends_ms:
            raise SessionTimeLimitReached(
                f"this session has played its {minutes} minutes; log in again later"
            )
