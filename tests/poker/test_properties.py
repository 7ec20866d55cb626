"""Properties over random hands of every variant, table size and forced-bet setup.

Each example is one seed: a failure prints it, and ``_random_hand(seed)`` replays it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from hypothesis import given, note, settings
from hypothesis import strategies as st

from poker import (
    AnteMode,
    Deck,
    Event,
    Hand,
    HandConfig,
    IllegalAction,
    LegalActions,
    ReturningPost,
    SeatSetup,
    Variant,
)
from poker.actions import AgreeRunItTwice, AnyAction, BetOrRaiseTo, CheckOrCall, Fold, Muck, Show

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, derandomize=True)


def _random_setup(rng: random.Random) -> tuple[Hand, int]:
    variant = rng.choice(list(Variant))
    players = rng.randint(2, 10)
    big_blind = rng.choice([2, 10, 100])
    ante_mode = rng.choice(list(AnteMode))
    config = HandConfig(
        variant=variant,
        small_blind=big_blind // 2,
        big_blind=big_blind,
        ante=0 if ante_mode is AnteMode.NONE else rng.randint(1, big_blind),
        ante_mode=ante_mode,
        straddle=(
            2 * big_blind if variant is not Variant.FIXED_LIMIT_HOLDEM and rng.random() < 0.2 else 0
        ),
        small_bet=big_blind,
        big_bet=2 * big_blind,
        rake_bp=rng.choice([0, 0, 500, 1000]),
        rake_cap=rng.choice([0, 3 * big_blind]),
        no_flop_no_drop=rng.random() < 0.8,
        allow_run_it_twice=rng.random() < 0.5,
    )
    seat_numbers = rng.sample(range(10), players)
    seats = [
        SeatSetup(
            seat=seat,
            player_id=f"p{seat}",
            # Short stacks on purpose: all-ins for less than blinds and antes happen often.
            stack=rng.choice([1, 2, 3, big_blind, rng.randint(1, 50 * big_blind)]),
            posts=rng.choice(
                [ReturningPost.NONE] * 8
                + [ReturningPost.BIG_BLIND, ReturningPost.BIG_BLIND_AND_DEAD_SMALL]
            ),
        )
        for seat in seat_numbers
    ]
    button = rng.randrange(10)
    hand = Hand(config, seats, button, Deck.shuffled(rng))
    return hand, sum(seat.stack for seat in seats)


def _choices(legal: LegalActions, rng: random.Random) -> list[AnyAction]:
    seat = legal.seat
    options: list[AnyAction] = []
    if legal.fold:
        options.append(Fold(seat=seat))
    if legal.check or legal.call is not None:
        options.append(CheckOrCall(seat=seat))
    if legal.min_raise_to is not None and legal.max_raise_to is not None:
        options.append(BetOrRaiseTo(seat=seat, amount=legal.min_raise_to))
        options.append(BetOrRaiseTo(seat=seat, amount=legal.max_raise_to))
        options.append(
            BetOrRaiseTo(seat=seat, amount=rng.randint(legal.min_raise_to, legal.max_raise_to))
        )
    if legal.show:
        options.append(Show(seat=seat))
    if legal.muck:
        options.append(Muck(seat=seat))
    if legal.run_it_twice:
        options += [AgreeRunItTwice(seat=seat, agree=True), AgreeRunItTwice(seat=seat, agree=False)]
    return options


def _random_hand(seed: int) -> Iterator[tuple[Hand, int, AnyAction | None, list[Event]]]:
    """Yields (hand, chips at the start, action just applied, its events) after every step."""
    rng = random.Random(seed)
    hand, total = _random_setup(rng)
    yield hand, total, None, hand.start()
    steps_max = 400  # a hand has at most a few dozen decisions; more means a loop
    for _ in range(steps_max):
        if hand.is_over:
            return
        options = _choices(hand.legal_actions(), rng)
        assert options, "the hand waits for a decision nobody can make"
        action = rng.choice(options)
        yield hand, total, action, hand.apply(action)
    raise AssertionError("hand did not finish")


def _chips_in_play(hand: Hand) -> int:
    if hand.is_over:
        return sum(hand.result.stacks) + hand.result.rake
    return sum(hand.stacks.values()) + hand.pot_total


@PROPERTY_SETTINGS
@given(seed=SEEDS)
def test_chips_are_conserved_and_no_stack_goes_negative(seed: int) -> None:
    note(f"replay: _random_hand({seed})")
    for hand, total, _, _ in _random_hand(seed):
        assert _chips_in_play(hand) == total
        assert all(stack >= 0 for stack in hand.stacks.values())
        assert all(bet >= 0 for bet in hand.bets.values())


@PROPERTY_SETTINGS
@given(seed=SEEDS)
def test_every_legal_action_applies(seed: int) -> None:
    note(f"replay: _random_hand({seed})")
    rng = random.Random(seed ^ 0x5EED)
    for hand, _, _, _ in _random_hand(seed):
        if hand.is_over:
            break
        saved = hand.snapshot()
        for action in _choices(hand.legal_actions(), rng):
            trial = Hand.restore(saved)
            trial.apply(action)  # must not raise


def _attempts(hand: Hand, rng: random.Random) -> list[tuple[str, Callable[[], object], bool]]:
    """Random attempts, each with what legal_actions says about it."""
    legal = hand.legal_actions()
    seat = rng.choice([*hand.seats, 10]) if rng.random() < 0.3 else legal.seat
    mine = seat == legal.seat and seat >= 0
    amount = rng.randint(0, 2 * max(hand.stacks.values()) + 5)
    in_range = (
        legal.min_raise_to is not None
        and legal.max_raise_to is not None
        and legal.min_raise_to <= amount <= legal.max_raise_to
    )
    return [
        ("fold", lambda: hand.fold(seat), mine and legal.fold),
        (
            "check_or_call",
            lambda: hand.check_or_call(seat),
            mine and (legal.check or legal.call is not None),
        ),
        ("bet_or_raise_to", lambda: hand.bet_or_raise_to(seat, amount), mine and in_range),
        ("show", lambda: hand.show(seat), mine and legal.show),
        ("muck", lambda: hand.muck(seat), mine and legal.muck),
        # Any player still asked may answer run it twice, in any order; outside that phase,
        # or from a seat not dealt in, an answer must be refused.
        (
            "agree_run_it_twice",
            lambda: hand.agree_run_it_twice(seat, rng.random() < 0.5),
            legal.run_it_twice and seat in hand.seats,
        ),
    ]


@PROPERTY_SETTINGS
@given(seed=SEEDS)
def test_every_illegal_action_raises_and_changes_nothing(seed: int) -> None:
    note(f"replay: _random_hand({seed})")
    rng = random.Random(seed ^ 0xBAD)
    for hand, _, _, _ in _random_hand(seed):
        before = hand.snapshot()
        for name, attempt, allowed in _attempts(hand, rng):
            if allowed or (name == "agree_run_it_twice" and hand.phase == "run_it_twice"):
                continue  # other players' answers may be legal without being listed
            try:
                attempt()
            except IllegalAction:
                pass
            else:
                raise AssertionError(f"{name} was applied though legal_actions forbids it")
            assert hand.snapshot() == before, f"a refused {name} changed the hand"


@PROPERTY_SETTINGS
@given(seed=SEEDS)
def test_can_and_verify_agree_with_legal_actions(seed: int) -> None:
    note(f"replay: _random_hand({seed})")
    for hand, _, _, _ in _random_hand(seed):
        legal = hand.legal_actions()
        for seat in hand.seats:
            mine = seat == legal.seat
            assert hand.can_fold(seat) == (mine and legal.fold)
            assert hand.can_check_or_call(seat) == (
                mine and (legal.check or legal.call is not None)
            )
            assert hand.can_show(seat) == (mine and legal.show)
            assert hand.can_muck(seat) == (mine and legal.muck)
            if mine and legal.min_raise_to is not None:
                assert hand.can_bet_or_raise_to(seat, legal.min_raise_to)
                assert not hand.can_bet_or_raise_to(seat, legal.min_raise_to - 1)


@PROPERTY_SETTINGS
@given(seed=SEEDS, cut=st.integers(min_value=0, max_value=60))
def test_snapshot_and_restore_at_any_point_give_the_same_future(seed: int, cut: int) -> None:
    note(f"replay: _random_hand({seed}), snapshot after step {cut}")
    steps = list(_random_hand(seed))
    cut = min(cut, len(steps) - 1)
    # Replay to the cut, snapshot, and replay the rest on the restored copy.
    rng = random.Random(seed)
    hand, _ = _random_setup(rng)
    hand.start()
    actions = [action for _, _, action, _ in steps[1:]]
    events = [step_events for _, _, _, step_events in steps[1:]]
    for action in actions[:cut]:
        hand.apply(action)
    data = hand.snapshot()
    restored = Hand.restore(data)
    assert restored.snapshot() == data
    for action, expected in zip(actions[cut:], events[cut:], strict=True):
        assert restored.apply(action) == expected
    assert restored.is_over
    assert restored.result == steps[-1][0].result
