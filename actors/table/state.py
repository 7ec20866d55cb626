"""A table's durable state (its snapshot) and the views built from it. Pure: no I/O, no clock.

``TableState`` is what a table restarts from, in process (the runtime's snapshot) and after
a process restart (the same msgpack bytes in the store). ``LiveHand`` is what the table saw
of the running hand, for the snapshots it sends to late viewers; it is not durable because a
restarted table voids the hand anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, cast

import msgspec

from actors.table.config import TableConfig
from actors.table.fairness import HandSeeds
from actors.table.lifecycle import Status, status_of
from actors.table.messages import (
    GameRefused,
    OwnerDeal,
    SeatInfo,
    TableSeats,
)
from persistence.hands import HandRecord
from poker import HandConfig, Limit
from poker import events as ev
from poker.fairness import DealProof
from poker.integrity.table_rules import Departure
from protocol import game

STATS_WINDOW_S: Final = 3600.0  # average pot and hands per hour cover the last hour
STATS_HANDS_MAX: Final = 500  # bound of TableState.recent_pots (oldest dropped)


class SeatRecord(msgspec.Struct, kw_only=True):
    player_id: int
    stack: int
    pending_top_up: int = 0  # bought during a hand the player is in: added when it ends
    sitting_out: bool = False
    owes_big_blind: bool = True  # new players wait for the big blind (or post to enter)
    owes_small_blind: bool = False
    post_to_enter: bool = False
    leaving: bool = False  # stood up during a hand: cashed out when it ends
    connected: bool = True
    time_bank_ms: int = 0
    # From her profile and preferences when she sat down (JoinSeat.profile).
    display_name: str = ""
    auto_muck: bool = False
    auto_post_blinds: bool = True
    # auto_post_blinds off: she agreed to post the next blind due (by sitting down or in);
    # posting one uses it up, and the one after sits her out unless she sits in again.
    blind_consent: bool = True


class RunningHand(msgspec.Struct, frozen=True):
    hand_number: int
    seats: tuple[int, ...]
    starting_stacks: tuple[int, ...]
    started_at_ms: int


class EscrowDebit(msgspec.Struct, frozen=True):
    """Chips that left the stacks and are owed out of escrow (a cash-out or the rake). Kept
    in the state until paid, so a table restarted mid-payment pays it again under the same
    idempotency key: once, never twice, never lost."""

    key: str
    kind: str  # "cash_out" or "rake"
    player_id: int  # whose wallet a cash-out goes to (0 for rake)
    amount: int


class Funding(msgspec.Struct, frozen=True):
    """A buy-in or top-up whose wallet -> escrow transfer may or may not have landed. Written
    to the store (durably) before the transfer is made, dropped once its outcome is applied,
    so no snapshot ever holds both the intent and its seat or chips. A restarted table makes
    the transfer again under the same key: the ledger returns the original if it had landed,
    else it lands now or is refused; either way seats and escrow agree."""

    key: str
    kind: str  # "buy_in" (seats the player) or "top_up" (adds to their stack)
    player_id: int
    seat: int
    amount: int
    post_to_enter: bool = False  # buy_in: post a big blind to be dealt in at once


class TableState(msgspec.Struct, kw_only=True):
    """Everything durable about a table (the snapshot, runtime and store alike)."""

    config: TableConfig
    # Which opening of this table id this is: 1 for the first table ever opened under the id,
    # +1 each time an operator or the lobby opens the id again after a close (stored apart,
    # actors/table/admin.next_epoch, never reused). Every ledger key and hand id the table
    # makes carries it, so nothing a reopened id does can be answered as a replay of what a
    # closed table did. 0: not given one yet (a new table, or one stored before epochs);
    # the table takes one in started().
    epoch: int = 0
    seats: dict[int, SeatRecord] = {}
    previous: tuple[int, int, int] | None = None  # button, small blind, big blind
    next_hand_number: int = 1
    seat_events: int = 0  # counts buy-ins, top-ups and cash-outs: their idempotency keys
    hands_played: int = 0
    version: int = 0
    running: RunningHand | None = None
    wait_list: list[int] = []
    watchers: list[int] = []
    owed: list[EscrowDebit] = []  # paid in order by the SettleOwed message
    # Bound: one. A table handles one message at a time and resolves its funding in it; only
    # a crash in between leaves one here, for started() to resolve.
    funding: list[Funding] = []
    histories: list[HandRecord] = []  # finished hands not written yet (first write wins)
    # seat -> (player id, wall-clock ms until which it is theirs): the wait list's first
    # player, told with seat_available. Bounded by the seats.
    holds: dict[int, tuple[int, int]] = {}
    # (wall-clock ms the hand ended, its pot) of the last hands, for the listing's hands per
    # hour and average pot; durable so a restart does not reset them. Bound: STATS_HANDS_MAX
    # (oldest dropped).
    recent_pots: list[tuple[int, int]] = []
    # The status lifecycle's flags (actors/table/lifecycle.py decides every change of them).
    paused: bool = False  # an operator's: no new hand starts
    closing: bool = False  # an operator's: close for good once no hand runs
    # The owner's hold (a tournament's table: from its opening and after every hand, until
    # the owner's Release; see new_table_state).
    held: bool = False
    # The owner's plan of the hand it released (Release.deal): the next hand deals it, then
    # it is dropped. Bound: one.
    owner_deal: OwnerDeal | None = None
    # Player id -> the client seed she set (set_client_seed; docs/fairness.md), applied to
    # the hands dealt after it. Not secret (she chose it; hand_ended reveals it), so kept
    # across a restart. Bound: one per seated player (dropped when her seat is released).
    client_seeds: dict[int, bytes] = {}
    # Player id -> when she left this cash table and with what (the rathole rule). Bound:
    # poker.integrity.table_rules.LEAVERS_MAX (remember_departure drops the oldest, and every
    # departure older than the rule's window).
    departures: dict[int, Departure] = {}

    @property
    def lifecycle(self) -> Status:
        return status_of(paused=self.paused, held=self.held, closing=self.closing)

    def enter(self, status: Status) -> None:
        """Take ``status`` (one that ``table_lifecycle.transition`` led to)."""
        self.paused = status is Status.PAUSED
        self.held = status is Status.HELD
        self.closing = status in (Status.CLOSING, Status.CLOSED)

    @property
    def status(self) -> game.TableStatus:
        """As the wire shows it: a hold looks like a pause to players."""
        lifecycle = self.lifecycle
        return cast(game.TableStatus, "paused" if lifecycle is Status.HELD else lifecycle.value)

    def held_for_another(self, seat: int, player_id: int, now_ms: int) -> bool:
        hold = self.holds.get(seat)
        return hold is not None and hold[0] != player_id and now_ms < hold[1]

    def choose_seat(self, player_id: int, wanted: int | None, now_ms: int) -> int:
        """The seat a joining player gets: ``wanted``, or the one held for them, or the
        lowest free one. Raises GameRefused (table_full, seat_taken)."""
        seats = self.config.seats
        free = [
            s
            for s in range(seats)
            if s not in self.seats and not self.held_for_another(s, player_id, now_ms)
        ]
        if wanted is None:
            if not free:
                raise GameRefused("table_full", f"{self.config.table_id} has no free seat")
            held = [s for s, (p, _) in self.holds.items() if p == player_id and s in free]
            return held[0] if held else free[0]
        if wanted not in free:
            raise GameRefused("seat_taken", f"seat {wanted} is taken, held or does not exist")
        return wanted

    def in_running_hand(self, seat: int) -> bool:
        return self.running is not None and seat in self.running.seats

    def ledger_key(self, kind: str, number: int) -> str:
        """The idempotency key of one escrow transfer: ``kind`` (buy_in, top_up, cash_out,
        rake) and its number in this table's life (a seat event, a hand number). Unique
        forever: the epoch tells two tables that had the same id apart."""
        assert self.epoch > 0, "a table makes no transfer before it has its epoch"
        return f"{self.config.escrow_owner}:{self.epoch}:{kind}:{number}"

    def hand_id(self, hand_number: int) -> str:
        """A finished hand's id in the store (its history's first write wins)."""
        assert self.epoch > 0, "a table deals no hand before it has its epoch"
        return f"{self.config.table_id}:{self.epoch}:{hand_number}"


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(TableState)


def new_table_state(config: TableConfig) -> TableState:
    """The state of a table opened now. A tournament's table opens held: like every hand
    after it, its first is dealt only when its owner releases it. Opened open, a table
    seated early dealt on its own while its tournament still seated the rest of the field;
    the core then took that hand's report for the one it released later, thought the table
    between hands while it dealt again, and moved players off it mid-hand (issue 15)."""
    return TableState(config=config, held=config.bankroll == "tournament")


def encode_table_state(state: TableState) -> bytes:
    return _encoder.encode(state)


def decode_table_state(data: bytes) -> TableState:
    return _decoder.decode(data)


@dataclass
class LiveHand:
    """What the table has seen of the running hand (for snapshots to late viewers)."""

    events: list[ev.Event] = field(default_factory=list)
    holes: dict[int, tuple[str, ...]] = field(default_factory=dict)
    board: list[str] = field(default_factory=list)
    pots: tuple[game.PotView, ...] = ()
    bets: dict[int, int] = field(default_factory=dict)
    prompt: game.ActionRequired | None = None
    # The seeds it was dealt with (None: a hand not dealt from a fair deck, in tests), and
    # its proof once it ended (hand_ended's reveal, the history's _fair_* fields).
    seeds: HandSeeds | None = None
    proof: DealProof | None = None

    def observe(self, event: ev.Event) -> None:
        """Follow the hand's engine events (typed: no wire push is parsed again)."""
        match event:
            case ev.HoleCardsDealt(seat=seat, cards=cards):
                self.holes[seat] = cards
            case ev.BoardDealt(cards=cards, run=0):
                self.board.extend(cards)
            case ev.PotsUpdated(pots=pots):
                self.pots = tuple(game.PotView(amount=p.amount, eligible=p.eligible) for p in pots)
                self.bets.clear()
            case ev.PlayerActed(seat=seat, bet_to=bet_to):
                self.bets[seat] = bet_to
            case ev.BlindPosted(seat=seat, amount=amount):  # antes are AntePosted: not bets
                self.bets[seat] = self.bets.get(seat, 0) + amount
            case _:
                pass


