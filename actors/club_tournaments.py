"""Club tournaments in the live system: creating them, and the members-only gate
(docs/clubs.md "Club tournaments").

A club tournament is a tournament whose spec names its ``club_id``. The rules stay out of
the tournament actor, as for club tables (actors/club_tables.py):

- :class:`ClubTournaments` creates one for an owner or manager: the club service checks the
  role, then the tournament directory creates it (its row and its ``club_tournaments`` row
  in one transaction: its fees are the club's for rakeback). At most
  CLUB_TOURNAMENTS_OPEN_MAX of a club's tournaments are registering or running at once.
- :class:`ClubTournamentGate` wraps the gateway's tournament requests
  (server/tournament_requests.py): the lobby's listing and subscription carry the player's
  clubs (public tournaments and her clubs' only); registering, unregistering, reading a
  club tournament (details, standings), rebuys and add-ons need membership now
  (``not_club_member``, read from the database per request: nothing changes). A
  registration racing her removal is checked again once the tournament has answered and
  taken back (unregistered, refunded) if the removal committed meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Literal, Protocol, final

import msgspec

from actors.registry import Registry
from actors.runtime import TargetError
from actors.tournament_directory import (
    ListVisibleTournaments,
    SubscribeVisibleTournaments,
    wire_line,
)
from actors.tournament_messages import (
    DIRECTORY_NAME,
    CreateTournament,
    TournamentAddress,
    TournamentCreated,
    TournamentFilter,
    TournamentKind,
    TournamentMessage,
    TournamentRefusal,
    TournamentSpec,
    TournamentSummary,
    UnregisterPlayer,
)
from protocol import tournaments as wire
from protocol.messages import ERROR_MESSAGE_CHARS_MAX
from services.club_rules import ClubError, ClubLimitReached
from services.clubs import Clubs

ASK_TIMEOUT_S: Final = 10.0  # a registration moves money and stores a step
CLUB_TOURNAMENTS_OPEN_MAX: Final = 50  # bound: a club's tournaments registering or running
OPEN_STATES: Final = ("registering", "running")


class TournamentRequestHandler(Protocol):
    """server/tournament_requests.py's TournamentRequests (actors/ does not import server/)."""

    async def handle(self, player_id: int, request: Any, address: str = "") -> Any: ...


@final
class ClubTournamentSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What an owner or manager chooses of a club tournament (protocol/clubs.py
    ClubCreateTournament); the rest is the house's defaults (TournamentSpec). No guarantee:
    an overlay would be the house's money."""

    name: str
    kind: TournamentKind = "mtt"
    preset: str
    asset: Literal["chips", "play"] = "chips"
    buy_in: int = 0
    fee: int = 0
    seats_per_table: int = 9
    entries_min: int = 2
    entries_max: int = 100
    starts_at_ms: int | None = None

    def spec(self, club_id: int) -> TournamentSpec:
        return TournamentSpec(
            name=self.name, kind=self.kind, preset=self.preset, asset=self.asset,
            buy_in=self.buy_in, fee=self.fee, seats_per_table=self.seats_per_table,
            entries_min=self.entries_min, entries_max=self.entries_max,
            starts_at_ms=self.starts_at_ms, club_id=club_id,
        )  # fmt: skip


async def _ask(registry: Registry, name: str, message: object) -> Any:
    ref = registry.lookup(name)
    if ref is None:
        raise TournamentRefusal("tournaments_unavailable", f"no {name}")
    try:
        return await ref.ask(message, timeout_s=ASK_TIMEOUT_S)
    except TargetError as exc:
        raise TournamentRefusal("tournaments_unavailable", str(exc)[:200]) from exc


