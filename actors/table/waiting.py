"""Who waits for a seat at a table and who watches it, in the pure core: functions of the
table's core (actors/table/core.py) that check a command (a refusal raises ``GameRefused``
and changes nothing), change the state and return its effects. No trio, no I/O.

Bounds: ``config.wait_list_max`` players wait (overflow: ``wait_list_full``) and
``config.watchers_max`` watch (overflow: ``watchers_full``). A seated player neither waits
nor watches (sitting down takes her off both, core.py ``funded``); the first player waiting
is held a seat that empties (core.py ``release``).
"""

from __future__ import annotations

from actors.table.core import TableCore
from actors.table.effects import Announce, Effects, SendTable, WaitStarted, Watching
from actors.table.messages import GameRefused


def join_wait_list(core: TableCore, player_id: int) -> Effects:
    state, config = core.state, core.config
    if config.bankroll == "tournament":
        # Its tournament seats the players: a seat held for someone waiting was refused to
        # the tournament's next move there (seat_taken).
        raise GameRefused("not_a_cash_table", "a tournament seats its players itself")
    if core.find_seat(player_id) is not None:
        raise GameRefused("already_seated", f"already seated at {core.table_id}")
    if player_id in state.wait_list:
        return []
    if len(state.wait_list) >= config.wait_list_max:
        raise GameRefused("wait_list_full", f"{config.wait_list_max} already waiting")
    state.wait_list.append(player_id)
    return [WaitStarted(player_id), Announce()]


def leave_wait_list(core: TableCore, player_id: int) -> Effects:
    if player_id not in core.state.wait_list:
        return []
    core.state.wait_list.remove(player_id)
    return [Announce()]


def watch(core: TableCore, player_id: int) -> Effects:
    """She watches (she sees the table at once, and every broadcast after the seated)."""
    state, config = core.state, core.config
    effects: Effects = []
    if player_id not in state.watchers:
        if len(state.watchers) >= config.watchers_max:
            raise GameRefused("watchers_full", f"{config.watchers_max} already watching")
        state.watchers.append(player_id)
        effects.append(Watching(player_id, on=True))
    return [*effects, SendTable(player_id)]


def unwatch(core: TableCore, player_id: int) -> Effects:
    if player_id not in core.state.watchers:
        return []
    core.state.watchers.remove(player_id)
    return [Watching(player_id, on=False)]