def shown_state(state: TableState, seat: int) -> game.SeatState:
    record = state.seats[seat]
    if record.leaving:
        return "leaving"
    if record.sitting_out:
        return "sitting_out"
    if record.owes_big_blind and not record.post_to_enter:
        return "waiting_big_blind"
    return "playing"


def seat_view(state: TableState, seat: int, record: SeatRecord) -> game.SeatView:
    return game.SeatView(
        seat=seat,
        player_id=record.player_id,
        stack=record.stack,
        state=shown_state(state, seat),
        connected=record.connected,
        in_hand=state.in_running_hand(seat),
        display_name=record.display_name or None,
    )


def _wire_variant(code: str) -> game.VariantCode:
    return cast(game.VariantCode, code)  # the engine's Variant values are the five wire codes


def listing_of(
    state: TableState,
    recent: Iterable[tuple[float, int]],
    now_s: float,
    rules: HandConfig | None = None,
) -> game.TableListing:
    """``recent``: (trio time the hand ended, its pot) of the last hands. ``rules``: the
    hands' own terms (the table's stakes), so listing and hands always agree."""
    config = state.config
    rules = config.hand_config() if rules is None else rules
    fixed = config.variant.limit is Limit.FIXED_LIMIT
    pots = [pot for at, pot in recent if now_s - at <= STATS_WINDOW_S]
    return game.TableListing(
        table_id=config.table_id,
        name=config.name,
        variant=_wire_variant(config.variant.value),
        small_blind=config.small_blind,
        big_blind=config.big_blind,
        buy_in_min=config.min_buy_in,
        buy_in_max=config.max_buy_in,
        seats_total=config.seats,
        seats_taken=len(state.seats),
        waiting=len(state.wait_list),
        average_pot=sum(pots) // len(pots) if pots else 0,
        hands_per_hour=len(pots),
        small_bet=rules.small_bet if fixed else None,
        big_bet=rules.big_bet if fixed else None,
        rake_bp=rules.rake_bp,
        rake_cap=rules.rake_cap,
        rake_no_flop_no_drop=rules.no_flop_no_drop,
        asset=config.asset,
    )


