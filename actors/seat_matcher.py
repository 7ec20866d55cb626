"""Quick-seat, apart from the listings: the seat matcher (``lobby:seats``) and the requester's
side (:func:`quick_seat`).

The lobby's listings are a lossy cache (drop-oldest: only the latest listing of a table
matters). Seat requests must never be dropped, and must not wait on a table's durable writes
or a ledger transfer, so they go to their own actor, a child of the lobby that reads the
lobby's cache (:class:`ListingsCache`, written by the lobby alone, read here; one trio thread):

1. the player's request (in her session's task) asks the matcher ``FindSeat``;
2. the matcher picks a table in its turn, from the cache and its own reservations, and
   answers a ``SeatOffer`` at once: a table with room (fullest first, so tables fill before
   new ones start), the table the player already sits at (an earlier answer that came too
   late: she gets her seat back, paying once), or a new table of the same game for the
   requester to open (``open``: its child spec) when every matching table is full;
3. the requester opens the table if asked, then asks *the table* ``JoinSeat`` (the buy-in's
   durable write and ledger transfer happen in the table's turn and the requester's wait, not
   the matcher's), and tells the matcher ``SeatClaimed`` to release the reservation;
4. a table that filled up meanwhile (``table_full``, ``seat_taken``), is closing, or does not
   answer is excluded and the matcher asked again, at most ``QUICK_SEAT_TRIES_MAX`` times.

With several nodes, when no table of this node has room, a table of another node with a
free seat (its listing, kept by the lobby: actors/lobby_listings.py) comes before a new
table: the matcher answers ``placed_elsewhere`` with it and the player's node routes her
``join_table`` there (server/cluster_routing.py ``RoutedGameRequests``).

Club tables (docs/clubs.md): a plain ``FindSeat`` matches public tables only; a
``FindClubSeat`` matches only its club's tables (the gateway checked membership first). A
club's tables are opened by its owner and managers, never by the matcher: when all of them
are full the answer is ``table_full``.

Bounds: the matcher's mailbox holds ``SEAT_REQUESTS_QUEUED_MAX`` requests; one more is refused
at once with ``server_busy`` (and a retry hint) by the requester, never queued or dropped.
Reservations expire after ``RESERVATION_TTL_S``; at most ``PENDING_TABLES_MAX`` tables are
being opened at a time (then ``server_busy``).
"""

from __future__ import annotations

from typing import Any, Final, Protocol, final

import msgspec
import trio

from actors.actor import Actor
from actors.addresses import TableAddress
from actors.errors import NameTaken, TargetError
from actors.lobby_listings import RemoteListings
from actors.mailbox import ActorRef, Overflow
from actors.registry import Registry
from actors.spec import ChildSpec
from actors.table.actor import table_spec
from actors.table.config import TableConfig
from actors.table.deps import TableDeps
from actors.table.messages import (
    FindSeat,
    GameRefused,
    JoinSeat,
    SeatGranted,
)
from protocol import game
from protocol.limits import TABLES_OPEN_MAX

SEAT_MATCHER_NAME: Final = "lobby:seats"
SEAT_REQUESTS_QUEUED_MAX: Final = 4_096  # bound: one more is answered server_busy
QUICK_SEAT_TRIES_MAX: Final = 20  # bound on tables tried per quick-seat
RESERVATION_TTL_S: Final = 10.0  # twice the join ask's timeout: a lost SeatClaimed expires
# With several nodes (server/cluster_placement.py): a new table goes to a less-loaded node;
# the matcher refuses with this code, the node's name as the message, and the player's node
# forwards her quick seat there (server/cluster_routing.py). Never sent to a client.
PLACED_ELSEWHERE: Final = "placed_elsewhere"
# Quick seats of a game this node placed on another node go to that node for this long (its
# matcher seats them at the table it opened, or opens the next there): players of one game
# arriving together sit together. Bound: one entry per game (the lobby's templates).
PLACED_GAME_TTL_S: Final = 30.0
PENDING_TABLES_MAX: Final = 64  # bound: tables offered for opening whose listing is not in yet
MATCHER_ASK_TIMEOUT_S: Final = 5.0  # the matcher answers from memory: only a restart is slower
JOIN_ASK_TIMEOUT_S: Final = 5.0
RETRY_AFTER_MS: Final = 1_000


