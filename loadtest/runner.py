"""Run a share of the swarm's bots in this process and stream their figures out.

The same code runs the whole swarm in one process (``--processes 1``) and each worker's share
when the swarm is spread over processes; either way figures leave as ``Interval`` records once
per ``interval_s``, to a callback here or as JSON lines on a worker's stdout.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final, final

import trio

from loadtest.bot import Bot, BotGaveUp, BotPlan
from loadtest.funding import AdminFunder
from loadtest.stats import Interval, Recorder
from loadtest.strategies import strategy_for
from loadtest.tournament import TournamentBot
from protocol.client import Client, ClientError, ServerError, open_client, retry_delay_s

INTERVAL_S: Final = 1.0
SETTLE_S: Final = 5.0  # after the run: time for bots to leave their tables and close
# Logins the server refused as busy (server_busy, with retry_after_ms) are retried on a new
# connection after retry_delay_s (the server's hint with a growing random spread). After this
# many attempts, or when the next would start after the run's end, the bot gives up
# (counted as login_gave_up; each refusal is counted as server_busy).
LOGIN_ATTEMPTS_MAX: Final = 8


@final
@dataclass(frozen=True, slots=True)
class ShareConfig:
    """One process's share of a swarm run (msgspec/JSON-friendly: it crosses processes)."""

    plan: BotPlan
    bot_indexes: Sequence[int]
    bots_total: int  # the ramp spreads starts by the index over the whole swarm
    ramp_s: float
    duration_s: float
    strategy: str
    seed: int
    admin_url: str | None
    staff_token: str | None
    run_tag: str
    flaky_disconnect_chance: float | None = None  # None: the Flaky strategy's own
    interval_s: float = INTERVAL_S
    # The tournament scenario (loadtest/tournament.py): the bots register for this one.
    tournament_id: int | None = None
    reentry_chance: float = 0.5
    rebuy_chance: float = 0.5


async def run_share(config: ShareConfig, emit: Callable[[Interval], Awaitable[None]]) -> None:
    """Run the share's bots for ramp + duration, emitting an interval every interval_s and
    a final one (``final=True``) once every bot has left."""
    recorder = Recorder()
    started = trio.current_time()
    play_until = started + config.ramp_s + config.duration_s
    async with contextlib.AsyncExitStack() as stack:
        funder = None
        if config.admin_url and config.staff_token:
            funder = await stack.enter_async_context(
                AdminFunder(config.admin_url, config.staff_token, config.run_tag)
            )
        async with trio.open_nursery() as outer:
            outer.start_soon(_report_every, config.interval_s, recorder, emit)
            async with trio.open_nursery() as bots:
                for index in config.bot_indexes:
                    start_at = started + config.ramp_s * index / max(1, config.bots_total)
                    bots.start_soon(
                        _run_bot, _new_bot(config, index, recorder, funder), start_at, play_until
                    )
            outer.cancel_scope.cancel()
    await emit(recorder.take(final=True))


def _new_bot(
    config: ShareConfig, index: int, recorder: Recorder, funder: AdminFunder | None
) -> Bot:
    strategy = strategy_for(config.strategy, index, config.flaky_disconnect_chance)
    rng = random.Random(config.seed * 1_000_003 + index)
    if config.tournament_id is None:
        return Bot(index, config.plan, strategy, recorder, funder, rng)
    return TournamentBot(
        index,
        config.plan,
        strategy,
        recorder,
        funder,
        rng,
        tournament_id=config.tournament_id,
        reentry_chance=config.reentry_chance,
        rebuy_chance=config.rebuy_chance,
    )


async def _report_every(
    interval_s: float, recorder: Recorder, emit: Callable[[Interval], Awaitable[None]]
) -> None:
    next_at = trio.current_time()
    while True:
        next_at += interval_s
        await trio.sleep_until(next_at)
        await emit(recorder.take())


async def _run_bot(bot: Bot, start_at: float, play_until: float) -> None:
    await trio.sleep_until(start_at)
    recorder = bot.recorder
    opened_client: list[Client] = []  # the last one, to read the server's close code
    try:
        first_attempt = trio.current_time()
        for attempt in range(LOGIN_ATTEMPTS_MAX):
            refusal = await _connect_and_play(bot, play_until, first_attempt, opened_client)
            if refusal is None:
                return
            retry_in_s = retry_delay_s(refusal, attempt, bot.rng)
            if attempt == LOGIN_ATTEMPTS_MAX - 1 or trio.current_time() + retry_in_s >= play_until:
                recorder.error("login_gave_up")  # refused as busy until it had to stop
                return
            await trio.sleep(retry_in_s)  # with no connection open while we wait
    except BotGaveUp as exc:
        recorder.error(str(exc))
    except ServerError as exc:
        recorder.error(exc.code)
    except (ClientError, OSError, trio.TooSlowError) as exc:
        code = _failure_code(exc)
        # A close code says why (4001: no login within the server's deadline).
        close_code = opened_client[-1].close_code if opened_client else None
        recorder.error(code if close_code is None else f"{code}_{close_code}")
        recorder.current.lost += 1
    except Exception as exc:
        # A bot is what the swarm measures, not the swarm itself: whatever ends one bot is
        # counted under its type and the run goes on; the report shows it.
        recorder.error(f"crash_{type(exc).__name__}")
        recorder.current.lost += 1
    finally:
        recorder.current.bots_finished += 1


async def _connect_and_play(
    bot: Bot,
    play_until: float,
    first_attempt: float,
    opened_client: list[Client],
) -> ServerError | None:
    """One connection: log in, get chips, take a seat, play until ``play_until``, leave.
    Returns the refusal when the login was refused with a retryable error (server_busy:
    counted in the errors, and the caller retries later), else None."""
    recorder = bot.recorder
    counted = False
    seated = False
    try:
        opened = trio.current_time()
        async with open_client(
            bot.plan.url,
            client_name="tablium-swarm",
            request_timeout_s=bot.plan.request_timeout_s,
        ) as client:
            opened_client[:] = [client]
            recorder.current.connect.record_us(int((trio.current_time() - opened) * 1e6))
            try:
                await bot.log_in(client, started=first_attempt)
            except ServerError as exc:
                if not exc.retryable:
                    raise
                recorder.error(exc.code)
                return exc
            recorder.bots_connected += 1
            counted = True
            await bot.ensure_chips(client)
            await bot.take_seat(client)
            recorder.bots_seated += 1
            seated = True
            try:
                with trio.move_on_at(play_until):
                    if not await bot.play(client):
                        # events() ended: the SDK gave up reconnecting before the run was over.
                        recorder.current.lost += 1
                        recorder.error(f"closed_{client.close_code}")
            finally:
                recorder.current.reconnects += client.reconnects
            recorder.bots_seated -= 1
            seated = False
            with trio.move_on_after(SETTLE_S):
                await bot.leave(client)
        return None
    finally:
        if seated:
            recorder.bots_seated -= 1
        if counted:
            recorder.bots_connected -= 1


def _failure_code(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return "connect_failed"
    if isinstance(exc, trio.TooSlowError):
        return "connect_timeout"
    return {
        "ConnectionLost": "connection_lost",
        "RequestTimeout": "request_timeout",
        "TooManyPending": "too_many_pending",
        "ProtocolViolation": "protocol_violation",
    }.get(type(exc).__name__, type(exc).__name__)
