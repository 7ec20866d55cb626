"""The lobby actor: the list of cash tables and live updates to subscribers.

Tables tell the lobby their listing whenever it changes (``ListingChanged``: seats taken,
wait list, average pot, hands per hour); the lobby keeps the latest of each (a cache that may
drop updates: its mailbox drops the oldest message when full, and the next update of the
same table replaces what was lost) and pushes it to the sessions subscribed with a matching
filter. It never waits for a player, a table or the ledger: an operator's new table
(``OpenTable``) is only reserved here, and opened by the asker (actors/table/admin.py
``open_table``, with ``TableToOpen``), whose task takes the table's lease, epoch and first
durable write, or has a less-loaded node open it.

Club tables (docs/clubs.md): a table whose config names a ``club_id`` is listed, and pushed,
only to that club's members. The lobby does not read memberships: whoever asks says which
clubs the player belongs to (``ListVisibleTables``, ``SubscribeVisibleListings``: the
gateway reads them), and membership changes are told to it (``ClubAccessChanged``: a player
who lost access sees the club's tables removed, is stood up, leaves their wait lists and
stops watching them). A table registered to a club without a ``club_id`` in its config
(``register_table``) is a club table too: the lobby reads its registration from the store
the first time it hears of the table, and is told of a new one (``ClubTableRegistered``).
``ListTablesQuery`` and ``SubscribeListings`` alone list public tables only (what the public
API's anonymous lobby reads); staff ask ``ListAllTables``.

Several nodes (docs/scaling.md, "Lobby listings across nodes"): the lobby shares its own
tables' listings with the other nodes' lobbies (``ListingsRoom``: server/cluster_lobby.py)
and keeps theirs (``RemoteListingsChanged``, ``RemoteNodesLeft``; actors/lobby_listings.py,
bounded), so a player's listing and pushes cover the room. Staff's ``ListAllTables`` stays
this node's (the admin API and the ledger audit read this node's tables), and so does the
seat matcher's cache.

Quick-seat is not the lobby's: the seat matcher (actors/seat_matcher.py, ``lobby:seats``) is
a child of the lobby that reads this cache and never drops a request.

The lobby is a PERMANENT worker. Listings are a cache of what tables say: its snapshot keeps
them across a crash restart, and every table re-announces itself whenever it changes.
"""

from __future__ import annotations

from functools import partial
from typing import Final, Protocol, final

import msgspec

from actors.addresses import TABLE_PREFIX, TableAddress
from actors.lobby_listings import Filter, ListingChange, RemoteListings, push_for
from actors.runtime import (
    Actor,
    ChildSpec,
    Down,
    Monitor,
    Overflow,
    SupervisionPolicy,
)
from actors.seat_matcher import SEAT_MATCHER_NAME, ListingsCache, Placement, SeatMatcher
from actors.table.actor import table_spec
from actors.table.admin import TableToOpen, tombstone_id
from actors.table.config import TableConfig
from actors.table.deps import TableDeps
from actors.table.messages import (
    GameRefused,
    LeaveWaiting,
    ListingChanged,
    ListTablesQuery,
    LobbyMessage,
    OpenTable,
    RemoveWatcher,
    StandUp,
    SubscribeListings,
    TableClosed,
    UnsubscribeListings,
)
from persistence import clubs as club_db
from protocol import game
from protocol.limits import TABLES_OPEN_MAX

SUBSCRIBERS_MAX: Final = 10_000  # bound: SubscribeListings beyond it is refused
# An OpenTable's reservation lapses after this (an asker that died without OpeningEnded);
# a table's start takes a lease, an epoch and one durable write: well under it.
OPENING_MS_MAX: Final = 60_000
CLUBS_PER_FILTER_MAX: Final = 50  # a player's clubs (services/clubs.py's bound); more: refused


class OpeningEnded(LobbyMessage, frozen=True, tag=True):
    """The asker of ``OpenTable`` is done opening ``table_id`` (opened or not): its
    reservation is free. Told by the TableToOpen's ``open``."""

    table_id: str


