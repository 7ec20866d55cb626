"""The lobby's listings of the other nodes of a room (docs/scaling.md, "Lobby listings across
nodes"), apart from the actor: pure, no trio, no I/O.

Each node's lobby shares the listings of its own tables with the other live nodes
(server/cluster_lobby.py, the router's ``lst`` items); a lobby keeps what it heard, per
sending node (:class:`RemoteListings`), beside its own tables' listings, and lists the room:
its own listing of a table when the table runs here (this node's is the truth), else the
most recent listing any other node sent of it (a table that moved by drain or takeover is
listed by its new node, whatever order the old node's removal and the new node's listing
arrive in). Every change is returned as a value, ``(table_id, before, after)`` of what the
room shows, and the lobby turns it into its subscribers' pushes (:func:`push_for`), with the
same filters as its own tables' (variant, big blind, asset, club visibility).

Bounds: REMOTE_TABLES_PER_NODE_MAX listings per sending node (a node runs no more tables
than that), REMOTE_NODES_MAX sending nodes. Overflow: ``refuse-newest``, a listing of a new
table past either bound is not kept and counted (``refused``); its node's listings already
kept stay.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Final, NamedTuple, final

import msgspec

from protocol import game
from protocol.limits import TABLES_OPEN_MAX

REMOTE_TABLES_PER_NODE_MAX: Final = TABLES_OPEN_MAX  # a node runs no more; more: refused
REMOTE_NODES_MAX: Final = 64  # nodes of a room whose listings are kept; more: refused


class Filter(msgspec.Struct, frozen=True):
    variant: str | None = None
    big_blind: int | None = None
    asset: str | None = None  # None: real money and play money alike
    clubs: frozenset[int] = frozenset()  # club tables shown: these clubs' (public: always)
    every_club: bool = False  # staff: every club's tables

    def matches(self, listing: game.TableListing) -> bool:
        return (
            (self.variant is None or listing.variant == self.variant)
            and (self.big_blind is None or listing.big_blind == self.big_blind)
            and (self.asset is None or listing.asset == self.asset)
            and (self.every_club or listing.club_id is None or listing.club_id in self.clubs)
        )


class ListingChange(NamedTuple):
    """What the room shows of ``table_id`` before and after a change (None: not listed)."""

    table_id: str
    before: game.TableListing | None
    after: game.TableListing | None


def push_for(
    filter_: Filter, before: game.TableListing | None, after: game.TableListing | None
) -> game.LobbyTableChanged | game.LobbyTableRemoved | None:
    """The push a subscriber with ``filter_`` gets for a change of what the room shows: the
    new listing when she may see it and it changed, its removal when she saw it and no
    longer may (gone, or now a club's she is not in), else nothing."""
    if after is not None and filter_.matches(after):
        if before == after:
            return None  # the same listing again (a node's periodic resend)
        return game.LobbyTableChanged(listing=after)
    if before is not None and filter_.matches(before):
        table_id = before.table_id if after is None else after.table_id
        return game.LobbyTableRemoved(table_id=table_id)
    return None


@final
class RemoteListings:
    """Listings of the tables of other nodes, per node, each stamped with when it arrived:
    the room shows the most recent of a table (``shown``)."""

    def __init__(
        self,
        per_node_max: int = REMOTE_TABLES_PER_NODE_MAX,
        nodes_max: int = REMOTE_NODES_MAX,
    ) -> None:
        self.per_node_max = per_node_max
        self.nodes_max = nodes_max
        # node -> table id -> (arrival stamp, listing). Bound: nodes_max x per_node_max.
        self.by_node: dict[str, dict[str, tuple[int, game.TableListing]]] = {}
        # table id -> the nodes listing it (more than one only while a table moves).
        self.nodes_of: dict[str, set[str]] = {}
        self._stamps = itertools.count(1)
        self.refused = 0  # listings not kept: a bound was reached (refuse-newest)

    def shown(self, table_id: str) -> game.TableListing | None:
        """The most recent listing of the table any node sent (None: none lists it)."""
        nodes = self.nodes_of.get(table_id)
        if not nodes:
            return None
        _stamp, listing = max((self.by_node[n][table_id] for n in nodes), key=lambda e: e[0])
        return listing

    def node_of(self, table_id: str) -> str | None:
        """The node whose listing of the table is shown (None: none lists it)."""
        nodes = self.nodes_of.get(table_id)
        if not nodes:
            return None
        return max(nodes, key=lambda n: self.by_node[n][table_id][0])

    def listings(self) -> Iterator[game.TableListing]:
        """What the room shows of each table another node lists."""
        for table_id in self.nodes_of:
            listing = self.shown(table_id)
            if listing is not None:
                yield listing

    def apply(
        self,
        node: str,
        changed: Iterable[game.TableListing] = (),
        removed: Iterable[str] = (),
        held: Iterable[str] | None = None,
    ) -> list[ListingChange]:
        """``node`` lists ``changed`` (new or changed), no longer lists ``removed``, and,
        when ``held`` is given (its whole set, resent), lists no table outside ``held``."""
        touched: dict[str, game.TableListing | None] = {}

        def before(table_id: str) -> None:
            if table_id not in touched:
                touched[table_id] = self.shown(table_id)

        tables = self.by_node.get(node)
        for listing in changed:
            table_id = listing.table_id
            if tables is None:
                if len(self.by_node) >= self.nodes_max:
                    self.refused += 1
                    continue
                tables = self.by_node[node] = {}
            if table_id not in tables and len(tables) >= self.per_node_max:
                self.refused += 1
                continue
            before(table_id)
            tables[table_id] = (next(self._stamps), listing)
            self.nodes_of.setdefault(table_id, set()).add(node)
        gone = list(removed)
        if held is not None and tables is not None:
            kept = set(held)
            gone.extend(t for t in tables if t not in kept)
        for table_id in gone:
            if tables is not None and table_id in tables:
                before(table_id)
                self._forget(node, table_id)
        if tables is not None and not tables:
            del self.by_node[node]
        return [ListingChange(t, old, self.shown(t)) for t, old in touched.items()]

    def drop_nodes(self, nodes: Iterable[str]) -> list[ListingChange]:
        """The nodes left the room (dead, or drained and stopped): their listings go."""
        changes: list[ListingChange] = []
        for node in nodes:
            tables = self.by_node.get(node)
            if tables is None:
                continue
            for table_id in list(tables):
                old = self.shown(table_id)
                self._forget(node, table_id)
                changes.append(ListingChange(table_id, old, self.shown(table_id)))
            del self.by_node[node]
        return changes

    def _forget(self, node: str, table_id: str) -> None:
        del self.by_node[node][table_id]
        nodes = self.nodes_of[table_id]
        nodes.discard(node)
        if not nodes:
            del self.nodes_of[table_id]

    def snapshot(self) -> tuple[tuple[str, tuple[game.TableListing, ...]], ...]:
        return tuple(
            (node, tuple(listing for _stamp, listing in tables.values()))
            for node, tables in self.by_node.items()
        )

    def restore(self, saved: Iterable[tuple[str, Iterable[game.TableListing]]]) -> None:
        self.by_node.clear()
        self.nodes_of.clear()
        for node, listings in saved:
            self.apply(node, listings)
