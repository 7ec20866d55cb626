"""The ``--config`` option every command that reads the process settings shares."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.config import ConfigError, Settings, ensure_jwt_secret, load_settings

CONFIG_ERROR_EXIT = 2


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE.toml",
        help="TOML file of settings (keys as in README.md); TABLIUM_* variables override it",
    )


def settings_from_args(args: argparse.Namespace, *, with_jwt_secret: bool) -> Settings | None:
    """The settings, or None after printing the one-line configuration error."""
    try:
        settings = load_settings(config_file=args.config)
        return ensure_jwt_secret(settings) if with_jwt_secret else settings
    except ConfigError as exc:
        print(f"tablium: configuration error: {exc}", file=sys.stderr)
        return None
