"""Typed errors, split by fault (STYLE.md point 8).

``IllegalAction`` and its subclasses are the caller's (the player's) fault: the hand is
unchanged and the actor turns ``code`` into an error frame. ``InvalidSetup`` is the table's
fault when building a hand. ``EngineInvariantBroken`` is our own bug: let it crash the actor.
"""

from __future__ import annotations

from typing import ClassVar, final


class PokerError(Exception):
    """Base of every error this package raises on purpose."""


class IllegalAction(PokerError):
    """The action is not allowed now. The hand did not change."""

    code: ClassVar[str] = "illegal_action"


@final
class HandNotStarted(IllegalAction):
    code = "hand_not_started"


@final
class HandAlreadyStarted(IllegalAction):
    code = "hand_already_started"


@final
class HandIsOver(IllegalAction):
    code = "hand_is_over"


@final
class NotYourTurn(IllegalAction):
    code = "not_your_turn"


@final
class UnknownSeat(IllegalAction):
    code = "unknown_seat"


@final
class WrongPhase(IllegalAction):
    """E.g. a bet during the showdown, or a show/muck during betting."""

    code = "wrong_phase"


@final
class CannotFold(IllegalAction):
    """Folding with nothing to call is refused (the player may check for free)."""

    code = "cannot_fold"


@final
class CannotRaise(IllegalAction):
    """Betting was not reopened (WSOP short all-in rule), the raise cap was reached, no
    opponent has chips behind, or the player has no chips beyond the call."""

    code = "cannot_raise"


@final
class AmountTooSmall(IllegalAction):
    code = "amount_too_small"


@final
class AmountTooLarge(IllegalAction):
    code = "amount_too_large"


@final
class AmountNotAllowed(IllegalAction):
    """Fixed limit: the amount is not the one fixed raise (or the all-in)."""

    code = "amount_not_allowed"


@final
class CannotMuck(IllegalAction):
    """The hand is face up (all-in) or mucking would leave a pot with no claimant."""

    code = "cannot_muck"


@final
class AlreadyDecided(IllegalAction):
    code = "already_decided"


class InvalidSetup(PokerError, ValueError):
    """The table built a hand from a bad config, seats, button or deck."""


@final
class DeckExhausted(InvalidSetup):
    """A stacked deck held fewer cards than the deal needed."""


@final
class SnapshotInvalid(PokerError, ValueError):
    """``Hand.restore`` was given bytes that are not a snapshot of this format version."""


@final
class EngineInvariantBroken(PokerError, AssertionError):
    """Our own bug: e.g. chips not conserved. Crash the actor; never show it to a player."""
