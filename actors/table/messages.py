"""What tables, hands and the lobby say to each other, their configuration and their errors.

Messages between actors are frozen tagged msgspec Structs (docs/actors.md). The player side is
:class:`PlayerChannel`: tables deliver wire bodies (protocol/game.py) with it, never waiting
for a player (games never ask players).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol, final

import msgspec

from actors.addresses import TableAddress
from persistence.snapshot_writer import SnapshotWriter
from persistence.store import Store, wall_clock_ms
from poker import AnteMode, AnyAction, AnyEvent, HandConfig, HandResult, Limit, Variant
from poker.integrity.table_rules import ADDRESS_DEFAULT, RATHOLE_DEFAULT, AddressRule, RatholeRule
from protocol import game
from protocol.fields import Asset
from protocol.game import GamePush, TableListing
from protocol.limits import (
    CHIPS_MAX,
    RAKE_BP_MAX,
    SEATS_MAX,
    SEATS_MIN,
    TABLE_ID_PATTERN,
    TABLE_NAME_CHARS_MAX,
)
from services.ledger import ASSETS
from services.wallet import Wallet


class PlayerChannel(Protocol):
    """Where a table's pushes go. ``deliver`` must not block and must not raise for an
    unknown or disconnected player (the gateway's sessions keep or drop as they see fit)."""

    def deliver(self, player_id: int, body: GamePush) -> None: ...


# --- errors: the player's (client's) mistake, with a stable code for the error frame ---------


class GameRefused(Exception):
    """A game request refused; ``code`` is stable (protocol.game.GAME_ERROR_CODES).
    ``retry_after_ms``: for ``server_busy`` and ``unavailable``, when to try again."""

    def __init__(self, code: str, message: str = "", retry_after_ms: int | None = None) -> None:
        super().__init__(message or code)
        self.code = code
        self.retry_after_ms = retry_after_ms


# --- configuration --------------------------------------------------------------------------


HOUR_MS: Final = 3_600_000
# (field, lowest, highest) of the numeric settings a table can live with.
_BOUNDS: Final = (
    ("small_blind", 1, CHIPS_MAX),
    ("big_blind", 1, CHIPS_MAX),
    ("buy_in_min", 0, CHIPS_MAX),
    ("buy_in_max", 0, CHIPS_MAX),
    ("ante", 0, CHIPS_MAX),
    ("rake_bp", 0, RAKE_BP_MAX),
    ("rake_cap", 0, CHIPS_MAX),
    ("action_timeout_ms", 1, HOUR_MS),
    ("time_bank_ms", 0, HOUR_MS),
    ("time_bank_max_ms", 0, HOUR_MS),
    ("time_bank_refill_ms", 0, HOUR_MS),
    ("between_hands_ms", 0, HOUR_MS),
    ("wait_list_max", 0, 1_000),
    ("watchers_max", 0, 10_000),
    ("seat_hold_ms", 0, HOUR_MS),
)


@final
class TableConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One cash table's game. Timers are in ms. ``time_bank_*``: each player's reserve of
    extra time, refilled by ``time_bank_refill_ms`` per hand up to ``time_bank_max_ms``.
    A 0 for ``buy_in_min``, ``buy_in_max`` or ``rake_cap`` asks for the default (40 and 200
    big blinds, 3 big blinds) and is replaced by it at construction, so the config says what
    the table really plays (the listing, the hands' histories and the admin API agree)."""

    table_id: str
    name: str
    variant: Variant
    small_blind: int
    big_blind: int
    seats: int = 6
    buy_in_min: int = 0  # 0: 40 big blinds (resolved in __post_init__)
    buy_in_max: int = 0  # 0: 200 big blinds (resolved)
    ante: int = 0
    rake_bp: int = 500
    rake_cap: int = 0  # 0: 3 big blinds (resolved)
    allow_run_it_twice: bool = True
    action_timeout_ms: int = 15_000
    time_bank_ms: int = 30_000
    time_bank_max_ms: int = 60_000
    time_bank_refill_ms: int = 2_000
    between_hands_ms: int = 2_000
    wait_list_max: int = 50  # bound: JoinWaitList beyond it is refused (wait_list_full)
    watchers_max: int = 200  # bound: Watch beyond it is refused (watchers_full)
    # A seat freed while players wait is held this long for the first of them (seat_available).
    seat_hold_ms: int = 30_000
    # The ledger asset its escrow holds: real-money "chips" or "play" money (never mixed). A
    # stored table from before assets decodes as real money.
    asset: Asset = "chips"
    # The actor name of the table's owner (a tournament), told TableHandEnded after every
    # hand; None for a cash table. Owners talk to their tables with tells only.
    owner: str | None = None
    # Where its chips come from (actors/table/bankroll.py): "cash" (players' wallets, through
    # the table's escrow account) or "tournament" (the owner's chips: SeatPlayer/RemovePlayer).
    bankroll: Literal["cash", "tournament"] = "cash"
    # The club whose members alone may see and join it (docs/clubs.md); None: a public table.
    club_id: int | None = None

    def __post_init__(self) -> None:
        for name, big_blinds in (("buy_in_min", 40), ("buy_in_max", 200), ("rake_cap", 3)):
            if getattr(self, name) == 0:
                msgspec.structs.force_setattr(self, name, big_blinds * self.big_blind)
        # Operators open tables from the admin API: a config that would crash the table (and
        # restart it in a loop) is refused here, as a ValueError naming the field.
        if not TABLE_ID_PATTERN.match(self.table_id):
            raise ValueError(f"table_id must match {TABLE_ID_PATTERN.pattern}: {self.table_id!r}")
        if not 0 < len(self.name) <= TABLE_NAME_CHARS_MAX:
            raise ValueError(f"{self.table_id}: name must be 1..{TABLE_NAME_CHARS_MAX} chars")
        for name, low, high in _BOUNDS:
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"{self.table_id}: {name} must be in {low}..{high}, got {value}")
        if self.bankroll == "tournament" and (self.owner is None or self.rake_bp != 0):
            raise ValueError(f"{self.table_id}: a tournament's table has an owner and no rake")
        if self.asset not in ASSETS:
            raise ValueError(f"{self.table_id}: asset must be one of {sorted(ASSETS)}")
        if self.time_bank_ms > self.time_bank_max_ms:
            raise ValueError(f"{self.table_id}: need time_bank_ms <= time_bank_max_ms")
        if not SEATS_MIN <= self.seats <= SEATS_MAX:
            raise ValueError(f"{self.table_id}: seats must be in {SEATS_MIN}..{SEATS_MAX}")
        if not 0 < self.small_blind <= self.big_blind:
            raise ValueError(f"{self.table_id}: need 0 < small_blind <= big_blind")
        if self.min_buy_in > self.max_buy_in or self.min_buy_in <= 0:
            raise ValueError(f"{self.table_id}: need 0 < buy_in_min <= buy_in_max")
        self.hand_config()  # the engine's own checks

    @property
    def min_buy_in(self) -> int:
        return self.buy_in_min

    @property
    def max_buy_in(self) -> int:
        return self.buy_in_max

    @property
    def escrow_owner(self) -> str:
        return TableAddress(self.table_id).actor_name

    def hand_config(self) -> HandConfig:
        fixed = self.variant.limit is Limit.FIXED_LIMIT
        return HandConfig(
            variant=self.variant,
            small_blind=self.small_blind,
            big_blind=self.big_blind,
            ante=self.ante,
            ante_mode=AnteMode.EACH if self.ante else AnteMode.NONE,
            small_bet=self.big_blind if fixed else 0,
            big_bet=2 * self.big_blind if fixed else 0,
            rake_bp=self.rake_bp,
            rake_cap=self.rake_cap,
            allow_run_it_twice=self.allow_run_it_twice,
        )


@final
class PlayerTables:
    """Which tables each player sits at or watches: an index the tables write (on seating,
    leaving, watching) and the session hooks read, so a dropped connection reaches the right
    tables with tells and no ask. In process only; bounded by seats and watchers."""

    def __init__(self) -> None:
        self._seated: dict[int, set[str]] = {}
        self._watching: dict[int, set[str]] = {}

    @staticmethod
    def _change(index: dict[int, set[str]], player_id: int, table_id: str, on: bool) -> None:
        tables = index.setdefault(player_id, set())
        if on:
            tables.add(table_id)
        else:
            tables.discard(table_id)
        if not tables:
            del index[player_id]

    def seated(self, player_id: int, table_id: str, on: bool) -> None:
        self._change(self._seated, player_id, table_id, on)

    def watching(self, player_id: int, table_id: str, on: bool) -> None:
        self._change(self._watching, player_id, table_id, on)

    def seats_of(self, player_id: int) -> list[str]:
        return sorted(self._seated.get(player_id, ()))

    def watched_by(self, player_id: int) -> list[str]:
        return sorted(self._watching.get(player_id, ()))


@final
@dataclass(frozen=True, slots=True)
class TableRules:
    """The table rules against abuse (poker/integrity/table_rules.py; docs/integrity.md),
    the same for every table of the process (server settings). ``rathole`` applies at cash
    tables only; ``address`` to every ``JoinSeat`` (a tournament seats its players itself)."""

    rathole: RatholeRule = RATHOLE_DEFAULT
    address: AddressRule = ADDRESS_DEFAULT


@final
@dataclass(frozen=True, slots=True)
class TableDeps:
    """What every table shares. ``snapshots``: where durable table snapshots go (None: kept
    in process only). ``rng``: shuffles the decks (seeded in tests)."""

    store: Store
    wallet: Wallet
    channel: PlayerChannel
    rng: random.Random = field(default_factory=random.SystemRandom)
    snapshots: SnapshotWriter | None = None
    lobby_name: str = "lobby"
    tables_supervisor: str = "tables"
    clock_ms: Callable[[], int] = wall_clock_ms
    player_tables: PlayerTables = field(default_factory=PlayerTables)
    rules: TableRules = TableRules()
    # With several nodes (server/cluster_tables.py): takes a cash table's lease and fence
    # as it starts, unless this node holds them already; False: another node owns the table,
    # which then stops here before it deals or writes anything. None: a node alone.
    lease: Callable[[str], Awaitable[bool]] | None = None


# --- to a table (from the gateway or the lobby) ---------------------------------------------


class TableMessage(msgspec.Struct, frozen=True, tag=True):
    """Base of every message a table handles."""


class SeatProfile(msgspec.Struct, frozen=True):
    """What a table keeps of a player's profile and preferences (docs/players.md), read once
    when she sits down: her display name for the seat views, and the preferences the table
    acts on. The defaults are a table's ways without a profile (no name; she is asked at the
    showdown; blinds are posted), not the preferences' defaults: whoever seats a player with
    a profile passes her real preferences (actors/table/requests.seat_profile)."""

    display_name: str = ""
    auto_muck: bool = False  # muck her losing hand at the showdown instead of asking her
    auto_post_blinds: bool = True  # False: sat out when a blind is due instead of posting it


class JoinSeat(TableMessage, frozen=True, tag=True):
    """Reply: SeatGranted. ``seat`` None: any free seat. ``same_if_seated``: a player already
    seated here gets their seat back instead of ``already_seated`` (quick-seat retries after
    an answer that came too late), and no money moves."""

    player_id: int
    buy_in: int
    seat: int | None = None
    post_to_enter: bool = False
    same_if_seated: bool = False
    # When the player's session started (ms), for her session time limit at real-money
    # tables (services/limits.py); None: not known, only exclusion and cool-off are checked.
    session_started_ms: int | None = None
    # The session's client address (server/handshake.py), for the one-address rule; None or
    # empty: not known (never conflicts).
    address: str | None = None
    profile: SeatProfile = SeatProfile()


class SeatGranted(msgspec.Struct, frozen=True):
    table_id: str
    seat: int
    stack: int


class TopUpChips(TableMessage, frozen=True, tag=True):
    player_id: int
    amount: int


class SitOutNext(TableMessage, frozen=True, tag=True):
    player_id: int


class SitIn(TableMessage, frozen=True, tag=True):
    """``post_now``: post what is owed to play the next hand; else wait for the big blind."""

    player_id: int
    post_now: bool


class StandUp(TableMessage, frozen=True, tag=True):
    """Reply: chips cashed out now, or None when the player is in a hand (after it)."""

    player_id: int


class JoinWaiting(TableMessage, frozen=True, tag=True):
    player_id: int


class LeaveWaiting(TableMessage, frozen=True, tag=True):
    player_id: int


class AddWatcher(TableMessage, frozen=True, tag=True):
    player_id: int


class RemoveWatcher(TableMessage, frozen=True, tag=True):
    player_id: int


class PlayerAct(TableMessage, frozen=True, tag=True):
    """``action`` and ``decision_id`` (None: the current decision) as protocol.game.Act."""

    player_id: int
    hand_number: int
    action: game.ActKind
    amount: int = 0
    agree: bool = False
    decision_id: int | None = None


class ChooseClientSeed(TableMessage, frozen=True, tag=True):
    """A seated player's client seed (1..64 bytes) for the hands dealt after this message
    (docs/fairness.md). Reply: None; ``not_seated``, ``fairness_input_invalid``."""

    player_id: int
    seed: bytes


class UpdateSeatProfile(TableMessage, frozen=True, tag=True):
    """From the player's session: she changed her display name or the preferences a table
    follows (None: unchanged). Ignored when she does not sit here."""

    player_id: int
    display_name: str | None = None
    auto_muck: bool | None = None
    auto_post_blinds: bool | None = None


class ConnectionChanged(TableMessage, frozen=True, tag=True):
    """From the player's session: the websocket dropped (seat held) or came back."""

    player_id: int
    connected: bool


class PlayerGone(TableMessage, frozen=True, tag=True):
    """From the player's session: it ended (logout, resume grace over, or ended by the
    server, e.g. a ban). The player stands up as with StandUp and shows disconnected; in a
    hand they are in, the hand acts for them at once on their turn and they are cashed out
    when it ends. Ignored when they no longer sit here."""

    player_id: int


class GetListing(TableMessage, frozen=True, tag=True):
    """Reply: TableListing."""


class GetSeats(TableMessage, frozen=True, tag=True):
    """Reply: TableSeats (for the admin API and tests)."""


class AuditEscrow(TableMessage, frozen=True, tag=True):
    """Reply: EscrowAudit, read between two messages so nothing moves meanwhile."""


class SeatInfo(msgspec.Struct, frozen=True):
    seat: int
    player_id: int
    stack: int
    pending_top_up: int
    sitting_out: bool
    owes_big_blind: bool
    owes_small_blind: bool
    connected: bool
    time_bank_ms: int
    leaving: bool


class TableSeats(msgspec.Struct, frozen=True):
    table_id: str
    seats: tuple[SeatInfo, ...]
    hand_number: int  # the running hand, 0 if none
    hands_played: int
    button: int | None
    watchers: tuple[int, ...]
    wait_list: tuple[int, ...]


class EscrowAudit(msgspec.Struct, frozen=True):
    """Invariant between any two messages: chips == escrow_balance."""

    # stacks + pending top-ups + cash-outs and rake not paid yet (chips in a running hand
    # are still in the stacks: stacks change when a hand ends)
    chips: int
    escrow_balance: int


# --- between a table and its hand ------------------------------------------------------------


class StartNextHand(TableMessage, frozen=True, tag=True):
    """The table's own timer: deal the next hand if two or more can play."""


class SettleOwed(TableMessage, frozen=True, tag=True):
    """The table's own: pay cash-outs and rake out of escrow and write finished hands'
    histories. Safe to repeat (idempotency keys; a history's first write wins)."""


Audience = int | None  # a seat (private to its owner) or None (every player and watcher)


class HandProgress(TableMessage, frozen=True, tag=True):
    """From the hand: engine events (for the history, and what the table knows of the hand:
    board, pots, bets, hole cards), the pushes they make, each with its audience (the hand
    decides what is private), and the decision now asked for (``prompt``), if any."""

    hand_number: int
    events: tuple[AnyEvent, ...]
    pushes: tuple[tuple[Audience, GamePush], ...]
    prompt: game.ActionRequired | None = None


class HandFinished(TableMessage, frozen=True, tag=True):
    hand_number: int
    result: HandResult
    time_banks_ms: tuple[tuple[int, int], ...]  # (seat, ms left)
    timed_out: tuple[int, ...]  # seats the timer acted for: sat out after the hand


class HandMessage(msgspec.Struct, frozen=True, tag=True):
    """Base of every message a hand handles."""


class HandAct(HandMessage, frozen=True, tag=True):
    """``decision_id``: the prompt answered (refused unless current); None: the current one."""

    action: AnyAction  # typed, with its seat (actors/hand.engine_action made it)
    decision_id: int | None = None


class DecisionTimeout(HandMessage, frozen=True, tag=True):
    """The hand's own timer: ``decision`` counts prompts, so a stale timer is ignored."""

    decision: int
    time_bank: bool


class SeatConnection(HandMessage, frozen=True, tag=True):
    seat: int
    connected: bool


class SeatGone(HandMessage, frozen=True, tag=True):
    """The seat's player left the table during the hand (stood up, or their session ended):
    nobody will answer for them, so the hand acts for them at once on each of their turns."""

    seat: int


# --- between a table and its owner (a table manager: a tournament) --------------------------


class HoldAfterHand(TableMessage, frozen=True, tag=True):
    """The owner's hold: no new hand after the running one (a synchronized break, or
    hand-for-hand on the bubble) until ``Release``. Players see ``paused``. Tell-only.
    A tournament's table (``bankroll="tournament"``) also holds by itself after every hand:
    its owner releases it for each hand it decides to deal."""


class Release(TableMessage, frozen=True, tag=True):
    """The owner's release of its hold: hands start again (unless an operator closed it)."""


class SetStakes(TableMessage, frozen=True, tag=True):
    """Blinds and ante from the next hand on (a tournament's level); the running hand keeps
    its own. Refused (``GameRefused`` ``invalid_stakes``, nothing changed) when the table's
    config would not accept them."""

    small_blind: int
    big_blind: int
    ante: int = 0


class SeatPlayer(TableMessage, frozen=True, tag=True):
    """The owner seats a player with ``stack`` of its chips (a tournament's table only), at
    ``seat`` or any free one. Reply: SeatGranted. ``profile``: her display name for the seat
    views and auto-muck (blinds are always posted at a tournament's table)."""

    player_id: int
    stack: int
    seat: int | None = None
    profile: SeatProfile = SeatProfile()


class RemovePlayer(TableMessage, frozen=True, tag=True):
    """The owner takes a player away between hands (to another table, or eliminated).
    Reply: her stack (int), which goes back to the owner. ``hand_running`` while a hand is
    dealt (the owner holds the table first)."""

    player_id: int


class TableHandEnded(msgspec.Struct, frozen=True, tag=True):
    """Told to the table's owner (``TableConfig.owner``) after every hand: each seated
    player's stack, and the players the hand left with nothing (a tournament's eliminations)."""

    table_id: str
    hand_number: int
    stacks: tuple[tuple[int, int], ...]  # (player id, stack), by seat
    busted: tuple[int, ...]
    # The engine's result (seats, pots: who won the pot holding a bust's last chips), for
    # the owner's bounties; None for a voided hand.
    result: HandResult | None = None


# --- to the lobby ----------------------------------------------------------------------------


class LobbyMessage(msgspec.Struct, frozen=True, tag=True):
    """Base of every message the lobby handles."""


class ListingChanged(LobbyMessage, frozen=True, tag=True):
    listing: TableListing
    config: TableConfig


class TableClosed(LobbyMessage, frozen=True, tag=True):
    table_id: str


class ListTablesQuery(LobbyMessage, frozen=True, tag=True):
    """Reply: tuple[TableListing, ...]. Empty filter fields match everything."""

    variant: str | None = None
    big_blind: int | None = None
    asset: str | None = None


class SubscribeListings(LobbyMessage, frozen=True, tag=True):
    """Reply: the matching listings now; changes follow as pushes."""

    player_id: int
    variant: str | None = None
    big_blind: int | None = None
    asset: str | None = None


class UnsubscribeListings(LobbyMessage, frozen=True, tag=True):
    player_id: int


class FindSeat(LobbyMessage, frozen=True, tag=True):
    """Quick seat. Reply: SeatGranted."""

    player_id: int
    variant: str
    big_blind: int
    buy_in: int
    asset: str = "chips"
    # Tables the requester tried and found full (or gone) during this quick-seat.
    excluded: tuple[str, ...] = ()
    session_started_ms: int | None = None  # as JoinSeat's
    address: str | None = None  # as JoinSeat's
    profile: SeatProfile = SeatProfile()  # as JoinSeat's


class OpenTable(LobbyMessage, frozen=True, tag=True):
    """Admin API or seed: start a table under the tables supervisor. Reply: table id."""

    config: TableConfig