class Placement(Protocol):
    """Where new tables go in a room of nodes (server/cluster_placement.TablePlacement)."""

    id_tag: str  # new tables' ids carry it: two nodes never pick the same id
    # This node's lobby listings (its tables' seats taken: the node's load); the lobby sets it.
    listings: ListingsCache | None

    def choose(self) -> str | None:
        """The node a new table goes to; None: this one."""
        ...

    def placed(self, node: str | None) -> None: ...

    def game_table(self, game_key: tuple[str, int, str], now: float) -> tuple[str, str] | None:
        """The (node, table id) this node's last new table of the game went to, while its
        PLACED_GAME_TTL_S runs and the node is live."""
        ...

    def new_table(
        self, game_key: tuple[str, int, str], node: str, config: TableConfig, until: float
    ) -> None:
        """A new table of the game goes to ``node`` (opened there by the quick seat that
        asked for it)."""
        ...

    async def open_elsewhere(self, config: TableConfig) -> bool:
        """Open an operator's new table on a less-loaded node: False to open it here."""
        ...


@final
class ListingsCache:
    """The lobby's listings (table id -> its listing and config): written by the lobby actor
    only, read by the seat matcher. Bounded by TABLES_OPEN_MAX."""

    def __init__(self) -> None:
        self.tables: dict[str, tuple[game.TableListing, TableConfig]] = {}
        # With several nodes: the other nodes' listings the lobby keeps (bounded there).
        self.remote: RemoteListings | None = None


class SeatClaimed(msgspec.Struct, frozen=True, tag=True):
    """The requester's join at ``table_id`` is over (seated or not): release the reservation."""

    table_id: str
    player_id: int


class FindClubSeat(FindSeat, frozen=True, tag=True):
    """Quick seat at ``club_id``'s tables only (a member's request). Reply: SeatGranted."""

    club_id: int | None = None


class SeatOffer(msgspec.Struct, frozen=True):
    """Try ``table_id``; when ``open`` is set, start it first (under ``supervisor``)."""

    table_id: str
    open: Any = None  # ChildSpec | None (in process only)
    supervisor: str = ""


class _Filter(msgspec.Struct, frozen=True):
    variant: str
    big_blind: int
    asset: str
    buy_in: int
    club_id: int | None  # None: public tables only

    def matches(self, listing: game.TableListing) -> bool:
        return (
            listing.club_id == self.club_id
            and listing.variant == self.variant
            and listing.big_blind == self.big_blind
            and listing.asset == self.asset
            and listing.buy_in_min <= self.buy_in <= listing.buy_in_max
        )


