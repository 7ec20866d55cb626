"""A whole server (tables, ledger, gateway, Redis) whose PostgreSQL becomes unreachable in
the middle of play, through a TCP proxy in front of the real PostgreSQL (never the shared
server itself; docs/scaling.md, "PostgreSQL unreachable"): the store retries within its
bound, then fails; the table deals at most the one hand it had started before it learns the
database is gone, and no hand while the database stays away; once the proxy carries traffic
again everything recovers by itself, play goes on, and afterwards every chip is where the
ledger says."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trio

from persistence.postgres import UNAVAILABLE_RETRY_S, PostgresStore
from persistence.store import StoreUnavailable, open_store
from protocol import game
from protocol.client import Client, open_client
from server.app import run_server
from server.config import Settings
from services.ledger import wallet
from services.wallet import Wallet
from tests.persistence.amqp_tools import BrokerProxy
from tests.persistence.stores import store_url
from tests.server.test_crash_mid_play import BUY_IN, TABLE, _accounted_for, _fund, passive_action
from tests.server_process import TEST_JWT_SECRET

PLAY_TIMEOUT_S = 60
# Longer than the store's retry bound: writes retry, give up, and the table's restarts wait
# on the database in turn; play must still come back by itself.
CUT_S = UNAVAILABLE_RETRY_S + 2
SEED = 20261204
PASSWORD = "correct horse battery staple"


class Progress:
    """What the players saw: when each hand asked its first action (trio clock), which
    hands ended; ``until`` waits for a condition on them, woken by each change."""

    def __init__(self) -> None:
        self.dealt: dict[int, float] = {}
        self.ended: set[int] = set()
        self._changed = trio.Event()

    def saw(self, dealt: int | None = None, ended: int | None = None) -> None:
        if dealt is not None:
            self.dealt.setdefault(dealt, trio.current_time())
        if ended is not None:
            self.ended.add(ended)
        self._changed.set()
        self._changed = trio.Event()

    async def until(self, condition: Callable[[], bool]) -> None:
        with trio.fail_after(PLAY_TIMEOUT_S):
            while not condition():
                await self._changed.wait()


async def _play(client: Client, seat: int, rng: random.Random, progress: Progress) -> None:
    """Answer every action asked of ``seat``, telling ``progress`` what it sees."""
    while True:
        item = await client.next_event(timeout_s=PLAY_TIMEOUT_S * 2)
        body = getattr(item, "body", None)
        if isinstance(body, game.HandEnded) and body.table_id == TABLE:
            progress.saw(ended=body.hand_number)
        if not isinstance(body, game.ActionRequired) or body.table_id != TABLE:
            continue
        progress.saw(dealt=body.hand_number)
        if body.seat != seat:
            continue
        action = passive_action(body.legal, rng)
        await client.request(
            game.Act(id=0, table_id=TABLE, hand_number=body.hand_number, action=action)
        )


async def test_postgres_cut_mid_play_stops_dealing_then_play_resumes_with_no_chip_lost(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    database_url = await store_url("postgres", tmp_path, postgres_url)
    parts = urlsplit(database_url)
    proxy = BrokerProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    rng = random.Random(SEED)
    ids: dict[str, int] = {}
    progress = Progress()
    dealt = progress.dealt
    async with trio.open_nursery() as outer:
        await outer.start(proxy.serve)
        settings = Settings(
            ws_port=0,
            admin_port=0,
            api_port=0,
            data_dir=tmp_path / "var",
            jwt_secret=TEST_JWT_SECRET,
            database_url=proxy.url(database_url),
            redis_url=redis_url,
            redis_prefix=f"{redis_prefix}pgcut:",
        )
        async with trio.open_nursery() as server:
            listening = await server.start(run_server, settings)
            async with (
                open_client(listening.ws_url) as a,
                open_client(listening.ws_url) as b,
                open_client(listening.ws_url) as c,
                trio.open_nursery() as players,
            ):
                for client, name in zip((a, b, c), ("pg_ann", "pg_bob", "pg_cy"), strict=True):
                    await client.register(name, PASSWORD)
                    ids[name] = await _fund(listening.admin_url, name)
                    seated = await client.request(
                        game.JoinTable(id=0, table_id=TABLE, buy_in=BUY_IN)
                    )
                    assert isinstance(seated, game.Seated)
                    players.start_soon(
                        _play, client, seated.seat, random.Random(rng.random()), progress
                    )
                await progress.until(lambda: 2 in dealt)
                proxy.cut()  # in the middle of hand 2 (or right after it)
                cut_at = trio.current_time()
                running = max(dealt)
                await trio.sleep(CUT_S)  # the database stays away this long
                during = sorted(n for n, at in dealt.items() if at > cut_at)
                # At most the hand under way (or the next, started before the table found
                # the database gone); none after it while nothing can be recorded.
                assert all(n <= running + 1 for n in during), (running, during)
                proxy.restore()
                restored_at = trio.current_time()
                await progress.until(lambda: any(n > running + 1 for n in dealt))
                resumed_after_s = (
                    min(at for n, at in dealt.items() if n > running + 1) - restored_at
                )
                last = max(dealt)
                await progress.until(lambda: any(n >= last + 1 for n in progress.ended))
                players.cancel_scope.cancel()
            print(  # the figures docs/scaling.md quotes
                "postgres cut:", {"running": running, "dealt_during_cut": during,
                                  "resumed_after_s": round(resumed_after_s, 2)},
            )  # fmt: skip
            server.cancel_scope.cancel()
        # Restarted once, on the database itself (a running hand is voided and refunded).
        restarted = dataclasses.replace(settings, database_url=database_url)
        async with trio.open_nursery() as server:
            await server.start(run_server, restarted)
            server.cancel_scope.cancel()
        outer.cancel_scope.cancel()
    await _accounted_for(database_url, ids)


async def test_the_store_retries_an_unreachable_postgres_within_its_bound_then_gives_up(
    tmp_path: Path, postgres_url: str
) -> None:
    database_url = await store_url("postgres", tmp_path, postgres_url)
    parts = urlsplit(database_url)
    proxy = BrokerProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    bound_s = 2.0

    async def restore_after(delay_s: float) -> None:
        await trio.sleep(delay_s)  # the outage's length: what the test injects
        proxy.restore()

    async with trio.open_nursery() as outer:
        await outer.start(proxy.serve)
        async with open_store(proxy.url(database_url)) as store:
            assert isinstance(store, PostgresStore)
            store.unavailable_retry_s = bound_s
            wallets = Wallet(store)
            await wallets.adjust("fund-1", wallet(1), 100, "test funds")
            # Cut for less than the bound: the write waits, retries, lands once.
            proxy.cut()
            async with trio.open_nursery() as outage:
                outage.start_soon(restore_after, bound_s / 4)
                await wallets.adjust("fund-2", wallet(1), 50, "test funds")
            assert store.unavailable_retries >= 1 and store.unavailable_since is None
            assert (await wallets.balance(1)).balance == 150
            # Cut for longer: StoreUnavailable once the bound is spent, nothing written.
            proxy.cut()
            started = trio.current_time()
            with pytest.raises(StoreUnavailable):
                await wallets.adjust("fund-3", wallet(1), 25, "test funds")
            waited_s = trio.current_time() - started
            assert bound_s / 2 <= waited_s <= bound_s + 1, waited_s
            proxy.restore()
            assert (await wallets.balance(1)).balance == 150
            assert (await store.ledger_audit()).consistent
        outer.cancel_scope.cancel()
