"""``tablium bench tournament``: a whole MTT to a winner in one process, on the tournament
core (``poker.tournament``) and the rules engine (``poker.Hand``), no network.

Every entrant registers, the event starts, and tables play hands with random legal actions
(seeded) on a simulated clock (``poker.tournament.simulate``: a hand lasts ``--decision-ms``
per decision plus the structure's pause between hands, tables side by side), through
balancing, table breaks, hand-for-hand and payouts, until one player has every chip. The
figures: hands and decisions played, wall time and this thread's CPU time (the machine may
be shared), hands per second. The goal: 10,000 entrants to a winner in under 10 minutes.

There is no baseline to run beside it: this measures our core alone.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable

# Bounds (policy: argparse error).
ENTRANTS_MAX = 100_000


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"between {low} and {high}")
        return value

    return parse


def configure(parser: argparse.ArgumentParser) -> None:
    from poker.tournament import PRESETS

    parser.add_argument(
        "--entrants",
        type=_bounded(2, ENTRANTS_MAX),
        default=10_000,
        help="entries in the event (10,000)",
    )
    parser.add_argument(
        "--structure", choices=sorted(PRESETS), default="hyper", help="preset structure (hyper)"
    )
    parser.add_argument(
        "--policy",
        choices=("random", "passive"),
        default="random",
        help="random: poker.simulate's random legal play; passive: fewer bets and all-ins,"
        " many more hands (random)",
    )
    parser.add_argument("--seats", type=_bounded(3, 10), default=9, help="seats per table (9)")
    parser.add_argument(
        "--decision-ms",
        type=_bounded(1, 60_000),
        default=1_000,
        help="simulated time a decision takes (1000)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for cards, play and draws (1)")


def run(args: argparse.Namespace) -> int:
    from poker.simulate import choose_action
    from poker.tournament import BountyKind, Tournament, TournamentConfig, preset
    from poker.tournament.simulate import passive_action
    from poker.tournament.simulate import run as simulate

    rng = random.Random(args.seed)
    config = TournamentConfig(
        structure=preset(args.structure),
        seats_per_table=args.seats,
        buy_in=100,
        fee=10,
        bounty=50,
        bounty_kind=BountyKind.PROGRESSIVE,
        entries_max=max(2, args.entrants),
    )
    wall_started, cpu_started = time.perf_counter(), time.thread_time()
    tournament = Tournament(config)
    for number in range(args.entrants):
        tournament.register(f"player-{number}")
    tournament.start(0, rng)
    setup_s = time.perf_counter() - wall_started
    policy = passive_action if args.policy == "passive" else choose_action
    result = simulate(tournament, rng, decision_ms=args.decision_ms, policy=policy)
    wall_s = time.perf_counter() - wall_started
    cpu_s = time.thread_time() - cpu_started
    figures = {
        "entrants": result.entries,
        "structure": args.structure,
        "policy": args.policy,
        "seats": args.seats,
        "seed": args.seed,
        "hands": result.hands,
        "decisions": result.decisions,
        "wall_s": round(wall_s, 3),
        "cpu_s": round(cpu_s, 3),
        "setup_s": round(setup_s, 3),
        "hands_per_s": round(result.hands / wall_s, 1),
        "hands_per_cpu_s": round(result.hands / cpu_s, 1) if cpu_s else None,
        "simulated_minutes": round(result.simulated_ms / 60_000, 1),
        "moves": result.moves,
        "tables_broken": result.tables_broken,
        "hand_for_hand_periods": result.hand_for_hand_periods,
        "winner": result.winner,
        "goal_s": 600,
    }
    if args.json:
        print(json.dumps(figures, separators=(",", ":")))
        return 0
    print(
        f"tournament: {result.entries:,} entrants, structure {args.structure},"
        f" {args.seats}-max, {args.policy} play, seed {args.seed}"
    )
    print(f"hands:      {result.hands:>12,} ({result.decisions:,} decisions)")
    print(f"wall time:  {wall_s:>12,.2f} s (goal: a winner in under 600 s)")
    print(f"cpu time:   {cpu_s:>12,.2f} s (this thread)")
    print(f"hands/s:    {figures['hands_per_s']:>12,} (wall)")
    print(f"simulated:  {figures['simulated_minutes']:>12,} minutes of play")
    print(f"moves:      {result.moves:>12,} ({result.tables_broken:,} tables broken)")
    print(f"winner:     entry {result.winner}")
    return 0
