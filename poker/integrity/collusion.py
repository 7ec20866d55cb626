"""Collusion signals: pairs of players who sit together far more often than chance. Pure.

The statistic (docs/integrity.md has it with its reasons). Time is cut into windows of
``window_ms`` (15 minutes by default); a player is *at* a table in a window when she played
a hand there that ended in it. Within one stakes group (the summary's asset and game, e.g.
real-money "NT 1/2"), for a pair ``i, j`` and every window in which both played in the group:

- ``M`` = the players of the group active in the window, ``m(t)`` those at table ``t``;
- under the null hypothesis (who sits where is random given how full each table was), the
  chance that ``j`` sits at one of ``i``'s tables is ``p = min(1, sum over i's tables of
  (m(t) - 1) / (M - 1))``; computed from ``j``'s tables as well, the larger one is used
  (the null that expects more, so fewer flags);
- ``K`` = windows they shared a table, ``E`` = the sum of ``p`` over the windows both were
  active: the expected ``K``.

``K`` is a sum of independent Bernoulli trials (Poisson-binomial). For ``K >= E + 1`` its
upper tail is at most the binomial's with the same mean (Hoeffding 1956), which is at most
the Poisson's (Anderson and Samuels 1967): the p-value ``P(Poisson(E) >= K)`` is
conservative. A pair is signalled when ``K >= windows_together_min`` and the p-value
is at most ``alpha / m``: family-wise ``alpha`` with a Bonferroni correction over the ``m``
pairs of the report that shared a table at least once.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations
from typing import Final, final

import msgspec

from poker.integrity.hands import SeatedHand

SIGNALS_MAX: Final = 1_000  # bound: the smallest p-values are kept (signals_dropped)
HANDS_LISTED_MAX: Final = 500  # bound per signal: the newest hands are kept (hands_truncated)
TABLES_LISTED_MAX: Final = 100  # bound per signal: the tables with most shared hands
COLLUSION_FLAG_PREFIX: Final = "collusion"
WINDOW_MS_DEFAULT: Final = 15 * 60 * 1000


@final
class CollusionThresholds(msgspec.Struct, frozen=True):
    window_ms: int = WINDOW_MS_DEFAULT
    windows_together_min: int = 10
    alpha: float = 0.01  # family-wise, over the pairs tested

    def __post_init__(self) -> None:
        if self.window_ms < 60_000:
            raise ValueError("window_ms must be at least one minute")
        if self.windows_together_min < 1:
            raise ValueError("windows_together_min must be at least 1")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be within (0, 1)")


@final
class SharedTable(msgspec.Struct, frozen=True):
    table_id: str
    hands: int  # hands both were dealt into at this table


@final
class CollusionSignal(msgspec.Struct, frozen=True):
    flag_id: str  # "collusion:{asset}:{low id}:{high id}"
    asset: str
    game: str
    players: tuple[int, int]  # low id first
    windows_together: int  # K
    windows_both_active: int  # windows both played in this stakes group
    expected_together: float  # E
    p_value: float  # P(Poisson(E) >= K)
    hands_together: int
    tables: tuple[SharedTable, ...]
    hand_ids: tuple[str, ...]  # newest first
    hands_truncated: bool


@final
class CollusionReport(msgspec.Struct, frozen=True):
    hands_scanned: int
    pairs_tested: int  # m: pairs of one stakes group that shared a table at least once
    p_value_max: float  # alpha / m: the Bonferroni threshold the signals passed
    signals: tuple[CollusionSignal, ...]
    signals_dropped: int
    thresholds: CollusionThresholds


def collusion_flag_id(asset: str, first: int, second: int) -> str:
    low, high = sorted((first, second))
    return f"{COLLUSION_FLAG_PREFIX}:{asset}:{low}:{high}"


def poisson_upper_tail(mean: float, k: int) -> float:
    """``P(X >= k)`` for ``X ~ Poisson(mean)``, summed from ``k`` up (no cancellation: tiny
    tails stay accurate)."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    log_term = k * math.log(mean) - mean - math.lgamma(k + 1)
    total = 0.0
    i = k
    while True:
        term = math.exp(log_term)
        total += term
        i += 1
        log_term += math.log(mean) - math.log(i)
        # The terms fall once i > mean; stop when they no longer change the sum.
        if i > mean and term < total * 1e-17:
            break
        if i > k + 100_000:  # bound: mean and k come from at most a few million windows
            break
    return min(1.0, total)


Group = tuple[str, str]  # (asset, game)
Window = int


