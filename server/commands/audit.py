"""``tablium audit rng``: shuffle N decks through the production path and test them.

Each deck is ``poker.fairness.deck_order`` (the function behind ``fair_deck`` at the tables)
with a fresh 32-byte server seed and six 16-byte client seeds from ``secrets`` (or, with
``--seed``, from ``random.Random(seed)`` so a run can be replayed). The decks are tallied
in numpy and four tests are run (docs/fairness.md, "The RNG audit", says why each null
distribution is what it is):

- card x position: Pearson's X^2 over the 52 x 52 table; for random permutations
  X^2 * 51/52 is chi-square with 51^2 = 2601 degrees of freedom;
- ordered adjacent pairs: Pearson's X^2 over the 2652 ordered pairs of distinct cards;
  its null is a weighted sum of chi-squares (weights 53/51, 1, 1/51), p-value by Imhof;
- runs up and down: the total number of runs against its exact mean and variance (z);
- runs up and down: the distribution of runs per deck against the exact one (chi-square).

P-values are two-sided (a table too even is as suspect as one too uneven); the audit
passes when every p-value is at least ``FAMILY_ALPHA / 4`` (Bonferroni over the 4 tests).
numpy and scipy come with the ``audit`` extra: ``pip install 'tablium[audit]'``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

CARDS: Final = 52
# Bounds on --decks. Below the minimum the expected cell counts of the 52 x 52 tables fall
# under ~20 and the chi-square approximations get loose; above the maximum a run would take
# hours. Policy: argparse error.
DECKS_MIN: Final = 1_000
DECKS_MAX: Final = 100_000_000
FAMILY_ALPHA: Final = 0.01  # chance that a perfect shuffler fails one audit run
TESTS: Final = 4
THRESHOLD: Final = FAMILY_ALPHA / TESTS  # per test (Bonferroni)
BATCH_DECKS: Final = 50_000  # decks shuffled before each numpy tally (~2.6 MB of orders)
AUDIT_SEATS: Final = 6  # client seeds per deck, as at a full 6-max table
AUDIT_CLIENT_SEED_BYTES: Final = 16
IMHOF_DF_MIN: Final = 20  # weighted_chi2_sf is accurate (< 1e-7 relative) from here up
RUNS_BIN_EXPECTED_MIN: Final = 5.0  # runs distribution: tail bins merged to this expectation


def _deck_count(text: str) -> int:
    count = int(text)
    if not DECKS_MIN <= count <= DECKS_MAX:
        raise argparse.ArgumentTypeError(f"between {DECKS_MIN:,} and {DECKS_MAX:,}")
    return count


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    rng = sub.add_parser(
        "rng",
        help="shuffle N decks through the production path and run the randomness tests",
        description="Shuffle N decks with poker.fairness.deck_order (fresh server and client"
        " seeds from the CSPRNG, or from --seed) and test them: chi-square of card x"
        " position, chi-square of ordered adjacent pairs, runs up and down (count and"
        f" distribution). Passes when every two-sided p-value is >= {THRESHOLD:g}"
        f" (family alpha {FAMILY_ALPHA:g}, Bonferroni over {TESTS} tests). Exit status 1 if"
        " a test fails. Method: docs/fairness.md.",
    )
    rng.add_argument(
        "--decks",
        type=_deck_count,
        default=1_000_000,
        metavar="N",
        help=f"decks to shuffle, {DECKS_MIN:,} to {DECKS_MAX:,} (default 1,000,000)",
    )
    rng.add_argument("--json", action="store_true", help="print one machine-readable JSON line")
    rng.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="S",
        help="draw the seeds from random.Random(S) instead of secrets (reproducible)",
    )


@dataclass(frozen=True, slots=True)
class TestResult:
    test: str  # stable id: card_position, adjacent_pairs, runs_count, runs_distribution
    name: str
    statistic: float
    df: int | None  # None for the z test; for adjacent_pairs the total of the weighted terms
    p_value: float  # two-sided
    passed: bool


@dataclass(slots=True)
class Tally:
    """Counts over the decks seen so far (int64 numpy arrays)."""

    decks: int
    positions: NDArray[np.int64]  # [card, position]
    pairs: NDArray[np.int64]  # [card, next card]
    runs: NDArray[np.int64]  # [number of runs up and down in a deck]


def run(args: argparse.Namespace) -> int:
    try:
        import numpy  # noqa: F401
        import scipy  # noqa: F401
    except ImportError:
        print("tablium audit needs numpy and scipy: pip install 'tablium[audit]'", file=sys.stderr)
        return 2
    started = time.perf_counter()
    tally = tally_decks(shuffled_decks(args.decks, args.seed))
    seconds = time.perf_counter() - started
    results = run_tests(tally)
    passed = all(result.passed for result in results)
    if args.json:
        print(
            json.dumps(
                {
                    "decks": tally.decks,
                    "seed": args.seed,
                    "seconds": round(seconds, 2),
                    "family_alpha": FAMILY_ALPHA,
                    "threshold": THRESHOLD,
                    "tests": [asdict(result) for result in results],
                    "passed": passed,
                }
            )
        )
    else:
        source = f"random.Random({args.seed})" if args.seed is not None else "secrets"
        print(f"{tally.decks:,} decks (seeds from {source}) in {seconds:.1f} s")
        for result in results:
            df = f" df={result.df:g}" if result.df is not None else ""
            verdict = "pass" if result.passed else "FAIL"
            print(
                f"{result.name:<34} statistic={result.statistic:.4f}{df}"
                f" p={result.p_value:.4g} {verdict}"
            )
        print(f"{'PASS' if passed else 'FAIL'}: every p-value must be >= {THRESHOLD:g}")
    return 0 if passed else 1


# ---- shuffling through the production path ---------------------------------------------------


def shuffled_decks(count: int, seed: int | None) -> Iterator[NDArray[np.uint8]]:
    """``count`` decks as uint8 arrays of shape (batch, 52), card indices top first."""
    import numpy as np

    from poker.fairness import SERVER_SEED_BYTES, deck_order

    draw: Callable[[int], bytes] = (
        secrets.token_bytes if seed is None else random.Random(seed).randbytes
    )
    seed_bytes = SERVER_SEED_BYTES + AUDIT_SEATS * AUDIT_CLIENT_SEED_BYTES
    width = AUDIT_CLIENT_SEED_BYTES
    done = 0
    while done < count:
        batch = min(BATCH_DECKS, count - done)
        buffer = bytearray()
        for number in range(done, done + batch):
            raw = draw(seed_bytes)
            server_seed = raw[:SERVER_SEED_BYTES]
            client_seeds = {
                seat: raw[SERVER_SEED_BYTES + seat * width : SERVER_SEED_BYTES + (seat + 1) * width]
                for seat in range(AUDIT_SEATS)
            }
            buffer += bytes(deck_order(server_seed, f"audit:{number}", client_seeds))
        done += batch
        yield np.frombuffer(bytes(buffer), dtype=np.uint8).reshape(batch, CARDS)


def runs_up_and_down(orders: NDArray[np.uint8]) -> NDArray[np.int64]:
    """Runs up and down of each deck's card indices: 1 + the number of direction changes."""
    import numpy as np

    rising = np.diff(orders.astype(np.int16), axis=1) > 0
    changes: NDArray[np.int64] = np.count_nonzero(rising[:, 1:] != rising[:, :-1], axis=1)
    return changes + 1


