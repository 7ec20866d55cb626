"""Where the public API reads the lobby: one small adapter over the lobby actor's listings.

``lobby_actor_source`` is the only code here that knows how listings are obtained (today: the
lobby actor's ``ListTablesQuery`` ask); when the actors change, it changes alone.

``LobbyListings`` keeps each filter's answer for ``ttl_s`` (a lossy cache, as the lobby itself
is: tables announce changes, and clients that need every change use the websocket's lobby
subscription). Concurrent misses of one filter share a single ask. Each snapshot also keeps
the pages already encoded and their ETags, so a repeated GET (or a 304) costs no encoding.
Bounds: FILTERS_MAX filters (overflow: the least recently used is forgotten), PAGES_MAX
encoded pages per snapshot (overflow: pages are encoded again, not kept).
"""

from __future__ import annotations

import bisect
import collections
from collections.abc import Awaitable, Callable
from typing import Final, final

import trio

from actors.addresses import LOBBY
from actors.runtime import Registry, TargetError
from actors.table.messages import ListTablesQuery
from protocol.game import TableListing

FILTERS_MAX: Final = 64
PAGES_MAX: Final = 256
LOBBY_ASK_TIMEOUT_S: Final = 2.0
LISTINGS_TTL_S: Final = 1.0

ListingKey = tuple[str, int, str]  # (variant, big_blind, table_id): the lobby's order
ListingsSource = Callable[[str | None, int | None], Awaitable[tuple[TableListing, ...]]]


class ListingsUnavailable(Exception):
    """The lobby is not running or did not answer in time."""


def lobby_actor_source(registry: Registry) -> ListingsSource:
    """Listings from the lobby actor (actors/lobby.py), by its ``ListTablesQuery``."""

    async def ask(variant: str | None, big_blind: int | None) -> tuple[TableListing, ...]:
        lobby = registry.resolve(LOBBY)
        if lobby is None:
            raise ListingsUnavailable("the lobby is not running")
        try:
            listings = await lobby.ask(
                ListTablesQuery(variant, big_blind), timeout_s=LOBBY_ASK_TIMEOUT_S
            )
        except TargetError:
            raise ListingsUnavailable("the lobby did not answer") from None
        assert isinstance(listings, tuple)
        return listings

    return ask


def listing_key(listing: TableListing) -> ListingKey:
    return (listing.variant, listing.big_blind, listing.table_id)


@final
class ListingsSnapshot:
    """One filter's listings at one moment, in the lobby's order, with its encoded pages."""

    __slots__ = ("_keys", "fetched_at", "listings", "pages")

    def __init__(self, listings: tuple[TableListing, ...], fetched_at: float) -> None:
        ordered = sorted(listings, key=listing_key)
        self.listings: tuple[TableListing, ...] = tuple(ordered)
        self._keys = [listing_key(listing) for listing in ordered]
        self.fetched_at = fetched_at
        # (after, limit) -> (body, etag); bounded by PAGES_MAX.
        self.pages: dict[tuple[ListingKey | None, int], tuple[bytes, str]] = {}

    def page(self, after: ListingKey | None, limit: int) -> tuple[list[TableListing], bool]:
        """Up to ``limit`` listings after ``after``, and whether more follow."""
        start = 0 if after is None else bisect.bisect_right(self._keys, after)
        chunk = list(self.listings[start : start + limit])
        return chunk, start + limit < len(self.listings)


@final
class LobbyListings:
    def __init__(
        self,
        source: ListingsSource,
        *,
        ttl_s: float = LISTINGS_TTL_S,
        clock: Callable[[], float] = trio.current_time,
    ) -> None:
        self._source = source
        self.ttl_s = ttl_s
        self._clock = clock
        self._snapshots: collections.OrderedDict[tuple[str | None, int | None], ListingsSnapshot]
        self._snapshots = collections.OrderedDict()
        self._fetching: dict[tuple[str | None, int | None], trio.Event] = {}

    async def snapshot(self, variant: str | None, big_blind: int | None) -> ListingsSnapshot:
        """The filter's listings, at most ttl_s old. Raises ListingsUnavailable."""
        key = (variant, big_blind)
        found = self._fresh(key)
        if found is not None:
            return found
        fetching = self._fetching.get(key)
        if fetching is not None:  # another request asks already: share its answer
            await fetching.wait()
            found = self._fresh(key)
            if found is None:
                raise ListingsUnavailable("the lobby did not answer")
            return found
        done = self._fetching[key] = trio.Event()
        try:
            listings = await self._source(variant, big_blind)
        finally:
            del self._fetching[key]
            done.set()
        snapshot = ListingsSnapshot(listings, self._clock())
        self._snapshots[key] = snapshot
        self._snapshots.move_to_end(key)
        while len(self._snapshots) > FILTERS_MAX:
            self._snapshots.popitem(last=False)
        return snapshot

    def fresh(self, variant: str | None, big_blind: int | None) -> ListingsSnapshot | None:
        """The filter's snapshot if one is fresh; never asks the lobby."""
        return self._fresh((variant, big_blind))

    def _fresh(self, key: tuple[str | None, int | None]) -> ListingsSnapshot | None:
        snapshot = self._snapshots.get(key)
        if snapshot is None or self._clock() - snapshot.fetched_at >= self.ttl_s:
            return None
        self._snapshots.move_to_end(key)
        return snapshot
