"""A table's configuration: the game it plays (``TableConfig``, checked at construction so a
table never starts with settings it cannot live with) and the process-wide rules against
abuse every table applies (``TableRules``). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, final, get_args

import msgspec

from actors.addresses import TableAddress
from poker import AnteMode, HandConfig, Limit, Variant
from poker.integrity.table_rules import ADDRESS_DEFAULT, RATHOLE_DEFAULT, AddressRule, RatholeRule
from protocol.fields import Asset
from protocol.limits import (
    CHIPS_MAX,
    RAKE_BP_MAX,
    SEATS_MAX,
    SEATS_MIN,
    TABLE_ID_PATTERN,
    TABLE_NAME_CHARS_MAX,
)

HOUR_MS: Final = 3_600_000
# The ledger's assets, as the wire names them (services/ledger.py ASSETS is the same set).
ASSETS: Final = frozenset(get_args(Asset))
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
@dataclass(frozen=True, slots=True)
class TableRules:
    """The table rules against abuse (poker/integrity/table_rules.py; docs/integrity.md),
    the same for every table of the process (server settings). ``rathole`` applies at cash
    tables only; ``address`` to every ``JoinSeat`` (a tournament seats its players itself)."""

    rathole: RatholeRule = RATHOLE_DEFAULT
    address: AddressRule = ADDRESS_DEFAULT
