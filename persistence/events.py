"""Every domain event Tablium publishes: its type, schema version, aggregate and payload.

This module is the one definition (docs/events.md is generated from it, and a test fails when
the two drift). An event is written to the outbox (persistence/outbox.py) in the same
transaction as the change it describes, and relayed to RabbitMQ (or delivered in process) by
the relay (persistence/relay.py).

- ``type`` is ``<aggregate kind>.<what happened>``, e.g. ``player.banned``: it is also the
  AMQP routing key, so a partner binds ``player.*`` or ``#``.
- ``aggregate`` is ``<aggregate kind>:<id>`` (``player:42``, ``table:nt-1-2-a``,
  ``transfer:7``); ``sequence`` numbers the aggregate's events from 1 without gaps, and the
  relay keeps that order.
- ``schema_version`` moves when a payload changes incompatibly (a field removed or retyped);
  adding a field keeps it (consumers ignore fields they do not know).

Where each event is written (``written_by``): a unit of work of the Store for the changes made
in Python, a database trigger (migration 0012) for the ledger and the chain cashier, whose
rows are written by several paths (batches, PostgreSQL's one-statement transfer, resolves).
Every type below is written by its feature (``emitted=False`` would mark one defined for
consumers before its feature stores its changes).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, final

import msgspec
from msgspec import Meta

PAYLOAD_BYTES_MAX: Final = 64_000  # bound: a larger payload is a bug; refused (ValueError)
EVENT_TYPE_CHARS_MAX: Final = 64
AGGREGATE_CHARS_MAX: Final = 200

PlayerId = Annotated[int, Meta(description="the player's account id")]
Ms = Annotated[int, Meta(description="milliseconds since the epoch (UTC)")]
Chips = Annotated[int, Meta(description="an amount in integer chips of the asset")]


def _d(text: str) -> Meta:
    return Meta(description=text)


# -- payloads -----------------------------------------------------------------------------------


@final
class PlayerRegistered(msgspec.Struct, frozen=True):
    """An account was created (players and staff alike: see ``role``)."""

    player_id: PlayerId
    name: Annotated[str, _d("the account name as typed (unique ignoring case)")]
    role: Annotated[str, _d("player, or a staff role")]


@final
class PlayerBanChanged(msgspec.Struct, frozen=True):
    """A ban was imposed or lifted (only when the flag actually changed)."""

    player_id: PlayerId
    banned: Annotated[bool, _d("the flag after the change")]


@final
class PlayerLimitsChanged(msgspec.Struct, frozen=True):
    """The player's responsible-gaming rules changed (a limit, a waiting raise, an exclusion)."""

    player_id: PlayerId
    limits: Annotated[
        dict[str, int | None], _d("the limits as stored (raises not yet in force excluded)")
    ]
    pending_raises: Annotated[
        dict[str, int | None], _d("limit name -> value it rises to later (null: removed)")
    ]
    exclusion: Annotated[str | None, _d("cool_off, self_exclusion or null")]
    exclusion_until_ms: Annotated[int | None, _d("end of the exclusion, or null")]


@final
class PlayerLevelChanged(msgspec.Struct, frozen=True):
    """The player reached another level (player statistics and levels)."""

    player_id: PlayerId
    level: Annotated[int, _d("the new level")]
    previous_level: Annotated[int, _d("the level before")]


@final
class TableOpened(msgspec.Struct, frozen=True):
    """A table started a new incarnation (its id opened, or opened again after a close)."""

    table_id: Annotated[str, _d("the table id")]
    epoch: Annotated[int, _d("the incarnation: 1 the first time the id opens")]
    # The game and stakes it opened with; null from a table opened before they were recorded.
    variant: Annotated[str | None, _d("NT, FT, PO, PT or PO/8")] = None
    small_blind: Annotated[int | None, _d("chips")] = None
    big_blind: Annotated[int | None, _d("chips")] = None
    ante: Annotated[int | None, _d("chips")] = None
    buy_in_min: Annotated[int | None, _d("chips")] = None
    buy_in_max: Annotated[int | None, _d("chips")] = None
    rake_bp: Annotated[int | None, _d("rake in basis points of each pot")] = None
    rake_cap: Annotated[int | None, _d("the most rake one hand pays, in chips")] = None
    seats: Annotated[int | None, _d("seats at the table")] = None
    asset: Annotated[str | None, _d("chips (real money) or play")] = None
    bankroll: Annotated[str | None, _d("cash, or tournament (a tournament's table)")] = None
    club_id: Annotated[int | None, _d("the club whose members alone play it (null: public)")] = None


