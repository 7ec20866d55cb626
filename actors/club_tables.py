"""Club tables in the live system: opening them, and the members-only gate (docs/clubs.md).

A club table is a cash table whose config names its ``club_id``. The rules stay out of the
table actor:

- :class:`ClubTables` opens one for an owner or manager: the club service checks the role and
  registers a fresh id to the club (so its rake is the club's), then the lobby opens it.
- :class:`ClubTableGate` wraps the gateway's game requests (actors/table_requests.py): a
  join, a wait-list entry or a watch at a club's table, and a quick-seat at a club, are
  refused with ``not_club_member`` unless the player is a member now (read from the database
  per request, so a removed or banned member is refused at once), before the table is asked:
  nothing changes. A join, wait-list entry or watch at a club's table is checked again once
  the table has answered: a removal that committed in between (after the first check) takes
  it back (stand up, leave the wait list, stop watching) and the request is refused
  ``not_club_member``; so is a club quick-seat. Lobby listings and subscriptions carry the
  player's clubs, so the lobby shows her the public tables and her clubs' tables only.
- :meth:`ClubTables.close` closes one for an owner or manager through the operator's close
  (actors/table_admin.py ``close_table``), audited as the admin API's close is.
- :func:`lobby_access_watcher` is the club service's access watcher (services/clubs.py) that
  tells the lobby of a membership change (it updates her live lobby and stands her up at the
  club's tables when she lost access) and the tournament directory (her tournament lobby,
  her registrations: actors/tournament_directory.py); :func:`lobby_table_watcher` tells the
  lobby of a table registered to a club (listed to members only from then on).
  :func:`watch_clubs` registers both for the server.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, Final, Protocol, final

import msgspec
import trio

from actors.addresses import LOBBY, TableAddress
from actors.club_tournaments import ClubTournaments
from actors.lobby import (
    ClubAccessChanged,
    ClubTableRegistered,
    ListVisibleTables,
    SubscribeVisibleListings,
)
from actors.registry import Registry
from actors.runtime import TargetError
from actors.seat_matcher import FindClubSeat, quick_seat
from actors.table.admin import close_table, open_table
from actors.table.config import TableConfig
from actors.table.messages import (
    GameRefused,
    LeaveWaiting,
    RemoveWatcher,
    StandUp,
)
from actors.table.requests import seat_profile
from actors.tournament_directory import TournamentClubAccess
from actors.tournament_messages import DIRECTORY_NAME
from persistence.audit import AuditStamp
from persistence.store import Store
from poker import Variant
from protocol import game
from protocol.fields import Asset
from protocol.messages import ERROR_MESSAGE_CHARS_MAX, Reply
from services.club_rules import ClubError, InvalidClubInput
from services.clubs import Clubs, watch_club_access, watch_club_tables
from services.ledger import WalletError

LOBBY_ASK_TIMEOUT_S: Final = 5.0
UNAVAILABLE_RETRY_AFTER_MS: Final = 1_000
PLACEHOLDER_TABLE_ID: Final = "club-table"  # a config is checked before its id is taken
CLOSE_ACTION: Final = "clubs.close_table"  # the audit log's action of a club's close


class GameRequests(Protocol):
    """server/gateway.py's GameRequests (repeated here: actors/ does not import server/)."""

    async def handle(
        self, player_id: int, player: str, request: game.GameRequest, address: str = ""
    ) -> Reply | None: ...


@final
class ClubTableSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What an owner or manager chooses of a club table (protocol/clubs.py ClubCreateTable);
    the rest is the house's (rake, timers, bounds: TableConfig's defaults)."""

    name: str
    variant: str  # a protocol.game VariantCode
    small_blind: int
    big_blind: int
    seats: int = 6
    buy_in_min: int = 0
    buy_in_max: int = 0
    ante: int = 0
    asset: Asset = "chips"

    def config(self, table_id: str, club_id: int) -> TableConfig:
        """The table's config; InvalidClubInput when the table could not play it."""
        try:
            return TableConfig(
                table_id=table_id,
                name=self.name,
                variant=Variant(self.variant),
                small_blind=self.small_blind,
                big_blind=self.big_blind,
                seats=self.seats,
                buy_in_min=self.buy_in_min,
                buy_in_max=self.buy_in_max,
                ante=self.ante,
                asset=self.asset,
                club_id=club_id,
            )
        except ValueError as exc:
            message = str(exc).removeprefix(f"{table_id}: ")
            raise InvalidClubInput(message[:ERROR_MESSAGE_CHARS_MAX]) from None


