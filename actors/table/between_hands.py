"""The end of a hand at a table, in the pure core: the result's stacks and time banks, a
voided hand, the owner's report, and what happens between hands (top-ups land, those who
stood up during the hand leave, a busted player sits out, a close finishes, the next hand is
due). Functions of the table's core (actors/table/core.py): they return its effects.
"""

from __future__ import annotations

from collections.abc import Sequence

from actors.table.core import TableCore
from actors.table.effects import (
    Announce,
    CloseSoon,
    CommitDeal,
    DealSoon,
    Effects,
    Persist,
    TellOwner,
)
from actors.table.lifecycle import Event, transition
from actors.table.messages import TableHandEnded
from actors.table.state import STATS_HANDS_MAX
from poker import HandResult
from protocol import game


def hand_finished(
    core: TableCore,
    result: HandResult,
    time_banks_ms: Sequence[tuple[int, int]],
    timed_out: Sequence[int],
    now_ms: int,
) -> Effects:
    """The running hand's result: stacks, time banks, who timed out. Then what happens
    between hands (:func:`after_hand`)."""
    state, config = core.state, core.config
    running = state.running
    assert running is not None, "a result for no running hand"
    for seat in result.seats:
        state.seats[seat].stack = result.stack_of(seat)
    for seat, bank_ms in time_banks_ms:
        refill = config.time_bank_refill_ms
        state.seats[seat].time_bank_ms = min(config.time_bank_max_ms, bank_ms + refill)
    for seat in timed_out:
        state.seats[seat].sitting_out = True  # silent: sat out until they return
        state.seats[seat].post_to_enter = False
    state.running = None
    state.hands_played += 1
    state.recent_pots.append((now_ms, sum(p.amount for p in result.pots)))
    del state.recent_pots[:-STATS_HANDS_MAX]
    return _hand_over(core, running.hand_number, result, now_ms, core.config.owner is not None)


def hand_voided(core: TableCore, now_ms: int) -> Effects:
    """The running hand died with the table (a restart): stacks are those it started
    with, since they change only when a hand ends; escrow was never touched either."""
    running = core.state.running
    assert running is not None, "no hand to void"
    core.state.running = None
    voided = game.HandVoided(
        table_id=core.table_id,
        hand_number=running.hand_number,
        seats=running.seats,
        stacks=tuple(core.state.seats[s].stack for s in running.seats),
    )
    report = core.config.bankroll == "tournament"  # the owner decides the next hand
    return [
        core.broadcast(voided),
        *_hand_over(core, running.hand_number, None, now_ms, report),
    ]


def _hand_over(
    core: TableCore, hand_number: int, result: HandResult | None, now_ms: int, report: bool
) -> Effects:
    effects: Effects = []
    if core.config.bankroll == "tournament":  # its owner deals each hand (Release)
        core.state.enter(transition(core.state.lifecycle, Event.HOLD))
    if report:
        effects.append(TellOwner(owner_report(core, hand_number, result)))
    return effects + after_hand(core, now_ms)


def owner_report(core: TableCore, hand_number: int, result: HandResult | None) -> TableHandEnded:
    """The stacks after the hand and who reached zero (a tournament's eliminations)."""
    seats = sorted(core.state.seats.items())
    stacks = tuple((r.player_id, r.stack + r.pending_top_up) for _, r in seats)
    busted = tuple(player for player, stack in stacks if stack == 0)
    return TableHandEnded(
        table_id=core.table_id,
        hand_number=hand_number,
        stacks=stacks,
        busted=busted,
        result=result,
    )


def after_hand(core: TableCore, now_ms: int) -> Effects:
    """Between hands: top-ups bought during the hand land, those who stood up during it
    leave, a busted player sits out; then a close finishes, or the next hand is due."""
    effects: Effects = []
    for seat, record in list(core.state.seats.items()):
        record.stack += record.pending_top_up
        record.pending_top_up = 0
        if record.leaving:
            effects += core.release(seat, now_ms)[1]
            continue
        if record.stack == 0:
            record.sitting_out = True  # busted: top up, then sit in
        effects.append(core.show(seat))
    effects.append(Persist())
    if core.state.closing:
        return [*effects, CloseSoon()]
    return [*effects, Announce(), CommitDeal(), DealSoon()]