@final
class TableClosed(msgspec.Struct, frozen=True):
    """A table closed for good: its players were cashed out."""

    table_id: Annotated[str, _d("the table id")]


@final
class TablePauseChanged(msgspec.Struct, frozen=True):
    """An operator paused (no new hand starts) or resumed a table, through the admin API."""

    table_id: Annotated[str, _d("the table id")]
    status: Annotated[str, _d("the table's status after the operation: open, paused, closing")]
    operator: Annotated[str, _d("the operator's token subject")]
    reason: Annotated[str, _d("the operator's reason")]


@final
class HandResult(msgspec.Struct, frozen=True):
    player_id: PlayerId
    seat: Annotated[int, _d("seat number")]
    net: Annotated[int, _d("chips won (positive) or lost (negative), rake already taken")]
    rake_paid: Annotated[int, _d("her share of the hand's rake (the shares sum to rake)")]


@final
class HandFinished(msgspec.Struct, frozen=True):
    """A hand ended and its history was stored."""

    hand_id: Annotated[str, _d("the hand id (hand histories: GET /v1/hands/{id})")]
    table_id: Annotated[str, _d("the table id")]
    game: Annotated[str, _d('e.g. "NLHE 1/2"')]
    asset: Annotated[str, _d("chips (real money) or play")]
    started_at_ms: Ms
    ended_at_ms: Ms
    pot_total: Chips
    rake: Chips
    players: Annotated[list[HandResult], _d("per player: seat, net result, rake paid")]


@final
class TransferChanged(msgspec.Struct, frozen=True):
    """A ledger transfer was made (pending or posted) or resolved (posted or voided)."""

    transfer_id: Annotated[int, _d("the ledger transfer id")]
    key: Annotated[str, _d("its idempotency key")]
    kind: Annotated[str, _d("deposit, buy_in, cash_out, rake, prize, adjustment, ...")]
    asset: Annotated[str, _d("chips (real money) or play")]
    amount: Chips
    debit_kind: Annotated[str, _d("the debited account's kind (wallet, escrow, ...)")]
    debit_owner: Annotated[str, _d("its owner (a player id for a wallet)")]
    credit_kind: Annotated[str, _d("the credited account's kind")]
    credit_owner: Annotated[str, _d("its owner")]
    memo: Annotated[str, _d("free text")]
    state: Annotated[str, _d("pending, posted or voided")]


@final
class DepositCredited(msgspec.Struct, frozen=True):
    """An on-chain deposit reached its confirmations and was credited to the player."""

    deposit_id: Annotated[int, _d("the deposit id")]
    chain_id: Annotated[int, _d("the EVM chain id")]
    player_id: Annotated[int | None, _d("the credited player")]
    chips: Chips
    units: Annotated[str, _d("token units received (a decimal string: may exceed 2^63)")]
    tx_hash: Annotated[str, _d("the deposit's transaction")]
    transfer_id: Annotated[int | None, _d("the ledger transfer that credited it")]
    attempt: Annotated[int, _d("1, or more when a reorg undid an earlier credit")]


@final
class WithdrawalChanged(msgspec.Struct, frozen=True):
    """A withdrawal was requested, or paid on chain."""

    withdrawal_id: Annotated[int, _d("the withdrawal id")]
    chain_id: Annotated[int, _d("the EVM chain id")]
    player_id: PlayerId
    chips: Chips
    units: Annotated[str, _d("token units sent (a decimal string)")]
    address: Annotated[str, _d("the destination address")]
    batch_id: Annotated[int | None, _d("the payout batch (null until batched)")]
    transfer_id: Annotated[int | None, _d("the ledger transfer holding the chips")]


@final
class TournamentChanged(msgspec.Struct, frozen=True):
    """A tournament's lifecycle step (created, started, level, break, finished)."""

    tournament_id: Annotated[int, _d("the tournament id")]
    state: Annotated[str, _d("the tournament's state after the step")]
    level: Annotated[int | None, _d("the blind level, where one applies")]


