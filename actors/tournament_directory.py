"""The tournament directory ``tournament-directory``: creates tournaments (a store row, then
the ``tournament:<id>`` actor under the ``tournaments`` supervisor), lists them for the
lobby, and pushes changes to the players who subscribed. At start-up it re-opens every
stored tournament that is not over (docs/tournaments.md, "Crash safety").

Its listing is a cache the tournaments keep current (``SummaryChanged`` tells); finished and
cancelled ones stay listed, the newest LISTED_MAX of all.

Club tournaments (docs/clubs.md "Club tournaments"): a spec naming a ``club_id`` is the
club's; its row in ``club_tournaments`` is written in the transaction that creates the
tournament. Players see the public tournaments and their clubs' (``ListVisibleTournaments``,
``SubscribeVisibleTournaments``: the gateway's gate reads her clubs); the plain
``SubscribeTournamentLobby`` shows public ones only, the plain ``ListTournaments`` all of them
(staff). A membership change (``TournamentClubAccess``, told by the club service's watcher)
adds the club's tournaments to her live lobby or removes them (``tournament_lobby_removed``)
and, on losing access, unregisters her (everything paid refunded) from the club's
tournaments that have not started.

Subscriptions end with the session (:class:`TournamentLobbyHooks`), or with an unsubscribe.

Several nodes (``TournamentDeps.room``; docs/scaling.md, "Tournaments across nodes"): a new
tournament opens on the least-loaded live node; the lobby lines of this node's tournaments
are shared with the other nodes' directories (``SummaryChanged(shared=True)`` there), so
every node lists and pushes every tournament of the room.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Final, final

import msgspec

from actors import tournament_metrics
from actors.runtime import Actor, ChildSpec, Overflow, Registry, Restart
from actors.tournament import (
    TournamentActor,
    TournamentDeps,
    check_spec,
    decode_spec,
    encode_spec,
)
from actors.tournament_messages import (
    DIRECTORY_NAME,
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
    TournamentSpec,
    TournamentSummary,
    UnregisterPlayer,
    UnsubscribeTournamentLobby,
)
from persistence import clubs as club_db
from persistence import tournaments as stored
from persistence.tournaments import StoredTournament
from persistence.work import Work
from protocol import tournaments as wire

TOURNAMENTS_SUPERVISOR: Final = "tournaments"


class ReopenStored(DirectoryMessage, frozen=True, tag=True):
    """Its own, once started: re-open the stored tournaments that are not over."""


class ListVisibleTournaments(DirectoryMessage, frozen=True, tag=True):
    """A player's listing: the public tournaments and those of ``clubs`` (hers, read by the
    asker). Reply: tuple[TournamentSummary, ...] as ListTournaments."""

    filter: TournamentFilter = TournamentFilter()
    clubs: tuple[int, ...] = ()


class SubscribeVisibleTournaments(DirectoryMessage, frozen=True, tag=True):
    """As SubscribeTournamentLobby, with her clubs' tournaments too."""

    player_id: int
    filter: TournamentFilter = TournamentFilter()
    clubs: tuple[int, ...] = ()


class TournamentClubAccess(DirectoryMessage, frozen=True, tag=True):
    """``player_id`` became (``member``) or stopped being a member of ``club_id``; told
    after the change committed (actors/club_tables.py ``lobby_access_watcher``)."""

    player_id: int
    club_id: int
    member: bool


CLUBS_PER_SUBSCRIPTION_MAX: Final = 50  # a player's clubs (services/clubs.py's bound)


@final
class Subscription(msgspec.Struct, frozen=True):
    filter: TournamentFilter
    clubs: frozenset[int] = frozenset()  # club tournaments shown: these clubs'
    every_club: bool = False  # staff's listing

    def shows(self, summary: TournamentSummary) -> bool:
        return (
            self.every_club or summary.club_id is None or summary.club_id in self.clubs
        ) and matches(summary, self.filter)


def _clubs(clubs: tuple[int, ...]) -> frozenset[int]:
    if len(clubs) > CLUBS_PER_SUBSCRIPTION_MAX:
        raise TournamentRefusal("lobby_full", f"at most {CLUBS_PER_SUBSCRIPTION_MAX} clubs")
    return frozenset(clubs)


