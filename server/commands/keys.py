"""``tablium keys``: the token keys and the personal-data keys, for operators.

- ``tablium keys show``: the keys in use, by id, with their ends (never a secret).
- ``tablium keys rotate [--overlap-s S] [--kid KID] [--write]``: a new current token key; the
  current one verifies for S more seconds (default: every token it signed has expired by
  then, plus an hour to deploy). Prints the new ring as JSON, for ``TABLIUM_JWT_KEYS`` (a
  Kubernetes Secret's ``jwt-keys``); with ``--write``, keeps it in the data directory
  (``jwt_keys.json``, mode 0600) instead, for servers whose keys live there.
- ``tablium keys rotate-data [--kid KID]``: a new current data key; prints the new data key
  ring as JSON, for ``TABLIUM_DATA_KEYS``. Values sealed under the previous key still open.
- ``tablium keys reseal``: with the new ring in ``TABLIUM_DATA_KEYS``, moves every stored
  sealed value (the public API sessions' client address and user agent) to the current key.
  Exit status 1 when some value does not open with the ring (its key is missing): do not
  remove a previous key until it exits 0.

The server reads keys at start-up: restart it (``kubectl rollout restart``) after changing
them. docs/operations.md, "Keys", has the whole procedure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from server.commands.settings_args import (
    CONFIG_ERROR_EXIT,
    add_config_argument,
    settings_from_args,
)

KEY_ID_HELP = "the new key's id (default: from the current UTC time)"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="list the keys in use (ids and ends, no secrets)")
    add_config_argument(show)
    rotate = sub.add_parser("rotate", help="a new current token signing key")
    add_config_argument(rotate)
    rotate.add_argument(
        "--overlap-s",
        type=int,
        default=None,
        metavar="SECONDS",
        help="how long the current key keeps verifying (default: a token's lifetime + 1 h)",
    )
    rotate.add_argument("--kid", default=None, help=KEY_ID_HELP)
    rotate.add_argument(
        "--write",
        action="store_true",
        help="keep the ring in the data directory (jwt_keys.json) instead of printing it",
    )
    rotate_data = sub.add_parser("rotate-data", help="a new current personal-data key")
    add_config_argument(rotate_data)
    rotate_data.add_argument("--kid", default=None, help=KEY_ID_HELP)
    reseal = sub.add_parser(
        "reseal",
        help="move stored personal data to the current data key (after rotate-data)",
        description="Re-seal every stored sealed value under the current key of"
        " TABLIUM_DATA_KEYS, in the database the settings name. Safe to run while the server"
        " runs and to run again. Exit status 1 when a value does not open with the ring.",
    )
    add_config_argument(reseal)


def run(args: argparse.Namespace) -> int:
    if args.keys_command == "show":
        return _show(args)
    if args.keys_command == "rotate":
        return _rotate(args)
    if args.keys_command == "reseal":
        return _reseal(args)
    return _rotate_data(args)


def _show(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, with_jwt_secret=True)
    if settings is None:
        return CONFIG_ERROR_EXIT
    print("token keys:")
    for line in settings.token_keys().describe():
        print(f"  {line}")
    print("data keys:")
    if settings.data_keys is None:
        print("  none (TABLIUM_DATA_KEYS is not set)")
    else:
        for line in settings.data_keys.describe():
            print(f"  {line}")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from server.auth import ROTATION_OVERLAP_S
    from server.config import JWT_KEYS_FILE
    from server.token_keys import TokenKeyError, new_token_key

    as_set = settings_from_args(args, with_jwt_secret=False)
    if as_set is None:
        return CONFIG_ERROR_EXIT
    if args.write and (as_set.jwt_keys is not None or as_set.jwt_secret):
        print(
            "tablium: --write keeps keys in the data directory, but TABLIUM_JWT_KEYS or"
            " TABLIUM_JWT_SECRET is set and would win over it; put the printed ring in"
            " TABLIUM_JWT_KEYS instead (without --write)",
            file=sys.stderr,
        )
        return 2
    overlap_s = ROTATION_OVERLAP_S if args.overlap_s is None else args.overlap_s
    settings = settings_from_args(args, with_jwt_secret=True)
    if settings is None:
        return CONFIG_ERROR_EXIT
    now_s = int(time.time())
    try:
        ring = settings.token_keys().rotated(
            new_token_key(args.kid, now_s=now_s), now_s=now_s, overlap_s=overlap_s
        )
    except TokenKeyError as exc:
        print(f"tablium: {exc}", file=sys.stderr)
        return 2
    if not args.write:
        print(ring.to_json())
        return 0
    path = settings.data_dir / JWT_KEYS_FILE
    partial = path.with_name(f"{path.name}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(ring.to_json() + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, path)
    print(f"wrote {path}; restart the server to use it:")
    for line in ring.describe():
        print(f"  {line}")
    return 0


def _rotate_data(args: argparse.Namespace) -> int:
    from services.personal_data import DataKeyError, DataKeyRing, new_data_key

    settings = settings_from_args(args, with_jwt_secret=False)
    if settings is None:
        return CONFIG_ERROR_EXIT
    new_key = new_data_key(args.kid, now_s=int(time.time()))
    try:
        ring = (
            DataKeyRing(new_key)
            if settings.data_keys is None
            else settings.data_keys.rotated(new_key)
        )
    except DataKeyError as exc:
        print(f"tablium: {exc}", file=sys.stderr)
        return 2
    print(ring.to_json())
    return 0


def _reseal(args: argparse.Namespace) -> int:
    import trio

    from api.sessions import ResealReport, reseal_sessions
    from persistence import open_store
    from persistence.migrations import MigrationError
    from services.personal_data import PersonalDataCipher

    settings = settings_from_args(args, with_jwt_secret=False)
    if settings is None:
        return CONFIG_ERROR_EXIT
    keys = settings.data_keys
    if keys is None:
        print("tablium: TABLIUM_DATA_KEYS is not set: nothing is sealed", file=sys.stderr)
        return CONFIG_ERROR_EXIT
    url = settings.effective_database_url()

    async def reseal() -> ResealReport:
        async with open_store(url, migrate=False) as store:
            return await reseal_sessions(store, PersonalDataCipher(keys))

    try:
        report = trio.run(reseal)
    except (MigrationError, OSError) as exc:
        print(f"tablium keys reseal: {exc}", file=sys.stderr)
        return CONFIG_ERROR_EXIT
    print(f"api sessions: {report.resealed} resealed under {report.current_kid}")
    if report.unopenable:
        print(
            f"api sessions: {report.unopenable} with a value that does not open with this ring"
            " (its key is missing): left as they are",
            file=sys.stderr,
        )
        return 1
    return 0