@final
class TournamentPlayerChanged(msgspec.Struct, frozen=True):
    """A player registered, was eliminated, or was paid a place."""

    tournament_id: Annotated[int, _d("the tournament id")]
    player_id: PlayerId
    entry: Annotated[int, _d("the entry number (re-entries count up)")]
    place: Annotated[int | None, _d("finishing place, when decided")]
    prize: Annotated[int | None, _d("chips paid for the place, when paid")]


@final
class TournamentRescheduled(msgspec.Struct, frozen=True):
    """A director moved a tournament's start before it started (admin API, audited)."""

    tournament_id: Annotated[int, _d("the tournament id")]
    starts_at_ms: Annotated[int, _d("the new start, ms since the epoch")]


@final
class TournamentPlayerRemoved(msgspec.Struct, frozen=True):
    """A director took an entry out of a tournament (admin API, audited)."""

    tournament_id: Annotated[int, _d("the tournament id")]
    player_id: PlayerId
    entry: Annotated[int, _d("the entry number (re-entries count up)")]
    refunded: Annotated[
        int, _d("chips given back (buy-ins, rebuys, add-on, bounty and fees; 0: none)")
    ]
    disqualified: Annotated[bool, _d("out with no refund while playing: placed as if busted alone")]


@final
class ClubMemberChanged(msgspec.Struct, frozen=True):
    """A club was created, or a member joined or left."""

    club_id: Annotated[int, _d("the club id")]
    player_id: PlayerId
    role: Annotated[str, _d("owner, manager, agent or member")]


@final
class RakebackPeriodChanged(msgspec.Struct, frozen=True):
    """A rakeback program's period was frozen (its accruals written once: from then on it
    cannot change; nothing paid yet) or closed (every accrual paid). docs/rakeback.md."""

    scope: Annotated[str, _d('the program: "house" or "club:<id>"')]
    period: Annotated[str, _d('"day:YYYY-MM-DD" or "week:YYYY-MM-DD" (a Monday)')]
    rake_cash: Annotated[int, _d("rake of the program's cash hands in the period")]
    rake_tournament: Annotated[int, _d("tournament fees of the period (house only)")]
    funding_cash: Annotated[int, _d("moved from the house's rake to the program's account")]
    funding_tournament: Annotated[int, _d("moved from the house's fees to it")]
    paid: Annotated[int, _d("rakeback and commission the period pays in all")]
    house_kept: Annotated[int, _d("rake the house keeps")]
    payer_kept: Annotated[int, _d("a club's share it keeps after its members and agents")]
    payments: Annotated[int, _d("accruals with a transfer (closed: all those above 0)")]


@final
class RakebackPaid(msgspec.Struct, frozen=True):
    """One accrual of a frozen period reached its beneficiary's wallet."""

    scope: Annotated[str, _d('the program: "house" or "club:<id>"')]
    period: Annotated[str, _d("the period")]
    player_id: PlayerId
    kind: Annotated[str, _d("rakeback (a player's) or commission (an agent's)")]
    amount: Chips
    transfer_id: Annotated[int, _d("the ledger transfer (key <kind>:<scope>:<period>:<id>)")]


# -- the catalogue ------------------------------------------------------------------------------


@final
class EventType(msgspec.Struct, frozen=True):
    name: str  # "<aggregate kind>.<what happened>": the routing key
    version: int
    payload: type[msgspec.Struct]
    written_by: str  # where the event is written, in the change's transaction
    emitted: bool = True  # False: defined for consumers, written once its feature stores it

    @property
    def aggregate_kind(self) -> str:
        return self.name.split(".", 1)[0]


_TOURNAMENTS = "persistence/tournaments.py (each step of the tournament actor)"