class ListVisibleTables(ListTablesQuery, frozen=True, tag=True):
    """A player's listing: the public tables and those of ``clubs`` (the clubs she belongs
    to, read by the asker). Reply: tuple[TableListing, ...]."""

    clubs: tuple[int, ...] = ()


class ListAllTables(ListTablesQuery, frozen=True, tag=True):
    """Staff's listing: every table, club tables included."""


class SubscribeVisibleListings(SubscribeListings, frozen=True, tag=True):
    """As SubscribeListings, with her clubs' tables too (``clubs`` as ListVisibleTables)."""

    clubs: tuple[int, ...] = ()


class ClubAccessChanged(LobbyMessage, frozen=True, tag=True):
    """``player_id`` became (``member``) or stopped being a member of ``club_id`` (left,
    removed, banned). Told by the club service's doors after the change committed."""

    player_id: int
    club_id: int
    member: bool


class ClubTableRegistered(LobbyMessage, frozen=True, tag=True):
    """``table_id`` was registered to ``club_id`` (services/clubs.py ``register_table``):
    listed from now on to the club's members only, even if its config names no club. Told
    after the registration committed."""

    table_id: str
    club_id: int


class RemoteListingsChanged(LobbyMessage, frozen=True, tag=True):
    """``node`` (another node of the room) lists ``changed`` (new or changed listings of its
    tables), no longer lists ``removed``, and, when ``held`` is set (its whole set, resent),
    lists no table outside it. Told by server/cluster_lobby.py from the router's items."""

    node: str
    changed: tuple[game.TableListing, ...] = ()
    removed: tuple[str, ...] = ()
    held: tuple[str, ...] | None = None


class RemoteNodesLeft(LobbyMessage, frozen=True, tag=True):
    """``nodes`` left the room (their records expired, or they stopped): their listings go."""

    nodes: tuple[str, ...]


class ListingsRoom(Protocol):
    """The other nodes of a room, as the lobby reaches them (server/cluster_lobby.py): each
    method never blocks, and does nothing when no other node is live."""

    listings: ListingsCache | None  # this node's tables' listings (for a resend); set here
    remote: RemoteListings | None  # the other nodes' listings kept here; set here

    def share(self, listing: game.TableListing) -> None:
        """A listing of a table of this node, new or changed, to the other nodes' lobbies."""
        ...

    def unshare(self, table_id: str) -> None:
        """A table of this node is no longer listed here (closed, stopped, moved)."""
        ...


def _filter_of(message: ListTablesQuery | SubscribeListings) -> Filter:
    clubs = getattr(message, "clubs", ())
    if len(clubs) > CLUBS_PER_FILTER_MAX:
        raise GameRefused("lobby_full", f"at most {CLUBS_PER_FILTER_MAX} clubs per listing")
    return Filter(
        message.variant,
        message.big_blind,
        message.asset,
        clubs=frozenset(clubs),
        every_club=isinstance(message, ListAllTables),
    )


class LobbyState(msgspec.Struct, frozen=True):
    listings: tuple[tuple[game.TableListing, TableConfig], ...]
    subscribers: tuple[tuple[int, Filter], ...]
    remote: tuple[tuple[str, tuple[game.TableListing, ...]], ...] = ()  # by node


