"""The table's pure core, without trio: each command's refusals, state and effects."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from actors.table import effects as fx
from actors.table import status, waiting
from actors.table.between_hands import after_hand
from actors.table.config import TableConfig
from actors.table.core import TableCore
from actors.table.deal import deal_next_hand
from actors.table.lifecycle import Event, InvalidTransition, Status
from actors.table.messages import GameRefused, SeatGone
from actors.table.state import Funding, RunningHand, TableState
from poker import Variant
from protocol import game

NOW_MS = 1_000_000


def config(**overrides: object) -> TableConfig:
    settings: dict[str, object] = {
        "table_id": "c1",
        "name": "Core",
        "variant": Variant.NO_LIMIT_HOLDEM,
        "small_blind": 1,
        "big_blind": 2,
        "seats": 3,
        "wait_list_max": 2,
        "watchers_max": 2,
    }
    settings.update(overrides)
    return TableConfig(**settings)  # type: ignore[arg-type]


def table(**overrides: object) -> TableCore:
    return TableCore(TableState(config=config(**overrides), epoch=1))


def buy_in(core: TableCore, player_id: int, amount: int = 100) -> int:
    seat, already = core.seat_for_join(player_id, None, NOW_MS)
    assert not already
    core.funded(Funding(f"k{player_id}", "buy_in", player_id, seat, amount))
    return seat


def test_the_core_imports_no_trio_no_clock_and_no_io() -> None:
    for module in (
        "core.py",
        "waiting.py",
        "status.py",
        "between_hands.py",
        "effects.py",
        "player_tables.py",
        "lifecycle.py",
        "stakes.py",
        "deal.py",
    ):
        source = Path(__file__).parents[2] / "actors" / "table" / module
        imported: set[str] = set()
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
        forbidden = {"trio", "time", "random", "asyncio", "actors.runtime", "persistence.store"}
        assert not imported & forbidden, (module, imported & forbidden)
        assert not any(m.startswith(("services", "persistence")) for m in imported), module


PURE_MODULES = (
    "core",
    "waiting",
    "status",
    "between_hands",
    "effects",
    "lifecycle",
    "stakes",
    "player_tables",
)


@pytest.mark.parametrize("module", PURE_MODULES)
def test_importing_the_pure_core_loads_no_trio(module: str) -> None:
    """Not only its own imports: nothing it imports, however indirectly, loads trio (a
    package's __init__ that imports its store did, once). A fresh interpreter each."""
    check = f"import sys, actors.table.{module}; assert 'trio' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_buy_in_seats_the_player_and_takes_her_off_the_wait_list() -> None:
    core = table()
    waiting.join_wait_list(core, 7)
    seat, _ = core.seat_for_join(7, None, NOW_MS)
    effects = core.funded(Funding("k", "buy_in", 7, seat, 100))
    assert core.state.seats[seat].stack == 100 and core.state.wait_list == []
    assert effects == [fx.WaitEnded(7), fx.Seated(7, on=True)]


def test_a_second_join_is_refused_unless_the_same_seat_is_asked_again() -> None:
    core = table()
    seat = buy_in(core, 1)
    with pytest.raises(GameRefused) as refused:
        core.seat_for_join(1, None, NOW_MS)
    assert refused.value.code == "already_seated"
    assert core.seat_for_join(1, None, NOW_MS, same_if_seated=True) == (seat, True)


def test_a_full_table_refuses_a_join() -> None:
    core = table()
    for player_id in (1, 2, 3):
        buy_in(core, player_id)
    with pytest.raises(GameRefused) as refused:
        core.seat_for_join(4, None, NOW_MS)
    assert refused.value.code == "table_full"


def test_standing_up_between_hands_cashes_out_and_holds_the_seat_for_the_first_waiting() -> None:
    core = table()
    for player_id in (1, 2, 3):
        buy_in(core, player_id)
    waiting.join_wait_list(core, 9)
    seat = core.seat_of(2)
    cashed, effects = core.stand_up(2, NOW_MS)
    assert cashed == 100
    assert effects[:2] == [fx.CashOut(2, 100), fx.Seated(2, on=False)]
    assert fx.Push(9, game.SeatAvailable(table_id="c1", seat=seat)) in effects
    assert effects[-2:] == [fx.PayNow(), fx.Announce()]
    assert core.state.holds[seat] == (9, NOW_MS + core.config.seat_hold_ms)
    with pytest.raises(GameRefused) as refused:  # held for player 9 meanwhile
        core.seat_for_join(5, seat, NOW_MS)
    assert refused.value.code == "seat_taken"
    assert core.seat_for_join(9, None, NOW_MS) == (seat, False)


def test_standing_up_during_a_hand_leaves_when_it_ends() -> None:
    core = table()
    seats = [buy_in(core, p) for p in (1, 2)]
    core.state.running = RunningHand(1, tuple(seats), (100, 100), NOW_MS)
    cashed, effects = core.stand_up(1, NOW_MS)
    assert cashed is None and core.state.seats[seats[0]].leaving
    assert effects[0] == fx.TellHand(SeatGone(seat=seats[0]))
    core.state.running = None
    after = after_hand(core, NOW_MS)
    assert fx.CashOut(1, 100) in after and 1 not in [r.player_id for r in core.state.seats.values()]


def test_a_top_up_during_her_hand_waits_for_the_hand_to_end() -> None:
    core = table()
    seats = [buy_in(core, p) for p in (1, 2)]
    core.state.running = RunningHand(1, tuple(seats), (100, 100), NOW_MS)
    core.funded(Funding("t", "top_up", 1, seats[0], 50))
    assert core.state.seats[seats[0]].stack == 100
    core.state.running = None
    after_hand(core, NOW_MS)
    assert core.state.seats[seats[0]].stack == 150


def test_a_top_up_past_the_maximum_is_refused() -> None:
    core = table()
    buy_in(core, 1, amount=core.config.max_buy_in)
    with pytest.raises(GameRefused) as refused:
        core.top_up_allowed(1, 1)
    assert refused.value.code == "top_up_out_of_range"


def test_sitting_in_without_chips_is_refused() -> None:
    core = table()
    seat = buy_in(core, 1)
    core.state.seats[seat].stack = 0
    with pytest.raises(GameRefused) as refused:
        core.sit_in(1, post_now=False)
    assert refused.value.code == "no_chips"


def test_the_wait_list_and_the_watchers_are_bounded() -> None:
    core = table()
    waiting.join_wait_list(core, 1)
    waiting.join_wait_list(core, 2)
    with pytest.raises(GameRefused) as full:
        waiting.join_wait_list(core, 3)
    waiting.watch(core, 4)
    waiting.watch(core, 5)
    with pytest.raises(GameRefused) as watching:
        waiting.watch(core, 6)
    assert (full.value.code, watching.value.code) == ("wait_list_full", "watchers_full")


def test_a_hold_shows_as_a_pause_and_stops_dealing_until_released() -> None:
    core = table()
    for player_id in (1, 2):
        buy_in(core, player_id)
    assert core.ready_to_deal()
    effects = status.change_status(core, Event.HOLD)
    assert effects[0] == fx.StopDealing() and not core.ready_to_deal()
    shown = [e.body for e in effects if isinstance(e, fx.Broadcast)]
    assert shown == [game.TableStatusChanged(table_id="c1", status="paused")]
    assert status.change_status(core, Event.RESUME) == []  # an operator's resume leaves the hold
    status.change_status(core, Event.RELEASE)
    assert core.state.lifecycle is Status.OPEN and core.ready_to_deal()


def test_a_closed_table_refuses_new_seats_and_stands_everyone_up_when_it_finishes() -> None:
    core = table()
    buy_in(core, 1)
    waiting.watch(core, 8)
    assert fx.LobbyDrop() in status.close(core)
    with pytest.raises(GameRefused) as refused:
        core.seat_for_join(2, None, NOW_MS)
    assert refused.value.code == "table_closing"
    effects = status.finish_close(core)
    assert fx.CashOut(1, 100) in effects and fx.Watching(8, on=False) in effects
    closed = effects[0]
    assert isinstance(closed, fx.Broadcast) and closed.to == (1, 8)  # before anyone left
    assert core.state.seats == {} and core.state.watchers == []


def test_an_event_the_status_does_not_allow_raises() -> None:
    core = table()
    with pytest.raises(InvalidTransition):
        status.change_status(core, Event.FINISH_CLOSE)


def test_the_owner_seats_and_removes_players_between_hands_only() -> None:
    core = table(bankroll="tournament", owner="tournament:t1", rake_bp=0)
    seat, _ = core.seat_for_owner(1, 1_500, None, NOW_MS, display_name="Ann")
    core.seat_for_owner(2, 1_500, None, NOW_MS)
    assert core.state.seats[seat].display_name == "Ann"
    core.state.running = RunningHand(1, (0, 1), (1_500, 1_500), NOW_MS)
    with pytest.raises(GameRefused) as refused:
        core.remove_for_owner(1, NOW_MS)
    assert refused.value.code == "hand_running"
    core.state.running = None
    stack, _ = core.remove_for_owner(1, NOW_MS)
    assert stack == 1_500


def test_a_cash_table_refuses_the_owners_seating() -> None:
    with pytest.raises(GameRefused) as refused:
        table().seat_for_owner(1, 100, None, NOW_MS)
    assert refused.value.code == "not_a_tournament_table"


def tournament_table() -> TableCore:
    core = table(bankroll="tournament", owner="tournament:1", seats=3, rake_bp=0)
    for player_id, stack in ((1, 500), (2, 500), (3, 500)):
        core.seat_for_owner(player_id, stack, None, NOW_MS)
    return core


def test_a_tournament_player_who_leaves_or_logs_out_keeps_her_seat_and_chips() -> None:
    core = tournament_table()
    before = {seat: (r.player_id, r.stack) for seat, r in core.state.seats.items()}
    with pytest.raises(GameRefused) as refused:  # her chips are the tournament's
        core.stand_up(1, NOW_MS)
    assert refused.value.code == "not_a_cash_table"
    assert {seat: (r.player_id, r.stack) for seat, r in core.state.seats.items()} == before
    # Her session ends: she stays, disconnected and sitting out, with every chip.
    cashed, effects = core.gone(2, NOW_MS)
    seat = core.seat_of(2)
    record = core.state.seats[seat]
    assert cashed is None and record.stack == 500
    assert (record.connected, record.sitting_out, record.leaving) == (False, True, False)
    assert fx.Persist() in effects
    # In a running hand, the hand is told nobody answers for the seat any more.
    setup = deal_next_hand(core.state, NOW_MS, core.config.hand_config())
    assert setup is not None
    in_hand_seat = core.seat_of(1)
    assert core.state.in_running_hand(in_hand_seat)
    _, in_hand = core.gone(1, NOW_MS)
    assert fx.TellHand(SeatGone(seat=in_hand_seat)) in in_hand
    assert core.state.seats[in_hand_seat].stack > 0  # still seated, her chips in play
    # Sitting in again owes nothing to enter: she was never dealt out.
    core.state.running = None
    core.sit_in(2, post_now=True)
    assert not core.state.seats[seat].sitting_out and not core.state.seats[seat].post_to_enter
