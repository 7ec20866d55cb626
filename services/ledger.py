"""The ledger's rules, pure: account kinds, transfer kinds, balance and limit checks.

No I/O here. ``check_transfer`` runs inside the storage transaction (persistence/ledger.py
calls it after locking both accounts), so what it sees is what will be written. It refuses by
raising a :class:`WalletError` (a client's mistake, with a stable ``code`` for error frames) and
otherwise returns the changes to the players' daily totals that the limits count.

Accounts (``AccountRef(kind, owner)``):

==============  ==================  =================================================
kind            owner               holds
==============  ==================  =================================================
``wallet``      player id           a player's money outside play
``escrow``      ``table:<id>``      chips on a cash table (in stacks and running hands)
``prize_pool``  ``tournament:<id>`` tournament buy-ins until paid out as prizes
``rake``        ``""``              the house's rake
``fees``        ``""``              tournament entry fees and other fees
``house``       ``""``              manual adjustments (may go negative)
``external``    ``""``              the outside world: deposits and withdrawals (may go negative)
==============  ==================  =================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, final

from persistence.ledger import (
    AccountRef,
    LedgerAccount,
    PendingAction,
    PlayerState,
    TotalsDelta,
    TransferRecord,
    TransferRequest,
    day_of,
    player_of,
)

WALLET = "wallet"
ESCROW = "escrow"
PRIZE_POOL = "prize_pool"
RAKE = "rake"
FEES = "fees"
HOUSE = "house"
EXTERNAL = "external"
ACCOUNT_KINDS = frozenset({WALLET, ESCROW, PRIZE_POOL, RAKE, FEES, HOUSE, EXTERNAL})
# The only accounts whose balance may drop below zero: the outside world (it paid in) and the
# house's adjustment account (an operator's correction). Everything else holds real chips.
NEGATIVE_KINDS = frozenset({EXTERNAL, HOUSE})


# -- errors: a client's (or a caller's) request refused; never our broken invariant ---------


class WalletError(Exception):
    """A refused wallet operation; ``code`` is stable and goes into the error frame."""

    code: ClassVar[str] = "wallet_error"


@final
class InsufficientFunds(WalletError):
    code = "insufficient_funds"

    def __init__(self, account: AccountRef, available: int, amount: int) -> None:
        super().__init__(f"{account.kind} {account.owner}: {available} available, {amount} asked")
        self.account = account
        self.available = available
        self.amount = amount


@final
class LimitExceeded(WalletError):
    code = "limit_exceeded"

    def __init__(self, player_id: int, limit: str, maximum: int, used: int, amount: int) -> None:
        super().__init__(
            f"player {player_id}: {limit.replace('_', ' ')} limit is {maximum},"
            f" {used} used today, {amount} asked"
        )
        self.player_id = player_id
        self.limit = limit  # "daily_deposit", "daily_loss" or "table_buy_in"
        self.maximum = maximum
        self.used = used
        self.amount = amount


@final
class IdempotencyConflict(WalletError):
    code = "idempotency_conflict"

    def __init__(self, key: str, original: TransferRecord) -> None:
        super().__init__(f"idempotency key {key!r} was used for a different transfer")
        self.key = key
        self.original = original


@final
class TransferNotAllowed(WalletError):
    code = "transfer_not_allowed"


@final
class InvalidAmount(WalletError):
    code = "invalid_amount"


@final
class UnknownPlayer(WalletError):
    code = "unknown_player"


@final
class UnknownTransfer(WalletError):
    code = "unknown_transfer"


@final
class TransferNotPending(WalletError):
    code = "transfer_not_pending"

    def __init__(self, record: TransferRecord, action: PendingAction) -> None:
        super().__init__(f"cannot {action} transfer {record.id}: it is {record.state}")
        self.record = record


# -- transfer kinds, as data -----------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class TransferKind:
    debit: frozenset[str]
    credit: frozenset[str]
    pending_allowed: bool = False
    counts_as_deposit: bool = False  # daily deposit limit of the credited player
    # +1: money leaves the player towards play (daily loss limit); -1: it comes back.
    loss_sign: int = 0


TRANSFER_KINDS: Mapping[str, TransferKind] = {
    "player_transfer": TransferKind(frozenset({WALLET}), frozenset({WALLET})),
    # Requests from the player; the chain service posts or voids them later.
    "deposit": TransferKind(
        frozenset({EXTERNAL}), frozenset({WALLET}), pending_allowed=True, counts_as_deposit=True
    ),
    "withdrawal": TransferKind(frozenset({WALLET}), frozenset({EXTERNAL}), pending_allowed=True),
    # A seat request reserves the buy-in (pending), posted when seated, voided if not.
    "buy_in": TransferKind(
        frozenset({WALLET}), frozenset({ESCROW, PRIZE_POOL}), pending_allowed=True, loss_sign=1
    ),
    "entry_fee": TransferKind(frozenset({WALLET}), frozenset({FEES}), loss_sign=1),
    "cash_out": TransferKind(frozenset({ESCROW}), frozenset({WALLET}), loss_sign=-1),
    "prize": TransferKind(frozenset({PRIZE_POOL}), frozenset({WALLET}), loss_sign=-1),
    "refund": TransferKind(
        frozenset({ESCROW, PRIZE_POOL, FEES}), frozenset({WALLET}), loss_sign=-1
    ),
    "rake": TransferKind(frozenset({ESCROW}), frozenset({RAKE})),
    "adjustment": TransferKind(frozenset({HOUSE}), ACCOUNT_KINDS - {EXTERNAL, HOUSE}),
    "adjustment_reversal": TransferKind(ACCOUNT_KINDS - {EXTERNAL, HOUSE}, frozenset({HOUSE})),
}


def check_transfer(
    req: TransferRequest,
    debit: LedgerAccount,
    credit: LedgerAccount,
    players: Mapping[int, PlayerState],
    day: int,
) -> Sequence[TotalsDelta]:
    """Refuse a transfer the rules forbid; otherwise return its effect on daily totals."""
    rule = TRANSFER_KINDS.get(req.kind)
    if rule is None:
        raise TransferNotAllowed(f"unknown transfer kind {req.kind!r}")
    if debit.kind not in rule.debit or credit.kind not in rule.credit:
        raise TransferNotAllowed(f"{req.kind} cannot move {debit.kind} -> {credit.kind}")
    if req.pending and not rule.pending_allowed:
        raise TransferNotAllowed(f"{req.kind} cannot be pending")
    if not debit.may_go_negative and debit.available < req.amount:
        raise InsufficientFunds(debit.ref, debit.available, req.amount)
    deltas: list[TotalsDelta] = []
    if rule.counts_as_deposit:
        player = _player(credit)
        state = players[player]
        maximum = state.limits.daily_deposit_max
        if maximum is not None and state.today.deposited + req.amount > maximum:
            raise LimitExceeded(player, "daily_deposit", maximum, state.today.deposited, req.amount)
        deltas.append(TotalsDelta(player, day, deposited=req.amount))
    if rule.loss_sign > 0:
        player = _player(debit)
        state = players[player]
        table_max = state.limits.table_buy_in_max
        if credit.kind == ESCROW and table_max is not None and req.amount > table_max:
            raise LimitExceeded(player, "table_buy_in", table_max, 0, req.amount)
        loss_max = state.limits.daily_loss_max
        if loss_max is not None and state.today.net_loss + req.amount > loss_max:
            raise LimitExceeded(player, "daily_loss", loss_max, state.today.net_loss, req.amount)
        deltas.append(TotalsDelta(player, day, net_loss=req.amount))
    elif rule.loss_sign < 0:
        deltas.append(TotalsDelta(_player(credit), day, net_loss=-req.amount))
    return deltas


def on_resolve(record: TransferRecord, action: PendingAction) -> Sequence[TotalsDelta]:
    """A voided request gives back what it counted, on the day it was counted."""
    if action != "void":
        return ()
    rule = TRANSFER_KINDS[record.kind]
    day = day_of(record.created_at_ms)
    if rule.counts_as_deposit:
        player = player_of(record.credit)
        assert player is not None
        return (TotalsDelta(player, day, deposited=-record.amount),)
    if rule.loss_sign > 0:
        player = player_of(record.debit)
        assert player is not None
        return (TotalsDelta(player, day, net_loss=-record.amount),)
    return ()


def _player(account: LedgerAccount) -> int:
    player = player_of(account.ref)
    assert player is not None, f"rule table: {account.kind} is not a wallet"
    return player


def wallet(player_id: int) -> AccountRef:
    return AccountRef(WALLET, str(player_id))


def escrow(table_id: str) -> AccountRef:
    return AccountRef(ESCROW, table_id)


def prize_pool(tournament_id: str) -> AccountRef:
    return AccountRef(PRIZE_POOL, tournament_id)


def house_account(kind: str) -> AccountRef:
    """The single account of kind rake, fees, house or external."""
    if kind not in {RAKE, FEES, HOUSE, EXTERNAL}:
        raise ValueError(f"{kind!r} is not a house account kind")
    return AccountRef(kind, "")
