"""The ``tablium`` command.

Each subcommand lives in its own module with ``configure(parser)`` and ``run(args) -> int``;
this file only wires them together. Command modules import their heavy dependencies inside
``run()``, so ``tablium --help`` stays fast and a benchmark's dependencies never load for
``serve``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

# name -> (module, one-line help). The module defines configure() and run().
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("server.commands.serve", "run the server: websocket gateway and admin HTTP API"),
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
