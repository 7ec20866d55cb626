"""``tablium rakeback``: verify, preview and distribute rakeback periods on the database.

- ``verify --period P [--scope S]``: recompute the period hand by hand from the stored hand
  records (and tournament fee transfers) under the program stored with it, and compare with
  what was accrued and what the ledger paid. Every scope (the house and each club) unless
  ``--scope`` names one. Exit 0 when everything agrees, 1 on any disagreement (each printed),
  2 on a configuration error or a bad period.
- ``preview --period P --scope S``: what a distribution would pay (nothing is written).
- ``distribute --period P --scope S --reason TEXT``: freeze, fund, pay and close the period
  (audited as the operator ``cli``); safe to repeat, and to rerun after a crash.

A period is ``day:YYYY-MM-DD`` or ``week:YYYY-MM-DD`` (a Monday), as the server's
``rakeback_period`` setting says; a scope is ``house`` or ``club:<id>``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from server.commands.settings_args import (
    CONFIG_ERROR_EXIT,
    add_config_argument,
    settings_from_args,
)


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="rakeback_command", metavar="SUBCOMMAND", required=True)
    description = __doc__.split("\n\n", 1)[1] if __doc__ else None
    for name, text in (
        ("verify", "recompute a period from the hand histories; exit 1 on a disagreement"),
        ("preview", "what distributing a period would pay (writes nothing)"),
        ("distribute", "pay a period (audited; idempotent; resumes after a crash)"),
    ):
        command = sub.add_parser(
            name, help=text, description=description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )  # fmt: skip
        add_config_argument(command)
        command.add_argument("--period", required=True, metavar="P", help="day:... or week:...")
        command.add_argument(
            "--scope", required=name != "verify", metavar="S", help="house or club:<id>"
        )
        command.add_argument("--json", action="store_true", help="print the result as JSON")
        if name == "distribute":
            command.add_argument("--reason", required=True, help="why (the audit log keeps it)")


def run(args: argparse.Namespace) -> int:
    from rakeback.periods import InvalidPeriodId, parse_period

    settings = settings_from_args(args, with_jwt_secret=False)
    if settings is None:
        return CONFIG_ERROR_EXIT
    try:
        period = parse_period(args.period)
    except InvalidPeriodId as exc:
        print(f"tablium rakeback: {exc}", file=sys.stderr)
        return CONFIG_ERROR_EXIT
    import trio

    from persistence.migrations import MigrationError
    from services.rakeback import RakebackError

    try:
        code, report = trio.run(_run, settings, args, period)
    except (MigrationError, OSError, RakebackError) as exc:
        print(f"tablium rakeback: {exc}", file=sys.stderr)
        return CONFIG_ERROR_EXIT
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    return code


async def _run(settings: Any, args: argparse.Namespace, period: Any) -> tuple[int, Any]:
    import msgspec

    from persistence import open_store
    from persistence.audit import AuditStamp
    from server.rakeback_settings import rakeback_policy_of
    from services.rakeback import Rakeback
    from services.wallet import Wallet

    async with open_store(settings.effective_database_url(), migrate=False) as store:
        service = Rakeback(store, Wallet(store), rakeback_policy_of(settings))
        if args.rakeback_command == "verify":
            scopes = [args.scope] if args.scope else await service.scopes()
            results = [await service.verify(scope, period) for scope in scopes]
            for r in results:
                if not args.json:
                    never = r.problems == [f"{period.id} was never distributed"]
                    state = "not distributed" if never else ("ok" if r.ok else "DISAGREES")
                    print(f"{r.scope} {r.period}: {r.hands} hands, accrued {r.accrued},"
                          f" paid {r.paid}: {state}")  # fmt: skip
                    for problem in r.problems if not never else ():
                        print(f"  {problem}")
            bad = any(not r.ok and r.problems != [f"{period.id} was never distributed"]
                      for r in results)  # fmt: skip
            return (1 if bad else 0), msgspec.to_builtins(results)
        if args.rakeback_command == "preview":
            preview = await service.preview(args.scope, period)
            if not args.json:
                print(f"{preview.scope} {preview.period} ({preview.state}): rake"
                      f" {preview.rake_cash} cash + {preview.rake_tournament} tournament;"
                      f" pays {preview.paid}; house keeps {preview.house_kept},"
                      f" the program's account {preview.payer_kept}")  # fmt: skip
            return 0, msgspec.to_builtins(preview)
        stamp = AuditStamp(
            subject=f"cli:{getpass.getuser()}", role="admin", action="rakeback.distribute",
            target=f"rakeback:{args.scope}:{period.id}", reason=args.reason, request_id="cli",
        )  # fmt: skip
        done = await service.distribute(args.scope, period, stamp)
        if not args.json:
            print(
                f"{done.scope} {done.period}: {done.state}; rakeback {done.rakeback_paid},"
                f" commission {done.commission_paid}; {done.paid_now} paid by this run"
            )
        return 0, msgspec.to_builtins(done)