@final
class SeatMatcher(Actor[FindSeat | SeatClaimed]):
    """Picks a table for each quick-seat in memory; never waits on a table."""

    kind = "seat_matcher"
    # The requester refuses (server_busy) before this fills, so STOP is never reached in
    # practice; if it were, the matcher restarts empty and its reservations expire.
    mailbox_capacity = SEAT_REQUESTS_QUEUED_MAX + 64
    mailbox_overflow = Overflow.STOP
    reply_errors = (GameRefused,)

    def __init__(
        self, deps: TableDeps, cache: ListingsCache, placement: Placement | None = None
    ) -> None:
        self.deps = deps
        self.cache = cache
        self.placement = placement
        # table id -> player id -> when the reservation lapses (trio time)
        self.promised: dict[str, dict[int, float]] = {}
        # table id -> (its config, when the offer to open it lapses): opened by a requester,
        # not listed yet
        self.pending: dict[str, tuple[TableConfig, float]] = {}
        self.opened = 0  # tables offered for opening, for their ids

    async def handle(self, message: FindSeat | SeatClaimed) -> object:
        match message:
            case FindSeat():
                return self._offer(message)
            case SeatClaimed(table_id=table_id, player_id=player_id):
                promises = self.promised.get(table_id)
                if promises is not None:
                    promises.pop(player_id, None)
                    if not promises:
                        del self.promised[table_id]
        return None

    def _free(self, table_id: str, seats_total: int, seats_taken: int, now: float) -> int:
        promises = self.promised.get(table_id, {})
        for player_id, until in list(promises.items()):
            if until <= now:
                del promises[player_id]
        return seats_total - seats_taken - len(promises)

    def _promise(self, table_id: str, player_id: int, now: float) -> None:
        self.promised.setdefault(table_id, {})[player_id] = now + RESERVATION_TTL_S

    def _offer(self, message: FindSeat) -> SeatOffer:
        now = trio.current_time()
        club_id = message.club_id if isinstance(message, FindClubSeat) else None
        wanted = _Filter(message.variant, message.big_blind, message.asset, message.buy_in, club_id)
        excluded = set(message.excluded)
        matching = [pair for pair in self.cache.tables.values() if wanted.matches(pair[0])]
        for table_id, (_config, until) in list(self.pending.items()):
            if table_id in self.cache.tables or until <= now:
                del self.pending[table_id]  # listed now (or never opened): the cache decides
        if not matching:
            self._seat_elsewhere(wanted, excluded)
            raise GameRefused("no_such_game", "no table plays this game at these stakes")
        # A player already at a matching table gets that seat back, once, without paying again.
        seated_at = set(self.deps.player_tables.seats_of(message.player_id))
        for listing, _config in matching:
            if listing.table_id in seated_at and listing.table_id not in excluded:
                return SeatOffer(table_id=listing.table_id)
        # Fullest first (but not full): new tables start only when every matching one is full.
        candidates: list[tuple[int, str]] = []
        for listing, _config in matching:
            free = self._free(listing.table_id, listing.seats_total, listing.seats_taken, now)
            if free > 0 and listing.table_id not in excluded:
                candidates.append((listing.seats_total - free, listing.table_id))
        for table_id, (config, _lapses) in self.pending.items():
            if _config_matches(wanted, config):
                free = self._free(table_id, config.seats, 0, now)
                if free > 0 and table_id not in excluded:
                    candidates.append((config.seats - free, table_id))
        if candidates:
            _taken, table_id = min(candidates, key=lambda c: (-c[0], c[1]))
            self._promise(table_id, message.player_id, now)
            pending = self.pending.get(table_id)
            if pending is not None:  # offered for opening: each requester may open it
                return self._open_offer(pending[0])
            return SeatOffer(table_id=table_id)
        self._seat_elsewhere(wanted, excluded)
        if club_id is not None:
            raise GameRefused("table_full", "every table of the club at these stakes is full")
        if len(self.pending) >= PENDING_TABLES_MAX:
            raise GameRefused("server_busy", "too many tables opening; try again", RETRY_AFTER_MS)
        if len(self.cache.tables) + len(self.pending) >= TABLES_OPEN_MAX:
            raise GameRefused("too_many_tables", f"{TABLES_OPEN_MAX} tables at most")
        template = min(matching, key=lambda pair: pair[0].table_id)[1]
        if self.placement is not None:
            self._place_elsewhere(self.placement, wanted, template, excluded, now)
        config = self._new_table(template)
        self.pending[config.table_id] = (config, now + RESERVATION_TTL_S)
        self._promise(config.table_id, message.player_id, now)
        return self._open_offer(config)

    def _seat_elsewhere(self, wanted: _Filter, excluded: set[str]) -> None:
        """Before a new table: refuse PLACED_ELSEWHERE ("<node> <table id>") for another
        node's table of the game with a free seat (its listing, fullest first), where the
        player's node sits her (join_table, routed). Its listing may lag a seat behind: a
        table that filled meanwhile refuses her there (server/cluster_routing.py)."""
        remote = self.cache.remote
        if remote is None:
            return
        best: tuple[int, str] | None = None
        for listing in remote.listings():
            table_id = listing.table_id
            if table_id in self.cache.tables or table_id in excluded:
                continue
            if not wanted.matches(listing) or listing.seats_taken >= listing.seats_total:
                continue
            if best is None or (-listing.seats_taken, table_id) < best:
                best = (-listing.seats_taken, table_id)
        if best is None:
            return
        node = remote.node_of(best[1])
        if node is not None:
            raise GameRefused(PLACED_ELSEWHERE, f"{node} {best[1]}")

    def _place_elsewhere(
        self,
        placement: Placement,
        wanted: _Filter,
        template: TableConfig,
        excluded: set[str],
        now: float,
    ) -> None:
        """Refuse PLACED_ELSEWHERE ("<node> <table id>") when the new table goes to another
        node (server/cluster_placement.py): the one this node's last new table of the game
        went to while it is recent, else the least-loaded node when that is not this one."""
        key = (wanted.variant, wanted.big_blind, wanted.asset)
        sent = placement.game_table(key, now)
        if sent is not None and sent[1] not in excluded:
            raise GameRefused(PLACED_ELSEWHERE, f"{sent[0]} {sent[1]}")
        node = placement.choose()
        placement.placed(node)
        if node is None:
            return
        config = self._new_table(template)
        placement.new_table(key, node, config, now + PLACED_GAME_TTL_S)
        raise GameRefused(PLACED_ELSEWHERE, f"{node} {config.table_id}")

    def _open_offer(self, config: TableConfig) -> SeatOffer:
        spec: ChildSpec = table_spec(config, self.deps)
        return SeatOffer(
            table_id=config.table_id, open=spec, supervisor=self.deps.tables_supervisor
        )

    def _new_table(self, template: TableConfig) -> TableConfig:
        registry = self.context.registry
        while True:  # ids of tables opened before a restart may be taken
            self.opened += 1
            tag = self.placement.id_tag if self.placement is not None else ""
            table_id = f"{template.table_id}-{tag}q{self.opened}"
            taken = registry.resolve(TableAddress(table_id)) is not None
            if not taken and table_id not in self.cache.tables and table_id not in self.pending:
                break
        return msgspec.structs.replace(
            template, table_id=table_id, name=f"{template.name} #{self.opened}"
        )