@final
class LobbyActor(Actor[LobbyMessage | Down]):
    kind = "lobby"
    mailbox_capacity = 4096
    # Listings: only the latest matters. A listing or subscription ask dropped here fails
    # with AskDropped in the caller (answered unavailable; the player may try again). Seat
    # requests never come here (the seat matcher's bounded mailbox answers server_busy).
    mailbox_overflow = Overflow.DROP_OLDEST
    keeps_snapshot = True
    reply_errors = (GameRefused,)
    child_supervision = SupervisionPolicy()  # the seat matcher

    def __init__(
        self,
        deps: TableDeps,
        placement: Placement | None = None,
        room: ListingsRoom | None = None,
    ) -> None:
        self.deps = deps
        # With several nodes: new tables go to the least-loaded one (server/cluster_placement.py).
        self.placement = placement
        self.cache = ListingsCache()  # written here only; the seat matcher reads it
        if placement is not None:
            placement.listings = self.cache  # this incarnation's: the node's seated players
        self.listings = self.cache.tables
        # With several nodes: this node's listings are shared with the others, and theirs
        # kept here (bounded: actors/lobby_listings.py), listed and pushed beside its own.
        self.room = room
        self.remote = RemoteListings()
        if room is not None:
            room.listings = self.cache
            room.remote = self.remote  # its refused count is a metric
        self.cache.remote = self.remote  # a quick seat's last resort before a new table
        self.subscribers: dict[int, Filter] = {}
        self.monitors: dict[str, Monitor] = {}  # one per listed table (this incarnation's)
        # The club a listed table is registered to when its config names none (a table
        # registered with register_table): read once per table and incarnation from the
        # store, kept current by ClubTableRegistered. Bound: the listed tables.
        self.registered: dict[str, int | None] = {}
        # Ids of operators' new tables being opened by their askers (OpenTable), each until
        # its OpeningEnded or OPENING_MS_MAX. Bound: TABLES_OPEN_MAX with the listings.
        self.opening: dict[str, int] = {}

    async def started(self) -> None:
        matcher = ChildSpec.worker(
            SEAT_MATCHER_NAME, lambda: SeatMatcher(self.deps, self.cache, self.placement)
        )
        await self.context.children.start_actor(matcher)
        for table_id in list(self.listings):  # monitors end with an incarnation: set them again
            self._watch(table_id)

    def _watch(self, table_id: str) -> None:
        """Learn of the table's end from a monitor (Down), not from polling the registry: a
        table stopped without a TableClosed (stopped by its supervisor) leaves the listings."""
        if table_id in self.monitors:
            return
        ref = self.context.registry.resolve(TableAddress(table_id))
        if ref is None:
            self._drop(table_id)  # gone already
            return
        self.monitors[table_id] = self.context.monitor(ref)

    def _drop(self, table_id: str) -> None:
        self.registered.pop(table_id, None)
        monitor = self.monitors.pop(table_id, None)
        if monitor is not None:
            monitor.cancel()
        gone = self.listings.pop(table_id, None)
        if gone is not None:
            # Another node may list it already (it moved there): the room shows that one.
            self._show(ListingChange(table_id, gone[0], self.remote.shown(table_id)))
            if self.room is not None:
                self.room.unshare(table_id)

    def snapshot(self) -> LobbyState:
        return LobbyState(
            listings=tuple(self.listings.values()),
            subscribers=tuple(self.subscribers.items()),
            remote=self.remote.snapshot(),
        )

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, LobbyState)
        self.listings.clear()
        self.listings.update({item[0].table_id: item for item in snapshot.listings})
        self.subscribers = dict(snapshot.subscribers)
        self.remote.restore(snapshot.remote)

    async def handle(self, message: LobbyMessage | Down) -> object:
        match message:
            case ListingChanged(listing=listing, config=config):
                if config.club_id is None:
                    config = await self._registered_club(config)
                if listing.club_id != config.club_id:  # the table's config is the truth
                    listing = msgspec.structs.replace(listing, club_id=config.club_id)
                before = self._shown(listing.table_id)
                self.listings[listing.table_id] = (listing, config)
                self._show(ListingChange(listing.table_id, before, listing), always=True)
                self._watch(listing.table_id)
                if self.room is not None:
                    self.room.share(listing)
            case TableClosed(table_id=table_id):
                self._drop(table_id)
            case Down(name=name) if name.startswith(TABLE_PREFIX):
                self.monitors.pop(name.removeprefix(TABLE_PREFIX), None)
                self._drop(name.removeprefix(TABLE_PREFIX))
            case ListTablesQuery():
                if isinstance(message, ListAllTables):  # staff: this node's tables only
                    return self._list(_filter_of(message), TABLES_OPEN_MAX, room=False)
                return self._list(_filter_of(message), game.TABLES_LISTED_MAX)
            case SubscribeListings(player_id=player_id):
                if player_id not in self.subscribers and len(self.subscribers) >= SUBSCRIBERS_MAX:
                    raise GameRefused("lobby_full", "too many lobby subscribers")
                wanted = _filter_of(message)
                self.subscribers[player_id] = wanted
                return self._list(self.subscribers[player_id], game.TABLES_LISTED_MAX)
            case ClubTableRegistered(table_id=table_id, club_id=club_id):
                self._registered_now(table_id, club_id)
            case ClubAccessChanged(player_id=player_id, club_id=club_id, member=member):
                self._club_access(player_id, club_id, member)
            case UnsubscribeListings(player_id=player_id):
                self.subscribers.pop(player_id, None)
            case OpenTable(config=config, here=here):
                return self._reserve(config, here=here)
            case OpeningEnded(table_id=table_id):
                self.opening.pop(table_id, None)
            case RemoteListingsChanged(node=node, changed=changed, removed=removed, held=held):
                for change in self.remote.apply(node, changed, removed, held):
                    if change.table_id not in self.listings:  # this node's is the truth
                        self._show(change)
            case RemoteNodesLeft(nodes=nodes):
                for change in self.remote.drop_nodes(nodes):
                    if change.table_id not in self.listings:
                        self._show(change)
            case _:
                raise TypeError(f"lobby: unexpected message {message!r}")
        return None

    async def _registered_club(self, config: TableConfig) -> TableConfig:
        """A table whose config names no club, with the club it is registered to (if any):
        read from the store the first time this incarnation hears of it."""
        table_id = config.table_id
        if table_id not in self.registered:
            read = partial(club_db.club_of_table, table_id)
            self.registered[table_id] = await self.deps.store.run(read, read_only=True)
        club_id = self.registered[table_id]
        return config if club_id is None else msgspec.structs.replace(config, club_id=club_id)

    def _registered_now(self, table_id: str, club_id: int) -> None:
        """A listed public table registered to a club: its public subscribers see it go, the
        club's members see it (again, with its club)."""
        self.registered[table_id] = club_id
        listed = self.listings.get(table_id)
        if listed is None or listed[1].club_id is not None:
            return
        old, config = listed
        listing = msgspec.structs.replace(old, club_id=club_id)
        self.listings[table_id] = (listing, msgspec.structs.replace(config, club_id=club_id))
        if self.room is not None:
            self.room.share(listing)
        deliver = self.deps.channel.deliver
        for player_id, filter_ in self.subscribers.items():
            if filter_.matches(listing):
                deliver(player_id, game.LobbyTableChanged(listing=listing))
            elif filter_.matches(old):
                deliver(player_id, game.LobbyTableRemoved(table_id=table_id))

    def _club_access(self, player_id: int, club_id: int, member: bool) -> None:
        """Her lobby subscription gains or loses the club's tables (pushed as added or
        removed); on losing access she is stood up (cashed out, after a hand she is in),
        leaves the wait lists and stops watching at the club's tables, by tells."""
        tables = [
            listing for listing, config in self.listings.values() if config.club_id == club_id
        ]
        remote = [  # other nodes' tables of the club: pushed as added or removed only
            listing
            for listing in self.remote.listings()
            if listing.club_id == club_id and listing.table_id not in self.listings
        ]
        old = self.subscribers.get(player_id)
        if old is not None:
            clubs = old.clubs | {club_id} if member else old.clubs - {club_id}
            new = msgspec.structs.replace(old, clubs=frozenset(clubs))
            self.subscribers[player_id] = new
            deliver = self.deps.channel.deliver
            for listing in tables + remote:
                if old.matches(listing) == new.matches(listing):
                    continue
                if member:
                    deliver(player_id, game.LobbyTableChanged(listing=listing))
                else:
                    deliver(player_id, game.LobbyTableRemoved(table_id=listing.table_id))
        if member:
            return
        seated = set(self.deps.player_tables.seats_of(player_id))
        watched = set(self.deps.player_tables.watched_by(player_id))
        for listing in tables:
            ref = self.context.registry.resolve(TableAddress(listing.table_id))
            if ref is None:
                continue
            ref.tell(LeaveWaiting(player_id=player_id))  # a no-op unless she waits there
            if listing.table_id in seated:
                ref.tell(StandUp(player_id=player_id))
            if listing.table_id in watched:
                ref.tell(RemoveWatcher(player_id=player_id))

    def _list(
        self, filter_: Filter, cut: int, *, room: bool = True
    ) -> tuple[game.TableListing, ...]:
        """This node's listings that match, and (``room``) the other nodes' that match."""
        found = [listing for listing, _ in self.listings.values() if filter_.matches(listing)]
        if room:
            found.extend(
                listing
                for listing in self.remote.listings()
                if listing.table_id not in self.listings and filter_.matches(listing)
            )
        found.sort(key=lambda listing: (listing.variant, listing.big_blind, listing.table_id))
        return tuple(found[:cut])

    def _shown(self, table_id: str) -> game.TableListing | None:
        """What the room shows of the table: this node's listing, else another node's."""
        local = self.listings.get(table_id)
        return local[0] if local is not None else self.remote.shown(table_id)

    def _show(self, change: ListingChange, *, always: bool = False) -> None:
        """Each subscriber's push for a change of what the room shows (``always``: a table
        of this node re-announced pushes its listing again, as it always did)."""
        deliver = self.deps.channel.deliver
        _table_id, before, after = change
        for player_id, filter_ in self.subscribers.items():
            if always and after is not None and filter_.matches(after):
                deliver(player_id, game.LobbyTableChanged(listing=after))
                continue
            body = push_for(filter_, before, after)
            if body is not None:
                deliver(player_id, body)

    def _reserve(self, config: TableConfig, *, here: bool) -> TableToOpen:
        """An operator's new table: its id reserved (no durable write, no wait) and handed
        back to be opened in the asker's task (TableToOpen)."""
        table_id, now_ms = config.table_id, self.deps.clock_ms()
        for stale in [t for t, until_ms in self.opening.items() if until_ms <= now_ms]:
            del self.opening[stale]  # an asker that never said it was done
        if (
            table_id in self.listings
            or table_id in self.opening
            or self.context.registry.resolve(TableAddress(table_id)) is not None
        ):
            raise GameRefused("table_exists", f"table {table_id!r} exists")
        if len(self.listings) + len(self.opening) >= TABLES_OPEN_MAX:
            raise GameRefused(
                "too_many_tables", f"this server runs {TABLES_OPEN_MAX} tables at most"
            )
        self.opening[table_id] = now_ms + OPENING_MS_MAX
        return TableToOpen(table_id, partial(self._open, config, here=here))

    async def _open(self, config: TableConfig, *, here: bool) -> None:
        """(Run by the asker of OpenTable, not in the lobby's turn.) Open the table here,
        or on a less-loaded node; then free its reservation."""
        registry, table_id = self.context.registry, config.table_id
        try:
            # An operator reopening a closed table's id: it is live again after a restart.
            await self.deps.store.delete_snapshot(tombstone_id(table_id), 2**62)
            placement = None if here else self.placement
            if placement is not None and await placement.open_elsewhere(config):
                return  # opened on a less-loaded node
            tables = registry.supervisor(self.deps.tables_supervisor)
            await tables.start_actor(table_spec(config, self.deps))
        finally:
            lobby = registry.lookup(self.context.name)
            if lobby is not None:
                lobby.tell(OpeningEnded(table_id))
