"""``tablium serve``: start the process and run until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse

from server.commands.settings_args import (
    CONFIG_ERROR_EXIT,
    add_config_argument,
    settings_from_args,
)


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, with_jwt_secret=True)
    if settings is None:
        return CONFIG_ERROR_EXIT
    import trio

    from server.app import serve_until_signalled
    from server.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    trio.run(serve_until_signalled, settings)
    return 0
