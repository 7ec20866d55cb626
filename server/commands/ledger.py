"""``tablium ledger audit``: check every invariant of the money; exit 1 on a violation.

The same check as the admin API's ``GET /ledger/audit`` (services/ledger_audit.py):

- on the configured database (default): the sum per asset, accounts overdrawn or disagreeing
  with their transfers, every tournament prize pool against its entries and payouts, and every
  table escrow's figures. Live tables' seats are not in the database, so the escrows are not
  checked against seats here; the report says so.
- with ``--admin-url`` (and a staff token with ``ledger:read``: ``--staff-token`` or
  ``$TABLIUM_STAFF_TOKEN``): asks a running server, whose answer also checks each live
  table's chips against its escrow.

Exit status: 0 consistent, 1 a violation (each printed on a line of its own, or the report as
JSON with ``--json``), 2 a configuration error or a server that could not be asked.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from server.commands.settings_args import (
    CONFIG_ERROR_EXIT,
    add_config_argument,
    settings_from_args,
)

STAFF_TOKEN_ENV = "TABLIUM_STAFF_TOKEN"
ADMIN_TIMEOUT_S = 60.0  # the audit reads every account and transfer


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="ledger_command", metavar="SUBCOMMAND", required=True)
    audit = sub.add_parser(
        "audit",
        help="check the ledger's invariants; exit 1 on a violation",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_argument(audit)
    audit.add_argument(
        "--admin-url",
        metavar="URL",
        help="ask this running server (http://HOST:ADMIN_PORT) instead of the database",
    )
    audit.add_argument(
        "--staff-token",
        metavar="TOKEN",
        help=f"a token with ledger:read for --admin-url (or ${STAFF_TOKEN_ENV})",
    )
    audit.add_argument("--json", action="store_true", help="print the whole report as JSON")


def run(args: argparse.Namespace) -> int:
    if args.admin_url:
        report = _ask_server(args.admin_url, args.staff_token or os.environ.get(STAFF_TOKEN_ENV))
        if report is None:
            return CONFIG_ERROR_EXIT
    else:
        settings = settings_from_args(args, with_jwt_secret=False)
        if settings is None:
            return CONFIG_ERROR_EXIT
        report = _audit_database(settings.effective_database_url())
        if report is None:
            return CONFIG_ERROR_EXIT
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        _print(report)
    return 0 if report["consistent"] else 1


def _audit_database(url: str) -> dict[str, Any] | None:
    import msgspec
    import trio

    from persistence import open_store
    from persistence.migrations import MigrationError
    from services.ledger_audit import audit_ledger
    from services.wallet import Wallet

    async def audit() -> dict[str, Any]:
        async with open_store(url, migrate=False) as store:
            report = await audit_ledger(Wallet(store))
            return msgspec.to_builtins(report)  # type: ignore[no-any-return]

    try:
        return trio.run(audit)
    except (MigrationError, OSError) as exc:
        print(f"tablium ledger audit: {exc}", file=sys.stderr)
        return None


def _ask_server(admin_url: str, token: str | None) -> dict[str, Any] | None:
    import httpx

    if not token:
        print(
            f"tablium ledger audit: --admin-url needs --staff-token or ${STAFF_TOKEN_ENV}",
            file=sys.stderr,
        )
        return None
    try:
        response = httpx.get(
            admin_url.rstrip("/") + "/ledger/audit",
            headers={"Authorization": f"Bearer {token}"},
            timeout=ADMIN_TIMEOUT_S,
        )
    except httpx.HTTPError as exc:
        print(f"tablium ledger audit: {admin_url} could not be asked: {exc}", file=sys.stderr)
        return None
    if response.status_code != 200:
        print(
            f"tablium ledger audit: {admin_url} answered {response.status_code}: "
            f"{response.text[:300]}",
            file=sys.stderr,
        )
        return None
    report: dict[str, Any] = response.json()
    return report


def _print(report: dict[str, Any]) -> None:
    ledger = report["ledger"]
    by_asset = sorted(ledger["balance_by_asset"].items())
    sums = ", ".join(f"{asset} {total}" for asset, total in by_asset)
    print(
        f"ledger: {ledger['accounts']} accounts, {ledger['transfers']} transfers;"
        f" sum per asset: {sums or 'no accounts'}"
    )
    escrows = report["escrows"]
    held = sum(pool["balance"] for pool in escrows)
    if report["tables_checked"]:
        print(f"tables: {len(report['tables'])} live tables checked against their escrows")
    else:
        print(
            f"tables: {len(escrows)} escrows hold {held} chips; not checked against seats"
            " (no live server asked: use --admin-url)"
        )
    pools = report["prize_pools"]
    print(f"prize pools: {len(pools)} checked against their entries and payouts")
    for violation in report["violations"]:
        print(f"VIOLATION {violation['code']} {violation['subject']}: {violation['detail']}")
    print("consistent" if report["consistent"] else "INCONSISTENT")
