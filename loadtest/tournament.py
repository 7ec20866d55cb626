"""The tournament scenario: bots register for one tournament and play it to the end.

A ``TournamentBot`` is the cash bot (loadtest/bot.py: the same login, chips, strategies and
acting) with the tournament's own flow over the websocket (protocol/tournaments.py): it
registers (``register_tournament``), waits for its seat (``tournament_seated``), follows its
moves (``tournament_moved``: the new table and seat, no request), re-enters after a bust
while late registration is open (with ``reentry_chance``), rebuys when offered (with
``rebuy_chance``, else declines), and stops once it is out for good or the tournament is
over. What it sees goes into the interval's ``TournamentTally``.

``TournamentWatch`` is the swarm's own view of the event, from one more websocket client:
``get_tournament`` once a second (tables, players per table, hand-for-hand, state) and the
standings at the end (places, prizes and bounties paid).
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field
from typing import Final, final

import trio

from loadtest.bot import LEAVE_TIMEOUT_S, Bot, BotGaveUp, BotPlan
from loadtest.funding import AdminFunder
from loadtest.stats import Recorder, TournamentTally
from loadtest.strategies import Strategy
from protocol.client import Client, ClientError, ConnectionLost, RequestTimeout, ServerError
from protocol.errors import ErrorCode
from protocol.game import HandEnded, HoleCards, SeatChanged, TableSnapshot, Watch
from protocol.messages import Event
from protocol.tournaments import (
    DeclineTournamentRebuy,
    GetTournament,
    GetTournamentStandings,
    RegisterTournament,
    StandingEntry,
    TournamentDetails,
    TournamentEliminated,
    TournamentMoved,
    TournamentPaid,
    TournamentPlaced,
    TournamentRebuy,
    TournamentRebuyOffered,
    TournamentRegistered,
    TournamentSeated,
    TournamentStandings,
    TournamentStateChanged,
    TournamentView,
)

REGISTER_RETRIES_MAX: Final = 5  # registration refused as busy or rate limited: retried
REGISTER_RETRY_PAUSE_S: Final = 1.0
WATCH_RETRIES_MAX: Final = 5  # a rejoining bot's watch refused (its table still opening)
OVER: Final = frozenset({"finished", "cancelled"})
IN_PLAY: Final = frozenset({"registered", "playing", "awaiting_rebuy"})
STANDINGS_PAGE: Final = 500  # protocol.tournaments.STANDINGS_PAGE_MAX
STANDINGS_PAGES_MAX: Final = 400  # bound: 200,000 entries read at the end, no more


@final
class TournamentBot(Bot):
    def __init__(
        self,
        index: int,
        plan: BotPlan,
        strategy: Strategy,
        recorder: Recorder,
        funder: AdminFunder | None,
        rng: random.Random,
        *,
        tournament_id: int,
        reentry_chance: float,
        rebuy_chance: float,
    ) -> None:
        super().__init__(index, plan, strategy, recorder, funder, rng)
        self.tournament_id = tournament_id
        self.reentry_chance = reentry_chance
        self.rebuy_chance = rebuy_chance
        self.entry: int | None = None
        self.hand_for_hand = False
        self._done = trio.Event()

    async def take_seat(self, client: Client) -> None:
        """Register; the seat comes with ``tournament_seated`` (at the start, or at once for a
        late entry). A bot already in (a second run, or after the server restarted) takes up
        its entry where it sits: its table's ``table_snapshot`` names its seat. A bot whose
        entries are all out and may not re-enter has nothing to do."""
        reply = await client.request(GetTournament(id=0, tournament_id=self.tournament_id))
        assert isinstance(reply, TournamentDetails)
        view = reply.tournament
        if view.line.state in OVER:
            self._done.set()
            return
        in_play = [e for e in view.my_entries if e.status in IN_PLAY]
        if in_play:
            self.entry, self.table_id = in_play[-1].entry, in_play[-1].table_id
            if self.table_id is not None:
                await self._watch_own_table(client, self.table_id)
            return
        if view.my_entries and not view.may_register:
            self._done.set()
            return
        await self._register(client, reentry=bool(view.my_entries))

    async def _watch_own_table(self, client: Client, table_id: str) -> None:
        """A new session gets no table state by itself: watching sends the snapshot (with our
        cards), which names our seat. A table still opening (its tournament just moved to
        this node) is asked again; without a snapshot the seat comes with our next cards."""
        for _attempt in range(WATCH_RETRIES_MAX):
            try:
                await client.request(Watch(id=0, table_id=table_id))
                return
            except ServerError as exc:
                self.recorder.error(exc.code)
                await trio.sleep((exc.retry_after_ms or 1000) / 1000)

    async def _register(self, client: Client, *, reentry: bool) -> None:
        for _attempt in range(REGISTER_RETRIES_MAX):
            try:
                reply = await client.request(
                    RegisterTournament(id=0, tournament_id=self.tournament_id)
                )
            except ServerError as exc:
                self.recorder.error(exc.code)
                if exc.code == ErrorCode.RATE_LIMITED or exc.retry_after_ms is not None:
                    await trio.sleep((exc.retry_after_ms or 1000) / 1000)
                    continue
                raise BotGaveUp(f"not_registered_{exc.code}") from exc
            assert isinstance(reply, TournamentRegistered)
            self.entry = reply.entry
            tally = self.recorder.current.tournament
            tally.registered += 1
            tally.reentries += int(reentry)
            return
        raise BotGaveUp("not_registered")

    async def play(self, client: Client) -> bool:
        """Play until out for good or the tournament is over (True), or until the connection
        ends for good (False)."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._stop_when_done, nursery.cancel_scope)
            await super().play(client)
            nursery.cancel_scope.cancel()
        return self._done.is_set()

    async def _stop_when_done(self, scope: trio.CancelScope) -> None:
        await self._done.wait()
        scope.cancel()

    def _on_event(self, event: Event, client: Client, nursery: trio.Nursery) -> None:
        body = event.body
        tally = self.recorder.current.tournament
        mine = getattr(body, "tournament_id", None) == self.tournament_id
        # Pushes come to this player only, and one entry plays at a time: a late entry's seat
        # may come before the reply that names the entry.
        if isinstance(body, TournamentSeated) and mine:
            self.entry, self.table_id, self.seat = body.entry, body.table_id, body.seat
        elif isinstance(body, TournamentMoved) and mine:
            self.entry, self.table_id, self.seat = body.entry, body.table_id, body.seat
            tally.moves[body.reason] = tally.moves.get(body.reason, 0) + 1
        elif isinstance(body, TournamentEliminated) and mine and body.entry == self.entry:
            tally.eliminated += 1
            self.table_id = self.seat = None
            if body.may_reenter and self.rng.random() < self.reentry_chance:
                nursery.start_soon(self._reenter, client)
            else:
                self._done.set()
        elif isinstance(body, TournamentRebuyOffered) and mine and body.entry == self.entry:
            nursery.start_soon(self._answer_rebuy, client)
        elif isinstance(body, TournamentPlaced) and mine and body.entry == self.entry:
            if body.place == 1:
                tally.winner = self.name
        elif isinstance(body, TournamentPaid) and mine:
            if body.kind == "refund":
                tally.refunds += body.amount
            else:
                tally.paid += body.amount
        elif isinstance(body, TournamentStateChanged) and mine:
            if body.event == "hand_for_hand_started":
                self.hand_for_hand = True
            elif body.event == "hand_for_hand_ended":
                self.hand_for_hand = False
            elif body.state in OVER:
                self._done.set()
        elif isinstance(body, HandEnded):
            self._on_hand_ended(body, client, nursery)
        elif isinstance(body, HoleCards) and body.table_id == self.table_id:
            # Private to the seat's owner: our seat, even when no snapshot named it yet.
            self.seat = body.seat
            self.hole_cards = body.cards
        elif isinstance(body, TableSnapshot):
            if body.table_id == self.table_id:
                seats = [v.seat for v in body.seats if v.player_id == self.player_id]
                self.seat = seats[0] if seats else self.seat
                self.hole_cards = body.hole_cards
        elif isinstance(body, SeatChanged):
            pass  # a tournament stack is dealt in whether sat out or not: nothing to post
        else:
            super()._on_event(event, client, nursery)

    def _on_hand_ended(self, body: HandEnded, client: Client, nursery: trio.Nursery) -> None:
        """Hands are counted once (first seat); no top-ups: a tournament stack is what it is."""
        if body.table_id != self.table_id or self.seat not in body.seats:
            return
        self.hole_cards = ()
        if body.seats and body.seats[0] == self.seat:
            self.recorder.current.hands += 1
            if self.hand_for_hand:
                counts = self.recorder.current.tournament.hand_for_hand_hands
                counts[body.table_id] = counts.get(body.table_id, 0) + 1

    async def _reenter(self, client: Client) -> None:
        try:
            await self.ensure_chips(client)
            await self._register(client, reentry=True)
        except BotGaveUp as exc:
            self.recorder.error(str(exc))
            self._done.set()
        except (ConnectionLost, RequestTimeout) as exc:
            self.recorder.error(type(exc).__name__)
            self._done.set()

    async def _answer_rebuy(self, client: Client) -> None:
        wanted = self.rng.random() < self.rebuy_chance
        message = (
            TournamentRebuy(id=0, tournament_id=self.tournament_id)
            if wanted
            else DeclineTournamentRebuy(id=0, tournament_id=self.tournament_id)
        )
        try:
            await client.request(message)
        except ServerError as exc:
            self.recorder.error(exc.code)
        except ClientError as exc:
            self.recorder.error(type(exc).__name__)
        else:
            self.recorder.current.tournament.rebuys += int(wanted)

    async def leave(self, client: Client) -> None:
        """Nothing to stand up from: a tournament seat is the tournament's. Log out."""
        with trio.move_on_after(LEAVE_TIMEOUT_S), contextlib.suppress(ClientError):
            await client.logout()