def find_collusion(
    hands: Sequence[SeatedHand], thresholds: CollusionThresholds | None = None
) -> CollusionReport:
    thresholds = thresholds or CollusionThresholds()
    # Who sat where in each window of each stakes group.
    at: dict[Group, dict[Window, dict[int, set[str]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(set))
    )
    for hand in hands:
        window = hand.ended_at_ms // thresholds.window_ms
        seats = at[(hand.asset, hand.game)][window]
        for player in hand.players:
            seats[player.player_id].add(hand.table_id)
    together: dict[tuple[Group, int, int], int] = defaultdict(int)
    for group, windows in at.items():
        for active in windows.values():
            by_table: dict[str, list[int]] = defaultdict(list)
            for player_id, tables in active.items():
                for table in tables:
                    by_table[table].append(player_id)
            shared: set[tuple[int, int]] = set()
            for seated in by_table.values():
                shared.update(combinations(sorted(seated), 2))
            for low, high in shared:
                together[(group, low, high)] += 1
    pairs_tested = len(together)
    p_value_max = thresholds.alpha / max(1, pairs_tested)
    chances = {group: _chances(windows) for group, windows in at.items()}
    found: list[tuple[Group, int, int, int, int, float, float]] = []
    for (group, low, high), k in together.items():
        if k < thresholds.windows_together_min:
            continue
        both, expected = _expectation(chances[group][low], chances[group][high])
        p_value = poisson_upper_tail(expected, k)
        if p_value <= p_value_max:
            found.append((group, low, high, k, both, expected, p_value))
    found.sort(key=lambda f: (f[6], f[0], f[1], f[2]))
    dropped = max(0, len(found) - SIGNALS_MAX)
    signals = [
        _signal(hands, group, low, high, k, both, expected, p_value)
        for group, low, high, k, both, expected, p_value in found[:SIGNALS_MAX]
    ]
    return CollusionReport(
        hands_scanned=len(hands),
        pairs_tested=pairs_tested,
        p_value_max=p_value_max,
        signals=tuple(signals),
        signals_dropped=dropped,
        thresholds=thresholds,
    )


def _chances(windows: dict[Window, dict[int, set[str]]]) -> dict[int, dict[Window, float]]:
    """Per player, per window she was active in: the chance that a given other active player
    of the window sits at one of her tables (computed once per window, not once per pair)."""
    chances: dict[int, dict[Window, float]] = defaultdict(dict)
    for window, players in windows.items():
        occupancy: dict[str, int] = defaultdict(int)
        for tables in players.values():
            for table in tables:
                occupancy[table] += 1
        others = len(players) - 1
        for player, tables in players.items():
            chances[player][window] = _chance(tables, occupancy, others) if others else 0.0
    return chances


def _expectation(mine: dict[Window, float], theirs: dict[Window, float]) -> tuple[int, float]:
    """(windows both were active, expected windows at one table) under the null: the larger
    of the two players' chances, in each window both were active."""
    common = mine.keys() & theirs.keys()
    expected = sum(max(mine[window], theirs[window]) for window in common)
    return len(common), expected


def _chance(tables: set[str], occupancy: dict[str, int], others: int) -> float:
    """The chance that a given other active player sits at one of ``tables``."""
    return min(1.0, sum(occupancy[t] - 1 for t in tables) / others)


def _signal(
    hands: Sequence[SeatedHand],
    group: Group,
    low: int,
    high: int,
    k: int,
    both: int,
    expected: float,
    p_value: float,
) -> CollusionSignal:
    asset, game = group
    per_table: dict[str, int] = defaultdict(int)
    shared: list[tuple[int, str]] = []
    for hand in hands:
        if (hand.asset, hand.game) != group:
            continue
        ids = {p.player_id for p in hand.players}
        if low in ids and high in ids:
            per_table[hand.table_id] += 1
            shared.append((hand.ended_at_ms, hand.hand_id))
    shared.sort(reverse=True)
    tables = sorted(per_table.items(), key=lambda item: (-item[1], item[0]))
    return CollusionSignal(
        flag_id=collusion_flag_id(asset, low, high),
        asset=asset,
        game=game,
        players=(low, high),
        windows_together=k,
        windows_both_active=both,
        expected_together=round(expected, 3),
        p_value=p_value,
        hands_together=len(shared),
        tables=tuple(SharedTable(t, n) for t, n in tables[:TABLES_LISTED_MAX]),
        hand_ids=tuple(hand_id for _, hand_id in shared[:HANDS_LISTED_MAX]),
        hands_truncated=len(shared) > HANDS_LISTED_MAX,
    )
