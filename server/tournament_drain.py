"""A draining node's tournaments (docs/scaling.md, "Draining a node"): what server/
cluster_drain.py's NodeDrain does to move one tournament, beside what it does for a cash
table.

A tournament deals each hand at each of its tables only when its actor releases the table
(actors/tournament_tables.py), so holding it is one message to it: ``HoldForDrain``. It
releases no table any more; once no hand runs at any of its tables (their reports stored
as steps), it stores one more step with its play time as it stands and stops its clock.
The drain then stops the actor and its tables here, releases the tournament's lease and
asks another node to open it from that step (``RouteOpen`` of ``tournament:<id>``, which
server/cluster_tournaments.py's ``open_here`` answers: the lease, a new fencing epoch, and
the same opening as a restart). The level clock goes on there from the stored play time:
it lost nothing, and stood still only for the move.

Past the drain's bound the step is stored at once (``HoldForDrain(now=True)``) and the
tournament moves with its hands running: the next node voids them (chips back in the
stacks), as after a crash.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Final

import structlog
import trio

from actors.errors import TargetError
from actors.table.messages import GetSeats, TableSeats
from actors.tournament_messages import DrainHold, HoldForDrain, TournamentRefusal
from server.tournament_leases import UNFINISHED, tournament_table_names

if TYPE_CHECKING:
    from actors.runtime import Registry

log = structlog.get_logger("tablium.drain")

ASK_TIMEOUT_S: Final = 5.0  # a tournament answers after the step it may be storing
POLL_S: Final = 0.05  # how often a held tournament is asked whether its hands have ended


async def hold_until_stored(
    registry: Registry, name: str, *, now: bool = False
) -> DrainHold | None:
    """Hold the tournament ``name`` (``tournament:<id>``) for the drain and wait until its
    step is stored for the move (no hand runs at its tables, or ``now``), or it is over.
    None: it does not run here (stopped meanwhile, or fenced off by another node)."""
    while True:
        ref = registry.lookup(name)
        if ref is None:
            return None
        try:
            hold = await ref.ask(HoldForDrain(now=now), timeout_s=ASK_TIMEOUT_S)
        except TournamentRefusal:
            return None  # stopping here: another node owns it
        except TargetError:
            # Slow, or crashed and restarted from its stored step (held again by the next
            # ask); the drain's bound still applies.
            await trio.sleep(POLL_S)
            continue
        assert isinstance(hold, DrainHold)
        if hold.stored or hold.state not in UNFINISHED:
            return hold
        await trio.sleep(POLL_S)


async def players_at_tables(registry: Registry, number: int) -> set[int]:
    """The players seated at or watching the tournament's tables here: their sessions may
    close once it moved."""
    players: set[int] = set()
    for table in tournament_table_names(registry, number):
        ref = registry.lookup(table)
        if ref is None:
            continue
        with contextlib.suppress(TargetError):
            seats = await ref.ask(GetSeats(), timeout_s=ASK_TIMEOUT_S)
            if isinstance(seats, TableSeats):
                players.update(seat.player_id for seat in seats.seats)
                players.update(seats.watchers)
    return players