@final
@dataclass(slots=True)
class TournamentWatch:
    """The swarm's view of the tournament from ``get_tournament`` once a second."""

    tournament_id: int
    view: TournamentView | None = None
    started_at: float | None = None  # trio time the state was first seen ``running``
    ended_at: float | None = None  # ... first seen finished or cancelled
    tables_max: int = 0
    # Fullest minus shortest table, over polls where the tables stayed the same as the poll
    # before (a table being broken, or just opened, is not a balancing result).
    table_spread_max: int = 0
    spread_samples: int = 0
    hand_for_hand_seen: bool = False
    break_seen: bool = False
    poll_timeouts: int = 0  # polls the server did not answer within the request timeout
    _last_tables: tuple[str, ...] = field(default=())

    async def details(self, client: Client) -> TournamentView:
        reply = await client.request(GetTournament(id=0, tournament_id=self.tournament_id))
        assert isinstance(reply, TournamentDetails)
        return reply.tournament

    async def poll(self, client: Client) -> TournamentView:
        view = await self.details(client)
        self.observe(view, trio.current_time())
        return view

    def observe(self, view: TournamentView, now: float) -> None:
        """Take one poll's view, seen at trio time ``now``."""
        self.view = view
        state = view.line.state
        if state != "registering" and self.started_at is None:
            self.started_at = now
        if state in OVER and self.ended_at is None:
            self.ended_at = now
        self.hand_for_hand_seen = self.hand_for_hand_seen or view.hand_for_hand
        self.break_seen = self.break_seen or view.on_break
        tables = tuple(sorted(t.table_id for t in view.tables))
        self.tables_max = max(self.tables_max, len(tables))
        if tables and tables == self._last_tables and state == "running":
            players = [t.players for t in view.tables]
            self.table_spread_max = max(self.table_spread_max, max(players) - min(players))
            self.spread_samples += 1
        self._last_tables = tables

    async def standings(self, client: Client) -> list[StandingEntry]:
        lines: list[StandingEntry] = []
        for page in range(STANDINGS_PAGES_MAX):
            reply = await client.request(
                GetTournamentStandings(
                    id=0,
                    tournament_id=self.tournament_id,
                    offset=page * STANDINGS_PAGE,
                    limit=STANDINGS_PAGE,
                )
            )
            assert isinstance(reply, TournamentStandings)
            lines.extend(reply.standings)
            if len(lines) >= reply.total or not reply.standings:
                break
        return lines


