"""The ``tablium`` command.

Each subcommand lives in its own module with ``configure(parser)`` and ``run(args) -> int``;
this file only wires them together. Command modules import their heavy dependencies inside
``run()``, so ``tablium --help`` stays fast and a benchmark's dependencies never load for
``serve``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from typing import Protocol, cast

# name -> (module, one-line help). The module defines configure() and run(). A command whose
# module is not installed (yet) is simply not offered.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("server.commands.serve", "run the server: websocket gateway and admin HTTP API"),
    "migrate": ("server.commands.migrate", "apply database migrations and exit"),
    "backup": ("server.commands.backup", "write a consistent backup of the database"),
    "restore": ("server.commands.restore", "restore a backup into an empty database"),
    "token": ("server.commands.token", "print a signed access token (development and tests)"),
    "keys": ("server.commands.keys", "show and rotate the token and personal-data keys"),
    "hands": ("server.commands.hands", "simulate, replay and verify hand histories (PHH)"),
    "bench": ("server.commands.bench", "run a benchmark against its baseline"),
    "swarm": ("server.commands.swarm", "run the bot swarm against a server"),
    "audit": ("server.commands.audit", "audit the shuffle: randomness tests over many decks"),
    "ledger": ("server.commands.ledger", "audit the ledger: every invariant of the money"),
    "events": ("server.commands.events", "replay stored domain events for a rebuilt consumer"),
    "integrity": ("server.commands.integrity", "chip-dumping flags and collusion signals"),
    "rakeback": ("server.commands.rakeback", "verify, preview and distribute rakeback periods"),
    "players": ("server.commands.players", "player statistics: rebuild them from stored hands"),
}


class Command(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tablium",
        description="Tablium: a realtime poker server. Settings come from TABLIUM_* environment"
        " variables and an optional TOML file (see README.md).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        if importlib.util.find_spec(module_name) is None:
            continue
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        command_parser.set_defaults(_module=module_name)
        _load(module_name).configure(command_parser)
    return parser


def _load(module_name: str) -> Command:
    return cast(Command, importlib.import_module(module_name))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return _load(args._module).run(args)


if __name__ == "__main__":
    sys.exit(main())
