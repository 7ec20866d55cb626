"""Game integrity for staff, pure: chip-dumping flags, collusion signals, and the table rules
that refuse ratholing and two players of one address at one table. No I/O, no clock; the
storage-facing runner is persistence/integrity.py. See docs/integrity.md."""

from poker.integrity.collusion import (
    CollusionReport,
    CollusionSignal,
    CollusionThresholds,
    SharedTable,
    collusion_flag_id,
    find_collusion,
    poisson_upper_tail,
)
from poker.integrity.dumping import (
    DumpingFlag,
    DumpingHand,
    DumpingReport,
    DumpingThresholds,
    dumping_flag_id,
    find_dumping,
    with_patterns,
)
from poker.integrity.hands import SeatedHand, SeatedPlayer, big_blind_of, pair_flows
from poker.integrity.patterns import BIG_LOSS_WEAK_HAND, FOLDED_BEST_HAND, dumping_patterns

__all__ = [
    "BIG_LOSS_WEAK_HAND",
    "FOLDED_BEST_HAND",
    "CollusionReport",
    "CollusionSignal",
    "CollusionThresholds",
    "DumpingFlag",
    "DumpingHand",
    "DumpingReport",
    "DumpingThresholds",
    "SeatedHand",
    "SeatedPlayer",
    "SharedTable",
    "big_blind_of",
    "collusion_flag_id",
    "dumping_flag_id",
    "dumping_patterns",
    "find_collusion",
    "find_dumping",
    "pair_flows",
    "poisson_upper_tail",
    "with_patterns",
]
