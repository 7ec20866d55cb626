"""The lobby actor: the list of cash tables and live updates to subscribers.

Tables tell the lobby their listing whenever it changes (``ListingChanged``: seats taken,
wait list, average pot, hands per hour); the lobby keeps the latest of each (a cache that may
drop updates: its mailbox drops the oldest message when full, and the next update of the
same table replaces what was lost) and pushes it to the sessions subscribed with a matching
filter. It never waits for a player, a table or the ledger.

Quick-seat is not the lobby's: the seat matcher (actors/seat_matcher.py, ``lobby:seats``) is
a child of the lobby that reads this cache and never drops a request.

The lobby is a PERMANENT worker. Listings are a cache of what tables say: its snapshot keeps
them across a crash restart, and every table re-announces itself whenever it changes.
"""

from __future__ import annotations

from typing import Final, final

import msgspec

from actors.addresses import TABLE_PREFIX, TableAddress
from actors.runtime import (
    Actor,
    ActorRef,
    ChildSpec,
    Down,
    Monitor,
    Overflow,
    SupervisionPolicy,
)
from actors.seat_matcher import SEAT_MATCHER_NAME, ListingsCache, SeatMatcher
from actors.table import table_spec
from actors.table_admin import tombstone_id
from actors.table_messages import (
    GameRefused,
    ListingChanged,
    ListTablesQuery,
    LobbyMessage,
    OpenTable,
    SubscribeListings,
    TableClosed,
    TableConfig,
    TableDeps,
    UnsubscribeListings,
)
from protocol import game

SUBSCRIBERS_MAX: Final = 10_000  # bound: SubscribeListings beyond it is refused
TABLES_MAX: Final = game.TABLES_LISTED_MAX  # bound: OpenTable beyond it is refused


class Filter(msgspec.Struct, frozen=True):
    variant: str | None = None
    big_blind: int | None = None
    asset: str | None = None  # None: real money and play money alike

    def matches(self, listing: game.TableListing) -> bool:
        return (
            (self.variant is None or listing.variant == self.variant)
            and (self.big_blind is None or listing.big_blind == self.big_blind)
            and (self.asset is None or listing.asset == self.asset)
        )


class LobbyState(msgspec.Struct, frozen=True):
    listings: tuple[tuple[game.TableListing, TableConfig], ...]
    subscribers: tuple[tuple[int, Filter], ...]


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

    def __init__(self, deps: TableDeps) -> None:
        self.deps = deps
        self.cache = ListingsCache()  # written here only; the seat matcher reads it
        self.listings = self.cache.tables
        self.subscribers: dict[int, Filter] = {}
        self.monitors: dict[str, Monitor] = {}  # one per listed table (this incarnation's)

    async def started(self) -> None:
        matcher = ChildSpec.worker(SEAT_MATCHER_NAME, lambda: SeatMatcher(self.deps, self.cache))
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
        monitor = self.monitors.pop(table_id, None)
        if monitor is not None:
            monitor.cancel()
        gone = self.listings.pop(table_id, None)
        if gone is not None:
            self._push(gone[0], game.LobbyTableRemoved(table_id=table_id))

    def snapshot(self) -> LobbyState:
        return LobbyState(
            listings=tuple(self.listings.values()),
            subscribers=tuple(self.subscribers.items()),
        )

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, LobbyState)
        self.listings.clear()
        self.listings.update({item[0].table_id: item for item in snapshot.listings})
        self.subscribers = dict(snapshot.subscribers)

    async def handle(self, message: LobbyMessage | Down) -> object:
        match message:
            case ListingChanged(listing=listing, config=config):
                self.listings[listing.table_id] = (listing, config)
                self._push(listing, game.LobbyTableChanged(listing=listing))
                self._watch(listing.table_id)
            case TableClosed(table_id=table_id):
                self._drop(table_id)
            case Down(name=name) if name.startswith(TABLE_PREFIX):
                self.monitors.pop(name.removeprefix(TABLE_PREFIX), None)
                self._drop(name.removeprefix(TABLE_PREFIX))
            case ListTablesQuery(variant=variant, big_blind=big_blind, asset=asset):
                return self._list(Filter(variant, big_blind, asset))
            case SubscribeListings(player_id=player_id):
                if player_id not in self.subscribers and len(self.subscribers) >= SUBSCRIBERS_MAX:
                    raise GameRefused("lobby_full", "too many lobby subscribers")
                wanted = Filter(message.variant, message.big_blind, message.asset)
                self.subscribers[player_id] = wanted
                return self._list(self.subscribers[player_id])
            case UnsubscribeListings(player_id=player_id):
                self.subscribers.pop(player_id, None)
            case OpenTable(config=config):
                if config.table_id in self.listings or (
                    self.context.registry.resolve(TableAddress(config.table_id)) is not None
                ):
                    raise GameRefused("table_exists", f"table {config.table_id!r} exists")
                # An operator reopening a closed table's id: it is live again after a restart.
                await self.deps.store.delete_snapshot(tombstone_id(config.table_id), 2**62)
                await self._open(config)
                return config.table_id
            case _:
                raise TypeError(f"lobby: unexpected message {message!r}")
        return None

    def _list(self, filter_: Filter) -> tuple[game.TableListing, ...]:
        found = [listing for listing, _ in self.listings.values() if filter_.matches(listing)]
        found.sort(key=lambda listing: (listing.variant, listing.big_blind, listing.table_id))
        return tuple(found[:TABLES_MAX])

    def _push(self, listing: game.TableListing, body: game.GamePush) -> None:
        deliver = self.deps.channel.deliver
        for player_id, filter_ in self.subscribers.items():
            if filter_.matches(listing):
                deliver(player_id, body)

    async def _open(self, config: TableConfig) -> ActorRef[object]:
        if len(self.listings) >= TABLES_MAX:
            raise GameRefused("too_many_tables", f"the lobby lists {TABLES_MAX} tables at most")
        tables = self.context.registry.supervisor(self.deps.tables_supervisor)
        ref: ActorRef[object] = await tables.start_actor(table_spec(config, self.deps))
        return ref