def tally_decks(batches: Iterator[NDArray[np.uint8]]) -> Tally:
    import numpy as np

    cells = CARDS * CARDS
    positions = np.zeros(cells, dtype=np.int64)
    pairs = np.zeros(cells, dtype=np.int64)
    runs = np.zeros(CARDS, dtype=np.int64)
    position_index = np.arange(CARDS, dtype=np.int64)
    decks = 0
    for orders in batches:
        wide = orders.astype(np.int64)
        positions += np.bincount((wide * CARDS + position_index).ravel(), minlength=cells)
        pairs += np.bincount((wide[:, :-1] * CARDS + wide[:, 1:]).ravel(), minlength=cells)
        runs += np.bincount(runs_up_and_down(orders), minlength=CARDS)
        decks += len(orders)
    return Tally(
        decks=decks,
        positions=positions.reshape(CARDS, CARDS),
        pairs=pairs.reshape(CARDS, CARDS),
        runs=runs,
    )


# ---- null distributions ---------------------------------------------------------------------


def two_sided(upper: float) -> float:
    """A two-sided p-value from an upper-tail one: small when the statistic is too large or
    too small for its null."""
    return min(1.0, 2 * min(upper, 1 - upper))


def weighted_chi2_sf(x: float, terms: Sequence[tuple[float, int]]) -> float:
    """P(sum_j w_j * chi2(k_j) > x) for ``terms`` (w_j, k_j), by Imhof's (1961) formula:
    1/2 + 1/pi * integral over u > 0 of sin(theta(u)) / (u rho(u)), with
    theta(u) = 1/2 sum k_j atan(w_j u) - x u / 2, rho(u) = prod (1 + w_j^2 u^2)^(k_j / 4).

    For the audit's nulls (thousands of degrees of freedom; at least ``IMHOF_DF_MIN``):
    with few, rho grows so slowly that the integral runs far out over many oscillations.
    """
    from scipy import integrate

    weights = [(w, k) for w, k in terms if w > 0]
    if sum(k for _, k in weights) < IMHOF_DF_MIN:
        raise ValueError(f"weighted_chi2_sf needs at least {IMHOF_DF_MIN} degrees of freedom")
    mean = sum(w * k for w, k in weights)
    sd = math.sqrt(sum(2 * w * w * k for w, k in weights))
    if abs(x - mean) > 40 * sd:  # p beyond 1e-100 either way: the integral only adds noise
        return 0.0 if x > mean else 1.0

    def log_rho(u: float) -> float:
        return sum(k / 4 * math.log1p((w * u) ** 2) for w, k in weights)

    def integrand(u: float) -> float:
        if u == 0.0:
            return 0.5 * (mean - x)  # the limit at u -> 0
        theta = 0.5 * sum(k * math.atan(w * u) for w, k in weights) - 0.5 * x * u
        return math.sin(theta) * math.exp(-log_rho(u)) / u

    # Past U the integrand is below 1 / (u rho(u)) and rho grows like u^(sum k / 2), so the
    # tail left out is under 2 / (sum k * rho(U)): stop where rho(U) > e^40.
    upper = 1.0
    while log_rho(upper) < 40:
        upper *= 2
    result = integrate.quad(integrand, 0.0, upper, limit=1_000, epsabs=1e-12, epsrel=1e-10)
    value = float(result[0])
    return min(1.0, max(0.0, 0.5 + value / math.pi))


