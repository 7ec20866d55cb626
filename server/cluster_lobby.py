"""Cash-table lobby listings across the nodes of a room (docs/scaling.md, "Lobby listings
across nodes"): each node's lobby lists the tables of every node.

- **Sharing.** The lobby (actors/lobby.py) tells ``RoomLobby`` each change of its own
  tables' listings (``share``) and each table it no longer lists (``unshare``: closed,
  stopped, moved away); each goes to every other live node as one ``lst`` item
  (``RouteListings``, server/cluster_routing.py).
- **Receiving.** A node's ``lst`` items become ``RemoteListingsChanged`` told to its lobby,
  which keeps them per sending node (actors/lobby_listings.py) and pushes them to its
  subscribers with their filters, as its own tables'.
- **Joining and leaving.** A node new in the room (the router's live-node refresh sees it
  join) gets this node's whole set: its listings, LISTINGS_PER_ITEM_MAX per item, the last
  item naming every table held (``held``). The whole set is also resent to every live node
  every LISTINGS_RESEND_S, so a lost item (Redis down, an outbox full, the lobby's mailbox
  dropping its oldest) is healed within that time; an unchanged listing pushes nothing. A
  node gone from the room (the refresh sees it leave) has its listings dropped
  (``RemoteNodesLeft``).

Bad items: a listing that does not decode is dropped and counted (``listings_malformed``),
the rest of its item applied; an item that does not decode at all is the router's
(``_malformed``). Bounds: LISTINGS_PER_ITEM_MAX per item sent (and accepted: more is a
malformed item), the lobby's REMOTE_TABLES_PER_NODE_MAX / REMOTE_NODES_MAX.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Final, final

import msgspec
import structlog

from actors.addresses import LOBBY
from actors.lobby import RemoteListingsChanged, RemoteNodesLeft
from actors.runtime import Registry
from protocol import game
from server.cluster_items import LISTINGS_PER_ITEM_MAX, UNDECODABLE, RouteListings
from server.cluster_routing import NODES_REFRESH_S

if TYPE_CHECKING:
    from actors.lobby_listings import RemoteListings
    from actors.seat_matcher import ListingsCache
    from server.cluster_routing import NodeRouter

log = structlog.get_logger("tablium.routing")

LISTINGS_RESEND_S: Final = 60.0  # the whole set again to every node: heals a lost item
_RESEND_EVERY: Final = max(1, round(LISTINGS_RESEND_S / NODES_REFRESH_S))  # refreshes
_encode: Final = msgspec.msgpack.Encoder().encode
_listing_decoder: Final = msgspec.msgpack.Decoder(game.TableListing)


def whole_set(listings: Sequence[game.TableListing]) -> list[RouteListings]:
    """A node's whole set as items: its listings, LISTINGS_PER_ITEM_MAX per item, the last
    naming every table it holds (even none: the receiver then drops all of that node's)."""
    chunks = [
        listings[i : i + LISTINGS_PER_ITEM_MAX]
        for i in range(0, len(listings), LISTINGS_PER_ITEM_MAX)
    ] or [[]]
    items = [RouteListings(changed=[_encode(x) for x in chunk]) for chunk in chunks]
    held = [listing.table_id for listing in listings]
    items[-1] = msgspec.structs.replace(items[-1], held=held)
    return items


@final
class RoomLobby:
    """This node's lobby listings in the room (module docstring). Without a router (a node
    alone, or before the gateway runs) nothing is shared."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.router: NodeRouter | None = None  # set once the gateway runs
        self.listings: ListingsCache | None = None  # the lobby's own (set by the lobby)
        self.remote: RemoteListings | None = None  # the others' kept there (set by the lobby)
        self._refreshes = 0
        # Metrics.
        self.listings_shared = 0  # items posted (changes, removals, resends)
        self.listings_received = 0  # listings and removals received
        self.listings_malformed = 0  # listings that did not decode (dropped)

    # --- this node's listings, to the others -------------------------------------------

    def share(self, listing: game.TableListing) -> None:
        self._post_all(RouteListings(changed=[_encode(listing)]))

    def unshare(self, table_id: str) -> None:
        self._post_all(RouteListings(removed=[table_id]))

    def _post_all(self, item: RouteListings) -> None:
        router = self.router
        if router is None or not router.live_nodes:
            return
        encoded = _encode(item)
        for node in router.live_nodes:
            router.post(node, encoded)
            self.listings_shared += 1

    def resend(self, nodes: Iterable[str]) -> None:
        """This node's whole set to ``nodes``."""
        router, cache = self.router, self.listings
        targets = list(nodes)
        if router is None or cache is None or not targets:
            return
        listings = [listing for listing, _config in cache.tables.values()]
        for item in whole_set(listings):
            encoded = _encode(item)
            for node in targets:
                router.post(node, encoded)
                self.listings_shared += 1

    def refresh(self, live: Sequence[str], joined: Sequence[str], left: Sequence[str]) -> None:
        """The router's live-node refresh (every NODES_REFRESH_S): joined nodes get the
        whole set (every node does, every LISTINGS_RESEND_S); left nodes' listings go."""
        self._refreshes += 1
        if self._refreshes % _RESEND_EVERY == 0:
            self.resend(live)
        else:
            self.resend(joined)
        if left:
            self._tell(RemoteNodesLeft(nodes=tuple(left)))

    # --- the others' listings, to this node's lobby ------------------------------------

    def received(self, sender: str, item: RouteListings) -> None:
        changed: list[game.TableListing] = []
        for raw in item.changed:
            try:
                changed.append(_listing_decoder.decode(raw))
            except UNDECODABLE as exc:
                self.listings_malformed += 1
                log.warning("a shared table listing did not decode: dropped", sender=sender,
                            error=str(exc)[:200])  # fmt: skip
        self.listings_received += len(changed) + len(item.removed)
        held = None if item.held is None else tuple(item.held)
        self._tell(
            RemoteListingsChanged(
                node=sender, changed=tuple(changed), removed=tuple(item.removed), held=held
            )
        )

    def _tell(self, message: RemoteListingsChanged | RemoteNodesLeft) -> None:
        lobby = self.registry.lookup(LOBBY.actor_name)
        if lobby is not None:
            lobby.tell(message)
