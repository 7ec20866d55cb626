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