def adjacent_pair_weights(n: int = CARDS) -> list[tuple[float, int]]:
    """The null of Pearson's X^2 over ordered adjacent pairs of a random permutation of n:
    sum of w * chi2(k) over these (w, k), the eigenvalues of n x the per-deck covariance of
    the pair indicators (docs/fairness.md derives them; a test checks them for small n)."""
    return [
        ((n + 1) / (n - 1), (n - 1) * (n - 2) // 2),
        (1.0, n * (n - 3) // 2),
        (1 / (n - 1), 2 * (n - 1)),
    ]


def alternating_runs_distribution(n: int = CARDS) -> list[int]:
    """counts[k] = permutations of n with k runs up and down (David and Barton):
    R(n, k) = k R(n-1, k) + 2 R(n-1, k-1) + (n-k) R(n-1, k-2), R(2, 1) = 2."""
    counts = [0, 2]  # n = 2
    for size in range(3, n + 1):
        previous = [*counts, 0, 0]  # R(n-1, k) for k up to n-1
        counts = [0] * size
        for k in range(1, size):
            counts[k] = (
                k * previous[k]
                + 2 * previous[k - 1]
                + (size - k) * (previous[k - 2] if k >= 2 else 0)
            )
    return counts


# ---- the tests ------------------------------------------------------------------------------


def card_position_test(tally: Tally) -> TestResult:
    from scipy import stats

    expected = tally.decks / CARDS
    x2 = float((((tally.positions - expected) ** 2) / expected).sum())
    statistic = x2 * (CARDS - 1) / CARDS
    df = (CARDS - 1) ** 2
    p = two_sided(float(stats.chi2.sf(statistic, df)))
    return TestResult(
        "card_position", "card x position chi-square", statistic, df, p, p >= THRESHOLD
    )


def adjacent_pairs_test(tally: Tally) -> TestResult:
    import numpy as np

    expected = tally.decks / CARDS  # (n-1) pairs a deck over n(n-1) ordered pairs
    off_diagonal = ~np.eye(CARDS, dtype=bool)
    if tally.pairs[~off_diagonal].any():
        raise AssertionError("a card followed itself: the decks are not permutations")
    observed = tally.pairs[off_diagonal]
    x2 = float((((observed - expected) ** 2) / expected).sum())
    terms = adjacent_pair_weights()
    p = two_sided(weighted_chi2_sf(x2, terms))
    df = sum(k for _, k in terms)
    return TestResult(
        "adjacent_pairs", "adjacent ordered pairs chi-square", x2, df, p, p >= THRESHOLD
    )


def runs_count_test(tally: Tally) -> TestResult:
    import numpy as np
    from scipy import stats

    mean = (2 * CARDS - 1) / 3
    variance = (16 * CARDS - 29) / 90
    total = float((tally.runs * np.arange(CARDS)).sum())
    z = (total - tally.decks * mean) / math.sqrt(tally.decks * variance)
    p = float(2 * stats.norm.sf(abs(z)))
    return TestResult("runs_count", "runs up and down, count (z)", z, None, p, p >= THRESHOLD)


def runs_distribution_test(tally: Tally) -> TestResult:
    from scipy import stats

    exact = alternating_runs_distribution()
    total = sum(exact)
    expected = [tally.decks * count / total for count in exact]
    observed = [int(count) for count in tally.runs]
    bins = _merged_bins(expected, observed)
    x2 = sum((o - e) ** 2 / e for e, o in bins)
    df = len(bins) - 1
    p = two_sided(float(stats.chi2.sf(x2, df)))
    return TestResult(
        "runs_distribution", "runs up and down, distribution", x2, df, p, p >= THRESHOLD
    )


def _merged_bins(expected: Sequence[float], observed: Sequence[int]) -> list[tuple[float, int]]:
    """(expected, observed) per bin, the thin tails merged until each bin expects enough."""
    bins = [(e, o) for e, o in zip(expected, observed, strict=True) if e > 0 or o > 0]
    if any(e == 0 and o > 0 for e, o in bins):
        raise AssertionError("a deck with an impossible number of runs")
    while len(bins) > 2 and bins[0][0] < RUNS_BIN_EXPECTED_MIN:
        (e0, o0), (e1, o1) = bins[0], bins[1]
        bins[:2] = [(e0 + e1, o0 + o1)]
    while len(bins) > 2 and bins[-1][0] < RUNS_BIN_EXPECTED_MIN:
        (e0, o0), (e1, o1) = bins[-2], bins[-1]
        bins[-2:] = [(e0 + e1, o0 + o1)]
    return bins


def run_tests(tally: Tally) -> list[TestResult]:
    return [
        card_position_test(tally),
        adjacent_pairs_test(tally),
        runs_count_test(tally),
        runs_distribution_test(tally),
    ]
