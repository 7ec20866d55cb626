"""The tournament directory ``tournament-directory``: creates tournaments (a store row, then
the ``tournament:<id>`` actor under the ``tournaments`` supervisor), lists them for the
lobby, and pushes changes to the players who subscribed. At start-up it re-opens every
stored tournament that is not over (docs/tournaments.md, "Crash safety").

Its listing is a cache the tournaments keep current (``SummaryChanged`` tells); finished and
cancelled ones stay listed, the newest LISTED_MAX of all.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Final, final

from actors import tournament_metrics
from actors.runtime import Actor, ChildSpec, Overflow, Restart
from actors.tournament import (
    TournamentActor,
    TournamentDeps,
    check_spec,
    decode_spec,
    encode_spec,
)
from actors.tournament_messages import (
    LISTED_MAX,
    SUBSCRIBERS_MAX,
    AnyDirectoryMessage,
    CreateTournament,
    DirectoryMessage,
    ListTournaments,
    SubscribeTournamentLobby,
    SummaryChanged,
    TournamentAddress,
    TournamentCreated,
    TournamentFilter,
    TournamentRefusal,
    TournamentSummary,
    UnsubscribeTournamentLobby,
)
from persistence import tournaments as stored
from protocol import tournaments as wire

TOURNAMENTS_SUPERVISOR: Final = "tournaments"


class ReopenStored(DirectoryMessage, frozen=True, tag=True):
    """Its own, once started: re-open the stored tournaments that are not over."""


def matches(summary: TournamentSummary, f: TournamentFilter) -> bool:
    price = summary.buy_in + summary.fee + summary.bounty
    return (
        (f.state is None or summary.state == f.state)
        and (f.kind is None or summary.kind == f.kind)
        and (f.asset is None or summary.asset == f.asset)
        and (f.buy_in_min is None or price >= f.buy_in_min)
        and (f.buy_in_max is None or price <= f.buy_in_max)
    )


def wire_line(s: TournamentSummary) -> wire.TournamentLine:
    return wire.TournamentLine(
        tournament_id=s.tournament_id, name=s.name, kind=s.kind, state=s.state,
        asset=s.asset,  # type: ignore[arg-type]
        buy_in=s.buy_in, fee=s.fee, bounty=s.bounty,
        bounty_kind=s.bounty_kind,  # type: ignore[arg-type]
        guarantee=s.guarantee, entries=s.entries, players_left=s.players_left,
        entries_max=s.entries_max, starts_at_ms=s.starts_at_ms, prize_pool=s.prize_pool,
        level=s.level,
    )  # fmt: skip


def tournament_spec(tournament_id: int, deps: TournamentDeps) -> ChildSpec:
    """A tournament under the ``tournaments`` supervisor: restarted after a crash (from the
    store), ended for good when it is over."""
    return ChildSpec.worker(
        TournamentAddress(tournament_id).actor_name,
        partial(TournamentActor, tournament_id, deps),
        restart=Restart.TRANSIENT,
    )


@final
class TournamentDirectory(Actor[AnyDirectoryMessage | ReopenStored]):
    kind = "tournament-directory"
    mailbox_capacity = 4096
    mailbox_overflow = Overflow.STOP
    reply_errors = (TournamentRefusal,)

    def __init__(self, deps: TournamentDeps) -> None:
        self.deps = deps
        self.summaries: dict[int, TournamentSummary] = {}
        self.subscribers: dict[int, TournamentFilter] = {}

    async def started(self) -> None:
        rows = await self.deps.store.run(lambda: stored.recent_tournaments(LISTED_MAX))
        for row in rows:
            spec = decode_spec(row.spec)
            self.summaries[row.id] = TournamentSummary(
                tournament_id=row.id, name=row.name, kind=spec.kind,
                state=row.state,  # type: ignore[arg-type]
                asset=row.asset, buy_in=spec.buy_in, fee=spec.fee, bounty=spec.bounty,
                bounty_kind=str(spec.bounty_kind), guarantee=spec.guarantee, entries=0,
                players_left=0, entries_max=spec.entries_max, starts_at_ms=spec.starts_at_ms,
                prize_pool=spec.guarantee, level=0,
            )  # fmt: skip
        # After its own start (a message, not in started()): the directory is not blocking
        # the runtime's start-up on the tournaments' own start-ups.
        self.context.ref.tell(ReopenStored())

    async def _reopen(self) -> None:
        open_rows = await self.deps.store.run(
            lambda: stored.tournaments_in(("registering", "running"))
        )
        for row in open_rows:
            await self._open(row.id)

    async def _open(self, tournament_id: int) -> None:
        name = TournamentAddress(tournament_id).actor_name
        if self.context.registry.lookup(name) is not None:
            return
        supervisor = self.context.registry.supervisor(TOURNAMENTS_SUPERVISOR)
        await supervisor.start_actor(tournament_spec(tournament_id, self.deps))

    async def handle(self, message: AnyDirectoryMessage | ReopenStored) -> object:
        match message:
            case CreateTournament(spec=spec):
                check_spec(spec)
                data = encode_spec(spec)
                now_ms = self.deps.clock_ms()
                row = await self.deps.store.run(
                    lambda: stored.create_tournament(spec.name, spec.kind, spec.asset, data, now_ms)
                )
                await self._open(row.id)
                return TournamentCreated(tournament_id=row.id)
            case ListTournaments(filter=f):
                return self.listing(f)
            case SubscribeTournamentLobby(player_id=player_id, filter=f):
                if player_id not in self.subscribers and len(self.subscribers) >= SUBSCRIBERS_MAX:
                    raise TournamentRefusal("lobby_full", "too many lobby subscriptions")
                self.subscribers[player_id] = f
                return self.listing(f)
            case UnsubscribeTournamentLobby(player_id=player_id):
                self.subscribers.pop(player_id, None)
            case SummaryChanged(summary=summary):
                self._changed(summary)
            case ReopenStored():
                await self._reopen()
        return None

    def listing(self, f: TournamentFilter) -> tuple[TournamentSummary, ...]:
        found = [s for _, s in sorted(self.summaries.items(), reverse=True) if matches(s, f)]
        return tuple(found[:LISTED_MAX])

    def _changed(self, summary: TournamentSummary) -> None:
        if self.summaries.get(summary.tournament_id) == summary:
            return
        self.summaries[summary.tournament_id] = summary
        if len(self.summaries) > LISTED_MAX:
            for old in sorted(self.summaries)[: len(self.summaries) - LISTED_MAX]:
                del self.summaries[old]
        tournament_metrics.count_states(self.summaries.values())
        body: Any = wire.TournamentLobbyChanged(tournament=wire_line(summary))
        for player_id, f in self.subscribers.items():
            if matches(summary, f):
                self.deps.channel.deliver(player_id, body)
