"""My wallet: balances, entries, transfers, the play-chip claim (deposits and withdrawals:
api/routes/cashier.py; statements, limits: their own modules).

Only translation: every rule (balances, limits, who may receive, idempotency of transfers) is
services/wallet.py's, as for the websocket's wallet messages. The Idempotency-Key of a POST is
also the wallet's key for the transfer (keys are per player, the same namespace as the
websocket's ``key`` field), so a transfer retried over either door moves money once.
"""

from __future__ import annotations

import math
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from api.cursors import decode_cursor, encode_cursor
from api.problems import PROBLEMS, ApiProblem
from api.routes.common import EXAMPLE_CURSOR, EXAMPLE_TIME_MS, Cursor, Memo, RowId
from api.routing import Call, Reply, RouteTable
from persistence.ledger import HISTORY_PAGE_MAX, AccountRef, TransferRecord
from protocol.messages import PLAYER_NAME_CHARS_MAX
from services.api_keys import Scope
from services.ledger import CHIPS, UnknownTransfer, WalletError, wallet
from services.wallet import AMOUNT_MAX, Balance, HistoryEntry

routes = RouteTable()

Amount = Annotated[int, Meta(ge=1, le=AMOUNT_MAX)]
# The assets (services/ledger.py ASSETS): real-money chips and play money.
Asset = Literal["chips", "play"]
# What the ledger refuses of any movement (services/ledger.py check_transfer).
MOVE_ERRORS: Final = (
    "insufficient_funds", "limit_exceeded", "transfer_not_allowed", "invalid_amount",
    "wrong_asset",
)  # fmt: skip
EXCLUSION_ERRORS: Final = ("self_excluded", "cooling_off")
TRANSFER_ERRORS: Final = (
    *MOVE_ERRORS, *EXCLUSION_ERRORS, "unknown_player", "transfer_to_self", "transfers_disabled",
    "transfer_limit_exceeded",
)  # fmt: skip


class AssetQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    asset: Asset = "chips"


class EntriesQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    cursor: Cursor | None = None
    limit: Annotated[int, Meta(ge=1, le=HISTORY_PAGE_MAX)] = 50
    asset: Asset = "chips"


class EntriesPage(msgspec.Struct, frozen=True):
    data: list[HistoryEntry]  # newest first
    next_cursor: str | None  # pass as cursor for the next (older) page; null on the last


class TransferView(msgspec.Struct, frozen=True):
    transfer_id: int
    kind: str  # "player_transfer", "deposit", "withdrawal", ...
    state: str  # "pending", "posted" or "voided"
    amount: int  # always positive: it moves from debit to credit
    asset: str  # "chips" (real money) or "play": both accounts hold it
    debit: AccountRef
    credit: AccountRef
    memo: str
    created_at_ms: int
    updated_at_ms: int


class TransferRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    to_player: Annotated[
        str, Meta(min_length=1, max_length=PLAYER_NAME_CHARS_MAX, pattern="^[^\\x00]*$")
    ]
    amount: Amount
    memo: Memo = ""


class EmptyBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A POST that needs nothing more than its Idempotency-Key."""


def _view(record: TransferRecord) -> TransferView:
    return TransferView(
        transfer_id=record.id,
        kind=record.kind,
        state=record.state,
        amount=record.amount,
        asset=record.asset,
        debit=record.debit,
        credit=record.credit,
        memo=record.memo,
        created_at_ms=record.created_at_ms,
        updated_at_ms=record.updated_at_ms,
    )


def wallet_problem(exc: WalletError) -> ApiProblem:
    """A wallet refusal as the API's problem: the wallet's own stable code (the websocket's
    error frame carries the same), and Retry-After when waiting helps."""
    # Every code of the services is in PROBLEMS (a test walks the WalletError classes); the
    # catch-all is for a code a newer service adds before this table learns it.
    code = exc.code if exc.code in PROBLEMS else "wallet_error"
    retry_ms = exc.retry_after_ms
    retry_s = None if retry_ms is None else max(1, math.ceil(retry_ms / 1000))
    return ApiProblem(code, str(exc), retry_after_s=retry_s)


def _key(call: Call) -> str:
    """The request's Idempotency-Key, checked by the pipeline: the wallet's key too."""
    assert call.idempotency_key is not None
    return call.idempotency_key


def _created(record: TransferRecord) -> Reply:
    return Reply(
        _view(record), status=201, headers={"Location": f"/v1/wallet/transfers/{record.id}"}
    )


TRANSFER_EXAMPLE: Final = msgspec.to_builtins(
    TransferView(
        transfer_id=1207,
        kind="player_transfer",
        state="posted",
        amount=250,
        asset=CHIPS,
        debit=AccountRef("wallet", "42"),
        credit=AccountRef("wallet", "43"),
        memo="for the cab",
        created_at_ms=EXAMPLE_TIME_MS,
        updated_at_ms=EXAMPLE_TIME_MS,
    )
)
ENTRY_EXAMPLE: Final = HistoryEntry(
    transfer_id=1207, kind="player_transfer", state="posted", amount=-250,
    counterparty=AccountRef("wallet", "43"), memo="for the cab",
    created_at_ms=EXAMPLE_TIME_MS, updated_at_ms=EXAMPLE_TIME_MS,
)  # fmt: skip
TRANSFER_LINKS: Final = {
    "GetTransfer": {
        "operationId": "getTransfer",
        "parameters": {"transfer_id": "$response.body#/transfer_id"},
    }
}


@routes.operation(
    operation_id="getBalance",
    method="GET",
    path="/v1/wallet",
    summary="My balance in one asset: posted, reserved by pending withdrawals and buy-ins,"
    " available",
    description="`asset`: `chips` (real money, the default) or `play` (play money).",
    tag="wallet",
    response=Balance,
    example=msgspec.to_builtins(Balance(42, 1500, 200, 1300, CHIPS)),
    scope=Scope.WALLET_READ,
    personal=True,
    query=AssetQuery,
)
async def balance(call: Call) -> Reply:
    query: AssetQuery = call.query
    return Reply(await call.context.wallet.balance(call.player_id, query.asset))


class Balances(msgspec.Struct, frozen=True):
    data: list[Balance]  # one per asset, in the order of ASSET_ORDER


ASSET_ORDER: Final[tuple[Asset, ...]] = ("chips", "play")


@routes.operation(
    operation_id="listBalances",
    method="GET",
    path="/v1/wallet/balances",
    summary="My balance in every asset: real-money chips, then play money",
    tag="wallet",
    response=Balances,
    example=msgspec.to_builtins(
        Balances([Balance(42, 1500, 200, 1300, CHIPS), Balance(42, 9000, 0, 9000, "play")])
    ),
    scope=Scope.WALLET_READ,
    personal=True,
)
async def balances(call: Call) -> Reply:
    wallet_ = call.context.wallet
    return Reply(Balances([await wallet_.balance(call.player_id, a) for a in ASSET_ORDER]))


@routes.operation(
    operation_id="claimPlayChips",
    method="POST",
    path="/v1/wallet/play-chips/claims",
    summary="Claim a play-money refill",
    description="For a play-money balance below the server's threshold, once per period:"
    " `refill_not_needed` above it, `refill_too_early` (with `Retry-After`) before the"
    " period is over. The body is empty (`{}`).",
    tag="wallet",
    response=TransferView,
    example={**TRANSFER_EXAMPLE, "kind": "play_grant", "asset": "play", "amount": 10_000,
             "debit": {"kind": "house", "owner": "", "asset": "play"},
             "credit": {"kind": "wallet", "owner": "42", "asset": "play"},
             "memo": "play money: refill"},
    status=201,
    scope=Scope.WALLET_WRITE,
    personal=True,
    body=EmptyBody,
    body_example={},
    idempotent=True,
    errors=("refill_too_early", "refill_not_needed", "play_money_disabled"),
    links=TRANSFER_LINKS,
)  # fmt: skip
async def claim_play_chips(call: Call) -> Reply:
    try:
        record = await call.context.wallet.claim_play_chips(call.player_id)
    except WalletError as exc:
        raise wallet_problem(exc) from None
    return _created(record)


@routes.operation(
    operation_id="listEntries",
    method="GET",
    path="/v1/wallet/entries",
    summary="My ledger entries in one asset, newest first",
    description="Amounts are from my side: positive in, negative out. `asset`: `chips` (the"
    " default) or `play`; a cursor belongs to the asset it was given for.",
    tag="wallet",
    response=EntriesPage,
    example=msgspec.to_builtins(EntriesPage([ENTRY_EXAMPLE], EXAMPLE_CURSOR)),
    scope=Scope.WALLET_READ,
    personal=True,
    query=EntriesQuery,
)
async def entries(call: Call) -> Reply:
    query: EntriesQuery = call.query
    before_id = None
    if query.cursor is not None:
        before_id = decode_cursor(_cursor_kind(query.asset), query.cursor, RowId)
    page = await call.context.wallet.history(call.player_id, before_id, query.limit, query.asset)
    next_id = page.next_before_id
    cursor = None if next_id is None else encode_cursor(_cursor_kind(query.asset), next_id)
    return Reply(EntriesPage(page.entries, cursor))


def _cursor_kind(asset: str) -> str:
    # Real money keeps the cursors given before assets existed ("wallet").
    return "wallet" if asset == CHIPS else f"wallet-{asset}"


@routes.operation(
    operation_id="getTransfer",
    method="GET",
    path="/v1/wallet/transfers/{transfer_id}",
    summary="One transfer of mine",
    tag="wallet",
    response=TransferView,
    example=TRANSFER_EXAMPLE,
    scope=Scope.WALLET_READ,
    personal=True,
    path_params={"transfer_id": RowId},
    errors=("unknown_transfer",),
)
async def get_transfer(call: Call) -> Reply:
    transfer_id: int = call.path["transfer_id"]
    mine = wallet(call.player_id)
    try:
        record = await call.context.wallet.transfer_by_id(transfer_id)
    except UnknownTransfer:
        record = None
    if record is None or mine not in (record.debit, record.credit):
        # Someone else's transfer answers as no transfer at all.
        raise ApiProblem("unknown_transfer", f"you have no transfer {transfer_id}")
    return Reply(_view(record))


@routes.operation(
    operation_id="createTransfer",
    method="POST",
    path="/v1/wallet/transfers",
    summary="Send chips to another player, posted at once",
    tag="wallet",
    response=TransferView,
    example=TRANSFER_EXAMPLE,
    status=201,
    scope=Scope.WALLET_WRITE,
    personal=True,
    body=TransferRequest,
    body_example={"to_player": "bob", "amount": 250, "memo": "for the cab"},
    idempotent=True,
    errors=TRANSFER_ERRORS,
    links=TRANSFER_LINKS,
)
async def create_transfer(call: Call) -> Reply:
    body: TransferRequest = call.body
    try:
        # The wallet finds the recipient by name and refuses unknown, banned and excluded
        # recipients alike (unknown_player): the websocket's wallet_transfer calls the same.
        record = await call.context.wallet.send_to_player(
            _key(call), call.player_id, body.to_player, body.amount, body.memo
        )
    except WalletError as exc:
        raise wallet_problem(exc) from None
    return _created(record)
