"""A whole server (tables, ledger, gateway) whose Redis becomes unreachable in the middle of
a hand, through a TCP proxy in front of the real Redis: hands go on being dealt and
settled, a new login meanwhile gets ``server_busy``, the server recovers by itself when the
proxy carries traffic again, and afterwards every chip is where the ledger says."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import trio

from persistence.redis_link import PROBE_INTERVAL_S
from protocol import game
from protocol.client import Client, ServerError, open_client
from protocol.errors import ErrorCode
from server.app import run_server
from server.config import Settings
from tests.server.test_cluster_degraded import redis_proxy
from tests.server.test_crash_mid_play import BUY_IN, TABLE, _accounted_for, _fund, passive_action
from tests.server_process import TEST_JWT_SECRET

PLAY_TIMEOUT_S = 60
SEED = 20261202
PASSWORD = "correct horse battery staple"


async def _play(
    client: Client, seat: int, rng: random.Random, hands: dict[int, trio.Event]
) -> None:
    """Answer every action asked of ``seat``; set hands[n] when hand n asks its first action."""
    while True:
        item = await client.next_event(timeout_s=PLAY_TIMEOUT_S)
        body = getattr(item, "body", None)
        if not isinstance(body, game.ActionRequired) or body.table_id != TABLE:
            continue
        if body.hand_number in hands:
            hands[body.hand_number].set()
        if body.seat != seat:
            continue
        action = passive_action(body.legal, rng)
        await client.request(
            game.Act(id=0, table_id=TABLE, hand_number=body.hand_number, action=action)
        )


async def test_redis_cut_mid_hand_loses_no_chip_and_play_goes_on(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    proxy = redis_proxy(redis_url)
    rng = random.Random(SEED)
    data_dir = tmp_path / "var"
    ids: dict[str, int] = {}
    async with trio.open_nursery() as outer:
        await outer.start(proxy.serve)
        settings = Settings(
            ws_port=0,
            admin_port=0,
            api_port=0,
            data_dir=data_dir,
            jwt_secret=TEST_JWT_SECRET,
            redis_url=proxy.url(redis_url),
            redis_prefix=f"{redis_prefix}play:",
        )
        async with trio.open_nursery() as server:
            listening = await server.start(run_server, settings)
            hands = {n: trio.Event() for n in range(1, 7)}
            async with (
                open_client(listening.ws_url) as a,
                open_client(listening.ws_url) as b,
                open_client(listening.ws_url) as c,
                trio.open_nursery() as players,
            ):
                for client, name in zip((a, b, c), ("cut_ann", "cut_bob", "cut_cy"), strict=True):
                    await client.register(name, PASSWORD)
                    ids[name] = await _fund(listening.admin_url, name)
                    seated = await client.request(
                        game.JoinTable(id=0, table_id=TABLE, buy_in=BUY_IN)
                    )
                    assert isinstance(seated, game.Seated)
                    players.start_soon(
                        _play, client, seated.seat, random.Random(rng.random()), hands
                    )
                with trio.fail_after(PLAY_TIMEOUT_S):
                    await hands[2].wait()
                proxy.cut()  # in the middle of hand 2
                with trio.fail_after(PLAY_TIMEOUT_S):
                    await hands[4].wait()  # hands 2 and 3 ended, 4 dealt, without Redis
                async with open_client(listening.ws_url, reconnect=False) as late:
                    with pytest.raises(ServerError) as refused:
                        await late.register("cut_dee", PASSWORD)
                assert refused.value.error.code == ErrorCode.SERVER_BUSY
                proxy.restore()
                await trio.sleep(PROBE_INTERVAL_S)  # the breaker tries Redis again after it
                async with open_client(listening.ws_url, reconnect=False) as late:
                    assert (await late.register("cut_dee", PASSWORD)).player == "cut_dee"
                with trio.fail_after(PLAY_TIMEOUT_S):
                    await hands[6].wait()
                players.cancel_scope.cancel()
            server.cancel_scope.cancel()
        # Restarted once (a running hand is voided and refunded, as after any stop).
        async with trio.open_nursery() as server:
            await server.start(run_server, settings)
            server.cancel_scope.cancel()
        outer.cancel_scope.cancel()
    await _accounted_for(f"sqlite:///{data_dir / 'tablium.sqlite3'}", ids)
