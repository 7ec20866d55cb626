"""``tablium players``: the player service's maintenance.

``rebuild-stats`` recounts every statistic, experience total, level, achievement and
leaderboard score from the stored hand histories (services/player_stats.py), then, when Redis
is configured, loads the leaderboards into it again. Each hand is counted once even while a
server runs (a hand stored meanwhile is skipped when the rebuild reaches it), but its
figures are incomplete until the rebuild ends: run it with the server stopped.
"""

from __future__ import annotations

import argparse
import sys

from server.commands.settings_args import (
    CONFIG_ERROR_EXIT,
    add_config_argument,
    settings_from_args,
)


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="players_command", metavar="ACTION", required=True)
    rebuild = sub.add_parser(
        "rebuild-stats",
        help="recount statistics, XP, levels and leaderboards from the stored hands",
        description="Empty the statistics, experience, achievement and leaderboard tables and"
        " count every stored hand history again, oldest first (docs/players.md). Safe to run"
        " again if interrupted. With Redis configured, its leaderboards are reloaded after.",
    )
    add_config_argument(rebuild)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, with_jwt_secret=False)
    if settings is None:
        return CONFIG_ERROR_EXIT
    import trio

    from persistence.store import open_store
    from services.player_stats import RebuildReport, rebuild_stats

    url = settings.effective_database_url()

    async def rebuild() -> tuple[RebuildReport, int | None]:
        async with open_store(url) as store:
            report = await rebuild_stats(store)
            mirrored = None
            if settings.redis_url:
                from persistence.leaderboards_redis import RedisLeaderboards
                from persistence.redis_link import open_redis
                from services.leaderboards import Leaderboards

                async with open_redis(settings.redis_url) as link:
                    mirrored = await Leaderboards(store, RedisLeaderboards(link)).resync()
            return report, mirrored

    try:
        report, mirrored = trio.run(rebuild)
    except OSError as exc:
        print(f"tablium players: {exc}", file=sys.stderr)
        return 1
    print(f"counted {report.hands_counted} of {report.hands_read} stored hands")
    if mirrored is not None:
        print(f"loaded {mirrored} leaderboard scores into Redis")
    return 0
