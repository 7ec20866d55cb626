"""House bots: a few players of the server's own, at its play-money tables, so that someone
who runs `make run` and opens the browser client has somebody to play against.

Each bot is a real websocket client (the loadtest swarm's bot, loadtest/bot.py) on the
server's own port: it quick-seats at a play-money No-Limit Hold'em 1/2 table, plays at a
person's pace and claims refills when it runs dry. It never touches real money.

Their accounts (``house-bot-00001``, ...) are made here, with no password: nobody can log in
as them, and players cannot register such names (``housebot`` is a reserved prefix,
services/accounts.py). A bot logs in with a token the server signs for it. An account of that
name that is not a house bot's (made some other way) is left alone and its bot is not run.
A bot that loses its connection or its seat starts again after a backoff, for as long as the
server runs; one bot's failure never reaches the server or another bot.
"""

from __future__ import annotations

import random
from typing import Final

import structlog
import trio

from loadtest.bot import Bot, BotGaveUp, BotPlan, bot_name
from loadtest.stats import Recorder
from loadtest.strategies import STRATEGIES
from persistence.store import Store
from protocol.client import ClientError, open_client
from server.auth import TokenSigner
from services.wallet import Wallet

log = structlog.get_logger("tablium.house_bots")

NAME_PREFIX: Final = "house-bot-"
# Stored in place of a password hash: no password verifies against it (not an argon2 hash).
NO_PASSWORD: Final = "house-bot:token-login-only"
PACE_S: Final = 2.0  # think time before each action: a person's pace
BIG_BLIND: Final = 2  # the seed's play-money Hold'em 1/2 tables
BUY_IN: Final = 100 * BIG_BLIND
RESTART_FIRST_S: Final = 1.0  # backoff after a bot's run ends, doubling ...
RESTART_MAX_S: Final = 60.0  # ... up to this
HOUSE_STRATEGIES: Final = ("tag", "station", "random")  # in turn; never the swarm's "flaky"


async def house_accounts(store: Store, wallet: Wallet, count: int) -> list[str]:
    """The names of the ``count`` house bots that may run: their accounts made when missing
    (with their starting play money); a name held by an account that is not a house bot's is
    skipped (logged)."""
    names: list[str] = []
    for index in range(1, count + 1):
        name = bot_name(NAME_PREFIX, index)
        account = await store.get_account_by_name(name)
        if account is None:
            account = await store.create_account(name, NO_PASSWORD, "player")
        if account.password_hash != NO_PASSWORD or account.role != "player":
            log.warning("house bot skipped: its name belongs to another account", name=name)
            continue
        await wallet.grant_starting_play_chips(account.id)  # once per account (its key)
        names.append(name)
    return names


async def run_house_bots(
    ws_url: str, names: list[str], signer: TokenSigner, *, seed: int | None = None
) -> None:
    """Run one bot per name until cancelled."""
    if not names:
        return
    rng = random.Random(seed)
    plan = BotPlan(
        url=ws_url,
        name_prefix=NAME_PREFIX,
        password="",  # unused: house bots log in with tokens
        variant="NT",
        big_blind=BIG_BLIND,
        buy_in=BUY_IN,
        pace_s=PACE_S,
        asset="play",
    )
    recorder = Recorder()  # the swarm's counters; nobody reads them here
    log.info("house bots playing", bots=len(names), url=ws_url)
    async with trio.open_nursery() as nursery:
        for name in names:
            index = int(name.removeprefix(NAME_PREFIX))
            strategy = STRATEGIES[HOUSE_STRATEGIES[index % len(HOUSE_STRATEGIES)]]
            bot = Bot(index, plan, strategy, recorder, None, random.Random(rng.random()))
            nursery.start_soon(_keep_playing, bot, signer)


async def _keep_playing(bot: Bot, signer: TokenSigner) -> None:
    backoff_s = RESTART_FIRST_S
    while True:
        try:
            await _play_once(bot, signer)
            backoff_s = RESTART_FIRST_S  # it played: start again soon
        except (BotGaveUp, ClientError, OSError, trio.TooSlowError) as exc:
            log.info("house bot stopped; starting again", bot=bot.name, reason=repr(exc))
        except Exception:
            log.exception("house bot failed; starting again", bot=bot.name)
        await trio.sleep(backoff_s)
        backoff_s = min(backoff_s * 2, RESTART_MAX_S)


async def _play_once(bot: Bot, signer: TokenSigner) -> None:
    """One connection: log in by token, get play chips, take a seat, play until the
    connection ends for good."""
    token, _claims = signer.issue(bot.name, "player")
    async with open_client(bot.plan.url, client_name="tablium-house-bot") as client:
        await client.authenticate(token)
        await bot.ensure_chips(client)
        await bot.take_seat(client)
        await bot.play(client)