class TournamentSetupError(Exception):
    """The tournament could not be created, read or started as asked."""


ADMIN_TIMEOUT_S: Final = 30.0  # creating one writes its row and starts its actor
ENTRIES_MAX_PER_BOT: Final = 3  # a created tournament takes this many entries a bot (re-entries)


async def create_tournament(
    admin_url: str,
    staff_token: str,
    *,
    name: str,
    preset: str,
    asset: str,
    buy_in: int,
    bots: int,
) -> int:
    """A multi-table tournament from ``preset`` through the admin API (a director or admin
    token): ``buy_in`` to the prize pool, a tenth of it as the fee, started by the swarm once
    its bots are in (no start time). Its id."""
    import httpx

    body = {
        "name": name,
        "preset": preset,
        "kind": "mtt",
        "asset": asset,
        "buy_in": buy_in,
        "fee": buy_in // 10,
        "entries_max": min(100_000, max(2, bots * ENTRIES_MAX_PER_BOT)),
        "reason": "bot swarm: tournament scenario",
    }
    async with httpx.AsyncClient(
        base_url=admin_url.rstrip("/"),
        headers={"Authorization": f"Bearer {staff_token}"},
        timeout=ADMIN_TIMEOUT_S,
    ) as http:
        try:
            response = await http.post("/tournaments", json=body)
        except httpx.HTTPError as exc:
            raise TournamentSetupError(f"admin API unreachable: {exc}") from exc
    if response.status_code != 200:
        raise TournamentSetupError(
            f"creating the tournament was refused: {response.status_code} {response.text}"
        )
    return int(response.json()["tournament_id"])


