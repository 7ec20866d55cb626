"""What the table's core asks its shell to do: effects as values, run in the order given.

The core (actors/table/core.py) decides and returns a list of these; the actor shell
(actors/table/actor.py ``_run``) performs them: persist, push, tell, pay, schedule. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

from actors.table.messages import HandMessage, TableHandEnded
from protocol import game


@final
@dataclass(frozen=True, slots=True)
class Persist:
    """Hand the state to the snapshot writer (it is durable soon, not now)."""


@final
@dataclass(frozen=True, slots=True)
class ShowSeat:
    """Tell ``to`` the seat's view (``seat_changed``). The audience is fixed when the core
    decides, so a player who leaves later in the same command still hears of earlier seats."""

    seat: int
    to: tuple[int, ...]


@final
@dataclass(frozen=True, slots=True)
class Push:
    """A wire body for one player."""

    player_id: int
    body: game.GamePush


@final
@dataclass(frozen=True, slots=True)
class Broadcast:
    """A wire body for ``to``: everyone at the table (seated players, then watchers) when
    the core decided."""

    body: game.GamePush
    to: tuple[int, ...]


@final
@dataclass(frozen=True, slots=True)
class SendTable:
    """The whole table as the player may see it (``table_snapshot``: live hand included)."""

    player_id: int


@final
@dataclass(frozen=True, slots=True)
class Announce:
    """The lobby's listing of the table changed."""


@final
@dataclass(frozen=True, slots=True)
class DealSoon:
    """Start the next hand after ``between_hands_ms`` if two can play (``ready_to_deal``)."""


@final
@dataclass(frozen=True, slots=True)
class StopDealing:
    """Cancel a start already scheduled."""


@final
@dataclass(frozen=True, slots=True)
class CashOut:
    """``amount`` left the stacks for the player: the bankroll's cash-out (0 at a cash table
    still uses up a seat event, so keys never repeat)."""

    player_id: int
    amount: int


@final
@dataclass(frozen=True, slots=True)
class PayNow:
    """Pay what is owed now (the bankroll's settle), before the reply."""


@final
@dataclass(frozen=True, slots=True)
class Seated:
    """The player sat down at (``on``) or left the table: her sessions are told (the tables
    they know her at: actors/table/player_tables.py); on leaving the shell also forgets her
    client address."""

    player_id: int
    on: bool


@final
@dataclass(frozen=True, slots=True)
class Watching:
    """The player started (``on``) or stopped watching: her sessions are told."""

    player_id: int
    on: bool


@final
@dataclass(frozen=True, slots=True)
class WaitStarted:
    """The player joined the wait list: the shell notes when, for its analytics."""

    player_id: int


@final
@dataclass(frozen=True, slots=True)
class CommitDeal:
    """Draw the next hand's server seed and tell its commitment (actors/table/fairness.py)."""


@final
@dataclass(frozen=True, slots=True)
class WaitEnded:
    """The player got a seat here: how long she waited for it is the shell's analytics."""

    player_id: int


@final
@dataclass(frozen=True, slots=True)
class TellHand:
    """A message for the running hand (nobody answers for a seat; a seat's connection)."""

    message: HandMessage


@final
@dataclass(frozen=True, slots=True)
class TellOwner:
    """The owner's report after a hand (a tournament's table)."""

    report: TableHandEnded


@final
@dataclass(frozen=True, slots=True)
class LobbyDrop:
    """The lobby drops the listing: no quick-seat lands here any more."""


@final
@dataclass(frozen=True, slots=True)
class CloseSoon:
    """No hand runs: finish the close in a message of its own (``FinishClose``)."""


Effect = (
    Persist
    | ShowSeat
    | Push
    | Broadcast
    | SendTable
    | Announce
    | DealSoon
    | StopDealing
    | CashOut
    | PayNow
    | Seated
    | Watching
    | WaitStarted
    | WaitEnded
    | CommitDeal
    | TellHand
    | TellOwner
    | LobbyDrop
    | CloseSoon
)
Effects = list[Effect]
