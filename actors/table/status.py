"""A table's status commands in the pure core: an operator's pause, resume and close, its
owner's hold and release, and the close's end. Functions of the table's core
(actors/table/core.py) that return its effects; which status an event leads to is the
transition table's (actors/table/lifecycle.py). No trio, no I/O.
"""

from __future__ import annotations

from actors.table.core import TableCore
from actors.table.effects import (
    CashOut,
    DealSoon,
    Effects,
    LobbyDrop,
    Persist,
    Seated,
    StopDealing,
    Watching,
)
from actors.table.lifecycle import DEALS, Event, transition
from actors.table.messages import OwnerDeal
from protocol import game


def change_status(core: TableCore, event: Event) -> Effects:
    """Pause, resume, hold or release (the transition table decides); a running hand
    finishes either way."""
    state = core.state
    before = state.lifecycle
    after = transition(before, event)
    if after is before:
        return []
    shown = state.status
    state.enter(after)
    effects: Effects = [] if after in DEALS else [StopDealing()]
    effects.append(Persist())
    if state.status != shown:
        body = game.TableStatusChanged(table_id=core.table_id, status=state.status)
        effects.append(core.broadcast(body))
    return [*effects, DealSoon()]


def release(core: TableCore, deal: OwnerDeal | None) -> Effects:
    """The owner's release; ``deal``, its plan of the next hand, replaces any earlier one
    (None: the table plans it)."""
    core.state.owner_deal = deal
    return change_status(core, Event.RELEASE)


def close(core: TableCore) -> Effects:
    """An operator's close: no new seat or hand; it finishes once no hand runs."""
    state = core.state
    effects: Effects = []
    if not state.closing:
        state.enter(transition(state.lifecycle, Event.CLOSE))
        closing = game.TableStatusChanged(table_id=core.table_id, status="closing")
        effects += [StopDealing(), Persist(), core.broadcast(closing), LobbyDrop()]
    return effects


def finish_close(core: TableCore) -> Effects:
    """Everyone stands up, cashed out; nobody waits or watches any more. The shell then
    pays (the bankroll's settle), forgets the table in the store and stops for good."""
    state = core.state
    assert state.running is None, "a table closes between hands"
    closed = game.TableStatusChanged(table_id=core.table_id, status="closed")
    effects: Effects = [core.broadcast(closed)]
    for seat in list(state.seats):
        record = state.seats.pop(seat)
        amount = record.stack + record.pending_top_up
        effects += [CashOut(record.player_id, amount), Seated(record.player_id, on=False)]
        effects.append(core.show(seat))
    effects += [Watching(player_id, on=False) for player_id in state.watchers]
    state.watchers.clear()
    state.wait_list.clear()
    return effects