EVENT_TYPES: Final[tuple[EventType, ...]] = (
    EventType("player.registered", 1, PlayerRegistered, "Store.create_account"),
    EventType("player.banned", 1, PlayerBanChanged, "Store.set_account_banned"),
    EventType("player.unbanned", 1, PlayerBanChanged, "Store.set_account_banned"),
    EventType("player.limits_changed", 1, PlayerLimitsChanged, "Store.ledger_change_rules"),
    EventType("player.level_changed", 1, PlayerLevelChanged, "Store.save_hand (the hand's XP)"),
    EventType("table.opened", 1, TableOpened, "Store.save_snapshots (the table's epoch)"),
    EventType("table.closed", 1, TableClosed, "Store.save_snapshots (the table's tombstone)"),
    EventType("table.paused", 1, TablePauseChanged, "Store.append_audit (tables.pause, done)"),
    EventType("table.resumed", 1, TablePauseChanged, "Store.append_audit (tables.resume, done)"),
    EventType("table.hand_finished", 1, HandFinished, "Store.save_hand"),
    EventType("transfer.pending", 1, TransferChanged, "trigger on ledger_transfers"),
    EventType("transfer.posted", 1, TransferChanged, "trigger on ledger_transfers"),
    EventType("transfer.voided", 1, TransferChanged, "trigger on ledger_transfers"),
    EventType("deposit.credited", 1, DepositCredited, "trigger on chain_deposits"),
    EventType("withdrawal.requested", 1, WithdrawalChanged, "trigger on chain_withdrawals"),
    EventType("withdrawal.paid", 1, WithdrawalChanged, "trigger on chain_withdrawals"),
    EventType("tournament.created", 1, TournamentChanged, _TOURNAMENTS),
    EventType("tournament.player_registered", 1, TournamentPlayerChanged, _TOURNAMENTS),
    EventType("tournament.started", 1, TournamentChanged, _TOURNAMENTS),
    EventType("tournament.level_started", 1, TournamentChanged, _TOURNAMENTS),
    EventType("tournament.break_started", 1, TournamentChanged, _TOURNAMENTS),
    EventType("tournament.player_eliminated", 1, TournamentPlayerChanged, _TOURNAMENTS),
    EventType("tournament.place_paid", 1, TournamentPlayerChanged, _TOURNAMENTS),
    EventType("tournament.player_removed", 1, TournamentPlayerRemoved, _TOURNAMENTS),
    EventType("tournament.rescheduled", 1, TournamentRescheduled, _TOURNAMENTS),
    EventType("tournament.finished", 1, TournamentChanged, _TOURNAMENTS),
    EventType("club.created", 1, ClubMemberChanged, "persistence/clubs.py"),
    EventType("club.member_joined", 1, ClubMemberChanged, "persistence/clubs.py"),
    EventType("club.member_left", 1, ClubMemberChanged, "persistence/clubs.py"),
    EventType("rakeback.period_frozen", 1, RakebackPeriodChanged, "persistence/rakeback.py freeze"),
    EventType("rakeback.paid", 1, RakebackPaid, "persistence/rakeback.py mark_paid"),
    EventType("rakeback.period_closed", 1, RakebackPeriodChanged, "persistence/rakeback.py close"),
)
BY_NAME: Final[dict[str, EventType]] = {t.name: t for t in EVENT_TYPES}


class UnknownEventType(ValueError):
    """A name that is not in EVENT_TYPES (our bug when we write one; a consumer's when it
    subscribes to one)."""


def event_type(name: str) -> EventType:
    found = BY_NAME.get(name)
    if found is None:
        raise UnknownEventType(f"no event type {name!r}")
    return found


@final
class NewEvent(msgspec.Struct, frozen=True):
    """An event about to be written: the outbox gives it its id and sequence."""

    type: str
    aggregate: str  # "<aggregate kind>:<id>"
    payload: msgspec.Struct

    def encoded_payload(self) -> str:
        kind = event_type(self.type)
        if not isinstance(self.payload, kind.payload):
            raise TypeError(f"{self.type} takes a {kind.payload.__name__} payload")
        if not self.aggregate.startswith(kind.aggregate_kind + ":"):
            raise ValueError(f"{self.type}: aggregate {self.aggregate!r} is of another kind")
        if len(self.aggregate) > AGGREGATE_CHARS_MAX:
            raise ValueError(f"aggregate longer than {AGGREGATE_CHARS_MAX} characters")
        text = msgspec.json.encode(self.payload).decode()
        if len(text) > PAYLOAD_BYTES_MAX:
            raise ValueError(f"{self.type}: payload over {PAYLOAD_BYTES_MAX} bytes")
        return text


def decode_payload(name: str, payload: str | bytes) -> Any:
    """The payload as its Struct (strict: an unknown field or a wrong type raises)."""
    return msgspec.json.decode(payload, type=event_type(name).payload)
