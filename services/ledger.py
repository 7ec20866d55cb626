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
``rakeback``    ``""`` / club:<id>  a rakeback program's fund: the house's, or a club's
                                    deal (services/rakeback.py, docs/rakeback.md)
``house``       ``""``              manual adjustments (may go negative)
``external``    ``""``              the outside world: deposits and withdrawals (may go negative)
==============  ==================  =================================================

Every account is in one *asset*: ``chips`` (real money; the default, and the asset of
everything made before assets existed) or ``play`` (play money, which a player gets for
nothing and which never becomes real money). A transfer moves one asset; each transfer kind
says which assets it may move (deposits, withdrawals and transfers between players are real
money only; play-money grants are play money only). The responsible-gaming limits, cool-off
and self-exclusion concern real money only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, final

from persistence.ledger import (
    DEFAULT_ASSET,
    AccountRef,
    Exclusion,
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
RAKEBACK = "rakeback"
HOUSE = "house"
EXTERNAL = "external"
ACCOUNT_KINDS = frozenset({WALLET, ESCROW, PRIZE_POOL, RAKE, FEES, RAKEBACK, HOUSE, EXTERNAL})
# The only accounts whose balance may drop below zero: the outside world (it paid in) and the
# house's adjustment account (an operator's correction, and the source of play money).
# Everything else holds real chips.
NEGATIVE_KINDS = frozenset({EXTERNAL, HOUSE})

CHIPS: Final = DEFAULT_ASSET  # real money (the blockchain cashier maps tokens to it)
PLAY: Final = "play"  # play money
ASSETS: Final = frozenset({CHIPS, PLAY})
REAL_MONEY: Final = frozenset({CHIPS})  # the assets the responsible-gaming rules concern


# -- errors: a client's (or a caller's) request refused; never our broken invariant ---------


class WalletError(Exception):
    """A refused wallet operation; ``code`` is stable and goes into the error frame;
    ``retry_after_ms`` is set when the same request will succeed after that long."""

    code: ClassVar[str] = "wallet_error"
    retry_after_ms: int | None = None


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
            f" {used} used, {amount} asked"
        )
        self.player_id = player_id
        # "daily_deposit", "weekly_deposit", "monthly_deposit", "daily_loss", "weekly_loss",
        # "monthly_loss" or "table_buy_in"
        self.limit = limit
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
class WrongAsset(WalletError):
    """Accounts of different assets, an asset a kind may not move, or a pool (a table's
    escrow, a tournament's prize pool) that holds another asset."""

    code = "wrong_asset"


@final
class TransferToSelf(WalletError):
    code = "transfer_to_self"


@final
class TransfersDisabled(WalletError):
    """The operator has not enabled transfers between players."""

    code = "transfers_disabled"


@final
class TransferLimitExceeded(WalletError):
    """Over the operator's limit on what one player may send to others in a UTC day."""

    code = "transfer_limit_exceeded"

    def __init__(self, player_id: int, maximum: int, used: int, amount: int) -> None:
        super().__init__(
            f"player {player_id}: at most {maximum} may be sent to other players a day,"
            f" {used} sent today, {amount} asked"
        )
        self.maximum = maximum
        self.used = used
        self.amount = amount


class ExclusionInForce(WalletError):
    """The player excluded herself from real-money play: no deposits, buy-ins, tournament
    entries or incoming transfers until ``until_ms``."""

    def __init__(self, player_id: int, exclusion: Exclusion) -> None:
        super().__init__(
            f"player {player_id}: {exclusion.kind.replace('_', '-')} until {exclusion.until_ms}"
            " (ms since the epoch, UTC)"
        )
        self.player_id = player_id
        self.exclusion = exclusion


@final
class SelfExcluded(ExclusionInForce):
    code = "self_excluded"


@final
class CoolingOff(ExclusionInForce):
    code = "cooling_off"


def exclusion_error(player_id: int, exclusion: Exclusion) -> ExclusionInForce:
    if exclusion.kind == "self_exclusion":
        return SelfExcluded(player_id, exclusion)
    return CoolingOff(player_id, exclusion)


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
    counts_as_deposit: bool = False  # deposit limits of the credited player
    # +1: money leaves the player towards play (loss limits); -1: it comes back.
    loss_sign: int = 0
    assets: frozenset[str] = ASSETS  # the assets this kind may move
    counts_as_transfer: bool = False  # the operator's daily transfer limit of the sender


TRANSFER_KINDS: Mapping[str, TransferKind] = {
    "player_transfer": TransferKind(
        frozenset({WALLET}), frozenset({WALLET}), assets=REAL_MONEY, counts_as_transfer=True
    ),
    # Requests from the player; the chain service posts or voids them later.
    "deposit": TransferKind(
        frozenset({EXTERNAL}),
        frozenset({WALLET}),
        pending_allowed=True,
        counts_as_deposit=True,
        assets=REAL_MONEY,
    ),
    "withdrawal": TransferKind(
        frozenset({WALLET}), frozenset({EXTERNAL}), pending_allowed=True, assets=REAL_MONEY
    ),
    # Play money out of nothing: a new player's starting balance and the refills she claims.
    "play_grant": TransferKind(frozenset({HOUSE}), frozenset({WALLET}), assets=frozenset({PLAY})),
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
    # A tournament's guarantee: the house tops the prize pool up (services/tournaments.py).
    "overlay": TransferKind(frozenset({HOUSE}), frozenset({PRIZE_POOL})),
    # Rakeback (services/rakeback.py): a period's program is funded from the house's rake
    # and fees, then pays its players and agents. Real money only; not counted by the loss
    # limits (it is a reward, not a cash-out).
    "rakeback_fund": TransferKind(
        frozenset({RAKE, FEES}), frozenset({RAKEBACK}), assets=REAL_MONEY
    ),
    "rakeback": TransferKind(frozenset({RAKEBACK}), frozenset({WALLET}), assets=REAL_MONEY),
    "agent_commission": TransferKind(frozenset({RAKEBACK}), frozenset({WALLET}), assets=REAL_MONEY),
    "adjustment": TransferKind(frozenset({HOUSE}), ACCOUNT_KINDS - {EXTERNAL, HOUSE}),
    "adjustment_reversal": TransferKind(ACCOUNT_KINDS - {EXTERNAL, HOUSE}, frozenset({HOUSE})),
}


