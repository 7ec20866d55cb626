"""Typed errors of the tournament core, split by fault (STYLE.md point 8).

``TournamentRefused`` and its subclasses are the caller's fault (a director's bad structure,
a player's late registration, a deal not everyone agreed to): nothing changed, and ``code``
is the stable code the live system shows. ``TournamentInvariantBroken`` is our own bug (chips
not conserved, a table with two players in one seat): let it crash the actor.
"""

from __future__ import annotations

from typing import ClassVar, final


class TournamentError(Exception):
    """Base of every error this package raises on purpose."""


class TournamentRefused(TournamentError, ValueError):
    """The request is not allowed now. The tournament did not change."""

    code: ClassVar[str] = "tournament_refused"


@final
class StructureInvalid(TournamentRefused):
    """A structure (levels, breaks, registration, rebuys) or a config that cannot be run."""

    code = "structure_invalid"


@final
class PayoutInvalid(TournamentRefused):
    """A payout config that cannot be paid (shares not summing to 100%, ...)."""

    code = "payout_invalid"


@final
class RegistrationRefused(TournamentRefused):
    """Registration closed, entries used up, already playing, unknown entry, ..."""

    code = "registration_refused"


@final
class RebuyRefused(TournamentRefused):
    code = "rebuy_refused"


@final
class AddOnRefused(TournamentRefused):
    code = "addon_refused"


@final
class DealRefused(TournamentRefused):
    """Not at the final table, not between hands, or not every remaining player agreed."""

    code = "deal_refused"


@final
class TableRefused(TournamentRefused):
    """A table asked to deal or report a hand out of turn (unknown table, not in a hand)."""

    code = "table_refused"


@final
class TournamentInvariantBroken(TournamentError, AssertionError):
    """Our own bug: chips created or lost, a seat held twice. Crash the actor."""