def _config_matches(wanted: _Filter, config: TableConfig) -> bool:
    """A table being opened, judged by its config as its listing will show it (the
    engine's variant values are the wire's codes)."""
    return (
        config.club_id == wanted.club_id
        and config.variant.value == wanted.variant
        and config.big_blind == wanted.big_blind
        and config.asset == wanted.asset
        and config.min_buy_in <= wanted.buy_in <= config.max_buy_in
    )


# A table rule refused her there (docs/integrity.md): another table may take her.
TABLE_RULES: Final = ("same_address_at_table", "rathole_buy_in_too_small")


async def quick_seat(registry: Registry, message: FindSeat) -> SeatGranted:
    """The requester's side of quick-seat (module docstring): ask the matcher for a table,
    open it when told to, join it, release the reservation; retry elsewhere when it is full."""
    matcher = registry.lookup(SEAT_MATCHER_NAME)
    if matcher is None:
        raise GameRefused("unavailable", "the lobby is not running", RETRY_AFTER_MS)
    excluded: list[str] = []
    for _ in range(QUICK_SEAT_TRIES_MAX):
        if matcher.depth >= SEAT_REQUESTS_QUEUED_MAX:
            raise GameRefused("server_busy", "too many seat requests; try again", RETRY_AFTER_MS)
        find = msgspec.structs.replace(message, excluded=tuple(excluded))
        offer = await matcher.ask(find, timeout_s=MATCHER_ASK_TIMEOUT_S)
        assert isinstance(offer, SeatOffer)
        try:
            table = await _table_of(registry, offer)
            if table is None:
                excluded.append(offer.table_id)
                continue
            join = JoinSeat(
                player_id=message.player_id,
                buy_in=message.buy_in,
                same_if_seated=True,
                session_started_ms=message.session_started_ms,
                address=message.address,
                profile=message.profile,
            )
            try:
                granted = await table.ask(join, timeout_s=JOIN_ASK_TIMEOUT_S)
            except GameRefused as refused:
                if refused.code in ("table_full", "seat_taken", "table_closing", *TABLE_RULES):
                    excluded.append(offer.table_id)
                    continue
                raise
            except TargetError:
                excluded.append(offer.table_id)
                continue
            assert isinstance(granted, SeatGranted)
            return granted
        finally:
            if matcher.depth < SEAT_REQUESTS_QUEUED_MAX:
                matcher.tell(SeatClaimed(table_id=offer.table_id, player_id=message.player_id))
    raise GameRefused(
        "server_busy", "every matching table filled up meanwhile; try again", RETRY_AFTER_MS
    )


async def _table_of(registry: Registry, offer: SeatOffer) -> ActorRef[Any] | None:
    address = TableAddress(offer.table_id)
    table = registry.resolve(address)
    if table is not None or offer.open is None:
        return table
    try:
        return await registry.supervisor(offer.supervisor).start_actor(offer.open)
    except NameTaken:  # another requester opened it first
        return registry.resolve(address)