@final
class ClubTables:
    """Opens and closes club tables for the doors (websocket, public API); ``tournaments``
    creates club tournaments (actors/club_tournaments.py)."""

    def __init__(self, registry: Registry, clubs: Clubs) -> None:
        self.registry = registry
        self.clubs = clubs
        self.tournaments = ClubTournaments(registry, clubs)  # the doors' club tournaments

    async def close(self, actor_id: int, club_id: int, table_id: str) -> str:
        """An owner or manager closes a table of her club as an operator does (actors/
        table_admin.py ``close_table``: no new seats at once, every player cashed out after
        the running hand); its status after (``closing`` or ``closed``). Audited like the
        admin API's close: the intent before the table is asked, the outcome after. Raises
        ClubError (nothing logged) or GameRefused (``no_such_table``, ``unavailable``)."""
        role = await self.clubs.check_close_table(actor_id, club_id, table_id)
        stamp = AuditStamp(
            subject=f"player:{actor_id}", role=f"club_{role}", action=CLOSE_ACTION,
            target=TableAddress(table_id).actor_name, reason=f"club:{club_id}",
            request_id=secrets.token_hex(8),
        )  # fmt: skip
        store = self.clubs.store
        await store.append_audit(stamp, before=None, after={"outcome": "requested"})
        with trio.CancelScope(shield=True):  # bounded: the ask times out
            try:
                detail = await close_table(self.registry, table_id)
            except GameRefused as exc:
                outcome = "unknown" if exc.code == "unavailable" else "refused"
                after = {"outcome": outcome, "error": exc.code}
                await store.append_audit(stamp, before=None, after=after)
                raise
            after = {"outcome": "done", "status": detail.status}
            await store.append_audit(stamp, before=None, after=after)
        return detail.status

    async def create(self, actor_id: int, club_id: int, spec: ClubTableSpec) -> TableConfig:
        """Open a club table; its config. Raises ClubError (the role, the club's bound, a
        game the table cannot play: nothing registered then) or GameRefused (the lobby
        could not open it: ``too_many_tables``, ``unavailable``)."""
        spec.config(PLACEHOLDER_TABLE_ID, club_id)  # bad input changes nothing
        table_id = await self.clubs.new_table_id(actor_id, club_id)
        config = spec.config(table_id, club_id)
        await open_table(self.registry, config)
        return config


def lobby_access_watcher(registry: Registry) -> Callable[[int, int, bool], None]:
    """The club service's access watcher that tells the lobby and the tournament directory
    (never blocks)."""

    def told(club_id: int, player_id: int, member: bool) -> None:
        lobby = registry.resolve(LOBBY)
        if lobby is not None:
            lobby.tell(ClubAccessChanged(player_id=player_id, club_id=club_id, member=member))
        directory = registry.lookup(DIRECTORY_NAME)
        if directory is not None:
            directory.tell(
                TournamentClubAccess(player_id=player_id, club_id=club_id, member=member)
            )

    return told


def lobby_table_watcher(registry: Registry) -> Callable[[int, str], None]:
    """The club service's table watcher: a table registered to a club is listed to its
    members only from now on (never blocks)."""

    def told(club_id: int, table_id: str) -> None:
        lobby = registry.resolve(LOBBY)
        if lobby is not None:
            lobby.tell(ClubTableRegistered(table_id=table_id, club_id=club_id))

    return told


def watch_clubs(store: Store, registry: Registry) -> None:
    """What the live system hears of the club service: membership changes (the lobby, the
    tournament directory) and tables registered to a club (the lobby)."""
    watch_club_access(store, lobby_access_watcher(registry))
    watch_club_tables(store, lobby_table_watcher(registry))