async def start_tournament(admin_url: str, staff_token: str, tournament_id: int) -> None:
    import httpx

    async with httpx.AsyncClient(
        base_url=admin_url.rstrip("/"),
        headers={"Authorization": f"Bearer {staff_token}"},
        timeout=ADMIN_TIMEOUT_S,
    ) as http:
        try:
            response = await http.post(
                f"/tournaments/{tournament_id}/start",
                json={"reason": "bot swarm: every bot registered"},
            )
        except httpx.HTTPError as exc:
            raise TournamentSetupError(f"admin API unreachable: {exc}") from exc
    if response.status_code != 200:
        raise TournamentSetupError(
            f"starting the tournament was refused: {response.status_code} {response.text}"
        )


def tournament_section(
    watch: TournamentWatch,
    standings: list[StandingEntry],
    tally: TournamentTally,
    hands: int,
    *,
    created: bool,
) -> dict[str, object]:
    """The report's ``tournament`` section (docs/loadtest.md lists its fields)."""
    view = watch.view
    line = view.line if view is not None else None
    first = [s for s in standings if s.place == 1]
    duration_s = (
        round(watch.ended_at - watch.started_at, 3)
        if watch.started_at is not None and watch.ended_at is not None
        else None
    )
    return {
        "tournament_id": watch.tournament_id,
        "created": created,
        "structure": view.structure if view is not None else None,
        "state": line.state if line is not None else None,
        "finished": line is not None and line.state == "finished",
        "entrants": line.entries if line is not None else 0,
        "registered_by_bots": tally.registered,
        "reentries": tally.reentries,
        "rebuys": tally.rebuys,
        "eliminated": tally.eliminated,
        "winner": {
            "player_id": first[0].player_id,
            "entry": first[0].entry,
            "name": tally.winner,
        }
        if len(first) == 1
        else None,
        "duration_s": duration_s,
        "hands": hands,
        "prize_pool": line.prize_pool if line is not None else 0,
        "payouts_total": sum(s.prize + s.bounties for s in standings),
        "paid_to_bots": tally.paid,
        "refunded_to_bots": tally.refunds,
        "balancing_moves": tally.moves.get("balance", 0),
        "moves": dict(sorted(tally.moves.items())),
        "tables_max": watch.tables_max,
        "hand_for_hand_rounds": max(tally.hand_for_hand_hands.values(), default=0),
        "hand_for_hand_seen": watch.hand_for_hand_seen,
        "break_seen": watch.break_seen,
        "table_spread_max": watch.table_spread_max,
        "table_spread_samples": watch.spread_samples,
        "poll_timeouts": watch.poll_timeouts,
    }
