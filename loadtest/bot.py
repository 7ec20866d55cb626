"""One bot: a real websocket client that logs in, buys in through quick-seat and plays.

Its chips: play money (``asset="play"``, needing nothing but the server: a new player's
starting balance, then refills it claims with ``claim_play_chips``), or real money credited
by the swarm's setup through the admin API (``asset="chips"``, loadtest/funding.py).

Everything goes through ``protocol/client.py``, as a third-party bot would. The action round
trip is measured from just before the ``act`` request is sent to the moment the bot reads the
``action_taken`` broadcast for its own seat: what a player feels between clicking and seeing
the table move.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from typing import Final, final

import trio

from loadtest.funding import AdminFunder, FundingError
from loadtest.stats import Recorder
from loadtest.strategies import Strategy
from protocol.client import Client, ClientError, ConnectionLost, RequestTimeout, ServerError
from protocol.errors import ErrorCode
from protocol.fields import Asset
from protocol.game import (
    ActionRequired,
    ActionTaken,
    HandEnded,
    HoleCards,
    LeaveTable,
    PostMissedBlinds,
    QuickSeat,
    SeatChanged,
    Seated,
    TableSnapshot,
    TopUp,
    VariantCode,
)
from protocol.messages import Error, Event

LEAVE_TIMEOUT_S: Final = 3.0  # the run is over: a bot that cannot leave in time just closes
SEAT_RETRIES_MAX: Final = 5  # quick-seat attempts before the bot gives up (errors counted)
SEAT_RETRY_PAUSE_S: Final = 1.0
WALLET_BUY_INS: Final = 20  # the setup credits this many buy-ins: enough for long runs


@final
@dataclass(frozen=True, slots=True)
class BotPlan:
    """What every bot of a run does; only the index and strategy differ between bots."""

    url: str
    name_prefix: str
    password: str
    variant: VariantCode
    big_blind: int
    buy_in: int
    pace_s: float  # think time before each action (0: act at once)
    request_timeout_s: float = 10.0
    asset: Asset = "chips"  # "play": play-money tables, no staff funding needed


class BotGaveUp(Exception):
    """The bot could not get going (no chips, no seat); the reason is counted as an error."""


def bot_name(prefix: str, index: int) -> str:
    # Fixed width, so the admin API's prefix search for one bot finds that bot alone.
    return f"{prefix}{index:05d}"


class Bot:
    """The cash-game bot; loadtest/tournament.py's TournamentBot plays tournaments."""

    def __init__(
        self,
        index: int,
        plan: BotPlan,
        strategy: Strategy,
        recorder: Recorder,
        funder: AdminFunder | None,
        rng: random.Random,
    ) -> None:
        self.index = index
        self.name = bot_name(plan.name_prefix, index)
        self.plan = plan
        self.strategy = strategy
        self.recorder = recorder
        self.funder = funder
        self.rng = rng
        self.player_id: int | None = None
        self.table_id: str | None = None
        self.seat: int | None = None
        self.hole_cards: tuple[str, ...] = ()
        # (hand number, trio time the act was sent): the action waiting for its broadcast.
        self._pending_act: tuple[int, float] | None = None
        self._acting = False
        # A request to act that came while the bot was still busy with its last action (the
        # next street can open on this seat before our act's reply arrives): acted on next.
        self._next_required: ActionRequired | None = None
        # (hand number, decision id) of the last prompt taken on: the same decision asked
        # again (after a resume: the buffered prompt, then the one sent again) is skipped.
        self._taken: tuple[int, int] | None = None

    async def log_in(self, client: Client, started: float | None = None) -> None:
        """Register, or log in if the name exists. The login time runs from ``started`` (the
        first attempt, when the runner retried after server_busy) to success."""
        started = trio.current_time() if started is None else started
        try:
            logged_in = await client.register(self.name, self.plan.password)
        except ServerError as exc:
            if exc.code != ErrorCode.NAME_TAKEN:
                raise
            logged_in = await client.login(self.name, self.plan.password)
        self.player_id = logged_in.player_id
        self.recorder.current.login.record_us(int((trio.current_time() - started) * 1e6))

    async def ensure_chips(self, client: Client) -> None:
        balance = await client.balance(self.plan.asset)
        if balance.available >= self.plan.buy_in:
            return
        if self.plan.asset == "play":
            await self._claim_play_chips(client, balance.available)
            return
        if self.funder is None:
            raise BotGaveUp("unfunded")
        try:
            await self.funder.credit(self.name, self.plan.buy_in * WALLET_BUY_INS)
        except FundingError as exc:
            raise BotGaveUp("funding_failed") from exc

    async def _claim_play_chips(self, client: Client, available: int) -> None:
        """A play-money refill; unfunded when the server gives none now (counted by code)."""
        try:
            refill = await client.claim_play_chips()
        except ServerError as exc:
            self.recorder.error(exc.code)
            raise BotGaveUp("unfunded") from exc
        if available + refill.amount < self.plan.buy_in:
            raise BotGaveUp("unfunded")

    async def take_seat(self, client: Client) -> None:
        for _attempt in range(SEAT_RETRIES_MAX):
            try:
                reply = await client.request(
                    QuickSeat(
                        id=0,
                        variant=self.plan.variant,
                        big_blind=self.plan.big_blind,
                        buy_in=self.plan.buy_in,
                        asset=self.plan.asset,
                    )
                )
            except ServerError as exc:
                # Apart from the same code elsewhere (an act's unavailable, a login's busy).
                self.recorder.error(f"quick_seat_{exc.code}")
                if exc.code == ErrorCode.RATE_LIMITED or exc.retry_after_ms is not None:
                    await trio.sleep((exc.retry_after_ms or 1000) / 1000)
                else:
                    await trio.sleep(SEAT_RETRY_PAUSE_S)
                continue
            assert isinstance(reply, Seated)
            self.table_id, self.seat = reply.table_id, reply.seat
            return
        raise BotGaveUp("no_seat")

    async def play(self, client: Client) -> bool:
        """Read pushes and act on them until cancelled or the connection ends for good
        (False: a cash game has no end of its own)."""
        async with trio.open_nursery() as nursery:
            async for item in client.events():
                if isinstance(item, Error):
                    self.recorder.error(item.code)
                    continue
                self._on_event(item, client, nursery)
            nursery.cancel_scope.cancel()
        return False

    def _on_event(self, event: Event, client: Client, nursery: trio.Nursery) -> None:
        body = event.body
        if isinstance(body, ActionRequired):
            decision = (body.hand_number, body.decision_id)
            if not self._mine(body.table_id, body.seat) or decision == self._taken:
                pass
            elif self._acting:
                self._taken = decision
                self._next_required = body
            else:
                self._taken = decision
                self._acting = True
                nursery.start_soon(self._act_while_asked, client, body)
        elif isinstance(body, ActionTaken):
            if self._mine(body.table_id, body.seat):
                # A request to act that came before this is answered now (after a resume the
                # buffered one and the re-sent one ask the same question twice).
                self._next_required = None
                pending, self._pending_act = self._pending_act, None
                if pending is not None and pending[0] == body.hand_number and not body.timed_out:
                    rtt_us = int((trio.current_time() - pending[1]) * 1e6)
                    self.recorder.current.act_rtt.record_us(rtt_us)
                    self.recorder.current.actions += 1
                elif body.timed_out:
                    self.recorder.error("timed_out")
        elif isinstance(body, HoleCards):
            if self._mine(body.table_id, body.seat):
                self.hole_cards = body.cards
        elif isinstance(body, HandEnded):
            self._on_hand_ended(body, client, nursery)
        elif isinstance(body, SeatChanged):
            view = body.view
            if self._mine(body.table_id, body.seat) and view and view.state == "sitting_out":
                nursery.start_soon(
                    self._quiet_request, client, PostMissedBlinds(id=0, table_id=body.table_id)
                )
        elif isinstance(body, TableSnapshot) and body.table_id == self.table_id:
            self.hole_cards = body.hole_cards

    def _on_hand_ended(self, body: HandEnded, client: Client, nursery: trio.Nursery) -> None:
        if body.table_id != self.table_id or self.seat not in body.seats:
            return
        # Each hand is counted once across the swarm: by the bot in the list's first seat.
        if body.seats and body.seats[0] == self.seat:
            self.recorder.current.hands += 1
        self.hole_cards = ()
        stack = body.stacks[body.seats.index(self.seat)]
        if stack < self.plan.big_blind * 2:
            # Busted (or nearly): buy back to the plan's buy-in so the table keeps playing.
            topup = TopUp(id=0, table_id=body.table_id, amount=self.plan.buy_in - stack)
            nursery.start_soon(self._quiet_request, client, topup)

    def _mine(self, table_id: str, seat: int) -> bool:
        return table_id == self.table_id and seat == self.seat

    async def _act_while_asked(self, client: Client, required: ActionRequired) -> None:
        next_required: ActionRequired | None = required
        try:
            while next_required is not None:
                await self._act(client, next_required)
                next_required, self._next_required = self._next_required, None
        finally:
            self._acting = False

    async def _act(self, client: Client, required: ActionRequired) -> None:
        if self.plan.pace_s > 0:
            # Think times spread around the pace, so bots do not act in lockstep.
            await trio.sleep(self.rng.uniform(0.5, 1.5) * self.plan.pace_s)
        decision = self.strategy.decide(required.legal, self.hole_cards, self.rng)
        self._pending_act = (required.hand_number, trio.current_time())
        try:
            # Echoes the decision id: an answer that comes too late is refused, never
            # applied to a later decision of ours.
            await client.act(required, decision.action, decision.amount, decision.agree)
        except ServerError as exc:
            self._pending_act = None
            self.recorder.error(exc.code)
            return
        except (ConnectionLost, RequestTimeout) as exc:
            self.recorder.error(_client_error_code(exc))
            return
        if self.strategy.disconnect_chance and self.rng.random() < self.strategy.disconnect_chance:
            self.recorder.current.drops += 1
            await client.simulate_network_drop()

    async def _quiet_request(self, client: Client, request: PostMissedBlinds | TopUp) -> None:
        try:
            await client.request(request)
        except ServerError as exc:
            self.recorder.error(exc.code)
        except (ConnectionLost, RequestTimeout) as exc:
            self.recorder.error(_client_error_code(exc))

    async def leave(self, client: Client) -> None:
        """Stand up (cashing out) and log out, so the next run finds no seat held."""
        # The run is over: what is not done in time the server's grace period releases.
        with trio.move_on_after(LEAVE_TIMEOUT_S), contextlib.suppress(ClientError):
            if self.table_id is not None:
                await client.request(LeaveTable(id=0, table_id=self.table_id))
            await client.logout()


def _client_error_code(exc: ClientError) -> str:
    if isinstance(exc, ServerError):
        return exc.code
    if isinstance(exc, RequestTimeout):
        return "request_timeout"
    if isinstance(exc, ConnectionLost):
        return "connection_lost"
    return type(exc).__name__
