"""The lobby actor: the list of cash tables, live updates to subscribers, quick-seat.

Tables tell the lobby their listing whenever it changes (``ListingChanged``: seats taken,
wait list, average pot, hands per hour); the lobby keeps the latest of each and pushes it to
the sessions subscribed with a matching filter. It never waits for a player.

Quick-seat (``FindSeat``) asks the matching tables in turn, fullest first (tables fill up
before new ones start), and opens a new table of the same game under the ``tables``
supervisor when every matching table is full. The lobby asks tables; a table only ever tells
the lobby, so there is no ask cycle.

The lobby is a PERMANENT worker. Listings are a cache of what tables say: its snapshot keeps
them across a crash restart, and every table re-announces itself whenever it changes.
"""

from __future__ import annotations

from typing import Final, final

import msgspec

from actors.addresses import TableAddress
from actors.runtime import Actor, ActorRef, Overflow, TargetError
from actors.table import table_spec
from actors.table_admin import tombstone_id
from actors.table_messages import (
    FindSeat,
    GameRefused,
    JoinSeat,
    ListingChanged,
    ListTablesQuery,
    LobbyMessage,
    OpenTable,
    SeatGranted,
    SubscribeListings,
    TableClosed,
    TableConfig,
    TableDeps,
    UnsubscribeListings,
)
from protocol import game
from services.ledger import WalletError

SUBSCRIBERS_MAX: Final = 10_000  # bound: SubscribeListings beyond it is refused
TABLES_MAX: Final = game.TABLES_LISTED_MAX  # bound: OpenTable beyond it is refused
JOIN_ASK_TIMEOUT_S: Final = 5.0
# A table that does not answer a quick-seat ask in time is skipped (it may be restarting).
QUICK_SEAT_TRIES_MAX: Final = 20  # bound on tables asked per quick-seat


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
    opened: int


@final
class LobbyActor(Actor[LobbyMessage]):
    kind = "lobby"
    mailbox_capacity = 4096
    # Listings: only the latest matters. A quick-seat ask dropped here fails with AskDropped
    # in the caller (the session answers with an error and the player may try again).
    mailbox_overflow = Overflow.DROP_OLDEST
    keeps_snapshot = True
    reply_errors = (GameRefused, WalletError)

    def __init__(self, deps: TableDeps) -> None:
        self.deps = deps
        self.listings: dict[str, tuple[game.TableListing, TableConfig]] = {}
        self.subscribers: dict[int, Filter] = {}
        self.opened = 0  # tables opened by quick-seat, for their ids

    def snapshot(self) -> LobbyState:
        return LobbyState(
            listings=tuple(self.listings.values()),
            subscribers=tuple(self.subscribers.items()),
            opened=self.opened,
        )

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, LobbyState)
        self.listings = {listing.table_id: (listing, c) for listing, c in snapshot.listings}
        self.subscribers = dict(snapshot.subscribers)
        self.opened = snapshot.opened

    async def handle(self, message: LobbyMessage) -> object:
        match message:
            case ListingChanged(listing=listing, config=config):
                self.listings[listing.table_id] = (listing, config)
                self._push(listing, game.LobbyTableChanged(listing=listing))
            case TableClosed(table_id=table_id):
                gone = self.listings.pop(table_id, None)
                if gone is not None:
                    self._push(gone[0], game.LobbyTableRemoved(table_id=table_id))
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
            case FindSeat():
                return await self._quick_seat(message)
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

    async def _quick_seat(self, message: FindSeat) -> SeatGranted:
        wanted = Filter(message.variant, message.big_blind, message.asset)
        matching = [
            (listing, config)
            for listing, config in self.listings.values()
            if wanted.matches(listing)
            and listing.buy_in_min <= message.buy_in <= listing.buy_in_max
        ]
        if not matching:
            raise GameRefused("no_such_game", "no table plays this game at these stakes")
        # Fullest first (but not full): players find a game, and new tables start only when
        # every matching table is full.
        # A player already at a matching table (an earlier quick-seat that answered too late
        # for its caller) gets that seat back, once, without moving money again.
        seated_at = set(self.deps.player_tables.seats_of(message.player_id))
        open_tables = [
            pair
            for pair in matching
            if pair[0].table_id in seated_at or pair[0].seats_taken < pair[0].seats_total
        ]
        open_tables.sort(
            key=lambda pair: (
                pair[0].table_id not in seated_at,
                -pair[0].seats_taken,
                pair[0].table_id,
            )
        )
        join = JoinSeat(player_id=message.player_id, buy_in=message.buy_in, same_if_seated=True)
        for listing, _config in open_tables[:QUICK_SEAT_TRIES_MAX]:
            ref = self.context.registry.resolve(TableAddress(listing.table_id))
            if ref is None:
                continue
            try:
                granted = await ref.ask(join, timeout_s=JOIN_ASK_TIMEOUT_S)
            except GameRefused as refused:
                if refused.code in ("table_full", "seat_taken"):
                    continue  # filled up since it last told us
                raise
            except TargetError:
                continue
            assert isinstance(granted, SeatGranted)
            return granted
        template = min(matching, key=lambda pair: pair[0].table_id)[1]
        while True:  # ids of tables opened before a restart may be taken
            self.opened += 1
            table_id = f"{template.table_id}-q{self.opened}"
            taken = self.context.registry.resolve(TableAddress(table_id)) is not None
            if table_id not in self.listings and not taken:
                break
        config = msgspec.structs.replace(
            template, table_id=table_id, name=f"{template.name} #{self.opened}"
        )
        ref = await self._open(config)
        granted = await ref.ask(join, timeout_s=JOIN_ASK_TIMEOUT_S)
        assert isinstance(granted, SeatGranted)
        return granted