@final
class ClubTournaments:
    """Creates club tournaments for the doors (websocket, public API)."""

    def __init__(self, registry: Registry, clubs: Clubs) -> None:
        self.registry = registry
        self.clubs = clubs

    async def create(self, actor_id: int, club_id: int, chosen: ClubTournamentSpec) -> int:
        """Create a tournament of the club; its id. Raises ClubError (the role, the club's
        bound) or TournamentRefusal (``structure_invalid``, ``payout_invalid``,
        ``tournaments_unavailable``): nothing is created then."""
        await self.clubs.check_create_tournament(actor_id, club_id)
        listed = await _ask(self.registry, DIRECTORY_NAME, ListVisibleTournaments(clubs=(club_id,)))
        open_now = sum(1 for s in listed if s.club_id == club_id and s.state in OPEN_STATES)
        if open_now >= CLUB_TOURNAMENTS_OPEN_MAX:
            raise ClubLimitReached(
                f"a club has at most {CLUB_TOURNAMENTS_OPEN_MAX} tournaments not over"
            )
        created = await _ask(
            self.registry, DIRECTORY_NAME, CreateTournament(spec=chosen.spec(club_id))
        )
        assert isinstance(created, TournamentCreated)
        return created.tournament_id


def _filter(request: wire.ListTournaments | wire.SubscribeTournaments) -> TournamentFilter:
    return TournamentFilter(
        state=request.state, kind=request.kind, asset=request.asset,
        buy_in_min=request.buy_in_min, buy_in_max=request.buy_in_max,
    )  # fmt: skip


def _listed(rid: int, found: tuple[TournamentSummary, ...]) -> wire.TournamentList:
    return wire.TournamentList(id=rid, tournaments=tuple(wire_line(s) for s in found))


@final
class ClubTournamentGate:
    """The gateway's tournament requests: club tournaments for members only, the rest (and
    members' requests) to ``inner``."""

    def __init__(
        self,
        inner: TournamentRequestHandler,
        registry: Registry,
        clubs: Clubs,
        tell: Callable[[int, TournamentMessage], None] | None = None,
    ) -> None:
        self.inner = inner
        self.registry = registry
        self.clubs = clubs
        # Several nodes: a message to the tournament wherever it runs (TournamentRoom.tell);
        # None: this node's registry.
        self.tell = tell

    async def handle(self, player_id: int, request: Any, address: str = "") -> Any:
        try:
            return await self._route(player_id, request, address)
        except ClubError as exc:
            raise TournamentRefusal(exc.code, str(exc)[:ERROR_MESSAGE_CHARS_MAX]) from None

    async def _route(self, player_id: int, request: Any, address: str) -> Any:
        match request:
            case wire.ListTournaments():
                mine = await self.clubs.club_ids_of(player_id)
                query = ListVisibleTournaments(filter=_filter(request), clubs=mine)
                return _listed(request.id, await _ask(self.registry, DIRECTORY_NAME, query))
            case wire.SubscribeTournaments():
                mine = await self.clubs.club_ids_of(player_id)
                message = SubscribeVisibleTournaments(
                    player_id=player_id, filter=_filter(request), clubs=mine
                )
                return _listed(request.id, await _ask(self.registry, DIRECTORY_NAME, message))
            case (  # about one tournament: membership of its club
                wire.RegisterTournament()
                | wire.UnregisterTournament()
                | wire.GetTournament()
                | wire.GetTournamentStandings()
                | wire.TournamentRebuy()
                | wire.TournamentAddOn()
            ):
                tid = request.tournament_id
                club_id = await self.clubs.check_tournament_access(player_id, tid)
                reply = await self.inner.handle(player_id, request, address)
                if club_id is not None and isinstance(request, wire.RegisterTournament):
                    await self._still_member(player_id, tid)
                return reply
        return await self.inner.handle(player_id, request, address)

    async def _still_member(self, player_id: int, tournament_id: int) -> None:
        """After a registration: if her membership ended meanwhile (its tell may have
        reached the directory before she was in), unregister her (refunded) and refuse. A
        tournament that started at once keeps her entry (its chips are in play)."""
        try:
            await self.clubs.check_tournament_access(player_id, tournament_id)
        except ClubError:
            unregister = UnregisterPlayer(player_id=player_id)
            if self.tell is not None:
                self.tell(tournament_id, unregister)
                raise
            ref = self.registry.lookup(TournamentAddress(tournament_id).actor_name)
            if ref is not None:
                ref.tell(unregister)
            raise