def snapshot_for(
    state: TableState,
    live: LiveHand | None,
    player_id: int,
    listing: game.TableListing,
    next_commitment: str | None = None,
) -> game.TableSnapshot:
    """The table as ``player_id`` may see it: their own hole cards only."""
    running = state.running
    hole: tuple[str, ...] = ()
    if live is not None:
        for seat, record in state.seats.items():
            if record.player_id == player_id and state.in_running_hand(seat):
                hole = live.holes.get(seat, ())
    previous = state.previous
    return game.TableSnapshot(
        table_id=state.config.table_id,
        listing=listing,
        seats=tuple(seat_view(state, s, r) for s, r in sorted(state.seats.items())),
        button=previous[0] if previous else None,
        hand_number=running.hand_number if running else 0,
        board=tuple(live.board) if live else (),
        pots=live.pots if live else (),
        bets=tuple(sorted(live.bets.items())) if live else (),
        hole_cards=hole,
        to_act=live.prompt.seat if live and live.prompt else None,
        next_commitment=next_commitment,
    )


def seats_of(state: TableState) -> TableSeats:
    previous = state.previous
    return TableSeats(
        table_id=state.config.table_id,
        seats=tuple(
            SeatInfo(
                seat=seat,
                player_id=r.player_id,
                stack=r.stack,
                pending_top_up=r.pending_top_up,
                sitting_out=r.sitting_out,
                owes_big_blind=r.owes_big_blind,
                owes_small_blind=r.owes_small_blind,
                connected=r.connected,
                time_bank_ms=r.time_bank_ms,
                leaving=r.leaving,
            )
            for seat, r in sorted(state.seats.items())
        ),
        hand_number=state.running.hand_number if state.running else 0,
        hands_played=state.hands_played,
        button=previous[0] if previous else None,
        watchers=tuple(state.watchers),
        wait_list=tuple(state.wait_list),
    )
