"""Bots for play money: chips without staff (the starting balance, then refills they claim)
and quick-seat requests for play-money tables. Against a real gateway and ledger."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from loadtest.bot import Bot, BotGaveUp, BotPlan
from loadtest.stats import Recorder
from loadtest.strategies import strategy_for
from loadtest.swarm import SwarmError, SwarmOptions, swarm_asset
from protocol.client import open_client
from protocol.game import QuickSeat, Seated
from services.play_money import PlayMoneyPolicy
from services.wallet import Wallet, WalletPolicy
from tests.protocol.gateway_harness import gateway_and_store


def bot(url: str, asset: str = "play", buy_in: int = 200) -> Bot:
    plan = BotPlan(
        url=url, name_prefix="pm", password="swarm-password", variant="NT", big_blind=2,
        buy_in=buy_in, pace_s=0.0, asset=asset,  # type: ignore[arg-type]
    )  # fmt: skip
    return Bot(0, plan, strategy_for("random", 0, None), Recorder(), None, random.Random(1))


async def test_a_new_bot_has_play_chips_without_staff(tmp_path: Path) -> None:
    async with gateway_and_store(tmp_path) as (gateway, _store):
        player = bot(gateway.url)
        async with open_client(gateway.url) as client:
            await player.log_in(client)
            await player.ensure_chips(client)  # the starting balance covers it: no claim
            assert (await client.balance("play")).available == 10_000
            assert player.recorder.current.errors == {}


async def test_a_broke_bot_claims_a_refill_and_gives_up_only_when_none_is_due(
    tmp_path: Path,
) -> None:
    policy = WalletPolicy(play=PlayMoneyPolicy(starting_balance=0, refill_below=100))
    async with gateway_and_store(tmp_path, wallet_policy=policy) as (gateway, store):
        player = bot(gateway.url)
        async with open_client(gateway.url) as client:
            await player.log_in(client)
            await player.ensure_chips(client)  # claims
            assert (await client.balance("play")).available == 10_000
            account = await store.get_account_by_name(player.name)
            assert account is not None
            await Wallet(store).buy_in("lost", account.id, "table:p", 9_950, asset="play")
            with pytest.raises(BotGaveUp, match="unfunded"):
                await player.ensure_chips(client)  # the next refill is a day away
            assert player.recorder.current.errors == {"refill_too_early": 1}


async def test_a_play_money_bot_asks_quick_seat_for_play_money_tables() -> None:
    sent: list[Any] = []

    class Recording:
        async def request(self, message: Any) -> Any:
            sent.append(message)
            return Seated(id=0, table_id="t", seat=1, stack=200)

    player = bot("ws://unused")
    await player.take_seat(Recording())  # type: ignore[arg-type]
    assert [(type(m), m.asset) for m in sent] == [(QuickSeat, "play")]


def test_the_swarm_plays_for_play_money_unless_it_can_fund_real_money() -> None:
    def options(**kwargs: Any) -> SwarmOptions:
        return SwarmOptions(url="ws://x", bots=1, ramp_s=0, duration_s=1, **kwargs)

    assert swarm_asset(options()) == "play"
    assert swarm_asset(options(admin_url="http://a")) == "play"  # no token: cannot fund
    assert swarm_asset(options(admin_url="http://a", staff_token="t")) == "chips"
    assert swarm_asset(options(admin_url="http://a", staff_token="t", asset="play")) == "play"
    with pytest.raises(SwarmError):
        swarm_asset(options(asset="gold"))
