"""``tablium swarm``: point the bot swarm at a server (the swarm itself lives in loadtest/)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

STAFF_TOKEN_ENV = "TABLIUM_SWARM_STAFF_TOKEN"  # a token on the command line shows in `ps`
METRICS_TOKEN_ENV = "TABLIUM_METRICS_TOKEN"  # the same variable the server reads
CASH_DURATION_S = 60.0
TOURNAMENT_WAIT_S = 600.0  # hyper with 1,000 bots ends in minutes; a stuck event does not


def configure(parser: argparse.ArgumentParser) -> None:
    from loadtest.strategies import STRATEGY_CHOICES
    from poker.tournament.presets import PRESETS

    parser.add_argument("--url", required=True, help="the server's websocket, ws://HOST:PORT")
    parser.add_argument("--bots", type=int, required=True, metavar="N")
    parser.add_argument(
        "--ramp",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="spread the bots' starts over this long (default 10)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="cash: play this long after the ramp (default 60); tournament: the longest to"
        " wait for the winner after the ramp (default 600)",
    )
    parser.add_argument(
        "--scenario",
        default="cash",
        choices=("cash", "tournament"),
        help="cash: quick-seat at cash tables and play for --duration; tournament: register"
        " every bot for one tournament and play it to the winner, following moves"
        " (default cash)",
    )
    parser.add_argument(
        "--tournament-id",
        default=None,
        metavar="ID",
        help="tournament scenario: the tournament to register for (it must be open for"
        " registration); without it the swarm creates one through --admin-url with a"
        " director or admin --staff-token",
    )
    parser.add_argument(
        "--preset",
        default="hyper",
        choices=sorted(PRESETS),
        help="tournament scenario, creating one: the structure preset (default hyper: a"
        " winner in minutes)",
    )
    parser.add_argument(
        "--strategy",
        default="mix",
        choices=STRATEGY_CHOICES,
        help="how bots play; mix: random, tag, station, flaky in turn",
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="think time before each action, about (0: full speed; default 2)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="K",
        help="spread the bots over K processes (default 1)",
    )
    parser.add_argument(
        "--admin-url",
        default=None,
        metavar="URL",
        help="the server's admin API: funds bots and scrapes /metrics",
    )
    parser.add_argument(
        "--staff-token",
        default=None,
        metavar="TOKEN",
        help=f"a staff token (or ${STAFF_TOKEN_ENV}): support or admin to fund bots, director"
        " or admin to create a tournament (admin does both); make one with `tablium token"
        " --player swarm --role admin`",
    )
    parser.add_argument(
        "--metrics-token",
        default=None,
        metavar="TOKEN",
        help=f"the server's /metrics token when it has one (or ${METRICS_TOKEN_ENV})",
    )
    parser.add_argument(
        "--asset",
        default=None,
        choices=("play", "chips"),
        help="play: play-money tables, needing no staff token (the bots claim play chips);"
        " chips: real money, credited through --admin-url with --staff-token"
        " (default: chips when both are given, else play)",
    )
    parser.add_argument(
        "--name-prefix",
        default="bot",
        help="bot names are PREFIX00000, PREFIX00001, ... (default bot)",
    )
    parser.add_argument("--big-blind", type=int, default=2, help="the game (default 2)")
    parser.add_argument("--variant", default="NT", choices=("NT", "FT", "PO", "PT", "PO/8"))
    parser.add_argument(
        "--buy-in",
        type=int,
        default=None,
        help="cash: the buy-in; tournament, creating one: its buy-in to the prize pool (and a"
        " tenth of it as the fee); default 100 big blinds",
    )
    parser.add_argument(
        "--disconnect-chance",
        type=float,
        default=None,
        metavar="P",
        help="the flaky strategy's chance to drop after an action (default .05)",
    )
    parser.add_argument("--seed", type=int, default=1, help="the bots' decisions (default 1)")
    parser.add_argument("--report", type=Path, default=None, metavar="FILE.json")
    parser.add_argument(
        "--chart",
        type=Path,
        default=None,
        metavar="FILE.png",
        help="default: the report's name with .png (needs matplotlib)",
    )
    parser.add_argument("--quiet", action="store_true", help="no live progress lines")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    import trio

    from loadtest.swarm import SwarmError, SwarmOptions, print_summary, run_swarm, write_outputs

    if args.duration is None:
        args.duration = TOURNAMENT_WAIT_S if args.scenario == "tournament" else CASH_DURATION_S
    if args.bots < 1 or args.processes < 1 or args.ramp < 0 or args.duration <= 0:
        print("tablium swarm: need --bots >= 1, --processes >= 1, --ramp >= 0, --duration > 0",
              file=sys.stderr)  # fmt: skip
        return 2
    options = SwarmOptions(
        url=args.url,
        bots=args.bots,
        ramp_s=args.ramp,
        duration_s=args.duration,
        pace_s=max(0.0, args.pace),
        strategy=args.strategy,
        scenario=args.scenario,
        processes=args.processes,
        seed=args.seed,
        admin_url=args.admin_url,
        staff_token=args.staff_token or os.environ.get(STAFF_TOKEN_ENV) or None,
        metrics_token=args.metrics_token or os.environ.get(METRICS_TOKEN_ENV) or None,
        name_prefix=args.name_prefix,
        variant=args.variant,
        big_blind=args.big_blind,
        buy_in=args.buy_in or 100 * args.big_blind,
        asset=args.asset,
        flaky_disconnect_chance=args.disconnect_chance,
        tournament_id=args.tournament_id,
        preset=args.preset,
    )
    try:
        report = trio.run(run_swarm, options, None if args.quiet else sys.stderr)
    except SwarmError as exc:
        print(f"tablium swarm: {exc}", file=sys.stderr)
        return 1
    chart = args.chart or (args.report.with_suffix(".png") if args.report else None)
    write_outputs(report, args.report, chart)
    print_summary(report)
    return 0
