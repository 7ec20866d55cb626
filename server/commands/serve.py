"""``tablium serve``: start the process and run until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.config import ConfigError, ensure_jwt_secret, load_settings


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE.toml",
        help="TOML file of settings (keys as in README.md); TABLIUM_* variables override it",
    )


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    try:
        settings = ensure_jwt_secret(load_settings(config_file=args.config))
    except ConfigError as exc:
        print(f"tablium: configuration error: {exc}", file=sys.stderr)
        return 2
    import trio

    from server.app import serve_until_signalled
    from server.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    trio.run(serve_until_signalled, settings)
    return 0
