"""``tablium token --player NAME --role ROLE``: print an access token for development and tests.

The token is signed with the current key of the server's configured keys (TABLIUM_JWT_KEYS or
TABLIUM_JWT_SECRET, or the ones kept in the data directory), so a server started with the
same settings accepts it. Anyone who can
run this can be any player, admin included: it reads the same secret the server does.
"""

from __future__ import annotations

import argparse
import sys

from server.commands.settings_args import (
    CONFIG_ERROR_EXIT,
    add_config_argument,
    settings_from_args,
)

ROLE_CHOICES = ("player", "director", "support", "admin")  # as protocol.messages.ROLES


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("--player", required=True, metavar="NAME", help="the token's player")
    parser.add_argument("--role", default="player", choices=ROLE_CHOICES, help="default: player")
    parser.add_argument(
        "--ttl-s",
        type=int,
        default=None,
        metavar="SECONDS",
        help="lifetime (default and maximum: 24 h; the server refuses longer-lived tokens)",
    )
    parser.add_argument(
        "--session-id", default=None, metavar="SID", help="session id (default: a fresh one)"
    )


def run(args: argparse.Namespace) -> int:
    from protocol.messages import PLAYER_NAME_CHARS_MAX
    from server.auth import TOKEN_TTL_S, TokenSigner

    settings = settings_from_args(args, with_jwt_secret=True)
    if settings is None:
        return CONFIG_ERROR_EXIT
    if not 1 <= len(args.player) <= PLAYER_NAME_CHARS_MAX:
        print(f"tablium: --player must be 1-{PLAYER_NAME_CHARS_MAX} characters", file=sys.stderr)
        return 2
    if args.ttl_s is not None and not 0 < args.ttl_s <= TOKEN_TTL_S:
        print(f"tablium: --ttl-s must be 1-{TOKEN_TTL_S}", file=sys.stderr)
        return 2
    signer = TokenSigner(
        settings.token_keys(), session_lifetime_max_s=settings.session_lifetime_max_s
    )
    token, _claims = signer.issue(
        args.player, args.role, session_id=args.session_id, ttl_s=args.ttl_s
    )
    print(token)
    return 0
