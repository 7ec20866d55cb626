"""What the tournament core decides, as values (STYLE.md point 14): frozen tagged msgspec
Structs the live system performs in order. Money effects carry ``op``, a name for that one
operation unique within the tournament forever (``entry:17``, ``rebuy:17:2``, ``prize:17``,
``bounty:17:4``...): prefixed with the tournament's id it is the ledger's idempotency key.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from poker.config import AnteMode, BlindSeats, HandConfig, SeatSetup
from poker.tournament.tables import MoveReason


class Effect(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    pass


# ---- money: wallet -> prize pool / fees, prize pool -> wallet


class EntryBought(Effect, frozen=True, kw_only=True):
    entry: int
    player_id: str
    prize_part: int  # to the prize pool
    bounty_part: int  # to the bounty pool
    fee: int  # to the house
    op: str


class EntryRefunded(Effect, frozen=True, kw_only=True):
    """Unregistered before the start: everything paid comes back."""

    entry: int
    player_id: str
    amount: int
    op: str


class RebuyBought(Effect, frozen=True, kw_only=True):
    entry: int
    player_id: str
    chips: int
    price: int
    fee: int
    op: str


class AddOnBought(Effect, frozen=True, kw_only=True):
    entry: int
    player_id: str
    chips: int
    price: int
    fee: int
    op: str


class OverlayAdded(Effect, frozen=True, kw_only=True):
    """The house tops the prize pool up to the guarantee."""

    amount: int
    op: str


class PlaceAwarded(Effect, frozen=True, kw_only=True):
    """A finishing place is decided. ``prize`` may be 0 (out of the money)."""

    entry: int
    player_id: str
    place: int
    tied: int  # players sharing places place .. place + tied - 1
    prize: int
    op: str


class BountyWon(Effect, frozen=True, kw_only=True):
    """``cash`` paid now from the bounty pool; ``head`` added to the winner's own bounty
    (progressive knockouts). ``knocked_out`` == ``entry``: the winner collecting their own."""

    entry: int
    player_id: str
    knocked_out: int
    cash: int
    head: int
    op: str


class DealPaid(Effect, frozen=True, kw_only=True):
    entry: int
    player_id: str
    amount: int
    op: str


# ---- seating


class Seated(Effect, frozen=True, kw_only=True):
    entry: int
    player_id: str
    table: int
    seat: int
    stack: int


class PlayerMoved(Effect, frozen=True, kw_only=True):
    entry: int
    player_id: str
    from_table: int
    from_seat: int
    to_table: int
    to_seat: int
    stack: int
    reason: MoveReason


class MoveUndone(Effect, frozen=True, kw_only=True):
    """A move the live tables refused (``Tournament.move_refused``): the entry sits at
    ``table``, ``seat`` (her seat at the source table again, or one drawn elsewhere when
    that table broke meanwhile), with her stack: the same chips, none issued."""

    entry: int
    player_id: str
    table: int
    seat: int
    stack: int


class TableOpened(Effect, frozen=True, kw_only=True):
    table: int
    seat_count: int


class TableClosed(Effect, frozen=True, kw_only=True):
    table: int


class FinalTable(Effect, frozen=True, kw_only=True):
    table: int
    players: int


class TablesMayDeal(Effect, frozen=True, kw_only=True):
    """Tables that were told to wait may deal their next hand now."""

    tables: tuple[int, ...]


# ---- players


class EntryRemoved(Effect, frozen=True, kw_only=True):
    """A director took the entry out as if it had never entered (``Tournament.remove_entry``
    with a refund, or without one before the start). ``table``: where it sat (0: none).
    ``refund`` (prize pool -> wallet: its buy-ins, rebuys, add-on and the bounty on its
    head) and ``fee`` (fees -> wallet) under ``op``; both 0 without a refund."""

    entry: int
    player_id: str
    table: int
    refund: int
    fee: int
    op: str


class Eliminated(Effect, frozen=True, kw_only=True):
    entry: int
    player_id: str
    table: int


class RebuyOffered(Effect, frozen=True, kw_only=True):
    """Busted while rebuys are open: the live system asks, then calls ``rebuy`` or
    ``decline_rebuy`` (the seat is kept meanwhile, the player is not dealt in)."""

    entry: int
    player_id: str


# ---- the clock and the phases


class TournamentStarted(Effect, frozen=True, kw_only=True):
    entries: int
    tables: int


class LevelStarted(Effect, frozen=True, kw_only=True):
    level: int  # 1-based
    small_blind: int
    big_blind: int
    ante: int
    ante_mode: AnteMode


class BreakStarted(Effect, frozen=True, kw_only=True):
    remaining_ms: int


class BreakEnded(Effect, frozen=True, kw_only=True):
    pass


class RegistrationClosed(Effect, frozen=True, kw_only=True):
    entries: int


class RebuysClosed(Effect, frozen=True, kw_only=True):
    pass


class PrizesSet(Effect, frozen=True, kw_only=True):
    """Entries, rebuys and add-ons are closed: the pool and the payout table are final."""

    pool: int
    collected: int
    overlay: int
    prizes: tuple[int, ...]


class HandForHandStarted(Effect, frozen=True, kw_only=True):
    remaining: int


class HandForHandEnded(Effect, frozen=True, kw_only=True):
    remaining: int


class DealMade(Effect, frozen=True, kw_only=True):
    kind: str
    entries: tuple[int, ...]
    amounts: tuple[int, ...]
    kept: int  # still to be played for


class TournamentFinished(Effect, frozen=True, kw_only=True):
    winner: int | None  # None: ended by a deal with nothing left to play for


# ---- what a table asks for between hands


class WaitReason(StrEnum):
    NOT_RUNNING = "not_running"
    BREAK = "break"
    HAND_FOR_HAND = "hand_for_hand"
    BALANCING = "balancing"  # TDA 11D: three or more short of the fullest table
    PLAYERS = "players"  # fewer than two players with chips


class Wait(msgspec.Struct, frozen=True, tag=True):
    reason: WaitReason


class DealHand(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    """Build ``poker.Hand(config, seats, button, deck, blinds)`` and play it."""

    table: int
    hand_number: int  # at this table, 1-based
    level: int  # 1-based
    config: HandConfig
    seats: tuple[SeatSetup, ...]
    entries: tuple[int, ...]  # the entry at each of ``seats``
    button: int
    blinds: BlindSeats


AnyEffect = (
    EntryBought
    | EntryRefunded
    | RebuyBought
    | AddOnBought
    | OverlayAdded
    | PlaceAwarded
    | BountyWon
    | DealPaid
    | Seated
    | PlayerMoved
    | MoveUndone
    | TableOpened
    | TableClosed
    | FinalTable
    | TablesMayDeal
    | Eliminated
    | EntryRemoved
    | RebuyOffered
    | TournamentStarted
    | LevelStarted
    | BreakStarted
    | BreakEnded
    | RegistrationClosed
    | RebuysClosed
    | PrizesSet
    | HandForHandStarted
    | HandForHandEnded
    | DealMade
    | TournamentFinished
)
