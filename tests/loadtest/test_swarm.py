"""A small swarm against an in-process server: the figures it reports are the ones it saw."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trio

from loadtest.swarm import SwarmOptions, run_swarm
from server.app import Listening, run_server
from server.auth import TokenSigner
from server.config import Settings

JWT_SECRET = "swarm-test-secret-" + "x" * 32


@asynccontextmanager
async def server(tmp_path: Path) -> AsyncIterator[Listening]:
    settings = Settings(ws_port=0, admin_port=0, data_dir=tmp_path, jwt_secret=JWT_SECRET)
    async with trio.open_nursery() as nursery:
        listening: Listening = await nursery.start(run_server, settings)
        yield listening
        nursery.cancel_scope.cancel()


def staff_token() -> str:
    token, _claims = TokenSigner(JWT_SECRET).issue("swarm", "support")
    return token


async def test_small_swarm_plays_hands_and_measures_every_action(tmp_path: Path) -> None:
    async with server(tmp_path) as listening:
        options = SwarmOptions(
            url=listening.ws_url,
            bots=8,
            ramp_s=0.5,
            duration_s=4.0,
            pace_s=0.0,
            admin_url=listening.admin_url,
            staff_token=staff_token(),
        )
        report = await run_swarm(options, progress=None)
    print(report["errors"], report["action_round_trip"], report["hands"])
    assert report["bots"]["connected_max"] == 8
    assert report["hands"] > 0
    assert report["action_round_trip"]["count"] > 0
