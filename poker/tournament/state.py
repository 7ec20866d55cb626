"""The tournament's state as data: its config, its entries, the eliminations not yet
placed, and the snapshot record (``TournamentState``) that holds them all."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import msgspec

from poker.tournament.errors import StructureInvalid
from poker.tournament.payouts import MTT, PayoutConfig
from poker.tournament.places import BountyKind
from poker.tournament.structure import CHIPS_MAX, Structure
from poker.tournament.tables import Table

SNAPSHOT_VERSION: Final = 1
ENTRIES_MAX: Final = 100_000  # policy: registration refused beyond it
PLAYER_ID_CHARS_MAX: Final = 200


class TournamentConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Money amounts are in the prize asset's chips; stacks are tournament chips."""

    structure: Structure
    seats_per_table: int = 9
    buy_in: int = 0  # each entry's part of the prize pool
    fee: int = 0  # each entry's fee to the house
    bounty: int = 0  # each entry's bounty (the starting head in progressive knockouts)
    bounty_kind: BountyKind = BountyKind.NONE
    guarantee: int = 0
    payout: PayoutConfig = MTT
    # Hand-for-hand while paid < remaining <= paid + this ("nearing the money", WSOP rule
    # 126a; TDA RP-8's example announces it with 52 left and 50 paid) ...
    hand_for_hand_from_bubble: int = 1
    # ... and, if chosen, whenever the next player out would take a smaller prize than the
    # one after (each pay jump).
    hand_for_hand_at_pay_jumps: bool = False
    entries_max: int = ENTRIES_MAX

    def __post_init__(self) -> None:
        for name in ("buy_in", "fee", "bounty", "guarantee"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= CHIPS_MAX:
                raise StructureInvalid(f"{name} must be a whole number in 0..{CHIPS_MAX}")
        if type(self.seats_per_table) is not int or not 2 <= self.seats_per_table <= 10:
            raise StructureInvalid("seats_per_table must be 2..10")
        if type(self.entries_max) is not int or not 2 <= self.entries_max <= ENTRIES_MAX:
            raise StructureInvalid(f"entries_max must be 2..{ENTRIES_MAX}")
        if self.seats_per_table == 2 and self.entries_max > 2:
            raise StructureInvalid("heads-up tables are for one-table events (entries_max 2)")
        if type(self.hand_for_hand_from_bubble) is not int or not (
            1 <= self.hand_for_hand_from_bubble <= 100
        ):
            raise StructureInvalid("hand_for_hand_from_bubble must be 1..100")
        if (self.bounty > 0) != (self.bounty_kind is not BountyKind.NONE):
            raise StructureInvalid("a bounty needs a bounty kind, and only then")


class Phase(StrEnum):
    REGISTERING = "registering"
    RUNNING = "running"
    FINISHED = "finished"


class EntryStatus(StrEnum):
    REGISTERED = "registered"  # before the start
    PLAYING = "playing"
    AWAITING_REBUY = "awaiting_rebuy"  # busted, may rebuy: seat kept, not dealt in
    OUT = "out"
    UNREGISTERED = "unregistered"


class Entry(msgspec.Struct):
    """One entry (a re-entry is a new one, TDA 8A). ``table`` 0: not seated."""

    entry: int
    player_id: str
    number: int  # the player's n-th entry
    status: EntryStatus = EntryStatus.REGISTERED
    stack: int = 0
    table: int = 0
    rebuys: int = 0
    addon: bool = False
    head: int = 0  # the bounty on this entry
    place: int = 0
    tied: int = 0
    prize: int = 0  # place prize plus deal money
    bounties: int = 0  # bounty cash won


class BustMember(msgspec.Struct):
    entry: int
    start_stack: int
    table: int
    knockers: list[tuple[int, int]]  # (entry, chips taken of the pot that held the last chips)
    pending: bool  # waiting for a rebuy decision


class BustGroup(msgspec.Struct):
    """Entries out in one hand (``round`` 0) or one hand-for-hand round; placed together
    once complete, in order, when the prizes are final."""

    members: list[BustMember]
    round: int = 0
    open: bool = False  # a hand-for-hand round still being played


class TournamentState(msgspec.Struct):
    version: int
    config: TournamentConfig
    phase: Phase = Phase.REGISTERING
    entries: list[Entry] = msgspec.field(default_factory=list)
    tables: list[Table] = msgspec.field(default_factory=list)
    break_order: list[int] = msgspec.field(default_factory=list)
    started_at_ms: int = 0
    start_in_hour_ms: int = 0
    level: int = 0  # 0-based
    on_break: bool = False
    breaks_started: int = 0
    registration_open: bool = True
    rebuys_open: bool = False
    addon_open: bool = False
    money_final: bool = False
    collected: int = 0  # prize parts of entries, rebuys and add-ons
    prizes: list[int] = msgspec.field(default_factory=list)
    groups: list[BustGroup] = msgspec.field(default_factory=list)
    placed: int = 0
    entry_count: int = 0  # entries not unregistered
    alive: int = 0
    chips_in_play: int = 0
    h4h: bool = False
    h4h_round: int = 0
    h4h_done: list[int] = msgspec.field(default_factory=list)
    waiting: list[int] = msgspec.field(default_factory=list)
    final_table: bool = False
    winner: int = 0


class DealKind(StrEnum):
    ICM = "icm"
    CHIP_CHOP = "chip_chop"
