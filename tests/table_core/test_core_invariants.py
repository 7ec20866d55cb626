"""Random command sequences against the table's pure core: after every command the seating
invariants hold and every chip that came in is in a stack or went out in a cash-out."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from actors.table import effects as fx
from actors.table import status, waiting
from actors.table.between_hands import after_hand
from actors.table.core import TableCore
from actors.table.deal import deal_next_hand
from actors.table.lifecycle import Event, InvalidTransition
from actors.table.messages import GameRefused
from actors.table.state import Funding, TableState
from tests.table_core.test_core import config

PLAYERS = st.integers(min_value=1, max_value=8)
COMMANDS = st.one_of(
    st.tuples(st.just("join"), PLAYERS, st.none() | st.integers(0, 3), st.integers(40, 200)),
    st.tuples(st.just("top_up"), PLAYERS, st.integers(-5, 150)),
    st.tuples(st.just("stand_up"), PLAYERS),
    st.tuples(st.just("gone"), PLAYERS),
    st.tuples(st.just("sit_out"), PLAYERS),
    st.tuples(st.just("sit_in"), PLAYERS, st.booleans()),
    st.tuples(st.just("wait"), PLAYERS),
    st.tuples(st.just("leave_wait"), PLAYERS),
    st.tuples(st.just("watch"), PLAYERS),
    st.tuples(st.just("unwatch"), PLAYERS),
    st.tuples(
        st.just("status"), st.sampled_from([e for e in Event if e is not Event.FINISH_CLOSE])
    ),
    st.tuples(st.just("deal")),
    st.tuples(st.just("hand_over"), st.randoms(use_true_random=False)),
)


class Model:
    """The core plus what went in and out of it."""

    def __init__(self) -> None:
        self.core = TableCore(TableState(config=config(seats=4), epoch=1))
        self.now_ms = 1_000_000
        self.came_in = 0
        self.went_out = 0
        self.keys = 0

    def run(self, effects: fx.Effects) -> None:
        for effect in effects:
            if isinstance(effect, fx.CashOut):
                self.went_out += effect.amount

    def fund(self, kind: str, player_id: int, seat: int, amount: int) -> None:
        self.keys += 1
        self.run(self.core.funded(Funding(f"k{self.keys}", kind, player_id, seat, amount)))
        self.came_in += amount

    def apply(self, command: tuple[Any, ...]) -> None:
        core, now_ms = self.core, self.now_ms
        match command:
            case ("join", player_id, wanted, amount):
                seat, already = core.seat_for_join(player_id, wanted, now_ms)
                if not already:
                    self.fund("buy_in", player_id, seat, amount)
            case ("top_up", player_id, amount):
                seat = core.top_up_allowed(player_id, amount)
                self.fund("top_up", player_id, seat, amount)
            case ("stand_up", player_id):
                self.run(core.stand_up(player_id, now_ms)[1])
            case ("gone", player_id):
                self.run(core.gone(player_id, now_ms)[1])
            case ("sit_out", player_id):
                self.run(core.sit_out(player_id))
            case ("sit_in", player_id, post_now):
                self.run(core.sit_in(player_id, post_now))
            case ("wait", player_id):
                self.run(waiting.join_wait_list(core, player_id))
            case ("leave_wait", player_id):
                self.run(waiting.leave_wait_list(core, player_id))
            case ("watch", player_id):
                self.run(waiting.watch(core, player_id))
            case ("unwatch", player_id):
                self.run(waiting.unwatch(core, player_id))
            case ("status", event):
                self.run(status.change_status(core, event))
            case ("deal",):
                if core.ready_to_deal():
                    deal_next_hand(core.state, now_ms, core.config.hand_config())
            case ("hand_over", rng):
                running = core.state.running
                if running is not None:  # chips change hands among the dealt, none vanish
                    seats = list(running.seats)
                    total = sum(core.state.seats[s].stack for s in seats)
                    cuts = sorted(rng.randint(0, total) for _ in seats[1:])
                    shares = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
                    for seat, share in zip(seats, shares, strict=True):
                        core.state.seats[seat].stack = share
                    core.state.running = None
                    self.run(after_hand(core, now_ms))
        self.now_ms += 1_000

    def check(self) -> None:
        state = self.core.state
        players = [r.player_id for r in state.seats.values()]
        assert len(players) == len(set(players)), "a player holds two seats"
        assert all(0 <= seat < state.config.seats for seat in state.seats)
        assert len(set(state.wait_list)) == len(state.wait_list) <= state.config.wait_list_max
        assert not set(state.wait_list) & set(players), "a seated player waits"
        assert len(set(state.watchers)) == len(state.watchers) <= state.config.watchers_max
        assert not set(state.holds) & set(state.seats), "a hold on a taken seat"
        assert not (state.paused and state.held)
        if state.running is not None:
            assert set(state.running.seats) <= set(state.seats)
        at_table = sum(r.stack + r.pending_top_up for r in state.seats.values())
        assert all(r.stack >= 0 and r.pending_top_up >= 0 for r in state.seats.values())
        assert self.came_in == at_table + self.went_out, "chips appeared or vanished"


@settings(max_examples=300, deadline=None)
@given(st.lists(COMMANDS, min_size=20, max_size=80))
def test_random_commands_keep_the_seating_invariants_and_every_chip(commands: list[Any]) -> None:
    model = Model()
    for command in commands:
        with contextlib.suppress(GameRefused, InvalidTransition):  # refusals: invariants hold
            model.apply(command)
        model.check()
