"""``tablium integrity report dumping|collusion``: the integrity reports of a period, from the
configured database (read only), as the admin API's ``GET /integrity/dumping`` and
``/integrity/collusion`` compute them (services/integrity.py, docs/integrity.md).

The period: hands that ended in [--from-ms, --to-ms); by default the --days (30) before now.
At most 92 days and 500,000 hands. ``--hands`` lists each flag's hands (a dumping flag's with
their patterns, read from their histories).

Exit status: 0 nothing raised, 1 flags or signals raised (each on a line of its own, or the
report as JSON with ``--json``), 2 a configuration error or a refused period.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from server.commands.settings_args import (
    CONFIG_ERROR_EXIT,
    add_config_argument,
    settings_from_args,
)

DAY_MS = 86_400_000


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="integrity_command", metavar="SUBCOMMAND", required=True)
    report = sub.add_parser(
        "report",
        help="chip-dumping flags or collusion signals of a period; exit 1 if any",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_argument(report)
    report.add_argument("kind", choices=("dumping", "collusion"))
    report.add_argument("--from-ms", type=int, metavar="MS", help="period start (ms since epoch)")
    report.add_argument("--to-ms", type=int, metavar="MS", help="period end (default: now)")
    report.add_argument(
        "--days", type=int, default=30, metavar="N", help="without --from-ms: N days (30)"
    )
    report.add_argument("--hands", action="store_true", help="list each flag's hands")
    report.add_argument("--json", action="store_true", help="print the whole report as JSON")


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, with_jwt_secret=False)
    if settings is None:
        return CONFIG_ERROR_EXIT
    now_ms = time.time_ns() // 1_000_000
    to_ms = args.to_ms if args.to_ms is not None else now_ms
    from_ms = args.from_ms if args.from_ms is not None else to_ms - args.days * DAY_MS
    report = _report(settings.effective_database_url(), args.kind, from_ms, to_ms, args.hands)
    if report is None:
        return CONFIG_ERROR_EXIT
    raised = report["flags"] if args.kind == "dumping" else report["signals"]
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        _print(args.kind, report, args.hands)
    return 1 if raised else 0


def _report(
    url: str, kind: str, from_ms: int, to_ms: int, list_hands: bool
) -> dict[str, Any] | None:
    import msgspec
    import trio

    from persistence import open_store
    from persistence.migrations import MigrationError
    from services import integrity

    async def compute() -> dict[str, Any]:
        period = integrity.Period.of(from_ms, to_ms, to_ms)
        async with open_store(url, migrate=False) as store:
            if kind == "dumping":
                found: Any = await integrity.dumping_report(store, period, list_hands=list_hands)
            else:
                found = await integrity.collusion_report(store, period, list_hands=list_hands)
            return {"from_ms": period.from_ms, "to_ms": period.to_ms, **msgspec.to_builtins(found)}

    try:
        return trio.run(compute)
    except integrity.IntegrityRefused as exc:
        print(f"tablium integrity report: {exc.code}: {exc}", file=sys.stderr)
    except (MigrationError, OSError) as exc:
        print(f"tablium integrity report: {exc}", file=sys.stderr)
    return None


def _print(kind: str, report: dict[str, Any], list_hands: bool) -> None:
    print(f"{report['hands_scanned']} hands that ended in [{report['from_ms']}, {report['to_ms']})")
    if kind == "dumping":
        print(
            f"{report['pairs_with_flows']} pairs with chips between them;"
            f" a flag needs p <= {report['p_value_max']:.3g}"
        )
        for flag in report["flags"]:
            print(
                f"{flag['flag_id']}: {flag['giver']} -> {flag['receiver']} net"
                f" {flag['net_bb']} bb ({flag['chips_to_receiver'] - flag['chips_to_giver']}"
                f" chips) over {flag['contested_hands']} contested hands of"
                f" {flag['hands_together']}, one-way share {flag['one_way_share']},"
                f" p {flag['p_value']:.3g}"
            )
            for hand in flag["hands"] if list_hands else ():
                patterns = ",".join(hand["patterns"]) or "-"
                print(f"  {hand['hand_id']} {hand['table_id']} {hand['bb']} bb {patterns}")
        print(f"{len(report['flags'])} flagged")
        return
    print(
        f"{report['pairs_tested']} pairs shared a table; a signal needs"
        f" p <= {report['p_value_max']:.3g}"
    )
    for signal in report["signals"]:
        first, second = signal["players"]
        tables = ", ".join(t["table_id"] for t in signal["tables"][:5])
        print(
            f"{signal['flag_id']} ({signal['game']}): {first} and {second} together in"
            f" {signal['windows_together']} of {signal['windows_both_active']} windows"
            f" (expected {signal['expected_together']}), p {signal['p_value']:.3g};"
            f" {signal['hands_together']} hands at {tables}"
        )
        for hand_id in signal["hand_ids"] if list_hands else ():
            print(f"  {hand_id}")
    print(f"{len(report['signals'])} signalled")