def check_transfer(
    req: TransferRequest,
    debit: LedgerAccount,
    credit: LedgerAccount,
    players: Mapping[int, PlayerState],
    day: int,
    *,
    transfer_daily_max: int | None = None,
) -> Sequence[TotalsDelta]:
    """Refuse a transfer the rules forbid; otherwise return its effect on daily totals.

    ``transfer_daily_max``: the operator's limit on what one player may send to other players
    per UTC day (None: no limit); the wallet binds it from its settings.
    """
    rule = TRANSFER_KINDS.get(req.kind)
    if rule is None:
        raise TransferNotAllowed(f"unknown transfer kind {req.kind!r}")
    if debit.kind not in rule.debit or credit.kind not in rule.credit:
        raise TransferNotAllowed(f"{req.kind} cannot move {debit.kind} -> {credit.kind}")
    asset = debit.asset
    if credit.asset != asset:
        raise WrongAsset(f"{debit.kind} holds {asset}, {credit.kind} holds {credit.asset}")
    if asset not in rule.assets:
        raise WrongAsset(f"{req.kind} cannot move {asset}")
    if req.pending and not rule.pending_allowed:
        raise TransferNotAllowed(f"{req.kind} cannot be pending")
    if asset not in REAL_MONEY:  # play money: balances only, no limits and nothing counted
        if not debit.may_go_negative and debit.available < req.amount:
            raise InsufficientFunds(debit.ref, debit.available, req.amount)
        return ()
    # Real money. An exclusion first: it says more than an empty wallet would.
    if rule.counts_as_deposit or rule.loss_sign > 0 or rule.counts_as_transfer:
        player = _player(debit if rule.loss_sign > 0 else credit)
        exclusion = players[player].exclusion
        if exclusion is not None:
            raise exclusion_error(player, exclusion)
    if not debit.may_go_negative and debit.available < req.amount:
        raise InsufficientFunds(debit.ref, debit.available, req.amount)
    deltas: list[TotalsDelta] = []
    if rule.counts_as_transfer and transfer_daily_max is not None:
        # Counted only while a limit is set (what it counts from then on): without one, a
        # transfer needs no totals and takes the one-statement path on PostgreSQL.
        sender = _player(debit)
        sent = players[sender].today.transferred
        if sent + req.amount > transfer_daily_max:
            raise TransferLimitExceeded(sender, transfer_daily_max, sent, req.amount)
        deltas.append(TotalsDelta(sender, day, transferred=req.amount))
    if rule.counts_as_deposit:
        player = _player(credit)
        _within(player, players[player], "deposit", "deposited", req.amount)
        deltas.append(TotalsDelta(player, day, deposited=req.amount))
    if rule.loss_sign > 0:
        player = _player(debit)
        state = players[player]
        table_max = state.limits.table_buy_in_max
        if credit.kind == ESCROW and table_max is not None and req.amount > table_max:
            raise LimitExceeded(player, "table_buy_in", table_max, 0, req.amount)
        _within(player, state, "loss", "net_loss", req.amount)
        deltas.append(TotalsDelta(player, day, net_loss=req.amount))
    elif rule.loss_sign < 0:
        deltas.append(TotalsDelta(_player(credit), day, net_loss=-req.amount))
    return deltas


_SPANS: Final = (("daily", "today"), ("weekly", "week"), ("monthly", "month"))


def _within(player: int, state: PlayerState, limit: str, total: str, amount: int) -> None:
    """Refuse ``amount`` more of ``total`` if it would pass the player's daily, weekly or
    monthly ``limit`` (deposit or loss), the shortest span first."""
    for span, window in _SPANS:
        maximum: int | None = getattr(state.limits, f"{span}_{limit}_max")
        used: int = getattr(getattr(state, window), total)
        if maximum is not None and used + amount > maximum:
            raise LimitExceeded(player, f"{span}_{limit}", maximum, used, amount)


def on_resolve(record: TransferRecord, action: PendingAction) -> Sequence[TotalsDelta]:
    """A voided request gives back what it counted, on the day it was counted."""
    if action != "void" or record.asset not in REAL_MONEY:
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


def wallet(player_id: int, asset: str = CHIPS) -> AccountRef:
    return AccountRef(WALLET, str(player_id), asset)


def escrow(table_id: str, asset: str = CHIPS) -> AccountRef:
    return AccountRef(ESCROW, table_id, asset)


def prize_pool(tournament_id: str, asset: str = CHIPS) -> AccountRef:
    return AccountRef(PRIZE_POOL, tournament_id, asset)


def rakeback_account(owner: str) -> AccountRef:
    """A rakeback program's fund: owner ``""`` (the house) or ``club:<id>``; real money."""
    return AccountRef(RAKEBACK, owner, CHIPS)


def house_account(kind: str, asset: str = CHIPS) -> AccountRef:
    """The account of kind rake, fees, house or external (one per asset)."""
    if kind not in {RAKE, FEES, HOUSE, EXTERNAL}:
        raise ValueError(f"{kind!r} is not a house account kind")
    return AccountRef(kind, "", asset)