def _create(spec: TournamentSpec, data: bytes, now_ms: int) -> Work[StoredTournament]:
    """The tournament's row and, for a club's, its club_tournaments row: one transaction.
    ``data``: the encoded spec."""
    row = yield from stored.create_tournament(spec.name, spec.kind, spec.asset, data, now_ms)
    if spec.club_id is not None:
        yield from club_db.register_tournament(spec.club_id, row.id, now_ms)
    return row


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
        level=s.level, club_id=s.club_id,
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
class TournamentDirectory(
    Actor[
        AnyDirectoryMessage
        | ReopenStored
        | ListVisibleTournaments
        | SubscribeVisibleTournaments
        | TournamentClubAccess
    ]
):
    kind = "tournament-directory"
    mailbox_capacity = 4096
    mailbox_overflow = Overflow.STOP
    reply_errors = (TournamentRefusal,)

    def __init__(self, deps: TournamentDeps) -> None:
        self.deps = deps
        self.summaries: dict[int, TournamentSummary] = {}
        self.subscribers: dict[int, Subscription] = {}

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
                prize_pool=spec.guarantee, level=0, club_id=spec.club_id,
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

    async def handle(
        self,
        message: AnyDirectoryMessage
        | ReopenStored
        | ListVisibleTournaments
        | SubscribeVisibleTournaments
        | TournamentClubAccess,
    ) -> object:
        match message:
            case CreateTournament(spec=spec):
                check_spec(spec)
                data = encode_spec(spec)
                now_ms = self.deps.clock_ms()
                row = await self.deps.store.run(partial(_create, spec, data, now_ms))
                # Several nodes: on the least-loaded one (docs/scaling.md, "Tournaments
                # across nodes"); here when that is this node, or when it did not open it.
                room = self.deps.room
                if room is None or not await room.place(row.id):
                    await self._open(row.id)
                return TournamentCreated(tournament_id=row.id)
            case ListTournaments(filter=f):
                return self.listing(Subscription(f, every_club=True))
            case ListVisibleTournaments(filter=f, clubs=clubs):
                return self.listing(Subscription(f, _clubs(clubs)))
            case SubscribeTournamentLobby(player_id=player_id, filter=f):
                return self._subscribe(player_id, Subscription(f))
            case SubscribeVisibleTournaments(player_id=player_id, filter=f, clubs=clubs):
                return self._subscribe(player_id, Subscription(f, _clubs(clubs)))
            case UnsubscribeTournamentLobby(player_id=player_id):
                self.subscribers.pop(player_id, None)
            case TournamentClubAccess(player_id=player_id, club_id=club_id, member=member):
                self._club_access(player_id, club_id, member)
            case SummaryChanged(summary=summary, shared=shared):
                self._changed(summary)
                if not shared and self.deps.room is not None:
                    self.deps.room.share(summary)
            case ReopenStored():
                await self._reopen()
        return None

    def _subscribe(self, player_id: int, wanted: Subscription) -> tuple[TournamentSummary, ...]:
        if player_id not in self.subscribers and len(self.subscribers) >= SUBSCRIBERS_MAX:
            raise TournamentRefusal("lobby_full", "too many lobby subscriptions")
        self.subscribers[player_id] = wanted
        return self.listing(wanted)

    def listing(self, wanted: Subscription) -> tuple[TournamentSummary, ...]:
        found = [s for _, s in sorted(self.summaries.items(), reverse=True) if wanted.shows(s)]
        return tuple(found[:LISTED_MAX])

    def _club_access(self, player_id: int, club_id: int, member: bool) -> None:
        """Her live lobby gains or loses the club's tournaments; on losing access she is
        unregistered (a tell: refunded by the tournament; a no-op where she has no entry)
        from those of the club that have not started. A tournament that has started keeps
        her: her chips are in play."""
        club_tournaments = [s for s in self.summaries.values() if s.club_id == club_id]
        old = self.subscribers.get(player_id)
        if old is not None:
            clubs = old.clubs | {club_id} if member else old.clubs - {club_id}
            new = msgspec.structs.replace(old, clubs=frozenset(clubs))
            self.subscribers[player_id] = new
            for summary in club_tournaments:
                if old.shows(summary) == new.shows(summary):
                    continue
                body: Any = wire.TournamentLobbyChanged(tournament=wire_line(summary))
                if not member:
                    body = wire.TournamentLobbyRemoved(tournament_id=summary.tournament_id)
                self.deps.channel.deliver(player_id, body)
        if member:
            return
        for summary in club_tournaments:
            if summary.state != "registering":
                continue
            unregister = UnregisterPlayer(player_id=player_id)
            if self.deps.room is not None:  # on this node or the one that runs it
                self.deps.room.tell(summary.tournament_id, unregister)
                continue
            ref = self.context.registry.lookup(TournamentAddress(summary.tournament_id).actor_name)
            if ref is not None:
                ref.tell(unregister)

    def _changed(self, summary: TournamentSummary) -> None:
        if self.summaries.get(summary.tournament_id) == summary:
            return
        self.summaries[summary.tournament_id] = summary
        if len(self.summaries) > LISTED_MAX:
            for old in sorted(self.summaries)[: len(self.summaries) - LISTED_MAX]:
                del self.summaries[old]
        tournament_metrics.count_states(self.summaries.values())
        body: Any = wire.TournamentLobbyChanged(tournament=wire_line(summary))
        for player_id, wanted in self.subscribers.items():
            if wanted.shows(summary):
                self.deps.channel.deliver(player_id, body)


@final
class TournamentLobbyHooks:
    """The gateway's session hooks (server/gateway.py ``SessionHooks``) around ``inner`` (the
    tables'): a session's end also ends its tournament lobby subscription (a tell), so
    subscriptions do not outlive sessions. Every other hook is ``inner``'s."""

    def __init__(self, inner: Any, registry: Registry) -> None:
        self.inner = inner
        self.registry = registry

    def session_ended(self, player_id: int | None, player: str, session_id: str) -> None:
        self.inner.session_ended(player_id, player, session_id)
        directory = self.registry.lookup(DIRECTORY_NAME)
        if player_id is not None and directory is not None:
            directory.tell(UnsubscribeTournamentLobby(player_id=player_id))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
