"""``tablium bench NAME``: a benchmark and its baseline, measured in the same run.

Each benchmark is a module ``server.bench.NAME`` with ``configure(parser)`` and ``run(args)``.
Benchmarks print one human line per figure, or with ``--json`` one machine-readable line.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from typing import cast

from server.cli import Command

BENCHMARKS: dict[str, str] = {
    "engine": "rules engine hands/s against PokerKit on the same hands",
    "actors": "actor tell/ask throughput against a raw trio memory channel",
    "gateway": "gateway request round trips against a raw trio-websocket echo",
    "ledger": "ledger transfers/s against raw asyncpg inserts",
    "tournament": "a whole MTT to a winner on the tournament core and the rules engine",
    "chain": "gas per withdrawal in batches against single ones, and the watcher's blocks/s",
    "table": "server CPU per poker action against a raw websocket server sending the same frames",
    "api": "public API GET /v1/lobby/tables (200 and 304) against a bare quart-trio route",
    "events": "outbox events relayed to RabbitMQ with confirms against direct publishing",
    "players": "statistics consumer hands/s; leaderboard top-100 and my-rank, Redis against"
    " the database, with 1,000,000 players",
    "cluster": "a request's cost with the address rate limit shared through Redis against"
    " the node's own bucket",
}


def _module_name(name: str) -> str:
    return f"server.bench.{name}"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="benchmark", metavar="NAME", required=True)
    for name, help_text in BENCHMARKS.items():
        module_name = _module_name(name)
        if importlib.util.find_spec(module_name) is None:
            continue
        bench_parser = sub.add_parser(name, help=help_text, description=help_text)
        bench_parser.add_argument(
            "--json", action="store_true", help="print one machine-readable JSON line"
        )
        cast(Command, importlib.import_module(module_name)).configure(bench_parser)


def run(args: argparse.Namespace) -> int:
    module = cast(Command, importlib.import_module(_module_name(args.benchmark)))
    return module.run(args)
