"""Collusion signals (poker/integrity/collusion.py): the statistic of docs/integrity.md."""

from __future__ import annotations

import math
import random

import pytest

from poker.integrity import (
    CollusionThresholds,
    SeatedHand,
    SeatedPlayer,
    find_collusion,
    poisson_upper_tail,
)
from poker.integrity.collusion import WINDOW_MS_DEFAULT
from tests.poker.integrity.generated import COLLUDERS, DUMPEE, DUMPER, generate_room


def seated(window: int, table: str, *players: int, game: str = "NT 1/2") -> SeatedHand:
    return SeatedHand(
        hand_id=f"{table}:{window}",
        table_id=table,
        game=game,
        asset="chips",
        ended_at_ms=window * WINDOW_MS_DEFAULT,
        players=tuple(SeatedPlayer(p, 0) for p in players),
    )


def poisson_tail_by_complement(mean: float, k: int) -> float:
    return 1 - sum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(k))


@pytest.mark.parametrize(("mean", "k"), [(0.5, 1), (3.0, 2), (3.0, 7), (10.0, 15), (40.0, 30)])
def test_poisson_tail_matches_the_textbook_sum(mean: float, k: int) -> None:
    assert poisson_upper_tail(mean, k) == pytest.approx(poisson_tail_by_complement(mean, k))


def test_poisson_tail_stays_accurate_far_out() -> None:
    # P(X >= 30) for mean 1 is dominated by its first term: e^-1 / 30!.
    first = math.exp(-1) / math.factorial(30)
    assert poisson_upper_tail(1.0, 30) == pytest.approx(first * (1 + 1 / 31 + 1 / 31 / 32), 1e-6)
    assert poisson_upper_tail(0.0, 1) == 0.0 and poisson_upper_tail(5.0, 0) == 1.0


def test_the_poisson_tail_is_above_the_exact_poisson_binomial_tail() -> None:
    rng = random.Random(7)
    chances = [rng.uniform(0.02, 0.3) for _ in range(40)]
    exact = [1.0]  # distribution of the count, by dynamic programming
    for p in chances:
        exact = [
            (exact[i] if i < len(exact) else 0) * (1 - p) + (exact[i - 1] * p if i else 0)
            for i in range(len(exact) + 1)
        ]
    mean = sum(chances)
    for k in range(math.ceil(mean + 1), 30):
        assert sum(exact[k:]) <= poisson_upper_tail(mean, k)


def test_two_players_always_at_the_only_table_are_no_signal() -> None:
    hands = [seated(w, "t1", 1, 2, 3) for w in range(50)]
    report = find_collusion(hands)
    assert not report.signals and report.pairs_tested == 3


def test_a_pair_that_always_shares_one_of_five_tables_is_signalled() -> None:
    hands = []
    for w in range(30):
        others = list(range(10, 30))
        random.Random(w).shuffle(others)
        hands.append(seated(w, "t1", 1, 2, *others[:2]))
        for i in range(4):
            hands.append(seated(w, f"t{i + 2}", *others[2 + 4 * i : 6 + 4 * i]))
    report = find_collusion(hands)
    (signal,) = report.signals
    assert signal.players == (1, 2) and signal.flag_id == "collusion:chips:1:2"
    assert (signal.windows_together, signal.windows_both_active) == (30, 30)
    # Each window: 19 other players active (2 + 4 x 4), 3 of them at the pair's table.
    assert signal.expected_together == pytest.approx(30 * 3 / 19, abs=1e-3)
    assert signal.p_value == pytest.approx(poisson_upper_tail(30 * 3 / 19, 30))
    assert signal.hands_together == 30 and signal.tables[0].table_id == "t1"
    assert signal.hand_ids[0] == "t1:29"  # newest first


def test_stakes_groups_are_counted_apart() -> None:
    hands = [seated(w, "t1", 1, 2) for w in range(20)] + [
        seated(w, f"t{n}", 10 + n, 20 + n, game="NT 5/10") for w in range(20) for n in range(5)
    ]
    signals = find_collusion(hands).signals
    # In "NT 1/2" the pair had the only table; in "NT 5/10" five pairs kept to one of five.
    assert {s.players for s in signals} == {(10 + n, 20 + n) for n in range(5)}
    assert {s.game for s in signals} == {"NT 5/10"}


def test_too_few_windows_together_are_no_signal() -> None:
    hands = [seated(w, "t1", 1, 2) for w in range(9)]
    hands += [seated(w, f"t{n}", 10 + n, 20 + n) for w in range(9) for n in range(2, 9)]
    assert not find_collusion(hands).signals
    assert find_collusion(hands, CollusionThresholds(windows_together_min=9)).signals


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_planted_colluders_are_found_and_no_honest_pair_is_signalled(seed: int) -> None:
    report = find_collusion(generate_room(seed).hands)
    found = {signal.players for signal in report.signals}
    # The chip dumpers sit together too (they have to, to dump): both planted pairs.
    assert found == {COLLUDERS, (DUMPER, DUMPEE)}, f"seed {seed}"
    assert report.pairs_tested > 1000


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_an_honest_room_has_no_signals(seed: int) -> None:
    room = generate_room(seed, plant_dumpers=False, plant_colluders=False)
    assert not find_collusion(room.hands).signals, f"seed {seed}"


@pytest.mark.parametrize(
    "bad", [{"window_ms": 59_999}, {"windows_together_min": 0}, {"alpha": 0.0}, {"alpha": 1.0}]
)
def test_thresholds_out_of_range_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CollusionThresholds(**bad)  # type: ignore[arg-type]