@final
class ClubTableGate:
    """The gateway's GameRequests: club tables for members only, the rest to ``inner``."""

    def __init__(
        self, inner: GameRequests, registry: Registry, clubs: Clubs, store: Store | None = None
    ) -> None:
        self.inner = inner
        self.store = store  # profiles and preferences, read as a player sits down
        self.registry = registry
        self.clubs = clubs

    async def handle(
        self, player_id: int, player: str, request: game.GameRequest, address: str = ""
    ) -> Reply | None:
        try:
            return await self._route(player_id, player, request, address)
        except ClubError as exc:
            raise GameRefused(exc.code, str(exc)[:ERROR_MESSAGE_CHARS_MAX]) from None
        except WalletError as refused:  # a club quick-seat's buy-in
            raise GameRefused(refused.code, str(refused)[:ERROR_MESSAGE_CHARS_MAX]) from refused
        except TargetError as exc:
            message = str(exc)[:ERROR_MESSAGE_CHARS_MAX]
            raise GameRefused("unavailable", message, UNAVAILABLE_RETRY_AFTER_MS) from exc

    async def _route(
        self, player_id: int, player: str, request: game.GameRequest, address: str
    ) -> Reply | None:
        clubs = self.clubs
        rid = request.id
        match request:
            case (
                game.JoinTable(table_id=t) | game.JoinWaitList(table_id=t) | game.Watch(table_id=t)
            ):
                club_id = await clubs.check_table_access(player_id, t)
                reply = await self.inner.handle(player_id, player, request, address)
                if club_id is not None:
                    await self._still_member(player_id, request, t)
                return reply
            case game.QuickSeat(club_id=int(club_id)):
                await clubs.check_member(player_id, club_id)
                find = FindClubSeat(
                    player_id,
                    request.variant,
                    request.big_blind,
                    request.buy_in,
                    request.asset,
                    club_id=club_id,
                    address=address,
                    profile=await seat_profile(self.store, player_id),
                )
                granted = await quick_seat(self.registry, find)
                join = game.JoinTable(id=rid, table_id=granted.table_id, buy_in=request.buy_in)
                await self._still_member(player_id, join, granted.table_id)
                return game.Seated(
                    id=rid, table_id=granted.table_id, seat=granted.seat, stack=granted.stack
                )
            case game.ListTables(filter=f):
                mine = await clubs.club_ids_of(player_id)
                query = ListVisibleTables(f.variant, f.big_blind, f.asset, clubs=mine)
                return game.TableList(id=rid, tables=await self._ask_lobby(query))
            case game.SubscribeLobby(filter=f):
                mine = await clubs.club_ids_of(player_id)
                message = SubscribeVisibleListings(
                    player_id, f.variant, f.big_blind, f.asset, clubs=mine
                )
                return game.TableList(id=rid, tables=await self._ask_lobby(message))
        return await self.inner.handle(player_id, player, request, address)

    async def _still_member(self, player_id: int, request: game.GameRequest, table_id: str) -> None:
        """After a join, wait-list entry or watch at a club's table: if her membership ended
        meanwhile (its ClubAccessChanged may have reached the lobby before she was in), take
        it back by a tell and refuse."""
        try:
            await self.clubs.check_table_access(player_id, table_id)
        except ClubError:
            ref = self.registry.resolve(TableAddress(table_id))
            if ref is not None:
                undo: object = RemoveWatcher(player_id=player_id)
                if isinstance(request, game.JoinTable):
                    undo = StandUp(player_id=player_id)
                elif isinstance(request, game.JoinWaitList):
                    undo = LeaveWaiting(player_id=player_id)
                ref.tell(undo)
            raise

    async def _ask_lobby(self, message: object) -> Any:
        lobby = self.registry.resolve(LOBBY)
        if lobby is None:
            raise GameRefused("unavailable", "the lobby is not running", UNAVAILABLE_RETRY_AFTER_MS)
        tables = await lobby.ask(message, timeout_s=LOBBY_ASK_TIMEOUT_S)
        assert isinstance(tables, tuple)
        return tables
