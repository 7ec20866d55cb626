"""Typed action records for ``Hand.apply`` (and for PHH replay and the wire)."""

from __future__ import annotations

import msgspec


class Action(msgspec.Struct, frozen=True, tag=True):
    seat: int


class Fold(Action, frozen=True, tag=True):
    pass


class CheckOrCall(Action, frozen=True, tag=True):
    pass


class BetOrRaiseTo(Action, frozen=True, tag=True):
    amount: int  # the total the player's bet becomes on this street


class Show(Action, frozen=True, tag=True):
    pass


class Muck(Action, frozen=True, tag=True):
    pass


class AgreeRunItTwice(Action, frozen=True, tag=True):
    agree: bool


AnyAction = Fold | CheckOrCall | BetOrRaiseTo | Show | Muck | AgreeRunItTwice


class LegalActions(msgspec.Struct, frozen=True, gc=False):
    """What ``seat`` may do now. Amounts are chips; ``None`` means not allowed.

    ``call`` is the chips a call adds (it may be an all-in for less). ``min_raise_to`` and
    ``max_raise_to`` bound ``bet_or_raise_to(amount)``: the total the bet becomes this street
    (fixed limit: both equal the one allowed amount, or the all-in). ``seat`` is -1 when
    nobody is to act. ``gc=False``: numbers only, never in a cycle, cheaper to build (one
    per decision).
    """

    seat: int
    fold: bool = False
    check: bool = False
    call: int | None = None
    min_raise_to: int | None = None
    max_raise_to: int | None = None
    show: bool = False
    muck: bool = False
    run_it_twice: bool = False
