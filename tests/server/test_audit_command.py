"""``tablium audit rng``: the production shuffle passes; broken shuffles fail; the null
distributions the tests rely on are checked exactly on small decks."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import integrate, stats

from poker import fairness
from server.cli import main
from server.commands import audit

# ---- the command -----------------------------------------------------------------------------


def _run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    status = main(["audit", "rng", *argv, "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_ten_thousand_seeded_decks_pass_every_test(capsys: pytest.CaptureFixture[str]) -> None:
    status, report = _run_json(capsys, "--decks", "10000", "--seed", "20261203")
    assert status == 0
    assert report["passed"] is True
    assert report["decks"] == 10_000
    tests = report["tests"]
    assert isinstance(tests, list)
    assert [test["test"] for test in tests] == [
        "card_position",
        "adjacent_pairs",
        "runs_count",
        "runs_distribution",
    ]
    for test in tests:
        assert test["p_value"] >= audit.THRESHOLD
        assert test["passed"] is True


def test_the_same_seed_gives_the_same_statistics(capsys: pytest.CaptureFixture[str]) -> None:
    _, first = _run_json(capsys, "--decks", "2000", "--seed", "5")
    _, again = _run_json(capsys, "--decks", "2000", "--seed", "5")
    _, other = _run_json(capsys, "--decks", "2000", "--seed", "6")
    assert first["tests"] == again["tests"]
    assert first["tests"] != other["tests"]


def test_human_output_names_each_statistic_and_the_verdict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["audit", "rng", "--decks", "1000", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "card x position chi-square" in out
    assert "adjacent ordered pairs chi-square" in out
    assert "runs up and down, count (z)" in out
    assert "runs up and down, distribution" in out
    assert out.strip().splitlines()[-1].startswith("PASS")


@pytest.mark.parametrize("decks", ["999", "100000001", "ten"])
def test_deck_counts_out_of_bounds_are_refused(decks: str) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["audit", "rng", "--decks", decks])
    assert caught.value.code == 2


def test_the_audit_shuffles_through_the_production_function() -> None:
    (batch,) = audit.shuffled_decks(3, seed=11)
    raw = random.Random(11)
    for number, row in enumerate(batch):
        data = raw.randbytes(32 + 6 * 16)
        seeds = {seat: data[32 + 16 * seat : 48 + 16 * seat] for seat in range(6)}
        assert list(row) == fairness.deck_order(data[:32], f"audit:{number}", seeds)


# ---- broken shuffles fail ------------------------------------------------------------------


def _decks(
    count: int, shuffle: Callable[[random.Random], list[int]]
) -> Iterator[NDArray[np.uint8]]:
    rng = random.Random(1)
    rows = [shuffle(rng) for _ in range(count)]
    yield np.array(rows, dtype=np.uint8)


def _failed(tally: audit.Tally) -> set[str]:
    return {result.test for result in audit.run_tests(tally) if not result.passed}


def _naive(rng: random.Random) -> list[int]:
    """Swap each position with any position: n^n equally likely paths onto n! orders."""
    order = list(range(52))
    for i in range(52):
        j = rng.randrange(52)
        order[i], order[j] = order[j], order[i]
    return order


def test_the_naive_swap_with_any_position_shuffle_fails() -> None:
    assert "card_position" in _failed(audit.tally_decks(_decks(20_000, _naive)))


def test_a_deal_too_even_to_be_random_fails() -> None:
    # Every card visits every position equally often: X^2 = 0, p (two-sided) = 0.
    rotations = (np.arange(52)[None, :] + np.arange(20_800)[:, None]) % 52
    tally = audit.tally_decks(iter([rotations.astype(np.uint8)]))
    assert {"card_position", "runs_count"} <= _failed(tally)


def test_a_cut_that_keeps_runs_of_cards_together_fails() -> None:
    def cut(rng: random.Random) -> list[int]:
        order = list(range(52))
        rng.shuffle(order)
        # Half the time, move a block of four cards to the top unchanged: adjacent pairs and
        # runs feel it, card x position barely does.
        if rng.random() < 0.5:
            start = rng.randrange(48)
            order = order[start : start + 4] + order[:start] + order[start + 4 :]
            order[1:4] = sorted(order[1:4])
        return order

    assert "runs_distribution" in _failed(audit.tally_decks(_decks(20_000, cut)))


def test_a_modulo_biased_shuffle_fails_over_enough_decks() -> None:
    # j = byte % n without the rejection: bytes 0..47 make the first step favour 48 cards.
    def biased(rng: random.Random) -> list[int]:
        order = list(range(52))
        for top in range(51, 0, -1):
            j = rng.randrange(256) % (top + 1)
            order[top], order[j] = order[j], order[top]
        return order

    assert "card_position" in _failed(audit.tally_decks(_decks(60_000, biased)))


# ---- the null distributions, checked exactly on small decks --------------------------------


def _exact_covariance_weights(n: int, cells: Callable[[tuple[int, ...]], list[int]]) -> dict:
    """Eigenvalues (rounded) of n x the covariance of the cell indicators over all n! decks."""
    perms = list(itertools.permutations(range(n)))
    indicator = np.zeros((len(perms), n * n))
    for row, perm in enumerate(perms):
        indicator[row, cells(perm)] = 1
    weights = np.linalg.eigvalsh(np.cov(indicator.T, bias=True) * n)
    values, counts = np.unique(np.round(weights, 9), return_counts=True)
    return {float(v): int(c) for v, c in zip(values, counts, strict=True) if abs(v) > 1e-9}


@pytest.mark.parametrize("n", [5, 6, 7])
def test_card_position_null_is_chi_square_scaled_by_n_over_n_minus_1(n: int) -> None:
    weights = _exact_covariance_weights(n, lambda p: [card * n + pos for pos, card in enumerate(p)])
    assert weights == {round(n / (n - 1), 9): (n - 1) ** 2}


@pytest.mark.parametrize("n", [5, 6, 7])
def test_adjacent_pairs_null_has_the_documented_weights(n: int) -> None:
    def pairs(perm: tuple[int, ...]) -> list[int]:
        return [perm[i] * n + perm[i + 1] for i in range(n - 1)]

    weights = _exact_covariance_weights(n, pairs)
    expected = {round(w, 9): k for w, k in audit.adjacent_pair_weights(n)}
    assert weights == expected


@pytest.mark.parametrize(
    ("weight", "df"), [(1.0, 20), (3.0, 30), (2.0, 50), (1 / 51, 102), (53 / 51, 1275), (1.0, 2601)]
)
def test_weighted_chi_square_tail_matches_scipy_for_one_term(weight: float, df: int) -> None:
    # P(w chi2(k) > x) = P(chi2(k) > x / w), across the whole range a p-value can take.
    for quantile in (1e-6, 1e-3, 0.01, 0.5, 0.99, 1 - 1e-3, 1 - 1e-6):
        x = weight * float(stats.chi2.ppf(quantile, df))
        exact = float(stats.chi2.sf(x / weight, df))
        tail = max(min(exact, 1 - exact), 1e-4)
        assert audit.weighted_chi2_sf(x, [(weight, df)]) == pytest.approx(exact, abs=1e-7 * tail)


def test_weighted_chi_square_tail_of_two_terms_matches_their_convolution() -> None:
    # chi2(40) + 2 chi2(30): P(sum > x) by integrating the first's tail over the second.
    x = 110.0
    convolved, _ = integrate.quad(
        lambda y: stats.chi2.pdf(y, 30) * stats.chi2.sf(x - 2 * y, 40), 0, np.inf
    )
    assert audit.weighted_chi2_sf(x, [(1.0, 40), (2.0, 30)]) == pytest.approx(convolved, rel=1e-7)


def test_weighted_chi_square_refuses_few_degrees_of_freedom() -> None:
    with pytest.raises(ValueError, match="at least 20"):
        audit.weighted_chi2_sf(3.0, [(1.0, 2)])


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8])
def test_runs_distribution_matches_every_permutation_counted(n: int) -> None:
    counts = [0] * n
    for perm in itertools.permutations(range(n)):
        rising = [b > a for a, b in itertools.pairwise(perm)]
        counts[1 + sum(x != y for x, y in itertools.pairwise(rising))] += 1
    assert audit.alternating_runs_distribution(n) == counts


def test_runs_count_mean_and_variance_agree_with_the_exact_distribution() -> None:
    counts = audit.alternating_runs_distribution(52)
    total = math.factorial(52)
    assert sum(counts) == total
    mean = sum(k * c for k, c in enumerate(counts)) / total
    variance = sum(k * k * c for k, c in enumerate(counts)) / total - mean**2
    assert mean == pytest.approx((2 * 52 - 1) / 3, rel=1e-12)
    assert variance == pytest.approx((16 * 52 - 29) / 90, rel=1e-9)


def test_runs_up_and_down_counts_direction_changes() -> None:
    orders = np.array([list(range(52)), [0, 2, 1, *range(3, 52)]], dtype=np.uint8)
    assert list(audit.runs_up_and_down(orders)) == [1, 3]


def test_p_values_are_uniform_for_a_perfect_shuffler() -> None:
    # 100 audits of 10,000 decks from numpy's generator (seeded): if a null distribution
    # were wrong, its p-values would pile up somewhere; a KS test against uniform says not.
    rng = np.random.default_rng(20261203)
    p_values: dict[str, list[float]] = {}
    for _ in range(100):
        orders = np.argsort(rng.random((10_000, 52)), axis=1).astype(np.uint8)
        for result in audit.run_tests(audit.tally_decks(iter([orders]))):
            p_values.setdefault(result.test, []).append(result.p_value)
    assert len(p_values) == 4
    for test, values in p_values.items():
        assert stats.kstest(values, "uniform").pvalue > 0.001, test
